/**
 * anchorlog's health as `system`-log events (src/core/health.ts,
 * docs/detection.md "Self-monitoring"), in two halves:
 *
 *  - observing (the seal and anchor jobs, after each run): each condition
 *    that occurred becomes a HealthAuditEvent put in the HealthOutbox. The
 *    jobs cannot append to the `system` log (src/ports/health-outbox.ts says
 *    why), and an observation that fails to be put is a WARN line of the job,
 *    never a failed seal or anchor run: the CloudWatch metrics of the same
 *    conditions (docs/operations.md) remain.
 *  - recording (the deliver job, every run): each pending observation is
 *    appended to the `system` log, then removed from the outbox. The append
 *    is idempotent by the event id, so a crash between the two, or two
 *    overlapping deliver runs, records nothing twice; removal only after the
 *    append means nothing observed is lost.
 *  - the first observation of an occurrence is the one recorded: a later run
 *    that sees the same occurrence (a batch still stuck, a log still halted)
 *    builds an event with the same id but other details (a longer lag, a
 *    later time) and, once the first has left the outbox, puts it again. The
 *    system log would refuse that id for a different event, so an id it
 *    already holds is only removed from the outbox, never appended again.
 */
import { isClassDeclarationEvent } from '../core/classes/declaration.ts';
import {
  anchorQuorumMissedEvent,
  type HealthAuditEvent,
  isHealthEvent,
  sealHaltedEvent,
  sealLagEvent,
  tsaFailureEvent,
} from '../core/health.ts';
import type { HealthOutbox, SystemObservation } from '../ports/health-outbox.ts';
import type { AuditPosition } from '../ports/principal-store.ts';
import type { SealState } from '../ports/seal-state.ts';
import type { AnchorOutcome } from './anchor.ts';
import { AppError } from './errors.ts';
import { haltCodeOf } from './seal.ts';

/** What one log's seal state and oldest unsealed batch say about its health. */
export function sealHealthEvents(input: {
  readonly logId: string;
  readonly state: SealState | undefined;
  /** The oldest batch not under the state's checkpoint, if any. */
  readonly oldestUnsealed: { readonly seq: number; readonly receivedAt: string } | undefined;
  readonly thresholdSeconds: number;
  readonly now: number;
}): HealthAuditEvent[] {
  const { logId, state, oldestUnsealed, thresholdSeconds, now } = input;
  const events: HealthAuditEvent[] = [];
  if (state?.halted !== undefined)
    events.push(
      sealHaltedEvent({
        logId,
        halted: state.halted,
        haltCode: haltCodeOf(state.halted),
        stateVersion: state.version,
        sealedSize: state.size,
        observedAt: now,
      }),
    );
  if (oldestUnsealed) {
    const lagSeconds = Math.floor(Math.max(0, now - Date.parse(oldestUnsealed.receivedAt)) / 1000);
    if (lagSeconds >= thresholdSeconds)
      events.push(
        sealLagEvent({
          logId,
          seq: oldestUnsealed.seq,
          oldestReceivedAt: oldestUnsealed.receivedAt,
          lagSeconds,
          thresholdSeconds,
          observedAt: now,
        }),
      );
  }
  return events;
}

/** What one anchor run says: a missed quorum, and each TSA that failed it. */
export function anchorHealthEvents(outcome: AnchorOutcome, now: number): HealthAuditEvent[] {
  const events: HealthAuditEvent[] = [];
  if (outcome.status === 'below-quorum')
    events.push(
      anchorQuorumMissedEvent({
        logId: outcome.logId,
        size: outcome.size,
        quorum: outcome.quorum,
        granted: outcome.granted,
        tsaCount: outcome.tsaCount,
        observedAt: now,
      }),
    );
  for (const r of outcome.tsas) {
    if (r.result !== 'failed') continue;
    events.push(
      tsaFailureEvent({
        tsa: r.tsa,
        logId: outcome.logId,
        size: outcome.size,
        code: r.failure?.code ?? 'UNKNOWN',
        message: r.failure?.message ?? '',
        attempts: r.attempts,
        observedAt: now,
      }),
    );
  }
  return events;
}

/** Puts every observation; one failing put does not stop the others, the first failure is rethrown. */
export async function putObservations(
  outbox: Pick<HealthOutbox, 'put'>,
  events: readonly HealthAuditEvent[],
): Promise<void> {
  const failures: unknown[] = [];
  for (const e of events) await outbox.put(e).catch((err: unknown) => failures.push(err));
  if (failures.length > 0) throw failures[0];
}

export interface HealthRecordingDeps {
  readonly outbox: HealthOutbox;
  /** The `system` log sink (src/app/admin-audit.ts SystemLogAuditSink): idempotent by event id. */
  readonly audit: {
    record(event: SystemObservation): Promise<AuditPosition>;
    /** Few appends for many, skipping ids the log holds; CONFLICT: record one by one. */
    recordMany(events: readonly SystemObservation[]): Promise<number>;
  };
  /** Where the `system` log's event ids are looked up (SystemLogAuditReader). */
  readonly recorded: { find(eventId: string): Promise<AuditPosition | undefined> };
}

export interface HealthRecordingOutcome {
  /** Observations appended to the `system` log and removed from the outbox this run. */
  readonly recorded: number;
  /** Stored observations that are not health events (isHealthEvent): removed, never recorded. */
  readonly refused: number;
  /** Observations of occurrences the `system` log already held, removed without an append. */
  readonly repeated: number;
}

/** Pending observations per deliver run; the rest wait for the next run (every few minutes). */
export const HEALTH_RECORDS_PER_RUN = 100;

/**
 * Records the pending observations in the `system` log, each removed only
 * once appended. Stops at the first failure (the deliver job reports it; the
 * next run retries what is still pending).
 */
export async function recordHealthObservations(
  deps: HealthRecordingDeps,
  limit = HEALTH_RECORDS_PER_RUN,
): Promise<HealthRecordingOutcome> {
  const stored = await deps.outbox.pending(limit);
  // The outbox's type says health event or class declaration; its writers are
  // other roles, so check what it holds.
  const pending: SystemObservation[] = [];
  const refused: { id: string }[] = [];
  for (const e of stored as readonly unknown[])
    if (isHealthEvent(e) || isClassDeclarationEvent(e)) pending.push(e);
    else refused.push({ id: String((e as { id?: unknown }).id) });
  if (refused.length > 0) await deps.outbox.remove(refused.map((e) => e.id));
  if (pending.length === 0) return { recorded: 0, refused: refused.length, repeated: 0 };
  let recorded = 0;
  try {
    // recordMany appends the events of one actor (the submitter): one call per actor.
    for (const actor of new Set(pending.map((e) => e.actor.id)))
      recorded += await deps.audit.recordMany(pending.filter((e) => e.actor.id === actor));
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
    // An id recorded by someone else between the look-up and the append: one by one.
    recorded = 0;
    for (const event of pending)
      if (!(await deps.recorded.find(event.id))) {
        await deps.audit.record(event);
        recorded++;
      }
  }
  await deps.outbox.remove(pending.map((e) => e.id));
  return { recorded, refused: refused.length, repeated: pending.length - recorded };
}
