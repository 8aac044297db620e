/**
 * Detection rules in the admin API (`/v1/admin/rules…`, docs/detection.md
 * "Managing rules"). Every change is recorded in the `system` log by
 * RuleService before it takes effect. Versions travel as ETags: a read
 * answers `ETag: "<version>"`, a change may send it back as `If-Match`
 * (refused with 409 when the rule moved on); `If-None-Match: *` makes a PUT
 * create-only.
 */
import { AppError } from '../../app/errors.ts';
import type { RuleChangeOptions, RuleService, RuleView } from '../../app/rules.ts';
import type { Route } from '../router.ts';
import type { HttpRequest, HttpResponse } from '../types.ts';
import { json } from '../types.ts';
import { principalOf, requireJson } from './body.ts';

const VERSION_RE = /^(?:W\/)?"?([0-9]{1,10})"?$/;

/** If-Match (a version, as an ETag or bare) and If-None-Match: * as RuleChangeOptions. */
function preconditions(req: HttpRequest): RuleChangeOptions {
  const match = req.headers['if-match'];
  const noneMatch = req.headers['if-none-match'];
  if (match !== undefined && noneMatch !== undefined)
    throw new AppError('BAD_REQUEST', 'give If-Match or If-None-Match, not both');
  if (noneMatch !== undefined) {
    if (noneMatch.trim() !== '*') throw new AppError('BAD_REQUEST', 'If-None-Match must be * (create only)');
    return { ifVersion: 0 };
  }
  if (match === undefined) return {};
  const m = VERSION_RE.exec(match.trim());
  const n = m ? Number(m[1]) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new AppError('BAD_REQUEST', 'If-Match must be a rule version, e.g. "3"');
  return { ifVersion: n };
}

/** A positive integer query parameter, or undefined when absent. */
function intParam(req: HttpRequest, name: string): number | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(raw))
    throw new AppError('BAD_REQUEST', `${name} must be a positive integer`, { path: `/query/${name}` });
  return Number(raw);
}

function page(req: HttpRequest): { cursor?: string; limit?: number } {
  const limit = intParam(req, 'limit');
  const cursor = req.query.cursor;
  return { ...(cursor !== undefined ? { cursor } : {}), ...(limit !== undefined ? { limit } : {}) };
}

const ruleId = (req: HttpRequest) => req.pathParams.id ?? '';

const etag = (v: RuleView) => ({ etag: `"${v.rule.version}"` });

function changed(status: number, r: { view: RuleView; changed: boolean; created: boolean }): HttpResponse {
  return json(status, { ...r.view, changed: r.changed, created: r.created }, etag(r.view));
}

export function ruleRoutes(deps: { rules: RuleService }): Route[] {
  const { rules } = deps;
  const setEnabled =
    (enabled: boolean): Route['handle'] =>
    async (req) =>
      changed(
        200,
        await rules.setEnabled(principalOf(req), ruleId(req), enabled, {
          ...preconditions(req),
          requestId: req.requestId,
        }),
      );
  return [
    {
      method: 'PUT',
      pattern: '/v1/admin/rules/{id}',
      auth: 'principal',
      async handle(req) {
        const actor = principalOf(req);
        requireJson(req);
        // The raw bytes: the rule parser reports JSON errors with line and column.
        const r = await rules.put(actor, ruleId(req), req.body, {
          ...preconditions(req),
          requestId: req.requestId,
        });
        return changed(r.created ? 201 : 200, r);
      },
    },
    {
      method: 'GET',
      pattern: '/v1/admin/rules/{id}',
      auth: 'principal',
      async handle(req) {
        const version = intParam(req, 'version');
        const view = await rules.get(principalOf(req), ruleId(req), version !== undefined ? { version } : {});
        return json(200, view, etag(view));
      },
    },
    {
      method: 'GET',
      pattern: '/v1/admin/rules',
      auth: 'principal',
      async handle(req) {
        return json(200, await rules.list(principalOf(req), page(req)));
      },
    },
    {
      method: 'GET',
      pattern: '/v1/admin/rules/{id}/history',
      auth: 'principal',
      async handle(req) {
        return json(200, await rules.history(principalOf(req), ruleId(req), page(req)));
      },
    },
    { method: 'POST', pattern: '/v1/admin/rules/{id}/enable', auth: 'principal', handle: setEnabled(true) },
    { method: 'POST', pattern: '/v1/admin/rules/{id}/disable', auth: 'principal', handle: setEnabled(false) },
  ];
}
