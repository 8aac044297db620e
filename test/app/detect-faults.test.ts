/**
 * The detection job's crash-safety table (the seal's pattern,
 * test/app/seal-faults.test.ts): for every DynamoDB call one detection run
 * makes — reads of the seal state, cursor, batches and items, the
 * transaction of its first chunk and the redo path of its second —
 *   fail-before  fail and not persist
 *   fail-after   fail but persist (a timeout after a successful write)
 *   kill-before  the process dies before the call; the run is abandoned
 *   kill-after   the call lands, then the process dies
 * then a fresh process runs detection again, and the outbox must be exactly
 * the one of a crash-free evaluation: every alert once, none twice, none
 * missing, each citing the checkpoint it was evaluated under.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FaultMode } from '../../src/adapters/memory/send-faults.ts';
import { AppError } from '../../src/app/errors.ts';
import { append, detector, makeDetectEnv, outbox, reference, ruleDoc, seal } from './detect-harness.ts';
import { newLog, provision } from './seal-harness.ts';

const RULES = [
  ruleDoc({ id: 'export', match: "event.action == 'data.export'" }),
  ruleDoc({
    id: 'new-tool',
    kind: 'first_seen',
    match: "event.action == 'tool.call'",
    first_seen: { value: 'event.target.id', key: 'event.actor.id', lookback: '30d' },
  }),
  ruleDoc({
    id: 'new-export-target',
    kind: 'first_seen',
    match: "event.action == 'data.export'",
    first_seen: { value: 'event.target.id', lookback: '30d' },
  }),
  ruleDoc({
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
  }),
];
const CHUNK = 50;
const SIZE = 100;

/**
 * Every call of a clean run over 100 sealed records in two batches (40 tool
 * calls, 60 exports), in chunks of 50: the first chunk's commit fits one
 * transaction, the second's (150 writes) takes the redo path. Asserted by
 * the first test, so the table cannot silently stop covering a call.
 */
const CLEAN_RUN = [
  'GetItemCommand', // seal state
  'GetItemCommand', // cursor: none, a new log
  'GetItemCommand', // batch 1 header: where a new log starts (its last hour)
  'BatchGetItemCommand', // batch 1
  'BatchGetItemCommand', // batch 2
  'BatchGetItemCommand', // chunk 1: cursor and state items
  'TransactWriteItemsCommand', // chunk 1: commit
  'BatchGetItemCommand', // chunk 2: cursor and state items
  'BatchWriteItemCommand', // chunk 2: redo part
  'UpdateItemCommand', // chunk 2: THE DECISION, on the cursor
  ...Array(6).fill('BatchWriteItemCommand'), // chunk 2: 150 item and outbox puts, 25 a request
  'UpdateItemCommand', // chunk 2: cursor moved, redo removed
];
const MODES: FaultMode[] = ['fail-before', 'fail-after', 'kill-before', 'kill-after'];

let counter = 0;
beforeAll(async () => {
  await provision(makeDetectEnv());
});

async function prepared(): Promise<string> {
  const logId = `df${++counter}`;
  const env = makeDetectEnv();
  await newLog(env, logId);
  await append(
    env,
    logId,
    Array.from({ length: 40 }, (_, i) => ({ actor: `agent-${i % 4}`, target: `t-${i % 5}` })),
  );
  await append(
    env,
    logId,
    Array.from({ length: 60 }, (_, i) => ({ action: 'data.export', target: `ds-${i}` })),
  );
  expect(await seal(env, logId)).toBe(SIZE);
  return logId;
}

/** One faulty run in a fresh "process"; returns what it threw, or 'killed'. */
async function faultyRun(logId: string, k: number, mode: FaultMode): Promise<unknown> {
  const env = makeDetectEnv();
  const d = detector(env, RULES, { chunkRecords: CHUNK });
  env.faults.arm((call) => (call.n === k ? mode : undefined));
  const run = d.detectLog(logId).then(
    (r) => r,
    (e: unknown) => e,
  );
  return Promise.race([run, env.faults.killed.then(() => 'killed' as const)]);
}

async function recover(logId: string): Promise<void> {
  const env = makeDetectEnv();
  const out = await detector(env, RULES, { chunkRecords: CHUNK }).detectLog(logId);
  expect(out.to).toBe(SIZE);
  const got = await outbox(env.detection, logId);
  const want = await reference(env, logId, RULES, SIZE, CHUNK);
  expect(got.map((r) => r.entry)).toEqual(want);
  expect(new Set(got.map((r) => r.entry.id)).size).toBe(got.length);
  for (const r of got) expect(r.checkpoint?.size).toBe(SIZE);
  // Converged: one more run reads the seal state and the cursor, and writes nothing.
  env.faults.arm();
  expect(await detector(env, RULES, { chunkRecords: CHUNK }).detectLog(logId)).toMatchObject({
    status: 'idle',
    from: SIZE,
    to: SIZE,
  });
  expect(env.faults.calls.map((c) => c.command)).toEqual(['GetItemCommand', 'GetItemCommand']);
}

describe('detection crash-safety table', () => {
  it('a clean run makes exactly the calls the table covers, and its outbox is the reference', async () => {
    const logId = await prepared();
    const env = makeDetectEnv();
    env.faults.arm();
    const out = await detector(env, RULES, { chunkRecords: CHUNK }).detectLog(logId);
    expect(out).toMatchObject({ status: 'evaluated', from: 0, to: SIZE, chunks: 2 });
    expect(out.alerts).toBeGreaterThan(100);
    expect(env.faults.calls.map((c) => c.command)).toEqual(CLEAN_RUN);
    env.faults.disarm();
    await recover(logId);
  });

  const table = CLEAN_RUN.flatMap((call, i) => MODES.map((mode) => [i + 1, call, mode] as const));
  it.each(table)(
    'call %i (%s) %s → the next run gives exactly the reference alerts',
    async (k, _call, mode) => {
      const logId = await prepared();
      const outcome = await faultyRun(logId, k, mode);
      if (mode.startsWith('kill')) expect(outcome).toBe('killed');
      else if (!(outcome instanceof AppError)) {
        // A fault after the last write of the run: the run is done and only the answer was lost.
        expect(mode).toBe('fail-after');
      } else expect(outcome.code).toBe('UNAVAILABLE');
      // Between runs the cursor is where a commit left it, nothing else.
      const check = makeDetectEnv();
      expect([undefined, 0, CHUNK, SIZE]).toContain((await check.detection.readCursor(logId))?.nextIndex);
      await recover(logId);
    },
  );

  it('two concurrent runs: one commits each chunk, the other stops; no alert twice', async () => {
    const logId = await prepared();
    const [a, b] = [makeDetectEnv(), makeDetectEnv()];
    const outs = await Promise.all([
      detector(a, RULES, { chunkRecords: CHUNK }).detectLog(logId),
      detector(b, RULES, { chunkRecords: CHUNK }).detectLog(logId),
    ]);
    expect(outs.some((o) => o.to === SIZE || o.status === 'lost-race')).toBe(true);
    await recover(logId);
  });
});
