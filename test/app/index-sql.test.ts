/**
 * The Athena side of the columnar index (src/core/index-sql.ts, saved in the
 * workgroup by cdk/constructs/query-index.ts) run on DuckDB, as the issue
 * asks ("the same SQL must run on both: test the view definitions on
 * DuckDB"): files written by the index writer, a table `events_parquet` with
 * exactly the Glue table's columns, the `events` view created by the exact
 * text Athena gets, then every saved query, each compared with a brute-force
 * filter over the rows. One day holds a compaction's covering file next to
 * a file it covers (a crash between the write and the delete), so the view's
 * one-row-per-leaf rule is exercised.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdb, writeParquet } from '../../src/app/duckdb-engine.ts';
import { canonicalJson } from '../../src/core/canonical.ts';
import { fileKey, type IndexRow } from '../../src/core/columnar.ts';
import {
  EVENTS_VIEW_SQL,
  GLUE_COLUMNS,
  GLUE_PARTITION_KEYS,
  GLUE_TABLE,
  SAMPLE_QUERIES,
} from '../../src/core/index-sql.ts';

const LOG = 'prod';
const ACTIONS = ['access.grant', 'access.revoke', 'accessory.buy', 'tool.call', 'model.invoke', 'access'];
const ACTORS = ['alice', 'bob', 'carol'];

/** ~3 events a day from Feb 20 to Jul 10 2026, deterministic; some on the boundaries. */
function rows(): IndexRow[] {
  const out: IndexRow[] = [];
  const start = Date.UTC(2026, 1, 20);
  const end = Date.UTC(2026, 6, 10);
  const times: number[] = [];
  for (let t = start, i = 0; t < end; t += 7_919_000 + (i % 13) * 60_000, i++) times.push(t);
  // Exact bounds of the sample queries, and one millisecond either side.
  for (const b of [Date.UTC(2026, 2, 1), Date.UTC(2026, 6, 1), Date.UTC(2026, 2, 31)])
    times.push(b - 1, b, b + 1);
  times.sort((a, b) => a - b);
  times.forEach((t, i) => {
    const receivedAt = new Date(t).toISOString();
    const actorId = ACTORS[i % ACTORS.length] as string;
    const action = ACTIONS[(i * 7) % ACTIONS.length] as string;
    const target = i % 5 === 0 ? null : { type: 'model', id: `m-${i % 17}` };
    const event = {
      occurredAt: receivedAt,
      actor: { type: 'human', id: actorId },
      action,
      ...(target ? { target } : {}),
      outcome: i % 11 === 0 ? 'denied' : 'success',
    };
    out.push({
      log: LOG,
      day: receivedAt.slice(0, 10),
      leafIndex: i,
      receivedAt,
      occurredAt: receivedAt,
      actorType: 'human',
      actorId,
      action,
      targetType: target?.type ?? null,
      targetId: target?.id ?? null,
      outcome: event.outcome,
      submitter: 'svc',
      event: canonicalJson(event),
      leafHash: Buffer.from(`leaf-${i}`).toString('base64'),
    });
  });
  return out;
}

const ROWS = rows();
let dir: string;
let conn: DuckDBConnection;
let close: () => void;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'anchorlog-index-sql-'));
  const byDay = new Map<string, IndexRow[]>();
  for (const r of ROWS) byDay.set(r.day, [...(byDay.get(r.day) ?? []), r]);
  const paths: string[] = [];
  const put = async (day: string, part: IndexRow[]) => {
    const first = (part[0] as IndexRow).leafIndex;
    const end = (part.at(-1) as IndexRow).leafIndex + 1;
    const path = join(dir, fileKey(LOG, day, first, end).replaceAll('/', '_'));
    await writeFile(path, await writeParquet(part));
    paths.push(path);
  };
  let crashed = false;
  for (const [day, part] of byDay) {
    await put(day, part);
    // A day with a covering file and the narrower file it covers, both still listed.
    if (!crashed && part.length >= 2) {
      await put(day, part.slice(0, 1));
      crashed = true;
    }
  }
  const { DuckDBInstance } = await duckdb();
  const instance = await DuckDBInstance.create(':memory:', {
    threads: '1',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  conn = await instance.connect();
  close = () => {
    conn.closeSync();
    instance.closeSync();
  };
  // The Glue table: data columns by name (as Athena reads Parquet), then the partition keys.
  const cols = [...GLUE_COLUMNS.map((c) => c.name), ...GLUE_PARTITION_KEYS.map((k) => k.name)];
  await conn.run(
    `CREATE VIEW ${GLUE_TABLE} AS SELECT ${cols.join(', ')} FROM read_parquet([${paths.map((p) => `'${p}'`).join(', ')}])`,
  );
  await conn.run(EVENTS_VIEW_SQL);
}, 120_000);

afterAll(async () => {
  close?.();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** getRowObjectsJS gives a TIMESTAMP as a Date. */
const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : `not a timestamp: ${String(v)}`);

async function run(sql: string): Promise<Record<string, unknown>[]> {
  const r = await conn.runAndReadAll(sql);
  return r.getRowObjectsJS() as Record<string, unknown>[];
}

describe('the Athena SQL on DuckDB (src/core/index-sql.ts)', () => {
  it('the Glue columns are exactly the files’ columns (names case-insensitively, types)', async () => {
    const d = await run(`DESCRIBE SELECT * FROM read_parquet('${dir}/*.parquet')`);
    const hive: Record<string, string> = {
      BIGINT: 'bigint',
      TIMESTAMP: 'timestamp',
      VARCHAR: 'string',
      JSON: 'string',
    };
    const fileCols = d.map((c) => ({
      name: String(c.column_name).toLowerCase(),
      type: hive[String(c.column_type)] ?? String(c.column_type),
    }));
    expect(fileCols).toEqual(
      expect.arrayContaining([...GLUE_COLUMNS, ...GLUE_PARTITION_KEYS].map((c) => ({ ...c }))),
    );
    expect(fileCols.length).toBe(GLUE_COLUMNS.length + GLUE_PARTITION_KEYS.length);
  });

  it('the view has one row per leaf although one day has a covering and a covered file', async () => {
    const [raw] = await run(`SELECT count(*) AS n FROM ${GLUE_TABLE}`);
    const [view] = await run('SELECT count(*) AS n, count(DISTINCT leafIndex) AS d FROM events');
    expect(Number(raw?.n)).toBe(ROWS.length + 1);
    expect(Number(view?.n)).toBe(ROWS.length);
    expect(Number(view?.d)).toBe(ROWS.length);
  });

  it('privileged access changes March 1 – June 30: exactly the brute-force answer, in leaf order', async () => {
    const got = await run(SAMPLE_QUERIES.privilegedAccessChanges.sql);
    const from = '2026-03-01T00:00:00.000Z';
    const to = '2026-07-01T00:00:00.000Z';
    const want = ROWS.filter(
      (r) => r.action.startsWith('access.') && r.receivedAt >= from && r.receivedAt < to,
    );
    expect(want.length).toBeGreaterThan(20);
    expect(got.map((r) => Number(r.leafIndex))).toEqual(want.map((r) => r.leafIndex));
    expect(got.map((r) => iso(r.receivedAt))).toEqual(want.map((r) => r.receivedAt));
    expect(got.map((r) => r.targetId)).toEqual(want.map((r) => r.targetId));
  });

  it("an actor's events over 30 days: exactly the brute-force answer", async () => {
    const got = await run(SAMPLE_QUERIES.actorOver30Days.sql);
    const want = ROWS.filter(
      (r) =>
        r.actorId === 'alice' &&
        r.receivedAt >= '2026-03-01T00:00:00.000Z' &&
        r.receivedAt < '2026-03-31T00:00:00.000Z',
    );
    expect(want.length).toBeGreaterThan(5);
    expect(got.map((r) => Number(r.leafIndex))).toEqual(want.map((r) => r.leafIndex));
    expect(got.map((r) => r.outcome)).toEqual(want.map((r) => r.outcome));
  });

  it('events per action and day in March: the brute-force counts', async () => {
    const got = await run(SAMPLE_QUERIES.actionsPerDay.sql);
    const counts = new Map<string, number>();
    for (const r of ROWS)
      if (r.day >= '2026-03-01' && r.day <= '2026-03-31')
        counts.set(`${r.day} ${r.action}`, (counts.get(`${r.day} ${r.action}`) ?? 0) + 1);
    expect(got.map((r) => [`${r.day} ${r.action}`, Number(r.events)])).toEqual(
      [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  });

  it('every saved query names its log and bounds its days (injected and projected partitions)', () => {
    for (const q of Object.values(SAMPLE_QUERIES)) {
      expect(q.sql).toMatch(/\blog = '[a-z0-9-]+'/);
      expect(q.sql).toMatch(/\bday BETWEEN '\d{4}-\d{2}-\d{2}' AND '\d{4}-\d{2}-\d{2}'/);
    }
  });
});
