/**
 * `npm run bench:query [-- N [RUNS]]`: query latency on the columnar index
 * (docs/query.md §7). Builds a log of N events (default 20,000; the issue's
 * figure is 1,000,000) received evenly from 2026-02-01 to 2026-07-01 — 200
 * actors, 12 actions, a fifth of them access changes — as one compacted
 * Parquet file per day in S3 (moto_server, as in the local stack), then runs
 * RUNS times each (default 5):
 *   1. an actor's events over 30 days (GET …/events filters, all pages);
 *   2. the sample request "privileged access changes between March 1 and
 *      June 30" as SQL (POST …/sql) and as filters (actionPrefix=access).
 * Prints p50/p90 and the Parquet bytes read per query (metered at the store);
 * writes bench/results/query.json. How the data is made: records are built
 * with the pure core — hash-chained LogRecords (`prev` = the previous leaf
 * hash), encoded with `encodeRecord` (which validates them) and turned into
 * rows with `indexRow`, exactly what the project job derives from a sealed
 * entry bundle (so every row's leafHash is the real RFC 6962 leaf hash) —
 * then written per day with the index writer (`writeParquet`), one
 * compacted file per day, as after the day's compaction. They do not go
 * through ingest, the sealer and the archive (bench:seal and bench:cost
 * measure those; 10^6 events through the emulator would take hours); the
 * query path is the deployed one (ColumnarQueryService over S3ColumnarIndex
 * on moto_server, as the local stack wires it, minus HTTP).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { createIndexBucket, S3ColumnarIndex } from '../src/adapters/aws/s3-columnar-index.ts';
import { ColumnarIndexer } from '../src/app/columnar-indexer.ts';
import { ColumnarQueryService } from '../src/app/columnar-query.ts';
import { writeParquet } from '../src/app/duckdb-engine.ts';
import { toBase64, utf8 } from '../src/core/bytes.ts';
import { fileKey, type IndexRow, indexRow, stateKey } from '../src/core/columnar.ts';
import { encodeRecord, type LogRecord, leafHash, ZERO_HASH_B64 } from '../src/core/record.ts';
import { startMoto } from '../src/local/moto.ts';
import { systemClock } from '../src/ports/clock.ts';
import type { ColumnarIndexStore } from '../src/ports/columnar-index.ts';
import { load, machine } from './machine.ts';

const N = Number(process.argv[2] ?? 20_000);
const RUNS = Number(process.argv[3] ?? 5);
const LOG = 'bench';
const START = Date.UTC(2026, 1, 1);
const END = Date.UTC(2026, 6, 1);
const ACTIONS = [
  'access.grant',
  'access.revoke',
  'tool.call',
  'tool.list',
  'agent.task.submit',
  'agent.task.cancel',
  'config.update',
  'model.invoke',
  'model.invoke',
  'data.read',
  'data.read',
  'data.export',
];

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Counts the bytes the query path GETs. */
class Metered implements ColumnarIndexStore {
  bytes = 0;
  gets = 0;
  constructor(private readonly inner: ColumnarIndexStore) {}
  put(key: string, bytes: Uint8Array) {
    return this.inner.put(key, bytes);
  }
  async get(key: string) {
    const b = await this.inner.get(key);
    this.gets++;
    this.bytes += b?.length ?? 0;
    return b;
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
}

async function build(store: ColumnarIndexStore): Promise<{ files: number; bytes: number }> {
  const rnd = prng(1);
  const step = (END - START) / N;
  let day: IndexRow[] = [];
  let files = 0;
  let bytes = 0;
  let prev = ZERO_HASH_B64;
  const flush = async () => {
    if (day.length === 0) return;
    const first = day[0] as IndexRow;
    const b = await writeParquet(day);
    await store.put(fileKey(LOG, first.day, first.leafIndex, first.leafIndex + day.length), b);
    files++;
    bytes += b.length;
    day = [];
  };
  for (let i = 0; i < N; i++) {
    const receivedAt = new Date(START + Math.floor(i * step)).toISOString();
    if (day.length > 0 && (day[0] as IndexRow).day !== receivedAt.slice(0, 10)) await flush();
    const actorId = `user-${Math.floor(rnd() * 200)}`;
    const action = ACTIONS[Math.floor(rnd() * ACTIONS.length)] as string;
    const event = {
      occurredAt: receivedAt,
      actor: { type: 'human', id: actorId },
      action,
      target: { type: 'resource', id: `res-${Math.floor(rnd() * 5000)}` },
      outcome: rnd() < 0.95 ? 'success' : 'failure',
      metadata: { requestId: `req-${i}`, ip: '10.0.0.1' },
    } as LogRecord['event'];
    const rec: LogRecord = { v: 1, logId: LOG, index: i, receivedAt, submitter: 'svc-bench', prev, event };
    const bytes = encodeRecord(rec);
    prev = toBase64(leafHash(bytes));
    day.push(indexRow(rec, bytes));
  }
  await flush();
  await store.put(stateKey(LOG), utf8(JSON.stringify({ v: 1, nextIndex: N, lastReceivedAt: undefined })));
  return { files, bytes };
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] as number;

const moto = await startMoto();
try {
  const s3 = new S3Client({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await createIndexBucket(s3, 'anchorlog-index');
  const store = new Metered(new S3ColumnarIndex({ client: s3, bucket: 'anchorlog-index' }));
  const t0 = performance.now();
  const built = await build(store);
  const buildMs = performance.now() - t0;
  const indexer = new ColumnarIndexer({
    archive: { get: async () => undefined },
    sealState: { read: async () => undefined },
    index: store,
    clock: systemClock,
  });
  const svc = new ColumnarQueryService({
    index: store,
    indexer,
    logs: { logExists: async () => true },
    clock: systemClock,
    cursorKey: new Uint8Array(randomBytes(32)),
  });
  const drain = async (p: Parameters<ColumnarQueryService['query']>[1]) => {
    let n = 0;
    let cursor: string | undefined;
    do {
      const page = await svc.query(LOG, { ...p, limit: 1000, ...(cursor ? { cursor } : {}) });
      n += page.records.length;
      cursor = page.cursor;
    } while (cursor);
    return n;
  };
  const cases: Array<[string, () => Promise<number>]> = [
    [
      "an actor's events over 30 days (filters)",
      () => drain({ actorId: 'user-17', from: '2026-03-01T00:00:00Z', to: '2026-03-31T00:00:00Z' }),
    ],
    [
      'privileged access changes Mar 1 – Jun 30 (SQL)',
      async () =>
        (
          await svc.sql(LOG, {
            sql: "SELECT leafIndex, receivedAt, actorId, action, targetId FROM events WHERE action LIKE 'access.%' AND receivedAt >= '2026-03-01' AND receivedAt < '2026-07-01' ORDER BY leafIndex",
            from: '2026-03-01T00:00:00Z',
            to: '2026-07-01T00:00:00Z',
            maxRows: 10_000,
          })
        ).rows.length,
    ],
    [
      'privileged access changes Mar 1 – Jun 30 (filters)',
      () => drain({ actionPrefix: 'access', from: '2026-03-01T00:00:00Z', to: '2026-07-01T00:00:00Z' }),
    ],
  ];
  const results = [];
  for (const [name, run] of cases) {
    const ms: number[] = [];
    let rows = 0;
    let bytes = 0;
    let gets = 0;
    for (let r = 0; r < RUNS; r++) {
      store.bytes = 0;
      store.gets = 0;
      const t = performance.now();
      rows = await run();
      ms.push(performance.now() - t);
      bytes = store.bytes;
      gets = store.gets;
    }
    results.push({
      query: name,
      rows,
      p50Ms: Math.round(pct(ms, 0.5)),
      p90Ms: Math.round(pct(ms, 0.9)),
      bytesRead: bytes,
      objectsRead: gets,
    });
  }
  const out = {
    date: new Date().toISOString(),
    events: N,
    runs: RUNS,
    index: { files: built.files, bytes: built.bytes, buildMs: Math.round(buildMs) },
    machine: machine(),
    loadAverage: load(),
    results,
  };
  process.stdout.write(
    `bench:query — ${N} events, ${built.files} day files, ${(built.bytes / 2 ** 20).toFixed(1)} MiB of Parquet (built in ${(buildMs / 1000).toFixed(1)} s); ${RUNS} runs; load ${load().join(' ')}\n\n` +
      `| query | rows | p50 ms | p90 ms | bytes read | objects |\n|---|---:|---:|---:|---:|---:|\n` +
      results
        .map(
          (r) => `| ${r.query} | ${r.rows} | ${r.p50Ms} | ${r.p90Ms} | ${r.bytesRead} | ${r.objectsRead} |`,
        )
        .join('\n') +
      '\n',
  );
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/query.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
} finally {
  await moto.stop();
}
