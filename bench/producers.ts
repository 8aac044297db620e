/**
 * Producer-side costs on the ingest path (`npm run bench:producers [rounds]`;
 * docs/benchmarks.md, docs/events.md): events/s through IngestService
 * in-process on the memory adapters, batches of 100 catalogued demo events
 * (src/local/demo-events.ts), with the event catalog off, in warn and in
 * enforce mode (every event valid, so warn and enforce do the same work: their
 * difference is the run's noise), with producer positions (`producer: {
 * stream, seq }`, 4 streams) on every event, and with those streams tracked
 * (ProducerService folding each batch, one read + one swap per stream).
 *
 * The in-process run isolates what validation adds: the local stack's HTTP,
 * auth and DynamoDB emulator would add a constant per batch that hides it
 * (bench:ingest measures those). Modes are interleaved round by round so they
 * see the same machine load (in a rotating order); each cell's figure is the median over rounds.
 * Also measures Catalog.check alone (µs per event) and the one-off compile of
 * the starter catalog. Prints a table and writes bench/results/producers.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { MemoryLogStore } from '../src/adapters/memory/log-store.ts';
import { MemoryProducerStore } from '../src/adapters/memory/producer-store.ts';
import { StaticCatalogPolicy } from '../src/app/catalog.ts';
import { type CatalogMode, IngestService } from '../src/app/ingest.ts';
import { LogRegistry } from '../src/app/log-registry.ts';
import { ProducerService } from '../src/app/producers.ts';
import { STARTER_CATALOG_DOCUMENTS } from '../src/compose/starter-catalog.ts';
import { utf8 } from '../src/core/bytes.ts';
import { Catalog } from '../src/core/catalog.ts';
import { validateEvent } from '../src/core/event.ts';
import { demoEvents } from '../src/local/demo-events.ts';
import { systemClock } from '../src/ports/clock.ts';
import { load, machine } from './machine.ts';

const ROUNDS = Number(process.argv[2] ?? process.env.BENCH_ROUNDS ?? 7);
const BATCH = 100;
const BATCHES_PER_CELL = 100; // 10,000 events per cell
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

interface CellSpec {
  name: string;
  mode: CatalogMode;
  bodies: Uint8Array[];
  /** Fold producer streams after each commit (ProducerService on the memory store). */
  track?: boolean;
}
const CELLS: CellSpec[] = [
  { name: 'catalog off', mode: 'off', bodies: PLAIN },
  { name: 'catalog warn', mode: 'warn', bodies: PLAIN },
  { name: 'catalog enforce', mode: 'enforce', bodies: PLAIN },
  { name: 'off + producer seq', mode: 'off', bodies: PRODUCER },
  { name: 'enforce + producer seq', mode: 'enforce', bodies: PRODUCER },
  { name: 'enforce + streams tracked', mode: 'enforce', bodies: PRODUCER, track: true },
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
console.log(
  `bench:producers — ${ROUNDS} rounds × ${CELLS.length} cells × ${BATCHES_PER_CELL * BATCH} events; load ${loadStart.join(' ')}`,
);
for (const c of CELLS) await runCell(c); // warm-up (JIT, validator caches)
const rates: Record<string, number[]> = Object.fromEntries(CELLS.map((c) => [c.name, []]));
const checkUs: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  // Rotate the order each round: no cell always runs first (after the previous round's garbage).
  for (let k = 0; k < CELLS.length; k++) {
    const c = CELLS[(k + r) % CELLS.length] as CellSpec;
    rates[c.name]?.push(await runCell(c));
  }
  checkUs.push(checkRate());
}
const loadEnd = load();
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
console.log(
  `Catalog.check alone: ${median(checkUs).toFixed(2)} µs/event (median of ${ROUNDS}); starter catalog compile: ${r1(compileMs)} ms`,
);
const result = {
  benchmark: 'producers',
  startedAt: startedAt.toISOString(),
  machine: machine(),
  load: { start: loadStart, end: loadEnd },
  rounds: ROUNDS,
  eventsPerCell: BATCHES_PER_CELL * BATCH,
  rows,
  raw: rates,
  catalogCheckUsPerEvent: Math.round(median(checkUs) * 100) / 100,
  starterCatalogCompileMs: r1(compileMs),
  catalogActions: catalog.actions().length,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/producers.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
console.log('wrote bench/results/producers.json');
