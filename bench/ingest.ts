/**
 * Ingest benchmark, end to end (`npm run bench:ingest [cellSeconds]`): the
 * local stack (src/local/stack.ts: HTTP server, auth, IngestService,
 * DynamoDB on moto_server) driven by 1, 4 and 16 concurrent AuditClients ×
 * batches of 1, 10 and 100 demo events (~410 B of event JSON, ~560 B as a
 * record). The store-only half is bench/ingest-store.ts.
 *
 * BENCH_INGEST_MODES (default `pending,direct`): the ingest paths measured,
 * each on a fresh stack, side by side in one table (docs/ingest.md §9;
 * `direct` is the one-commit-per-request path of §3). BENCH_CLIENTS (default
 * `1,4,16`) and BENCH_BUDGET_SCALE (default 1; e.g. 0.05 for a quick check)
 * shrink a run that only has to prove the script works.
 *
 * Each cell runs until its event budget is spent or `cellSeconds` (default 6)
 * have passed, whichever comes first; each client keeps one batch in flight.
 * In the same run, the emulator's raw single-item PutItem/s (sequential, one
 * item the size of an average record) is measured before, between and after
 * the cells, so the two see the same machine load.
 *
 * AWS requests are counted by RequestMeter middleware attached to the stack's
 * own SDK clients (`stack.services.clients`), so every DynamoDB request the
 * API makes is counted, with estimated write/read units. Prints a table and
 * writes bench/results/ingest.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { AuditClient } from '../src/client/audit-client.ts';
import { DEFAULT_INGEST_SETTINGS } from '../src/config.ts';
import { demoEvents } from '../src/local/demo-events.ts';
import { startLocalStack } from '../src/local/stack.ts';
import { load, machine } from './machine.ts';
import { RequestMeter } from './request-meter.ts';

const CELL_SECONDS = Number(process.argv[2] ?? process.env.BENCH_CELL_SECONDS ?? 6);
const CLIENTS = (process.env.BENCH_CLIENTS ?? '1,4,16').split(',').map(Number);
const BATCHES = [1, 10, 100];
const MODES = (process.env.BENCH_INGEST_MODES ?? 'pending,direct').split(',') as Array<'pending' | 'direct'>;
const SCALE = Number(process.env.BENCH_BUDGET_SCALE ?? 1);
/** Event budget per cell, by batch size (the time cap usually binds first for small batches). */
const BUDGET: Record<number, number> = Object.fromEntries(
  Object.entries({ 1: 600, 10: 3_000, 100: 10_000 }).map(([b, n]) => [
    b,
    Math.max(Number(b), Math.round(n * SCALE)),
  ]),
);
const RAW_SECONDS = 2;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number) : Number.NaN;
};
const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

const POOL = demoEvents({ count: 20_000, startMs: Date.parse('2026-11-01T00:00:00Z'), seed: 42 });
let next = 0;
const nextEvent = () => POOL[next++ % POOL.length] as Record<string, unknown>;

// The average record: the event inside the envelope the log adds (index, prev, receivedAt, submitter).
const recordBytes =
  POOL.slice(0, 2000).reduce(
    (n, event, i) =>
      n +
      Buffer.byteLength(
        JSON.stringify({
          v: 1,
          logId: 'demo',
          index: 100_000 + i,
          prev: 'x'.repeat(44),
          receivedAt: '2026-11-01T00:00:00.000Z',
          submitter: 'demo-agent-platform',
          event,
        }),
      ),
    0,
  ) / 2000;

const stateDir = mkdtempSync(join(tmpdir(), 'anchorlog-bench-ingest-'));
const startedAt = new Date();
const loadStart = load();
console.log(`starting the local stack (moto, TSAs, API)… load ${loadStart.join(' ')}`);

interface RawRun {
  at: string;
  puts: number;
  putsPerSec: number;
  p50ms: number;
  load1m: number;
}
interface Cell {
  /** docs/ingest.md §9 (pending) or §3 (direct). */
  mode: 'pending' | 'direct';
  /** Batches answered 202 (receipts fetched afterwards). */
  accepted202: number;
  clients: number;
  batchEvents: number;
  events: number;
  batches: number;
  httpRequests: number;
  retries: number;
  seconds: number;
  eventsPerSec: number;
  batchP50ms: number;
  batchP95ms: number;
  ddbRequestsPerEvent: number;
  ddbRequestsPerBatch: number;
  byOpPerBatch: Record<string, number>;
  conditionalFailuresPerBatch: number;
  wcuPerEvent: number;
  rcuPerEvent: number;
  ddbRequestBytesPerEvent: number;
  load1m: number;
}

const raws: RawRun[] = [];
const cells: Cell[] = [];
for (const mode of MODES) {
  const stack = await startLocalStack({
    stateDir,
    port: 0,
    sealIntervalMs: 0,
    ingest: { ...DEFAULT_INGEST_SETTINGS, mode },
  });
  try {
    const meter = new RequestMeter();
    const { ddb, s3, kms } = stack.services.clients;
    meter.attach(ddb);
    meter.attach(s3);
    meter.attach(kms);

    // Raw emulator speed: sequential single-item PutItem of an average record's size.
    const raw = new DynamoDBClient({
      endpoint: stack.info.awsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
      maxAttempts: 1,
    });
    const rawItemData = 'r'.repeat(Math.round(recordBytes));
    let rawN = 0;
    async function measureRaw(at: string): Promise<void> {
      const lat: number[] = [];
      const t0 = performance.now();
      const end = t0 + RAW_SECONDS * 1000;
      while (performance.now() < end) {
        const t = performance.now();
        await raw.send(
          new PutItemCommand({
            TableName: stack.info.tableName,
            Item: { pk: { S: `BENCH#raw#${rawN++}` }, sk: { S: 'R' }, data: { S: rawItemData } },
          }),
        );
        lat.push(performance.now() - t);
      }
      const secs = (performance.now() - t0) / 1000;
      const run = {
        at,
        puts: lat.length,
        putsPerSec: lat.length / secs,
        p50ms: pct(lat, 50),
        load1m: load()[0] ?? 0,
      };
      raws.push(run);
      console.log(
        `raw PutItem (${at}): ${r1(run.putsPerSec)}/s, p50 ${r1(run.p50ms)} ms, load ${run.load1m}`,
      );
    }

    const newClient = (batch: number) =>
      new AuditClient({
        apiUrl: stack.info.apiUrl,
        apiKey: stack.info.apiKey,
        logId: stack.info.logId,
        maxBatchEvents: batch,
        maxInFlightBatches: 1,
        flushIntervalMs: 5,
      });

    // Warm-up: caches (log exists, tip) and the HTTP path, not counted.
    {
      const c = newClient(10);
      await Promise.all(Array.from({ length: 20 }, () => c.append(nextEvent())));
      await c.close();
    }

    if (mode === MODES[0]) await measureRaw('before');
    for (const batch of BATCHES) {
      for (const n of CLIENTS) {
        meter.reset();
        const clients = Array.from({ length: n }, () => newClient(batch));
        let budget = BUDGET[batch] ?? 1000;
        const lat: number[] = [];
        const t0 = performance.now();
        const deadline = t0 + CELL_SECONDS * 1000;
        await Promise.all(
          clients.map(async (c) => {
            while (budget >= batch && performance.now() < deadline) {
              budget -= batch;
              const t = performance.now();
              await Promise.all(Array.from({ length: batch }, () => c.append(nextEvent())));
              lat.push(performance.now() - t);
            }
            await c.close();
          }),
        );
        const seconds = (performance.now() - t0) / 1000;
        const events = clients.reduce((s, c) => s + c.stats.events, 0);
        const batches = clients.reduce((s, c) => s + c.stats.batches, 0);
        const ddbOps = meter.snapshot().filter((t) => t.service === 'DynamoDB');
        const ddbTotal = meter.total((t) => t.service === 'DynamoDB');
        const cell: Cell = {
          mode,
          accepted202: clients.reduce((s, c) => s + c.stats.accepted, 0),
          clients: n,
          batchEvents: batch,
          events,
          batches,
          httpRequests: clients.reduce((s, c) => s + c.stats.requests, 0),
          retries: clients.reduce((s, c) => s + c.stats.retries, 0),
          seconds: r2(seconds),
          eventsPerSec: r1(events / seconds),
          batchP50ms: r1(pct(lat, 50)),
          batchP95ms: r1(pct(lat, 95)),
          ddbRequestsPerEvent: r3(ddbTotal.requests / events),
          ddbRequestsPerBatch: r2(ddbTotal.requests / batches),
          byOpPerBatch: Object.fromEntries(ddbOps.map((t) => [t.operation, r2(t.requests / batches)])),
          conditionalFailuresPerBatch: r2(ddbTotal.conditionalFailures / batches),
          wcuPerEvent: r3(ddbTotal.wcu / events),
          rcuPerEvent: r3(ddbTotal.rcu / events),
          ddbRequestBytesPerEvent: Math.round(ddbTotal.requestBytes / events),
          load1m: load()[0] ?? 0,
        };
        cells.push(cell);
        console.log(
          `${mode}: clients ${n} × batch ${batch}: ${cell.eventsPerSec} events/s (${events} events, ${cell.seconds} s), ` +
            `${cell.ddbRequestsPerBatch} DynamoDB req/batch ${JSON.stringify(cell.byOpPerBatch)}, ` +
            `${cell.wcuPerEvent} WCU/event, ${cell.rcuPerEvent} RCU/event, load ${cell.load1m}`,
        );
      }
      if (batch === 10) await measureRaw(`middle ${mode}`);
    }
    await measureRaw(`after ${mode}`);
  } finally {
    await stack.stop();
  }
}
rmSync(stateDir, { recursive: true, force: true });

const rawMean = raws.reduce((s, r) => s + r.putsPerSec, 0) / raws.length;
const loadEnd = load();
const result = {
  date: startedAt.toISOString(),
  machine: machine(),
  loadAverage: { start: loadStart, end: loadEnd },
  settings: {
    cellSeconds: CELL_SECONDS,
    budget: BUDGET,
    rawSeconds: RAW_SECONDS,
    inFlightPerClient: 1,
    modes: MODES,
    clients: CLIENTS,
  },
  eventJsonBytes: Math.round(POOL.reduce((n, e) => n + JSON.stringify(e).length, 0) / POOL.length),
  recordBytes: Math.round(recordBytes),
  rawPutItem: { runs: raws, meanPerSec: r1(rawMean) },
  cells,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/ingest.json', `${JSON.stringify(result, null, 2)}\n`);

const lines = [
  '| path | batch | clients | events/s | × raw PutItem/s | batch p50 / p95 ms | DynamoDB req/event | req/batch | est. WCU/event | est. RCU/event |',
  '| :-- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...cells.map(
    (c) =>
      `| ${c.mode} | ${c.batchEvents} | ${c.clients} | ${c.eventsPerSec.toLocaleString('en-US')} | ${r2(c.eventsPerSec / rawMean)} | ${Math.round(c.batchP50ms)} / ${Math.round(c.batchP95ms)} | ${c.ddbRequestsPerEvent} | ${c.ddbRequestsPerBatch} | ${c.wcuPerEvent} | ${c.rcuPerEvent} |`,
  ),
];
console.log('');
console.log(lines.join('\n'));
console.log('');
console.log(
  `raw single-item PutItem (${result.recordBytes}-byte item, sequential): ${raws.map((r) => `${r.at} ${r1(r.putsPerSec)}/s`).join(', ')}; mean ${r1(rawMean)}/s`,
);
console.log(`load average: start ${loadStart.join(' ')}, end ${loadEnd.join(' ')}`);
console.log('wrote bench/results/ingest.json');
