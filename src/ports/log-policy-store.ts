/**
 * LogPolicyStore port: each log's policy (src/core/log-policy.ts; catalog
 * mode, signature requirement), one item per log, written by
 * compare-and-swap on the record's `version`.
 *
 * The store is what ingest reads (through a short cache,
 * src/app/log-policy.ts); the `system` log is the source of truth: the admin
 * path records every change there BEFORE it writes it here.
 *
 * Implemented by src/adapters/aws/dynamo-log-policy-store.ts and
 * src/adapters/memory/log-policy-store.ts. Every method MUST reject only
 * with a LogPolicyStoreError for a store failure; a lost swap resolves
 * false. Reads MUST be strongly consistent.
 */
import { AnchorlogError } from '../core/errors.ts';
import type { LogPolicyRecord } from '../core/log-policy.ts';

export type LogPolicyStoreErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';
export class LogPolicyStoreError extends AnchorlogError<LogPolicyStoreErrorCode> {}

export interface LogPolicyStore {
  /** The log's policy; undefined: none was ever set. */
  get(logId: string): Promise<LogPolicyRecord | undefined>;
  /**
   * Stores `record` if the stored version for record.logId is
   * `record.version - 1` (0: nothing stored). Resolves false when it is not.
   */
  put(record: LogPolicyRecord): Promise<boolean>;
}
