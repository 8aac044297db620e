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
  env = await queryEnv('query-http');
  await env.logAdmin.createLog(LOG);
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

  it('401 without a key, 403 without events:read, 404 for an unknown log, 400 for a bad logId', async () => {
    expect((await request(`/v1/logs/${LOG}/events`, null)).status).toBe(401);
    expect((await request(`/v1/logs/${LOG}/events`, 'prover')).status).toBe(403);
    expect((await request('/v1/logs/nope/events', 'anyReader')).status).toBe(404);
    expect((await request('/v1/logs/Bad_Log/events', 'anyReader')).status).toBe(400);
  });
});
