// POST /v1/logs/{logId}/exports (scope export). Wiring at module scope: one
// config read, one set of SDK clients per container. ANCHORLOG_EXPORTS_BUCKET
// (required here) receives the bundles; ANCHORLOG_EXPORT_MAX_RECORDS and
// ANCHORLOG_EXPORT_URL_TTL_SECONDS are read by src/config.ts. The synchronous
// path is cut by API Gateway at 29 s: give the function >= 1 GiB (CPU scales with it).
import { exportApi } from '../src/compose/export.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { apiHandler } from './api-handler.ts';

const services = createServices(loadConfig());
export const handler = apiHandler(exportApi(services), services.authenticate);
