import { describe, expect, it } from 'vitest';
import { MemoryDetectionStateStore } from '../../../src/adapters/memory/detection-state.ts';
import { runDetection } from '../../../src/app/detection.ts';
import { alertId } from '../../../src/core/detect/alert.ts';
import { DetectionEngine, DetectionError } from '../../../src/core/detect/engine.ts';
import { DAY, evaluate, HOUR, MIN, record, records, rule, SEC, T0, tick } from './support.ts';

const indexes = (alerts: { trigger: { index: number } | null }[]) => alerts.map((a) => a.trigger?.index);

describe('match rules', () => {
  it('alerts once per matching record, with a deterministic id, the trigger and its evidence', async () => {
    const r = rule({ match: "event.action == 'data.export' && event.outcome == 'success'" });
    const { alerts } = await evaluate(
      [r],
      records([
        [0, { action: 'data.export' }],
        [SEC, { action: 'tool.call' }],
        [2 * SEC, { action: 'data.export', outcome: 'denied' }],
        [3 * SEC, { action: 'data.export' }],
      ]),
    );
    expect(indexes(alerts)).toEqual([0, 3]);
    const a = alerts[1];
    expect(a?.id).toBe(alertId('acme', 'test.rule', 1, 'r:3'));
    expect(a?.firedAt).toBe(new Date(T0 + 3 * SEC).toISOString());
    expect(a?.evidence).toEqual({
      from: a?.firedAt,
      to: new Date(T0 + 3 * SEC + 1).toISOString(),
      indexes: [3],
    });
    expect(a?.rule).toMatchObject({ id: 'test.rule', version: 1, severity: 'medium', kind: 'match' });
    expect(a?.summary).toBe('data.export by agent-1 (success)');
  });

  it('sees submitter, receivedAt, logId and index', async () => {
    const r = rule({
      match: "submitter == 'svc-x' && receivedAt.getHours('UTC') == 0 && logId == 'acme' && index >= 1",
    });
    const { alerts } = await evaluate(
      [r],
      records([[0, { submitter: 'svc-x' }], [SEC, { submitter: 'svc-x' }], [2 * SEC]]),
    );
    expect(indexes(alerts)).toEqual([1]);
  });

  it('counts an expression error against the rule and does not match', async () => {
    const r = rule({ match: 'event.metadata.bytes > 10.0' });
    const store = new MemoryDetectionStateStore();
    const res = await runDetection(
      store,
      new DetectionEngine('acme', [r]),
      records([[0], [SEC, { metadata: { bytes: 11 } }]]),
    );
    expect(store.outbox('acme').map((e) => e.type)).toEqual(['alert']);
    const s = res.stats[0]?.rules['test.rule'];
    expect(s?.errors).toBe(1);
    expect(s?.firstError).toMatchObject({ path: '/match', code: 'EVAL_ERROR' });
  });

  it('skips rules whose action filter excludes the record without evaluating them', async () => {
    const r = rule({ match: "event.action.startsWith('data.') && event.metadata.x == 1.0" });
    const store = new MemoryDetectionStateStore();
    const res = await runDetection(
      store,
      new DetectionEngine('acme', [r]),
      records([
        [0, { action: 'tool.call' }],
        [1, { action: 'data.read' }],
      ]),
    );
    expect(res.stats[0]?.rules['test.rule']).toMatchObject({ evaluated: 1, errors: 1 });
  });

  it('runs only enabled rules that apply to the log; "*" leaves out the system log', async () => {
    const all = rule({ id: 'all' });
    const off = rule({ id: 'off', enabled: false });
    const sys = rule({ id: 'sys', logs: ['system'] });
    expect(new DetectionEngine('acme', [all, off, sys]).rules.map((r) => r.id)).toEqual(['all']);
    expect(new DetectionEngine('system', [all, off, sys]).rules.map((r) => r.id)).toEqual(['sys']);
  });
});

describe('threshold rules', () => {
  const count = (windowType: string, extra: Record<string, unknown> = {}) =>
    rule({
      kind: 'threshold',
      match: "event.action == 'tool.call'",
      threshold: {
        aggregate: 'count',
        groupBy: 'event.actor.id',
        window: '1m',
        windowType,
        op: '>',
        value: 2,
        ...extra,
      },
    });

  it('tumbling: fires once per window and group when the count crosses', async () => {
    const steps = records([
      [0, { actor: 'a' }],
      [SEC, { actor: 'a' }],
      [2 * SEC, { actor: 'b' }],
      [3 * SEC, { actor: 'a' }], // a: 3 > 2 → fires
      [4 * SEC, { actor: 'a' }], // same window: no second alert
      [MIN, { actor: 'a' }], // new window
      [MIN + 1, { actor: 'a' }],
      [MIN + 2, { actor: 'a' }], // fires again
    ]);
    const { alerts } = await evaluate([count('tumbling')], steps);
    expect(indexes(alerts)).toEqual([3, 7]);
    expect(alerts[0]).toMatchObject({ key: 'a', value: 3, threshold: 2 });
    expect(alerts[0]?.evidence).toEqual({
      from: new Date(T0).toISOString(),
      to: new Date(T0 + 3 * SEC + 1).toISOString(),
      indexes: [0, 1, 3],
    });
  });

  it('tumbling windows are aligned: three events across a boundary do not fire', async () => {
    const { alerts } = await evaluate([count('tumbling')], records([[MIN - 2], [MIN - 1], [MIN], [MIN + 1]]));
    expect(alerts).toEqual([]);
  });

  it('sliding: counts across a tumbling boundary, re-arms after dropping below', async () => {
    const steps = records([
      [MIN - 2 * SEC],
      [MIN - SEC],
      [MIN + SEC], // 3 within the last minute → fires
      [MIN + 2 * SEC], // still above: no second alert
      [3 * MIN], // only 1 in the window → re-armed
      [3 * MIN + 1],
      [3 * MIN + 2], // fires again
    ]);
    const { alerts } = await evaluate([count('sliding')], steps);
    expect(indexes(alerts)).toEqual([2, 6]);
  });

  it('sliding windows move in steps of 1/60 of the window', async () => {
    // window 1m → 1 s steps: the window at t covers the step of t and the 59 before.
    const steps = records([[0], [30 * SEC], [59 * SEC + 999], [60 * SEC]]); // at 60 s, step 60: covers steps 1..60 → 0 s is out
    const { alerts } = await evaluate([count('sliding')], steps);
    expect(indexes(alerts)).toEqual([2]);
  });

  it('sum of a field, grouped; records whose field is not a number count as errors', async () => {
    const r = rule({
      kind: 'threshold',
      match: "event.action == 'data.export'",
      threshold: {
        aggregate: 'sum',
        field: 'event.metadata.bytes',
        groupBy: 'event.actor.id',
        window: '1h',
        windowType: 'sliding',
        op: '>=',
        value: 100,
      },
    });
    const store = new MemoryDetectionStateStore();
    const res = await runDetection(
      store,
      new DetectionEngine('acme', [r]),
      records([
        [0, { action: 'data.export', actor: 'a', metadata: { bytes: 60 } }],
        [SEC, { action: 'data.export', actor: 'b', metadata: { bytes: 60 } }],
        [2 * SEC, { action: 'data.export', actor: 'a', metadata: { bytes: 'lots' } }],
        [3 * SEC, { action: 'data.export', actor: 'a', metadata: { bytes: 40 } }],
      ]),
    );
    const alerts = store.outbox('acme').flatMap((e) => (e.type === 'alert' ? [e.alert] : []));
    expect(alerts.map((a) => [a.key, a.value, a.trigger?.index])).toEqual([['a', 100, 3]]);
    expect(res.stats[0]?.rules['test.rule']?.errors).toBe(1);
  });

  it('distinct values of a field', async () => {
    const r = rule({
      kind: 'threshold',
      match: 'has(event.target)',
      threshold: {
        aggregate: 'distinct',
        field: 'event.target.id',
        groupBy: 'event.actor.id',
        window: '10m',
        windowType: 'tumbling',
        op: '>=',
        value: 3,
      },
    });
    const t = (id: string) => ({ target: { type: 'dataset', id } });
    const { alerts } = await evaluate(
      [r],
      records([
        [0, t('x')],
        [1, t('x')],
        [2, t('y')],
        [3, t('y')],
        [4, t('z')],
      ]),
    );
    expect(alerts.map((a) => [a.value, a.trigger?.index])).toEqual([[3, 4]]);
  });

  it('no groupBy: one group', async () => {
    const r = rule({
      kind: 'threshold',
      threshold: { aggregate: 'count', window: '1m', windowType: 'tumbling', op: '>', value: 1 },
    });
    const { alerts } = await evaluate(
      [r],
      records([
        [0, { actor: 'a' }],
        [1, { actor: 'b' }],
      ]),
    );
    expect(alerts.map((a) => a.key)).toEqual(['']);
  });

  it('a window continues across chunk boundaries', async () => {
    const steps = records([[0], [SEC], [2 * SEC], [3 * SEC]]);
    for (const chunkRecords of [1, 2, 3]) {
      const { alerts } = await evaluate([count('sliding', { groupBy: undefined })], steps, { chunkRecords });
      expect(indexes(alerts)).toEqual([2]);
    }
  });
});

describe('first_seen rules', () => {
  const tools = (extra: Record<string, unknown> = {}) =>
    rule({
      kind: 'first_seen',
      match: "event.action == 'tool.call' && event.actor.type == 'agent' && has(event.target)",
      first_seen: { value: 'event.target.id', key: 'event.actor.id', lookback: '30d', ...extra },
    });
  const call = (actor: string, tool: string) => ({ actor, target: { type: 'tool', id: tool } });

  it('alerts the first time an agent calls a tool, per agent, and again after the lookback', async () => {
    const { alerts } = await evaluate(
      [tools()],
      records([
        [0, call('a', 'search')],
        [HOUR, call('a', 'search')],
        [2 * HOUR, call('b', 'search')],
        [3 * HOUR, call('a', 'shell')],
        [32 * DAY, call('a', 'shell')], // 30 d after its last use
      ]),
    );
    expect(alerts.map((a) => [a.key, a.trigger?.index])).toEqual([
      ['a', 0],
      ['b', 2],
      ['a', 3],
      ['a', 4],
    ]);
    expect(alerts[2]?.summary).toBe('first shell for a in 30d');
  });

  it('each use renews the lookback', async () => {
    const { alerts } = await evaluate(
      [tools()],
      records([
        [0, call('a', 't')],
        [20 * DAY, call('a', 't')],
        [45 * DAY, call('a', 't')],
      ]),
    );
    expect(indexes(alerts)).toEqual([0]);
  });

  it('learns silently for its learn period', async () => {
    const { alerts, outbox } = await evaluate(
      [tools({ learn: '1d' })],
      records([
        [0, call('a', 't1')],
        [HOUR, call('a', 't2')],
        [2 * DAY, call('a', 't1')],
        [2 * DAY + 1, call('a', 't3')],
      ]),
    );
    expect(indexes(alerts)).toEqual([3]);
    expect(outbox).toHaveLength(1);
  });
});

describe('absence rules', () => {
  const silence = (extra: Record<string, unknown> = {}) =>
    rule({ kind: 'absence', match: "event.action == 'heartbeat'", absence: { for: '10m', ...extra } });
  const hb = (submitter = 'svc-a') => ({ action: 'heartbeat', submitter });

  it('fires once when log time passes the silence, driven by other records, and re-arms', async () => {
    const steps = records([
      [0, hb()],
      [5 * MIN, hb()],
      [16 * MIN, { action: 'tool.call' }], // 11 min after the last heartbeat → fires (deadline 15 min)
      [20 * MIN, { action: 'tool.call' }], // same silence: nothing
      [21 * MIN, hb()], // re-armed
      [40 * MIN, { action: 'tool.call' }], // fires again
    ]);
    const { alerts } = await evaluate([silence()], steps);
    expect(alerts.map((a) => [a.firedAt, a.trigger, a.evidence.indexes])).toEqual([
      [new Date(T0 + 15 * MIN).toISOString(), null, [1]],
      [new Date(T0 + 31 * MIN).toISOString(), null, [4]],
    ]);
    expect(alerts[0]?.id).toBe(alertId('acme', 'test.rule', 1, `a::${T0 + 5 * MIN}`));
  });

  it('fires on a tick while the log itself is silent', async () => {
    const { alerts } = await evaluate([silence()], [...records([[0, hb()]]), tick(9 * MIN), tick(11 * MIN)]);
    expect(alerts.map((a) => a.firedAt)).toEqual([new Date(T0 + 10 * MIN).toISOString()]);
  });

  it('a silence that ends with the key itself still fires (the silence happened)', async () => {
    const { alerts } = await evaluate(
      [silence()],
      records([
        [0, hb()],
        [30 * MIN, hb()],
      ]),
    );
    expect(alerts).toHaveLength(1);
  });

  it('per key; expected keys are tracked from the start even if never seen', async () => {
    const r = silence({ key: 'submitter', expect: ['svc-a', 'svc-b'] });
    const steps = [
      ...records([
        [0, hb('svc-a')],
        [MIN, hb('svc-c')],
        [9 * MIN, hb('svc-a')],
        [10 * MIN, hb('svc-c')],
      ]),
      tick(12 * MIN),
    ];
    const { alerts } = await evaluate([r], steps);
    expect(alerts.map((a) => [a.key, a.firedAt])).toEqual([['svc-b', new Date(T0 + 10 * MIN).toISOString()]]);
  });

  it('without a key, the rule fires if nothing matches for `for` after it starts', async () => {
    const { alerts } = await evaluate(
      [silence()],
      [...records([[0, { action: 'tool.call' }]]), tick(11 * MIN)],
    );
    expect(alerts).toHaveLength(1);
  });
});

describe('dedup and suppression', () => {
  it('dedup: repeats within the window are occurrences of the first alert', async () => {
    const r = rule({ match: "event.action == 'x'", dedup: { window: '10m', key: 'event.actor.id' } });
    const { outbox } = await evaluate(
      [r],
      records([
        [0, { action: 'x', actor: 'a' }],
        [MIN, { action: 'x', actor: 'a' }],
        [2 * MIN, { action: 'x', actor: 'b' }],
        [11 * MIN, { action: 'x', actor: 'a' }],
      ]),
    );
    expect(outbox.map((e) => e.type)).toEqual(['alert', 'occurrence', 'alert', 'alert']);
    const first = outbox[0];
    expect(outbox[1]).toMatchObject({ type: 'occurrence', alertId: first?.id, index: 1 });
    expect(first?.type === 'alert' && first.alert.dedup).toEqual({
      key: 'a',
      until: new Date(T0 + 10 * MIN).toISOString(),
    });
  });

  it('suppression windows record the alert as suppressed, not delivered, and do not open a dedup window', async () => {
    const r = rule({
      dedup: { window: '1h' },
      suppress: [{ from: new Date(T0).toISOString(), to: new Date(T0 + MIN).toISOString(), reason: 'CHG-1' }],
    });
    const { outbox } = await evaluate([r], records([[0], [MIN - 1], [MIN], [MIN + 1]]));
    expect(outbox.map((e) => e.type)).toEqual(['suppressed', 'suppressed', 'alert', 'occurrence']);
    const s = outbox[0];
    expect(s?.type === 'suppressed' && s.alert.suppressed).toMatchObject({ reason: 'CHG-1' });
  });
});

describe('cursor', () => {
  it('refuses a gap and skips records already evaluated', async () => {
    const engine = new DetectionEngine('acme', [rule()]);
    const store = new MemoryDetectionStateStore();
    await runDetection(store, engine, records([[0], [1]]));
    await expect(runDetection(store, engine, records([[5]], 5))).rejects.toMatchObject({
      code: 'CURSOR_GAP',
    });
    await expect(runDetection(store, engine, records([[5]], 5))).rejects.toBeInstanceOf(DetectionError);
    const again = await runDetection(store, engine, records([[0], [1], [2]]));
    expect(again.stats[0]).toMatchObject({ skipped: 2, records: 1 });
    expect(store.outbox('acme')).toHaveLength(3);
  });

  it('a second evaluator that lost the race stops and commits nothing', async () => {
    const engine = new DetectionEngine('acme', [rule()]);
    class RacingStore extends MemoryDetectionStateStore {
      raced = false;
      override async commit(c: Parameters<MemoryDetectionStateStore['commit']>[0]): Promise<boolean> {
        if (!this.raced) {
          this.raced = true;
          // Another evaluator, started at the same cursor, commits first.
          await runDetection(this, engine, records([[0]]));
        }
        return super.commit(c);
      }
    }
    const store = new RacingStore();
    const res = await runDetection(store, engine, records([[0]]));
    expect(res.lostRace).toBe(true);
    expect(store.outbox('acme')).toHaveLength(1);
    expect(store.commits).toBe(1);
  });

  it('records of another log are refused', async () => {
    const engine = new DetectionEngine('acme', [rule()]);
    expect(() =>
      engine.prepare({ logId: 'acme', nextIndex: 0, watermarkMs: -1, version: 0 }, [
        { kind: 'record', record: record(0, T0, {}, 'other') },
      ]),
    ).toThrow(expect.objectContaining({ code: 'WRONG_LOG' }));
  });
});

describe('threshold with a baseline', () => {
  const rate = rule({
    kind: 'threshold',
    match: "event.action == 'tool.call'",
    threshold: {
      aggregate: 'count',
      groupBy: 'event.actor.id',
      window: '1m',
      windowType: 'tumbling',
      op: '>',
      value: 3,
      baseline: { windows: 3, factor: 4 },
    },
  });
  const calls = (minute: number, n: number, actor = 'a'): Array<[number, { actor: string }]> =>
    Array.from({ length: n }, (_, i) => [minute * MIN + i * SEC, { actor }]);

  it('fires when a window is far above the group’s own mean, not before it has history', async () => {
    const steps = records([
      ...calls(0, 10), // no history yet: 10 > 3 but not an alert
      ...calls(1, 2),
      ...calls(2, 2),
      ...calls(3, 2), // history [10, 2, 2] → mean 4.67, × 4 = 18.7
      ...calls(4, 12), // history [2, 2, 2] → mean 2 × 4 = 8: the 9th call fires
    ]);
    const { alerts } = await evaluate([rate], steps);
    expect(alerts.map((a) => [a.trigger?.index, a.value, a.threshold])).toEqual([[10 + 6 + 8, 9, 8]]);
  });

  it('empty windows count as zero; the floor still applies', async () => {
    // At minute 3 the history is [1, 1, 0] → mean 2/3 × 4 = 2.67 < floor 3: the 4th call fires.
    const steps = records([...calls(0, 1), ...calls(1, 1), ...calls(3, 4)]);
    const { alerts } = await evaluate([rate], steps);
    expect(alerts.map((a) => [a.value, a.threshold])).toEqual([[4, 3]]);
  });

  it('a group silent for as many windows as its history starts learning afresh', async () => {
    const steps = records([...calls(0, 1), ...calls(1, 1), ...calls(2, 1), ...calls(9, 10)]);
    const { alerts } = await evaluate([rate], steps);
    expect(alerts).toEqual([]);
  });

  it('only tumbling windows, count or sum', () => {
    const base = { aggregate: 'count', window: '1m', op: '>', value: 1, baseline: { windows: 3, factor: 2 } };
    expect(() => rule({ kind: 'threshold', threshold: { ...base, windowType: 'sliding' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_FIELD', path: '/threshold/baseline' }),
    );
    expect(() =>
      rule({
        kind: 'threshold',
        threshold: { ...base, aggregate: 'distinct', field: 'submitter', windowType: 'tumbling' },
      }),
    ).toThrow(expect.objectContaining({ path: '/threshold/baseline' }));
  });
});

describe('requires rules', () => {
  const budget = rule({
    kind: 'requires',
    match: "event.action == 'budget.threshold.breach'",
    requires: {
      precursor: "event.action == 'workflow.approve'",
      key: 'event.metadata.workflowId',
      precursorKey: 'event.target.id',
      within: '1d',
    },
  });
  const approve = (id: string) => ({ action: 'workflow.approve', target: { type: 'workflow', id } });
  const breach = (id: string) => ({ action: 'budget.threshold.breach', metadata: { workflowId: id } });

  it('alerts on a record with no matching precursor within the period', async () => {
    const { alerts } = await evaluate(
      [budget],
      records([
        [0, approve('w1')],
        [HOUR, breach('w1')],
        [HOUR, breach('w2')],
        [2 * DAY, breach('w1')],
      ]),
    );
    expect(alerts.map((a) => [a.key, a.trigger?.index])).toEqual([
      ['w2', 2],
      ['w1', 3],
    ]);
    expect(alerts[0]?.evidence.from).toBe(
      new Date(T0 + HOUR - DAY).toISOString().replace(/^.*$/, (s) => (s < new Date(0).toISOString() ? s : s)),
    );
    expect(alerts[0]?.summary).toBe('budget.threshold.breach for w2 with no precursor in 1d');
  });
});
