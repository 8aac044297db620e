/**
 * Event-class benchmark (npm run bench:classes [events] [accessPer1000]; the
 * issue's 10^6-event sample request alone: npm run bench:classes -- sample
 * [events] [accessChanges], see ./classes-sample.ts):
 * what the class logs of docs/classes.md cost, and what they save.
 *
 *  1. The same log (default 20,000 events, sealed every 1,000) sealed twice
 *     on the in-memory adapters: without classes, and with the five classes
 *     of the default AI-platform set. Per 1,000 events: the extra archive
 *     objects (S3 PUTs) and bytes the class logs add (the sealer's own
 *     stats.classObjectsWritten / classBytesWritten, checkpoint lines
 *     included), and the seal time overhead (CPU time of the seal runs, the
 *     faster of two interleaved runs of each).
 *  2. The sample request: the access changes of the middle four months of a
 *     seven-month log — the class answer document (records, inclusion
 *     proofs, class range proof, checkpoint; TSA tokens excluded) against
 *     the records alone of a full-range export of the same months (a lower
 *     bound on the range bundle, which adds headers, proofs and anchors).
 *
 * `accessPer1000` (default 1) sets how many events per 1,000 are access
 * changes: 1 matches the 1,000 access changes in 1,000,000 events.
 * Counts are exact on any machine; times are this machine's. Writes
 * bench/results/classes.json and prints a table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { MemoryArchiveStore } from '../src/adapters/memory/archive-store.ts';
import { ManualClock } from '../src/adapters/memory/clock.ts';
import { LocalNoteSigner } from '../src/adapters/memory/local-signer.ts';
import { MemoryLogStore } from '../src/adapters/memory/log-store.ts';
import { MemorySealStateStore } from '../src/adapters/memory/seal-state.ts';
import { ClassAnswerService } from '../src/app/class-answer.ts';
import { IngestService } from '../src/app/ingest.ts';
import { LogRegistry } from '../src/app/log-registry.ts';
import { SealService } from '../src/app/seal.ts';
import { utf8 } from '../src/core/bytes.ts';
import { DEFAULT_AI_CLASSES } from '../src/core/classes/definition.ts';
import { decodeEntryBundle } from '../src/core/merkle/entry-bundle.ts';
import { entryBundlePath, TILE_WIDTH } from '../src/core/merkle/tile-path.ts';
import { decodeRecord } from '../src/core/record.ts';
import { archiveKey } from '../src/ports/archive-store.ts';
import { sampleReport, sampleRequest } from './classes-sample.ts';
import { machine } from './machine.ts';

// `sample [events] [accessChanges]`: only the sample request, at the scale (./classes-sample.ts).
if (process.argv[2] === 'sample') {
  const r = sampleReport(
    await sampleRequest(Number(process.argv[3] ?? 1_000_000), Number(process.argv[4] ?? 1_000)),
  );
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/classes-sample.json', import.meta.url), `${JSON.stringify(r, null, 2)}\n`);
  console.table({
    events: r.events,
    'access changes (class records)': r.classRecords,
    'class answer bytes (no TSA tokens)': r.classAnswerBytes,
    'same months, full range: records': r.rangeRecords,
    'same months, full range: record bytes (lower bound)': r.rangeRecordBytes,
    'full range / class answer': r.ratio,
    'build time (s)': r.buildSeconds,
  });
  process.exit(0);
}

const EVENTS = Number(process.argv[2] ?? 20_000);
const ACCESS_PER_1000 = Number(process.argv[3] ?? 1);
const SEAL_EVERY = 1_000;
const BATCH = 500;
const LOG = 'bench';
const T0 = Date.UTC(2026, 0, 1);
const SPAN_MS = 7 * 30 * 86_400_000; // seven months
const signer = LocalNoteSigner.generate('bench-classes-key');

/** The i-th event's action: access changes at the given rate, the other classes and tool calls around them. */
function actionOf(i: number): { action: string; actor: 'human' | 'agent' | 'service' } {
  if (ACCESS_PER_1000 > 0 && i % Math.round(1000 / ACCESS_PER_1000) === 7)
    return { action: 'access.grant', actor: 'human' };
  const k = i % 100;
  if (k < 2) return { action: 'config.update', actor: 'human' };
  if (k < 3) return { action: 'admin.user.create', actor: 'human' };
  if (k < 4) return { action: 'data.export', actor: 'service' };
  if (k < 60) return { action: 'tool.call', actor: 'agent' };
  return { action: 'agent.task.submit', actor: 'agent' };
}

async function run(classes: boolean) {
  const clock = new ManualClock({ startMs: T0 });
  const logs = new MemoryLogStore();
  const archive = new MemoryArchiveStore({ clock, retentionDays: 1 });
  const ingest = new IngestService({ store: logs, clock, sleep: clock.sleep });
  await new LogRegistry({ store: logs, clock }).createLog(LOG);
  const seal = new SealService({
    logs,
    state: new MemorySealStateStore(),
    archive,
    signer,
    clock,
    originPrefix: 'bench.anchorlog',
    ...(classes ? { classes: DEFAULT_AI_CLASSES } : {}),
  });
  const totals = { objects: 0, bytes: 0, classObjects: 0, classBytes: 0, sealMs: 0, seals: 0 };
  let lastSize = 0;
  for (let i = 0; i < EVENTS; i += BATCH) {
    const n = Math.min(BATCH, EVENTS - i);
    clock.t = T0 + Math.floor((i / EVENTS) * SPAN_MS);
    const events = Array.from({ length: n }, (_, k) => {
      const a = actionOf(i + k);
      return {
        occurredAt: new Date(clock.t).toISOString(),
        actor: { type: a.actor, id: `${a.actor}-${(i + k) % 13}` },
        action: a.action,
        target: { type: 'resource', id: `r-${i + k}` },
        outcome: 'success',
      };
    });
    await ingest.append({ logId: LOG, submitter: 'svc-bench', body: utf8(JSON.stringify({ events })) });
    if (i + n - lastSize >= SEAL_EVERY || i + n >= EVENTS) {
      // CPU time, not wall clock: the machine is shared and the adapters are in memory.
      const t = process.cpuUsage();
      const r = await seal.sealLog(LOG);
      const d = process.cpuUsage(t);
      totals.sealMs += (d.user + d.system) / 1000;
      totals.seals++;
      totals.objects += r.stats.tilesWritten;
      totals.bytes += r.stats.bytesWritten;
      totals.classObjects += r.stats.classObjectsWritten;
      totals.classBytes += r.stats.classBytesWritten;
      lastSize = r.size;
    }
  }
  return { totals, archive, size: lastSize };
}

// Interleaved, twice each, keeping each one's fastest seal time: the first
// run pays for JIT warm-up and the machine is shared (counts are identical).
const runs: { classes: boolean; r: Awaited<ReturnType<typeof run>> }[] = [];
for (const classes of [false, true, false, true]) runs.push({ classes, r: await run(classes) });
const fastest = (classes: boolean) =>
  runs.filter((x) => x.classes === classes).reduce((a, b) => (b.r.totals.sealMs < a.r.totals.sealMs ? b : a))
    .r;
const plain = fastest(false);
const withClasses = fastest(true);
const per1000 = (x: number) => Math.round((x / EVENTS) * 1000 * 10) / 10;

// The sample request: access changes of months 2–5 (of 0–6), under the final checkpoint.
const from = new Date(T0 + 2 * 30 * 86_400_000).toISOString();
const to = new Date(T0 + 6 * 30 * 86_400_000).toISOString();
const cp = (await withClasses.archive.getCheckpoint(LOG))?.text ?? '';
const answers = new ClassAnswerService({
  archive: withClasses.archive,
  anchors: {
    newestAnchoredSize: async () => withClasses.size,
    read: async () => ({
      summary: {
        logId: LOG,
        size: withClasses.size,
        checkpoint: cp,
        quorum: 0,
        tsaCount: 0,
        granted: 0,
        quorumMet: false,
        updatedAt: 0,
      },
      tsas: [],
    }),
  },
});
const doc = await answers.answer(LOG, 'access', from, to);
const answerRecords = (JSON.parse(new TextDecoder().decode(doc)) as { entries: unknown[] }).entries.length;
let rangeRecords = 0;
let rangeBytes = 0;
for (let n = 0; n * TILE_WIDTH < withClasses.size; n++) {
  const w = Math.min(TILE_WIDTH, withClasses.size - n * TILE_WIDTH);
  const body = await withClasses.archive.get(archiveKey(LOG, entryBundlePath(n, w)));
  for (const e of decodeEntryBundle(body as Uint8Array, w)) {
    const at = decodeRecord(e).receivedAt;
    if (from <= at && at < to) {
      rangeRecords++;
      rangeBytes += e.length + 1;
    }
  }
}

const result = {
  date: new Date().toISOString(),
  machine: { ...machine(), loadAverage1m: Math.round((loadavg()[0] ?? 0) * 10) / 10 },
  params: {
    events: EVENTS,
    accessPer1000: ACCESS_PER_1000,
    sealEvery: SEAL_EVERY,
    classes: DEFAULT_AI_CLASSES.length,
  },
  per1000Events: {
    s3PutsWithout: per1000(plain.totals.objects),
    s3PutsWith: per1000(withClasses.totals.objects),
    extraS3Puts: per1000(withClasses.totals.classObjects),
    bytesWithout: per1000(plain.totals.bytes),
    bytesWith: per1000(withClasses.totals.bytes),
    extraBytes: per1000(withClasses.totals.classBytes),
  },
  sealMs: {
    without: Math.round(plain.totals.sealMs),
    with: Math.round(withClasses.totals.sealMs),
    overheadPercent:
      Math.round(((withClasses.totals.sealMs - plain.totals.sealMs) / plain.totals.sealMs) * 1000) / 10,
    seals: withClasses.totals.seals,
  },
  sampleRequest: {
    from,
    to,
    classRecords: answerRecords,
    classAnswerBytes: doc.length,
    rangeRecords,
    rangeRecordBytes: rangeBytes,
    ratio: Math.round((rangeBytes / doc.length) * 10) / 10,
  },
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/classes.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
console.table({
  'S3 PUTs / 1k events (no classes)': result.per1000Events.s3PutsWithout,
  'S3 PUTs / 1k events (5 classes)': result.per1000Events.s3PutsWith,
  'extra S3 PUTs / 1k events': result.per1000Events.extraS3Puts,
  'bytes / 1k events (no classes)': result.per1000Events.bytesWithout,
  'extra bytes / 1k events': result.per1000Events.extraBytes,
  'seal CPU time, no classes (ms)': result.sealMs.without,
  'seal CPU time, 5 classes (ms)': result.sealMs.with,
  'seal CPU time overhead (%)': result.sealMs.overheadPercent,
  'sample request: class records': answerRecords,
  'sample request: class answer bytes': doc.length,
  'same months, full range: records': rangeRecords,
  'same months, full range: record bytes (lower bound)': rangeBytes,
});
