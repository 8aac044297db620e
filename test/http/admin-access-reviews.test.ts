/**
 * `/v1/admin/access-reviews…` through the real router, on the admin path as
 * deployed (AccessReviewService over DynamoAccessReviewStore, recording into
 * the `system` log on one moto table). Client input — garbage bodies, unknown
 * fields, bad decisions, unknown ids — is always a 4xx with a stable code,
 * never a 5xx, and writes nothing.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAccessReviewStore } from '../../src/adapters/aws/dynamo-access-review-store.ts';
import { AccessReviewService } from '../../src/app/access-reviews.ts';
import { ACCESS_REVIEW_COLUMNS } from '../../src/core/access-review.ts';
import type { Principal } from '../../src/core/principal.ts';
import { createRouter } from '../../src/http/router.ts';
import { accessReviewRoutes } from '../../src/http/routes/access-reviews.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { type RulesOnMoto, rulesOnMoto } from '../app/rules-moto.ts';

let env: RulesOnMoto;
let reviews: AccessReviewService;

beforeAll(async () => {
  env = await rulesOnMoto(`admin-access-${Date.now()}`);
  reviews = new AccessReviewService({
    store: new DynamoAccessReviewStore({ client: env.ddb, tableName: env.table }),
    audit: env.sink,
    auditLog: env.auditLog,
    principals: env.principals,
    logs: env.logs,
    clock: env.clock,
    random: (k) => crypto.getRandomValues(new Uint8Array(k)),
  });
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
    requestId: 'req-access',
  };
}

async function call(c: Call): Promise<HttpResponse & { json: Record<string, unknown>; text: string }> {
  const res = await createRouter(accessReviewRoutes({ reviews }), {
    authenticate: async () => env.admin,
  })(request(c));
  const text = typeof res.body === 'string' ? res.body : new TextDecoder().decode(res.body);
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { ...res, json: parsed, text };
}

const errorOf = (r: { json: Record<string, unknown> }) => r.json.error as Record<string, unknown>;
const BASE = '/v1/admin/access-reviews';

describe('access review routes', () => {
  it('start, list, decide, show, close, report (JSON and CSV)', async () => {
    const started = await call({ method: 'POST', path: BASE, body: { name: '2026-Q2' } });
    expect(started.status).toBe(201);
    const review = started.json.review as { id: string; status: string };
    expect(review.status).toBe('open');
    const listed = await call({ method: 'GET', path: BASE, query: { limit: '100' } });
    expect((listed.json.reviews as { id: string }[]).map((r) => r.id)).toContain(review.id);
    const decided = await call({
      method: 'POST',
      path: `${BASE}/${review.id}/decisions`,
      body: { principalId: 'ops-admin', decision: 'keep', reason: 'break-glass owner' },
    });
    expect(decided.status).toBe(200);
    expect(decided.json).toMatchObject({
      decision: { principalId: 'ops-admin', decision: 'keep', by: 'ops-admin' },
      eventId: `access-review/${review.id}/decide/ops-admin`,
    });
    const again = await call({
      method: 'POST',
      path: `${BASE}/${review.id}/decisions`,
      body: { principalId: 'ops-admin', decision: 'revoke', reason: 'x' },
    });
    expect([again.status, errorOf(again).reason]).toEqual([409, 'ALREADY_DECIDED']);
    const shown = await call({ method: 'GET', path: `${BASE}/${review.id}` });
    expect(shown.json).toMatchObject({
      review: { id: review.id },
      decisions: [{ principalId: 'ops-admin' }],
    });
    const closed = await call({ method: 'POST', path: `${BASE}/${review.id}/close` });
    expect(closed.status).toBe(200);
    expect(closed.json).toMatchObject({ review: { status: 'closed' } });
    const report = await call({ method: 'GET', path: `${BASE}/${review.id}/report` });
    expect(report.status).toBe(200);
    expect(report.json).toMatchObject({ format: 'anchorlog.access-review-report/v1', reviewId: review.id });
    const csv = await call({ method: 'GET', path: `${BASE}/${review.id}/report`, query: { format: 'csv' } });
    expect(csv.headers?.['content-type']).toMatch(/^text\/csv/);
    expect(csv.text.split('\r\n')[0]).toBe(ACCESS_REVIEW_COLUMNS.join(','));
  });

  it('answers garbage with 4xx and a stable code, writing nothing', async () => {
    const { review } = await reviews.start(env.admin, { name: 'garbage' });
    const before = (await env.records()).length;
    const cases: [Call, number, string | undefined][] = [
      [{ method: 'POST', path: BASE, body: '{"name":' }, 400, undefined],
      [{ method: 'POST', path: BASE, body: '[]' }, 400, 'INVALID_BODY'],
      [{ method: 'POST', path: BASE, body: { name: 7 } }, 400, 'INVALID_NAME'],
      [{ method: 'POST', path: BASE, body: { name: 'a', admin: true } }, 400, 'UNKNOWN_FIELD'],
      [
        { method: 'POST', path: BASE, body: { name: 'a' }, headers: { 'content-type': 'text/plain' } },
        415,
        undefined,
      ],
      [{ method: 'POST', path: `${BASE}/${review.id}/decisions`, body: {} }, 400, 'INVALID_PRINCIPAL_ID'],
      [{ method: 'POST', path: `${BASE}/${review.id}/decisions`, body: 'null' }, 400, 'INVALID_BODY'],
      [
        {
          method: 'POST',
          path: `${BASE}/${review.id}/decisions`,
          body: { principalId: 'ops-admin', decision: 'KEEP', reason: 'x' },
        },
        400,
        'INVALID_DECISION',
      ],
      [
        {
          method: 'POST',
          path: `${BASE}/${review.id}/decisions`,
          body: { principalId: 'ops-admin', decision: 'keep', reason: ['x'] },
        },
        400,
        'INVALID_REASON',
      ],
      [
        {
          method: 'POST',
          path: `${BASE}/${review.id}/decisions`,
          body: { principalId: 'ops-admin', decision: 'keep', reason: 'x', by: 'eve' },
        },
        400,
        'UNKNOWN_FIELD',
      ],
      [
        {
          method: 'POST',
          path: `${BASE}/${review.id}/decisions`,
          body: { principalId: 'ghost-1', decision: 'keep', reason: 'x' },
        },
        404,
        'NOT_IN_REVIEW',
      ],
      [{ method: 'POST', path: `${BASE}/${review.id}/close`, body: { force: true } }, 400, 'INVALID_BODY'],
      [{ method: 'GET', path: `${BASE}/arv_nope` }, 404, 'REVIEW_NOT_FOUND'],
      [{ method: 'GET', path: `${BASE}/${review.id}/report`, query: { format: 'xml' } }, 400, undefined],
      [{ method: 'GET', path: BASE, query: { limit: '0' } }, 400, undefined],
      [{ method: 'GET', path: BASE, query: { limit: 'many' } }, 400, undefined],
      [{ method: 'GET', path: BASE, query: { cursor: 'bm90LWEtY3Vyc29y' } }, 400, undefined],
    ];
    for (const [c, status, reason] of cases) {
      const r = await call(c);
      expect([c.path, c.body, r.status, errorOf(r)?.reason]).toEqual([c.path, c.body, status, reason]);
    }
    // Arbitrary bytes as a decision body: never a 5xx, never a write.
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        const r = await call({ method: 'POST', path: `${BASE}/${review.id}/decisions`, body: bytes });
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
      }),
      { numRuns: 40 },
    );
    expect((await env.records()).length).toBe(before);
  });
});
