/**
 * `npm run demo`: sends a realistic stream of AI-platform events to the
 * running local stack (settings from .anchorlog/local-stack.json) with the
 * AuditClient, then waits for a checkpoint that covers them; then the
 * producer demo (./demo-producers.ts): signed, catalogued, numbered events
 * from the TypeScript and Python SDKs, a dropped event found as a gap, and
 * `anchorlog verify --producer-keys` re-checking the signatures offline.
 *   ANCHORLOG_DEMO_EVENTS (default 500)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditClient } from '../client/audit-client.ts';
import { demoEvents } from './demo-events.ts';
import { producersDemo } from './demo-producers.ts';

const root = new URL('../..', import.meta.url).pathname;
let info: { apiUrl: string; apiKey: string; adminKey: string; logId: string; hecReceiverUrl?: string };
try {
  info = JSON.parse(readFileSync(join(root, '.anchorlog', 'local-stack.json'), 'utf8'));
} catch {
  process.stderr.write('No .anchorlog/local-stack.json: start the local stack first with `npm start`.\n');
  process.exit(2);
}
const count = Number(process.env.ANCHORLOG_DEMO_EVENTS ?? '500');

const client = new AuditClient({
  apiUrl: info.apiUrl,
  apiKey: info.apiKey,
  logId: info.logId,
  maxBatchEvents: 50,
});
const started = Date.now();
const events = demoEvents({ count, startMs: Date.now() - count * 250 });
const receipts = await Promise.all(events.map((e) => client.append(e)));
await client.close();
const secs = (Date.now() - started) / 1000;
// Receipts come back per batch as batches commit, not in submission order: report the
// range of indexes actually assigned and wait for a checkpoint covering the highest.
const indexes = receipts.map((r) => r.index);
const first = Math.min(...indexes);
const highest = Math.max(...indexes);
const last = receipts.find((r) => r.index === highest);
const counts = new Map<string, number>();
for (const e of events) counts.set(String(e.action), (counts.get(String(e.action)) ?? 0) + 1);
process.stdout.write(
  `sent ${receipts.length} events in ${secs.toFixed(2)} s (${client.stats.requests} requests, ${client.stats.retries} retries)\n` +
    `  ${[...counts].map(([a, n]) => `${a}: ${n}`).join(', ')}\n` +
    `  indexes ${first}…${highest}, leaf hash of ${highest}: ${last?.leafHash}\n`,
);

// Wait for the sealer (about once a second) to cover the last event.
const auth = { authorization: `Bearer ${info.apiKey}` };
for (let i = 0; i < 30; i++) {
  const res = await fetch(`${info.apiUrl}/v1/logs/${info.logId}/checkpoint`, { headers: auth });
  if (res.ok) {
    const text = await res.text();
    const size = Number(text.split('\n')[1]);
    if (last && size > last.index) {
      process.stdout.write(`\ncheckpoint covering them:\n${text}\n`);
      const anchors = await fetch(`${info.apiUrl}/v1/logs/${info.logId}/anchors`, { headers: auth });
      if (anchors.ok) {
        const a = (await anchors.json()) as {
          size?: number;
          tsas?: Array<{ name: string; status: string; genTime?: string }>;
        };
        for (const t of a.tsas ?? [])
          process.stdout.write(`time-stamp: ${t.name} ${t.status} ${t.genTime ?? ''}\n`);
      }
      await showStreamDelivery(highest);
      await showSql(auth);
      process.exit(await producersDemo(info, root, process.env));
    }
  }
  await new Promise((r) => setTimeout(r, 1000));
}
process.stdout.write('no checkpoint covered the events within 30 s (is the sealer running?)\n');
process.exit(1);

/** The stream delivery (docs/streams.md): the local HEC receiver's count and last leaf index. */
async function showStreamDelivery(highest: number): Promise<void> {
  if (!info.hecReceiverUrl) return;
  for (let i = 0; i < 30; i++) {
    const res = await fetch(`${info.hecReceiverUrl}/anchorlog/status`).catch(() => undefined);
    const s = res?.ok ? ((await res.json()) as { events: number; lastIndex: number | null }) : undefined;
    if (s && s.lastIndex !== null && s.lastIndex >= highest) {
      process.stdout.write(
        `stream delivery: local-hec → Splunk HEC receiver: ${s.events} events, last leaf index ${s.lastIndex}\n`,
      );
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  process.stdout.write('stream delivery: the HEC receiver did not reach the last event within 30 s\n');
}

/**
 * A read-only SQL query over the columnar index (docs/query.md): the demo log's first access changes,
 * each row with its leaf index so it can be proved. The index is written after each seal.
 */
async function showSql(auth: Record<string, string>): Promise<void> {
  const sql =
    "SELECT leafIndex, receivedAt, action, actorId, targetId FROM events WHERE action LIKE 'access.%' ORDER BY leafIndex LIMIT 5";
  const res = await fetch(`${info.apiUrl}/v1/logs/${info.logId}/sql`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ sql }),
  }).catch(() => undefined);
  if (!res?.ok) {
    process.stdout.write(`SQL: ${res ? `HTTP ${res.status} ${await res.text()}` : 'no answer'}\n`);
    return;
  }
  const out = (await res.json()) as {
    columns: string[];
    rows: Record<string, unknown>[];
    indexedSize: number;
    bytesRead: number;
  };
  process.stdout.write(
    `SQL over the columnar index (${out.indexedSize} records indexed, ${out.bytesRead} bytes read):\n  ${sql}\n`,
  );
  for (const row of out.rows) process.stdout.write(`  ${Object.values(row).map(String).join('  ')}\n`);
}
