/**
 * ProducerKeyStore port: the public keys principals register for signing
 * their events (src/core/producer-key.ts; docs/producer-signatures.md), one
 * item per (principal, key id), written by compare-and-swap on the record's
 * `version`.
 *
 * The store is the fast path ingest reads; the `system` log is the source of
 * truth: the admin path (src/app/producer-keys.ts) records every change there
 * BEFORE it writes it here, so every stored version has its audit record, and
 * an offline verifier learns key → principal from the signed log alone.
 *
 * Each stored version names WHERE its record is (`recorded`: system-log batch
 * and leaf index, from the sink), and ingest uses a stored version only after
 * reading that record and finding the same key record in it
 * (src/app/producer-keys.ts BoundProducerKeys): so the store and the system
 * log cannot disagree silently.
 *
 * Implemented by src/adapters/aws/dynamo-producer-key-store.ts and
 * src/adapters/memory/producer-key-store.ts. Every method MUST reject only
 * with a ProducerKeyStoreError for a store failure; a lost swap resolves
 * false. Reads MUST be strongly consistent (a revocation is in effect for
 * the next request once `put` resolved true).
 */
import { AnchorlogError } from '../core/errors.ts';
import type { ProducerKeyRecord } from '../core/producer-key.ts';
import type { AuditPosition } from './principal-store.ts';

export type ProducerKeyStoreErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';
export class ProducerKeyStoreError extends AnchorlogError<ProducerKeyStoreErrorCode> {}

/** Most keys one principal may hold (listing is one page). */
export const MAX_KEYS_PER_PRINCIPAL = 100;

/**
 * A stored version: the key record exactly as its system-log record carries
 * it (`changes.after`), plus where that record is. `recorded` is absent only
 * on items written before stores carried it (ingest then finds the record by
 * its event id, `producer-key/<keyId>/v<version>`).
 */
export interface StoredProducerKey extends ProducerKeyRecord {
  recorded?: AuditPosition;
}

/** The key record without the store's `recorded`: what the system log holds. */
export function keyRecordOf(stored: StoredProducerKey): ProducerKeyRecord {
  const { recorded: _where, ...record } = stored;
  return record;
}

export interface ProducerKeyStore {
  get(principalId: string, keyId: string): Promise<StoredProducerKey | undefined>;
  /** The principal's keys in key-id order (at most MAX_KEYS_PER_PRINCIPAL). */
  list(principalId: string): Promise<StoredProducerKey[]>;
  /**
   * Stores `record` if the stored version of (record.principalId,
   * record.keyId) is `record.version - 1` (0: nothing stored). Resolves
   * false when it is not.
   */
  put(record: StoredProducerKey): Promise<boolean>;
}
