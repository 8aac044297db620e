/**
 * Evidence-bundle benchmark (npm run bench:bundle [sizes…], default
 * 100000 1000000): export and verify of N-record bundles, against raw
 * SHA-256 of the same bytes measured in the same run.
 *
 * IN-PROCESS, NOT THE EMULATOR. Ingesting 10^6 records into moto is far too
 * slow on this machine (docs/benchmarks.md §Ingest (bench:ingest)), so for each N this builds a log of
 * N + 2,000 records in memory with the core (canonical records, hash chain,
 * every Merkle level packed into one buffer per level, a checkpoint signed by
 * a LocalNoteSigner), time-stamps the checkpoint with a real OpenSSL TSA
 * (src/local/tsa), and drives the real `writeBundle` with exactly the inputs
 * ExportService gives it (records as an async iterable, neighbours, proofs
 * from a node oracle). The range is the middle N records, so both neighbours
 * are in the bundle. Each bundle is streamed to a temp file, then verified
 * with `verifyBundle` streaming from that file with pinned trust.
 *
 * Also: a filtered export (action prefix `access.`, ~1 record in 3, each with
 * its own inclusion proof) of the same range, and — unless --no-emulator — a
 * 10,000-record export through the real path (IngestService → DynamoDB on
 * moto, SealService → S3 tiles, AnchorService with the OpenSSL TSA,
 * ExportService → S3 multipart upload).
 *
 * Memory: process.memoryUsage() sampled every 20 ms during each phase; the
 * fixture (records and tree, "the database") is allocated before and is
 * reported separately, so the deltas are what export/verify themselves use.
 * Writes bench/results/bundle.json and the `## Bundle (bench:bundle)` section
 * of docs/benchmarks.md.
 */

import { spawnSync } from 'node:child_process';
import { hash as nodeHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalNoteSigner } from '../src/adapters/memory/local-signer.ts';
import { allocateShared, startChunkPool } from '../src/cli/verify-workers.ts';
import {
  type BundleAnchorInput,
  type BundleReport,
  type VerifyOptions,
  verifyBundle,
  writeBundle,
} from '../src/core/bundle/index.ts';
import { toBase64, utf8 } from '../src/core/bytes.ts';
import { sha256, sha256Noble } from '../src/core/hash.ts';
import { CompactRange } from '../src/core/merkle/index.ts';
import {
  consistencyProofFromSyncOracle,
  inclusionProofFromSyncOracle,
} from '../src/core/merkle/proof-nodes.ts';
import { formatCheckpoint } from '../src/core/note/checkpoint.ts';
import { signNote } from '../src/core/note/sign.ts';
import { vkeyFromSpki } from '../src/core/note/vkey.ts';
import { encodeRecord, formatReceivedAt, leafHash, MAX_RECORD_BYTES, ZERO_HASH } from '../src/core/record.ts';
import { buildTimestampRequest, decodePemCertificates } from '../src/core/rfc3161/index.ts';
import { ensureTsaPki } from '../src/local/tsa/pki.ts';
import { startLocalTsa } from '../src/local/tsa/server.ts';
import { load, machine } from './machine.ts';

const args = process.argv.slice(2);
const NO_EMULATOR = args.includes('--no-emulator');
const SIZES = args.filter((a) => /^\d+$/.test(a)).map(Number);
/** Records of the multi-GB bundle verified through the CLI (`--large=N`, 0 to skip): ~420 B each, 5 M ≈ 2.1 GB. */
const LARGE = Number(args.find((a) => a.startsWith('--large='))?.slice('--large='.length) ?? 5_000_000);
if (SIZES.length === 0) SIZES.push(100_000, 1_000_000);
const MARGIN = 1000;
const LOG = 'bench-bundle';
const ORIGIN = `bench.anchorlog/${LOG}`;
const T0 = Date.UTC(2025, 0, 1);
const ACTIONS = [
  'tool.call',
  'access.grant',
  'agent.task.submit',
  'config.update',
  'access.revoke',
  'llm.completion',
];

const MiB = 1024 * 1024;
const mb = (n: number) => Math.round((n / MiB) * 10) / 10;
const r1 = (n: number) => Math.round(n * 10) / 10;
const r3 = (n: number) => Math.round(n * 1000) / 1000;

class Sampler {
  #timer: NodeJS.Timeout | undefined;
  peakRss = 0;
  peakHeap = 0;
  peakExternal = 0;
  start(): this {
    const take = () => {
      const m = process.memoryUsage();
      this.peakRss = Math.max(this.peakRss, m.rss);
      this.peakHeap = Math.max(this.peakHeap, m.heapUsed);
      this.peakExternal = Math.max(this.peakExternal, m.external + m.arrayBuffers);
    };
    take();
    this.#timer = setInterval(take, 20);
    return this;
  }
  stop(): this {
    clearInterval(this.#timer);
    const m = process.memoryUsage();
    this.peakRss = Math.max(this.peakRss, m.rss);
    this.peakHeap = Math.max(this.peakHeap, m.heapUsed);
    return this;
  }
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The in-memory "log": packed canonical records + every Merkle level packed per level. */
interface Fixture {
  size: number;
  data: Buffer;
  offsets: Uint32Array;
  levels: Uint8Array[];
  receivedAt: (i: number) => string;
  bytes: number;
  buildSeconds: number;
}

let data = Buffer.alloc(0);
let offsets = new Uint32Array(1);
function record(i: number): Buffer {
  return data.subarray(offsets[i] as number, offsets[i + 1] as number);
}

function buildFixture(size: number): Fixture {
  const t = performance.now();
  // One record per 20 s from 2025-01-01: 10^6 records span ~8 months, all before the TSA's genTime.
  const receivedAt = (i: number) => formatReceivedAt(T0 + i * 20_000);
  const parts: Uint8Array[] = [];
  let total = 0;
  const leaves = new Uint8Array(size * 32);
  let prev = ZERO_HASH;
  for (let i = 0; i < size; i++) {
    const bytes = encodeRecord({
      v: 1,
      logId: LOG,
      index: i,
      receivedAt: receivedAt(i),
      submitter: `svc-${i % 7}`,
      prev: toBase64(prev),
      event: {
        occurredAt: receivedAt(i),
        actor: { type: i % 3 === 0 ? 'human' : 'agent', id: `actor-${i % 97}` },
        action: ACTIONS[i % ACTIONS.length] as string,
        target: { type: 'resource', id: `res-${(i * 7919) % 100_003}`, name: `resource ${i % 1000}` },
        outcome: i % 11 === 0 ? 'denied' : 'success',
        context: { requestId: `req-${i.toString(16).padStart(8, '0')}`, sessionId: `s-${i % 513}` },
      },
    } as Parameters<typeof encodeRecord>[0]);
    parts.push(bytes);
    total += bytes.length;
    prev = leafHash(bytes);
    leaves.set(prev, i * 32);
  }
  data = Buffer.allocUnsafe(total);
  offsets = new Uint32Array(size + 1);
  let o = 0;
  parts.forEach((p, i) => {
    offsets[i] = o;
    data.set(p, o);
    o += p.length;
  });
  offsets[size] = o;
  parts.length = 0;
  // Perfect-subtree levels, one packed buffer per level.
  const levels: Uint8Array[] = [leaves];
  const buf = new Uint8Array(65);
  buf[0] = 1;
  for (let cur = leaves; cur.length >= 64; ) {
    const n = Math.floor(cur.length / 64);
    const next = new Uint8Array(n * 32);
    for (let i = 0; i < n; i++) {
      buf.set(cur.subarray(i * 64, i * 64 + 64), 1);
      next.set(sha256(buf), i * 32);
    }
    levels.push(next);
    cur = next;
  }
  return {
    size,
    data,
    offsets,
    levels,
    receivedAt,
    bytes: total,
    buildSeconds: (performance.now() - t) / 1000,
  };
}

function oracle(f: Fixture) {
  return (level: number, index: number) => {
    const l = f.levels[level];
    if (!l || (index + 1) * 32 > l.length) throw new Error(`no node ${level}/${index}`);
    return l.subarray(index * 32, index * 32 + 32);
  };
}

function rootOf(f: Fixture, n: number): Uint8Array {
  // Root of the tree of size n from the perfect levels (RFC 6962 MTH).
  const o = oracle(f);
  let root: Uint8Array | undefined;
  let start = 0;
  const nodes: Uint8Array[] = [];
  for (let level = 40; level >= 0; level--) {
    if (n - start >= 2 ** level) {
      nodes.push(o(level, start / 2 ** level));
      start += 2 ** level;
    }
  }
  for (let i = nodes.length - 1; i >= 0; i--) {
    const h = nodes[i] as Uint8Array;
    if (root === undefined) root = h;
    else {
      const b = new Uint8Array(65);
      b[0] = 1;
      b.set(h, 1);
      b.set(root, 33);
      root = sha256(b);
    }
  }
  return root as Uint8Array;
}

async function timestamp(url: string, data: Uint8Array): Promise<Uint8Array> {
  const nonce = crypto.getRandomValues(new Uint8Array(8));
  nonce[0] = 0x42;
  const req = buildTimestampRequest({ imprint: { data }, nonce });
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/timestamp-query' },
    body: req.slice().buffer as ArrayBuffer,
  });
  if (!res.ok) throw new Error(`TSA: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

interface Phase {
  seconds: number;
  peakRssDeltaMiB: number;
  peakHeapUsedMiB: number;
  recordsPerSecond: number;
  mibPerSecond: number;
  /** Records per CPU-second of the whole process (worker threads included): what the work costs, whatever the load. */
  recordsPerCpuSecond?: number;
}

async function exportAndVerify(
  f: Fixture,
  ctx: {
    signer: LocalNoteSigner;
    anchors: BundleAnchorInput[];
    note: string;
    trust: Parameters<typeof verifyBundle>[1];
    dir: string;
  },
  n: number,
  filter: { actionPrefix: string } | null,
) {
  const first = MARGIN;
  const last = first + n - 1;
  const o = oracle(f);
  const file = join(ctx.dir, `bundle-${n}-${filter ? 'filtered' : 'range'}.tar`);
  let written = 0;
  let recordBytes = 0;
  async function* records(): AsyncGenerator<Uint8Array> {
    for (let i = first; i <= last; i++) {
      const r = record(i);
      if (filter !== null) {
        // What ExportService does: decode and test the action.
        const text = r.toString();
        const m = /"action":"([^"]*)"/.exec(text);
        if (!m || !(m[1] as string).startsWith(filter.actionPrefix)) continue;
      }
      written++;
      recordBytes += r.length;
      yield r;
    }
  }
  gc();
  const base = process.memoryUsage().rss;
  const s = new Sampler().start();
  const t0 = performance.now();
  const out = createWriteStream(file);
  let bytes = 0;
  for await (const c of writeBundle({
    logId: LOG,
    origin: ORIGIN,
    createdAt: formatReceivedAt(Date.now()),
    range: {
      fromTime: f.receivedAt(first),
      toTime: f.receivedAt(last + 1),
      firstIndex: first,
      lastIndex: last,
    },
    filter,
    logKeySpki: ctx.signer.publicKeySpki,
    checkpoints: [ctx.note],
    anchors: ctx.anchors,
    records: records(),
    before: record(first - 1),
    after: record(last + 1),
    getInclusionProof: async (i, size) => inclusionProofFromSyncOracle(i, size, o),
    getConsistencyProof: async (a, b) => consistencyProofFromSyncOracle(a, b, o),
  })) {
    bytes += c.length;
    if (!out.write(c)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
  const exportSeconds = (performance.now() - t0) / 1000;
  s.stop();
  const exp: Phase = {
    seconds: r3(exportSeconds),
    peakRssDeltaMiB: mb(s.peakRss - base),
    peakHeapUsedMiB: mb(s.peakHeap),
    recordsPerSecond: Math.round(written / exportSeconds),
    mibPerSecond: r1(bytes / MiB / exportSeconds),
  };

  // Verified three ways from the same file (docs/bundle.md §Verifying fast): the reference
  // (strict parser, one record at a time), the fast record path on one thread, and the fast
  // path with records chunks checked by worker threads — what `anchorlog verify` runs.
  const verifyWith = async (options: VerifyOptions): Promise<Phase & { report: BundleReport }> => {
    gc();
    const base2 = process.memoryUsage().rss;
    const s2 = new Sampler().start();
    const t1 = performance.now();
    const cpu0 = process.cpuUsage();
    const report = await verifyBundle(
      createReadStream(file, { highWaterMark: 1 * MiB }) as AsyncIterable<Uint8Array>,
      ctx.trust,
      options,
    );
    const verifySeconds = (performance.now() - t1) / 1000;
    const cpu = process.cpuUsage(cpu0);
    s2.stop();
    if (report.records.count !== written) throw new Error('verify count mismatch');
    return {
      report,
      seconds: r3(verifySeconds),
      peakRssDeltaMiB: mb(s2.peakRss - base2),
      peakHeapUsedMiB: mb(s2.peakHeap),
      recordsPerSecond: Math.round(written / verifySeconds),
      mibPerSecond: r1(bytes / MiB / verifySeconds),
      recordsPerCpuSecond: Math.round(written / ((cpu.user + cpu.system) / 1e6)),
    };
  };
  const { report: _r1, ...reference } = await verifyWith({ strict: true });
  const { report: _r2, ...fastOneThread } = await verifyWith({});
  const pool = startChunkPool();
  // Warm the workers up (thread start, tsx transform) outside the timed run.
  await pool.warm();
  const { report, ...ver } = await verifyWith({
    checkChunk: pool.check,
    maxChunksInFlight: pool.threads + 1,
    allocate: allocateShared,
  }).finally(() => pool.close());
  const verifySeconds = ver.seconds;

  // Raw SHA-256 of the same bytes, same run: the bundle file in bulk, and the
  // records as leaves (one hash per record: the floor for any verifier).
  const fileBytes = readFileSync(file);
  let t = performance.now();
  nodeHash('sha256', fileBytes);
  const bulkSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  for (let i = first; i <= last; i++) {
    const r = record(i);
    if (filter !== null && !/"action":"access\./.test(r.toString())) continue;
    leafHash(r);
  }
  const leafSeconds = (performance.now() - t) / 1000;
  // The same leaf hashes with @noble/hashes (what a browser without node:crypto gets; WebCrypto is async only).
  const prefixed = new Uint8Array(MAX_RECORD_BYTES + 1);
  t = performance.now();
  for (let i = first; i <= last; i++) {
    const r = record(i);
    if (filter !== null && !/"action":"access\./.test(r.toString())) continue;
    prefixed.set(r, 1);
    sha256Noble(prefixed.subarray(0, r.length + 1));
  }
  const nobleLeafSeconds = (performance.now() - t) / 1000;
  rmSync(file, { force: true });
  return {
    mode: filter ? `filtered (${filter.actionPrefix})` : 'range (complete)',
    records: written,
    recordBytes,
    bundleBytes: bytes,
    overheadPercent: r1(((bytes - recordBytes) / recordBytes) * 100),
    export: exp,
    verify: ver,
    verifyReference: reference,
    verifyFastOneThread: fastOneThread,
    rawSha256: {
      bulkMiBPerSecond: r1(bytes / MiB / bulkSeconds),
      leafHashesPerSecond: Math.round(written / leafSeconds),
      leafHashSeconds: r3(leafSeconds),
      nobleLeafHashesPerSecond: Math.round(written / nobleLeafSeconds),
    },
    verifyVsLeafHashing: r1(verifySeconds / leafSeconds),
    verifyShareOfLeafHashing: r1((leafSeconds / verifySeconds) * 100),
    warnings: report.warnings,
  };
}

async function emulatorRun(tsaUrl: string, tsaRootPem: string, dir: string) {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { startMoto } = await import('../src/local/moto.ts');
  const { ensureTable } = await import('../src/adapters/aws/table.ts');
  const { createArchiveBucket, S3ArchiveStore } = await import('../src/adapters/aws/s3-archive-store.ts');
  const { createExportsBucket, S3ExportStore } = await import('../src/adapters/aws/s3-export-store.ts');
  const { DynamoLogStore } = await import('../src/adapters/aws/dynamo-log-store.ts');
  const { DynamoSealStateStore } = await import('../src/adapters/aws/dynamo-seal-state-store.ts');
  const { DynamoAnchorStore } = await import('../src/adapters/aws/dynamo-anchor-store.ts');
  const { dynamoAnchoredSizes } = await import('../src/adapters/aws/dynamo-anchored-sizes.ts');
  const { HttpTimestamper } = await import('../src/adapters/tsa/http-timestamper.ts');
  const { IngestService } = await import('../src/app/ingest.ts');
  const { LogRegistry } = await import('../src/app/log-registry.ts');
  const { SealService } = await import('../src/app/seal.ts');
  const { AnchorService } = await import('../src/app/anchor.ts');
  const { ProofService } = await import('../src/app/proofs.ts');
  const { ExportService } = await import('../src/app/export.ts');
  const { MemoryMetricsSink } = await import('../src/adapters/memory/metrics.ts');
  const N = 10_000;
  const moto = await startMoto();
  try {
    const cfg = {
      endpoint: moto.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    };
    const ddb = new DynamoDBClient(cfg);
    const s3 = new S3Client(cfg);
    await ensureTable(ddb, 'bench');
    await createArchiveBucket(s3, 'bench-archive', 1);
    await createExportsBucket(s3, 'bench-exports');
    const { ManualClock } = await import('../src/adapters/memory/clock.ts');
    const clock = new ManualClock({ startMs: T0 });
    const logs = new DynamoLogStore({ client: ddb, tableName: 'bench' });
    const archive = new S3ArchiveStore({ client: s3, bucket: 'bench-archive' });
    const state = new DynamoSealStateStore({ client: ddb, tableName: 'bench' });
    const anchors = new DynamoAnchorStore({ client: ddb, tableName: 'bench' });
    const signer = LocalNoteSigner.generate('bench');
    const ingest = new IngestService({ store: logs, clock });
    const seal = new SealService({
      logs,
      state,
      archive,
      signer,
      clock,
      originPrefix: 'bench.anchorlog',
      maxRecordsPerRun: 1e6,
    });
    const anchor = new AnchorService({
      archive,
      originPrefix: 'bench.anchorlog',
      logPublicKeys: [signer.publicKeySpki],
      anchors,
      timestampers: [new HttpTimestamper({ name: 'ecdsa', url: tsaUrl, rootsPem: tsaRootPem })],
      quorum: 1,
      clock,
      random: (k) => crypto.getRandomValues(new Uint8Array(k)),
      metrics: new MemoryMetricsSink(),
    });
    await new LogRegistry({ store: logs, clock }).createLog(LOG);
    const tIngest = performance.now();
    for (let b = 0; b < (N + 2000) / 1000; b++) {
      clock.t = T0 + b * 86_400_000;
      const events = Array.from({ length: 1000 }, (_, i) => ({
        occurredAt: formatReceivedAt(clock.t),
        actor: { type: 'agent', id: `a-${i % 13}` },
        action: ACTIONS[i % ACTIONS.length],
        target: { type: 'resource', id: `r-${b}-${i}` },
        outcome: 'success',
      }));
      await ingest.append({ logId: LOG, submitter: 'bench', body: utf8(JSON.stringify({ events })) });
    }
    const ingestSeconds = (performance.now() - tIngest) / 1000;
    await seal.sealLog(LOG);
    await anchor.anchorLog(LOG);
    const publicKeys = async () => [signer.publicKeySpki];
    const proofs = new ProofService({ archive, originPrefix: 'bench.anchorlog', publicKeys });
    const svc = new ExportService({
      logs,
      proofs,
      publicKeys,
      archive,
      anchors,
      anchoredSizes: dynamoAnchoredSizes({ client: ddb, tableName: 'bench' }),
      clock: { now: () => Date.now() },
      store: new S3ExportStore({ client: s3, bucket: 'bench-exports' }),
    });
    // Days 1..10 hold records 1000..10999: exactly N records, neighbours on both sides.
    const params = { from: formatReceivedAt(T0 + 86_400_000), to: formatReceivedAt(T0 + 11 * 86_400_000) };
    const out: Record<string, unknown> = { records: N, ingestSeconds: r1(ingestSeconds) };
    for (const [name, p] of [
      ['range', params],
      ['filtered', { ...params, actionPrefix: 'access.' }],
    ] as const) {
      const t = performance.now();
      const e = await svc.createExport(LOG, p);
      const seconds = (performance.now() - t) / 1000;
      const res = await fetch(e.url);
      const body = new Uint8Array(await res.arrayBuffer());
      const tv = performance.now();
      const rep = await verifyBundle(body, {
        logKeys: [vkeyFromSpki(`bench.anchorlog/${LOG}`, signer.publicKeySpki)],
        tsaRoots: decodePemCertificates(tsaRootPem),
      });
      out[name] = {
        records: e.records,
        bytes: e.bytes,
        exportToS3Seconds: r3(seconds),
        verifySeconds: r3((performance.now() - tv) / 1000),
        completeness: rep.completeness.proved,
      };
    }
    void dir;
    return out;
  } finally {
    await moto.stop();
  }
}

/**
 * The multi-GB legitimate bundle: N records generated on the fly (never held in memory), written by the
 * real writeBundle to a temp file, verified by the real CLI (`bin/anchorlog.mjs verify --trust`, worker
 * threads, the heap cap) in a child process that reports its peak RSS; the file is deleted after.
 * The range is the whole log but its last record, so both ends are closed (log start, and the last
 * record as the `after` neighbour): a complete range, exit 0.
 */
async function largeRun(
  n: number,
  ctx: { signer: LocalNoteSigner; tsaUrl: string; chain: Uint8Array[]; rootPem: string; dir: string },
) {
  const STEP = 5000; // ms: 5 M records span ~9.5 months from 2025-01-01, all before the TSA's genTime
  const at = (i: number) => formatReceivedAt(T0 + i * STEP);
  // Canonical text by template (keys in RFC 8785 order), checked against encodeRecord below.
  const text = (i: number, prev: string) => {
    const t = at(i);
    return `{"event":{"action":"${ACTIONS[i % ACTIONS.length]}","actor":{"id":"actor-${i % 97}","type":"${i % 3 === 0 ? 'human' : 'agent'}"},"context":{"requestId":"req-${i.toString(16).padStart(8, '0')}","sessionId":"s-${i % 513}"},"occurredAt":"${t}","outcome":"${i % 11 === 0 ? 'denied' : 'success'}","target":{"id":"res-${(i * 7919) % 100_003}","name":"resource ${i % 1000}","type":"resource"}},"index":${i},"logId":"${LOG}","prev":"${prev}","receivedAt":"${t}","submitter":"svc-${i % 7}","v":1}`;
  };
  const enc = new TextEncoder();
  for (let i = 0; i < 5; i++) {
    const b = enc.encode(text(i, toBase64(ZERO_HASH)));
    if (!Buffer.from(encodeRecord(JSON.parse(Buffer.from(b).toString()))).equals(b))
      throw new Error('large bundle: template is not canonical');
  }
  // Pass 1: the tree (compact range), to sign the checkpoint and prove the last record.
  const t0 = performance.now();
  const range = CompactRange.empty();
  let prev: Uint8Array = ZERO_HASH;
  let left: Uint8Array[] = [];
  let leftIds: { level: number; index: number }[] = [];
  let beforeLast: Uint8Array = ZERO_HASH;
  for (let i = 0; i < n; i++) {
    if (i === n - 1) {
      left = range.hashes();
      leftIds = range.nodeIds();
      beforeLast = prev;
    }
    prev = leafHash(enc.encode(text(i, toBase64(prev))));
    range.append(prev);
  }
  const lastLeaf = prev;
  const note = await signNote(formatCheckpoint({ origin: ORIGIN, size: n, rootHash: range.root() }), [
    ctx.signer,
  ]);
  const anchors: BundleAnchorInput[] = [
    { size: n, tsa: 'ecdsa', response: await timestamp(ctx.tsaUrl, utf8(note)), chain: ctx.chain },
  ];
  // Every node a proof about the last leaf needs: the compact range of [0, n-1) and the leaf.
  const nodes = new Map<string, Uint8Array>(
    leftIds.map((id, k) => [`${id.level}/${id.index}`, left[k] as Uint8Array]),
  );
  nodes.set(`0/${n - 1}`, lastLeaf);
  const oracle = (level: number, index: number) => {
    const h = nodes.get(`${level}/${index}`);
    if (!h) throw new Error(`large bundle: no node ${level}/${index}`);
    return h;
  };
  const file = join(ctx.dir, `large-${n}.tar`);
  const out = createWriteStream(file);
  let bytes = 0;
  let recordBytes = 0;
  async function* records(): AsyncGenerator<Uint8Array> {
    let p: Uint8Array = ZERO_HASH;
    for (let i = 0; i < n - 1; i++) {
      const b = enc.encode(text(i, toBase64(p)));
      p = leafHash(b);
      recordBytes += b.length;
      yield b;
    }
  }
  const lastRecord = enc.encode(text(n - 1, toBase64(beforeLast)));
  const tExport = performance.now();
  for await (const c of writeBundle({
    logId: LOG,
    origin: ORIGIN,
    createdAt: formatReceivedAt(Date.now()),
    range: { fromTime: at(0), toTime: at(n - 1), firstIndex: 0, lastIndex: n - 2 },
    filter: null,
    logKeySpki: ctx.signer.publicKeySpki,
    checkpoints: [note],
    anchors,
    records: records(),
    before: null,
    after: lastRecord,
    getInclusionProof: async (i, size) => inclusionProofFromSyncOracle(i, size, oracle),
    getConsistencyProof: async (a, b) => consistencyProofFromSyncOracle(a, b, oracle),
  })) {
    bytes += c.length;
    if (!out.write(c)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
  const exportSeconds = (performance.now() - tExport) / 1000;
  const trustFile = join(ctx.dir, 'large-trust.json');
  writeFileSync(
    trustFile,
    JSON.stringify({ logKeys: [vkeyFromSpki(ORIGIN, ctx.signer.publicKeySpki)], tsaRoots: [ctx.rootPem] }),
  );
  try {
    const tv = performance.now();
    const r = spawnSync(
      process.execPath,
      [
        fileURLToPath(new URL('../bin/anchorlog.mjs', import.meta.url)),
        'verify',
        file,
        '--trust',
        trustFile,
        '--json',
      ],
      { encoding: 'utf8', maxBuffer: 64 * MiB, env: { ...process.env, ANCHORLOG_REPORT_RSS: '1' } },
    );
    const verifySeconds = (performance.now() - tv) / 1000;
    const m = /\nRSS (\{.*\})\n$/.exec(r.stderr);
    const rss = m ? (JSON.parse(m[1] as string) as { exitCode: number; maxRssKiB: number }) : undefined;
    const report = JSON.parse(r.stdout) as { ok: boolean; records?: { count: number }; error?: unknown };
    if (!report.ok || report.records?.count !== n - 1)
      throw new Error(`large bundle did not verify: ${r.stdout.slice(0, 500)} ${r.stderr.slice(-500)}`);
    return {
      records: n - 1,
      recordBytes,
      bundleBytes: bytes,
      bundleGiB: Math.round((bytes / 2 ** 30) * 100) / 100,
      generateAndTreeSeconds: r1((tExport - t0) / 1000),
      exportSeconds: r1(exportSeconds),
      exportRecordsPerSecond: Math.round((n - 1) / exportSeconds),
      cliVerifySeconds: r3(verifySeconds),
      cliVerifyRecordsPerSecond: Math.round((n - 1) / verifySeconds),
      cliVerifyMiBPerSecond: r1(bytes / MiB / verifySeconds),
      cliExitCode: rss?.exitCode ?? r.status,
      cliPeakRssMiB: rss ? mb(rss.maxRssKiB * 1024) : null,
      loadAfter: load(),
    };
  } finally {
    rmSync(file, { force: true });
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'anchorlog-bench-bundle-'));
  const pki = ensureTsaPki(join(dir, 'pki'), 'ecdsa');
  const tsa = await startLocalTsa(pki);
  const rootPem = readFileSync(pki.rootCertPath, 'utf8');
  const chain = [
    ...decodePemCertificates(readFileSync(pki.tsaCertPath, 'utf8')),
    ...decodePemCertificates(rootPem),
  ];
  const signer = LocalNoteSigner.generate(ORIGIN);
  const trust = {
    logKeys: [vkeyFromSpki(ORIGIN, signer.publicKeySpki)],
    tsaRoots: decodePemCertificates(rootPem),
  };
  const started = new Date().toISOString();
  const loadBefore = load();
  const results: unknown[] = [];
  try {
    for (const n of SIZES) {
      gc();
      const before = process.memoryUsage();
      const f = buildFixture(n + 2 * MARGIN);
      const fixtureMiB = mb(process.memoryUsage().rss - before.rss);
      const size = f.size;
      const note = await signNote(formatCheckpoint({ origin: ORIGIN, size, rootHash: rootOf(f, size) }), [
        signer,
      ]);
      const anchors: BundleAnchorInput[] = [
        { size, tsa: 'ecdsa', response: await timestamp(tsa.url, utf8(note)), chain },
      ];
      const ctx = { signer, anchors, note, trust, dir };
      const range = await exportAndVerify(f, ctx, n, null);
      console.log(`N=${n} range:`, JSON.stringify(range));
      const filtered = await exportAndVerify(f, ctx, n, { actionPrefix: 'access.' });
      console.log(`N=${n} filtered:`, JSON.stringify(filtered));
      results.push({
        n,
        logSize: size,
        fixture: { buildSeconds: r1(f.buildSeconds), rawRecordMiB: mb(f.bytes), rssMiB: fixtureMiB },
        range,
        filtered,
      });
      data = Buffer.alloc(0);
      offsets = new Uint32Array(1);
    }
    let large: unknown = 'skipped (--large=0)';
    if (LARGE > 0) {
      large = await largeRun(LARGE, { signer, tsaUrl: tsa.url, chain, rootPem, dir });
      console.log('large:', JSON.stringify(large));
    }
    let emulator: unknown = 'skipped (--no-emulator)';
    if (!NO_EMULATOR) {
      try {
        emulator = await emulatorRun(tsa.url, rootPem, dir);
        console.log('emulator:', JSON.stringify(emulator));
      } catch (e) {
        emulator = `failed: ${e instanceof Error ? e.message : String(e)}`;
        console.log('emulator run failed:', e);
      }
    }
    const doc = {
      benchmark: 'bundle',
      date: started,
      machine: machine(),
      loadAverage: { before: loadBefore, after: load() },
      method:
        'in-process: records, tree and checkpoint built with the core in memory (not ingested into the emulator); real writeBundle/verifyBundle, real OpenSSL TSA token; bundle streamed to and verified from a temp file',
      results,
      large,
      emulator10k: emulator,
    };
    writeFileSync(new URL('./results/bundle.json', import.meta.url), `${JSON.stringify(doc, null, 2)}\n`);
    writeDocs(doc as unknown as Doc);
    console.table(
      results.flatMap((r) => {
        const x = r as Result;
        return [x.range, x.filtered].map((m) => ({
          N: x.n,
          mode: m.mode,
          records: m.records,
          'export s': m.export.seconds,
          'export rec/s': m.export.recordsPerSecond,
          'export ΔRSS MiB': m.export.peakRssDeltaMiB,
          'verify ref rec/s': m.verifyReference.recordsPerSecond,
          'verify fast 1-thread rec/s': m.verifyFastOneThread.recordsPerSecond,
          'verify fast+workers rec/s': m.verify.recordsPerSecond,
          'verify ΔRSS MiB': m.verify.peakRssDeltaMiB,
          'bundle MiB': mb(m.bundleBytes),
          'leaf hashes/s (node)': m.rawSha256.leafHashesPerSecond,
          'leaf hashes/s (noble)': m.rawSha256.nobleLeafHashesPerSecond,
          'verify % of leaf hashing': m.verifyShareOfLeafHashing,
        }));
      }),
    );
  } finally {
    await tsa.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Mode = Awaited<ReturnType<typeof exportAndVerify>>;
interface Result {
  n: number;
  logSize: number;
  fixture: { buildSeconds: number; rawRecordMiB: number; rssMiB: number };
  range: Mode;
  filtered: Mode;
}
interface Large {
  records: number;
  bundleGiB: number;
  exportSeconds: number;
  exportRecordsPerSecond: number;
  cliVerifySeconds: number;
  cliVerifyRecordsPerSecond: number;
  cliVerifyMiBPerSecond: number;
  cliExitCode: number;
  cliPeakRssMiB: number;
  loadAfter: number[];
}
interface Doc {
  large: Large | string;
  date: string;
  machine: ReturnType<typeof machine>;
  loadAverage: { before: number[]; after: number[] };
  results: Result[];
  emulator10k: unknown;
}

function writeDocs(doc: Doc): void {
  const path = new URL('../docs/benchmarks.md', import.meta.url);
  const md = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const m = doc.machine;
  const n = (x: number) => x.toLocaleString('en-US');
  const rows = doc.results.flatMap((r) =>
    [r.range, r.filtered].map(
      (x) =>
        `| ${n(r.n)} | ${x.mode} | ${n(x.records)} | ${n(x.export.recordsPerSecond)} | ${n(x.verifyReference.recordsPerSecond)} | ${n(x.verifyFastOneThread.recordsPerSecond)} | **${n(x.verify.recordsPerSecond)}** (${x.verify.mibPerSecond} MiB/s; ${n(x.verify.recordsPerCpuSecond ?? 0)} per CPU-second) | ${x.verify.peakRssDeltaMiB} / ${x.verify.peakHeapUsedMiB} | ${mb(x.bundleBytes)} | ${n(x.rawSha256.leafHashesPerSecond)} / ${n(x.rawSha256.nobleLeafHashesPerSecond)} | ${x.verifyShareOfLeafHashing} % | ${x.rawSha256.bulkMiBPerSecond} MiB/s |`,
    ),
  );
  const L = doc.large as Large | string;
  const large =
    typeof L === 'string'
      ? `Multi-GB bundle: ${L}.`
      : `**Multi-GB bundle through the CLI**: ${n(L.records)} records, ${L.bundleGiB} GiB, generated on the fly (never in memory), written by \`writeBundle\` to a temp file in ${L.exportSeconds} s (${n(L.exportRecordsPerSecond)} records/s), verified by \`bin/anchorlog.mjs verify --trust\` in a child process in ${L.cliVerifySeconds} s including process start: **${n(L.cliVerifyRecordsPerSecond)} records/s** (${L.cliVerifyMiBPerSecond} MiB/s), exit ${L.cliExitCode}, **peak RSS ${L.cliPeakRssMiB} MiB** (worker threads included); load average after: ${L.loadAfter.join(' / ')}. The file is deleted after.`;
  const emu =
    typeof doc.emulator10k === 'object' && doc.emulator10k !== null
      ? `\nThrough the real path on the emulator (10,000 records: IngestService → DynamoDB on moto, SealService → S3 tiles, AnchorService → OpenSSL TSA, ExportService → S3 (one PUT below 8 MiB, multipart above), presigned GET, verifyBundle): \`${JSON.stringify(doc.emulator10k)}\`.\n`
      : `\nEmulator run: ${String(doc.emulator10k)}.\n`;
  const section = `## Bundle (bench:bundle)

\`npm run bench:bundle\` (bench/bundle.ts; raw numbers in bench/results/bundle.json).
Machine: ${m.nproc} cores, ${m.cpu}, ${m.memGiB} GiB, Node ${m.node}. Run ${doc.date}, load average ${doc.loadAverage.before.join(' / ')} before, ${doc.loadAverage.after.join(' / ')} after (shared machine).

**Method — in-process, not the emulator.** Ingesting 10^6 records into moto is far too slow here, so each log
(N + 2,000 records, one record per 20 s of receivedAt from 2025-01-01) is built in memory with the core: canonical records,
hash chain, every Merkle level, a checkpoint signed by a local P-256 key and time-stamped by a real OpenSSL TSA.
The real \`writeBundle\` gets the same inputs ExportService gives it (records as an async iterable, neighbours,
proofs from a node oracle) for the middle N records and streams to a temp file, which is then verified three
ways with pinned trust (docs/bundle.md §Verifying fast): the **reference** (strict I-JSON parser, one record at a
time), the **fast** record path on one thread, and the fast path with records chunks checked by **worker threads**
(2 here) — what \`anchorlog verify\` runs. "Filtered" exports the same interval with \`action prefix access.\` (1 record
in 3), each record with its own inclusion proof (filtered bundles are verified on one thread). ΔRSS is the peak RSS during the
worker-thread verify minus RSS before it (in-process; the threads' memory included); heap is peak heapUsed
(sampled every 20 ms). In the same run, on the same records: raw single-core leaf hashing
(SHA-256(0x00 ‖ record), one call per record) with node:crypto and with @noble/hashes, and bulk SHA-256 of the bundle.

| N | mode | records | export rec/s | verify reference rec/s | verify fast, 1 thread | verify fast + workers (CLI) | verify ΔRSS / heap MiB | bundle MiB | raw leaf hashes/s, node:crypto / noble (1 core) | verify ÷ node leaf hashing | bulk SHA-256 |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

${large}
${emu}
`;
  const re = /## Bundle \(bench:bundle\)[\s\S]*?(?=\n## |$)/;
  const next = re.test(md) ? md.replace(re, section.trimEnd()) : `${md.trimEnd()}\n\n${section}`;
  writeFileSync(path, next.endsWith('\n') ? next : `${next}\n`);
}

await main();
