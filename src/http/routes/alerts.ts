/**
 * Alert review in the admin API (`/v1/admin/alerts…`, docs/detection.md
 * "Reviewing alerts", docs/api.md §Routes): scope `alerts:review` on the
 * alert's log or on `*` (`admin` implies it; the report needs it on `*`).
 * Every transition is recorded in the `system` log by AlertReviewService
 * before the response; a refused transition answers 409 (400 for bad input)
 * with the stable code in `reason`, and nothing was written.
 */
import type { AlertFilter, AlertReviewService } from '../../app/alerts.ts';
import { AppError } from '../../app/errors.ts';
import { alertReportCsv } from '../../core/detect/report.ts';
import type { Route } from '../router.ts';
import type { HttpRequest } from '../types.ts';
import { json } from '../types.ts';
import { jsonBody, principalOf } from './body.ts';

/** A strict JSON object body (empty = `{}`) with only `allowed` fields. */
function objectBody(req: HttpRequest, allowed: readonly string[]): Record<string, unknown> {
  const body = jsonBody(req);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new AppError('BAD_REQUEST', 'body must be a JSON object', { path: '' });
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!allowed.includes(k))
      throw new AppError(
        'BAD_REQUEST',
        `unknown field ${JSON.stringify(k.slice(0, 64))}${allowed.length ? `; allowed: ${allowed.join(', ')}` : ''}`,
        { path: `/${k.slice(0, 64)}` },
      );
  return o;
}

function query(req: HttpRequest, name: string): string | undefined {
  const v = req.query[name];
  if (v !== undefined && v.length > 256)
    throw new AppError('BAD_REQUEST', `${name} is too long`, { path: `/query/${name}` });
  return v;
}

function limitOf(req: HttpRequest): number | undefined {
  const raw = req.query.limit;
  if (raw === undefined) return undefined;
  if (!/^[0-9]{1,3}$/.test(raw))
    throw new AppError('BAD_REQUEST', 'limit must be an integer from 1 to 100', { path: '/query/limit' });
  return Number(raw);
}

const alertId = (req: HttpRequest) => req.pathParams.id ?? '';

export function alertRoutes(deps: { alerts: AlertReviewService }): Route[] {
  const { alerts } = deps;
  const transition = (status: number, r: Awaited<ReturnType<AlertReviewService['acknowledge']>>) =>
    json(status, { ...r.view, eventId: r.eventId });
  return [
    {
      method: 'GET',
      pattern: '/v1/admin/alerts',
      auth: 'principal',
      async handle(req) {
        const filter: AlertFilter = {
          status: query(req, 'status'),
          ruleId: query(req, 'rule'),
          severity: query(req, 'severity'),
          logId: query(req, 'log'),
          from: query(req, 'from'),
          to: query(req, 'to'),
        };
        const cursor = query(req, 'cursor');
        const limit = limitOf(req);
        return json(
          200,
          await alerts.list(principalOf(req), filter, {
            ...(cursor !== undefined ? { cursor } : {}),
            ...(limit !== undefined ? { limit } : {}),
          }),
        );
      },
    },
    {
      method: 'GET',
      pattern: '/v1/admin/alerts/report',
      auth: 'principal',
      async handle(req) {
        const from = query(req, 'from');
        const to = query(req, 'to');
        if (from === undefined)
          throw new AppError('BAD_REQUEST', 'from is required', { path: '/query/from' });
        if (to === undefined) throw new AppError('BAD_REQUEST', 'to is required', { path: '/query/to' });
        const format = query(req, 'format') ?? 'json';
        if (format !== 'json' && format !== 'csv')
          throw new AppError('BAD_REQUEST', 'format must be json or csv', { path: '/query/format' });
        const report = await alerts.report(principalOf(req), { from, to, until: query(req, 'until') });
        if (format === 'csv')
          return {
            status: 200,
            headers: { 'content-type': 'text/csv; charset=utf-8; header=present' },
            body: alertReportCsv(report),
          };
        return json(200, report);
      },
    },
    {
      method: 'GET',
      pattern: '/v1/admin/alerts/{id}',
      auth: 'principal',
      async handle(req) {
        return json(200, await alerts.show(principalOf(req), alertId(req)));
      },
    },
    {
      method: 'POST',
      pattern: '/v1/admin/alerts/{id}/ack',
      auth: 'principal',
      async handle(req) {
        objectBody(req, []);
        return transition(
          200,
          await alerts.acknowledge(principalOf(req), alertId(req), { requestId: req.requestId }),
        );
      },
    },
    {
      method: 'POST',
      pattern: '/v1/admin/alerts/{id}/resolve',
      auth: 'principal',
      async handle(req) {
        const b = objectBody(req, ['outcome', 'notes']);
        return transition(
          200,
          await alerts.resolve(
            principalOf(req),
            alertId(req),
            { outcome: b.outcome, notes: b.notes },
            { requestId: req.requestId },
          ),
        );
      },
    },
    {
      method: 'POST',
      pattern: '/v1/admin/alerts/{id}/reopen',
      auth: 'principal',
      async handle(req) {
        const b = objectBody(req, ['notes']);
        return transition(
          200,
          await alerts.reopen(
            principalOf(req),
            alertId(req),
            { notes: b.notes },
            { requestId: req.requestId },
          ),
        );
      },
    },
  ];
}
