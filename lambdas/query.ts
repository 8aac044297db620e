// GET /v1/logs/{logId}/events (scope events:read). Wiring at module scope:
// one config read, one set of SDK clients per container.
// ANCHORLOG_QUERY_CURSOR_KEY (base64, ≥ 32 bytes) signs cursors; without it
// cursors carry a checksum only (docs/query.md "Cursor").
import { createServices } from '../src/compose.ts';
import { createQuerying } from '../src/compose-query.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { queryRoutes } from '../src/http/routes/query.ts';
import { apiHandler } from './api-handler.ts';

const DAY_MS = 86_400_000;

function cursorKey(raw: string | undefined): Uint8Array | undefined {
  if (!raw) return undefined;
  const key = Buffer.from(raw, 'base64');
  if (key.length < 32)
    throw new ConfigError('ANCHORLOG_QUERY_CURSOR_KEY must be base64 of at least 32 bytes');
  return new Uint8Array(key);
}

function hotDays(raw: string | undefined): number | undefined {
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 2)
    throw new ConfigError('ANCHORLOG_QUERY_HOT_DAYS must be an integer >= 2');
  return n * DAY_MS;
}

const services = createServices(loadConfig());
const hotWindowMs = hotDays(process.env.ANCHORLOG_QUERY_HOT_DAYS);
const key = cursorKey(process.env.ANCHORLOG_QUERY_CURSOR_KEY);
const { query } = createQuerying(services, {
  ...(hotWindowMs !== undefined ? { hotWindowMs } : {}),
  ...(key ? { cursorKey: key } : {}),
});

export const handler = apiHandler(
  queryRoutes({ query, principals: services.principals }),
  services.authenticate,
);
