/**
 * Cost model from a measured local run (`npm run bench:cost [scale]`).
 *
 * On the local stack (HTTP API, auth, IngestService, SealService,
 * AnchorService; DynamoDB, S3 Object Lock and KMS on moto_server; two
 * OpenSSL TSAs), for batch sizes 1, 10 and 100:
 *   ingest events through 4 AuditClients (one batch in flight each), and
 *   after every SEAL_EVERY (1,000) events run one seal and one anchor pass,
 *   the way the scheduled seal and anchor Lambdas would.
 * Every AWS request and byte is counted by RequestMeter on the stack's own
 * SDK clients, by stage (ingest / seal / anchor), service and operation;
 * HTTP API requests and TSA calls by a wrapper around global fetch
 * (installed before the stack starts, so the TSA clients use it too);
 * handler durations are measured and turned into Lambda GB-seconds with the
 * memory sizes of cdk/anchorlog-stack.ts: each seal and anchor pass as it
 * runs, and the API's (round trip, and the authenticate step as the
 * authorizer's share) in a short sequential single-client calibration before
 * each phase, so the in-process per-log queue that 4 local clients wait in
 * (a Lambda has none) does not inflate them. Stored bytes: S3 PutObject bytes
 * (Object Lock: nothing is ever deleted) and DynamoDB item bytes (+100 B per
 * item) from a table scan after each phase.
 *
 * bench/prices.json (list prices, us-east-1) turns the counts into dollars
 * per million events by service. Also measured: an idle seal + anchor pass
 * (no new events), for the fixed monthly floor of the deployed schedules.
 * Prints tables and writes bench/results/cost.json. Durations come from a
 * loaded emulator, so the Lambda GB-seconds are pessimistic; counts are not.
 *
 * The query index (issue #17; docs/query.md §7) is metered the same way, no
 * estimated line: after every seal the project job runs on its own (stage
 * `project`: Parquet PUTs, state GET/PUT, LIST, entry-bundle GETs), at the end
 * of each phase the day is compacted as the hourly compaction closes it
 * (stage `compact`: GET, PUT, DELETE, LIST), both billed as x86_64 Lambdas of
 * 2 GB (cdk/constructs/service-function.ts DUCKDB_ARCHITECTURE) plus one
 * scheduler invocation per run; the index bytes at the end of a phase (a
 * LIST of the bucket) are its storage. After the last phase the two sample
 * queries run once each through the API (stage `query`), reported per 1,000
 * queries, not per event.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { AuditClient } from '../src/client/audit-client.ts';
import { createColumnarIndexer } from '../src/compose/query.ts';
import { demoEvents } from '../src/local/demo-events.ts';
import { startLocalStack } from '../src/local/stack.ts';
import { load, machine } from './machine.ts';
import { itemSize, type OperationTally, RequestMeter } from './request-meter.ts';

const SCALE = Number(process.argv[2] ?? process.env.BENCH_COST_SCALE ?? 1);
const BATCHES = [1, 10, 100];
/** Events per phase (batch size 1 is emulator-bound at ~10 events/s here, so it gets fewer). */
const EVENTS: Record<number, number> = {
  1: Math.round(1000 * SCALE),
  10: Math.round(2000 * SCALE),
  100: Math.round(2000 * SCALE),
};
const SEAL_EVERY = 1000;
/** Sequential requests per batch size used to measure handler durations. */
const CALIBRATION: Record<number, number> = { 1: 30, 10: 20, 100: 10 };
const CLIENTS = 4;
/** Lambda memory (MB), from cdk/anchorlog-stack.ts. */
const MEMORY_MB = {
  authorizer: 512,
  ingest: 1024,
  seal: 1024,
  anchor: 512,
  project: 2048,
  compact: 2048,
  query: 2048,
};
/** Deployed schedules (cdk/anchorlog-stack.ts): seal every minute, anchor every 5 minutes; 30-day month. */
const RUNS_PER_MONTH = {
  seal: (30 * 24 * 60) / 1,
  anchor: (30 * 24 * 60) / 5,
  project: 30 * 24 * 60,
  compact: 30 * 24,
};
const HTTP_API_METER_BYTES = 512 * 1024;

interface Price {
  usd: number;
  per: number;
}
const prices = JSON.parse(readFileSync(new URL('./prices.json', import.meta.url), 'utf8')) as {
  items: Record<string, Price>;
};
const unit = (k: string) => {
  const p = prices.items[k];
  if (!p) throw new Error(`bench/prices.json has no ${k}`);
  return p.usd / p.per;
};

// ---- fetch wrapper: API requests (with durations and body sizes) and TSA calls -------------
interface HttpTally {
  apiRequests: number;
  apiMeteredRequests: number;
  apiMs: number[];
  apiRequestBytes: number;
  tsaCalls: number;
}
const newHttpTally = (): HttpTally => ({
  apiRequests: 0,
  apiMeteredRequests: 0,
  apiMs: [],
  apiRequestBytes: 0,
  tsaCalls: 0,
});
let http = newHttpTally();
let apiPrefix = '\u0000';
const tsaUrls = new Set<string>();
const realFetch = globalThis.fetch;
globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const t = performance.now();
  try {
    return await realFetch(input, init);
  } finally {
    const ms = performance.now() - t;
    if (url.startsWith(apiPrefix)) {
      const bytes = typeof init?.body === 'string' ? Buffer.byteLength(init.body) : 0;
      http.apiRequests++;
      http.apiMeteredRequests += Math.max(1, Math.ceil(bytes / HTTP_API_METER_BYTES));
      http.apiMs.push(ms);
      http.apiRequestBytes += bytes;
    } else if (tsaUrls.has(url)) {
      http.tsaCalls++;
    }
  }
}) as typeof fetch;

const r2 = (x: number) => Math.round(x * 100) / 100;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => (xs.length ? sum(xs) / xs.length : 0);
/** Lambda bills duration rounded up to 1 ms. */
const gbSeconds = (memMb: number, ms: number[]) => sum(ms.map((m) => (memMb / 1024) * (Math.ceil(m) / 1000)));

type Stage = 'ingest' | 'seal' | 'anchor' | 'project' | 'compact';
type StageTallies = Record<Stage, Map<string, OperationTally>>;
const newStages = (): StageTallies => ({
  ingest: new Map(),
  seal: new Map(),
  anchor: new Map(),
  project: new Map(),
  compact: new Map(),
});

const stateDir = mkdtempSync(join(tmpdir(), 'anchorlog-bench-cost-'));
const startedAt = new Date();
const loadStart = load();
console.log(`starting the local stack… load ${loadStart.join(' ')}`);
const stack = await startLocalStack({ stateDir, port: 0, sealIntervalMs: 0, projectAfterSeal: false });
const indexer = createColumnarIndexer(stack.services);
const indexBucket = stack.services.config.indexBucket as string;
apiPrefix = stack.info.apiUrl;
for (const u of stack.info.tsaUrls) tsaUrls.add(u);

const meter = new RequestMeter();
const { ddb, s3, kms } = stack.services.clients;
meter.attach(ddb);
meter.attach(s3);
meter.attach(kms);
const scanClient = new DynamoDBClient({
  endpoint: stack.info.awsEndpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
});

// The authorizer's share of each API request: time the authenticate step.
let authMs: number[] = [];
const principals = stack.services.principals;
const authenticate = principals.authenticate.bind(principals);
principals.authenticate = async (h) => {
  const t = performance.now();
  try {
    return await authenticate(h);
  } finally {
    authMs.push(performance.now() - t);
  }
};

function drain(into: Map<string, OperationTally>): void {
  for (const t of meter.snapshot()) {
    const k = `${t.service}/${t.operation}`;
    const acc = into.get(k);
    if (!acc) into.set(k, { ...t });
    else {
      acc.requests += t.requests;
      acc.errors += t.errors;
      acc.conditionalFailures += t.conditionalFailures;
      acc.requestBytes += t.requestBytes;
      acc.responseBytes += t.responseBytes;
      acc.wcu += t.wcu;
      acc.rcu += t.rcu;
    }
  }
  meter.reset();
}

/** Bytes of the columnar index now (every current object), read with a LIST that is not counted. */
async function storedIndexBytes(): Promise<number> {
  let bytes = 0;
  let token: string | undefined;
  do {
    const out = await stack.services.clients.s3.send(
      new ListObjectsV2Command({ Bucket: indexBucket, ContinuationToken: token }),
    );
    for (const o of out.Contents ?? []) bytes += o.Size ?? 0;
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  meter.reset();
  return bytes;
}

async function storedDynamoBytes(): Promise<{ items: number; bytes: number }> {
  let items = 0;
  let bytes = 0;
  let start: Record<string, never> | undefined;
  do {
    const out = await scanClient.send(
      new ScanCommand({ TableName: stack.info.tableName, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    for (const it of out.Items ?? []) {
      items++;
      bytes += itemSize(it as never) + 100;
    }
    start = out.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return { items, bytes };
}

const POOL = demoEvents({ count: 10_000, startMs: Date.parse('2026-11-01T00:00:00Z'), seed: 9 });
let nextIx = 0;
const nextEvent = () => POOL[nextIx++ % POOL.length] as Record<string, unknown>;

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

interface Phase {
  batchEvents: number;
  events: number;
  seals: number;
  anchors: number;
  stages: StageTallies;
  http: HttpTally;
  authMs: number[];
  sealMs: number[];
  anchorMs: number[];
  projectMs: number[];
  compactMs: number[];
  storedIndexBytes: number;
  /** Sequential single-client API round trips and authenticate times (ms), for Lambda durations. */
  calibration: { apiMs: number[]; authMs: number[] };
  storedDynamoBytes: number;
  storedDynamoItems: number;
  wallSeconds: number;
  load1m: number;
}

const phases: Phase[] = [];
let idle:
  | {
      stages: StageTallies;
      sealMs: number;
      anchorMs: number;
      projectMs: number;
      compactMs: number;
      tsaCalls: number;
    }
  | undefined;
/** The two sample queries, each run once through the API after the last phase (stage `query`). */
const queries: {
  name: string;
  ms: number;
  rows: number;
  tally: ReturnType<typeof byOpRaw>;
}[] = [];
function byOpRaw(m: Map<string, OperationTally>) {
  return [...m.values()].map((t) => ({ ...t }));
}
try {
  // Warm-up (caches, first checkpoint of both logs, first anchors), not counted.
  {
    const c = new AuditClient({
      apiUrl: stack.info.apiUrl,
      apiKey: stack.info.apiKey,
      logId: stack.info.logId,
    });
    await Promise.all(Array.from({ length: 20 }, () => c.append(nextEvent())));
    await c.close();
    await stack.sealNow();
    await stack.projectNow();
    await stack.anchorNow();
  }

  // An idle pass: what each scheduled run costs when nothing arrived.
  meter.reset();
  http = newHttpTally();
  {
    const stages = newStages();
    const sealMs = await timed(() => stack.sealNow());
    drain(stages.seal);
    const anchorMs = await timed(() => stack.anchorNow());
    drain(stages.anchor);
    const projectMs = await timed(() => stack.projectNow());
    drain(stages.project);
    const compactMs = await timed(async () => void (await indexer.compact(stack.info.logId)));
    drain(stages.compact);
    idle = { stages, sealMs, anchorMs, projectMs, compactMs, tsaCalls: http.tsaCalls };
  }

  let before = await storedDynamoBytes();
  for (const batch of BATCHES) {
    const total = EVENTS[batch] ?? 1000;
    // Durations for the Lambda model: one client, one request at a time, so the in-process
    // per-log queue (which a Lambda does not have) does not inflate them. Sealed, not counted.
    http = newHttpTally();
    authMs = [];
    {
      const c = new AuditClient({
        apiUrl: stack.info.apiUrl,
        apiKey: stack.info.apiKey,
        logId: stack.info.logId,
        maxBatchEvents: batch,
        maxInFlightBatches: 1,
        flushIntervalMs: 5,
      });
      for (let i = 0; i < (CALIBRATION[batch] ?? 10); i++) {
        await Promise.all(Array.from({ length: batch }, () => c.append(nextEvent())));
      }
      await c.close();
      await stack.sealNow();
      await stack.projectNow();
      await indexer.compact(stack.info.logId, { all: true });
      await stack.anchorNow();
    }
    const calibration = { apiMs: http.apiMs, authMs };
    before = await storedDynamoBytes();
    const indexBefore = await storedIndexBytes();
    const stages = newStages();
    http = newHttpTally();
    authMs = [];
    const sealMs: number[] = [];
    const anchorMs: number[] = [];
    const projectMs: number[] = [];
    const compactMs: number[] = [];
    let events = 0;
    const t0 = performance.now();
    const clients = Array.from(
      { length: CLIENTS },
      () =>
        new AuditClient({
          apiUrl: stack.info.apiUrl,
          apiKey: stack.info.apiKey,
          logId: stack.info.logId,
          maxBatchEvents: batch,
          maxInFlightBatches: 1,
          flushIntervalMs: 5,
        }),
    );
    meter.reset();
    while (events < total) {
      const chunk = Math.min(SEAL_EVERY, total - events);
      let left = chunk;
      await Promise.all(
        clients.map(async (c) => {
          while (left > 0) {
            const n = Math.min(batch, left);
            left -= n;
            await Promise.all(Array.from({ length: n }, () => c.append(nextEvent())));
          }
        }),
      );
      events += chunk;
      drain(stages.ingest);
      sealMs.push(await timed(() => stack.sealNow()));
      drain(stages.seal);
      // The project function's run after the seal (its own schedule in AWS: every minute).
      projectMs.push(await timed(() => stack.projectNow()));
      drain(stages.project);
      anchorMs.push(await timed(() => stack.anchorNow()));
      drain(stages.anchor);
      process.stdout.write(`  batch ${batch}: ${events}/${total} events, sealed and anchored\n`);
    }
    for (const c of clients) await c.close();
    // The day closes: the hourly compaction merges its files into one (what a day costs once).
    compactMs.push(await timed(async () => void (await indexer.compact(stack.info.logId, { all: true }))));
    drain(stages.compact);
    const indexAfter = await storedIndexBytes();
    const after = await storedDynamoBytes();
    const acked = clients.reduce((s, c) => s + c.stats.events, 0);
    if (acked !== events) throw new Error(`acknowledged ${acked} events, sent ${events}`);
    phases.push({
      batchEvents: batch,
      events,
      seals: sealMs.length,
      anchors: anchorMs.length,
      stages,
      http,
      authMs,
      sealMs,
      anchorMs,
      projectMs,
      compactMs,
      storedIndexBytes: indexAfter - indexBefore,
      calibration,
      storedDynamoBytes: after.bytes - before.bytes,
      storedDynamoItems: after.items - before.items,
      wallSeconds: (performance.now() - t0) / 1000,
      load1m: load()[0] ?? 0,
    });
    before = after;
    console.log(
      `batch ${batch}: ${events} events in ${r2((performance.now() - t0) / 1000)} s, load ${load()[0]}`,
    );
  }

  // The sample queries, once each, through the API (the query function's work: index GETs).
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.info.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${stack.info.apiKey}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const log = encodeURIComponent(stack.info.logId);
  const now = Date.now();
  const from = new Date(now - 30 * 86_400_000).toISOString();
  const to = new Date(now + 86_400_000).toISOString();
  const actor = String((POOL[0] as { actor?: { id?: string } }).actor?.id);
  meter.reset();
  for (const q of [
    {
      name: "an actor's events over 30 days (GET events, every page)",
      run: async () => {
        let rows = 0;
        let cursor: string | undefined;
        do {
          const qs = new URLSearchParams({ actorId: actor, from, to, limit: '1000' });
          if (cursor) qs.set('cursor', cursor);
          const r = await api('GET', `/v1/logs/${log}/events?${qs}`);
          rows += (r.records as unknown[]).length;
          cursor = r.cursor as string | undefined;
        } while (cursor);
        return rows;
      },
    },
    {
      name: 'privileged access changes (POST sql)',
      run: async () => {
        const r = await api('POST', `/v1/logs/${log}/sql`, {
          sql: "SELECT leafIndex, receivedAt, actorId, action, targetId FROM events WHERE action LIKE 'access.%' ORDER BY leafIndex",
          from,
          to,
          maxRows: 10_000,
        });
        return (r.rows as unknown[]).length;
      },
    },
  ]) {
    const tally = new Map<string, OperationTally>();
    let rows = 0;
    const ms = await timed(async () => {
      rows = await q.run();
    });
    drain(tally);
    queries.push({ name: q.name, ms, rows, tally: byOpRaw(tally) });
  }
} finally {
  await stack.stop();
  globalThis.fetch = realFetch;
  rmSync(stateDir, { recursive: true, force: true });
}

// ---- the model --------------------------------------------------------------------------------
const S3_TIER1 = /^(Put|Copy|Post|List|CreateMultipart|UploadPart|CompleteMultipart)/;
const KMS_ASYMMETRIC = new Set(['Sign', 'Verify']);

function totals(stages: StageTallies) {
  const all = Object.values(stages).flatMap((m) => [...m.values()]);
  const pick = (svc: string) => all.filter((t) => t.service === svc);
  const ddbT = pick('DynamoDB');
  const s3T = pick('S3');
  const kmsT = pick('KMS');
  return {
    ddbRequests: sum(ddbT.map((t) => t.requests)),
    wcu: sum(ddbT.map((t) => t.wcu)),
    rcu: sum(ddbT.map((t) => t.rcu)),
    s3Tier1: sum(s3T.filter((t) => S3_TIER1.test(t.operation)).map((t) => t.requests)),
    s3Tier2: sum(s3T.filter((t) => !S3_TIER1.test(t.operation)).map((t) => t.requests)),
    s3PutBytes: sum(s3T.filter((t) => t.operation === 'PutObject').map((t) => t.requestBytes)),
    s3GetBytes: sum(s3T.filter((t) => t.operation === 'GetObject').map((t) => t.responseBytes)),
    kmsAsymmetric: sum(kmsT.filter((t) => KMS_ASYMMETRIC.has(t.operation)).map((t) => t.requests)),
    kmsOther: sum(kmsT.filter((t) => !KMS_ASYMMETRIC.has(t.operation)).map((t) => t.requests)),
  };
}

const byOp = (m: Map<string, OperationTally>) =>
  Object.fromEntries(
    [...m.values()].map((t) => [
      `${t.service}/${t.operation}`,
      {
        requests: t.requests,
        conditionalFailures: t.conditionalFailures,
        requestBytes: t.requestBytes,
        responseBytes: t.responseBytes,
        wcu: t.wcu,
        rcu: t.rcu,
      },
    ]),
  );

const rows = phases.map((p) => {
  const t = totals(p.stages);
  const perM = 1_000_000 / p.events;
  // Each counted API request is billed at the calibrated (uncontended) mean durations.
  const meanApiMs = mean(p.calibration.apiMs);
  const meanAuthMs = mean(p.calibration.authMs);
  const meanIngestMs = Math.max(1, meanApiMs - meanAuthMs);
  const runs = p.seals + p.anchors + p.projectMs.length + p.compactMs.length;
  const lambda = {
    invocations: p.http.apiRequests * 2 + runs,
    durationMs: { authorizer: meanAuthMs, ingest: meanIngestMs },
    gbSeconds: {
      authorizer: p.http.apiRequests * gbSeconds(MEMORY_MB.authorizer, [meanAuthMs]),
      ingest: p.http.apiRequests * gbSeconds(MEMORY_MB.ingest, [meanIngestMs]),
      seal: gbSeconds(MEMORY_MB.seal, p.sealMs),
      anchor: gbSeconds(MEMORY_MB.anchor, p.anchorMs),
      // x86_64 (the DuckDB functions), priced apart below.
      project: gbSeconds(MEMORY_MB.project, p.projectMs),
      compact: gbSeconds(MEMORY_MB.compact, p.compactMs),
    },
  };
  const armGbs =
    lambda.gbSeconds.authorizer + lambda.gbSeconds.ingest + lambda.gbSeconds.seal + lambda.gbSeconds.anchor;
  const x86Gbs = lambda.gbSeconds.project + lambda.gbSeconds.compact;
  const gbs = armGbs + x86Gbs;
  // The query index alone: its S3 requests, its functions and their schedule.
  const ix = totals({ ...newStages(), project: p.stages.project, compact: p.stages.compact });
  const indexUsd =
    ix.s3Tier1 * unit('s3.putCopyPostList') +
    ix.s3Tier2 * unit('s3.getAndOther') +
    ix.wcu * unit('dynamodb.writeRequestUnit') +
    ix.rcu * unit('dynamodb.readRequestUnit') +
    (p.projectMs.length + p.compactMs.length) * (unit('lambda.requests') + unit('scheduler.invocations')) +
    x86Gbs * unit('lambda.x86GbSecond');
  const usd = {
    dynamodb: t.wcu * unit('dynamodb.writeRequestUnit') + t.rcu * unit('dynamodb.readRequestUnit'),
    s3: t.s3Tier1 * unit('s3.putCopyPostList') + t.s3Tier2 * unit('s3.getAndOther'),
    kms: t.kmsAsymmetric * unit('kms.asymmetricRequests') + t.kmsOther * unit('kms.symmetricRequests'),
    apiGateway: p.http.apiMeteredRequests * unit('apigateway.httpApiRequests'),
    lambda:
      lambda.invocations * unit('lambda.requests') +
      armGbs * unit('lambda.armGbSecond') +
      x86Gbs * unit('lambda.x86GbSecond'),
    scheduler: runs * unit('scheduler.invocations'),
  };
  const perMillion = Object.fromEntries(Object.entries(usd).map(([k, v]) => [k, v * perM])) as typeof usd;
  const totalPerMillion = sum(Object.values(perMillion));
  const storagePerMillionPerMonth = {
    s3: ((t.s3PutBytes * perM) / 1e9) * unit('s3.storageGbMonth'),
    dynamodb: ((p.storedDynamoBytes * perM) / 1e9) * unit('dynamodb.storageGbMonth'),
    index: ((p.storedIndexBytes * perM) / 1e9) * unit('s3.storageGbMonth'),
  };
  return {
    batchEvents: p.batchEvents,
    events: p.events,
    seals: p.seals,
    anchors: p.anchors,
    wallSeconds: r2(p.wallSeconds),
    load1m: p.load1m,
    per1000Events: {
      apiRequests: (p.http.apiRequests * 1000) / p.events,
      ddbRequests: (t.ddbRequests * 1000) / p.events,
      wcu: (t.wcu * 1000) / p.events,
      rcu: (t.rcu * 1000) / p.events,
      s3Put: (t.s3Tier1 * 1000) / p.events,
      s3Get: (t.s3Tier2 * 1000) / p.events,
      s3PutBytes: (t.s3PutBytes * 1000) / p.events,
      kmsSign: (t.kmsAsymmetric * 1000) / p.events,
      lambdaInvocations: (lambda.invocations * 1000) / p.events,
      lambdaGbSeconds: (gbs * 1000) / p.events,
      schedulerInvocations: ((p.seals + p.anchors) * 1000) / p.events,
      tsaCalls: (p.http.tsaCalls * 1000) / p.events,
      storedDynamoBytes: (p.storedDynamoBytes * 1000) / p.events,
    },
    durationsMs: {
      countedRunApiP50: pctl(p.http.apiMs, 50),
      calibratedApiMean: meanApiMs,
      calibratedAuthMean: meanAuthMs,
      sealMean: sum(p.sealMs) / p.sealMs.length,
      anchorMean: sum(p.anchorMs) / p.anchorMs.length,
    },
    lambda,
    usdPerMillionEvents: perMillion,
    totalUsdPerMillionEvents: totalPerMillion,
    /** Part of the total: the columnar query index (project + compact runs), every line metered. */
    queryIndexUsdPerMillionEvents: indexUsd * perM,
    queryIndex: {
      projectRuns: p.projectMs.length,
      compactRuns: p.compactMs.length,
      projectMsMean: mean(p.projectMs),
      compactMsMean: mean(p.compactMs),
      storedBytesPer1000Events: (p.storedIndexBytes * 1000) / p.events,
      s3RequestsPer1000Events: ((ix.s3Tier1 + ix.s3Tier2) * 1000) / p.events,
      project: byOp(p.stages.project),
      compact: byOp(p.stages.compact),
    },
    storageUsdPerMillionEventsPerMonth: storagePerMillionPerMonth,
    byStage: Object.fromEntries(Object.entries(p.stages).map(([k, m]) => [k, byOp(m)])),
  };
});

function pctl(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number) : Number.NaN;
}

// Custom metrics: src/app/anchor.ts emits 4 per log (AnchorTsaGranted, AnchorTsaFailures, AnchorTsaCalls,
// AnchorQuorumMissed; dimension LogId) and 1 per TSA that failed (AnchorTsaFailure; dimension Tsa). Here:
// the demo log and the system log, and both TSAs counted as if each failed once in the month.
const CUSTOM_METRICS = 4 * 2 + (stack.info.tsaUrls.length || 2);

// Fixed monthly floor of the deployed schedules on an idle log, from the measured idle pass.
const idleT = idle ? totals(idle.stages) : undefined;
const idleSeal = idle ? totals({ ...newStages(), seal: idle.stages.seal }) : undefined;
const idleProject = idle ? totals({ ...newStages(), project: idle.stages.project }) : undefined;
const idleCompact = idle ? totals({ ...newStages(), compact: idle.stages.compact }) : undefined;
const idleAnchor = idle ? totals({ ...newStages(), anchor: idle.stages.anchor }) : undefined;
const runCost = (
  t: ReturnType<typeof totals> | undefined,
  memMb: number,
  ms: number,
  gbUnit = 'lambda.armGbSecond',
) =>
  t
    ? t.wcu * unit('dynamodb.writeRequestUnit') +
      t.rcu * unit('dynamodb.readRequestUnit') +
      t.s3Tier1 * unit('s3.putCopyPostList') +
      t.s3Tier2 * unit('s3.getAndOther') +
      t.kmsAsymmetric * unit('kms.asymmetricRequests') +
      t.kmsOther * unit('kms.symmetricRequests') +
      unit('lambda.requests') +
      gbSeconds(memMb, [ms]) * unit(gbUnit) +
      unit('scheduler.invocations')
    : 0;
const fixedMonthly = {
  sealRuns: RUNS_PER_MONTH.seal,
  anchorRuns: RUNS_PER_MONTH.anchor,
  idleSealRunUsd: runCost(idleSeal, MEMORY_MB.seal, idle?.sealMs ?? 0),
  idleAnchorRunUsd: runCost(idleAnchor, MEMORY_MB.anchor, idle?.anchorMs ?? 0),
  projectRuns: RUNS_PER_MONTH.project,
  compactRuns: RUNS_PER_MONTH.compact,
  idleProjectRunUsd: runCost(idleProject, MEMORY_MB.project, idle?.projectMs ?? 0, 'lambda.x86GbSecond'),
  idleCompactRunUsd: runCost(idleCompact, MEMORY_MB.compact, idle?.compactMs ?? 0, 'lambda.x86GbSecond'),
  schedulesUsd:
    RUNS_PER_MONTH.seal * runCost(idleSeal, MEMORY_MB.seal, idle?.sealMs ?? 0) +
    RUNS_PER_MONTH.anchor * runCost(idleAnchor, MEMORY_MB.anchor, idle?.anchorMs ?? 0) +
    RUNS_PER_MONTH.project *
      runCost(idleProject, MEMORY_MB.project, idle?.projectMs ?? 0, 'lambda.x86GbSecond') +
    RUNS_PER_MONTH.compact *
      runCost(idleCompact, MEMORY_MB.compact, idle?.compactMs ?? 0, 'lambda.x86GbSecond'),
  kmsKeyUsd: unit('kms.keyMonth'),
  customMetrics: CUSTOM_METRICS,
  customMetricsUsd: CUSTOM_METRICS * unit('cloudwatch.customMetricMonth'),
};
const cloudTrailPerMillion = 1_000_000 * unit('cloudtrail.dataEvents');
/** CloudTrail Lake bills ingestion per GB: per million events at this run's mean event size. */
const eventBytes = POOL.reduce((n, e) => n + JSON.stringify(e).length, 0) / POOL.length;
const cloudTrailLakePerMillion = ((1_000_000 * eventBytes) / 1e9) * unit('cloudtrailLake.ingestionGb');

/** Each sample query: its S3 requests and bytes, its Lambda time (x86_64, 2 GB), per 1,000 queries. */
const queryRows = queries.map((q) => {
  const s3T = q.tally.filter((t) => t.service === 'S3');
  const tier1 = sum(s3T.filter((t) => S3_TIER1.test(t.operation)).map((t) => t.requests));
  const tier2 = sum(s3T.filter((t) => !S3_TIER1.test(t.operation)).map((t) => t.requests));
  const ddbT = q.tally.filter((t) => t.service === 'DynamoDB');
  const usd =
    tier1 * unit('s3.putCopyPostList') +
    tier2 * unit('s3.getAndOther') +
    sum(ddbT.map((t) => t.rcu)) * unit('dynamodb.readRequestUnit') +
    gbSeconds(MEMORY_MB.query, [q.ms]) * unit('lambda.x86GbSecond') +
    unit('lambda.requests') * 2 +
    unit('apigateway.httpApiRequests');
  return {
    name: q.name,
    rows: q.rows,
    ms: r2(q.ms),
    s3Requests: tier1 + tier2,
    bytesRead: sum(s3T.filter((t) => t.operation === 'GetObject').map((t) => t.responseBytes)),
    usdPer1000Queries: usd * 1000,
    byOperation: q.tally,
  };
});

const loadEnd = load();
const result = {
  date: startedAt.toISOString(),
  machine: machine(),
  loadAverage: { start: loadStart, end: loadEnd },
  settings: {
    eventsPerPhase: EVENTS,
    sealEveryEvents: SEAL_EVERY,
    anchorPerSeal: 1,
    clients: CLIENTS,
    tsas: stack.info.tsaUrls.length,
    lambdaMemoryMb: MEMORY_MB,
    eventJsonBytes: Math.round(POOL.reduce((n, e) => n + JSON.stringify(e).length, 0) / POOL.length),
  },
  prices: 'bench/prices.json',
  phases: rows,
  idlePass: idle
    ? {
        sealMs: idle.sealMs,
        anchorMs: idle.anchorMs,
        tsaCalls: idle.tsaCalls,
        seal: byOp(idle.stages.seal),
        anchor: byOp(idle.stages.anchor),
        totals: idleT,
      }
    : undefined,
  fixedMonthly,
  cloudTrailDataEventsUsdPerMillion: cloudTrailPerMillion,
  cloudTrailLakeIngestionUsdPerMillion: cloudTrailLakePerMillion,
  queries: queryRows,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/cost.json', `${JSON.stringify(result, null, 2)}\n`);

const money = (x: number) => (x >= 1 ? `$${x.toFixed(2)}` : `$${x.toFixed(3)}`);
const f = (x: number, d = 2) => (Math.round(x * 10 ** d) / 10 ** d).toLocaleString('en-US');
console.log('');
console.log('Counts per 1,000 events (ingest + seal every 1,000 events + anchor per seal):');
console.log(
  '| batch | API req | DynamoDB req | est. WCU | est. RCU | S3 PUT | S3 GET | KMS Sign | Lambda inv. | Lambda GB-s | TSA calls | S3 bytes | DynamoDB bytes |',
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const c = r.per1000Events;
  console.log(
    `| ${r.batchEvents} | ${f(c.apiRequests, 1)} | ${f(c.ddbRequests, 1)} | ${f(c.wcu, 1)} | ${f(c.rcu, 1)} | ${f(c.s3Put, 1)} | ${f(c.s3Get, 1)} | ${f(c.kmsSign, 1)} | ${f(c.lambdaInvocations, 1)} | ${f(c.lambdaGbSeconds, 1)} | ${f(c.tsaCalls, 1)} | ${f(c.s3PutBytes / 1000, 0)} k | ${f(c.storedDynamoBytes / 1000, 0)} k |`,
  );
}
console.log('');
console.log('Dollars per million events (list prices, us-east-1, no free tier):');
console.log(
  '| batch | DynamoDB | S3 requests | KMS | API Gateway | Lambda | Scheduler | **total** | of which the query index | storage / month retained: S3 + DynamoDB + index |',
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const u = r.usdPerMillionEvents;
  const s = r.storageUsdPerMillionEventsPerMonth;
  console.log(
    `| ${r.batchEvents} | ${money(u.dynamodb)} | ${money(u.s3)} | ${money(u.kms)} | ${money(u.apiGateway)} | ${money(u.lambda)} | ${money(u.scheduler)} | **${money(r.totalUsdPerMillionEvents)}** | ${money(r.queryIndexUsdPerMillionEvents)} | ${money(s.s3)} + ${money(s.dynamodb)} + ${money(s.index)} |`,
  );
}
console.log('');
console.log(
  `Fixed monthly (idle log, deployed schedules: ${fixedMonthly.sealRuns} seal + ${fixedMonthly.anchorRuns} anchor runs): ` +
    `${money(fixedMonthly.schedulesUsd)} + KMS key ${money(fixedMonthly.kmsKeyUsd)} + ${fixedMonthly.customMetrics} custom metrics ${money(fixedMonthly.customMetricsUsd)}`,
);
console.log(`CloudTrail data events: ${money(cloudTrailPerMillion)} per million (bench/prices.json)`);
console.log(
  `CloudTrail Lake ingestion: ${money(cloudTrailLakePerMillion)} per million events of ${Math.round(eventBytes)} B (bench/prices.json cloudtrailLake.ingestionGb)`,
);
console.log('');
console.log('Query index per phase (project after every seal, one compaction as the day closes):');
console.log(
  '| batch | project runs | mean project ms | compact ms | S3 requests / 1,000 events | index bytes / event |',
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows)
  console.log(
    `| ${r.batchEvents} | ${r.queryIndex.projectRuns} | ${f(r.queryIndex.projectMsMean, 0)} | ${f(r.queryIndex.compactMsMean, 0)} | ${f(r.queryIndex.s3RequestsPer1000Events, 1)} | ${f(r.queryIndex.storedBytesPer1000Events / 1000, 0)} |`,
  );
console.log('');
console.log("Sample queries, once each through the API (all phases' events in the log):");
console.log('| query | rows | ms | S3 requests | bytes read | $ per 1,000 queries |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const q of queryRows)
  console.log(
    `| ${q.name} | ${q.rows} | ${f(q.ms, 0)} | ${q.s3Requests} | ${q.bytesRead} | ${money(q.usdPer1000Queries)} |`,
  );
console.log(`load average: start ${loadStart.join(' ')}, end ${loadEnd.join(' ')}`);
console.log('wrote bench/results/cost.json');
