/**
 * After every seal run, per log:
 *  - SealLagSeconds: the age of the oldest record not yet covered by a
 *    checkpoint (0 when everything is sealed). The SealLag alarm watches its
 *    maximum across logs (docs/operations.md).
 *  - health observations (src/app/health.ts), when an outbox is given: a lag
 *    at or above the threshold, a halted log. Two consistent reads per log,
 *    shared by both.
 * Every log is looked at even when one fails; the first failure is rethrown
 * at the end (the job's WARN line).
 */
import type { Clock } from '../ports/clock.ts';
import type { HealthOutbox } from '../ports/health-outbox.ts';
import type { LogStore } from '../ports/log-store.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import type { SealStateStore } from '../ports/seal-state.ts';
import { putObservations, sealHealthEvents } from './health.ts';

export interface SealLagDeps {
  readonly logs: Pick<LogStore, 'readBatchHeader'>;
  readonly state: Pick<SealStateStore, 'read'>;
  readonly metrics: MetricsSink;
  readonly clock: Clock;
  readonly health?: { readonly outbox: Pick<HealthOutbox, 'put'>; readonly lagThresholdSeconds: number };
}

export async function emitSealLag(deps: SealLagDeps, logIds: readonly string[]): Promise<void> {
  const now = deps.clock.now();
  let firstFailure: { err: unknown } | undefined;
  for (const logId of logIds) {
    try {
      const state = await deps.state.read(logId);
      const next = await deps.logs.readBatchHeader(logId, (state?.seq ?? 0) + 1);
      const lagMs = next ? Math.max(0, now - Date.parse(next.receivedAt)) : 0;
      deps.metrics.emit({
        dimensions: { LogId: logId },
        metrics: [{ name: 'SealLagSeconds', value: Math.round(lagMs / 1000), unit: 'None' }],
        timestampMs: now,
      });
      if (deps.health)
        await putObservations(
          deps.health.outbox,
          sealHealthEvents({
            logId,
            state,
            oldestUnsealed: next ? { seq: next.seq, receivedAt: next.receivedAt } : undefined,
            thresholdSeconds: deps.health.lagThresholdSeconds,
            now,
          }),
        );
    } catch (err) {
      firstFailure ??= { err };
    }
  }
  if (firstFailure) throw firstFailure.err;
}
