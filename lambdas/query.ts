// GET /v1/logs/{logId}/events (scope events:read). Wiring at module scope:
// one config read, one set of SDK clients and one read of the cursor key
// secret (ANCHORLOG_QUERY_CURSOR_KEY_SECRET, docs/query.md "Cursor") per
// container. Without the key the function does not start.
import { createSecretSource, createServices } from '../src/compose.ts';
import { createQueryService } from '../src/compose-query.ts';
import { ConfigError, loadConfig, loadCursorKey } from '../src/config.ts';
import { queryRoutes } from '../src/http/routes/query.ts';
import { apiHandler } from './api-handler.ts';

const DAY_MS = 86_400_000;

function hotDays(raw: string | undefined): number | undefined {
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 2)
    throw new ConfigError('ANCHORLOG_QUERY_HOT_DAYS must be an integer >= 2');
  return n * DAY_MS;
}

const config = loadConfig();
const hotWindowMs = hotDays(process.env.ANCHORLOG_QUERY_HOT_DAYS);
const cursorKey = await loadCursorKey(config, createSecretSource(config));
const services = createServices(config);
const query = createQueryService(services, {
  cursorKey,
  ...(hotWindowMs !== undefined ? { hotWindowMs } : {}),
});

export const handler = apiHandler(
  queryRoutes({ query, principals: services.principals }),
  services.authenticate,
);
