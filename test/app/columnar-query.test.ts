import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryColumnarIndex } from '../../src/adapters/memory/columnar-index.ts';
import { type ColumnarQueryParams, ColumnarQueryService } from '../../src/app/columnar-query.ts';
import { AppError } from '../../src/app/errors.ts';
import type { QueryRecord } from '../../src/app/query.ts';
import { type ColumnarEnv, columnarEnv, growSealAndIndex, sealedRecords } from './columnar-harness.ts';
import {
  ACTIONS,
  ACTORS,
  allRecords,
  bruteForce,
  CURSOR_KEY,
  expectSame,
  type Ref,
  SUBMITTERS,
} from './query-harness.ts';

const LOG = 'cqlog';
let env: ColumnarEnv;
let sealed: Ref[];

const service = (
  index = env.columnar,
  extra: Partial<ConstructorParameters<typeof ColumnarQueryService>[0]> = {},
) =>
  new ColumnarQueryService({
    index,
    indexer: env.indexer(index),
    logs: env.logs,
    clock: env.clock,
    cursorKey: CURSOR_KEY,
    ...extra,
  });

beforeAll(async () => {
  env = columnarEnv();
  await env.logRegistry.createLog(LOG);
  await growSealAndIndex(env, LOG, { rounds: 10, seed: 3 });
  // Half the closed days compacted, half not: the reader must see both layouts.
  sealed = await sealedRecords(env, LOG, await allRecords(env, LOG));
}, 180_000);

async function drain(svc: ColumnarQueryService, p: ColumnarQueryParams): Promise<QueryRecord[]> {
  const out: QueryRecord[] = [];
  let cursor: string | undefined;
  for (let pages = 0; ; pages++) {
    if (pages > 1000) throw new Error('too many pages');
    const page = await svc.query(LOG, { ...p, ...(cursor ? { cursor } : {}) });
    expect(page.records.length).toBeLessThanOrEqual(p.limit ?? 100);
    out.push(...page.records);
    cursor = page.cursor;
    if (!cursor) return out;
  }
}

const reference = (p: ColumnarQueryParams) =>
  bruteForce(sealed, p).filter(
    (r) =>
      (p.targetType === undefined || r.rec.event.target?.type === p.targetType) &&
      (p.targetId === undefined || r.rec.event.target?.id === p.targetId) &&
      (p.outcome === undefined || r.rec.event.outcome === p.outcome),
  );

const iso = (ms: number) => new Date(ms).toISOString();

describe('ColumnarQueryService filters', () => {
  it('without filters returns every sealed record in index order, page by page', async () => {
    expect(sealed.length).toBeGreaterThan(250);
    expectSame(await drain(service(), { limit: 37 }), sealed);
  });

  it('equals a brute-force filter over the sealed records (property)', { timeout: 300_000 }, async () => {
    const first = sealed[0]?.at as number;
    const last = sealed.at(-1)?.at as number;
    const svc = service(env.columnar, { maxBytesPerPage: 4096 });
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            from: fc.integer({ min: first - 86_400_000, max: last + 1 }).map(iso),
            to: fc.integer({ min: first, max: last + 86_400_000 }).map(iso),
            actorId: fc.constantFrom(...ACTORS, 'nobody'),
            actionPrefix: fc.constantFrom(...ACTIONS, 'access', 'agent', 'acc'),
            submitter: fc.constantFrom(...SUBMITTERS),
            outcome: fc.constantFrom('success', 'failure'),
            targetType: fc.constantFrom('doc', 'other'),
            limit: fc.integer({ min: 1, max: 60 }),
          },
          { requiredKeys: ['limit'] },
        ),
        async (p) => {
          if (p.from && p.to && p.from > p.to) return;
          expectSame(await drain(svc, p), reference(p));
        },
      ),
      { numRuns: 40, seed: 17 },
    );
  });

  it('a target id finds its records', async () => {
    const p = { targetId: (sealed[123] as Ref).rec.event.target?.id as string };
    const want = reference(p);
    expect(want.length).toBeGreaterThan(0);
    expectSame(await drain(service(), p), want);
  });

  it('sees only records indexed when the query started', async () => {
    const store = new MemoryColumnarIndex();
    await env.indexer(store, { maxRecordsPerRun: 100 }).project(LOG);
    expectSame(await drain(service(store), {}), sealed.slice(0, 100));
  });

  it.each([
    ['unknown outcome', { outcome: 'maybe' }, '/query/outcome'],
    ['control character in target', { targetId: 'a\u0000b' }, '/query/targetId'],
    ['bad date', { from: '2026-13-01T00:00:00Z' }, '/query/from'],
    ['bad action prefix', { actionPrefix: "x' OR 1=1 --" }, '/query/actionPrefix'],
    ['garbled cursor', { cursor: 'abc.def' }, '/query/cursor'],
    ['limit 0', { limit: 0 }, '/query/limit'],
  ] as Array<[string, ColumnarQueryParams, string]>)('refuses %s with 400', async (_, p, path) => {
    await expect(service().query(LOG, p)).rejects.toMatchObject({ code: 'BAD_REQUEST', path });
  });

  it('the DynamoDB path refuses the columnar-only filters with 400', async () => {
    for (const name of ['targetType', 'targetId', 'outcome'] as const)
      await expect(env.service().query(LOG, { [name]: 'success' })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        path: `/query/${name}`,
      });
  });

  it('a quote in a filter value is a value, not SQL', async () => {
    expect((await service().query(LOG, { actorId: "alice' OR '1'='1" })).records).toEqual([]);
  });

  it('a cursor from other filters is refused', async () => {
    const page = await service().query(LOG, { limit: 5 });
    await expect(
      service().query(LOG, { actorId: 'bob', cursor: page.cursor as string }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      path: '/query/cursor',
    });
  });
});

describe('ColumnarQueryService SQL', () => {
  it('runs a SELECT over the view events; rows carry leafIndex', async () => {
    const r = await service().sql(LOG, {
      sql: `SELECT leafIndex, actorId, action, json_extract_string(event, '$.target.id') AS target
            FROM events WHERE actorId = 'bob' AND action LIKE 'access%' ORDER BY leafIndex`,
    });
    const want = sealed.filter(
      (x) => x.rec.event.actor.id === 'bob' && x.rec.event.action.startsWith('access'),
    );
    expect(r.rows.map((x) => Number(x.leafIndex))).toEqual(want.map((x) => x.rec.index));
    expect(r.rows[0]?.target).toBe(want[0]?.rec.event.target?.id);
    expect(r.columns.map((c) => c.name)).toEqual(['leafIndex', 'actorId', 'action', 'target']);
    expect(r.indexedSize).toBe(sealed.length);
    expect(r.bytesRead).toBeGreaterThan(0);
  });

  it('WITH … SELECT and aggregates work; the row limit truncates', async () => {
    const r = await service().sql(LOG, {
      sql: 'WITH a AS (SELECT * FROM events) SELECT min(leafIndex) AS leafIndex, actorId, count(*) AS n FROM a GROUP BY actorId ORDER BY actorId',
    });
    expect(r.rows.reduce((n, x) => n + Number(x.n), 0)).toBe(sealed.length);
    const t = await service().sql(LOG, {
      sql: 'SELECT leafIndex FROM events ORDER BY leafIndex',
      maxRows: 10,
    });
    expect(t.rows.length).toBe(10);
    expect(t.truncated).toBe(true);
  });

  it('from/to choose the days read', async () => {
    const mid = sealed[Math.floor(sealed.length / 2)] as Ref;
    const day = mid.rec.receivedAt.slice(0, 10);
    const r = await service().sql(LOG, {
      sql: 'SELECT leafIndex, day FROM events',
      from: `${day}T00:00:00Z`,
      to: `${day}T23:59:59.999Z`,
    });
    expect(new Set(r.rows.map((x) => x.day))).toEqual(new Set([day]));
  });

  const hostile: Array<[string, string]> = [
    ['SELECT leafIndex FROM events; SELECT 1 AS leafIndex', 'SQL_MULTIPLE_STATEMENTS'],
    ['SELECT 1 AS leafIndex; DROP VIEW events', 'SQL_MULTIPLE_STATEMENTS'],
    ['DROP VIEW events', 'SQL_NOT_READ_ONLY'],
    ['CREATE TABLE x AS SELECT * FROM events', 'SQL_NOT_READ_ONLY'],
    ['INSERT INTO empty_events SELECT * FROM events', 'SQL_NOT_READ_ONLY'],
    ["COPY events TO '/tmp/anchorlog-stolen.csv'", 'SQL_NOT_READ_ONLY'],
    ["COPY (SELECT * FROM events) TO '/tmp/anchorlog-stolen.parquet' (FORMAT parquet)", 'SQL_NOT_READ_ONLY'],
    ["ATTACH '/tmp/anchorlog-x.db' AS x", 'SQL_NOT_READ_ONLY'],
    ['INSTALL httpfs', 'SQL_NOT_READ_ONLY'],
    ['LOAD httpfs', 'SQL_NOT_READ_ONLY'],
    ['SET enable_external_access = true', 'SQL_NOT_READ_ONLY'],
    ["PRAGMA memory_limit='10GB'", 'SQL_NOT_READ_ONLY'],
    ['CALL pragma_version()', 'SQL_NOT_READ_ONLY'],
    ["EXPORT DATABASE '/tmp/anchorlog-export'", 'SQL_NOT_READ_ONLY'],
    ["SELECT 1 AS leafIndex, * FROM read_csv('/etc/passwd')", 'SQL_FORBIDDEN'],
    ["SELECT 1 AS leafIndex, * FROM read_text('/etc/hostname')", 'SQL_FORBIDDEN'],
    ["SELECT 1 AS leafIndex, * FROM read_parquet('/tmp/*.parquet')", 'SQL_FORBIDDEN'],
    ["SELECT 1 AS leafIndex, * FROM 'https://example.com/x.parquet'", 'SQL_FORBIDDEN'],
    ["SELECT 1 AS leafIndex, * FROM glob('/*')", 'SQL_FORBIDDEN'],
    ["SELECT 1 AS leafIndex FROM query('CREATE TABLE z(a INT)')", 'SQL_INVALID'],
    ['SELECT actorId FROM events', 'SQL_NO_LEAF_INDEX'],
    ['SELECT leafIndex FROM nowhere', 'SQL_INVALID'],
    ['SELEC leafIndex FROM events', 'SQL_INVALID'],
    ['SELECT leafIndex FROM events WHERE actorId = $1', 'SQL_INVALID'],
    ['   ', 'SQL_EMPTY'],
    [`SELECT leafIndex FROM events -- ${'x'.repeat(17_000)}`, 'SQL_TOO_LONG'],
  ];
  it.each(hostile)('refuses %s', async (sql, reason) => {
    const err = await service()
      .sql(LOG, { sql })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'BAD_REQUEST', details: { reason } });
  });

  it('a query past its time limit is interrupted (400 SQL_TIMEOUT)', async () => {
    await expect(
      service(env.columnar, { sqlTimeoutMs: 200 }).sql(LOG, {
        sql: 'SELECT count(*) AS leafIndex FROM range(1000000000000) a',
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', details: { reason: 'SQL_TIMEOUT' } });
  });

  it('a query over its memory limit is refused (400 SQL_MEMORY)', async () => {
    await expect(
      service(env.columnar, { memoryLimit: '64MB' }).sql(LOG, {
        sql: 'SELECT list(range) AS leafIndex FROM range(100000000)',
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', details: { reason: 'SQL_MEMORY' } });
  });

  it('a log whose index is too large for one request must be narrowed (400 SQL_SCOPE_TOO_LARGE)', async () => {
    await expect(
      service(env.columnar, { maxSqlBytes: 1000 }).sql(LOG, { sql: 'SELECT leafIndex FROM events' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', details: { reason: 'SQL_SCOPE_TOO_LARGE' } });
  });

  it('an unknown log is 404', async () => {
    await expect(service().sql('nolog', { sql: 'SELECT leafIndex FROM events' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
