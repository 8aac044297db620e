/**
 * The rule store as the evaluation job's RuleSource (src/app/stored-rule-source.ts):
 * enabled, bound versions only; one load per TTL shared by every log and by
 * concurrent callers; store failures as the port's three codes.
 */
import { describe, expect, it } from 'vitest';
import type { UnboundRule } from '../../src/app/rules.ts';
import { StoredRuleSource } from '../../src/app/stored-rule-source.ts';
import { parseRuleDocument } from '../../src/core/detect/rule.ts';
import { AnchorlogError } from '../../src/core/errors.ts';
import { ADMIN, ruleInput, rulesEnv } from './rules-support.ts';

/** Stands in for the evaluation slice's RuleSourceError (the composition passes the real one). */
class RuleSourceError extends AnchorlogError<'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY'> {}
const errors = RuleSourceError;

describe('StoredRuleSource', () => {
  it('serves the enabled versions in effect that the system log backs, and reports the others', async () => {
    const { rules, store, clock } = rulesEnv();
    await rules.put(ADMIN, 'on', ruleInput('on'));
    await rules.put(ADMIN, 'off', ruleInput('off'));
    await rules.setEnabled(ADMIN, 'off', false);
    await rules.put(ADMIN, 'forged', ruleInput('forged'));
    const v1 = (await store.get('forged'))?.current;
    const doc = parseRuleDocument(ruleInput('forged', 2, { match: 'true' }));
    await store.stage({ document: doc, audit: {} });
    await store.promote({ document: doc, change: { ...(v1?.change as NonNullable<typeof v1>['change']) } });
    const reported: UnboundRule[][] = [];
    const source = new StoredRuleSource({ rules, clock, errors, onUnbound: (u) => reported.push([...u]) });
    const served = await source.enabledRules('prod');
    expect(served.map((d) => [d.id, d.version])).toEqual([['on', 1]]);
    expect(reported).toEqual([
      [expect.objectContaining({ id: 'forged', version: 2, reason: 'audit_mismatch' })],
    ]);
  });

  it('one load per TTL for every log and concurrent caller; a change shows after the TTL', async () => {
    const { rules, store, clock } = rulesEnv();
    await rules.put(ADMIN, 'a', ruleInput('a'));
    const source = new StoredRuleSource({ rules, clock, errors, ttlMs: 60_000 });
    store.faults.clear();
    const [x, y] = await Promise.all([source.enabledRules('prod'), source.enabledRules('staging')]);
    expect(x).toBe(y);
    await source.enabledRules('system');
    expect(store.faults.count('list')).toBe(1);
    await rules.setEnabled(ADMIN, 'a', false);
    expect((await source.enabledRules('prod')).map((d) => d.id)).toEqual(['a']);
    clock.t += 60_000;
    expect(await source.enabledRules('prod')).toEqual([]);
  });

  it.each([
    ['THROTTLED', 'THROTTLED'],
    ['UNAVAILABLE', 'UNAVAILABLE'],
    ['INTEGRITY', 'INTEGRITY'],
    ['CONFLICT', 'INTEGRITY'],
  ] as const)('a store %s is the source error %s, and the next call tries again', async (code, expected) => {
    const { rules, store, clock } = rulesEnv();
    await rules.put(ADMIN, 'a', ruleInput('a'));
    const source = new StoredRuleSource({ rules, clock, errors, ttlMs: 0 });
    store.faults.fail({ op: 'list', code });
    const err = await source.enabledRules('prod').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RuleSourceError);
    expect((err as RuleSourceError).code).toBe(expected);
    expect((await source.enabledRules('prod')).map((d) => d.id)).toEqual(['a']);
  });
});
