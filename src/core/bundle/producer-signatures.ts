/**
 * Offline re-check of producer signatures (docs/producer-signatures.md
 * §Offline verification), on records a bundle verifier already accepted.
 *
 * Where the keys come from: the `system` log's own records of every key
 * change (`producer_key.register` / `producer_key.revoke`, whose
 * `changes.after` is the key record), read from an evidence bundle of the
 * `system` log that `verifyBundle` accepted under the same pinned trust. So
 * key → principal is what the signed system log says, never what an exporter
 * claims. `producerKeysFromSystemRecords` builds the directory;
 * `checkProducerSignatures` checks a log's records against it.
 *
 * Per record: unsigned (counted), or signed and then the key must be one the
 * system log registered to the record's `submitter`, active at the record's
 * `receivedAt` (within KEY_TIME_GRACE_MS, below) and the signature must verify
 * over the RFC 8785 bytes of the event without `signature`.
 */
import type { AuditEvent } from '../event.ts';
import { checkProducerKeyRecord, keyStatusAt, type ProducerKeyRecord } from '../producer-key.ts';
import { SignatureError, type SignatureVerifier, verifyEventSignature } from '../producer-signature.ts';
import type { LogRecord } from '../record.ts';
import { BundleError } from './errors.ts';

/**
 * Ingest checks a key's window at its own clock just before the commit, and
 * the record's receivedAt is taken a little later (at most the ingest attempt
 * budget, seconds); revocation times come from the admin's clock. Offline,
 * the window is widened by this much on each side so that an event accepted
 * an instant before a revocation is not reported as signed by a revoked key.
 */
export const KEY_TIME_GRACE_MS = 5 * 60_000;

const KEY_ACTIONS = ['producer_key.register', 'producer_key.revoke'];

/** Every key's latest recorded version, by key id. */
export type ProducerKeyDirectory = ReadonlyMap<string, ProducerKeyRecord>;

/**
 * The key directory from the records of the `system` log (any order). A key
 * record that contradicts an earlier version of the same key (another
 * principal or SPKI, a later revocation, a version out of step) is refused:
 * the system log would contradict itself.
 */
export async function producerKeysFromSystemRecords(
  records: AsyncIterable<LogRecord> | Iterable<LogRecord>,
): Promise<Map<string, ProducerKeyRecord>> {
  const versions = new Map<string, ProducerKeyRecord[]>();
  for await (const r of records) {
    if (r.logId !== 'system' || !KEY_ACTIONS.includes(r.event.action)) continue;
    let key: ProducerKeyRecord;
    try {
      key = checkProducerKeyRecord(r.event.changes?.after, '/event/changes/after');
    } catch (e) {
      throw new BundleError('RECORD_INVALID', `system log record ${r.index}: ${(e as Error).message}`, {
        index: r.index,
        cause: e,
      });
    }
    if (r.event.id !== `producer-key/${key.keyId}/v${key.version}` || r.event.target?.id !== key.keyId)
      throw new BundleError(
        'RECORD_INVALID',
        `system log record ${r.index}: key event id does not name its key`,
        {
          index: r.index,
        },
      );
    const list = versions.get(key.keyId) ?? [];
    list.push(key);
    versions.set(key.keyId, list);
  }
  const out = new Map<string, ProducerKeyRecord>();
  for (const [keyId, list] of versions) {
    list.sort((a, b) => a.version - b.version);
    const first = list[0] as ProducerKeyRecord;
    list.forEach((k, i) => {
      if (k.version !== i + 1 || k.principalId !== first.principalId || k.spki !== first.spki)
        throw new BundleError(
          'RECORD_INVALID',
          `system log: the versions of key ${keyId} contradict each other`,
        );
    });
    out.set(keyId, list[list.length - 1] as ProducerKeyRecord);
  }
  return out;
}

export interface ProducerSignatureCounts {
  /** The submitting principal (the record's `submitter`). */
  readonly producer: string;
  verified: number;
  unsigned: number;
  failed: number;
}

export interface ProducerSignatureFailure {
  readonly index: number;
  readonly producer: string;
  readonly code: string;
  readonly message: string;
}

export interface ProducerSignatureReport {
  /** Per producer, in name order. */
  readonly producers: ProducerSignatureCounts[];
  /** The first failures (at most 100), in index order. */
  readonly failures: ProducerSignatureFailure[];
  readonly failedCount: number;
}

/** Checks every signed record; never throws for a bad signature (they are reported). */
export async function checkProducerSignatures(
  records: AsyncIterable<LogRecord> | Iterable<LogRecord>,
  keys: ProducerKeyDirectory,
  verifier: SignatureVerifier,
): Promise<ProducerSignatureReport> {
  const counts = new Map<string, ProducerSignatureCounts>();
  const failures: ProducerSignatureFailure[] = [];
  let failedCount = 0;
  for await (const r of records) {
    let c = counts.get(r.submitter);
    if (!c) {
      c = { producer: r.submitter, verified: 0, unsigned: 0, failed: 0 };
      counts.set(r.submitter, c);
    }
    const event: AuditEvent = r.event;
    if (!event.signature) {
      c.unsigned++;
      continue;
    }
    const found = keys.get(event.signature.keyId);
    const key = found && found.principalId === r.submitter ? found : undefined;
    const at = Date.parse(r.receivedAt);
    // Inside the window widened by the grace, the key counts as active at `at`.
    const atForKey = key ? graceTime(key, at) : at;
    try {
      await verifyEventSignature(event, key, atForKey, verifier);
      c.verified++;
    } catch (e) {
      if (!(e instanceof SignatureError)) throw e;
      c.failed++;
      failedCount++;
      if (failures.length < 100)
        failures.push({ index: r.index, producer: r.submitter, code: e.code, message: e.message });
    }
  }
  return {
    producers: [...counts.values()].sort((a, b) => (a.producer < b.producer ? -1 : 1)),
    failures,
    failedCount,
  };
}

/** A time inside the key's window if `at` is within the grace of it, else `at`. */
function graceTime(key: ProducerKeyRecord, at: number): number {
  if (keyStatusAt(key, at) === 'active') return at;
  for (const shifted of [at - KEY_TIME_GRACE_MS, at + KEY_TIME_GRACE_MS])
    if (keyStatusAt(key, shifted) === 'active') return shifted;
  return at;
}
