/**
 * Alert review under a crash at every step, on the in-memory adapters: a
 * script of transitions is run with the store failing at its k-th call
 * (before or after the call takes effect) or the `system` log sink failing at
 * its k-th record (before it lands, or after); then the recovery job runs.
 * Whatever happened, nothing stays staged, the committed state of each alert
 * is the state its last recorded event says, and its recorded transitions are
 * r1…rN, gap-free, each once — no transition in effect without its record,
 * none recorded and lost.
 */
import { describe, expect, it } from 'vitest';
import { MemoryAlertReviewStore } from '../../src/adapters/memory/alert-review-store.ts';
import { AlertReviewService } from '../../src/app/alerts.ts';
import { AppError } from '../../src/app/errors.ts';
import { alertEvent } from '../../src/core/deliver/events.ts';
import { stateJson } from '../../src/core/detect/review.ts';
import { alertOf } from './deliver-harness.ts';
import { MemoryAuditSink, principal } from './rules-support.ts';

const ADMIN = principal('admin-1');
const A = alertOf('acme', 1);
const B = alertOf('acme', 2);

function env() {
  const store = new MemoryAlertReviewStore();
  const sink = new MemoryAuditSink();
  let t = Date.parse('2026-03-01T00:00:00.000Z');
  const alerts = new AlertReviewService({
    store,
    audit: sink,
    auditLog: sink,
    logs: {} as never,
    clock: { now: () => ++t },
  });
  return { store, sink, alerts };
}

async function script(e: ReturnType<typeof env>): Promise<void> {
  const steps = [
    () => e.alerts.acknowledge(ADMIN, A.id),
    () => e.alerts.resolve(ADMIN, A.id, { outcome: 'false_positive', notes: 'n1' }),
    () => e.alerts.resolve(ADMIN, B.id, { outcome: 'true_positive' }),
    () => e.alerts.reopen(ADMIN, A.id, { notes: 'wrong' }),
    () => e.alerts.resolve(ADMIN, A.id, { outcome: 'true_positive', notes: 'n2' }),
    () => e.alerts.acknowledge(ADMIN, A.id),
  ];
  for (const step of steps) await step().catch(() => undefined);
}

async function prepared() {
  const e = env();
  for (const a of [A, B]) {
    await e.sink.record(
      alertEvent({ entry: { type: 'alert', id: a.id, alert: a }, checkpoint: null }) as never,
    );
    await e.alerts.open(a);
  }
  return e;
}

describe('alert review: a crash at every step is rolled forward', () => {
  it('keeps the store and the system log in agreement', async () => {
    const clean = await prepared();
    clean.store.faults.clear();
    const before = clean.store.faults.count();
    await script(clean);
    const calls = clean.store.faults.count() - before;
    expect(calls).toBeGreaterThan(10);
    expect((await clean.store.get(A.id))?.state).toMatchObject({ status: 'resolved', rev: 4 });

    let crashes = 0;
    for (let k = 0; k < calls + 3; k++)
      for (const when of ['before', 'after'] as const)
        for (const where of ['store', 'sink'] as const) {
          const e = await prepared();
          if (where === 'store') e.store.faults.fail({ op: '*', code: 'UNAVAILABLE', when, skip: k });
          else if (k < 6) {
            let seen = 0;
            const record = e.sink.record.bind(e.sink);
            e.sink.record = async (ev) => {
              if (seen++ === k) {
                if (when === 'before') throw new AppError('UNAVAILABLE', 'crash');
                await record(ev);
                throw new Error('crash after the record landed');
              }
              return record(ev);
            };
          } else continue;
          crashes++;
          await script(e);
          e.store.faults.clear();
          expect((await e.alerts.recoverPending()).failed).toBe(0);
          for (const a of [A, B]) {
            const item = await e.store.get(a.id);
            const what = `${where} ${when} ${k} ${a.id}`;
            expect(item?.pending, what).toBeUndefined();
            const events = e.sink.events.filter((ev) => ev.target.id === a.id && ev.id !== a.id);
            expect(
              events.map((ev) => ev.id),
              what,
            ).toEqual(Array.from({ length: item?.state.rev ?? 0 }, (_, i) => `${a.id}/r${i + 1}`));
            const last = events.at(-1);
            if (last) expect(last.changes.after, what).toEqual(stateJson(item?.state ?? ({} as never)));
            if (item?.recorded)
              expect(await e.sink.find(`${a.id}/r${item.state.rev}`), what).toEqual(item.recorded);
          }
        }
    expect(crashes).toBeGreaterThan(20);
  });
});
