/**
 * `GET /v1/logs/{logId}/classes/{class}/answer?from=&to=` (docs/bundle.md
 * §Class answers): every record of an event class with from ≤ receivedAt <
 * to, proved complete under the newest time-stamped checkpoint, as a class
 * answer document (application/json) that `anchorlog verify` checks offline.
 * Scope `export`, as for any export of records. Bounds: RFC 3339 date-times
 * or UTC dates, as for exports.
 */
import type { ClassAnswerService } from '../../app/class-answer.ts';
import { AppError } from '../../app/errors.ts';
import type { PrincipalService } from '../../app/principals.ts';
import { parseTimeBound } from '../../app/query.ts';
import { formatReceivedAt } from '../../core/record.ts';
import type { Route } from '../router.ts';
import { logIdOf, principalOf } from './body.ts';

export interface ClassRoutesDeps {
  readonly answers: Pick<ClassAnswerService, 'answer'>;
  readonly principals: Pick<PrincipalService, 'authorize'>;
}

const CLASS_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

function bound(name: 'from' | 'to', raw: string | undefined): string {
  if (raw === undefined)
    throw new AppError('BAD_REQUEST', `query parameter ${name} is required`, { path: `/query/${name}` });
  const t = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw;
  // receivedAt's fixed-width form, so bounds compare with records as strings.
  return formatReceivedAt(parseTimeBound(name, t));
}

export function classRoutes(deps: ClassRoutesDeps): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/v1/logs/{logId}/classes/{class}/answer',
      auth: 'principal',
      async handle(req) {
        const logId = logIdOf(req);
        deps.principals.authorize(principalOf(req), logId, 'export');
        const name = req.pathParams.class ?? '';
        if (!CLASS_NAME.test(name))
          throw new AppError('BAD_REQUEST', 'class must be a class name', { path: '/class' });
        const from = bound('from', req.query.from);
        const to = bound('to', req.query.to);
        if (!(from < to))
          throw new AppError('BAD_REQUEST', 'from must be before to', { path: '/query/from' });
        const body = await deps.answers.answer(logId, name, from, to);
        return { status: 200, headers: { 'content-type': 'application/json' }, body };
      },
    },
  ];
}
