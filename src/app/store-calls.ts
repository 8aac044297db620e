/**
 * How the append path (IngestService, src/app/ingest.ts) and the sequencer
 * (src/app/sequencer.ts) call the log and pending stores: one retry rule for
 * both, so they cannot drift apart.
 *
 *  - `retry`: reads and idempotent writes are retried with full-jitter
 *    backoff (src/core/backoff.ts) on a store's THROTTLED / UNAVAILABLE; an
 *    INTEGRITY error (a malformed item) is never retried — it needs an
 *    operator, and retrying only delays the answer.
 *  - `nonFatal`: for the steps after a commit point, which the next run or
 *    request repeats anyway (HEAD hint, event-id index, key finish, lease
 *    release): tried as hard as `retry`, then reported through `warn` and
 *    answered false, never thrown, so a committed batch is never reported to
 *    its writer as failed.
 */
import { Backoff, type BackoffPolicy, type Sleep, type Uniform, withBackoff } from '../core/backoff.ts';
import { LogStoreError } from '../ports/log-store.ts';
import { PendingStoreError } from '../ports/pending-store.ts';

export class StoreCalls {
  constructor(
    private readonly policy: BackoffPolicy,
    private readonly sleep: Sleep,
    private readonly uniform: Uniform,
    private readonly warn: (message: string, cause: unknown) => void,
  ) {}

  /** A fresh backoff with this policy's base and cap (and `maxRetries`, unless given). */
  backoff(maxRetries = this.policy.maxRetries): Backoff {
    return new Backoff({ ...this.policy, maxRetries }, this.sleep, this.uniform);
  }

  retry<T>(fn: () => Promise<T>): Promise<T> {
    return withBackoff(fn, {
      policy: this.policy,
      retryable: (err) =>
        (err instanceof LogStoreError || err instanceof PendingStoreError) && err.code !== 'INTEGRITY',
      sleep: this.sleep,
      random: this.uniform,
    });
  }

  async nonFatal(what: string, fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await this.retry(fn);
      return true;
    } catch (err) {
      this.warn(`non-fatal: ${what} failed after the commit point`, err);
      return false;
    }
  }
}
