import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryColumnarIndex } from '../../src/adapters/memory/columnar-index.ts';
import { indexRow } from '../../src/core/columnar.ts';
import { encodeRecord } from '../../src/core/record.ts';
import {
  type ColumnarEnv,
  columnarEnv,
  growSealAndIndex,
  indexFiles,
  sealedRecords,
  visibleRows,
} from './columnar-harness.ts';
import { allRecords, type Ref } from './query-harness.ts';

const LOG = 'clog';
let env: ColumnarEnv;
let sealed: Ref[];

beforeAll(async () => {
  env = columnarEnv();
  await env.logRegistry.createLog(LOG);
  await growSealAndIndex(env, LOG, { rounds: 12, seed: 7 });
  sealed = await sealedRecords(env, LOG, await allRecords(env, LOG));
}, 180_000);

const expected = (refs: readonly Ref[]) => refs.map((r) => indexRow(r.rec, encodeRecord(r.rec)));

describe('ColumnarIndexer', () => {
  it('indexes every sealed record, one row each, equal to the record', async () => {
    expect(sealed.length).toBeGreaterThan(300);
    const state = await env.indexer().state(LOG);
    expect(state?.nextIndex).toBe(sealed.length);
    expect(await visibleRows(env.columnar, LOG)).toEqual(expected(sealed));
  });

  it('writes small files per day, partitioned log=/day= and named by leaf range', async () => {
    const files = await indexFiles(env.columnar, LOG);
    const days = new Set(sealed.map((r) => r.rec.receivedAt.slice(0, 10)));
    expect(new Set(files.map((f) => f.day))).toEqual(days);
    expect(files.length).toBeGreaterThan(days.size);
    for (const f of files)
      expect(f.key).toMatch(/^index\/log=clog\/day=\d{4}-\d{2}-\d{2}\/\d{16}-\d{16}\.parquet$/);
  });

  it('rewriting is idempotent: projecting again from a lost state writes the same files', async () => {
    const store = new MemoryColumnarIndex();
    const a = env.indexer(store, { maxRecordsPerRun: 100 });
    await a.project(LOG);
    const before = await store.list('index/');
    await store.delete(`index/log=${LOG}/_state.json`);
    await a.project(LOG);
    expect(await store.list('index/')).toEqual(before);
  });

  it('compaction loses nothing, leaves closed days one file each, and is crash-safe', async () => {
    const store = new MemoryColumnarIndex();
    for (const o of await env.columnar.list('index/'))
      await store.put(o.key, (await env.columnar.get(o.key)) as Uint8Array);
    const before = await visibleRows(store, LOG);
    // A crash after the covering file is written, before the first delete.
    store.faults.fail({ op: 'delete', code: 'UNAVAILABLE' });
    await expect(env.indexer(store).compact(LOG)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await visibleRows(store, LOG)).toEqual(before);
    const out = await env.indexer(store).compact(LOG);
    expect(out.deleted).toBeGreaterThan(0);
    expect(await visibleRows(store, LOG)).toEqual(before);
    const files = await indexFiles(store, LOG);
    const lastDay = sealed.at(-1)?.rec.receivedAt.slice(0, 10) as string;
    const days = new Map<string, number>();
    for (const f of files) days.set(f.day, (days.get(f.day) ?? 0) + 1);
    for (const [day, n] of days) if (day < lastDay) expect(n, day).toBe(1);
    await env.indexer(store).compact(LOG, { all: true });
    expect((await indexFiles(store, LOG)).length).toBe(days.size);
    expect(await visibleRows(store, LOG)).toEqual(before);
  });

  it('rebuild from the archive equals the incremental index, file for file and byte for byte', async () => {
    const incremental = new MemoryColumnarIndex();
    for (const o of await env.columnar.list('index/'))
      await incremental.put(o.key, (await env.columnar.get(o.key)) as Uint8Array);
    await env.indexer(incremental).compact(LOG, { all: true });

    const rebuilt = new MemoryColumnarIndex();
    // Garbage the rebuild must not trust: a bogus file and a stale state.
    await rebuilt.put(
      `index/log=${LOG}/day=2020-01-01/${'0'.repeat(16)}-${'0'.repeat(15)}9.parquet`,
      new Uint8Array([1]),
    );
    await rebuilt.put(`index/log=${LOG}/_state.json`, new TextEncoder().encode('{"v":1,"nextIndex":5}'));
    const r = await env.indexer(rebuilt, { maxRecordsPerRun: 97 }).rebuild(LOG, Number.POSITIVE_INFINITY);
    expect(r.done).toBe(true);
    expect(r.nextIndex).toBe(sealed.length);
    const a = await incremental.list('index/');
    const b = await rebuilt.list('index/');
    expect(b.map((o) => o.key)).toEqual(a.map((o) => o.key));
    for (const o of a) expect(await rebuilt.get(o.key), o.key).toEqual(await incremental.get(o.key));
    expect(await visibleRows(rebuilt, LOG)).toEqual(expected(sealed));
  });

  it('a rebuild stopped by its deadline is finished by the scheduled projector', async () => {
    const store = new MemoryColumnarIndex();
    const r = await env.indexer(store, { maxRecordsPerRun: 50 }).rebuild(LOG, 0);
    expect(r.done).toBe(false);
    const many = await env.indexer(store).projectMany([LOG], Number.POSITIVE_INFINITY);
    expect(many[0]).toMatchObject({ ok: true, nextIndex: sealed.length });
    expect(await visibleRows(store, LOG)).toEqual(expected(sealed));
  });

  it('a store failure is the port code, per log in projectMany', async () => {
    const store = new MemoryColumnarIndex();
    store.faults.fail({ op: 'put', code: 'UNAVAILABLE' });
    const out = await env.indexer(store).projectMany([LOG], Number.POSITIVE_INFINITY);
    expect(out[0]).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
  });
});
