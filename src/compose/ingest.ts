/** The write path: POST events (scope events:write), appended through IngestService; and the pending sweep. */
import { AnchorlogError } from '../core/errors.ts';
import type { Route } from '../http/router.ts';
import { eventWriteRoutes } from '../http/routes/events.ts';
import type { ScheduledJob } from '../jobs/scheduled-job.ts';
import type { Services } from './services.ts';

export function ingestApi(services: Pick<Services, 'ingest' | 'principals'>): Route[] {
  return eventWriteRoutes(services);
}

export type SweepOutcome =
  | { readonly ok: true; readonly logId: string; readonly sequenced: number }
  | { readonly ok: false; readonly logId: string; readonly code: string; readonly message: string };

/** Stop starting a log this long before the invocation ends: one run is bounded by its lease (10 s). */
export const SWEEP_SAFETY_MS = 12_000;

/**
 * The pending sweep (docs/ingest.md §9 "The sweep"): every minute, a
 * sequencing run per log, so an entry accepted with 202 is sequenced even if
 * no later request reaches its log (the request path sequences
 * opportunistically; this is the floor). A log whose lease is held is
 * skipped (its holder is sequencing). On the direct path it does nothing.
 */
export function pendingSweepJob(
  services: Pick<Services, 'ingest' | 'logStore' | 'clock'>,
): ScheduledJob<SweepOutcome, { logs: number; sequenced: number }> {
  return {
    name: 'sequence',
    clock: services.clock,
    safetyMs: SWEEP_SAFETY_MS,
    listLogs: () => services.logStore.listLogs(),
    run: async (logIds, deadlineMs) => {
      const out: SweepOutcome[] = [];
      for (const logId of logIds) {
        if (services.clock.now() >= deadlineMs) break;
        try {
          const r = await services.ingest.sequencePending(logId);
          out.push({ ok: true, logId, sequenced: r?.entries ?? 0 });
        } catch (err) {
          const code = err instanceof AnchorlogError ? String(err.code) : 'INTERNAL';
          out.push({ ok: false, logId, code, message: err instanceof Error ? err.message : String(err) });
        }
      }
      return out;
    },
    notable: (o) => o.ok && o.sequenced > 0,
    summarize: (outcomes) => ({
      logs: outcomes.length,
      sequenced: outcomes.reduce((n, o) => n + (o.ok ? o.sequenced : 0), 0),
    }),
  };
}
