// POST /v1/logs/{logId}/exports (scope export). Wiring at module scope: one
// config read, one set of SDK clients per container.
// ANCHORLOG_EXPORTS_BUCKET (required here) receives the bundles;
// ANCHORLOG_EXPORT_MAX_RECORDS (default 200,000) caps the synchronous path,
// which API Gateway cuts at 29 s; ANCHORLOG_EXPORT_URL_TTL_SECONDS (default
// 3600) is the presigned URL's lifetime. Give the function ≥ 1 GiB memory
// (CPU scales with it) and a 29 s timeout.
import { createServices } from '../src/compose.ts';
import { createExporting } from '../src/compose-export.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { exportRoutes } from '../src/http/routes/exports.ts';
import { apiHandler } from './api-handler.ts';

function positive(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(`${name} must be a positive integer`);
  return n;
}

const config = loadConfig();
if (!config.exportsBucket)
  throw new ConfigError('missing required environment variable ANCHORLOG_EXPORTS_BUCKET');
const services = createServices(config);
const maxRecords = positive('ANCHORLOG_EXPORT_MAX_RECORDS', process.env.ANCHORLOG_EXPORT_MAX_RECORDS);
const urlTtlSeconds = positive(
  'ANCHORLOG_EXPORT_URL_TTL_SECONDS',
  process.env.ANCHORLOG_EXPORT_URL_TTL_SECONDS,
);
const exports = createExporting(services, {
  ...(maxRecords !== undefined ? { maxRecords } : {}),
  ...(urlTtlSeconds !== undefined ? { urlTtlSeconds } : {}),
});

export const handler = apiHandler(
  exportRoutes({ exports, principals: services.principals }),
  services.authenticate,
);
