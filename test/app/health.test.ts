/**
 * Health observations (src/app/health.ts): what the seal and anchor jobs
 * observe, and the deliver job's recording of it in the `system` log —
 * nothing lost (removed only once appended), nothing twice (a crash between
 * append and removal, an occurrence observed again after it was recorded).
 * On the in-memory adapters, the admin path's real sink and reader.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryHealthOutbox } from '../../src/adapters/memory/health-outbox.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { MemoryPrincipalStore } from '../../src/adapters/memory/principal-store.ts';
import { MemorySealStateStore } from '../../src/adapters/memory/seal-state.ts';
import type { AnchorOutcome } from '../../src/app/anchor.ts';
import { anchorHealthEvents, recordHealthObservations, sealHealthEvents } from '../../src/app/health.ts';
import { emitSealLag } from '../../src/app/seal-lag.ts';
import { sealLagEvent } from '../../src/core/health.ts';
import { SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { adminEnvOn } from './admin-harness.ts';
import { body, event } from './ingest-support.ts';

const NOW = Date.UTC(2026, 2, 1, 12, 10);
const at = (msBefore: number) => new Date(NOW - msBefore).toISOString();

describe('sealHealthEvents', () => {
  const base = { logId: 'acme', state: undefined, thresholdSeconds: 300, now: NOW };
  it('a lag is an occurrence from the threshold on, not before', () => {
    expect(sealHealthEvents({ ...base, oldestUnsealed: { seq: 4, receivedAt: at(299_999) } })).toEqual([]);
    const [e] = sealHealthEvents({ ...base, oldestUnsealed: { seq: 4, receivedAt: at(300_000) } });
    expect(e).toMatchObject({
      action: 'anchorlog.health.seal_lag',
      target: { type: 'log', id: 'acme' },
      metadata: { lagSeconds: 300, oldestUnsealedSeq: 4 },
    });
    expect(sealHealthEvents({ ...base, oldestUnsealed: undefined })).toEqual([]);
  });

  it('a halted log is a halt occurrence with its code', async () => {
    const states = new MemorySealStateStore();
    await states.halt('acme', 'FORK: the archive holds a checkpoint the state does not extend', NOW - 5);
    const events = sealHealthEvents({ ...base, state: await states.read('acme'), oldestUnsealed: undefined });
    expect(events.map((e) => [e.action, e.metadata.haltCode])).toEqual([
      ['anchorlog.health.seal_halted', 'FORK'],
    ]);
  });
});

describe('anchorHealthEvents', () => {
  const outcome = (status: AnchorOutcome['status'], failed: string[]): AnchorOutcome => ({
    logId: 'acme',
    status,
    size: 12,
    quorum: 2,
    tsaCount: 3,
    granted: 3 - failed.length,
    failures: failed.length,
    tsaCalls: 3,
    tsas: ['a', 'b', 'c'].map((tsa) =>
      failed.includes(tsa)
        ? { tsa, result: 'failed', attempts: 3, failure: { code: 'TSA_TIMEOUT', message: 'no answer' } }
        : { tsa, result: 'granted', attempts: 1 },
    ) as AnchorOutcome['tsas'],
  });
  it('a below-quorum run is one quorum event plus one per failed TSA', () => {
    const events = anchorHealthEvents(outcome('below-quorum', ['b', 'c']), NOW);
    expect(events.map((e) => [e.action, e.target.id])).toEqual([
      ['anchorlog.health.anchor_quorum_missed', 'acme'],
      ['anchorlog.health.tsa_failure', 'b'],
      ['anchorlog.health.tsa_failure', 'c'],
    ]);
  });
  it('an anchored run with one failing TSA is that TSA only; a clean run is nothing', () => {
    expect(anchorHealthEvents(outcome('anchored', ['c']), NOW).map((e) => e.action)).toEqual([
      'anchorlog.health.tsa_failure',
    ]);
    expect(anchorHealthEvents(outcome('anchored', []), NOW)).toEqual([]);
  });
});

describe('emitSealLag with health observations', () => {
  it('observes the lag of a stuck log and the halt, and one failing log does not hide another', async () => {
    const logs = new MemoryLogStore();
    const clock = new ManualClock({ startMs: Date.UTC(2026, 2, 1, 12), stepMs: 0 });
    const env = adminEnvOn(logs, new MemoryPrincipalStore());
    for (const log of ['a', 'b']) {
      await env.logRegistry.createLog(log);
      await env.ingest.append({ logId: log, submitter: 'svc', body: body([event()]) });
    }
    const state = new MemorySealStateStore();
    await state.halt('b', 'STORE_INCONSISTENT: batch 1 does not chain', clock.now());
    const outbox = new MemoryHealthOutbox();
    clock.advance(10 * 60_000);
    const deps = {
      logs,
      state,
      metrics: new MemoryMetricsSink(),
      clock,
      health: { outbox, lagThresholdSeconds: 300 },
    };
    logs.faults.fail({ op: 'readBatchHeader', code: 'UNAVAILABLE', match: (k) => k === 'a' });
    await expect(emitSealLag(deps, ['a', 'b'])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect((await outbox.pending(10)).map((e) => [e.action, e.target.id]).sort()).toEqual([
      ['anchorlog.health.seal_halted', 'b'],
      ['anchorlog.health.seal_lag', 'b'],
    ]);
    await emitSealLag(deps, ['a', 'b']);
    expect((await outbox.pending(10)).map((e) => [e.action, e.target.id]).sort()).toEqual([
      ['anchorlog.health.seal_halted', 'b'],
      ['anchorlog.health.seal_lag', 'a'],
      ['anchorlog.health.seal_lag', 'b'],
    ]);
  });
});

describe('recordHealthObservations', () => {
  function setup() {
    const env = adminEnvOn(new MemoryLogStore(), new MemoryPrincipalStore());
    const outbox = new MemoryHealthOutbox();
    const deps = { outbox, audit: env.sink, recorded: env.auditLog };
    const healthRecords = async () =>
      (await env.records(SYSTEM_LOG_ID)).filter((r) => r.event.action.startsWith('anchorlog.health.'));
    return { env, outbox, deps, healthRecords };
  }
  const lag = (seq: number, lagSeconds: number) =>
    sealLagEvent({
      logId: 'acme',
      seq,
      oldestReceivedAt: at(lagSeconds * 1000),
      lagSeconds,
      thresholdSeconds: 300,
      observedAt: NOW,
    });

  it('appends each observation to the system log as the health actor, then empties the outbox', async () => {
    const { outbox, deps, healthRecords } = setup();
    await outbox.put(lag(1, 301));
    await outbox.put(lag(2, 900));
    expect(await recordHealthObservations(deps)).toEqual({ recorded: 2, refused: 0, repeated: 0 });
    const records = await healthRecords();
    expect(records.map((r) => [r.event.id, r.submitter]).sort()).toEqual(
      [lag(1, 301).id, lag(2, 900).id].sort().map((id) => [id, 'system:health']),
    );
    expect(records.map((r) => r.event)).toContainEqual(lag(2, 900));
    expect(await outbox.pending(10)).toEqual([]);
  });

  it('a crash between the append and the removal records nothing twice', async () => {
    const { outbox, deps, healthRecords } = setup();
    await outbox.put(lag(1, 301));
    outbox.faults.fail({ op: 'remove', code: 'UNAVAILABLE' });
    await expect(recordHealthObservations(deps)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await healthRecords()).toHaveLength(1);
    expect(await recordHealthObservations(deps)).toEqual({ recorded: 0, refused: 0, repeated: 1 });
    expect(await healthRecords()).toHaveLength(1);
    expect(await outbox.pending(10)).toEqual([]);
  });

  it('a failed append keeps the observation pending for the next run', async () => {
    const { env, outbox, deps, healthRecords } = setup();
    await outbox.put(lag(1, 301));
    const logs = env.logs as MemoryLogStore;
    // Ingest retries pushback itself; one that lasts fails the append.
    logs.faults.fail({ op: 'commitBatch', code: 'THROTTLED', times: Number.POSITIVE_INFINITY });
    await expect(recordHealthObservations(deps)).rejects.toMatchObject({ code: 'THROTTLED' });
    expect(await outbox.pending(10)).toHaveLength(1);
    logs.faults.clear();
    expect(await recordHealthObservations(deps)).toEqual({ recorded: 1, refused: 0, repeated: 0 });
    expect(await healthRecords()).toHaveLength(1);
  });

  it('the same occurrence observed again later (other details, same id) is not appended again', async () => {
    const { outbox, deps, healthRecords } = setup();
    await outbox.put(lag(1, 301));
    await recordHealthObservations(deps);
    // The next seal run still sees batch 1 stuck, now for 15 minutes.
    await outbox.put(lag(1, 900));
    expect(await recordHealthObservations(deps)).toEqual({ recorded: 0, refused: 0, repeated: 1 });
    const records = await healthRecords();
    expect(records.map((r) => r.event.metadata)).toEqual([lag(1, 301).metadata]);
  });

  it('refuses a stored observation that is not a health event (a forged actor or action), recording nothing', async () => {
    const { outbox, deps, healthRecords, env } = setup();
    const real = lag(1, 301);
    // What a compromised seal role could put: a health id, but a person as actor, or another action.
    await outbox.put({ ...lag(2, 400), actor: { type: 'human', id: 'admin-1', name: 'Admin' } } as never);
    await outbox.put({ ...lag(3, 400), action: 'principal.create' } as never);
    await outbox.put(real);
    expect(await recordHealthObservations(deps)).toEqual({ recorded: 1, refused: 2, repeated: 0 });
    expect((await healthRecords()).map((r) => r.event.id)).toEqual([real.id]);
    expect((await env.records()).some((r) => r.submitter === 'admin-1')).toBe(false);
    expect(await outbox.pending(10)).toEqual([]);
  });
});
