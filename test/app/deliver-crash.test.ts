/**
 * A crash anywhere in delivery loses no alert and records none twice
 * (src/app/deliver.ts, "Exactly-once-ish"): for every step a run can die
 * after — the system-log record, an attempt, a dead letter, the progress
 * write, the acknowledgement — a crashed run followed by clean ones ends
 * with every entry recorded exactly once in the system log, every alert
 * delivered to (or dead-lettered for) each of its destinations, repeats
 * only with the same id, and an empty outbox. Run on the in-memory stores
 * and on DynamoDB (the system log is on the emulator in both).
 */
import { describe, expect, it } from 'vitest';
import type { DeliveryStep } from '../../src/app/deliver.ts';
import { DETECTION_ACTOR } from '../../src/core/deliver/events.ts';
import type { OutboxEntry } from '../../src/core/detect/alert.ts';
import { alertOf, CHECKPOINT, deliverEnv, failing, fire, occurrence, suppressed } from './deliver-harness.ts';

const LOG = 'acme';
const FAR = Number.MAX_SAFE_INTEGER;

class Crash extends Error {}

function scenario(): { entries: OutboxEntry[]; routes: Record<string, string[]> } {
  const a = alertOf(LOG, 1, { destinations: ['hook', 'pager'] });
  const b = alertOf(LOG, 2, { destinations: ['topic'] });
  const c = alertOf(LOG, 3);
  const dead = alertOf(LOG, 4, { destinations: ['pager', 'nope'] });
  return {
    entries: [fire(a), occurrence(a, 9), fire(b), suppressed(c), fire(dead)],
    routes: { [a.id]: ['hook', 'pager'], [b.id]: ['topic'], [dead.id]: ['pager', 'nope'] },
  };
}

/** Runs the scenario with a crash after the k-th step; false when the run had fewer steps (no crash). */
async function crashAt(kind: 'memory' | 'dynamo', k: number): Promise<boolean> {
  const env = await deliverEnv(kind);
  const { entries, routes } = scenario();
  await env.enqueue(LOG, entries, CHECKPOINT);
  // The hook fails once (retryable) on its first attempt, so the in-run retry path is crossed too.
  let hookCalls = 0;
  const hook = env.notifiers.get('hook');
  if (hook) hook.answer = () => (++hookCalls === 1 ? failing(502) : { ok: true });

  let steps = 0;
  // A crashed process gives nothing back: its lease stays until it expires.
  const store = new Proxy(env.store, {
    get: (t, p) => {
      if (p === 'releaseLease') return async () => {};
      const v = Reflect.get(t, p, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
  const crashed = await env
    .service({
      store,
      afterStep: (step: DeliveryStep) => {
        if (++steps === k) throw new Crash(`crash after step ${k} (${step})`);
      },
    })
    .deliverLog(LOG, env.clock.t + 60_000)
    .then(
      () => false,
      (err: unknown) => {
        if (!(err instanceof Error && err.cause instanceof Crash)) throw err;
        return true;
      },
    );

  // The next runs (another container, the lease expired) finish the job.
  for (let i = 0; i < 5 && (await env.pendingOutbox(LOG)).length > 0; i++) {
    env.clock.t += 10 * 60_000;
    await env.service().deliverLog(LOG, FAR);
  }
  expect(await env.pendingOutbox(LOG)).toEqual([]);

  // Exactly one system-log record per entry, whatever the crash.
  const recorded = (await env.systemLog())
    .filter((r) => r.submitter === DETECTION_ACTOR.id)
    .map((r) => r.event.id);
  expect([...recorded].sort()).toEqual(entries.map((e) => e.id).sort());

  // Every alert reached each of its destinations (or, for an unknown one, a dead letter), only under its own id.
  const letters = (await env.store.listDeadLetters({ limit: 100 })).items.map((l) => l.id);
  for (const [alertId, names] of Object.entries(routes))
    for (const name of names) {
      const got = env.notifiers.get(name)?.ids.filter((id) => id === alertId).length ?? 0;
      if (name === 'nope') expect(letters).toContain(`${alertId}/nope`);
      else expect(got, `${alertId} → ${name}`).toBeGreaterThanOrEqual(1);
    }
  for (const [name, notifier] of env.notifiers) {
    const expected = Object.entries(routes)
      .filter(([, ns]) => ns.includes(name))
      .map(([id]) => id);
    expect(new Set(notifier.ids), name).toEqual(new Set(expected));
    // A repeat only follows a crash: at most one extra delivery per alert (plus the hook's failed first try).
    for (const id of expected)
      expect(notifier.ids.filter((x) => x === id).length).toBeLessThanOrEqual(name === 'hook' ? 3 : 2);
  }
  expect(letters).toEqual([`${entries[4]?.id}/nope`]);
  return crashed;
}

describe.each(['memory', 'dynamo'] as const)('a crash after any step (%s stores)', (kind) => {
  it('loses nothing and records nothing twice', async () => {
    let k = 1;
    for (; k < 100; k++) if (!(await crashAt(kind, k))) break;
    // The scenario has steps of every kind; a run past the last one crashes nowhere.
    expect(k).toBeGreaterThan(10);
  }, 600_000);
});

describe('an entry brought back after its acknowledgement', () => {
  it('is recognised by its progress and acknowledged again without a second delivery', async () => {
    const env = await deliverEnv('dynamo');
    const a = alertOf(LOG, 1, { destinations: ['hook'] });
    await env.enqueue(LOG, [fire(a)]);
    await env.service().deliverLog(LOG, FAR);
    expect(await env.pendingOutbox(LOG)).toEqual([]);
    // A late detection redo writes the same entry again (docs: ackOutbox MAY be undone by a redo).
    await env.enqueue(LOG, [fire(a)]);
    expect(await env.pendingOutbox(LOG)).toEqual([a.id]);
    expect(await env.service().deliverLog(LOG, FAR)).toMatchObject({ acked: 1, recorded: 0, delivered: 0 });
    expect(env.notifiers.get('hook')?.ids).toEqual([a.id]);
  });
});
