/**
 * The RuleSource contract (src/ports/rule-source.ts), run against the static
 * source (src/adapters/memory/rule-source.ts) by memory.test.ts and against
 * the rule store as a source (StoredRuleSource over DynamoRuleStore and a real
 * `system` log) by aws.test.ts. The factory puts the given documents in place
 * the way that implementation gets its rules (a list, or the admin path).
 */
import { describe, expect, it } from 'vitest';
import { parseRuleDocument, type RuleDocument } from '../../src/core/detect/rule.ts';
import type { RuleSource } from '../../src/ports/rule-source.ts';

export type RuleSourceFactory = (documents: readonly RuleDocument[]) => Promise<RuleSource>;

/** A valid rule document; `enabled` and the match vary per test. */
export function contractRule(
  id: string,
  enabled = true,
  match = "event.action == 'tool.call'",
): RuleDocument {
  return parseRuleDocument({
    schema: 'anchorlog.rule/v1',
    id,
    version: 1,
    title: `contract rule ${id}`,
    severity: 'medium',
    owner: 'secops',
    runbook: 'https://runbooks.example/contract',
    enabled,
    match,
    kind: 'match',
  });
}

export function ruleSourceContract(name: string, make: RuleSourceFactory): void {
  describe(`RuleSource contract: ${name}`, () => {
    it('serves no rule when none is in place', async () => {
      const source = await make([]);
      expect(await source.enabledRules('acme')).toEqual([]);
    });

    it('serves the enabled rules only, one document per id, each one the parser accepts', async () => {
      const source = await make([
        contractRule('a.on'),
        contractRule('b.off', false),
        contractRule('c.on', true, "event.outcome == 'denied'"),
      ]);
      const served = await source.enabledRules('acme');
      expect(served.map((d) => d.id).sort()).toEqual(['a.on', 'c.on']);
      for (const d of served) {
        expect(d.enabled).toBe(true);
        expect(parseRuleDocument(JSON.parse(JSON.stringify(d)))).toEqual(d);
      }
      expect(served.find((d) => d.id === 'c.on')?.match).toBe("event.outcome == 'denied'");
    });

    it('serves the same rules for every log (a rule applies its own `logs`)', async () => {
      const source = await make([contractRule('a.on')]);
      const one = (await source.enabledRules('acme')).map((d) => d.id);
      const other = (await source.enabledRules('system')).map((d) => d.id);
      expect(one).toEqual(['a.on']);
      expect(other).toEqual(one);
    });
  });
}
