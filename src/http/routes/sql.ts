/**
 * The columnar index's routes (docs/query.md §7):
 *   POST /v1/logs/{logId}/sql            (scope events:read) read-only SQL over the view `events`
 *                                        — sqlRoutes, mounted by the query function (reads the index)
 *   POST /v1/logs/{logId}/index/rebuild  (scope admin) rebuild the log's index from the archive
 *                                        — indexRebuildRoutes, mounted by the reindex function (the
 *                                        only API function that may write the index bucket)
 * A refused statement is 400 BAD_REQUEST, path `/sql`, with a stable `reason`
 * (SQL_NOT_READ_ONLY, SQL_MULTIPLE_STATEMENTS, SQL_FORBIDDEN, SQL_TIMEOUT, …).
 */
import type { ColumnarIndexer } from '../../app/columnar-indexer.ts';
import type { ColumnarQueryService, SqlRequest } from '../../app/columnar-query.ts';
import { AppError } from '../../app/errors.ts';
import type { PrincipalService } from '../../app/principals.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Route } from '../router.ts';
import { json } from '../types.ts';
import { jsonBody, logIdOf, principalOf } from './body.ts';

const SQL_FIELDS = ['sql', 'from', 'to', 'maxRows'];

function sqlRequest(body: unknown): SqlRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new AppError('BAD_REQUEST', 'the body must be a JSON object with a field sql', { path: '' });
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!SQL_FIELDS.includes(k))
      throw new AppError(
        'BAD_REQUEST',
        `unknown field ${JSON.stringify(k.slice(0, 64))}; allowed: ${SQL_FIELDS.join(', ')}`,
        {
          path: `/${k}`,
        },
      );
  if (typeof o.sql !== 'string') throw new AppError('BAD_REQUEST', 'sql must be a string', { path: '/sql' });
  for (const k of ['from', 'to'] as const)
    if (o[k] !== undefined && typeof o[k] !== 'string')
      throw new AppError('BAD_REQUEST', `${k} must be an RFC 3339 date-time string`, { path: `/${k}` });
  if (o.maxRows !== undefined && typeof o.maxRows !== 'number')
    throw new AppError('BAD_REQUEST', 'maxRows must be an integer', { path: '/maxRows' });
  return {
    sql: o.sql,
    ...(o.from !== undefined ? { from: o.from as string } : {}),
    ...(o.to !== undefined ? { to: o.to as string } : {}),
    ...(o.maxRows !== undefined ? { maxRows: o.maxRows as number } : {}),
  };
}

/** A rebuild request stops starting work this long before the API's ~29 s limit. */
const REBUILD_BUDGET_MS = 20_000;

export function sqlRoutes(deps: {
  columnar: Pick<ColumnarQueryService, 'sql'>;
  principals: Pick<PrincipalService, 'authorize'>;
}): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/v1/logs/{logId}/sql',
      auth: 'principal',
      async handle(req) {
        const logId = logIdOf(req);
        deps.principals.authorize(principalOf(req), logId, 'events:read');
        const result = await deps.columnar.sql(logId, sqlRequest(jsonBody(req)));
        return json(200, result, { 'cache-control': 'no-store' });
      },
    },
  ];
}

export function indexRebuildRoutes(deps: {
  indexer: Pick<ColumnarIndexer, 'rebuild'>;
  principals: Pick<PrincipalService, 'authorize'>;
  clock: Clock;
}): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/v1/logs/{logId}/index/rebuild',
      auth: 'principal',
      async handle(req) {
        const logId = logIdOf(req);
        deps.principals.authorize(principalOf(req), logId, 'admin');
        const r = await deps.indexer.rebuild(logId, deps.clock.now() + REBUILD_BUDGET_MS);
        return json(200, r, { 'cache-control': 'no-store' });
      },
    },
  ];
}
