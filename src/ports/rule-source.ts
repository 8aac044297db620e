/**
 * RuleSource port: the rule documents detection runs on a log
 * (docs/detection.md "Rule documents"). The rule store (RuleStore, `R#<ruleId>`:
 * docs/detection.md "Plan of the later slices", 1) implements it with its
 * enabled rules; until then, and for tests, src/adapters/memory/rule-source.ts
 * serves a fixed list (the starter pack and rules from the configuration,
 * src/compose/detect.ts).
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */
import type { RuleDocument } from '../core/detect/rule.ts';
import { AnchorlogError } from '../core/errors.ts';

/**
 * Errors a rule source raises.
 *  - THROTTLED: the store pushed back. Retry later.
 *  - UNAVAILABLE: transient failure. Retry later.
 *  - INTEGRITY: a stored rule does not parse. Needs an operator.
 */
export type RuleSourceErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';
export class RuleSourceError extends AnchorlogError<RuleSourceErrorCode> {}

export interface RuleSource {
  /**
   * The enabled rules that may run on `logId`: the current version of each,
   * at most one document per rule id, each one parseRuleDocument accepted.
   * MAY include rules whose `logs` do not name `logId` (the engine applies
   * `logs` itself). Called once per log per detection run, so an
   * implementation SHOULD cache. MUST reject only with a RuleSourceError.
   */
  enabledRules(logId: string): Promise<readonly RuleDocument[]>;
}
