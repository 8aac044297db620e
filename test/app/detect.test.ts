/**
 * The detection job's use case end to end on the emulator: real ingest, real
 * sealer (signed checkpoints), the DynamoDB detection state store. Each test
 * checks the outbox against an in-memory evaluation of the same sealed
 * records in one go (test/app/detect-harness.ts `reference`).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import { parseRuleDocument, type RuleDocument } from '../../src/core/detect/rule.ts';
import { ecdsaP256Verifier } from '../../src/core/note/verifiers.ts';
import { checkpointFromNote } from '../../src/core/note/verify.ts';
import { decodeRecord } from '../../src/core/record.ts';
import type { RuleSource } from '../../src/ports/rule-source.ts';
import {
  append,
  type DetectEnv,
  detector,
  makeDetectEnv,
  outbox,
  reference,
  ruleDoc,
  seal,
} from './detect-harness.ts';
import { allRecords, localSigner, newLog, ORIGIN_PREFIX, provision } from './seal-harness.ts';

const EXPORT = ruleDoc({ id: 'export', match: "event.action == 'data.export'", severity: 'high' });
const BURST = ruleDoc({
  id: 'burst',
  kind: 'threshold',
  match: "event.action == 'tool.call'",
  threshold: {
    aggregate: 'count',
    groupBy: 'event.actor.id',
    window: '1h',
    windowType: 'sliding',
    op: '>=',
    value: 5,
  },
});
const NEW_TOOL = ruleDoc({
  id: 'new-tool',
  kind: 'first_seen',
  match: "event.action == 'tool.call' && has(event.target)",
  first_seen: { value: 'event.target.id', key: 'event.actor.id', lookback: '30d' },
});
const SILENCE = ruleDoc({
  id: 'silence',
  kind: 'absence',
  match: "event.action == 'heartbeat'",
  absence: { for: '2m' },
});

let counter = 0;
let env: DetectEnv;

beforeAll(async () => {
  env = makeDetectEnv();
  await provision(env);
});

async function freshLog(e: DetectEnv = env): Promise<string> {
  const logId = `d${++counter}`;
  await newLog(e, logId);
  return logId;
}

const tools = (n: number, actor = 'agent-1', from = 0) =>
  Array.from({ length: n }, (_, i) => ({ actor, target: `t-${from + i}` }));

describe('detection over sealed records', () => {
  it('ingest → seal → detect: the alert is in the outbox, citing the signed checkpoint and its trigger index', async () => {
    const logId = await freshLog();
    await append(env, logId, tools(3));
    await append(env, logId, [{ action: 'data.export', actor: 'agent-9', metadata: { bytes: 5 } }]);
    const size = await seal(env, logId);
    expect(size).toBe(4);
    const out = await detector(env, [EXPORT]).detectLog(logId);
    expect(out).toMatchObject({ status: 'evaluated', from: 0, to: 4, sealedSize: 4, alerts: 1, more: false });

    const [r, ...rest] = await outbox(env.detection, logId);
    expect(rest).toEqual([]);
    if (r?.entry.type !== 'alert') throw new Error('expected an alert');
    expect(r.entry.alert.trigger?.index).toBe(3);
    expect(r.entry.alert.rule).toMatchObject({ id: 'export', severity: 'high' });
    expect(r.checkpoint?.size).toBe(4);
    // The cited checkpoint is the log's own, signed, and its tree holds the trigger.
    const st = await env.state.read(logId);
    expect(r.checkpoint?.checkpoint).toBe(st?.checkpoint);
    const cp = checkpointFromNote(r.checkpoint?.checkpoint as string, `${ORIGIN_PREFIX}/${logId}`, [
      ecdsaP256Verifier(`${ORIGIN_PREFIX}/${logId}`, localSigner.publicKeySpki),
    ]);
    expect(cp.size).toBeGreaterThan(r.entry.alert.trigger?.index as number);
    const trigger = decodeRecord((await allRecords(env, logId))[3] as Uint8Array);
    expect(trigger.event.action).toBe('data.export');
    expect(r.entry.alert.trigger?.receivedAt).toBe(trigger.receivedAt);
  });

  it('evaluates only sealed records: what is appended after the seal waits for the next one', async () => {
    const logId = await freshLog();
    await append(env, logId, [{ action: 'data.export' }]);
    await seal(env, logId);
    await append(env, logId, [{ action: 'data.export' }, { action: 'data.export' }]);
    const d = detector(env, [EXPORT]);
    expect(await d.detectLog(logId)).toMatchObject({ to: 1, sealedSize: 1, alerts: 1 });
    expect(await d.detectLog(logId)).toMatchObject({ status: 'idle', from: 1, to: 1, alerts: 0 });
    await seal(env, logId);
    expect(await d.detectLog(logId)).toMatchObject({ from: 1, to: 3, sealedSize: 3, alerts: 2 });
    const all = await outbox(env.detection, logId);
    expect(all.map((r) => r.checkpoint?.size)).toEqual([1, 3, 3]);
    expect(all.map((r) => r.entry)).toEqual(await reference(env, logId, [EXPORT], 3));
  });

  it('windows and first-seen history carry across seal boundaries: same alerts as one pass', async () => {
    const logId = await freshLog();
    const rules = [BURST, NEW_TOOL, EXPORT];
    const d = detector(env, rules, { chunkRecords: 3 });
    // agent-1 calls 3 tools, sealed and evaluated; 2 more (one new tool) in the next seal: the
    // window reaches 5 only across the boundary.
    await append(env, logId, tools(3));
    await append(env, logId, tools(2, 'agent-2'));
    await seal(env, logId);
    // Five first-seen tools, no burst yet.
    expect((await d.detectLog(logId)).alerts).toBe(5);
    await append(env, logId, [...tools(1, 'agent-1', 0), { actor: 'agent-1', target: 't-new' }]);
    await seal(env, logId);
    expect((await d.detectLog(logId)).alerts).toBe(2);
    await append(env, logId, [{ action: 'data.export' }, ...tools(4, 'agent-2', 2)]);
    await seal(env, logId);
    await d.detectLog(logId);
    const got = await outbox(env.detection, logId);
    const want = await reference(env, logId, rules, 12);
    expect(got.map((r) => r.entry)).toEqual(want);
    const burst = got.flatMap((r) =>
      r.entry.type === 'alert' && r.entry.alert.rule.id === 'burst' ? [r] : [],
    );
    expect(burst).toHaveLength(2);
    // agent-1's alert: evidence from both sealed ranges (indexes 0–2, then 5–6), cited at size 7.
    if (burst[0]?.entry.type !== 'alert') throw new Error('alert');
    expect(burst[0].entry.alert.trigger?.index).toBe(6);
    expect(burst[0].entry.alert.evidence.indexes).toEqual([0, 1, 2, 5, 6]);
    expect(burst[0].checkpoint?.size).toBe(7);
    expect(burst[1]?.checkpoint?.size).toBe(12);
  });

  it('chunks of a few records, a resume hint that lies, and a deadline between chunks change nothing', async () => {
    const logId = await freshLog();
    for (let b = 0; b < 6; b++)
      await append(env, logId, [...tools(4, `agent-${b % 2}`, b * 4), { action: 'data.export' }]);
    const size = await seal(env, logId);
    const rules = [BURST, NEW_TOOL, EXPORT];
    // Stop after every chunk: the job's deadline.
    let chunksLeft = 1;
    const clock = {
      now: () => {
        return chunksLeft-- > 0 ? env.clock.t : env.clock.t + 10_000_000;
      },
    };
    const d = detector(env, rules, { chunkRecords: 4, clock });
    const first = await d.detectLog(logId, env.clock.t + 1);
    expect(first).toMatchObject({ chunks: 1, to: 4, more: true });
    expect(first.lagSeconds).toBeGreaterThanOrEqual(0);
    // A planted hint pointing at the wrong batch: searched, not trusted.
    const c = await env.detection.readCursor(logId);
    expect(c?.resume).toEqual({ seq: 1, firstIndex: 0 });
    for (let run = 0; run < 20; run++) {
      chunksLeft = 1;
      const o = await d.detectLog(logId, env.clock.t + 1);
      if (!o.more) break;
    }
    expect((await env.detection.readCursor(logId))?.nextIndex).toBe(size);
    expect((await outbox(env.detection, logId)).map((r) => r.entry)).toEqual(
      await reference(env, logId, rules, size, 4),
    );
  });

  it('a resume hint naming the wrong batch is searched past', async () => {
    const logId = await freshLog();
    for (let b = 0; b < 5; b++) await append(env, logId, tools(3, 'agent-1', b * 3));
    await seal(env, logId);
    let calls = 0;
    const oneChunk = { now: () => (calls++ < 1 ? env.clock.t : Number.MAX_SAFE_INTEGER) };
    await detector(env, [BURST], { chunkRecords: 4, clock: oneChunk }).detectLog(logId, env.clock.t + 1);
    const c = await env.detection.readCursor(logId);
    if (!c) throw new Error('cursor');
    expect(c).toMatchObject({ nextIndex: 4, resume: { seq: 2, firstIndex: 3 } });
    // Move the hint to a batch that does not hold the next record.
    await env.detection.commit({
      logId,
      expectedVersion: c.version,
      cursor: { logId, nextIndex: c.nextIndex, watermarkMs: c.watermarkMs, version: c.version + 1 },
      puts: new Map(),
      outbox: [],
      resume: { seq: 5, firstIndex: 12 },
    });
    await detector(env, [BURST], { chunkRecords: 4 }).detectLog(logId);
    expect((await outbox(env.detection, logId)).map((r) => r.entry)).toEqual(
      await reference(env, logId, [BURST], 15, 4),
    );
  });

  it('a log met for the first time starts at its records of the last hour, not at its history', async () => {
    const old = await freshLog();
    await append(env, old, [{ action: 'data.export' }]);
    await seal(env, old);
    const recent = await freshLog();
    env.clock.t += 2 * 3_600_000;
    await append(env, old, [{ action: 'data.export' }]);
    await append(env, recent, [{ action: 'data.export' }, { action: 'data.export' }]);
    await seal(env, old);
    await seal(env, recent);
    const d = detector(env, [EXPORT]);
    expect(await d.detectLog(old)).toMatchObject({ from: 1, to: 2, alerts: 1 });
    expect(await d.detectLog(recent)).toMatchObject({ from: 0, to: 2, alerts: 2 });
    // An empty log is pinned at 0 on first sight: its first records are never skipped.
    const empty = await freshLog();
    expect(await d.detectLog(empty)).toMatchObject({ status: 'idle', from: 0, to: 0 });
    expect(await env.detection.readCursor(empty)).toMatchObject({ version: 1, nextIndex: 0 });
    env.clock.t += 3 * 3_600_000;
    await append(env, empty, [{ action: 'data.export' }]);
    await seal(env, empty);
    expect(await d.detectLog(empty)).toMatchObject({ from: 0, to: 1, alerts: 1 });
  });

  it('a silence fires on a tick at the clock minus the skew allowance once nothing is unsealed', async () => {
    const d = detector(env, [SILENCE]);
    const quiet = await freshLog();
    await append(env, quiet, [{ action: 'heartbeat' }]);
    await seal(env, quiet);
    await d.detectLog(quiet);
    const t0 = env.clock.t;
    env.clock.t += 10 * 60_000;
    const out = await d.detectLog(quiet);
    expect(out).toMatchObject({ status: 'evaluated', alerts: 1, records: 0, to: 1 });
    const [r] = await outbox(env.detection, quiet);
    if (r?.entry.type !== 'alert') throw new Error('alert');
    expect(r.entry.alert).toMatchObject({
      rule: { id: 'silence' },
      trigger: null,
      firedAt: new Date(t0 + 2 * 60_000).toISOString(),
    });
    expect(r.entry.alert.evidence.indexes).toEqual([0]);
    expect((await env.detection.readCursor(quiet))?.watermarkMs).toBe(env.clock.t - 5 * 60_000);
    // Nothing new: no second alert, no commit.
    const before = (await env.detection.readCursor(quiet))?.version;
    expect(await d.detectLog(quiet)).toMatchObject({ status: 'idle', alerts: 0 });
    expect((await env.detection.readCursor(quiet))?.version).toBe(before);

    // With a record waiting to be sealed, log time stops just before it, whatever the clock says.
    const busy = await freshLog();
    await append(env, busy, [{ action: 'heartbeat' }]);
    await seal(env, busy);
    await d.detectLog(busy);
    env.clock.t += 60_000;
    await append(env, busy, [{ action: 'tool.call' }]);
    const waiting = env.clock.t; // its receivedAt
    env.clock.t += 9 * 60_000;
    expect(await d.detectLog(busy)).toMatchObject({ alerts: 0 });
    expect((await env.detection.readCursor(busy))?.watermarkMs).toBe(waiting - 1);
    await seal(env, busy);
    expect(await d.detectLog(busy)).toMatchObject({ alerts: 1, to: 2 });
    // An unsealed batch claiming a later time moves log time no further than the clock allows.
    const ahead = await freshLog();
    await append(env, ahead, [{ action: 'heartbeat' }]);
    await seal(env, ahead);
    await d.detectLog(ahead);
    const watermark = (await env.detection.readCursor(ahead))?.watermarkMs;
    env.clock.t += 4 * 60_000;
    await append(env, ahead, [{ action: 'tool.call' }]);
    env.clock.t -= 4 * 60_000;
    expect(await d.detectLog(ahead)).toMatchObject({ status: 'idle', alerts: 0 });
    expect((await env.detection.readCursor(ahead))?.watermarkMs).toBe(watermark);
  });
});

describe('metrics and rules that misbehave', () => {
  it('emits DetectionAlerts, DetectionLagSeconds and DetectionRuleErrors', async () => {
    const logId = await freshLog();
    await append(env, logId, [{ action: 'data.export' }, { action: 'data.export', metadata: { bytes: 9 } }]);
    await seal(env, logId);
    const broken = ruleDoc({ id: 'broken', match: 'event.metadata.bytes > 1.0' });
    env.metrics.emissions.length = 0;
    const out = await detector(env, [EXPORT, broken]).detectLog(logId);
    expect(out).toMatchObject({ alerts: 3, ruleErrors: 1, lagSeconds: 0 });
    expect(env.metrics.total('DetectionAlerts', { LogId: logId })).toBe(3);
    expect(env.metrics.total('DetectionLagSeconds', { LogId: logId })).toBe(0);
    expect(env.metrics.total('DetectionRuleErrors', { RuleId: 'broken' })).toBe(1);
    expect(env.metrics.total('DetectionRuleErrors', { RuleId: 'export' })).toBe(0);
  });

  it('a rule the engine refuses is reported and skipped; the others run', async () => {
    const logId = await freshLog();
    await append(env, logId, [{ action: 'data.export' }]);
    await seal(env, logId);
    const refused = {
      ...ruleDoc({ id: 'refused' }),
      match: 'no_such_function(event)',
    } as unknown as RuleDocument;
    const source: RuleSource = {
      enabledRules: async () => [refused, parseRuleDocument(EXPORT)],
    };
    env.metrics.emissions.length = 0;
    const out = await detector(env, [], { rules: source }).detectLog(logId);
    expect(out).toMatchObject({ alerts: 1, invalidRules: ['refused'] });
    expect(env.metrics.emissions.find((e) => e.dimensions.RuleId === 'refused')?.properties).toMatchObject({
      code: 'RULE_INVALID',
    });
  });
});

describe('input that contradicts itself is INTEGRITY', () => {
  async function integrity(p: Promise<unknown>): Promise<void> {
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INTEGRITY');
  }

  it('records that do not end in the sealed leaf hash', async () => {
    const logId = await freshLog();
    await append(env, logId, tools(2));
    await seal(env, logId);
    const st = await env.state.read(logId);
    if (!st) throw new Error('sealed');
    await env.state.compareAndSwap(
      { ...st, version: st.version + 1, lastLeafHash: new Uint8Array(32).fill(7) },
      st.version,
    );
    await integrity(detector(env, [EXPORT]).detectLog(logId));
  });

  it('a cursor past the sealed size (a rolled-back seal state)', async () => {
    const logId = await freshLog();
    await append(env, logId, tools(2));
    await seal(env, logId);
    await env.detection.commit({
      logId,
      expectedVersion: 0,
      cursor: { logId, nextIndex: 9, watermarkMs: -1, version: 1 },
      puts: new Map(),
      outbox: [],
    });
    await integrity(detector(env, [EXPORT]).detectLog(logId));
  });
});
