/**
 * The exactly-once property (docs/detection.md "Guarantees"): a stream
 * evaluated in one go, and the same stream evaluated in arbitrary chunks with
 * a crash — the process dies and the next run reloads cursor and state from
 * the store — between any two steps of the evaluation loop, produce the same
 * outbox: the same alerts, occurrences and suppressed alerts, in the same
 * order, byte for byte, and no id twice.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryDetectionStateStore } from '../../../src/adapters/memory/detection-state.ts';
import { type DetectionPhase, runDetection } from '../../../src/app/detection.ts';
import type { OutboxEntry } from '../../../src/core/detect/alert.ts';
import { DetectionEngine, type Step } from '../../../src/core/detect/engine.ts';
import type { DetectionCommit } from '../../../src/ports/detection-state.ts';
import { MIN, record, rule, SEC, T0 } from './support.ts';

const RULES = [
  rule({ id: 'm', match: "event.action == 'data.export'", dedup: { window: '3m', key: 'event.actor.id' } }),
  rule({
    id: 'm-suppressed',
    match: "event.outcome == 'denied'",
    suppress: [
      {
        from: new Date(T0 + 5 * MIN).toISOString(),
        to: new Date(T0 + 15 * MIN).toISOString(),
        reason: 'window',
      },
    ],
  }),
  rule({
    id: 'count-sliding',
    kind: 'threshold',
    match: "event.action == 'tool.call'",
    threshold: {
      aggregate: 'count',
      groupBy: 'event.actor.id',
      window: '2m',
      windowType: 'sliding',
      op: '>',
      value: 2,
    },
  }),
  rule({
    id: 'sum-tumbling',
    kind: 'threshold',
    match: "event.action == 'data.export'",
    threshold: {
      aggregate: 'sum',
      field: 'event.metadata.bytes',
      window: '5m',
      windowType: 'tumbling',
      op: '>=',
      value: 100,
    },
    dedup: { window: '7m' },
  }),
  rule({
    id: 'distinct',
    kind: 'threshold',
    match: 'has(event.target)',
    threshold: {
      aggregate: 'distinct',
      field: 'event.target.id',
      groupBy: 'event.actor.id',
      window: '4m',
      windowType: 'sliding',
      op: '>=',
      value: 2,
    },
  }),
  rule({
    id: 'first',
    kind: 'first_seen',
    match: "event.action == 'tool.call' && has(event.target)",
    first_seen: { value: 'event.target.id', key: 'event.actor.id', lookback: '1h', learn: '2m' },
  }),
  rule({
    id: 'baseline',
    kind: 'threshold',
    match: "event.action != 'heartbeat'",
    threshold: {
      aggregate: 'count',
      window: '2m',
      windowType: 'tumbling',
      op: '>=',
      value: 1,
      baseline: { windows: 2, factor: 1.5 },
    },
  }),
  rule({
    id: 'requires',
    kind: 'requires',
    match: "event.action == 'data.export'",
    requires: { precursor: "event.action == 'admin.op'", key: 'event.actor.id', within: '2m' },
    dedup: { window: '1m' },
  }),
  rule({
    id: 'silence',
    kind: 'absence',
    match: "event.action == 'heartbeat'",
    absence: { for: '3m', key: 'submitter', expect: ['svc-a'] },
  }),
  rule({
    id: 'silence-all',
    kind: 'absence',
    match: "event.action == 'data.export'",
    absence: { for: '4m' },
  }),
];

const ACTIONS = ['tool.call', 'data.export', 'heartbeat', 'admin.op'];
const step = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('record' as const),
      dt: fc.integer({ min: 0, max: 90 * SEC }),
      action: fc.constantFrom(...ACTIONS),
      actor: fc.constantFrom('a', 'b', 'c'),
      submitter: fc.constantFrom('svc-a', 'svc-b'),
      outcome: fc.constantFrom('success' as const, 'denied' as const),
      bytes: fc.integer({ min: 0, max: 60 }),
      target: fc.option(fc.constantFrom('t1', 't2', 't3', 't4'), { nil: undefined }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 5 * MIN }) }),
  },
);

/** Monotone log time: each step is at or after the previous one (records and ticks alike). */
type StepSpec = { kind: 'record' | 'tick'; dt: number; [k: string]: unknown };
function toSteps(specs: readonly StepSpec[]): Step[] {
  let t = T0;
  let index = 0;
  return specs.map((s) => {
    t += s.dt;
    if (s.kind === 'tick') return { kind: 'tick', atMs: t };
    return {
      kind: 'record',
      record: record(index++, t, {
        action: s.action as string,
        actor: s.actor as string,
        submitter: s.submitter as string,
        outcome: s.outcome as 'success' | 'denied',
        metadata: { bytes: s.bytes as number },
        ...(s.target ? { target: { type: 'tool', id: s.target as string } } : {}),
      }),
    };
  });
}

/** A store that keeps every outbox entry of every successful commit (to see duplicates the outbox map would hide). */
class AuditingStore extends MemoryDetectionStateStore {
  readonly committed: OutboxEntry[] = [];
  override async commit(c: DetectionCommit): Promise<boolean> {
    const ok = await super.commit(c);
    if (ok) this.committed.push(...c.outbox);
    return ok;
  }
}

class Crash extends Error {}

async function inOneGo(steps: Step[]): Promise<OutboxEntry[]> {
  const store = new AuditingStore();
  const res = await runDetection(store, new DetectionEngine('acme', RULES), steps, {
    chunkRecords: 1_000_000,
  });
  expect(res.lostRace).toBe(false);
  return store.committed;
}

const PHASES: DetectionPhase[] = ['read-cursor', 'prepared', 'read-items', 'applied', 'committed'];

describe('exactly once across chunks and crashes', () => {
  it('one go == arbitrary chunks with a crash and a state reload between any two steps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 60 }),
        fc.array(
          fc.record({
            chunk: fc.integer({ min: 1, max: 7 }),
            crashAt: fc.option(fc.nat(40), { nil: undefined }),
          }),
          {
            minLength: 1,
            maxLength: 20,
          },
        ),
        async (specs, attempts) => {
          const steps = toSteps(specs);
          const expected = await inOneGo(steps);
          const store = new AuditingStore();
          // Each attempt is a fresh process: a new engine over the same rules,
          // cursor and state read from the store, the whole stream fed again
          // (what is before the cursor is skipped), dying at its crash point.
          for (let a = 0; ; a++) {
            const plan = attempts[a % attempts.length] as { chunk: number; crashAt: number | undefined };
            let n = 0;
            const crashAt = a < 3 * attempts.length ? plan.crashAt : undefined; // then let it finish
            try {
              const res = await runDetection(store, new DetectionEngine('acme', RULES), steps, {
                chunkRecords: plan.chunk,
                afterPhase: (phase) => {
                  expect(PHASES).toContain(phase);
                  if (n++ === crashAt) throw new Crash(`crash after ${phase}`);
                },
              });
              expect(res.lostRace).toBe(false);
              break;
            } catch (err) {
              if (!(err instanceof Crash)) throw err;
            }
          }
          expect(store.committed).toEqual(expected);
          expect(new Set(store.committed.map((e) => e.id)).size).toBe(store.committed.length);
          const cursor = await store.readCursor('acme');
          expect(cursor?.nextIndex).toBe(steps.filter((s) => s.kind === 'record').length);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the property sees every kind of outbox entry (the generator is not vacuous)', async () => {
    const seen = new Set<string>();
    const rulesFired = new Set<string>();
    for (const specs of fc.sample(fc.array(step, { minLength: 40, maxLength: 60 }), {
      numRuns: 40,
      seed: 7,
    })) {
      for (const e of await inOneGo(toSteps(specs))) {
        seen.add(e.type);
        if (e.type !== 'occurrence') rulesFired.add(e.alert.rule.id);
      }
    }
    expect([...seen].sort()).toEqual(['alert', 'occurrence', 'suppressed']);
    expect([...rulesFired].sort()).toEqual(RULES.map((r) => r.id).sort());
  });
});
