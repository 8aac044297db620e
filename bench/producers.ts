/**
 * Producer-side costs on the ingest path (`npm run bench:producers [rounds]`;
 * docs/benchmarks.md §Producers, docs/events.md). Two parts, both by default
 * (BENCH_PRODUCERS_PARTS=inprocess,http):
 *
 * **inprocess** — events/s through IngestService in-process on the memory
 * adapters, batches of 100 catalogued demo events (src/local/demo-events.ts),
 * with the event catalog off, in warn and in enforce mode (every event valid,
 * so warn and enforce do the same work: their difference is the run's noise),
 * with producer positions (`producer: { stream, seq }`, 4 streams) on every
 * event, and with those streams tracked (ProducerService folding each batch,
 * one read + one swap per stream); and with producer signatures verified
 * (every event signed, Ed25519 or ECDSA P-256, by a key registered to the
 * submitter through ProducerKeyService into an in-memory system log, read by
 * ingest through BoundProducerKeys and the default verifier, as deployed),
 * alone and with the catalog enforced. Also verifyEventSignature alone, one
 * event after another (µs per event, the single-thread latency), and a batch
 * of 100 verified concurrently as ingest does (wall µs per event; node:crypto
 * runs them in the libuv threadpool). This part is CPU-bound: the memory
 * store answers in microseconds, so verification is compared with almost
 * nothing else — the upper bound of its relative cost.
 *
 * **http** — the path a producer calls (bench/producers-http.ts): the local
 * stack's HTTP API with DynamoDB on moto, batch 100 and batch 10 × several
 * writers (BENCH_PRODUCERS_CLIENTS, default 4), signatures off and on in the
 * same run, interleaved round by round (BENCH_PRODUCERS_HTTP_ROUNDS, default
 * 3; cell seconds BENCH_PRODUCERS_CELL_SECONDS, default 5; ingest path
 * BENCH_PRODUCERS_MODE, default direct).
 *
 * The signed events are signed once before the rounds; their bodies are
 * larger by the `signature` member, whose parsing is part of the cost
 * measured. Modes are interleaved round by round so they see the same
 * machine load (in a rotating order); each cell's figure is the median over
 * rounds. Also measures Catalog.check alone (µs per event) and the one-off
 * compile of the starter catalog. Prints tables and writes
 * bench/results/producers.json.
 */
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { MemoryLogStore } from '../src/adapters/memory/log-store.ts';
import { MemoryProducerKeyStore } from '../src/adapters/memory/producer-key-store.ts';
import { MemoryProducerStore } from '../src/adapters/memory/producer-store.ts';
import { SystemLogAuditReader, SystemLogAuditSink } from '../src/app/admin-audit.ts';
import { StaticCatalogPolicy } from '../src/app/catalog.ts';
import { type CatalogMode, IngestService } from '../src/app/ingest.ts';
import { LogRegistry } from '../src/app/log-registry.ts';
import { BoundProducerKeys, ProducerKeyService } from '../src/app/producer-keys.ts';
import { ProducerService } from '../src/app/producers.ts';
import { STARTER_CATALOG_DOCUMENTS } from '../src/compose/starter-catalog.ts';
import { utf8 } from '../src/core/bytes.ts';
import { Catalog } from '../src/core/catalog.ts';
import { type AuditEvent, validateEvent } from '../src/core/event.ts';
import type { Principal } from '../src/core/principal.ts';
import { parsePublicKey, type SignatureAlg } from '../src/core/producer-key.ts';
import {
  defaultSignatureVerifier,
  prepareKey,
  signatureInput,
  signEvent,
  verifyEventSignature,
} from '../src/core/producer-signature.ts';
import { demoEvents } from '../src/local/demo-events.ts';
import { systemClock } from '../src/ports/clock.ts';
import { load, machine } from './machine.ts';
import { type HttpResult, runHttpCells } from './producers-http.ts';

const ROUNDS = Number(process.argv[2] ?? process.env.BENCH_ROUNDS ?? 7);
const PARTS = (process.env.BENCH_PRODUCERS_PARTS ?? 'inprocess,http').split(',');
const BATCH = 100;
// 10,000 events per cell; BENCH_BATCHES=10 for a quick check that it runs.
const BATCHES_PER_CELL = Number(process.env.BENCH_BATCHES ?? 100);
const r1 = (x: number) => Math.round(x * 10) / 10;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

const t0 = performance.now();
const catalog = Catalog.fromDocuments(STARTER_CATALOG_DOCUMENTS);
const compileMs = performance.now() - t0;

const POOL = demoEvents({
  count: BATCH * BATCHES_PER_CELL,
  startMs: Date.parse('2026-11-01T00:00:00Z'),
  seed: 42,
});
const withProducer = POOL.map((e, i) => ({
  ...e,
  producer: { stream: `bench/${i % 4}`, seq: Math.floor(i / 4) + 1 },
}));
const bodies = (events: Record<string, unknown>[]) =>
  Array.from({ length: BATCHES_PER_CELL }, (_, b) =>
    utf8(JSON.stringify({ events: events.slice(b * BATCH, (b + 1) * BATCH) })),
  );
const PLAIN = bodies(POOL);
const PRODUCER = bodies(withProducer);

// Signed copies of the pool, one key per algorithm, registered to the submitter through the admin
// use case into an in-memory system log, as deployed (ingest then binds each key to its record).
const keyStore = new MemoryProducerKeyStore();
const systemLogs = new MemoryLogStore();
const systemRegistry = new LogRegistry({ store: systemLogs, clock: systemClock });
const auditLog = new SystemLogAuditReader(systemLogs);
const keyAdmin = new ProducerKeyService({
  store: keyStore,
  audit: new SystemLogAuditSink(
    systemRegistry,
    new IngestService({ store: systemLogs, clock: systemClock }),
    auditLog,
  ),
  auditLog,
  clock: systemClock,
  principals: { get: async () => ({}) },
});
const ADMIN: Principal = {
  id: 'bench-admin',
  name: 'bench admin',
  kind: 'human',
  owner: 'bench',
  purpose: 'benchmark',
  scopes: { '*': ['admin'] },
  status: 'active',
  keyId: 'k_0123456789abcdef',
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'system:bootstrap',
};
async function signedBodies(alg: SignatureAlg): Promise<Uint8Array[]> {
  const { privateKey, publicKey } =
    alg === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const k = parsePublicKey(publicKey.export({ format: 'pem', type: 'spki' }).toString());
  await keyAdmin.register(ADMIN, 'bench', { publicKey: publicKey.export({ format: 'pem', type: 'spki' }) });
  const signer = {
    keyId: k.keyId,
    alg,
    sign: async (m: Uint8Array) =>
      new Uint8Array(
        alg === 'Ed25519'
          ? nodeSign(null, m, privateKey)
          : nodeSign('sha256', m, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
      ),
  };
  const signed: AuditEvent[] = [];
  for (const e of POOL) signed.push(await signEvent(validateEvent(e), signer));
  SIGNED[alg] = signed;
  return bodies(signed as unknown as Record<string, unknown>[]);
}
const SIGNED: Partial<Record<SignatureAlg, AuditEvent[]>> = {};

/** verifyEventSignature alone (canonical bytes + node:crypto verify), one after another: µs per event over 1,000 signed events. */
async function verifyRate(alg: SignatureAlg): Promise<number> {
  const events = (SIGNED[alg] ?? []).slice(0, 1000);
  const key = await keyStore.get('bench', events[0]?.signature?.keyId ?? '');
  const now = Date.now();
  const start = performance.now();
  for (const e of events) await verifyEventSignature(e, key, now, defaultSignatureVerifier);
  return ((performance.now() - start) * 1000) / events.length;
}

/** The same 1,000 events 100 at a time, each batch's verifications started together (as ingest does): wall µs per event. */
async function verifyBatchRate(alg: SignatureAlg): Promise<number> {
  const events = (SIGNED[alg] ?? []).slice(0, 1000);
  const stored = await keyStore.get('bench', events[0]?.signature?.keyId ?? '');
  if (!stored) throw new Error('no key');
  const key = prepareKey(stored, Date.now());
  const start = performance.now();
  for (let b = 0; b < events.length; b += BATCH) {
    const oks = await Promise.all(
      events.slice(b, b + BATCH).map((e) => {
        const i = signatureInput(e, key);
        return defaultSignatureVerifier.verify(i.alg, i.spki, i.message, i.sig);
      }),
    );
    if (oks.includes(false)) throw new Error('a signature did not verify');
  }
  return ((performance.now() - start) * 1000) / events.length;
}
const ED25519 = await signedBodies('Ed25519');
const P256 = await signedBodies('ES256');

interface CellSpec {
  name: string;
  mode: CatalogMode;
  bodies: Uint8Array[];
  /** Fold producer streams after each commit (ProducerService on the memory store). */
  track?: boolean;
  /** Verify producer signatures (keys from the memory key store). */
  verify?: boolean;
}
const CELLS: CellSpec[] = [
  { name: 'catalog off', mode: 'off', bodies: PLAIN },
  { name: 'catalog warn', mode: 'warn', bodies: PLAIN },
  { name: 'catalog enforce', mode: 'enforce', bodies: PLAIN },
  { name: 'off + producer seq', mode: 'off', bodies: PRODUCER },
  { name: 'enforce + producer seq', mode: 'enforce', bodies: PRODUCER },
  { name: 'enforce + streams tracked', mode: 'enforce', bodies: PRODUCER, track: true },
  { name: 'off + Ed25519 verified', mode: 'off', bodies: ED25519, verify: true },
  { name: 'off + P-256 verified', mode: 'off', bodies: P256, verify: true },
  { name: 'enforce + Ed25519 verified', mode: 'enforce', bodies: ED25519, verify: true },
];

let logN = 0;
async function runCell(spec: CellSpec): Promise<number> {
  const store = new MemoryLogStore();
  const logId = `bench-${++logN}`;
  await new LogRegistry({ store, clock: systemClock }).createLog(logId);
  const svc = new IngestService({
    store,
    clock: systemClock,
    catalog: new StaticCatalogPolicy(catalog, spec.mode),
    ...(spec.track
      ? { producers: new ProducerService({ store: new MemoryProducerStore(), clock: systemClock }) }
      : {}),
    ...(spec.verify
      ? { signatures: { keys: new BoundProducerKeys({ store: keyStore, auditLog, clock: systemClock }) } }
      : {}),
  });
  const start = performance.now();
  for (const b of spec.bodies) {
    const r = await svc.append({ logId, submitter: 'bench', body: b });
    if (r.receipts.some((x) => x.problems)) throw new Error('a demo event failed the catalog');
  }
  return (spec.bodies.length * BATCH) / ((performance.now() - start) / 1000);
}

// Catalog.check alone, over already-validated events.
const validated = POOL.map((e) => validateEvent(e));
function checkRate(): number {
  const start = performance.now();
  let n = 0;
  for (let rep = 0; rep < 5; rep++) for (const e of validated) n += catalog.check(e).length;
  if (n !== 0) throw new Error('unexpected problems');
  return ((performance.now() - start) * 1000) / (5 * validated.length);
}

const startedAt = new Date();
const loadStart = load();
const result: Record<string, unknown> = {
  benchmark: 'producers',
  startedAt: startedAt.toISOString(),
  machine: machine(),
  parts: PARTS,
};

if (PARTS.includes('inprocess')) {
  console.log(
    `bench:producers in-process — ${ROUNDS} rounds × ${CELLS.length} cells × ${BATCHES_PER_CELL * BATCH} events; load ${loadStart.join(' ')}`,
  );
  for (const c of CELLS) await runCell(c); // warm-up (JIT, validator caches)
  const rates: Record<string, number[]> = Object.fromEntries(CELLS.map((c) => [c.name, []]));
  const checkUs: number[] = [];
  const verifyUs: Record<SignatureAlg, number[]> = { Ed25519: [], ES256: [] };
  const verifyBatchUs: Record<SignatureAlg, number[]> = { Ed25519: [], ES256: [] };
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate the order each round: no cell always runs first (after the previous round's garbage).
    for (let k = 0; k < CELLS.length; k++) {
      const c = CELLS[(k + r) % CELLS.length] as CellSpec;
      rates[c.name]?.push(await runCell(c));
    }
    checkUs.push(checkRate());
    for (const alg of ['Ed25519', 'ES256'] as const) {
      verifyUs[alg].push(await verifyRate(alg));
      verifyBatchUs[alg].push(await verifyBatchRate(alg));
    }
  }
  const base = median(rates['catalog off'] as number[]);
  const rows = CELLS.map((c) => {
    const eps = median(rates[c.name] as number[]);
    return {
      cell: c.name,
      batch: BATCH,
      eventsPerSec: Math.round(eps),
      costVsOffPct: r1((1 - eps / base) * 100),
    };
  });
  console.table(rows);
  const cost = (name: string) => rows.find((r) => r.cell === name)?.costVsOffPct;
  console.log(
    `in-process (CPU-bound, memory store) at batch ${BATCH}: validation (enforce) ${cost('catalog enforce')} % (target ≤ 10 %), Ed25519 verification ${cost('off + Ed25519 verified')} % (target ≤ 25 %), P-256 ${cost('off + P-256 verified')} % (no target)`,
  );
  console.log(
    `Catalog.check alone: ${median(checkUs).toFixed(2)} µs/event (median of ${ROUNDS}); starter catalog compile: ${r1(compileMs)} ms`,
  );
  console.log(
    `signature verification alone, one after another (canonical bytes + verify): Ed25519 ${median(verifyUs.Ed25519).toFixed(1)} µs/event, P-256 ${median(verifyUs.ES256).toFixed(1)} µs/event; 100 at a time, concurrently (wall): Ed25519 ${median(verifyBatchUs.Ed25519).toFixed(1)} µs/event, P-256 ${median(verifyBatchUs.ES256).toFixed(1)} µs/event (medians of ${ROUNDS}; UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? 'default 4'})`,
  );
  Object.assign(result, {
    inProcess: {
      rounds: ROUNDS,
      eventsPerCell: BATCHES_PER_CELL * BATCH,
      rows,
      raw: rates,
    },
    // Kept at the top level too, where earlier results had them.
    rows,
    catalogCheckUsPerEvent: Math.round(median(checkUs) * 100) / 100,
    signatureVerifyUsPerEvent: {
      Ed25519: r1(median(verifyUs.Ed25519)),
      ES256: r1(median(verifyUs.ES256)),
    },
    signatureVerifyConcurrentUsPerEvent: {
      Ed25519: r1(median(verifyBatchUs.Ed25519)),
      ES256: r1(median(verifyBatchUs.ES256)),
    },
    starterCatalogCompileMs: r1(compileMs),
    catalogActions: catalog.actions().length,
  });
}

let http: HttpResult | undefined;
if (PARTS.includes('http')) {
  const clients = (process.env.BENCH_PRODUCERS_CLIENTS ?? '4').split(',').map(Number);
  const mode = (process.env.BENCH_PRODUCERS_MODE ?? 'direct') as 'direct' | 'pending';
  const scale = Number(process.env.BENCH_BUDGET_SCALE ?? 1);
  console.log(
    `bench:producers http — local stack (${mode} ingest, DynamoDB on moto), writers ${clients.join(',')}; load ${load().join(' ')}`,
  );
  http = await runHttpCells({
    pool: demoEvents({ count: 20_000, startMs: Date.parse('2026-11-01T00:00:00Z'), seed: 43 }),
    mode,
    rounds: Number(process.env.BENCH_PRODUCERS_HTTP_ROUNDS ?? 3),
    batches: [100, 10],
    clients,
    cellSeconds: Number(process.env.BENCH_PRODUCERS_CELL_SECONDS ?? 5),
    budget: { 100: Math.max(100, Math.round(8_000 * scale)), 10: Math.max(10, Math.round(3_000 * scale)) },
    log: (line) => console.log(line),
  });
  console.table(
    http.cells.map((c) => ({
      batch: c.batch,
      writers: c.clients,
      signatures: c.signatures,
      eventsPerSec: c.eventsPerSec,
      rounds: c.raw.join(' '),
    })),
  );
  for (const c of http.costPct)
    console.log(
      `http (${http.mode} ingest, DynamoDB on moto): Ed25519 verification at batch ${c.batch}, ${c.clients} writers: ${c.costPct} % (target ≤ 25 %)`,
    );
  result.http = http;
}

const loadEnd = load();
result.load = { start: loadStart, end: loadEnd };
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/producers.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
console.log(`load average: start ${loadStart.join(' ')}, end ${loadEnd.join(' ')}`);
console.log('wrote bench/results/producers.json');
