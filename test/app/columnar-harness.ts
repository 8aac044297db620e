/**
 * Shared set-up for the columnar index tests: the query tests' log (real
 * ingest, real sealer, records spread over months; ./query-harness.ts) with
 * a columnar index next to it, indexed after every seal, and helpers to read
 * an index store's rows back.
 */
import { MemoryColumnarIndex } from '../../src/adapters/memory/columnar-index.ts';
import { ColumnarIndexer, type ColumnarIndexerOptions } from '../../src/app/columnar-indexer.ts';
import { readRows } from '../../src/app/duckdb-engine.ts';
import { DAY_MS } from '../../src/app/query-projector.ts';
import {
  currentFiles,
  type IndexFile,
  type IndexRow,
  logPrefix,
  parseFileKey,
} from '../../src/core/columnar.ts';
import type { ColumnarIndexStore } from '../../src/ports/columnar-index.ts';
import { grow, type MemoryQEnv, queryEnv, type Ref } from './query-harness.ts';

export interface ColumnarEnv extends MemoryQEnv {
  columnar: MemoryColumnarIndex;
  indexer: (index?: ColumnarIndexStore, extra?: Partial<ColumnarIndexerOptions>) => ColumnarIndexer;
}

export function columnarEnv(): ColumnarEnv {
  const env = queryEnv();
  const columnar = new MemoryColumnarIndex();
  return {
    ...env,
    columnar,
    indexer: (index = columnar, extra = {}) =>
      new ColumnarIndexer({
        archive: env.archive,
        sealState: env.sealState,
        index,
        clock: env.clock,
        ...extra,
      }),
  };
}

/**
 * Grows `logId` over ~`rounds` × 4 days, sealing and indexing (with
 * `indexer`) after every seal run, so the index is built the incremental way.
 */
export async function growSealAndIndex(
  env: ColumnarEnv,
  logId: string,
  opts: { rounds: number; seed: number; indexer?: ColumnarIndexer },
): Promise<void> {
  const sealer = env.sealer();
  const indexer = opts.indexer ?? env.indexer();
  for (let r = 0; r < opts.rounds; r++) {
    await grow(env, logId, { batches: 6, maxPer: 10, maxGapMs: DAY_MS, seed: opts.seed * 1000 + r });
    for (let i = 0; i < 50; i++) {
      const s = await sealer.sealLog(logId);
      await indexer.project(logId);
      if (!s.more) break;
    }
  }
}

/** The sealed records (index < sealed size). */
export async function sealedRecords(env: ColumnarEnv, logId: string, all: readonly Ref[]): Promise<Ref[]> {
  const size = (await env.sealState.read(logId))?.size ?? 0;
  return all.filter((r) => r.rec.index < size);
}

/** Every index file of a log, by key. */
export async function indexFiles(store: ColumnarIndexStore, logId: string): Promise<IndexFile[]> {
  return (await store.list(logPrefix(logId))).flatMap((o) => parseFileKey(o.key, o.size) ?? []);
}

/** What a reader sees: the rows of the current files of every day, one per leaf, in leaf order. */
export async function visibleRows(store: ColumnarIndexStore, logId: string): Promise<IndexRow[]> {
  const byDay = new Map<string, IndexFile[]>();
  for (const f of await indexFiles(store, logId)) byDay.set(f.day, [...(byDay.get(f.day) ?? []), f]);
  const bytes: Uint8Array[] = [];
  for (const files of byDay.values())
    for (const f of currentFiles(files).files) bytes.push((await store.get(f.key)) as Uint8Array);
  return readRows(bytes);
}
