/**
 * `POST /v1/logs/{logId}/exports` (scope `export`; docs/api.md §Routes, docs/bundle.md): writes an
 * evidence bundle for a time range to the exports bucket and answers
 * `201 { exportId, url, urlExpiresAt, bytes, records, sha256, … }` with a
 * presigned GET.
 *
 * Body, strictly: `{ "from": "<RFC 3339 or YYYY-MM-DD>", "to": "…",
 * "action"?: "<action prefix>", "actor"?: "<actor id>" }` — unknown fields,
 * missing or non-string bounds, from ≥ to are 400 naming the field.
 *
 * Synchronous limits: API Gateway (HTTP API) cuts an integration at 29 s, so
 * a range whose index interval exceeds the configured maximum (default
 * 200,000 records, `ANCHORLOG_EXPORT_MAX_RECORDS`) is refused with 413 before
 * any record is read: split the range. Measured throughput is in
 * docs/benchmarks.md §Bundle.
 */
import { AppError } from '../../app/errors.ts';
import type { ExportParams, ExportService } from '../../app/export.ts';
import type { PrincipalService } from '../../app/principals.ts';
import type { Route } from '../router.ts';
import { json } from '../types.ts';
import { jsonBody, logIdOf, principalOf, requireJson } from './body.ts';

const FIELDS = ['from', 'to', 'action', 'actor'] as const;

function bad(field: string, message: string): AppError {
  return new AppError('BAD_REQUEST', message, { path: `/${field}` });
}

/** The request body → ExportParams (values are validated again by the service). */
export function parseExportBody(body: unknown): ExportParams {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad('', 'body must be a JSON object { from, to, action?, actor? }');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!(FIELDS as readonly string[]).includes(k))
      throw bad(k, `unknown field ${JSON.stringify(k.slice(0, 64))}; allowed: ${FIELDS.join(', ')}`);
  const str = (k: (typeof FIELDS)[number], required: boolean): string | undefined => {
    const v = o[k];
    if (v === undefined) {
      if (required) throw bad(k, `${k} is required`);
      return undefined;
    }
    if (typeof v !== 'string' || v.length === 0 || v.length > 256)
      throw bad(k, `${k} must be a non-empty string`);
    return v;
  };
  const from = str('from', true) as string;
  const to = str('to', true) as string;
  const action = str('action', false);
  const actor = str('actor', false);
  return {
    from,
    to,
    ...(action !== undefined ? { actionPrefix: action } : {}),
    ...(actor !== undefined ? { actorId: actor } : {}),
  };
}

export function exportRoutes(deps: {
  exports: Pick<ExportService, 'createExport'>;
  principals: Pick<PrincipalService, 'authorize'>;
}): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/v1/logs/{logId}/exports',
      auth: 'principal',
      async handle(req) {
        const logId = logIdOf(req);
        deps.principals.authorize(principalOf(req), logId, 'export');
        requireJson(req);
        const params = parseExportBody(jsonBody(req));
        const e = await deps.exports.createExport(logId, params);
        return json(
          201,
          {
            exportId: e.exportId,
            url: e.url,
            urlExpiresAt: e.urlExpiresAt,
            bytes: e.bytes,
            records: e.records,
            sha256: e.sha256,
            range: {
              fromTime: e.fromTime,
              toTime: e.toTime,
              firstIndex: e.firstIndex,
              lastIndex: e.lastIndex,
            },
            filter: e.filter,
            checkpoint: e.checkpointSize,
            anchoredCheckpoints: e.anchoredSizes,
            unsealedRecords: e.unsealedRecords,
          },
          { 'cache-control': 'no-store' },
        );
      },
    },
  ];
}
