/**
 * DeliveryService (src/app/deliver.ts) with the system log on the emulator
 * and scripted destinations: what is recorded, what is delivered where,
 * retries then dead letters, re-drive, and the lease.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { DETECTION_ACTOR } from '../../src/core/deliver/events.ts';
import {
  alertOf,
  CHECKPOINT,
  type DeliverEnv,
  deliverEnv,
  failing,
  fire,
  occurrence,
  suppressed,
} from './deliver-harness.ts';

const LOG = 'acme';
const FAR = Number.MAX_SAFE_INTEGER;
let env: DeliverEnv;
beforeEach(async () => {
  env = await deliverEnv();
});
const n = (name: string) =>
  env.notifiers.get(name) as NonNullable<ReturnType<DeliverEnv['notifiers']['get']>>;

describe('record, then deliver, then acknowledge', () => {
  it('records every entry in the system log (alert.fire, alert.occurrence, alert.suppressed) and delivers only alerts', async () => {
    const a = alertOf(LOG, 1, { destinations: ['hook', 'pager'] });
    const b = alertOf(LOG, 2);
    await env.enqueue(LOG, [fire(a), occurrence(a, 7), suppressed(b)], CHECKPOINT);
    const out = await env.service().deliverLog(LOG, FAR);
    expect(out).toMatchObject({
      status: 'processed',
      entries: 3,
      recorded: 3,
      delivered: 2,
      acked: 3,
      pending: 0,
    });
    expect(n('hook').ids).toEqual([a.id]);
    expect(n('pager').ids).toEqual([a.id]);
    expect(n('topic').ids).toEqual([]);
    expect(n('hook').calls[0]?.notice.checkpoint).toEqual(CHECKPOINT);

    const events = (await env.systemLog())
      .filter((r) => r.submitter === DETECTION_ACTOR.id)
      .map((r) => r.event);
    expect(events.map((e) => [e.id, e.action])).toEqual([
      [a.id, 'alert.fire'],
      [`${a.id}#7`, 'alert.occurrence'],
      [b.id, 'alert.suppressed'],
    ]);
    expect(events[0]).toMatchObject({
      actor: DETECTION_ACTOR,
      occurredAt: a.firedAt,
      target: { type: 'alert', id: a.id },
      metadata: { alert: a, checkpoint: { size: CHECKPOINT.size, note: CHECKPOINT.checkpoint } },
    });
    expect(await env.pendingOutbox(LOG)).toEqual([]);

    // Nothing left: the next run is idle and records nothing more.
    expect(await env.service().deliverLog(LOG, FAR)).toMatchObject({ status: 'idle', entries: 0 });
    expect((await env.systemLog()).filter((r) => r.submitter === DETECTION_ACTOR.id)).toHaveLength(3);
  });

  it('routes by the rule’s destinations, else by severity, else the default; an unknown name is dead-lettered at once', async () => {
    const crit = alertOf(LOG, 1, { rule: { ...alertOf(LOG, 0).rule, severity: 'critical' } });
    const low = alertOf(LOG, 2, { rule: { ...alertOf(LOG, 0).rule, severity: 'low' } });
    const typo = alertOf(LOG, 3, { destinations: ['hook', 'nope'] });
    await env.enqueue(LOG, [fire(crit), fire(low), fire(typo)]);
    const out = await env.service().deliverLog(LOG, FAR);
    expect(out).toMatchObject({ delivered: 4, deadLettered: 1, acked: 3 });
    expect(n('hook').ids).toEqual([crit.id, low.id, typo.id]);
    expect(n('pager').ids).toEqual([crit.id]);
    const dead = await env.service().listDeadLetters();
    expect(dead.items.map((d) => [d.id, d.lastError.code, d.attempts])).toEqual([
      [`${typo.id}/nope`, 'UNKNOWN_DESTINATION', 1],
    ]);
  });

  it('an alert with no destination at all is recorded, acknowledged and counted as unrouted', async () => {
    const e = await deliverEnv('memory', []);
    const a = alertOf(LOG, 1);
    await e.enqueue(LOG, [fire(a)]);
    expect(await e.service().deliverLog(LOG, FAR)).toMatchObject({ recorded: 1, unrouted: 1, acked: 1 });
    expect(e.metrics.total('AlertsUnrouted')).toBe(1);
  });
});

describe('recording a page of entries at once', () => {
  it('costs one system-log append for a page, skipping entries the log already holds', async () => {
    const alerts = [1, 2, 3, 4].map((i) => alertOf(LOG, i));
    // One of them recorded earlier (a run that crashed after recording it alone).
    const { alertEvent } = await import('../../src/core/deliver/events.ts');
    await env.sink.record(
      alertEvent({ entry: fire(alerts[0] as (typeof alerts)[0]), checkpoint: CHECKPOINT }),
    );
    const before = (await env.systemLog()).length;
    await env.enqueue(LOG, alerts.map(fire), CHECKPOINT);
    expect(await env.service().deliverLog(LOG, FAR)).toMatchObject({ recorded: 4, acked: 4 });
    const system = await env.systemLog();
    expect(system.filter((r) => r.submitter === DETECTION_ACTOR.id).map((r) => r.event.id)).toEqual(
      alerts.map((a) => a.id),
    );
    // The three new ones arrived together: one batch, consecutive indexes, one receivedAt.
    const added = system.slice(before);
    expect(added).toHaveLength(3);
    expect(new Set(added.map((r) => r.receivedAt)).size).toBe(1);
  });

  it('falls back to one by one when the batch append conflicts (an id recorded meanwhile)', async () => {
    const alerts = [1, 2, 3].map((i) => alertOf(LOG, i));
    await env.enqueue(LOG, alerts.map(fire), CHECKPOINT);
    const sink = env.sink;
    const { AppError } = await import('../../src/app/errors.ts');
    const conflicting = {
      record: sink.record.bind(sink),
      recordMany: async () => {
        throw new AppError('CONFLICT', 'event ids already used');
      },
    };
    expect(await env.service({ audit: conflicting }).deliverLog(LOG, FAR)).toMatchObject({
      recorded: 3,
      acked: 3,
    });
    expect(
      (await env.systemLog()).filter((r) => r.submitter === DETECTION_ACTOR.id).map((r) => r.event.id),
    ).toEqual(alerts.map((a) => a.id));
  });
});

describe('retries, dead letters, re-drive', () => {
  it('retries within the run while the wait is short, leaves longer waits to later runs, then dead-letters', async () => {
    const a = alertOf(LOG, 1, { destinations: ['hook', 'pager'] });
    await env.enqueue(LOG, [fire(a)]);
    n('hook').answer = () => failing(503);
    // Waits of 90% of each ceiling: 1.8 s and 3.6 s are slept in the run, 7.2 s is not.
    const svc = env.service({ retry: { maxAttempts: 5, baseMs: 2_000, capMs: 60_000 }, random: () => 0.9 });

    const first = await svc.deliverLog(LOG, FAR);
    expect(first).toMatchObject({ pending: 1, acked: 0, failedAttempts: 3, delivered: 1 });
    expect(n('pager').ids).toEqual([a.id]); // the healthy destination is not held back
    expect(n('hook').calls).toHaveLength(3);

    // Later runs: until every attempt is used, then a dead letter and the acknowledgement.
    for (let i = 0; i < 10 && (await env.pendingOutbox(LOG)).length > 0; i++) {
      env.clock.t += 120_000;
      await svc.deliverLog(LOG, FAR);
    }
    expect(await env.pendingOutbox(LOG)).toEqual([]);
    expect(n('hook').ids).toEqual(Array(5).fill(a.id));
    expect(n('pager').ids).toEqual([a.id]); // delivered once, never again
    const [dead] = (await svc.listDeadLetters()).items;
    expect(dead).toMatchObject({
      id: `${a.id}/hook`,
      destination: 'hook',
      attempts: 5,
      state: 'open',
      lastError: { code: 'HTTP_STATUS', status: 503 },
      alert: a,
    });
    expect(env.metrics.total('AlertDeliveryFailures', { Destination: 'hook' })).toBe(5);
    expect(env.metrics.total('AlertsDeadLettered', { Destination: 'hook' })).toBe(1);
    expect(env.metrics.total('AlertsDelivered', { Destination: 'pager' })).toBe(1);

    // The destination is fixed; the operator re-drives. Same id; the letter is kept, redriven.
    n('hook').answer = () => ({ ok: true, status: 204 });
    expect(await svc.redrive('all', FAR)).toMatchObject({ attempted: 1, delivered: 1, failed: 0 });
    expect(n('hook').ids.at(-1)).toBe(a.id);
    expect((await svc.listDeadLetters()).items).toEqual([]);
    expect((await svc.listDeadLetters({ state: 'redriven' })).items[0]).toMatchObject({
      redrives: 1,
      state: 'redriven',
    });
    // A second re-drive finds nothing open.
    expect(await svc.redrive([`${a.id}/hook`, 'alr_unknown/hook'], FAR)).toMatchObject({
      attempted: 0,
      skipped: [`${a.id}/hook`, 'alr_unknown/hook'],
    });
  });

  it('a permanent failure (4xx, a redirect) is dead-lettered on its first attempt', async () => {
    const a = alertOf(LOG, 1, { destinations: ['hook'] });
    await env.enqueue(LOG, [fire(a)]);
    n('hook').answer = () => failing(404, false);
    expect(await env.service().deliverLog(LOG, FAR)).toMatchObject({
      deadLettered: 1,
      acked: 1,
      failedAttempts: 1,
    });
    expect(n('hook').calls).toHaveLength(1);
  });

  it('a re-drive that fails again keeps the letter open with the new error', async () => {
    const a = alertOf(LOG, 1, { destinations: ['hook'] });
    await env.enqueue(LOG, [fire(a)]);
    n('hook').answer = () => failing(400, false);
    const svc = env.service();
    await svc.deliverLog(LOG, FAR);
    n('hook').answer = () => failing(401, false);
    expect(await svc.redrive([`${a.id}/hook`], FAR)).toMatchObject({ attempted: 1, failed: 1 });
    expect((await svc.listDeadLetters()).items[0]).toMatchObject({
      state: 'open',
      redrives: 1,
      lastError: { status: 401 },
    });
  });

  it('a notifier that throws (a bug) is retried like a transient failure', async () => {
    const a = alertOf(LOG, 1, { destinations: ['hook'] });
    await env.enqueue(LOG, [fire(a)]);
    let k = 0;
    n('hook').answer = () => {
      if (++k === 1) throw new Error('boom');
      return { ok: true };
    };
    expect(await env.service().deliverLog(LOG, FAR)).toMatchObject({
      delivered: 1,
      failedAttempts: 1,
      acked: 1,
    });
  });
});

describe('runs', () => {
  it('stop at the deadline with entries left (more), and the next run finishes them', async () => {
    const alerts = Array.from({ length: 5 }, (_, i) => alertOf(LOG, i + 1, { destinations: ['hook'] }));
    await env.enqueue(LOG, alerts.map(fire));
    let calls = 0;
    n('hook').answer = () => {
      env.clock.t += 1000; // each delivery takes a second
      calls++;
      return { ok: true };
    };
    // Entries of a page are delivered concurrently: those the deadline leaves unattempted stay
    // in the outbox, as `more` (not started) or `pending` (started, destination not tried).
    const out = await env.service().deliverLog(LOG, env.clock.t + 2500);
    expect(out.acked).toBe(3);
    expect(out.more || out.pending > 0).toBe(true);
    expect(await env.service().deliverLog(LOG, FAR)).toMatchObject({ acked: 2, more: false, pending: 0 });
    expect(calls).toBe(5);
  });

  it('two runs at once: the second finds the lease taken and does nothing', async () => {
    const a = alertOf(LOG, 1, { destinations: ['hook'] });
    await env.enqueue(LOG, [fire(a)]);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    n('hook').answer = () => ({ ok: true });
    const second = env.service();
    const blocked = env.service({
      notifiers: new Map([
        [
          'hook',
          {
            name: 'hook',
            kind: 'webhook',
            send: async () => {
              await gate;
              return { ok: true };
            },
          },
        ],
      ]),
    });
    const first = blocked.deliverLog(LOG, FAR);
    await new Promise((r) => setTimeout(r, 200));
    expect(await second.deliverLog(LOG, FAR)).toMatchObject({ status: 'busy' });
    release();
    expect(await first).toMatchObject({ acked: 1 });
  });

  it('pages through a large outbox', async () => {
    const alerts = Array.from({ length: 130 }, (_, i) => alertOf(LOG, i + 1, { destinations: ['hook'] }));
    await env.enqueue(LOG, alerts.slice(0, 70).map(fire));
    await env.enqueue(LOG, alerts.slice(70).map(fire));
    const out = await env.service().deliverLog(LOG, FAR);
    expect(out).toMatchObject({ entries: 130, acked: 130, delivered: 130 });
    expect(new Set(n('hook').ids).size).toBe(130);
  }, 120_000);
});
