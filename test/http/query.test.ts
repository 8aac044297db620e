import { createHash, createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import { hasScope, type Principal } from '../../src/core/principal.ts';
import { createRouter } from '../../src/http/router.ts';
import { queryRoutes } from '../../src/http/routes/query.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { allRecords, bruteForce, grow, type QEnv, queryEnv, type Ref } from '../app/query-harness.ts';

const LOG = 'httpq';
let env: QEnv;
let all: Ref[];
let dispatch: (req: HttpRequest) => Promise<HttpResponse>;

function principal(id: string, scopes: Principal['scopes']): Principal {
  return {
    id,
    name: id,
    kind: 'human',
    owner: 'o',
    purpose: 'p',
    scopes,
    status: 'active',
    keyId: 'k_0000000000000000',
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'system:bootstrap',
  };
}
const PRINCIPALS: Record<string, Principal> = {
  reader: principal('reader', { [LOG]: ['events:read'] }),
  prover: principal('prover', { [LOG]: ['proofs:read'] }),
  anyReader: principal('any', { '*': ['events:read'] }),
};

function request(path: string, key: string | null = 'reader'): Promise<HttpResponse> {
  const url = new URL(path, 'http://x');
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => {
    query[k] = v;
  });
  return dispatch({
    method: 'GET',
    path: url.pathname,
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
    query,
    pathParams: {},
    body: new Uint8Array(0),
    requestId: 'req-q',
  });
}
const body = (r: HttpResponse) =>
  JSON.parse(typeof r.body === 'string' ? r.body : new TextDecoder().decode(r.body));

beforeAll(async () => {
  env = queryEnv();
  await env.logRegistry.createLog(LOG);
  await grow(env, LOG, { batches: 30, maxPer: 10, maxGapMs: 4 * 86_400_000, seed: 11 });
  const s = env.sealer();
  while ((await s.sealLog(LOG)).more);
  await grow(env, LOG, { batches: 8, maxPer: 10, maxGapMs: 86_400_000, seed: 12 });
  await env.projector().project(LOG);
  env.clock.t += 60_000;
  all = await allRecords(env, LOG);
  dispatch = createRouter(
    queryRoutes({
      query: env.service(),
      principals: {
        authorize(p, logId, scope) {
          if (!hasScope(p, logId, scope)) throw new AppError('FORBIDDEN', `lacks ${scope}`);
        },
      },
    }),
    {
      authenticate: async (req) => {
        const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        const p = PRINCIPALS[key];
        if (!p) throw new AppError('UNAUTHENTICATED', 'bad key');
        return p;
      },
    },
  );
}, 180_000);

describe('GET /v1/logs/{logId}/events', () => {
  it('pages through a filtered query with cursors, matching brute force', async () => {
    const from = (all[20] as Ref).rec.receivedAt;
    const params = new URLSearchParams({ from, actionPrefix: 'access', limit: '5' });
    const got: number[] = [];
    for (let pages = 0; pages < 500; pages++) {
      const res = await request(`/v1/logs/${LOG}/events?${params}`);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const b = body(res);
      expect(b.records.length).toBeLessThanOrEqual(5);
      for (const r of b.records) {
        expect(Object.keys(r).sort()).toEqual(['event', 'index', 'leafHash', 'receivedAt', 'submitter']);
        got.push(r.index);
      }
      if (!b.cursor) break;
      params.set('cursor', b.cursor);
    }
    const want = bruteForce(all, { from, actionPrefix: 'access' }).map((r) => r.rec.index);
    expect(want.length).toBeGreaterThan(5);
    expect(got).toEqual(want);
  });

  it('returns records with their leaf hashes and events for an actor (any-log reader too)', async () => {
    const res = await request(`/v1/logs/${LOG}/events?actorId=alice&limit=1000`, 'anyReader');
    expect(res.status).toBe(200);
    const b = body(res);
    const want = bruteForce(all, { actorId: 'alice' });
    expect(b.cursor).toBeUndefined();
    expect(b.records.map((r: { leafHash: string }) => r.leafHash)).toEqual(want.map((r) => r.leafHash));
    expect(b.records[0]?.event).toEqual(want[0]?.rec.event);
  });

  it.each([
    ['from=yesterday', 'from'],
    ['from=2026-02-30T00:00:00Z', 'from'],
    ['to=2026-03-01', 'to'],
    ['to=2026-03-01T00:00:00', 'to'],
    ['from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 'to'],
    ['limit=0', 'limit'],
    ['limit=100000', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=-1', 'limit'],
    ['limit=01', 'limit'],
    ['limit=', 'limit'],
    ['actor=alice', 'actor'],
    ['foo=bar', 'foo'],
    ['actionPrefix=Access', 'actionPrefix'],
    ['actionPrefix=access.', 'actionPrefix'],
    ['actorId=', 'actorId'],
    ['submitter=a%00b', 'submitter'],
    ['cursor=garbage', 'cursor'],
    ['cursor=eyJ2IjoxfQ.AAAAAAAAAAAAAAAAAAAAAA', 'cursor'],
  ])('400 for %s, naming the parameter', async (qs, name) => {
    const res = await request(`/v1/logs/${LOG}/events?${qs}`);
    expect(res.status).toBe(400);
    const e = body(res).error;
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toContain(name);
  });

  it('any cursor the server did not issue is a 400 on /query/cursor, never a 5xx (crafted and fuzzed)', async () => {
    const first = body(await request(`/v1/logs/${LOG}/events?limit=3`));
    const cursor: string = first.cursor;
    expect(cursor).toMatch(/^[\w-]+\.[\w-]+$/);
    const [payload = '', mac = ''] = cursor.split('.');
    const state = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
    // What a client can compute without the server's key: a bare checksum, or an HMAC under a guess.
    const checksum = (p: string) => b64(createHash('sha256').update(p).digest().subarray(0, 16));
    const guessed = (p: string) =>
      b64(createHmac('sha256', randomBytes(32)).update(p).digest().subarray(0, 16));
    const forge = (patch: Record<string, unknown>) => {
      const p = b64(JSON.stringify({ ...state, ...patch }));
      return [`${p}.${checksum(p)}`, `${p}.${guessed(p)}`, `${p}.${mac}`];
    };
    const refused = async (c: string) => {
      const res = await request(`/v1/logs/${LOG}/events?limit=3&cursor=${encodeURIComponent(c)}`);
      const e = res.status === 400 ? body(res).error : undefined;
      expect([c.slice(0, 120), res.status, e?.code, e?.path]).toEqual([
        c.slice(0, 120),
        400,
        'BAD_REQUEST',
        '/query/cursor',
      ]);
    };
    const crafted = [
      ...forge({ i: 0 }), // replay from the start
      ...forge({ s: 1e9, i: 5e8 }), // past the end of the archive
      ...forge({ tc: 9e15, ph: 2 }), // outside the Date range
      ...forge({ exp: Number.MAX_SAFE_INTEGER }), // never expires
      ...forge({ ph: 3, i: 1e12, q: 1, z: 0 }), // a batch that does not hold the index
      ...forge({ lo: '9999-12-31T23:59:59.999Z#9999999999999999', ph: 2 }),
      `${payload}.${mac.slice(0, -1)}`,
      `${payload.slice(0, -4)}.${mac}`,
      `${payload}.${mac}.${mac}`,
      `${payload}.${mac}A`,
      `${payload}.`,
      `.${mac}`,
      `${payload}${mac}`,
      `${payload}=.${mac}`,
      `${payload}.${mac}=`,
      `${payload.toUpperCase()}.${mac}`,
      `${cursor} `,
      cursor.repeat(3),
      'x'.repeat(5000),
    ];
    for (const c of crafted) await refused(c);

    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ %é';
    const mutation = fc.oneof(
      // Replace one character (a changed last MAC character may carry only padding bits).
      fc
        .tuple(fc.nat(cursor.length - 1), fc.constantFrom(...alphabet))
        .map(([at, ch]) => `${cursor.slice(0, at)}${ch}${cursor.slice(at + 1)}`),
      // Truncate, or cut a piece out.
      fc.nat(cursor.length - 1).map((n) => cursor.slice(0, n)),
      fc
        .tuple(fc.nat(cursor.length - 1), fc.integer({ min: 1, max: 8 }))
        .map(([at, n]) => cursor.slice(0, at) + cursor.slice(at + n)),
      // Insert characters.
      fc
        .tuple(fc.nat(cursor.length), fc.string({ minLength: 1, maxLength: 4 }))
        .map(([at, x]) => cursor.slice(0, at) + x + cursor.slice(at)),
      // Anything at all.
      fc.string({ minLength: 1, maxLength: 300 }),
      fc.stringMatching(/^[A-Za-z0-9_-]{1,200}\.[A-Za-z0-9_-]{1,40}$/),
    );
    await fc.assert(
      fc.asyncProperty(
        mutation.filter((c) => c !== cursor && c !== ''),
        refused,
      ),
      { numRuns: 400, seed: 20260311 },
    );
    // The issued cursor itself still works.
    expect((await request(`/v1/logs/${LOG}/events?limit=3&cursor=${cursor}`)).status).toBe(200);
  });

  it('401 without a key, 403 without events:read, 404 for an unknown log, 400 for a bad logId', async () => {
    expect((await request(`/v1/logs/${LOG}/events`, null)).status).toBe(401);
    expect((await request(`/v1/logs/${LOG}/events`, 'prover')).status).toBe(403);
    expect((await request('/v1/logs/nope/events', 'anyReader')).status).toBe(404);
    expect((await request('/v1/logs/Bad_Log/events', 'anyReader')).status).toBe(400);
  });
});
