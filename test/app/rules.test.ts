/**
 * Rule management (src/app/rules.ts) on in-memory adapters: versions, audit
 * events with the whole document before and after, validation with code,
 * pointer and position, concurrency, and crashes between the store write
 * and the audit record (no unaudited change, no lost change).
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import type { AdminAuditEvent } from '../../src/app/principals.ts';
import { RuleService, ruleEventId, validateRuleDocument } from '../../src/app/rules.ts';
import { parseRuleDocument } from '../../src/core/detect/rule.ts';
import { validateEvent } from '../../src/core/event.ts';
import type { RuleVersion } from '../../src/ports/rule-store.ts';
import { ADMIN, OTHER_ADMIN, principal, ruleInput, rulesEnv } from './rules-support.ts';

async function appError(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('RuleService: versions and their audit records', () => {
  it('create, update, disable, enable: one version and one system-log event each, whole documents before and after', async () => {
    const { rules, sink, store } = rulesEnv();
    const created = await rules.put(ADMIN, 'r1', ruleInput('r1'), { requestId: 'req-1' });
    expect(created).toMatchObject({ changed: true, created: true });
    expect(created.view.rule).toEqual(parseRuleDocument(ruleInput('r1')));
    expect(created.view.change).toEqual({
      action: 'rule.create',
      by: 'admin-1',
      at: sink.events[0]?.occurredAt,
      eventId: 'rule/r1/v1',
      recorded: { seq: 1, index: 0 },
    });
    const updated = await rules.put(OTHER_ADMIN, 'r1', ruleInput('r1', 2, { severity: 'critical' }));
    expect(updated).toMatchObject({
      changed: true,
      created: false,
      view: { change: { action: 'rule.update' } },
    });
    const disabled = await rules.setEnabled(ADMIN, 'r1', false);
    expect(disabled.view.rule).toMatchObject({ version: 3, enabled: false, severity: 'critical' });
    const enabled = await rules.setEnabled(ADMIN, 'r1', true, { ifVersion: 3 });
    expect(enabled.view.rule).toMatchObject({ version: 4, enabled: true });

    expect(sink.events.map((e) => [e.id, e.action, e.actor.id])).toEqual([
      ['rule/r1/v1', 'rule.create', 'admin-1'],
      ['rule/r1/v2', 'rule.update', 'admin-2'],
      ['rule/r1/v3', 'rule.disable', 'admin-1'],
      ['rule/r1/v4', 'rule.enable', 'admin-1'],
    ]);
    const docs = [1, 2, 3, 4].map(async (n) => (await store.getVersion('r1', n))?.document);
    const [v1, v2, v3, v4] = await Promise.all(docs);
    expect(sink.events.map((e) => e.changes)).toEqual([
      { before: {}, after: v1 },
      { before: v1, after: v2 },
      { before: v2, after: v3 },
      { before: v3, after: v4 },
    ]);
    expect(sink.events[0]).toMatchObject({
      target: { type: 'rule', id: 'r1', name: 'Large data export volume by one principal' },
      outcome: 'success',
      context: { requestId: 'req-1' },
    });
    // Each is a valid Event v1 (what the system log's ingest accepts).
    for (const e of sink.events) expect(() => validateEvent(JSON.parse(JSON.stringify(e)))).not.toThrow();
  });

  it('a document that changes only `enabled` is recorded as rule.enable / rule.disable', async () => {
    const { rules, sink } = rulesEnv();
    await rules.put(ADMIN, 'r2', ruleInput('r2'));
    await rules.put(ADMIN, 'r2', ruleInput('r2', 2, { enabled: false }));
    await rules.put(ADMIN, 'r2', ruleInput('r2', 3, { enabled: true, title: 'new title' }));
    expect(sink.events.map((e) => e.action)).toEqual(['rule.create', 'rule.disable', 'rule.update']);
  });

  it('the same document again changes and records nothing (a replayed request, a re-applied file)', async () => {
    const { rules, sink } = rulesEnv();
    await rules.put(ADMIN, 'r3', ruleInput('r3'));
    for (const version of [1, 2, 7]) {
      const again = await rules.put(ADMIN, 'r3', ruleInput('r3', version));
      expect(again).toMatchObject({ changed: false, created: false, view: { rule: { version: 1 } } });
    }
    // Defaults count as given: `enabled: true` and `logs: ["*"]` are what the stored document says.
    expect((await rules.put(ADMIN, 'r3', ruleInput('r3', 2, { enabled: true, logs: ['*'] }))).changed).toBe(
      false,
    );
    expect((await rules.setEnabled(ADMIN, 'r3', true)).changed).toBe(false);
    expect(sink.events).toHaveLength(1);
  });

  it('a change must carry the committed version + 1; If-Match must name the committed version', async () => {
    const { rules, sink } = rulesEnv();
    expect((await appError(rules.put(ADMIN, 'r4', ruleInput('r4', 2)))).code).toBe('CONFLICT');
    await rules.put(ADMIN, 'r4', ruleInput('r4'));
    for (const version of [1, 3]) {
      const err = await appError(rules.put(ADMIN, 'r4', ruleInput('r4', version, { title: 'stale' })));
      expect(err.code).toBe('CONFLICT');
      expect(err.message).toContain('version 2');
    }
    expect(
      (await appError(rules.put(ADMIN, 'r4', ruleInput('r4', 2, { title: 't' }), { ifVersion: 0 }))).code,
    ).toBe('CONFLICT');
    expect((await appError(rules.setEnabled(ADMIN, 'r4', false, { ifVersion: 2 }))).code).toBe('CONFLICT');
    expect((await appError(rules.put(ADMIN, 'r5', ruleInput('r5'), { ifVersion: 1 }))).code).toBe('CONFLICT');
    expect((await rules.put(ADMIN, 'r5', ruleInput('r5'), { ifVersion: 0 })).created).toBe(true);
    expect(sink.events.map((e) => e.id)).toEqual(['rule/r4/v1', 'rule/r5/v1']);
  });

  it('of two admins editing the same version, exactly one wins and one event is recorded', async () => {
    for (let round = 0; round < 20; round++) {
      const { rules, sink } = rulesEnv();
      await rules.put(ADMIN, 'race', ruleInput('race'));
      const outcomes = await Promise.allSettled([
        rules.put(ADMIN, 'race', ruleInput('race', 2, { title: 'A' })),
        rules.put(OTHER_ADMIN, 'race', ruleInput('race', 2, { title: 'B' })),
        rules.setEnabled(OTHER_ADMIN, 'race', false),
      ]);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const o of outcomes)
        if (o.status === 'rejected') expect((o.reason as AppError).code).toBe('CONFLICT');
      expect(sink.events.map((e) => e.id)).toEqual(['rule/race/v1', 'rule/race/v2']);
      const v2 = await rules.get(ADMIN, 'race');
      expect(sink.events[1]?.changes.after).toEqual(v2.rule);
    }
  });
});

describe('RuleService: invalid rules are refused with code, pointer and position', () => {
  it.each([
    [
      'a CEL syntax error',
      ruleInput('bad', 1, { match: "event.action == 'x' &&" }),
      'EXPRESSION_SYNTAX',
      '/match',
    ],
    [
      'an unknown variable',
      ruleInput('bad', 1, { match: 'evnt.action == "x"' }),
      'UNKNOWN_VARIABLE',
      '/match',
    ],
    [
      'a bad groupBy',
      ruleInput('bad', 1, {
        threshold: {
          aggregate: 'count',
          groupBy: 'event.actor.id +',
          window: '1h',
          windowType: 'sliding',
          op: '>',
          value: 1,
        },
      }),
      'EXPRESSION_SYNTAX',
      '/threshold/groupBy',
    ],
    ['a typo in a field name', { ...ruleInput('bad'), treshold: {} }, 'UNKNOWN_FIELD', '/treshold'],
    ['a missing field', { ...ruleInput('bad'), owner: undefined }, 'MISSING_FIELD', '/owner'],
    [
      'a bad window',
      ruleInput('bad', 1, {
        threshold: { aggregate: 'count', window: '1y', windowType: 'sliding', op: '>', value: 1 },
      }),
      'INVALID_FIELD',
      '/threshold/window',
    ],
    ['another rule id', ruleInput('other'), 'INVALID_FIELD', '/id'],
  ])('%s', async (_what, input, reason, path) => {
    const { rules, sink } = rulesEnv();
    const err = await appError(rules.put(ADMIN, 'bad', input));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.path).toBe(path);
    expect(err.details?.reason).toBe(reason);
    if (reason.startsWith('EXPRESSION') || reason.startsWith('UNKNOWN_V'))
      expect(err.details?.position).toMatchObject({
        line: 1,
        column: expect.any(Number),
        offset: expect.any(Number),
      });
    expect(sink.events).toHaveLength(0);
    expect((await appError(rules.get(ADMIN, 'bad'))).code).toBe('NOT_FOUND');
  });

  it('positions point into the expression (line and column of a multi-line match)', () => {
    const err = (() => {
      try {
        validateRuleDocument(ruleInput('p', 1, { match: "event.action == 'x' &&\n  unknown_thing > 1" }));
      } catch (e) {
        return e as AppError;
      }
      throw new Error('accepted');
    })();
    expect(err.details).toEqual({ reason: 'UNKNOWN_VARIABLE', position: { offset: 25, line: 2, column: 3 } });
  });

  it('text that is not a document: INVALID_JSON with line and column; too large: DOCUMENT_TOO_LARGE', async () => {
    const { rules } = rulesEnv();
    const text = '{\n  "schema": "anchorlog.rule/v1",\n  "id": "x",\n  "id": "y"\n}';
    const dup = await appError(rules.put(ADMIN, 'x', new TextEncoder().encode(text)));
    expect(dup.details).toMatchObject({ reason: 'INVALID_JSON', position: { line: 4 } });
    const big = await appError(rules.put(ADMIN, 'x', `{"a":"${'x'.repeat(70_000)}"}`));
    expect(big.details?.reason).toBe('DOCUMENT_TOO_LARGE');
    for (const garbage of [
      null,
      42,
      'not json',
      [],
      new Uint8Array([0xff, 0xfe]),
      { __proto__: { id: 'x' } },
    ]) {
      const e = await appError(rules.put(ADMIN, 'x', garbage));
      expect(e.code).toBe('BAD_REQUEST');
    }
  });

  it('a rule whose audit record (before and after) would not fit in the system log is refused before anything is written', async () => {
    const { rules, sink, store } = rulesEnv();
    // 62 keys of 512 characters: a valid document of ~33 KB. Created, its record holds it once (fits);
    // changed, the record holds it twice (~66 KB: does not).
    const keys = Array.from({ length: 62 }, (_, i) => `${i}`.padEnd(512, 'k'));
    const absence = (version: number, title: string) =>
      ruleInput('big', version, {
        title,
        kind: 'absence',
        threshold: undefined,
        absence: { for: '15m', key: 'submitter', expect: keys },
      });
    await rules.put(ADMIN, 'big', absence(1, 'first'));
    const err = await appError(rules.put(ADMIN, 'big', absence(2, 'second')));
    expect(err.details?.reason).toBe('DOCUMENT_TOO_LARGE');
    expect(sink.events).toHaveLength(1);
    expect((await store.get('big'))?.pending).toBeUndefined();
  });

  it('ids: a path id that is not a rule id is 400 to write and 404 to read', async () => {
    const { rules } = rulesEnv();
    expect((await appError(rules.put(ADMIN, '../x', ruleInput('x')))).code).toBe('BAD_REQUEST');
    expect((await appError(rules.get(ADMIN, '../x'))).code).toBe('NOT_FOUND');
    expect((await appError(rules.history(ADMIN, 'A'))).code).toBe('NOT_FOUND');
    expect((await appError(rules.setEnabled(ADMIN, '', true))).code).toBe('NOT_FOUND');
  });

  it('long rule ids make event ids of at most 128 characters, distinct per rule and version', () => {
    const a = 'a'.repeat(128);
    const b = `${'a'.repeat(127)}b`;
    const ids = [ruleEventId(a, 1), ruleEventId(b, 1), ruleEventId(a, 2147483647)];
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(128);
    expect(new Set(ids).size).toBe(3);
    expect(ruleEventId('ai.data-export.volume', 3)).toBe('rule/ai.data-export.volume/v3');
  });
});

describe('RuleService: reads', () => {
  it('requires admin on * for everything', async () => {
    const { rules } = rulesEnv();
    const reader = principal('reader', { '*': ['events:read', 'proofs:read', 'export'], prod: ['admin'] });
    for (const call of [
      rules.put(reader, 'r', ruleInput('r')),
      rules.setEnabled(reader, 'r', false),
      rules.get(reader, 'r'),
      rules.list(reader),
      rules.history(reader, 'r'),
    ])
      expect((await appError(call)).code).toBe('FORBIDDEN');
  });

  it('get (and ?version=), history newest first, list in id order a page at a time', async () => {
    const { rules } = rulesEnv();
    for (const id of ['c', 'a', 'b']) await rules.put(ADMIN, id, ruleInput(id));
    for (let n = 2; n <= 5; n++) await rules.put(ADMIN, 'a', ruleInput('a', n, { title: `title ${n}` }));
    expect((await rules.get(ADMIN, 'a')).rule.title).toBe('title 5');
    expect((await rules.get(ADMIN, 'a', { version: 3 })).rule.title).toBe('title 3');
    expect((await rules.get(ADMIN, 'a', { version: 1 })).change.action).toBe('rule.create');
    expect((await appError(rules.get(ADMIN, 'a', { version: 6 }))).code).toBe('NOT_FOUND');
    expect((await appError(rules.get(ADMIN, 'a', { version: 0 }))).code).toBe('BAD_REQUEST');
    const h1 = await rules.history(ADMIN, 'a', { limit: 3 });
    expect(h1.versions.map((v) => v.rule.version)).toEqual([5, 4, 3]);
    const h2 = await rules.history(ADMIN, 'a', { limit: 3, ...(h1.cursor ? { cursor: h1.cursor } : {}) });
    expect(h2.versions.map((v) => v.rule.version)).toEqual([2, 1]);
    const p1 = await rules.list(ADMIN, { limit: 2 });
    expect(p1.rules.map((r) => r.rule.id)).toEqual(['a', 'b']);
    const p2 = await rules.list(ADMIN, { limit: 2, ...(p1.cursor ? { cursor: p1.cursor } : {}) });
    expect(p2.rules.map((r) => r.rule.id)).toEqual(['c']);
    for (const limit of [0, 101, 2.5])
      expect((await appError(rules.list(ADMIN, { limit }))).path).toBe('/query/limit');
    const bad = await appError(rules.list(ADMIN, { cursor: 'garbage!' }));
    expect([bad.code, bad.path]).toEqual(['BAD_REQUEST', '/cursor']);
    expect((await rules.committedRules()).map((d) => [d.id, d.version])).toEqual([
      ['a', 5],
      ['b', 1],
      ['c', 1],
    ]);
  });
});

describe('RuleService: a crash between the store write and the audit record', () => {
  it('audit log down after STAGE: not in effect, nothing recorded; recovery records once and commits', async () => {
    const { rules, sink, store } = rulesEnv();
    await rules.put(ADMIN, 'k', ruleInput('k'));
    sink.failNext = 1;
    const err = await appError(rules.put(ADMIN, 'k', ruleInput('k', 2, { severity: 'critical' })));
    expect([err.code, err.retryAfterSeconds]).toEqual(['UNAVAILABLE', 3]);
    // No unaudited change: what evaluation loads is still version 1, and the log shows only it.
    expect((await rules.committedRules())[0]?.version).toBe(1);
    expect(sink.events.map((e) => e.id)).toEqual(['rule/k/v1']);
    const view = await rules.get(ADMIN, 'k');
    expect(view).toMatchObject({ rule: { version: 1 }, pending: { version: 2, action: 'rule.update' } });
    // While the log stays down, another change is refused without being staged.
    sink.failNext = 1;
    const blocked = await appError(rules.setEnabled(OTHER_ADMIN, 'k', false));
    expect([blocked.code, blocked.message]).toEqual([
      'UNAVAILABLE',
      expect.stringContaining('earlier change (version 2)'),
    ]);
    expect((await store.get('k'))?.pending?.document).toMatchObject({ version: 2, enabled: true });
    // No lost change: recovery completes it, with its one record.
    expect(await rules.recoverPending()).toEqual({ completed: 1, failed: 0 });
    expect(sink.events.map((e) => e.id)).toEqual(['rule/k/v1', 'rule/k/v2']);
    expect((await rules.get(ADMIN, 'k')).rule).toMatchObject({ version: 2, severity: 'critical' });
    expect((await store.get('k'))?.pending).toBeUndefined();
    expect(await rules.recoverPending()).toEqual({ completed: 0, failed: 0 });
  });

  it('a record that landed but was not acknowledged is not written twice', async () => {
    const { rules, sink } = rulesEnv();
    sink.failAfterNext = 1;
    expect((await appError(rules.put(ADMIN, 'k', ruleInput('k')))).code).toBe('UNAVAILABLE');
    expect(sink.events).toHaveLength(1);
    // The caller retries: the retry first completes the staged creation, then finds nothing to change.
    const retry = await rules.put(ADMIN, 'k', ruleInput('k'));
    expect(retry).toMatchObject({
      changed: false,
      view: { rule: { version: 1 }, change: { action: 'rule.create' } },
    });
    expect(sink.events).toHaveLength(1);
  });

  it('the next change to the rule completes a staged one first, then is judged against it', async () => {
    const { rules, sink } = rulesEnv();
    await rules.put(ADMIN, 'k', ruleInput('k'));
    sink.failNext = 1;
    await appError(rules.setEnabled(ADMIN, 'k', false));
    const err = await appError(rules.put(OTHER_ADMIN, 'k', ruleInput('k', 2, { title: 'based on v1' })));
    expect(err.code).toBe('CONFLICT');
    expect(sink.events.map((e) => e.action)).toEqual(['rule.create', 'rule.disable']);
    expect((await rules.get(ADMIN, 'k')).rule).toMatchObject({ version: 2, enabled: false });
  });

  it('a crash at any store or audit call of a sequence of changes: after recovery, every committed version has exactly one record and every record a committed version', async () => {
    const script = async (rules: ReturnType<typeof rulesEnv>['rules']) => {
      const steps = [
        () => rules.put(ADMIN, 's', ruleInput('s')),
        () => rules.put(ADMIN, 's', ruleInput('s', 2, { severity: 'low' })),
        () => rules.setEnabled(ADMIN, 's', false),
        () => rules.put(ADMIN, 't', ruleInput('t')),
        () => rules.setEnabled(ADMIN, 's', true),
      ];
      for (const step of steps) await step().catch(() => undefined);
    };
    // Count the calls of a clean run, then crash at each one in turn, before and after it takes effect.
    const clean = rulesEnv();
    await script(clean.rules);
    const calls = clean.store.faults.count();
    expect(calls).toBeGreaterThan(10);
    let crashes = 0;
    for (let k = 0; k < calls + 5; k++)
      for (const when of ['before', 'after'] as const)
        for (const where of ['store', 'sink'] as const) {
          const env = rulesEnv();
          if (where === 'store') env.store.faults.fail({ op: '*', code: 'UNAVAILABLE', when, skip: k });
          else if (k < 6) {
            // The sink is called once per change: crash at its k-th call.
            let seen = 0;
            const record = env.sink.record.bind(env.sink);
            env.sink.record = async (e) => {
              if (seen++ === k) {
                if (when === 'before') throw new AppError('UNAVAILABLE', 'crash');
                await record(e);
                throw new Error('crash after the record landed');
              }
              return record(e);
            };
          } else continue;
          crashes++;
          await script(env.rules);
          env.store.faults.clear();
          await env.rules.recoverPending();
          // Invariants.
          const recorded = new Map(env.sink.events.map((e) => [e.id, e]));
          let versions = 0;
          for (const id of ['s', 't']) {
            const head = await env.store.get(id);
            expect(head?.pending, `${where} ${when} ${k}: nothing left staged`).toBeUndefined();
            const { versions: history } = await env.store.history(id, { limit: 100 });
            for (const v of history) {
              versions++;
              const e = recorded.get(`rule/${id}/v${v.document.version}`);
              expect(
                e?.changes.after,
                `${where} ${when} ${k}: record of ${id} v${v.document.version}`,
              ).toEqual(JSON.parse(JSON.stringify(v.document)));
              expect(v.change.recorded.index).toBe(env.sink.events.indexOf(e as never));
            }
          }
          expect(env.sink.events.length, `${where} ${when} ${k}: no record without its version`).toBe(
            versions,
          );
          expect(new Set(env.sink.events.map((e) => e.id)).size).toBe(env.sink.events.length);
        }
    expect(crashes).toBeGreaterThan(2 * calls);
  });
});

describe('RuleService.boundRules: only versions the system log backs', () => {
  it('every version made through the service is bound, also while a later change waits between RECORD and PROMOTE', async () => {
    const { rules, sink } = rulesEnv();
    await rules.put(ADMIN, 'a', ruleInput('a'));
    await rules.put(ADMIN, 'b', ruleInput('b'));
    await rules.setEnabled(ADMIN, 'b', false);
    sink.failAfterNext = 1; // v2 of a is recorded, not promoted
    await appError(rules.put(ADMIN, 'a', ruleInput('a', 2, { severity: 'low' })));
    const { rules: bound, unbound } = await rules.boundRules();
    expect(unbound).toEqual([]);
    expect(bound.map((d) => [d.id, d.version])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('a version written around the service (an insider with the admin role) is refused and reported', async () => {
    const { rules, store } = rulesEnv();
    await rules.put(ADMIN, 'x', ruleInput('x'));
    await rules.put(ADMIN, 'y', ruleInput('y'));
    // Straight into the store: a version 2 whose "record" is version 1's.
    const forged = parseRuleDocument(ruleInput('x', 2, { enabled: false }));
    const v1 = (await store.get('x'))?.current;
    await store.stage({ document: forged, audit: {} });
    await store.promote({
      document: forged,
      change: { ...(v1 as RuleVersion).change, eventId: 'rule/x/v2' },
    });
    // And one whose record position points nowhere.
    const nowhere = parseRuleDocument(ruleInput('y', 2, { match: 'false' }));
    await store.stage({ document: nowhere, audit: {} });
    await store.promote({
      document: nowhere,
      change: {
        action: 'rule.update',
        by: 'insider',
        at: 'now',
        eventId: 'rule/y/v2',
        recorded: { seq: 99, index: 98 },
      },
    });
    const { rules: bound, unbound } = await rules.boundRules();
    expect(bound).toEqual([]);
    expect(unbound).toEqual([
      { id: 'x', version: 2, reason: 'audit_mismatch', detail: expect.stringContaining('not version 2') },
      { id: 'y', version: 2, reason: 'audit_mismatch', detail: expect.stringContaining('no record there') },
    ]);
    // An item and a forged record that disagree: the record's id is right, its document is not.
    const { rules: other, store: otherStore, sink: otherSink } = rulesEnv();
    await other.put(ADMIN, 'z', ruleInput('z'));
    const recorded = await otherSink.record({
      ...(otherSink.events[0] as AdminAuditEvent),
      id: 'rule/z/v2',
      changes: { before: {}, after: parseRuleDocument(ruleInput('z', 2)) as never },
    });
    const edited = parseRuleDocument(ruleInput('z', 2, { title: 'quietly edited' }));
    await otherStore.stage({ document: edited, audit: {} });
    await otherStore.promote({
      document: edited,
      change: { action: 'rule.update', by: 'insider', at: 'now', eventId: 'rule/z/v2', recorded },
    });
    expect((await other.boundRules()).unbound).toEqual([
      { id: 'z', version: 2, reason: 'audit_mismatch', detail: expect.stringContaining('differs') },
    ]);
  });

  it('needs the system log reader', async () => {
    const { store, sink, clock } = rulesEnv();
    const blind = new RuleService({ store, audit: sink, clock });
    expect((await appError(blind.boundRules())).code).toBe('INTERNAL');
  });
});
