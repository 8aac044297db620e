/**
 * `GET /v1/logs/{logId}/events` (scope `events:read`; docs/query.md).
 * Strict query string: unknown parameters, bad dates and limits are a 400
 * naming the parameter.
 */
import { AppError } from '../../app/errors.ts';
import type { PrincipalService } from '../../app/principals.ts';
import { MAX_QUERY_LIMIT, type QueryParams, type QueryService } from '../../app/query.ts';
import type { Route } from '../router.ts';
import { json } from '../types.ts';
import { logIdOf, principalOf } from './body.ts';

const PARAMS = [
  'from',
  'to',
  'actionPrefix',
  'actorId',
  'submitter',
  // Answered by the columnar index only (docs/query.md §7); the DynamoDB path refuses them.
  'targetType',
  'targetId',
  'outcome',
  'limit',
  'cursor',
] as const;

function bad(name: string, message: string): AppError {
  return new AppError('BAD_REQUEST', message, { path: `/query/${name}` });
}

/** Query string → QueryParams; every string is checked again by the service. */
export function parseQueryString(query: Record<string, string>): QueryParams {
  const out: QueryParams = {};
  for (const [name, value] of Object.entries(query)) {
    if (!(PARAMS as readonly string[]).includes(name))
      throw bad(
        name,
        `unknown query parameter ${JSON.stringify(name.slice(0, 64))}; allowed: ${PARAMS.join(', ')}`,
      );
    if (value === '') throw bad(name, `query parameter ${name} must not be empty`);
  }
  if (query.limit !== undefined) {
    if (!/^[1-9][0-9]{0,3}$/.test(query.limit) || Number(query.limit) > MAX_QUERY_LIMIT)
      throw bad('limit', `limit must be an integer from 1 to ${MAX_QUERY_LIMIT}`);
    out.limit = Number(query.limit);
  }
  for (const name of [
    'from',
    'to',
    'actionPrefix',
    'actorId',
    'submitter',
    'targetType',
    'targetId',
    'outcome',
    'cursor',
  ] as const) {
    const v = query[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

export function queryRoutes(deps: {
  query: Pick<QueryService, 'query'>;
  principals: Pick<PrincipalService, 'authorize'>;
}): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/v1/logs/{logId}/events',
      auth: 'principal',
      async handle(req) {
        const logId = logIdOf(req);
        deps.principals.authorize(principalOf(req), logId, 'events:read');
        const params = parseQueryString(req.query);
        const page = await deps.query.query(logId, params);
        return json(200, page, { 'cache-control': 'no-store' });
      },
    },
  ];
}
