/**
 * `npm run bench:alerts` — end-to-end alert latency on the local stack
 * (sealing every second, as `npm start` does): from the 201 of a request whose
 * event matches a rule to the moment the local alert receiver has accepted
 * the signed webhook for it. The path measured is the deployed one: ingest →
 * seal (signed checkpoint) → detect (the rule, the outbox) → deliver (the
 * `alert.fire` record in the system log, then the webhook).
 *
 * A probe is one event `bench.probe` per request, every PROBE_MS; around
 * them, background traffic of demo events (AuditClient, batches of 100) at
 * BACKGROUND events/s, which also fires the starter pack's AI-platform rules.
 * Prints a table and writes bench/results/alert-latency.json.
 *   argv: [durationSeconds=30] [backgroundEventsPerSecond=500] [probeEveryMs=250]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditClient } from '../src/client/audit-client.ts';
import { demoEvents } from '../src/local/demo-events.ts';
import { startLocalStack } from '../src/local/stack.ts';
import { load, machine } from './machine.ts';

const DURATION_S = Number(process.argv[2] ?? 30);
const BACKGROUND = Number(process.argv[3] ?? 500);
const PROBE_MS = Number(process.argv[4] ?? 250);
const SEAL_INTERVAL_MS = 1000;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

const PROBE_RULE = {
  schema: 'anchorlog.rule/v1',
  id: 'bench.probe',
  version: 1,
  title: 'Benchmark probe',
  description: 'Fires on every bench.probe event (bench/alert-latency.ts).',
  severity: 'low',
  owner: 'bench',
  runbook: 'https://runbooks.example/bench',
  match: "event.action == 'bench.probe'",
  kind: 'match',
};

const loadBefore = load();
const stack = await startLocalStack({
  stateDir: mkdtempSync(join(tmpdir(), 'anchorlog-bench-alerts-')),
  port: 0,
  sealIntervalMs: SEAL_INTERVAL_MS,
  detectionRules: [PROBE_RULE],
  log: () => {},
});
const { apiUrl, apiKey, logId } = stack.info;

/** 201 time (epoch ms) per probe record index. */
const sentAt = new Map<number, number>();
const started = Date.now();

const background = new AuditClient({ apiUrl, apiKey, logId, maxBatchEvents: 100 });
const bgEvents = demoEvents({ count: DURATION_S * BACKGROUND, startMs: Date.now() });
let bgSent = 0;
const bgDone = (async () => {
  const inflight: Promise<unknown>[] = [];
  for (let s = 0; s < DURATION_S; s++) {
    const tick = Date.now();
    const slice = bgEvents.slice(bgSent, bgSent + BACKGROUND);
    bgSent += slice.length;
    inflight.push(Promise.all(slice.map((e) => background.append(e))));
    const wait = 1000 - (Date.now() - tick);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.all(inflight);
  await background.close();
})();

let probeErrors = 0;
const probes: Promise<void>[] = [];
for (let t = 0; t < DURATION_S * 1000; t += PROBE_MS) {
  const n = probes.length;
  probes.push(
    (async () => {
      const res = await fetch(`${apiUrl}/v1/logs/${logId}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          events: [
            {
              occurredAt: new Date().toISOString(),
              actor: { type: 'agent', id: 'bench-agent' },
              action: 'bench.probe',
              target: { type: 'probe', id: `p-${n}` },
              outcome: 'success',
            },
          ],
        }),
      });
      const at = Date.now();
      if (res.status !== 201) {
        probeErrors++;
        await res.arrayBuffer();
        return;
      }
      const body = (await res.json()) as { receipts: Array<{ index: number }> };
      sentAt.set(body.receipts[0]?.index ?? -1, at);
    })(),
  );
  await new Promise((r) => setTimeout(r, PROBE_MS));
}
await Promise.all(probes);
await bgDone;
const feedSeconds = (Date.now() - started) / 1000;

// Wait (at most 60 s) until every probe's alert has arrived.
const deadline = Date.now() + 60_000;
const probeAlerts = () => stack.alerts.received.filter((a) => a.alert.rule.id === 'bench.probe' && !a.repeat);
while (probeAlerts().length < sentAt.size && Date.now() < deadline)
  await new Promise((r) => setTimeout(r, 100));
const latencies: number[] = [];
for (const a of probeAlerts()) {
  const t201 = a.alert.trigger ? sentAt.get(a.alert.trigger.index) : undefined;
  if (t201 !== undefined) latencies.push(a.atMs - t201);
}
const otherAlerts = stack.alerts.received.filter((a) => a.alert.rule.id !== 'bench.probe').length;
await stack.stop();

const result = {
  date: new Date().toISOString(),
  machine: machine(),
  loadBefore,
  loadAfter: load(),
  sealIntervalMs: SEAL_INTERVAL_MS,
  feed: { seconds: feedSeconds, backgroundEvents: bgSent, probes: probes.length, probeErrors },
  alerts: { probeAlerts: latencies.length, missing: sentAt.size - latencies.length, otherAlerts },
  latencyMs: {
    n: latencies.length,
    p50: pct(latencies, 50),
    p90: pct(latencies, 90),
    p99: pct(latencies, 99),
    max: Math.max(...latencies),
  },
};
const f = (x: number) => x.toFixed(0);
process.stdout.write(
  `| measure | value |\n| --- | --- |\n` +
    `| feed | ${bgSent} background events + ${probes.length} probe requests over ${feedSeconds.toFixed(1)} s (${probeErrors} probe errors) |\n` +
    `| probe alerts delivered / missing | ${latencies.length} / ${result.alerts.missing} (plus ${otherAlerts} alerts of the starter pack) |\n` +
    `| 201 → alert accepted by the receiver, p50 / p90 / p99 / max (ms) | ${f(result.latencyMs.p50)} / ${f(result.latencyMs.p90)} / ${f(result.latencyMs.p99)} / ${f(result.latencyMs.max)} |\n` +
    `| load average before / after | ${loadBefore.join(' ')} / ${result.loadAfter.join(' ')} |\n`,
);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/alert-latency.json', import.meta.url),
  `${JSON.stringify(result, null, 2)}\n`,
);
process.stdout.write('wrote bench/results/alert-latency.json\n');
process.exit(result.alerts.missing > 0 || probeErrors > 0 ? 1 : 0);
