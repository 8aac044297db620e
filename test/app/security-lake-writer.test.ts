/**
 * The Security Lake writer (docs/ocsf.md §Security Lake) over a real sealed
 * log (real ingest and sealer; ./columnar-harness.ts): every sealed record
 * lands exactly once, as a valid OCSF 1.1.0 row of its class, in the custom
 * source layout; a crash between files and progress rewrites the same keys;
 * and the S3 path works against moto.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { createIndexBucket, S3ColumnarIndex } from '../../src/adapters/aws/s3-columnar-index.ts';
import { MemoryColumnarIndex } from '../../src/adapters/memory/columnar-index.ts';
import { duckdb } from '../../src/app/duckdb-engine.ts';
import {
  SecurityLakeWriter,
  type SecurityLakeWriterOptions,
  securityLakeSources,
} from '../../src/app/security-lake-writer.ts';
import { STARTER_CATALOG_DOCUMENTS } from '../../src/compose/starter-catalog.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { Catalog } from '../../src/core/catalog.ts';
import { OCSF_CLASSES } from '../../src/core/ocsf/mapping.ts';
import { securityLakeStateKey } from '../../src/core/ocsf/security-lake.ts';
import { ocsfProblems } from '../../src/core/ocsf/validate.ts';
import type { ColumnarIndexStore } from '../../src/ports/columnar-index.ts';
import { awsClientConfig } from '../support/aws.ts';
import { type ColumnarEnv, columnarEnv, growSealAndIndex, sealedRecords } from './columnar-harness.ts';
import { allRecords, type Ref } from './query-harness.ts';

const LOG = 'lake';
const TARGET = { region: 'eu-west-1', accountId: '123456789012' };
const catalog = Catalog.fromDocuments(STARTER_CATALOG_DOCUMENTS);
let env: ColumnarEnv;
let sealed: Ref[];

beforeAll(async () => {
  env = columnarEnv();
  await env.logRegistry.createLog(LOG);
  await growSealAndIndex(env, LOG, { rounds: 4, seed: 11 });
  sealed = await sealedRecords(env, LOG, await allRecords(env, LOG));
}, 180_000);

function writer(
  lake: Pick<ColumnarIndexStore, 'put'>,
  state: ColumnarIndexStore,
  extra: Partial<SecurityLakeWriterOptions> = {},
) {
  return new SecurityLakeWriter({
    archive: env.archive,
    sealState: env.sealState,
    lake,
    state,
    target: TARGET,
    sourcePrefix: 'anchorlog',
    catalog,
    clock: env.clock,
    minRecords: 1,
    ...extra,
  });
}

/** Every row of every Parquet object in `store` (with its key), read back by DuckDB. */
async function lakeRows(
  store: ColumnarIndexStore,
): Promise<Array<{ key: string; row: Record<string, unknown> }>> {
  const objects = (await store.list('ext/')).filter((o) => o.key.endsWith('.parquet'));
  const out: Array<{ key: string; row: Record<string, unknown> }> = [];
  const dir = await mkdtemp(join(tmpdir(), 'lake-test-'));
  const { DuckDBInstance } = await duckdb();
  const db = await DuckDBInstance.create(':memory:', {
    autoload_known_extensions: 'false',
    autoinstall_known_extensions: 'false',
  });
  const conn = await db.connect();
  try {
    for (const [i, o] of objects.entries()) {
      const p = join(dir, `${i}.parquet`);
      await writeFile(p, (await store.get(o.key)) as Uint8Array);
      const r = await conn.runAndReadAll(`SELECT to_json(t)::VARCHAR AS j FROM read_parquet('${p}') t`);
      for (const x of r.getRowObjectsJS()) out.push({ key: o.key, row: JSON.parse(x.j as string) });
    }
  } finally {
    conn.closeSync();
    db.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

const leafIndexes = (rows: Array<{ row: Record<string, unknown> }>) =>
  rows
    .map((r) => Number((r.row.unmapped as Record<string, string>)['anchorlog.leaf_index']))
    .sort((a, b) => a - b);

describe('SecurityLakeWriter', () => {
  it('writes every sealed record once, one OCSF class per source, in the custom-source layout', {
    timeout: 120_000,
  }, async () => {
    expect(sealed.length).toBeGreaterThan(50);
    const lake = new MemoryColumnarIndex();
    const state = new MemoryColumnarIndex();
    const w = writer(lake, state, { maxRecordsPerRun: 40 });
    const res = await w.runMany([LOG], Number.MAX_SAFE_INTEGER);
    expect(res).toMatchObject([{ ok: true, nextIndex: sealed.length, more: false }]);
    const rows = await lakeRows(lake);
    expect(leafIndexes(rows)).toEqual(sealed.map((r) => r.rec.index));
    const sources = new Map(securityLakeSources('anchorlog').map((s) => [s.source, s.classUid]));
    const times = new Map<string, number[]>();
    for (const { key, row } of rows) {
      const m =
        /^ext\/([\w\-:.]+)\/region=eu-west-1\/accountId=123456789012\/eventDay=(\d{8})\/lake-(\d{16})-(\d{16})\.parquet$/.exec(
          key,
        );
      expect(m, key).not.toBeNull();
      const [, source, day] = m as RegExpExecArray;
      // One class per source; the eventDay is the record's receivedAt day.
      expect(row.class_uid).toBe(sources.get(source as string));
      expect(
        new Date(Number((row.metadata as { logged_time: number }).logged_time))
          .toISOString()
          .slice(0, 10)
          .replaceAll('-', ''),
      ).toBe(day);
      // Rows read back from Parquet are still valid OCSF 1.1.0 (nulls of absent struct fields dropped).
      expect(ocsfProblems(dropNulls(row)), key).toEqual([]);
      times.set(key, [...(times.get(key) ?? []), Number(row.time)]);
    }
    for (const [key, t] of times) expect(t, key).toEqual([...t].sort((a, b) => a - b));
    expect(OCSF_CLASSES[6003]).toBeDefined();
  });

  it('waits while too few records are waiting and the oldest is recent', async () => {
    const lake = new MemoryColumnarIndex();
    const w = writer(lake, new MemoryColumnarIndex(), {
      minRecords: 1_000_000,
      maxWaitMs: Number.MAX_SAFE_INTEGER,
    });
    expect(await w.run(LOG)).toMatchObject({ waiting: true, records: 0, files: 0, nextIndex: 0 });
    expect(await lake.list('')).toEqual([]);
    // Old enough: written.
    const w2 = writer(lake, new MemoryColumnarIndex(), { minRecords: 1_000_000, maxWaitMs: 0 });
    expect(await w2.run(LOG)).toMatchObject({ waiting: false, nextIndex: sealed.length });
  });

  it('a crash between files and progress rewrites the same keys: no duplicate in the lake', {
    timeout: 120_000,
  }, async () => {
    const lake = new MemoryColumnarIndex();
    const state = new MemoryColumnarIndex();
    let puts = 0;
    const flaky = {
      put: async (k: string, b: Uint8Array) => {
        if (++puts === 2) throw new Error('network gone');
        await lake.put(k, b);
      },
    };
    await expect(writer(flaky, state).run(LOG)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect((await writer(lake, state).state(LOG))?.pendingEnd).toBe(sealed.length);
    const keysAfterCrash = (await lake.list('')).map((o) => o.key);
    await writer(lake, state).run(LOG);
    const keys = (await lake.list('')).map((o) => o.key);
    for (const k of keysAfterCrash) expect(keys).toContain(k);
    expect(leafIndexes(await lakeRows(lake))).toEqual(sealed.map((r) => r.rec.index));
    expect(await writer(lake, state).state(LOG)).toEqual({ v: 1, nextIndex: sealed.length });
  });

  it('an unreadable progress object is INTEGRITY, never a fresh start (that would duplicate)', async () => {
    const state = new MemoryColumnarIndex();
    await state.put(securityLakeStateKey(LOG), utf8('{"v":1,"nextIndex":-4}'));
    await expect(writer(new MemoryColumnarIndex(), state).run(LOG)).rejects.toMatchObject({
      code: 'INTEGRITY',
    });
  });

  it('refuses a source prefix that cannot name a custom source', () => {
    expect(() =>
      writer(new MemoryColumnarIndex(), new MemoryColumnarIndex(), { sourcePrefix: 'bad prefix!' }),
    ).toThrow(RangeError);
  });

  it('writes to S3 (moto): the lake bucket gets the Parquet objects, the index bucket the progress', {
    timeout: 120_000,
  }, async () => {
    const s3 = new S3Client(awsClientConfig());
    await createIndexBucket(s3, 'lake-bucket');
    await createIndexBucket(s3, 'index-bucket');
    const lake = new S3ColumnarIndex({ client: s3, bucket: 'lake-bucket' });
    const state = new S3ColumnarIndex({ client: s3, bucket: 'index-bucket' });
    expect(await writer(lake, state).run(LOG)).toMatchObject({ nextIndex: sealed.length });
    expect(leafIndexes(await lakeRows(lake))).toEqual(sealed.map((r) => r.rec.index));
    expect(await lake.list('securitylake/')).toEqual([]);
    expect((await state.list('securitylake/')).map((o) => o.key)).toEqual([securityLakeStateKey(LOG)]);
  });
});

function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([, x]) => x !== null)
      .map(([k, x]) => [k, dropNulls(x)]),
  );
}
