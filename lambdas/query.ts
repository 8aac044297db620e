// GET /v1/logs/{logId}/events (scope events:read). Wiring at module scope: one
// config read, one set of SDK clients and one read of the cursor key secret
// (ANCHORLOG_QUERY_CURSOR_KEY_SECRET, docs/query.md §Cursor) per container.
// Without the key the function does not start.
import { queryApi } from '../src/compose/query.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { apiHandler } from './api-handler.ts';

const services = createServices(loadConfig());
export const handler = apiHandler(await queryApi(services), services.authenticate);
