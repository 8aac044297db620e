/**
 * POST /v1/logs/{logId}/exports over the router: every malformed request is a
 * 4xx naming the field and never reaches the store; scopes are enforced.
 * The service behind the route is the real ExportService over stores that
 * fail the test if touched (validation comes first), or a stub for the 201.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import { ExportService, type StoredExport } from '../../src/app/export.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { hasScope, type Principal, type Scope } from '../../src/core/principal.ts';
import { createRouter } from '../../src/http/router.ts';
import { exportRoutes, parseExportBody } from '../../src/http/routes/exports.ts';
import type { HttpRequest } from '../../src/http/types.ts';

function principal(scopes: Principal['scopes']): Principal {
  return {
    id: 'auditor-1',
    name: 'Auditor',
    kind: 'human',
    owner: 'audit@example.com',
    purpose: 'exports',
    scopes,
    status: 'active',
    keyId: 'k_0123456789abcdef',
    version: 1,
    createdAt: '2026-03-01T00:00:00.000Z',
    updatedAt: '2026-03-01T00:00:00.000Z',
    createdBy: 'system:bootstrap',
  };
}

const PRINCIPALS: Record<string, Principal> = {
  auditor: principal({ acme: ['export'] }),
  reader: principal({ acme: ['proofs:read', 'events:read'] }),
  other: principal({ 'other-log': ['export'] }),
  any: principal({ '*': ['export'] }),
};

const authorize = (p: Principal, logId: string, scope: Scope) => {
  if (!hasScope(p, logId, scope)) throw new AppError('FORBIDDEN', `lacks ${scope} on ${logId}`);
};

/** Stores that must never be reached for a request the route or service refuses up front. */
const untouchable = new Proxy(
  {},
  {
    get(_t, prop) {
      if (prop === 'then') return undefined;
      return () => {
        throw new Error(`store touched: ${String(prop)}`);
      };
    },
  },
) as never;

const realService = new ExportService({
  logs: untouchable,
  proofs: { origin: (l: string) => `t/${l}`, latestCheckpoint: untouchable },
  publicKeys: untouchable,
  archive: untouchable,
  anchors: untouchable,
  clock: { now: () => Date.UTC(2026, 10, 1) },
});

const STORED: StoredExport = {
  logId: 'acme',
  origin: 't/acme',
  fromTime: '2026-03-01T00:00:00.000Z',
  toTime: '2026-07-01T00:00:00.000Z',
  filter: { actionPrefix: 'access.' },
  firstIndex: 16,
  lastIndex: 52,
  intervalRecords: 37,
  checkpointSize: 77,
  unsealedRecords: 0,
  anchoredSizes: [58, 77],
  records: 14,
  bytes: 20480,
  sha256: 'ab'.repeat(32),
  exportId: '20261101t000000000z-0011223344556677',
  key: 'exports/acme/20261101t000000000z-0011223344556677.tar',
  url: 'https://exports.example/exports/acme/x.tar?X-Amz-Signature=…',
  urlExpiresAt: '2026-11-01T01:00:00.000Z',
};

function router(service: 'real' | 'stub') {
  const calls: unknown[] = [];
  const exports =
    service === 'real'
      ? realService
      : {
          createExport: async (logId: string, params: unknown) => {
            calls.push({ logId, params });
            return STORED;
          },
        };
  const dispatch = createRouter(exportRoutes({ exports, principals: { authorize } }), {
    authenticate: async (req) => {
      const who = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
      const p = PRINCIPALS[who];
      if (!p) throw new AppError('UNAUTHENTICATED', 'missing or invalid API key');
      return p;
    },
  });
  const post = async (
    body: unknown,
    opts: { who?: string; logId?: string; ct?: string; raw?: string; method?: string } = {},
  ) => {
    const req: HttpRequest = {
      method: opts.method ?? 'POST',
      path: `/v1/logs/${opts.logId ?? 'acme'}/exports`,
      headers: {
        'content-type': opts.ct ?? 'application/json',
        ...(opts.who === '' ? {} : { authorization: `Bearer ${opts.who ?? 'auditor'}` }),
      },
      query: {},
      pathParams: {},
      body: utf8(opts.raw ?? JSON.stringify(body)),
      requestId: 'req-1',
    };
    const res = await dispatch(req);
    return {
      status: res.status,
      body: JSON.parse(String(res.body)) as { error: { code: string; path?: string } } & Record<
        string,
        unknown
      >,
    };
  };
  return { post, calls };
}

const GOOD = { from: '2026-03-01', to: '2026-07-01T00:00:00Z', action: 'access.' };

describe('POST /v1/logs/{logId}/exports', () => {
  it('201 with the stored export (id, presigned url, bytes, records, sha256)', async () => {
    const { post, calls } = router('stub');
    const res = await post(GOOD);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      exportId: STORED.exportId,
      url: STORED.url,
      bytes: 20480,
      records: 14,
      sha256: STORED.sha256,
      range: { firstIndex: 16, lastIndex: 52 },
      checkpoint: 77,
      anchoredCheckpoints: [58, 77],
    });
    expect(calls).toEqual([
      { logId: 'acme', params: { from: '2026-03-01', to: '2026-07-01T00:00:00Z', actionPrefix: 'access.' } },
    ]);
  });

  it.each([
    ['no body', undefined, '', 400],
    ['not an object', [1, 2], undefined, 400],
    ['null', null, undefined, 400],
    ['missing from', { to: '2026-07-01' }, undefined, 400],
    ['missing to', { from: '2026-03-01' }, undefined, 400],
    ['from not a string', { from: 20260301, to: '2026-07-01' }, undefined, 400],
    ['empty to', { from: '2026-03-01', to: '' }, undefined, 400],
    ['unknown field', { ...GOOD, limit: 10 }, undefined, 400],
    ['unknown field __proto__', undefined, '{"from":"2026-03-01","to":"2026-07-01","__proto__":{}}', 400],
    ['duplicate key', undefined, '{"from":"2026-03-01","from":"2026-03-02","to":"2026-07-01"}', 400],
    ['not JSON', undefined, '{from: 1', 400],
    ['action not a string', { ...GOOD, action: ['access.'] }, undefined, 400],
    ['actor not a string', { ...GOOD, actor: 7 }, undefined, 400],
  ])('%s → %s', async (_name, body, raw, status) => {
    const { post, calls } = router('stub');
    const res = await post(body, raw === undefined ? {} : { raw });
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe('BAD_REQUEST');
    expect(calls).toEqual([]);
  });

  it.each([
    ['bad date', { from: '2026-02-30', to: '2026-07-01' }, '/from'],
    ['bad time', { from: '2026-03-01T25:00:00Z', to: '2026-07-01' }, '/from'],
    ['not a date', { from: 'yesterday', to: '2026-07-01' }, '/from'],
    ['bad to', { from: '2026-03-01', to: '07/01/2026' }, '/to'],
    ['from = to', { from: '2026-03-01', to: '2026-03-01T00:00:00Z' }, '/to'],
    ['from > to', { from: '2026-07-01', to: '2026-03-01' }, '/to'],
    ['bad action prefix', { ...GOOD, action: 'Access.*' }, '/action'],
    ['bad actor id', { ...GOOD, actor: 'user\u0001' }, '/actor'],
    // The last instant a bundle can name is 9999-12-31T23:59:59.999Z; this rounds up past it.
    // (It used to reach formatReceivedAt and come back as a 500.)
    ['to past the last bundle time', { from: '2026-01-01', to: '9999-12-31T23:59:59.9991Z' }, '/to'],
    [
      'from at the last bundle time',
      { from: '9999-12-31T23:59:59.999Z', to: '9999-12-31T23:59:59.9991Z' },
      '/to',
    ],
  ])('service validation: %s → 400 %s, no store touched', async (_name, body, path) => {
    const { post } = router('real');
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'BAD_REQUEST', path });
  });

  it('scope and authentication: 401 without a key, 403 without export on this log, never 5xx', async () => {
    const { post, calls } = router('stub');
    expect((await post(GOOD, { who: '' })).status).toBe(401);
    expect((await post(GOOD, { who: 'nobody' })).status).toBe(401);
    expect((await post(GOOD, { who: 'reader' })).status).toBe(403);
    expect((await post(GOOD, { who: 'other' })).status).toBe(403);
    expect((await post(GOOD, { who: 'any' })).status).toBe(201);
    // Scope is checked before the body: a forbidden caller learns nothing about validation.
    expect((await post({ bogus: 1 }, { who: 'reader' })).status).toBe(403);
    expect(calls).toHaveLength(1);
  });

  it('bad log id 400, wrong content type 415, wrong method 400', async () => {
    const { post } = router('stub');
    expect((await post(GOOD, { logId: 'ACME' })).status).toBe(400);
    expect((await post(GOOD, { logId: '%zz' })).status).toBe(400);
    expect((await post(GOOD, { ct: 'text/plain' })).status).toBe(415);
    expect((await post(GOOD, { method: 'GET' })).status).toBe(400);
  });

  it('parseExportBody keeps only the known fields', () => {
    expect(parseExportBody({ from: 'a', to: 'b' })).toEqual({ from: 'a', to: 'b' });
    expect(() => parseExportBody({ from: 'a', to: 'b', extra: 1 })).toThrow(AppError);
  });
});
