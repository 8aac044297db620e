// Query projector λ, invoked by EventBridge Scheduler (every minute, like the
// sealer, or its own schedule): projects new batches of every known log (or the
// `logIds` in the schedule's input) into query items until the invocation's
// time is nearly spent. ANCHORLOG_QUERY_HOT_DAYS must match lambdas/query.ts.
import type { Context } from 'aws-lambda';
import { createServices } from '../src/compose.ts';
import { createProjector } from '../src/compose-query.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { isValidLogId } from '../src/core/record.ts';

const DAY_MS = 86_400_000;
const SAFETY_MS = 15_000;

function hotDays(raw: string | undefined): number | undefined {
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 2)
    throw new ConfigError('ANCHORLOG_QUERY_HOT_DAYS must be an integer >= 2');
  return n * DAY_MS;
}

const services = createServices(loadConfig());
const hotWindowMs = hotDays(process.env.ANCHORLOG_QUERY_HOT_DAYS);
const projector = createProjector(services, hotWindowMs !== undefined ? { hotWindowMs } : {});

function requestedLogs(event: unknown): string[] | undefined {
  const ids = (event as { logIds?: unknown } | null)?.logIds;
  if (!Array.isArray(ids)) return undefined;
  return ids.filter(isValidLogId);
}

export const handler = async (event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const logIds = requestedLogs(event) ?? (await services.logStore.listLogs());
  const remaining = context.getRemainingTimeInMillis();
  const deadline = services.clock.now() + remaining - Math.min(SAFETY_MS, remaining / 3);
  const results = await projector.projectMany(logIds, deadline);
  for (const r of results) {
    const level = r.ok ? 'INFO' : r.code === 'INTEGRITY' ? 'ERROR' : 'WARN';
    if (!r.ok || r.records > 0) console.log(JSON.stringify({ level, message: 'project', ...r }));
  }
  const failed = results.filter((r) => !r.ok).length;
  if (failed > 0) throw new Error(`projection failed for ${failed} of ${results.length} logs`);
  return { logs: results.length, records: results.reduce((n, r) => n + (r.ok ? r.records : 0), 0) };
};
