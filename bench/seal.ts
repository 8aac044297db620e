/**
 * Seal benchmark (npm run bench:seal [seconds] [rate]): the real sealer on
 * the emulator (moto_server: DynamoDB, S3 with Object Lock, KMS).
 *
 *  1. Steady state: one log fed at ~`rate` events/s (default 1,000) through
 *     the real IngestService for `seconds` (default 30), sealed every 1 s.
 *     Measures, per 1,000 events: S3 PUTs, S3 GETs, KMS Sign calls, DynamoDB
 *     requests and archive bytes written by the sealer; and the latency from
 *     an append's 201 to the first checkpoint covering it (p50/p95/p99/max).
 *  2. Catch-up: a backlog of 20,000 events sealed from scratch with the
 *     default per-run bound; seal throughput in events/s.
 *
 * Counts come from wrapping the sealer's own SDK clients (ingest uses
 * separate clients), so they are exactly what sealing costs. Writes
 * bench/results/seal.json and the `## Seal (bench:seal)` section of
 * docs/benchmarks.md, and prints a table.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoLogStore } from '../src/adapters/aws/dynamo-log-store.ts';
import { DynamoSealStateStore } from '../src/adapters/aws/dynamo-seal-state-store.ts';
import { KmsNoteSigner } from '../src/adapters/aws/kms-signer.ts';
import { createArchiveBucket, S3ArchiveStore } from '../src/adapters/aws/s3-archive-store.ts';
import { SendFaultInjector } from '../src/adapters/aws/send-faults.ts';
import { ensureTable } from '../src/adapters/aws/table.ts';
import { IngestService } from '../src/app/ingest.ts';
import { LogRegistry } from '../src/app/log-registry.ts';
import { SealService } from '../src/app/seal.ts';
import { utf8 } from '../src/core/bytes.ts';
import { startMoto } from '../src/local/moto.ts';
import { systemClock } from '../src/ports/clock.ts';

const SECONDS = Number(process.argv[2] ?? 30);
const RATE = Number(process.argv[3] ?? 1000);
const BACKLOG = 20_000;
const TICK_MS = 250;
const SEAL_EVERY_MS = 1000;
const TABLE = 'bench-seal';
const BUCKET = 'bench-seal-archive';

const moto = await startMoto();
const cfg = {
  endpoint: moto.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  maxAttempts: 1,
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

let counter = 0;
function body(n: number): Uint8Array {
  const events = Array.from({ length: n }, () => {
    const i = counter++;
    return {
      occurredAt: '2026-03-01T12:00:00.000Z',
      actor: { type: 'agent', id: `agent-${i % 97}`, name: 'planner' },
      action: 'tool.call',
      target: { type: 'tool', id: `search-${i % 13}` },
      outcome: i % 10 === 0 ? 'failure' : 'success',
      context: { requestId: `req-${i}`, sessionId: `s-${i % 50}` },
      metadata: { tokens: i % 4000, latencyMs: i % 900 },
    };
  });
  return utf8(JSON.stringify({ events }));
}

try {
  const ingestDdb = new DynamoDBClient(cfg);
  const setupS3 = new S3Client(cfg);
  await ensureTable(ingestDdb, TABLE);
  await createArchiveBucket(setupS3, BUCKET, 400);
  const logs = new DynamoLogStore({ client: ingestDdb, tableName: TABLE });
  const ingest = new IngestService({ store: logs, clock: systemClock, limits: { maxRetries: 20 } });
  const logRegistry = new LogRegistry({ store: logs, clock: systemClock });

  // The sealer's own clients, counted.
  const counted = new SendFaultInjector();
  const ddb = counted.wrap(new DynamoDBClient(cfg), 'dynamodb');
  const s3 = counted.wrap(new S3Client(cfg), 's3');
  const kms = counted.wrap(new KMSClient(cfg), 'kms');
  const key = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
  const signer = await KmsNoteSigner.create({
    client: kms,
    kmsKeyId: key.KeyMetadata?.KeyId as string,
    keyName: 'bench',
  });
  const seal = new SealService({
    logs: new DynamoLogStore({ client: ddb, tableName: TABLE }),
    state: new DynamoSealStateStore({ client: ddb, tableName: TABLE }),
    archive: new S3ArchiveStore({ client: s3, bucket: BUCKET }),
    signer,
    clock: systemClock,
    originPrefix: 'bench.anchorlog',
  });

  const calls = (client: string, command?: string) =>
    counted.calls.filter((c) => c.client === client && (command === undefined || c.command === command))
      .length;

  // --- 1. steady state -------------------------------------------------------
  const LOG = 'steady';
  await logRegistry.createLog(LOG);
  counted.arm();
  const perTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
  const pending: Array<{ at: number; lastIndex: number }> = [];
  const latencies: number[] = [];
  let appended = 0;
  let appendErrors = 0;
  let bytesWritten = 0;
  let tilesWritten = 0;
  let sealRuns = 0;
  let sealMs = 0;
  const sealDurations: number[] = [];
  const start = performance.now();
  const end = start + SECONDS * 1000;

  const producer = (async () => {
    const inflight = new Set<Promise<void>>();
    for (let tick = 0; ; tick++) {
      const due = start + tick * TICK_MS;
      if (due >= end) break;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const p = ingest.append({ logId: LOG, submitter: 'svc-bench', body: body(perTick) }).then(
        (res) => {
          const last = res.receipts[res.receipts.length - 1];
          if (last) pending.push({ at: performance.now(), lastIndex: last.index });
          appended += res.receipts.length;
        },
        () => {
          appendErrors++;
        },
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      // One log has one tip: concurrent appends contend for it. Two in flight keep
      // the emulator busy; a slow emulator turns into a lower rate, not a pile-up.
      if (inflight.size >= 2) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  })();

  const sealer = (async () => {
    for (let next = start + SEAL_EVERY_MS; ; next += SEAL_EVERY_MS) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t0 = performance.now();
      const r = await seal.sealLog(LOG);
      const t1 = performance.now();
      if (r.status === 'sealed') {
        sealRuns++;
        sealMs += t1 - t0;
        sealDurations.push(t1 - t0);
        bytesWritten += r.stats.bytesWritten;
        tilesWritten += r.stats.tilesWritten;
        // Every append whose last record the new checkpoint covers.
        for (let i = pending.length - 1; i >= 0; i--) {
          const a = pending[i] as { at: number; lastIndex: number };
          if (a.lastIndex < r.size) {
            latencies.push(t1 - a.at);
            pending.splice(i, 1);
          }
        }
      }
      if (t1 > end + 2000 && pending.length === 0 && r.status === 'idle') return;
      if (t1 > end + 30_000) return;
    }
  })();
  await producer;
  const feedSeconds = (performance.now() - start) / 1000;
  await sealer;

  const per1k = (n: number) => Math.round((n / appended) * 1000 * 100) / 100;
  latencies.sort((a, b) => a - b);
  sealDurations.sort((a, b) => a - b);
  const steady = {
    seconds: SECONDS,
    targetRate: RATE,
    events: appended,
    achievedRate: Math.round(appended / feedSeconds),
    eventsPerRequest: perTick,
    appendErrors,
    sealIntervalMs: SEAL_EVERY_MS,
    sealRuns,
    sealRunMs: {
      mean: Math.round(sealMs / Math.max(1, sealRuns)),
      p50: Math.round(percentile(sealDurations, 50)),
      max: Math.round(sealDurations[sealDurations.length - 1] ?? 0),
    },
    per1000Events: {
      s3Puts: per1k(calls('s3', 'PutObjectCommand')),
      s3Gets: per1k(calls('s3', 'GetObjectCommand')),
      kmsSign: per1k(calls('kms', 'SignCommand')),
      dynamoRequests: per1k(calls('dynamodb')),
      archiveBytes: Math.round((bytesWritten / appended) * 1000),
      archiveObjects: per1k(tilesWritten + sealRuns),
    },
    appendToCheckpointMs: {
      samples: latencies.length,
      p50: Math.round(percentile(latencies, 50)),
      p95: Math.round(percentile(latencies, 95)),
      p99: Math.round(percentile(latencies, 99)),
      max: Math.round(latencies[latencies.length - 1] ?? 0),
    },
  };

  // --- 2. cost at exactly 1,000 events per seal (logical time) ----------------
  // The wall-clock run above achieves whatever rate the emulator allows; this
  // one fixes the shape — 1,000 events (4 requests of 250) per 1-second seal —
  // so the per-event costs at 1,000 events/s do not depend on emulator speed.
  const EXACT_LOG = 'exact';
  const EXACT_SECONDS = 30;
  await logRegistry.createLog(EXACT_LOG);
  let exactBytes = 0;
  let exactPuts = 0;
  let exactSigns = 0;
  let exactDdb = 0;
  let exactGets = 0;
  const exactRunMs: number[] = [];
  for (let sec = 0; sec < EXACT_SECONDS; sec++) {
    for (let k = 0; k < 4; k++)
      await ingest.append({ logId: EXACT_LOG, submitter: 'svc-bench', body: body(250) });
    counted.arm();
    const t0 = performance.now();
    const r = await seal.sealLog(EXACT_LOG);
    exactRunMs.push(performance.now() - t0);
    exactBytes += r.stats.bytesWritten;
    exactPuts += calls('s3', 'PutObjectCommand');
    exactGets += calls('s3', 'GetObjectCommand');
    exactSigns += calls('kms', 'SignCommand');
    exactDdb += calls('dynamodb');
  }
  const exactEvents = EXACT_SECONDS * 1000;
  const exact = {
    events: exactEvents,
    eventsPerSeal: 1000,
    sealRunMs: {
      p50: Math.round(
        percentile(
          exactRunMs.sort((a, b) => a - b),
          50,
        ),
      ),
      max: Math.round(exactRunMs[exactRunMs.length - 1] ?? 0),
    },
    per1000Events: {
      s3Puts: Math.round((exactPuts / exactEvents) * 1000 * 100) / 100,
      s3Gets: Math.round((exactGets / exactEvents) * 1000 * 100) / 100,
      kmsSign: Math.round((exactSigns / exactEvents) * 1000 * 100) / 100,
      dynamoRequests: Math.round((exactDdb / exactEvents) * 1000 * 100) / 100,
      archiveBytes: Math.round((exactBytes / exactEvents) * 1000),
    },
  };

  // --- 3. catch-up throughput -------------------------------------------------
  const BACKLOG_LOG = 'backlog';
  await logRegistry.createLog(BACKLOG_LOG);
  for (let i = 0; i < BACKLOG; i += 500) {
    await ingest.append({ logId: BACKLOG_LOG, submitter: 'svc-bench', body: body(500) });
  }
  counted.arm();
  const c0 = performance.now();
  let runs = 0;
  for (;;) {
    const r = await seal.sealLog(BACKLOG_LOG);
    runs++;
    if (!r.more) break;
  }
  const catchUpSeconds = (performance.now() - c0) / 1000;
  const catchUp = {
    events: BACKLOG,
    runs,
    seconds: Math.round(catchUpSeconds * 100) / 100,
    eventsPerSecond: Math.round(BACKLOG / catchUpSeconds),
    s3PutsPer1000: Math.round((calls('s3', 'PutObjectCommand') / BACKLOG) * 1000 * 100) / 100,
    kmsSignPer1000: Math.round((calls('kms', 'SignCommand') / BACKLOG) * 1000 * 1000) / 1000,
  };

  let motoVersion = 'unknown';
  try {
    motoVersion = execFileSync('python3', ['-c', 'import moto; print(moto.__version__)'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    // reported as unknown
  }
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 10) / 10,
    moto: motoVersion,
  };
  const date = new Date().toISOString();
  const result = { date, machine, steady, exact, catchUp };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/seal.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);

  const s = steady.per1000Events;
  const l = steady.appendToCheckpointMs;
  const x = exact.per1000Events;
  const section = `## Seal (bench:seal)

\`npm run bench:seal -- ${SECONDS} ${RATE}\` — ${date.slice(0, 10)}; ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB, Node ${machine.node}, moto ${machine.moto}; 1-min load average ${machine.loadAverage1m} (the machine was shared: wall-clock numbers are pessimistic, call counts are not). Real IngestService, SealService and DynamoDB / S3 (Object Lock) / KMS adapters against one moto_server; counts come from the sealer's own SDK clients. Raw numbers: \`bench/results/seal.json\`.

| sealer cost per 1,000 events | exactly 1,000 events per 1-s seal | wall-clock run: ${steady.achievedRate} events/s, seal every 1 s |
| --- | ---: | ---: |
| S3 PUTs (bundles, tiles, checkpoint) | ${x.s3Puts} | ${s.s3Puts} |
| S3 GETs (right-edge partial tiles, bundle) | ${x.s3Gets} | ${s.s3Gets} |
| KMS Sign calls | ${x.kmsSign} | ${s.kmsSign} |
| DynamoDB requests (state, batches, CAS, marker) | ${x.dynamoRequests} | ${s.dynamoRequests} |
| archive bytes written | ${x.archiveBytes} | ${s.archiveBytes} |

The first column fixes the shape (${EXACT_SECONDS} seals of 1,000 events each, 4 requests of 250), so it is the cost at 1,000 events/s regardless of emulator speed; with ingest paused, such a seal run took ${exact.sealRunMs.p50} ms (p50; max ${exact.sealRunMs.max}). The second is a ${SECONDS}-s wall-clock feed at a target of ${RATE} events/s (${perTick} events per request; ingest on the emulator reached ${steady.achievedRate}/s), ${sealRuns} checkpoints, a seal run taking ${steady.sealRunMs.p50} ms (p50; max ${steady.sealRunMs.max}) while competing with ingest for the one single-threaded emulator — so checkpoints came less often than every second.

A seal run costs about the same whatever it covers: one entry bundle and one level-0 tile at a new partial width, full tiles as they fill (1 bundle + 1 tile per 256 events, 1 level-1 tile per 65,536), one checkpoint PUT and one Sign. So the cost per event falls with events per seal: at 10 events/s with 1-s seals the PUTs per event are ~100× higher; sealing less often trades latency for cost linearly, and an idle log costs two reads per run and nothing else. Bytes written exceed the record bytes because each run rewrites the right-edge partial bundle (up to 255 earlier records) at its new width — the C2SP tlog-tiles partial-tile cost; a longer seal interval or larger batches amortise it.

**Append → covered by a checkpoint** (in-process, sealing every 1 s, ${l.samples} appends of the wall-clock run): p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms, max ${l.max} ms. The floor is the wait for the next tick (0.5 s on average) plus one seal run; end-to-end over HTTP (201 → checkpoint served) is measured separately by the lead's harness.

**Catch-up.** A ${BACKLOG.toLocaleString('en-US')}-event backlog sealed from scratch in ${runs} run(s) (≤ 16,384 records each) took ${catchUp.seconds} s: ${catchUp.eventsPerSecond} events/s, with ${catchUp.s3PutsPer1000} PUTs and ${catchUp.kmsSignPer1000} Sign calls per 1,000 events. On the emulator this is bound by S3 PUT and DynamoDB latency and record verification, not by tree hashing (see bench:core).

`;
  const docs = new URL('../docs/benchmarks.md', import.meta.url);
  mkdirSync(new URL('../docs/', import.meta.url), { recursive: true });
  let text = existsSync(docs) ? readFileSync(docs, 'utf8') : '# Benchmarks\n';
  const startIdx = text.indexOf('## Seal (bench:seal)');
  if (startIdx >= 0) {
    const rest = text.slice(startIdx + 1);
    const nextIdx = rest.search(/\n## /);
    text = text.slice(0, startIdx) + section + (nextIdx >= 0 ? rest.slice(nextIdx + 1) : '');
  } else {
    text = `${text.trimEnd()}\n\n${section}`;
  }
  writeFileSync(docs, text);

  console.table({
    'events (steady)': steady.events,
    'achieved events/s': steady.achievedRate,
    'S3 PUTs / 1k events': s.s3Puts,
    'KMS Sign / 1k events': s.kmsSign,
    'DynamoDB req / 1k events': s.dynamoRequests,
    'archive bytes / 1k events': s.archiveBytes,
    'append→checkpoint p50 ms': l.p50,
    'append→checkpoint p99 ms': l.p99,
    'catch-up events/s': catchUp.eventsPerSecond,
  });
} finally {
  await moto.stop();
}
