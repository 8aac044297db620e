/**
 * HealthOutbox port: health observations of the seal and anchor jobs waiting
 * to be recorded in the `system` log (src/core/health.ts, docs/detection.md
 * "Self-monitoring").
 *
 * Why an outbox rather than an append by the jobs themselves: only the
 * admin, recovery and deliver functions may append to the `system` log
 * (docs/architecture.md "Who may do what"). The seal role is the signer and
 * the anchor role holds the TSA credentials; giving either the power to write
 * audit events would let a compromised job forge admin history. They put an
 * observation here instead (their own item family), and the deliver job,
 * which records alerts in the system log already, records it there and
 * removes it.
 *
 * Invariants:
 *  - `put` is idempotent per event id: an observation put again (a job that
 *    observed the same occurrence twice) changes nothing while it is pending.
 *  - An observation is removed only after the system log holds it (the deliver
 *    job records, then removes); the append is idempotent by the event id, so
 *    a crash between the two records nothing twice.
 *
 * Implemented by src/adapters/aws/dynamo-health-outbox.ts and
 * src/adapters/memory/health-outbox.ts. Every method MUST reject only with a
 * HealthOutboxError for a store failure.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */

import type { ClassDeclarationEvent } from '../core/classes/declaration.ts';
import { AnchorlogError } from '../core/errors.ts';
import type { HealthAuditEvent } from '../core/health.ts';

/**
 * What the outbox carries: health observations, and the class declarations
 * the seal job makes (src/core/classes/declaration.ts), recorded the same way.
 */
export type SystemObservation = HealthAuditEvent | ClassDeclarationEvent;

/**
 *  - THROTTLED: the store pushed back; nothing was written. Retry later.
 *  - UNAVAILABLE: transient failure; a write MAY have happened.
 *  - INTEGRITY: a stored observation does not read back. Needs an operator.
 */
export type HealthOutboxErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';
export class HealthOutboxError extends AnchorlogError<HealthOutboxErrorCode> {}

export interface HealthOutbox {
  /** Adds an observation unless one with its id is pending (first writer wins). */
  put(event: SystemObservation): Promise<void>;
  /** Up to `limit` pending observations, oldest id order not promised. */
  pending(limit: number): Promise<readonly SystemObservation[]>;
  /** Removes the observations with these ids (absent ids are ignored). */
  remove(ids: readonly string[]): Promise<void>;
}
