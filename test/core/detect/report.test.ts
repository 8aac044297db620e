/**
 * The alert report (src/core/detect/report.ts) over generated `system` logs:
 * every alert.fire record of the period is one row, exactly once; a row is
 * unreviewed iff no resolution is in effect; durations are never negative —
 * also over records whose times go backwards and transitions the lifecycle
 * does not allow, which the report lists as problems instead.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALERT_REPORT_COLUMNS, alertReportCsv, buildAlertReport } from '../../../src/core/detect/report.ts';
import {
  ALERT_OUTCOMES,
  type AlertStatus,
  applyReview,
  FIRED_STATE,
  type ReviewRequest,
  type ReviewState,
  reviewEvent,
} from '../../../src/core/detect/review.ts';
import type { LogRecord } from '../../../src/core/record.ts';

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const alertIdOf = (n: number) => `alr_${n.toString(16).padStart(32, '0')}`;

function alertDoc(n: number, firedAt: string) {
  return {
    v: 1,
    id: alertIdOf(n),
    logId: 'acme',
    rule: {
      id: `rule-${n % 3}`,
      version: 1,
      title: n % 2 ? '=cmd|x "quoted", title' : `rule ${n}`,
      severity: (['low', 'high', 'critical'] as const)[n % 3],
      owner: 'secops',
      runbook: 'https://runbooks.example/x',
      kind: 'match',
    },
    key: '',
    firedAt,
    trigger: null,
    summary: 's',
    value: null,
    threshold: null,
    evidence: { from: firedAt, to: firedAt, indexes: [] },
    dedup: null,
    suppressed: null,
    destinations: [],
    labels: {},
  };
}

type Op =
  | { kind: 'fire'; n: number }
  | { kind: 'ack' | 'reopen' | 'occurrence'; n: number }
  | { kind: 'resolve'; n: number; outcome: number }
  | { kind: 'noise' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('fire' as const), n: fc.nat(7) }),
  fc.record({
    kind: fc.constantFrom('ack' as const, 'reopen' as const, 'occurrence' as const),
    n: fc.nat(7),
  }),
  fc.record({ kind: fc.constant('resolve' as const), n: fc.nat(7), outcome: fc.nat(2) }),
  fc.constant({ kind: 'noise' as const }),
);

interface Built {
  records: LogRecord[];
  /** Model: per fired alert, its fire record time and final state. */
  model: Map<string, { recordedAt: string; state: ReviewState }>;
}

/**
 * Records for `ops`, as the service would write them: a transition the model
 * refuses is not written unless `hostile`, which writes it anyway (and skips
 * rev checks). `steps` are the receivedAt increments (may be negative: hostile clocks).
 */
function build(ops: Op[], steps: number[], hostile: boolean): Built {
  const records: LogRecord[] = [];
  const model = new Map<string, { recordedAt: string; state: ReviewState }>();
  let t = T0;
  const push = (event: Record<string, unknown>, submitter: string) => {
    t += steps[records.length % steps.length] ?? 1;
    records.push({
      v: 1,
      logId: 'system',
      index: records.length,
      receivedAt: iso(t),
      submitter,
      prev: '',
      event: event as unknown as LogRecord['event'],
    });
  };
  for (const op of ops) {
    if (op.kind === 'noise') {
      push({ id: `noise-${records.length}`, action: 'rule.update' }, 'admin');
      continue;
    }
    const id = alertIdOf(op.n);
    const m = model.get(id);
    if (op.kind === 'fire') {
      if (m && !hostile) continue;
      const doc = alertDoc(op.n, iso(t - 5));
      push({ id, action: 'alert.fire', metadata: { alert: doc } }, 'system:detection');
      if (!m) model.set(id, { recordedAt: (records.at(-1) as LogRecord).receivedAt, state: FIRED_STATE });
      continue;
    }
    if (op.kind === 'occurrence') {
      push(
        { id: `${id}#${records.length}`, action: 'alert.occurrence', metadata: { alertId: id } },
        'system:detection',
      );
      continue;
    }
    const req: ReviewRequest =
      op.kind === 'resolve'
        ? { action: 'alert.resolve', outcome: ALERT_OUTCOMES[op.outcome], notes: 'n' }
        : { action: op.kind === 'ack' ? 'alert.ack' : 'alert.reopen' };
    const before = m?.state ?? FIRED_STATE;
    let after: ReviewState;
    try {
      after = applyReview(before, req, { by: 'bob', at: iso(t) });
    } catch {
      if (!hostile) continue;
      after = { ...before, rev: before.rev + 1 };
    }
    const ref = {
      id,
      logId: 'acme',
      ruleId: 'r',
      ruleVersion: 1,
      title: 't',
      severity: 'low' as const,
      owner: 'o',
      runbook: 'https://x',
      firedAt: iso(t),
      summary: '',
    };
    const event = reviewEvent(ref, req.action, before, after, { type: 'human', id: 'bob' }, iso(t));
    push(event as unknown as Record<string, unknown>, 'bob');
    if (m && (after.status !== before.status || !hostile)) {
      try {
        m.state = applyReview(before, req, { by: 'bob', at: iso(t) });
      } catch {
        // hostile: the report must refuse it too, so the model keeps the old state but moves rev
        m.state = { ...before, rev: after.rev };
      }
    } else if (m) m.state = { ...before, rev: after.rev };
  }
  return { records, model };
}

describe('buildAlertReport', () => {
  it('lists every alert of the period once; unreviewed iff not resolved; durations ≥ 0 (service-written logs)', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 80 }),
        fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 8 }),
        fc.nat(100),
        fc.nat(100),
        (ops, steps, a, b) => {
          const { records, model } = build(ops, steps, false);
          const times = records.map((r) => r.receivedAt);
          const from = times[Math.min(a, times.length - 1)] ?? iso(T0);
          const to = times[Math.min(b, times.length - 1)] ?? iso(T0 + 1);
          const report = buildAlertReport(records, { from, to });
          const expected = [...model].filter(([, m]) => m.recordedAt >= from && m.recordedAt < to);
          expect(report.alerts.map((r) => r.alertId).sort()).toEqual(expected.map(([id]) => id).sort());
          expect(new Set(report.alerts.map((r) => r.alertId)).size).toBe(report.alerts.length);
          expect(report.problems).toEqual([]);
          for (const row of report.alerts) {
            const m = model.get(row.alertId);
            expect(row.status).toBe(m?.state.status as AlertStatus);
            expect(row.unreviewed).toBe(row.status !== 'resolved');
            expect(row.outcome).toBe(m?.state.resolved?.outcome ?? null);
            expect(row.reopened).toBe(m?.state.reopened);
            for (const d of [row.timeToAcknowledgeMs, row.timeToResolveMs])
              if (d !== null) expect(d).toBeGreaterThanOrEqual(0);
            expect(row.timeToResolveMs === null).toBe(row.status !== 'resolved');
            if (row.status === 'resolved') expect(row.timeToAcknowledgeMs).not.toBeNull();
          }
          expect(report.totals.unreviewed).toBe(report.alerts.filter((r) => r.unreviewed).length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stays total over hostile records (duplicate fires, out-of-sequence transitions, clocks going back)', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 80 }),
        fc.array(fc.integer({ min: -5_000, max: 5_000 }), { minLength: 1, maxLength: 8 }),
        (ops, steps) => {
          const { records } = build(ops, steps, true);
          const report = buildAlertReport(records, {
            from: '0000-01-01T00:00:00.000Z',
            to: '9999-12-31T23:59:59.999Z',
          });
          const fired = new Set(
            records.filter((r) => r.event.action === 'alert.fire').map((r) => r.event.id),
          );
          expect(report.alerts.map((r) => r.alertId).sort()).toEqual([...fired].sort());
          for (const row of report.alerts) {
            expect(row.unreviewed).toBe(row.status !== 'resolved');
            for (const d of [row.timeToAcknowledgeMs, row.timeToResolveMs])
              if (d !== null) expect(d).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports an alert resolved after its period as resolved, and one reopened as unreviewed', () => {
    const { records } = build(
      [
        { kind: 'fire', n: 1 },
        { kind: 'fire', n: 2 },
        { kind: 'fire', n: 3 },
        { kind: 'ack', n: 1 },
        { kind: 'resolve', n: 1, outcome: 0 },
        { kind: 'resolve', n: 2, outcome: 1 },
        { kind: 'reopen', n: 2 },
        { kind: 'occurrence', n: 3 },
        { kind: 'ack', n: 3 },
        { kind: 'ack', n: 3 },
      ],
      [1000],
      true,
    );
    const report = buildAlertReport(records, { from: iso(T0), to: records[3]?.receivedAt as string });
    expect(report.alerts.map((r) => [r.alertId, r.status, r.unreviewed, r.outcome])).toEqual([
      [alertIdOf(1), 'resolved', false, 'true_positive'],
      [alertIdOf(2), 'open', true, null],
      [alertIdOf(3), 'acknowledged', true, null],
    ]);
    const one = report.alerts[0];
    expect(one).toMatchObject({
      acknowledgedBy: 'bob',
      resolvedBy: 'bob',
      timeToAcknowledgeMs: 3000,
      timeToResolveMs: 4000,
    });
    expect(report.alerts[1]?.reopened).toBe(1);
    expect(report.alerts[2]?.occurrences).toBe(1);
    expect(report.problems).toEqual([
      { index: 9, eventId: `${alertIdOf(3)}/r2`, problem: 'alert.ack is not allowed from acknowledged' },
    ]);
    expect(report.totals).toMatchObject({ alerts: 3, unreviewed: 2, resolved: 1, acknowledged: 2 });
    expect(report.asOf).toBe(records.at(-1)?.receivedAt);
  });

  it('writes CSV a spreadsheet cannot turn into a formula', () => {
    const { records } = build([{ kind: 'fire', n: 1 }], [1], false);
    const csv = alertReportCsv(buildAlertReport(records, { from: iso(T0), to: iso(T0 + 10) }));
    const [header, row] = csv.split('\r\n');
    expect(header).toBe(ALERT_REPORT_COLUMNS.join(','));
    expect(row).toContain(`"'=cmd|x ""quoted"", title"`);
    expect(csv.endsWith('\r\n')).toBe(true);
  });
});
