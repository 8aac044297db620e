import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import type { QueryParams } from '../../src/app/query.ts';
import { DAY_MS } from '../../src/app/query-projector.ts';
import {
  ACTIONS,
  ACTORS,
  allRecords,
  bruteForce,
  CURSOR_KEY,
  deleteQueryItems,
  drain,
  expectSame,
  grow,
  HOT_WINDOW_MS,
  type MemoryQEnv,
  queryEnv,
  type Ref,
  SUBMITTERS,
} from './query-harness.ts';

const LOG = 'qlog';
let env: MemoryQEnv;
let all: Ref[];

async function sealAll(): Promise<void> {
  const s = env.sealer();
  for (let i = 0; i < 50; i++) if (!(await s.sealLog(LOG)).more) return;
}

beforeAll(async () => {
  env = queryEnv();
  await env.logRegistry.createLog(LOG);
  // ~4 months of records: sealed (archive), unsealed, projected, and a tail not yet projected.
  await grow(env, LOG, { batches: 40, maxPer: 12, maxGapMs: 4 * DAY_MS, seed: 1 });
  await sealAll();
  await grow(env, LOG, { batches: 15, maxPer: 12, maxGapMs: 5 * DAY_MS, seed: 2 });
  const first = await env.projector().project(LOG);
  expect(first.more).toBe(false);
  await grow(env, LOG, { batches: 10, maxPer: 8, maxGapMs: 3 * DAY_MS, seed: 3 });
  env.clock.t += 60_000; // the last projection has settled for GSI readers
  all = await allRecords(env, LOG);
}, 180_000);

const iso = (ms: number) => new Date(ms).toISOString();

describe('QueryService over a log spread across months', () => {
  it('has records in every phase: archived, cold unsealed, hot projected, unprojected tail', async () => {
    const seal = await env.sealState.read(LOG);
    const cursor = await env.index.readCursor(LOG);
    const cutoff = env.clock.now() - HOT_WINDOW_MS + DAY_MS;
    expect(seal?.size).toBeGreaterThan(256);
    expect(cursor?.nextIndex).toBeGreaterThan(seal?.size ?? 0);
    expect(cursor?.nextIndex).toBeLessThan(all.length);
    expect(all.some((r) => r.at < cutoff && r.rec.index >= (seal?.size ?? 0))).toBe(true);
    expect(all.some((r) => r.at >= cutoff && r.rec.index < (cursor?.nextIndex ?? 0))).toBe(true);
    expect(all.length).toBeGreaterThan(400);
  });

  it('without filters returns the whole log in index order, page by page', async () => {
    const { records, pages } = await drain(env.service(), LOG, { limit: 50 });
    expectSame(records, all);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(all.length / 50));
  });

  const mid = () => all[Math.floor(all.length / 2)]?.at as number;
  const cases: Array<[string, () => QueryParams]> = [
    [
      'time range inside the hot window',
      () => ({ from: iso(env.clock.t - 20 * DAY_MS), to: iso(env.clock.t - 2 * DAY_MS) }),
    ],
    ['time range in the cold past', () => ({ from: iso(all[3]?.at as number), to: iso(mid()) })],
    ['time range spanning cold and hot', () => ({ from: iso(mid()), to: iso(env.clock.t - 3_600_000) })],
    ['from only (inclusive, to the tail)', () => ({ from: (all[all.length - 30] as Ref).rec.receivedAt })],
    ['to only (exclusive)', () => ({ to: (all[100] as Ref).rec.receivedAt })],
    ['actor', () => ({ actorId: 'bob' })],
    ['actor with # in it', () => ({ actorId: 'svc#1' })],
    ['non-ASCII actor', () => ({ actorId: 'ünïcode' })],
    ['submitter', () => ({ submitter: 'svc-b' })],
    ['one-segment action prefix', () => ({ actionPrefix: 'access' })],
    ['two-segment action prefix', () => ({ actionPrefix: 'agent.task' })],
    ['three-segment action (deeper than the index)', () => ({ actionPrefix: 'access.grant.temporary' })],
    ['prefix matches whole segments only', () => ({ actionPrefix: 'tool.cal' })],
    ['actor + action + time', () => ({ actorId: 'alice', actionPrefix: 'access', from: iso(mid()) })],
    ['submitter + action', () => ({ submitter: 'svc-a', actionPrefix: 'tool.call' })],
    [
      'actor + submitter + to',
      () => ({ actorId: 'agent-7', submitter: 'svc-c', to: iso(env.clock.t - 5 * DAY_MS) }),
    ],
    ['no match', () => ({ actorId: 'nobody' })],
    ['empty range', () => ({ from: iso(mid()), to: iso(mid()) })],
  ];
  for (const [name, params] of cases) {
    it(`filter: ${name}`, async () => {
      const p = params();
      for (const limit of [1000, 7]) {
        const { records } = await drain(env.service(), LOG, { ...p, limit });
        expectSame(records, bruteForce(all, p));
      }
      if (name !== 'no match' && name !== 'empty range' && name !== 'prefix matches whole segments only')
        expect(bruteForce(all, p).length).toBeGreaterThan(0);
    });
  }

  it('sub-millisecond and offset bounds are exact', async () => {
    const r = all[200] as Ref;
    const at = r.at;
    const p1 = await drain(env.service(), LOG, { from: `${iso(at).slice(0, 23)}0001Z`, to: iso(at + 1) });
    expect(p1.records.every((x) => x.receivedAt > r.rec.receivedAt)).toBe(true);
    expect(p1.records).toHaveLength(0);
    const plus2 = new Date(at + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    const p2 = await drain(env.service(), LOG, { from: plus2, to: iso(at + 1) });
    expectSame(p2.records, bruteForce(all, { from: iso(at), to: iso(at + 1) }));
  });

  it('property: random filters and page sizes, also with tiny per-page budgets, match brute force', async () => {
    const times = all.map((r) => r.at);
    const t = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(...times).map(iso),
      fc.integer({ min: (times[0] as number) - DAY_MS, max: env.clock.t + DAY_MS }).map(iso),
    );
    const params = fc.record(
      {
        from: t,
        to: t,
        actorId: fc.option(fc.constantFrom(...ACTORS, 'nobody'), { nil: undefined }),
        submitter: fc.option(fc.constantFrom(...SUBMITTERS), { nil: undefined }),
        actionPrefix: fc.option(fc.constantFrom(...ACTIONS, 'agent', 'tool', 'nope'), { nil: undefined }),
        limit: fc.integer({ min: 1, max: 60 }),
      },
      { requiredKeys: [] },
    );
    const roomy = env.service();
    const tight = env.service({ maxRequestsPerPage: 3, maxScannedPerPage: 25 });
    await fc.assert(
      fc.asyncProperty(params, fc.boolean(), async (raw, small) => {
        const p = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as QueryParams;
        if (p.from !== undefined && p.to !== undefined && p.from > p.to) [p.from, p.to] = [p.to, p.from];
        const { records } = await drain(small ? tight : roomy, LOG, p);
        expectSame(records, bruteForce(all, p));
      }),
      { numRuns: 40, seed: 7 },
    );
  }, 240_000);

  it('GSI readers ignore a projection younger than the settle time, and stay complete', async () => {
    await env.ingest.append({
      logId: LOG,
      submitter: 'svc-a',
      body: new TextEncoder().encode(
        JSON.stringify({
          events: [
            {
              occurredAt: iso(env.clock.t),
              actor: { type: 'human', id: 'fresh' },
              action: 'access.grant',
              outcome: 'success',
            },
          ],
        }),
      ),
    });
    const r = await env.projector().project(LOG);
    expect(r.records).toBeGreaterThan(0);
    const cur = await env.index.readCursor(LOG);
    expect(cur?.settled.nextIndex).toBeLessThan(cur?.nextIndex ?? 0);
    all = await allRecords(env, LOG);
    for (const p of [
      { actorId: 'fresh' },
      { actionPrefix: 'access.grant' },
      { from: iso(env.clock.t - DAY_MS) },
    ]) {
      expectSame((await drain(env.service(), LOG, { ...p, limit: 5 })).records, bruteForce(all, p));
    }
    // A second projection run re-reads nothing and writes nothing (idempotent cursor).
    expect((await env.projector().project(LOG)).records).toBe(0);
  });

  it('a shorter hot window (items treated as expired) reads the same records from the archive', async () => {
    await sealAll();
    const short = env.service({ hotWindowMs: 2 * DAY_MS });
    for (const p of [
      {},
      { actorId: 'alice' },
      { actionPrefix: 'tool' },
      { from: iso(mid()), submitter: 'svc-c' },
    ]) {
      expectSame((await drain(short, LOG, { ...p, limit: 33 })).records, bruteForce(all, p));
    }
  });

  it('rejects garbage, tampered, foreign and expired cursors with BAD_REQUEST', async () => {
    const svc = env.service();
    const page = await svc.query(LOG, { actorId: 'bob', limit: 2 });
    const cursor = page.cursor as string;
    expect(cursor).toBeDefined();
    const fails = async (p: QueryParams) => {
      const err = await svc.query(LOG, p).catch((e: unknown) => e);
      expect(err, JSON.stringify(p).slice(0, 200)).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('BAD_REQUEST');
      expect((err as AppError).path).toBe('/query/cursor');
    };
    const [payload, mac] = cursor.split('.') as [string, string];
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), i: 0 }),
    ).toString('base64url');
    for (const bad of [
      'x',
      '',
      '..',
      'a.b',
      `${payload}.${mac}x`,
      `${forged}.${mac}`,
      `${payload}x.${mac}`,
      'é.é',
      cursor.repeat(40),
    ])
      await fails({ actorId: 'bob', cursor: bad });
    await fails({ actorId: 'alice', cursor }); // other filters
    await fails({ actorId: 'bob', from: iso(1000), cursor });
    // The same query spelled differently keeps its cursor (bindings use normalised values).
    expect((await svc.query(LOG, { actorId: 'bob', from: iso(0), cursor, limit: 2 })).records).toHaveLength(
      2,
    );
    const saved = env.clock.t;
    env.clock.t += 13 * 3_600_000;
    await fails({ actorId: 'bob', cursor }); // expired
    env.clock.t = saved;
    // A cursor signed with another key (another deployment, a rotated key) is refused.
    const keyed = env.service({ cursorKey: new Uint8Array(32).fill(7) });
    const kp = await keyed.query(LOG, { limit: 1 });
    await expect(svc.query(LOG, { limit: 1, cursor: kp.cursor as string })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect((await keyed.query(LOG, { limit: 1, cursor: kp.cursor as string })).records).toHaveLength(1);
  });

  it('refuses to start without a cursor key of at least 32 bytes', () => {
    for (const cursorKey of [undefined, new Uint8Array(0), new Uint8Array(31), 'a'.repeat(64)])
      expect(() => env.service({ cursorKey: cursorKey as unknown as Uint8Array })).toThrow(RangeError);
    expect(() => env.service({ cursorKey: new Uint8Array(32) })).not.toThrow();
  });

  it('a correctly signed cursor whose state is out of range is still a BAD_REQUEST (a leaked key buys no 5xx)', async () => {
    const svc = env.service();
    const page = await svc.query(LOG, { limit: 2 });
    const state = JSON.parse(
      Buffer.from((page.cursor as string).split('.')[0] as string, 'base64url').toString(),
    );
    const sign = (patch: Record<string, unknown>) => {
      const payload = Buffer.from(JSON.stringify({ ...state, ...patch })).toString('base64url');
      const mac = createHmac('sha256', CURSOR_KEY)
        .update(payload)
        .digest()
        .subarray(0, 16)
        .toString('base64url');
      return `${payload}.${mac}`;
    };
    expect((await svc.query(LOG, { limit: 2, cursor: sign({}) })).records).toHaveLength(2);
    for (const patch of [
      { exp: env.clock.now() + 13 * 3_600_000 },
      { exp: Number.MAX_SAFE_INTEGER },
      { tc: 9e15 },
      { tc: -2 },
      { i: -1 },
      { ph: 4 },
      { extra: 1 },
    ]) {
      const err = await svc.query(LOG, { limit: 2, cursor: sign(patch) }).catch((e: unknown) => e);
      expect([patch, (err as AppError).code, (err as AppError).path]).toEqual([
        patch,
        'BAD_REQUEST',
        '/query/cursor',
      ]);
    }
  });

  it('rejects bad parameters and unknown logs', async () => {
    const svc = env.service();
    const code = async (p: QueryParams, logId = LOG) =>
      (await svc.query(logId, p).catch((e: unknown) => e)) as AppError;
    for (const [p, path] of [
      [{ limit: 0 }, '/query/limit'],
      [{ limit: 1001 }, '/query/limit'],
      [{ limit: 1.5 }, '/query/limit'],
      [{ from: '2026-02-30T00:00:00Z' }, '/query/from'],
      [{ to: 'yesterday' }, '/query/to'],
      [{ from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' }, '/query/to'],
      [{ actionPrefix: 'Access' }, '/query/actionPrefix'],
      [{ actionPrefix: 'access.' }, '/query/actionPrefix'],
      [{ actorId: 'a\u0000b' }, '/query/actorId'],
      [{ submitter: 'x'.repeat(257) }, '/query/submitter'],
    ] as Array<[QueryParams, string]>) {
      const e = await code(p);
      expect(e.code).toBe('BAD_REQUEST');
      expect(e.path).toBe(path);
    }
    expect((await code({}, 'no-such-log')).code).toBe('NOT_FOUND');
  });

  it('beyond the hot window with every query item gone (TTL), the archive answers the same', async () => {
    await sealAll();
    const deleted = deleteQueryItems(env);
    expect(deleted).toBeGreaterThan(0);
    const saved = env.clock.t;
    env.clock.t += HOT_WINDOW_MS + 2 * DAY_MS;
    try {
      const svc = env.service({ maxRequestsPerPage: 4 });
      for (const p of [
        {},
        { actorId: 'bob' },
        { actionPrefix: 'agent.task' },
        { from: iso(mid()), to: iso(saved) },
      ]) {
        expectSame((await drain(svc, LOG, { ...p, limit: 40 })).records, bruteForce(all, p));
      }
    } finally {
      env.clock.t = saved;
    }
  });
});
