/**
 * SealLagSeconds per log: the age of the oldest record not yet covered by a
 * checkpoint (0 when everything is sealed). Two consistent reads per log.
 * The SealLag alarm watches its maximum across logs (docs/operations.md);
 * the seal job emits it after every run.
 */
import type { Clock } from '../ports/clock.ts';
import type { LogStore } from '../ports/log-store.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import type { SealStateStore } from '../ports/seal-state.ts';

export interface SealLagDeps {
  readonly logs: Pick<LogStore, 'readBatchHeader'>;
  readonly state: Pick<SealStateStore, 'read'>;
  readonly metrics: MetricsSink;
  readonly clock: Clock;
}

export async function emitSealLag(deps: SealLagDeps, logIds: readonly string[]): Promise<void> {
  const now = deps.clock.now();
  for (const logId of logIds) {
    const state = await deps.state.read(logId);
    const next = await deps.logs.readBatchHeader(logId, (state?.seq ?? 0) + 1);
    const lagMs = next ? Math.max(0, now - Date.parse(next.receivedAt)) : 0;
    deps.metrics.emit({
      dimensions: { LogId: logId },
      metrics: [{ name: 'SealLagSeconds', value: Math.round(lagMs / 1000), unit: 'None' }],
      timestampMs: now,
    });
  }
}
