/**
 * Ingest benchmark, store half (`npx tsx bench/ingest-store.ts [scale]`):
 * the real IngestService + DynamoLogStore on moto_server, no HTTP. The HTTP
 * half (API handler, auth, JSON mapping) is measured separately.
 *
 *  1. Uncontended: one appender, batches of 1 / 10 / 100 / 1,000 events
 *     (~450-byte events), with and without client ids. Events/s, p50/p95
 *     append latency, DynamoDB requests per batch by operation, and the
 *     commit item's stored bytes per event (deflate-raw).
 *  2. Contended: 1 / 4 / 16 appenders (separate IngestService instances, as
 *     separate Lambdas would be) racing on one log with 100-event batches:
 *     events/s and requests per committed batch (lost races included).
 *
 * Requests are counted by a FaultInjector with no rules on each client.
 * moto is single-threaded Python (~200–400 simple requests/s here), so
 * absolute numbers are a floor; requests per batch carry over to DynamoDB.
 * Writes bench/results/ingest-store.json and prints a table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoLogStore, encodeBlob } from '../src/adapters/aws/dynamo-log-store.ts';
import { FaultInjector } from '../src/adapters/aws/faulty-dynamo.ts';
import { ensureTable } from '../src/adapters/aws/table.ts';
import { IngestService } from '../src/app/ingest.ts';
import { LogRegistry } from '../src/app/log-registry.ts';
import { utf8 } from '../src/core/bytes.ts';
import { startMoto } from '../src/local/moto.ts';
import { systemClock } from '../src/ports/clock.ts';

const SCALE = Number(process.argv[2] ?? 1);
const TABLE = 'bench-ingest';

let n = 0;
function event(withId: boolean): Record<string, unknown> {
  n++;
  return {
    ...(withId ? { id: `evt-${n}` } : {}),
    occurredAt: '2026-03-01T12:00:00.000Z',
    actor: { type: 'agent', id: `agent-${n % 97}`, onBehalfOf: { type: 'human', id: 'alice@example.com' } },
    action: 'tool.call',
    target: { type: 'tool', id: 'web.search', name: 'Web search' },
    outcome: n % 13 === 0 ? 'denied' : 'success',
    context: { requestId: `req-${n}`, sessionId: `sess-${n >> 6}`, traceId: `trace-${n}` },
    metadata: { model: 'gpt-x', tokens: n % 4096, query: `how many audit events ${n}` },
  };
}
const body = (k: number, ids: boolean) =>
  utf8(JSON.stringify({ events: Array.from({ length: k }, () => event(ids)) }));

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

const moto = await startMoto();
const config = {
  endpoint: moto.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  maxAttempts: 1,
};
await ensureTable(new DynamoDBClient(config), TABLE);
function service(): { svc: IngestService; counter: FaultInjector } {
  const counter = new FaultInjector();
  const client = counter.attach(new DynamoDBClient(config));
  return {
    svc: new IngestService({ store: new DynamoLogStore({ client, tableName: TABLE }), clock: systemClock }),
    counter,
  };
}
/** Creates logs outside the counted ingest clients (the admin path). */
const logRegistry = new LogRegistry({
  store: new DynamoLogStore({ client: new DynamoDBClient(config), tableName: TABLE }),
  clock: systemClock,
});

interface Row {
  scenario: string;
  batchEvents: number;
  appenders: number;
  ids: boolean;
  batches: number;
  eventsPerSec: number;
  p50ms: number;
  p95ms: number;
  requestsPerBatch: number;
  byOp: Record<string, number>;
  storedBytesPerEvent?: number;
}
const rows: Row[] = [];

try {
  // 1. Uncontended.
  for (const [k, reps] of [
    [1, 60],
    [10, 40],
    [100, 20],
    [1000, 4],
  ] as const) {
    for (const ids of [false, true]) {
      const logId = `solo-${k}-${ids ? 'ids' : 'plain'}`;
      const { svc, counter } = service();
      await logRegistry.createLog(logId);
      await svc.append({ logId, submitter: 'bench', body: body(k, ids) }); // warm: tip cache, log cache
      counter.calls.clear();
      const lat: number[] = [];
      const count = Math.max(2, Math.round(reps * SCALE));
      const bodies = Array.from({ length: count }, () => body(k, ids));
      const t0 = performance.now();
      for (const b of bodies) {
        const t = performance.now();
        await svc.append({ logId, submitter: 'bench', body: b });
        lat.push(performance.now() - t);
      }
      const secs = (performance.now() - t0) / 1000;
      const sample = JSON.parse(new TextDecoder().decode(bodies[0])).events.map((e: unknown) =>
        utf8(
          JSON.stringify({
            v: 1,
            logId,
            index: 123456,
            prev: 'x'.repeat(44),
            receivedAt: 'x'.repeat(24),
            submitter: 'bench',
            event: e,
          }),
        ),
      );
      rows.push({
        scenario: 'uncontended',
        batchEvents: k,
        appenders: 1,
        ids,
        batches: count,
        eventsPerSec: (count * k) / secs,
        p50ms: pct(lat, 50),
        p95ms: pct(lat, 95),
        requestsPerBatch: counter.totalCalls / count,
        byOp: Object.fromEntries([...counter.calls].map(([op, c]) => [op, c / count])),
        storedBytesPerEvent: encodeBlob(sample).blob.length / k,
      });
    }
  }

  // 2. Contended.
  for (const appenders of [1, 4, 16]) {
    const logId = `race-${appenders}`;
    const svcs = Array.from({ length: appenders }, service);
    await logRegistry.createLog(logId);
    const per = Math.max(1, Math.round((appenders === 16 ? 2 : 6) * SCALE));
    const lat: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      svcs.map(async ({ svc }) => {
        for (let i = 0; i < per; i++) {
          const t = performance.now();
          await svc.append({ logId, submitter: 'bench', body: body(100, false) });
          lat.push(performance.now() - t);
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    const batches = appenders * per;
    const byOp = new Map<string, number>();
    for (const { counter } of svcs)
      for (const [op, c] of counter.calls) byOp.set(op, (byOp.get(op) ?? 0) + c);
    const total = [...byOp.values()].reduce((a, b) => a + b, 0);
    rows.push({
      scenario: 'contended',
      batchEvents: 100,
      appenders,
      ids: false,
      batches,
      eventsPerSec: (batches * 100) / secs,
      p50ms: pct(lat, 50),
      p95ms: pct(lat, 95),
      requestsPerBatch: total / batches,
      byOp: Object.fromEntries([...byOp].map(([op, c]) => [op, c / batches])),
    });
  }
} finally {
  await moto.stop();
}

const env = {
  node: process.version,
  cpus: cpus().length,
  loadavg: loadavg().map((x) => Number(x.toFixed(2))),
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/ingest-store.json', import.meta.url),
  `${JSON.stringify({ env, rows }, null, 2)}\n`,
);
console.log(
  `ingest store bench (moto_server; node ${env.node}, ${env.cpus} CPUs, load ${env.loadavg.join(' ')})`,
);
console.log(
  'scenario     events/batch appenders ids  events/s  p50 ms  p95 ms  req/batch  stored B/event  requests by op',
);
for (const r of rows) {
  console.log(
    `${r.scenario.padEnd(12)} ${String(r.batchEvents).padStart(12)} ${String(r.appenders).padStart(9)} ${(r.ids ? 'yes' : 'no').padEnd(4)}` +
      `${r.eventsPerSec.toFixed(0).padStart(9)} ${r.p50ms.toFixed(0).padStart(7)} ${r.p95ms.toFixed(0).padStart(7)}` +
      `${r.requestsPerBatch.toFixed(1).padStart(11)} ${(r.storedBytesPerEvent?.toFixed(0) ?? '-').padStart(15)}  ` +
      Object.entries(r.byOp)
        .map(([op, c]) => `${op} ${c.toFixed(1)}`)
        .join(', '),
  );
}
