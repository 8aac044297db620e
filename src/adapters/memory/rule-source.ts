/**
 * RuleSource over a fixed list of rule documents (src/ports/rule-source.ts):
 * the starter pack and the rules named in the configuration until the rule
 * store serves them, and tests. The list is validated when the source is
 * built (parse, compile, one document per id), so a bad rule stops a
 * function at cold start with the RuleError's code, path and position
 * instead of failing every run. `set` replaces the list (tests, the local
 * stack).
 */
import { checkRuleSet, compileRule } from '../../core/detect/compile.ts';
import { parseRuleDocument, type RuleDocument } from '../../core/detect/rule.ts';
import type { RuleSource } from '../../ports/rule-source.ts';

export class StaticRuleSource implements RuleSource {
  #docs: readonly RuleDocument[] = [];

  /** `documents`: untrusted rule documents (objects or JSON text); throws RuleError. */
  constructor(documents: readonly unknown[] = []) {
    this.set(documents);
  }

  set(documents: readonly unknown[]): void {
    const docs = documents.map((d) => parseRuleDocument(d));
    checkRuleSet(docs.map(compileRule));
    this.#docs = docs;
  }

  async enabledRules(): Promise<readonly RuleDocument[]> {
    return this.#docs.filter((d) => d.enabled);
  }
}
