/**
 * `/v1/admin/alerts…` through the real router, on the admin path as
 * deployed (AlertReviewService over DynamoAlertReviewStore, recording into
 * the `system` log on one moto table). Client input — garbage bodies, unknown
 * fields, bad outcomes, bad filters, unknown ids — is always a 4xx with a
 * stable code, never a 5xx, and writes nothing.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALERT_REPORT_COLUMNS } from '../../src/core/detect/report.ts';
import type { Principal } from '../../src/core/principal.ts';
import { createRouter } from '../../src/http/router.ts';
import { alertRoutes } from '../../src/http/routes/alerts.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { type AlertsOnMoto, alertsOnMoto } from '../app/alerts-moto.ts';

let env: AlertsOnMoto;

beforeAll(async () => {
  env = await alertsOnMoto(`admin-alerts-${Date.now()}`);
});

interface Call {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  principal?: Principal;
}

function request(c: Call): HttpRequest {
  const body =
    c.body === undefined
      ? new Uint8Array(0)
      : c.body instanceof Uint8Array
        ? c.body
        : new TextEncoder().encode(typeof c.body === 'string' ? c.body : JSON.stringify(c.body));
  return {
    method: c.method,
    path: c.path,
    headers: { ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}), ...c.headers },
    query: c.query ?? {},
    pathParams: {},
    body,
    principal: c.principal ?? env.admin,
    requestId: 'req-alerts',
  };
}

async function call(c: Call): Promise<HttpResponse & { json: Record<string, unknown> }> {
  const res = await createRouter(alertRoutes({ alerts: env.alerts }), {
    authenticate: async () => env.admin,
  })(request(c));
  const text = typeof res.body === 'string' ? res.body : new TextDecoder().decode(res.body);
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { ...res, json: parsed };
}

const errorOf = (r: { json: Record<string, unknown> }) => r.json.error as Record<string, unknown>;

describe('alert routes', () => {
  it('ack, resolve, reopen, show, list', async () => {
    const a = await env.fire(1);
    const acked = await call({ method: 'POST', path: `/v1/admin/alerts/${a.id}/ack` });
    expect(acked.status).toBe(200);
    expect(acked.json).toMatchObject({ review: { status: 'acknowledged', rev: 1 }, eventId: `${a.id}/r1` });
    const resolved = await call({
      method: 'POST',
      path: `/v1/admin/alerts/${a.id}/resolve`,
      body: { outcome: 'false_positive', notes: 'known batch job' },
    });
    expect(resolved.status).toBe(200);
    expect(resolved.json).toMatchObject({
      review: { status: 'resolved', resolved: { outcome: 'false_positive' } },
    });
    const again = await call({
      method: 'POST',
      path: `/v1/admin/alerts/${a.id}/resolve`,
      body: { outcome: 'true_positive' },
    });
    expect(again.status).toBe(409);
    expect(errorOf(again)).toMatchObject({
      code: 'CONFLICT',
      reason: 'INVALID_TRANSITION',
      status: 'resolved',
    });
    const reopened = await call({
      method: 'POST',
      path: `/v1/admin/alerts/${a.id}/reopen`,
      body: { notes: 'it was real' },
    });
    expect(reopened.json).toMatchObject({ review: { status: 'open', rev: 3, reopened: 1 } });
    const shown = await call({ method: 'GET', path: `/v1/admin/alerts/${a.id}` });
    expect(shown.status).toBe(200);
    expect(shown.json).toMatchObject({ alert: { id: a.id }, fired: { event: { action: 'alert.fire' } } });
    const listed = await call({
      method: 'GET',
      path: '/v1/admin/alerts',
      query: { status: 'open', limit: '100' },
    });
    expect((listed.json.alerts as { alert: { id: string } }[]).map((v) => v.alert.id)).toContain(a.id);
  });

  it('answers the report as JSON and CSV', async () => {
    const q = { from: '2000-01-01', to: '2100-01-01' };
    const j = await call({ method: 'GET', path: '/v1/admin/alerts/report', query: q });
    expect(j.status).toBe(200);
    expect(j.json).toMatchObject({ format: 'anchorlog.alert-report/v1' });
    const c = await call({ method: 'GET', path: '/v1/admin/alerts/report', query: { ...q, format: 'csv' } });
    expect(c.status).toBe(200);
    expect(c.headers['content-type']).toMatch(/^text\/csv/);
    expect(String(c.body).split('\r\n')[0]).toBe(ALERT_REPORT_COLUMNS.join(','));
  });

  it('of two reviewers racing on one alert, one gets 200 and the other 409', async () => {
    const a = await env.fire(4);
    const [x, y] = await Promise.all([
      call({ method: 'POST', path: `/v1/admin/alerts/${a.id}/ack` }),
      call({ method: 'POST', path: `/v1/admin/alerts/${a.id}/resolve`, body: { outcome: 'accepted_risk' } }),
    ]);
    expect([x.status, y.status].sort()).toEqual([200, 409]);
    const lost = x.status === 409 ? x : y;
    expect(['CONCURRENT_TRANSITION', 'INVALID_TRANSITION']).toContain(errorOf(lost).reason);
    expect((await env.reviews.get(a.id))?.state.rev).toBe(1);
  });

  it('refuses bad input with 4xx and stable codes', async () => {
    const a = await env.fire(2);
    const cases: [Call, number, Record<string, unknown>][] = [
      [
        { method: 'POST', path: `/v1/admin/alerts/${a.id}/resolve`, body: { outcome: 'maybe' } },
        400,
        { reason: 'INVALID_OUTCOME' },
      ],
      [
        { method: 'POST', path: `/v1/admin/alerts/${a.id}/resolve`, body: {} },
        400,
        { reason: 'INVALID_OUTCOME' },
      ],
      [
        {
          method: 'POST',
          path: `/v1/admin/alerts/${a.id}/resolve`,
          body: { outcome: 'true_positive', notes: 7 },
        },
        400,
        { reason: 'INVALID_NOTES' },
      ],
      [
        {
          method: 'POST',
          path: `/v1/admin/alerts/${a.id}/resolve`,
          body: { outcome: 'true_positive', extra: 1 },
        },
        400,
        { path: '/extra' },
      ],
      [
        { method: 'POST', path: `/v1/admin/alerts/${a.id}/ack`, body: { by: 'someone-else' } },
        400,
        { path: '/by' },
      ],
      [{ method: 'POST', path: `/v1/admin/alerts/${a.id}/ack`, body: '[1,2' }, 400, { code: 'BAD_REQUEST' }],
      [
        { method: 'POST', path: `/v1/admin/alerts/${a.id}/ack`, body: '"text"' },
        400,
        { code: 'BAD_REQUEST' },
      ],
      [
        {
          method: 'POST',
          path: `/v1/admin/alerts/${a.id}/resolve`,
          body: { outcome: 'true_positive' },
          headers: { 'content-type': 'text/plain' },
        },
        415,
        {},
      ],
      [
        { method: 'POST', path: `/v1/admin/alerts/alr_${'0'.repeat(31)}9/ack` },
        404,
        { reason: 'ALERT_NOT_FOUND' },
      ],
      [{ method: 'POST', path: '/v1/admin/alerts/%2e%2e/ack' }, 404, { reason: 'ALERT_NOT_FOUND' }],
      [
        { method: 'GET', path: '/v1/admin/alerts', query: { status: 'closed' } },
        400,
        { path: '/query/status' },
      ],
      [{ method: 'GET', path: '/v1/admin/alerts', query: { limit: '0' } }, 400, { path: '/query/limit' }],
      [{ method: 'GET', path: '/v1/admin/alerts', query: { limit: 'x' } }, 400, { path: '/query/limit' }],
      [{ method: 'GET', path: '/v1/admin/alerts', query: { cursor: '!!' } }, 400, { path: '/cursor' }],
      [
        { method: 'GET', path: '/v1/admin/alerts/report', query: { to: '2026-01-01' } },
        400,
        { path: '/query/from' },
      ],
      [
        { method: 'GET', path: '/v1/admin/alerts/report', query: { from: 'x', to: '2026-01-01' } },
        400,
        { path: '/from' },
      ],
      [
        {
          method: 'GET',
          path: '/v1/admin/alerts/report',
          query: { from: '2026-01-01', to: '2026-02-01', format: 'xml' },
        },
        400,
        {},
      ],
      [{ method: 'DELETE', path: `/v1/admin/alerts/${a.id}` }, 400, {}],
    ];
    const before = (await env.records()).length;
    for (const [c, status, expected] of cases) {
      const r = await call(c);
      expect([c.path, r.status]).toEqual([c.path, status]);
      expect(errorOf(r)).toMatchObject(expected);
    }
    expect((await env.records()).length).toBe(before);
    expect((await env.reviews.get(a.id))?.state.rev).toBe(0);
  });

  it('never answers garbage with a 5xx', async () => {
    const a = await env.fire(3);
    const before = (await env.records()).length;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('ack', 'resolve', 'reopen'),
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.string({ maxLength: 64 }),
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
          fc
            .record(
              { outcome: fc.jsonValue({ maxDepth: 1 }), notes: fc.jsonValue({ maxDepth: 1 }) },
              { requiredKeys: [] },
            )
            .map((v) => JSON.stringify(v)),
        ),
        async (action, body) => {
          const r = await call({ method: 'POST', path: `/v1/admin/alerts/${a.id}/${action}`, body });
          expect(r.status).toBeLessThan(500);
        },
      ),
      { numRuns: 60 },
    );
    // Some of those may be valid transitions; none is half-applied: every committed rev has its record.
    const item = await env.reviews.get(a.id);
    expect(item?.pending).toBeUndefined();
    const recs = (await env.records()).slice(before).filter((r) => r.event.target?.id === a.id);
    expect(recs.map((r) => r.event.id)).toEqual(
      Array.from({ length: item?.state.rev ?? 0 }, (_, i) => `${a.id}/r${i + 1}`),
    );
  });
});
