/**
 * The accept-then-sequence path (docs/ingest.md §9) on the in-memory stores:
 * receipts when the writer waits, 202 + later lookup when it does not,
 * batching across requests, idempotency across accept and sequence, back-pressure,
 * and the sequencer's crash table (every store call × fail before / fail after
 * / kill), each ending with the invariant checker over the whole log.
 */
import { describe, expect, it } from 'vitest';
import { MemoryPendingStore } from '../../src/adapters/memory/pending-store.ts';
import { AppError } from '../../src/app/errors.ts';
import { type AppendResult, eventIdScope, IngestService } from '../../src/app/ingest.ts';
import { Sequencer } from '../../src/app/sequencer.ts';
import { pendingSweepJob } from '../../src/compose/ingest.ts';
import type { Receipt } from '../../src/ports/log-store.ts';
import { body, checkInvariants, event, memoryEnv } from './ingest-support.ts';

function pendingEnv(opts: { waitMs?: number; maxPendingEntries?: number; sequenceOnAccept?: boolean } = {}) {
  const env = memoryEnv();
  const pending = new MemoryPendingStore();
  const service = () =>
    new IngestService({
      store: env.store,
      clock: env.clock,
      sleep: (ms) => env.clock.sleep(ms),
      onWarning: (m) => env.warnings.push(m),
      pending: {
        store: pending,
        defaultWaitMs: opts.waitMs ?? 5_000,
        maxPendingEntries: opts.maxPendingEntries ?? 10_000,
        sequenceOnAccept: opts.sequenceOnAccept ?? true,
      },
    });
  const sequencer = () =>
    new Sequencer({
      store: env.store,
      pending,
      clock: env.clock,
      sleep: (ms) => env.clock.sleep(ms),
      eventIdScope,
    });
  return { env, pending, service, sequencer };
}

describe('pending path: accept, sequence, receipts', () => {
  it('a waiting writer gets 201 receipts, as the direct append gives', async () => {
    const { env, service } = pendingEnv();
    await env.logRegistry.createLog('l');
    const r = await service().append({ logId: 'l', submitter: 'p', body: body([event(), event()]) });
    expect(r.status).toBe(201);
    expect(r.receipts.map((x) => x.index)).toEqual([0, 1]);
    await checkInvariants(env.store, 'l', r.receipts);
  });

  it('64 concurrent writers × 1 event: every event once, chain intact, fewer batches than requests', async () => {
    // Waiters' sleeps advance the one shared manual clock: wait long enough for all.
    const { env, service } = pendingEnv({ waitMs: 3_600_000 });
    await env.logRegistry.createLog('busy');
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, w) =>
        service().append({ logId: 'busy', submitter: `w${w % 4}`, body: body([event({ id: `e-${w}` })]) }),
      ),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    const receipts = results.flatMap((r) => r.receipts);
    expect(new Set(receipts.map((r) => r.index)).size).toBe(64);
    const { records, batches } = await checkInvariants(env.store, 'busy', receipts);
    expect(records).toBe(64);
    expect(batches).toBeLessThan(64);
  });

  it('Prefer wait=0: 202 with the accept id, receipts fetched later; replays and lookups agree', async () => {
    const { env, service, sequencer } = pendingEnv({ sequenceOnAccept: false });
    await env.logRegistry.createLog('l');
    const svc = service();
    const r = await svc.append({ logId: 'l', submitter: 'p', body: body([event(), event()]), waitMs: 0 });
    expect(r.status).toBe(202);
    expect(r.receipts).toEqual([]);
    const id = r.accepted?.acceptId as string;
    expect(r.accepted?.count).toBe(2);
    expect(await svc.receipts('l', 'p', [id])).toEqual({ receipts: {}, pending: [id], unknown: [] });
    expect((await sequencer().runOnce('l')).entries).toBe(1);
    const got = await svc.receipts('l', 'p', [id]);
    expect(got.pending).toEqual([]);
    expect(got.receipts[id]?.map((x) => x.index)).toEqual([0, 1]);
    // Another submitter cannot read them, and an id never accepted is unknown, not pending.
    expect(await svc.receipts('l', 'q', [id])).toEqual({ receipts: {}, pending: [], unknown: [id] });
    expect(await svc.receipts('l', 'p', ['never-accepted'])).toEqual({
      receipts: {},
      pending: [],
      unknown: ['never-accepted'],
    });
    await checkInvariants(env.store, 'l', got.receipts[id]);
  });

  it('an Idempotency-Key retry returns the original receipts; another body is 409; ids replay', async () => {
    const { env, service } = pendingEnv();
    await env.logRegistry.createLog('l');
    const req = { logId: 'l', submitter: 'p', body: body([event()]), idempotencyKey: 'k1' };
    const a = await service().append(req);
    const b = await service().append(req);
    expect(b).toMatchObject({ status: 200, replay: true, receipts: a.receipts });
    await expect(service().append({ ...req, body: body([event()]) })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    const withIds = { logId: 'l', submitter: 'p', body: body([event({ id: 'x' }), event({ id: 'y' })]) };
    const c = await service().append(withIds);
    const d = await service().append(withIds);
    expect(d.receipts).toEqual(c.receipts);
    expect(d.replay).toBe(true);
    await checkInvariants(env.store, 'l', [...a.receipts, ...c.receipts]);
  });

  it('an idempotent retry racing its original across accept and sequence is stored once', async () => {
    for (const wait of [0, 5_000]) {
      const { env, service, sequencer } = pendingEnv();
      await env.logRegistry.createLog('race');
      const req = { logId: 'race', submitter: 'p', body: body([event(), event()]), idempotencyKey: 'k' };
      // The original is accepted and not waited for; the retry arrives while it is
      // pending, then again while a sequencer runs, then after.
      const first = await service().append({ ...req, waitMs: 0 });
      const [second, , third] = await Promise.all([
        service().append({ ...req, waitMs: wait }),
        sequencer().runOnce('race'),
        service().append({ ...req, waitMs: wait }),
      ]);
      const fourth = await service().append(req);
      expect(first.status).toBe(202);
      for (const r of [second, third, fourth])
        if (r.status !== 202) expect(r.receipts).toEqual(fourth.receipts);
      const { records } = await checkInvariants(env.store, 'race', fourth.receipts);
      expect(records).toBe(2);
    }
  });

  it('waiters in the sequencing process are answered in memory: no receipt polls; unkeyed ones get no receipt item', async () => {
    const { env, pending, service } = pendingEnv({ waitMs: 3_600_000 });
    await env.logRegistry.createLog('mem');
    const svc = service();
    const unkeyed = Array.from({ length: 20 }, () =>
      svc.append({ logId: 'mem', submitter: 'p', body: body([event()]) }),
    );
    const keyedReqs = Array.from({ length: 5 }, (_, i) => ({
      logId: 'mem',
      submitter: 'p',
      body: body([event()]),
      idempotencyKey: `k${i}`,
    }));
    const results = await Promise.all([...unkeyed, ...keyedReqs.map((r) => svc.append(r))]);
    expect(
      results.map((r) => r.status),
      env.warnings.join('; '),
    ).toEqual(results.map(() => 201));
    const { batches } = await checkInvariants(
      env.store,
      'mem',
      results.flatMap((r) => r.receipts),
    );
    // One process, so every waiter was handed its receipt by a run of its own
    // Sequencer. The only receipt reads: each keyed request's own look before
    // accepting (a replay?) and at most one per batch by the sequencer (keyed
    // entries it lists); a polling waiter would add one per look.
    const reads = pending.faults.calls.filter((c) => c.op === 'readReceipts').length;
    expect(reads).toBeLessThanOrEqual(5 + batches);
    // Keyed entries keep their receipt item (it answers their retries); unkeyed ones get none.
    expect(pending.receiptCount('mem')).toBe(5);
    expect(pending.depthOf('mem')).toBe(0);
    // A keyed retry still replays from its receipt item; another body under its key is 409.
    const again = await svc.append(keyedReqs[0] as (typeof keyedReqs)[0]);
    expect(again).toMatchObject({ status: 200, replay: true, receipts: results[20]?.receipts });
    await expect(
      svc.append({ ...(keyedReqs[0] as (typeof keyedReqs)[0]), body: body([event({ id: 'other' })]) }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('the sweep sequences a 202 entry nobody drives; an idle log costs it no lease write', async () => {
    // sequenceOnAccept false: the accepting process froze right after its accept (a Lambda).
    const { env, pending, service } = pendingEnv({ sequenceOnAccept: false });
    await env.logRegistry.createLog('sw');
    await env.logRegistry.createLog('idle');
    const svc = service();
    const r = await svc.append({ logId: 'sw', submitter: 'p', body: body([event(), event()]), waitMs: 0 });
    const id = r.accepted?.acceptId as string;
    expect((await svc.receipts('sw', 'p', [id])).pending).toEqual([id]);
    const job = pendingSweepJob({ ingest: svc, logStore: env.store, clock: env.clock });
    expect(await job.listLogs?.()).toEqual(expect.arrayContaining(['sw', 'idle']));
    const out = await job.run(['sw', 'idle'], env.clock.now() + 60_000);
    expect(out).toEqual([
      { ok: true, logId: 'sw', sequenced: 1 },
      { ok: true, logId: 'idle', sequenced: 0 },
    ]);
    expect(pending.faults.calls.filter((c) => c.op === 'acquireLease' && c.key === 'idle')).toEqual([]);
    const got = await svc.receipts('sw', 'p', [id]);
    expect(got.receipts[id]?.map((x) => x.index)).toEqual([0, 1]);
    await checkInvariants(env.store, 'sw', got.receipts[id]);
    // Nothing left: a second sweep finds the log idle.
    expect(await job.run(['sw'], env.clock.now() + 60_000)).toEqual([
      { ok: true, logId: 'sw', sequenced: 0 },
    ]);
  });

  it('back-pressure: above the bound the API answers 429 with Retry-After and stores nothing', async () => {
    const { env, service, pending } = pendingEnv({ maxPendingEntries: 3 });
    await env.logRegistry.createLog('bp');
    for (let i = 0; i < 4; i++)
      await service().append({ logId: 'bp', submitter: 'p', body: body([event()]), waitMs: 0 });
    // The depth a sequencer run last saw decides (no count per request).
    await pending.acquireLease('bp', 'op', env.clock.now(), 60_000);
    await pending.recordProgress('bp', 'op', 0, 5);
    const before = pending.depthOf('bp');
    const err = await service()
      .append({ logId: 'bp', submitter: 'p', body: body([event()]) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('THROTTLED');
    expect((err as AppError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(pending.depthOf('bp')).toBe(before);
  });
});

/** A waiting writer on the same stores (sequences on accept). */
function pendingEnvService(env: ReturnType<typeof memoryEnv>, pending: MemoryPendingStore) {
  return new IngestService({
    store: env.store,
    clock: env.clock,
    sleep: (ms) => env.clock.sleep(ms),
    pending: { store: pending, defaultWaitMs: 5_000, maxPendingEntries: 10_000 },
  });
}

/** Store calls the sequencer makes, by port method. */
const SEQUENCER_CALLS: Array<['log' | 'pending', string]> = [
  ['pending', 'acquireLease'],
  ['log', 'readTip'],
  ['pending', 'recordProgress'],
  ['log', 'readBatchHeader'],
  ['log', 'readBatch'],
  ['pending', 'listPending'],
  ['pending', 'readReceipts'],
  ['log', 'commitBatch'],
  ['log', 'writeEventIds'],
  ['pending', 'writeReceipts'],
  ['pending', 'removePending'],
  ['log', 'advanceHead'],
  ['pending', 'releaseLease'],
];
const MODES = ['fail-before', 'fail-after', 'kill-before', 'kill-after'] as const;

describe('sequencer crash table: every store call × fail before / after / kill', () => {
  const cases = SEQUENCER_CALLS.flatMap(([port, op]) => MODES.map((m) => [port, op, m] as const));
  it.each(cases)('%s.%s × %s', async (port, op, mode) => {
    const { env, pending, service, sequencer } = pendingEnv({ waitMs: 0 });
    const logId = 'crash';
    await env.logRegistry.createLog(logId);
    // Something already sequenced, so recovery paths have batches to read.
    const warm = await pendingEnvService(env, pending).append({
      logId,
      submitter: 'p',
      body: body([event({ id: 'w' })]),
    });
    const reqs = [
      { logId, submitter: 'p', body: body([event({ id: 'a' }), event({ id: 'b' })]) },
      { logId, submitter: 'q', body: body([event()]), idempotencyKey: 'k' },
      { logId, submitter: 'p', body: body([event(), event(), event()]) },
    ];
    const accepted: AppendResult[] = [];
    for (const r of reqs) accepted.push(await service().append(r));
    expect(accepted.every((a) => a.status === 202)).toBe(true);
    // A crash is a fault that never stops (the run dies there); a failure fires once (retried).
    const plan = port === 'log' ? env.store.faults : pending.faults;
    const when = mode.endsWith('before') ? 'before' : 'after';
    const times = mode.startsWith('kill') ? Number.POSITIVE_INFINITY : 1;
    plan.fail({ op, code: 'UNAVAILABLE', when, times, skip: op === 'readTip' ? 0 : 0 });
    const s1 = sequencer();
    let died = false;
    try {
      await s1.runOnce(logId);
    } catch {
      died = true;
    }
    if (mode.startsWith('fail')) expect(died).toBe(false);
    env.store.faults.clear();
    pending.faults.clear();
    // A dead holder's lease runs out; the next run recovers.
    env.clock.t += 60_000;
    await sequencer().runOnce(logId);
    const svc = service();
    const acked: Receipt[] = [...warm.receipts];
    for (const a of accepted) {
      const id = a.accepted?.acceptId as string;
      const sub = a === accepted[1] ? 'q' : 'p';
      const got = await svc.receipts(logId, sub, [id]);
      expect(got.pending, `${id} still pending`).toEqual([]);
      acked.push(...(got.receipts[id] ?? []));
    }
    // Retrying the keyed and id'd requests now replays, never appends.
    const again = await svc.append(reqs[1] as (typeof reqs)[1]);
    expect(again.replay).toBe(true);
    const ids = await svc.append(reqs[0] as (typeof reqs)[0]);
    expect(ids.replay).toBe(true);
    const { records } = await checkInvariants(env.store, logId, acked);
    expect(records).toBe(7);
    expect(pending.depthOf(logId)).toBe(0);
  });

  // The in-process answer (docs/ingest.md §9): writers wait in the process whose
  // run crashes, so the claim of a waiter, the receipt item skipped for an
  // unkeyed one, and the answer are all inside the faulted run.
  it.each(cases)('waiting writers in the sequencing process: %s.%s × %s', async (port, op, mode) => {
    const { env, pending, service, sequencer } = pendingEnv({ waitMs: 0 });
    const logId = 'crash-w';
    await env.logRegistry.createLog(logId);
    const warm = await pendingEnvService(env, pending).append({
      logId,
      submitter: 'p',
      body: body([event()]),
    });
    const queued = [
      { logId, submitter: 'p', body: body([event({ id: 'a' }), event({ id: 'b' })]) },
      { logId, submitter: 'q', body: body([event()]), idempotencyKey: 'k' },
    ];
    const accepted: AppendResult[] = [];
    for (const r of queued) accepted.push(await service().append(r));
    // 30 s of the manual clock: a store that never commits (kill) costs a few runs, not an hour of them.
    const waiting = [
      { logId, submitter: 'p', body: body([event(), event()]), waitMs: 30_000 },
      { logId, submitter: 'q', body: body([event()]), idempotencyKey: 'kw', waitMs: 30_000 },
    ];
    const plan = port === 'log' ? env.store.faults : pending.faults;
    const when = mode.endsWith('before') ? 'before' : 'after';
    const times = mode.startsWith('kill') ? Number.POSITIVE_INFINITY : 1;
    plan.fail({ op, code: 'UNAVAILABLE', when, times });
    const svc = pendingEnvService(env, pending);
    const answers = await Promise.allSettled(waiting.map((r) => svc.append(r)));
    env.store.faults.clear();
    pending.faults.clear();
    env.clock.t += 60_000;
    await sequencer().runOnce(logId);
    const acked: Receipt[] = [...warm.receipts];
    const look = service();
    const lookUp = async (a: AppendResult, sub: string) => {
      const id = a.accepted?.acceptId as string;
      const got = await look.receipts(logId, sub, [id]);
      expect(got.pending, `${id} still pending`).toEqual([]);
      expect(got.unknown, `${id} unknown after a 202`).toEqual([]);
      return got.receipts[id] ?? [];
    };
    for (const [i, a] of accepted.entries()) acked.push(...(await lookUp(a, i === 1 ? 'q' : 'p')));
    for (const [i, a] of answers.entries()) {
      const sub = i === 1 ? 'q' : 'p';
      if (a.status === 'rejected') {
        // Refused before its accept (a fault on its own pre-accept read): nothing stored; the retry stores it.
        expect(mode.startsWith('kill') || mode === 'fail-after').toBe(true);
        const again = await look.append({ ...(waiting[i] as (typeof waiting)[0]), waitMs: 5_000 });
        acked.push(...again.receipts);
      } else if (a.value.status === 202) acked.push(...(await lookUp(a.value, sub)));
      else {
        expect(a.value.status).toBe(201);
        acked.push(...a.value.receipts);
      }
    }
    // Keyed retries replay, never append.
    expect((await look.append(queued[1] as (typeof queued)[1])).replay).toBe(true);
    expect((await look.append({ ...(waiting[1] as (typeof waiting)[1]), waitMs: 5_000 })).replay).toBe(true);
    const { records } = await checkInvariants(env.store, logId, acked);
    expect(records).toBe(7);
    expect(pending.depthOf(logId)).toBe(0);
  });

  it('a sequencer restarted mid-commit (its commit landed, it never learned) duplicates nothing', async () => {
    const { env, pending, service, sequencer } = pendingEnv({ waitMs: 0, sequenceOnAccept: false });
    await env.logRegistry.createLog('mid');
    for (let i = 0; i < 5; i++)
      await service().append({ logId: 'mid', submitter: 'p', body: body([event()]) });
    env.store.faults.fail({
      op: 'commitBatch',
      code: 'UNAVAILABLE',
      when: 'after',
      times: Number.POSITIVE_INFINITY,
    });
    env.store.faults.fail({ op: 'readBatchHeader', code: 'UNAVAILABLE', times: Number.POSITIVE_INFINITY });
    // Killed: it does not even release its lease.
    pending.faults.fail({ op: 'releaseLease', code: 'UNAVAILABLE', times: Number.POSITIVE_INFINITY });
    await expect(sequencer().runOnce('mid')).rejects.toBeDefined();
    env.store.faults.clear();
    pending.faults.clear();
    // Not waiting for the lease: a second sequencer *while* the first holds it does nothing…
    expect((await sequencer().runOnce('mid')).ran).toBe(false);
    env.clock.t += 60_000;
    const r = await sequencer().runOnce('mid');
    expect(r.ran).toBe(true);
    expect(r.batches).toBe(0);
    const { records } = await checkInvariants(env.store, 'mid');
    expect(records).toBe(5);
    expect(pending.depthOf('mid')).toBe(0);
  });
});
