/**
 * Alert review on the emulator (src/app/alerts.ts): the lifecycle through
 * the service, one `system` log record per transition written before the
 * caller hears of it, refusals that write nothing, one winner among
 * concurrent reviewers, roll-forward after a crash at every step, alerts
 * opened from the log, authorization per log, delivery opening what it
 * records, and the report over the log.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import { MAX_NOTES } from '../../src/core/detect/review.ts';
import type { LogRecord } from '../../src/core/record.ts';
import { type AlertsOnMoto, alertsOnMoto } from './alerts-moto.ts';
import { alertOf, deliverEnv, fire } from './deliver-harness.ts';

async function refused(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

const reviewRecords = (records: LogRecord[]) =>
  records.filter((r) => ['alert.ack', 'alert.resolve', 'alert.reopen'].includes(r.event.action));

describe('alert review on the emulator', () => {
  let env: AlertsOnMoto;
  beforeAll(async () => {
    env = await alertsOnMoto(`alerts-${Date.now()}`);
  });

  it('acknowledges then resolves: each transition recorded (submitter = reviewer, before/after) before the answer', async () => {
    const a = await env.fire(1);
    const alice = await env.reviewer('alice-rev', { acme: ['alerts:review'] });
    const acked = await env.alerts.acknowledge(alice, a.id, { requestId: 'req-1' });
    expect(acked.view.review).toMatchObject({
      status: 'acknowledged',
      rev: 1,
      acknowledged: { by: 'alice-rev' },
    });
    expect(acked.eventId).toBe(`${a.id}/r1`);
    const resolved = await env.alerts.resolve(alice, a.id, {
      outcome: 'true_positive',
      notes: 'CHG-7: rotated key',
    });
    expect(resolved.view.review).toMatchObject({
      status: 'resolved',
      rev: 2,
      resolved: { by: 'alice-rev', outcome: 'true_positive', notes: 'CHG-7: rotated key' },
    });
    const recs = reviewRecords(await env.records()).filter((r) => r.event.target?.id === a.id);
    expect(recs.map((r) => [r.event.id, r.event.action, r.submitter])).toEqual([
      [`${a.id}/r1`, 'alert.ack', 'alice-rev'],
      [`${a.id}/r2`, 'alert.resolve', 'alice-rev'],
    ]);
    expect(recs[0]?.event.changes).toMatchObject({
      before: { status: 'open', rev: 0 },
      after: { status: 'acknowledged' },
    });
    expect(recs[0]?.event.context).toEqual({ requestId: 'req-1' });
    expect(recs[1]?.event.metadata).toMatchObject({ alertId: a.id, outcome: 'true_positive', rev: 2 });
    // The store points at the record of the committed transition.
    const item = await env.reviews.get(a.id);
    expect(item?.recorded).toEqual(resolved.view.recorded);
    const at = await env.auditLog.find(`${a.id}/r2`);
    expect(item?.recorded).toEqual(at);
    // show: the alert.fire record and its checkpoint citation.
    const shown = await env.alerts.show(env.admin, a.id);
    expect(shown.fired?.event.action).toBe('alert.fire');
    expect(shown.fired?.checkpoint).toMatchObject({ size: 4096 });
    expect(shown.fired?.recorded).toEqual(await env.auditLog.find(a.id));
  });

  it('refuses what the lifecycle does not allow with stable codes, writing nothing', async () => {
    const a = await env.fire(2);
    await env.alerts.resolve(env.admin, a.id, { outcome: 'false_positive' });
    const before = (await env.records()).length;
    const item = await env.reviews.get(a.id);
    const open3 = (await env.fire(3)).id;
    const cases: [() => Promise<unknown>, string, string][] = [
      [
        () => env.alerts.resolve(env.admin, a.id, { outcome: 'false_positive' }),
        'CONFLICT',
        'INVALID_TRANSITION',
      ],
      [() => env.alerts.acknowledge(env.admin, a.id), 'CONFLICT', 'INVALID_TRANSITION'],
      [() => env.alerts.resolve(env.admin, a.id, { outcome: 'nope' }), 'BAD_REQUEST', 'INVALID_OUTCOME'],
      [
        () => env.alerts.resolve(env.admin, a.id, { outcome: 'true_positive', notes: 'x'.repeat(5000) }),
        'BAD_REQUEST',
        'INVALID_NOTES',
      ],
      [() => env.alerts.acknowledge(env.admin, `alr_${'f'.repeat(32)}`), 'NOT_FOUND', 'ALERT_NOT_FOUND'],
      [() => env.alerts.acknowledge(env.admin, '../../R#'), 'NOT_FOUND', 'ALERT_NOT_FOUND'],
      [() => env.alerts.reopen(env.admin, open3), 'CONFLICT', 'INVALID_TRANSITION'],
    ];
    for (const [call, code, reason] of cases) {
      const err = await refused(call());
      expect([err.code, err.details?.reason]).toEqual([code, reason]);
    }
    // Only fire 3's alert.fire was added.
    expect((await env.records()).length).toBe(before + 1);
    expect(await env.reviews.get(a.id)).toEqual(item);
  });

  it('takes notes of the maximal size through every transition (the records fit the system log)', async () => {
    const a = await env.fire(5);
    const big = '€'.repeat(MAX_NOTES); // 3 UTF-8 bytes each: the largest notes in bytes
    await env.alerts.acknowledge(env.admin, a.id);
    await env.alerts.resolve(env.admin, a.id, { outcome: 'accepted_risk', notes: big });
    await env.alerts.reopen(env.admin, a.id, { notes: big });
    const r = await env.alerts.resolve(env.admin, a.id, { outcome: 'true_positive', notes: big });
    expect(r.view.review).toMatchObject({ status: 'resolved', rev: 4, resolved: { notes: big } });
  });

  it('of concurrent reviewers of one alert exactly one wins; the loser gets 409 and nothing is recorded for it', async () => {
    for (let round = 0; round < 3; round++) {
      const a = await env.fire(10 + round);
      const [x, y] = [env.service(), env.service()];
      const results = await Promise.allSettled([
        x.acknowledge(env.admin, a.id),
        y.resolve(env.admin, a.id, { outcome: 'accepted_risk' }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toMatchObject({ code: 'CONFLICT' });
      const recs = reviewRecords(await env.records()).filter((r) => r.event.target?.id === a.id);
      expect(recs.map((r) => r.event.id)).toEqual([`${a.id}/r1`]);
      expect((await env.reviews.get(a.id))?.state.rev).toBe(1);
    }
  });

  for (const step of ['staged', 'recorded', 'promoted'] as const)
    it(`a crash after ${step} is rolled forward: one record, the transition in effect`, async () => {
      const a = await env.fire(20 + ['staged', 'recorded', 'promoted'].indexOf(step));
      const crashing = env.service({
        afterStep: (s) => {
          if (s === step) throw new Error(`crash after ${s}`);
        },
      });
      await expect(crashing.acknowledge(env.admin, a.id)).rejects.toThrow(`crash after ${step}`);
      const mid = await env.reviews.get(a.id);
      if (step === 'promoted') expect(mid?.state.status).toBe('acknowledged');
      else expect(mid?.pending?.state.rev).toBe(1);
      if (step === 'staged') {
        // Nothing recorded yet: the staged change is not in effect for anyone.
        expect(reviewRecords(await env.records()).filter((r) => r.event.target?.id === a.id)).toEqual([]);
        expect((await env.alerts.recoverPending()).failed).toBe(0);
      }
      // The next request on the alert completes the earlier transition first, then is judged against it.
      const err = await refused(env.alerts.acknowledge(env.admin, a.id));
      expect(err.details?.reason).toBe('INVALID_TRANSITION');
      const item = await env.reviews.get(a.id);
      expect(item?.state).toMatchObject({ status: 'acknowledged', rev: 1 });
      expect(item?.pending).toBeUndefined();
      const recs = reviewRecords(await env.records()).filter((r) => r.event.target?.id === a.id);
      expect(recs.map((r) => r.event.id)).toEqual([`${a.id}/r1`]);
    });

  it('recoverPending completes a transition staged while the system log was down', async () => {
    const a = await env.fire(30);
    const down = env.service({
      audit: {
        record: async () => {
          throw new AppError('UNAVAILABLE', 'system log down', { retryAfterSeconds: 2 });
        },
      },
    });
    const err = await refused(down.resolve(env.admin, a.id, { outcome: 'true_positive' }));
    expect(err.code).toBe('UNAVAILABLE');
    expect((await env.reviews.get(a.id))?.state.status).toBe('open');
    const r = await env.alerts.recoverPending();
    expect(r.failed).toBe(0);
    expect(r.completed).toBeGreaterThanOrEqual(1);
    expect((await env.reviews.get(a.id))?.state).toMatchObject({ status: 'resolved', rev: 1 });
  });

  it('opens an alert the store does not know from its alert.fire record; refuses ids the log lacks', async () => {
    const a = await env.fire(40, { open: false });
    expect(await env.reviews.get(a.id)).toBeUndefined();
    const r = await env.alerts.acknowledge(env.admin, a.id);
    expect(r.view.alert).toMatchObject({ id: a.id, ruleId: a.rule.id, logId: 'acme' });
    // A rule-change record's id is not an alert.
    expect((await refused(env.alerts.show(env.admin, `alr_${'e'.repeat(32)}`))).code).toBe('NOT_FOUND');
  });

  it('authorizes per log: alerts:review on acme reviews acme only; list shows only what one may review', async () => {
    const mine = await env.fire(50, { logId: 'acme' });
    const theirs = await env.fire(51, { logId: 'globex' });
    const bob = await env.reviewer('bob-rev', { acme: ['alerts:review'] });
    const reader = await env.reviewer('reader-only', { acme: ['events:read'] });
    await env.alerts.acknowledge(bob, mine.id);
    expect((await refused(env.alerts.acknowledge(bob, theirs.id))).code).toBe('FORBIDDEN');
    expect((await refused(env.alerts.acknowledge(reader, mine.id))).code).toBe('FORBIDDEN');
    expect((await refused(env.alerts.list(reader))).code).toBe('FORBIDDEN');
    expect((await refused(env.alerts.report(bob, { from: '2026-01-01', to: '2027-01-01' }))).code).toBe(
      'FORBIDDEN',
    );
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await env.alerts.list(bob, {}, { limit: 2, ...(cursor ? { cursor } : {}) });
      listed.push(...page.alerts.map((v) => v.alert.id));
      cursor = page.cursor;
    } while (cursor);
    expect(listed).toContain(mine.id);
    expect(listed).not.toContain(theirs.id);
  });

  it('lists filtered by status, rule, severity and time; refuses bad filters with 400', async () => {
    const x = await env.fire(60, { over: { firedAt: '2030-01-01T00:00:00.000Z' } });
    await env.fire(61, { over: { firedAt: '2030-01-02T00:00:00.000Z' } });
    await env.alerts.acknowledge(env.admin, x.id);
    const page = await env.alerts.list(
      env.admin,
      {
        status: 'acknowledged',
        ruleId: x.rule.id,
        severity: x.rule.severity,
        from: '2030-01-01',
        to: '2030-01-02',
      },
      { limit: 100 },
    );
    expect(page.alerts.map((v) => v.alert.id)).toEqual([x.id]);
    for (const bad of [{ status: 'closed' }, { severity: 'urgent' }, { from: 'yesterday' }])
      expect((await refused(env.alerts.list(env.admin, bad))).code).toBe('BAD_REQUEST');
    expect((await refused(env.alerts.list(env.admin, {}, { cursor: 'garbage' }))).code).toBe('BAD_REQUEST');
  });

  it('reports from the system log: every alert of the period, reviewed or flagged', async () => {
    const all = await env.records();
    const from = all[0]?.receivedAt as string;
    const report = await env.alerts.report(env.admin, { from, to: '2100-01-01' });
    const fired = all.filter((r) => r.event.action === 'alert.fire').map((r) => r.event.id);
    expect(report.alerts.map((r) => r.alertId)).toEqual(fired);
    const one = report.alerts.find((r) => r.alertId === alertOf('acme', 1).id);
    expect(one).toMatchObject({
      status: 'resolved',
      acknowledgedBy: 'alice-rev',
      outcome: 'true_positive',
      unreviewed: false,
    });
    expect(report.alerts.find((r) => r.alertId === alertOf('acme', 3).id)?.unreviewed).toBe(true);
    expect(report.problems).toEqual([]);
    const bad = await refused(env.alerts.report(env.admin, { from: '2026-02-01', to: '2026-01-01' }));
    expect(bad.code).toBe('BAD_REQUEST');
  });
});

describe('delivery opens what it records', () => {
  it('an alert recorded by delivery can be reviewed at once; suppressed ones and occurrences are not opened', async () => {
    const d = await deliverEnv('memory');
    const env = await alertsOnMoto(`alerts-deliver-${Date.now()}`);
    const a = alertOf('acme', 7);
    const opened: string[] = [];
    await d.enqueue('acme', [
      fire(a),
      { type: 'suppressed', id: alertOf('acme', 8).id, alert: alertOf('acme', 8) },
    ]);
    const svc = d.service({
      alerts: {
        open: async (alert) => {
          opened.push(alert.id);
          await env.alerts.open(alert);
        },
      },
    });
    const out = await svc.deliverLog('acme', d.clock.now() + 60_000);
    expect(out.recorded).toBe(2);
    expect(opened).toEqual([a.id]);
    expect((await env.reviews.get(a.id))?.state.status).toBe('open');
  });

  it('an open that fails is repeated with the record: the entry stays in the outbox until both are done', async () => {
    const d = await deliverEnv('memory');
    const env = await alertsOnMoto(`alerts-deliver-crash-${Date.now()}`);
    const a = alertOf('acme', 9);
    await d.enqueue('acme', [fire(a)]);
    let fail = 1;
    const open = async (alert: Parameters<typeof env.alerts.open>[0]) => {
      if (fail-- > 0) throw new AppError('UNAVAILABLE', 'alert store down', { retryAfterSeconds: 1 });
      await env.alerts.open(alert);
    };
    await expect(
      d.service({ alerts: { open } }).deliverLog('acme', d.clock.now() + 60_000),
    ).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(await d.pendingOutbox('acme')).toEqual([a.id]);
    expect(await env.reviews.get(a.id)).toBeUndefined();
    const out = await d.service({ alerts: { open } }).deliverLog('acme', d.clock.now() + 60_000);
    expect(out.acked).toBe(1);
    expect((await env.reviews.get(a.id))?.state.status).toBe('open');
    // Recorded once, however often the entry was tried.
    expect((await d.systemLog()).filter((r) => r.event.id === a.id)).toHaveLength(1);
  });
});
