/**
 * A validated rule document with its expressions compiled (./expr.ts) and
 * its durations in milliseconds: what the engine runs. `loadRule` is the one
 * entry point for untrusted input (the admin API, the CLI, files): it throws
 * RuleError only.
 */
import { toHex } from '../bytes.ts';
import { canonicalBytes } from '../canonical.ts';
import { parseUtcTimestamp } from '../event.ts';
import { sha256 } from '../hash.ts';
import { SYSTEM_LOG_ID } from '../principal.ts';
import { parseDuration } from './duration.ts';
import { RuleError } from './errors.ts';
import { type CompiledExpression, compileExpression } from './expr.ts';
import {
  type Aggregate,
  parseRuleDocument,
  type RuleDocument,
  type RuleKind,
  type ThresholdOp,
  type WindowType,
} from './rule.ts';

export interface CompiledThreshold {
  readonly aggregate: Aggregate;
  readonly field: CompiledExpression | undefined;
  readonly groupBy: CompiledExpression | undefined;
  readonly windowMs: number;
  readonly windowType: WindowType;
  readonly op: ThresholdOp;
  readonly value: number;
  readonly baseline: { readonly windows: number; readonly factor: number } | undefined;
}
export interface CompiledRequires {
  readonly precursor: CompiledExpression;
  readonly key: CompiledExpression | undefined;
  readonly precursorKey: CompiledExpression | undefined;
  readonly withinMs: number;
}
export interface CompiledFirstSeen {
  readonly value: CompiledExpression;
  readonly key: CompiledExpression | undefined;
  readonly lookbackMs: number;
  readonly learnMs: number;
}
export interface CompiledAbsence {
  readonly forMs: number;
  readonly key: CompiledExpression | undefined;
  readonly expect: readonly string[];
}

export interface CompiledRule {
  readonly doc: RuleDocument;
  readonly id: string;
  readonly version: number;
  readonly kind: RuleKind;
  /**
   * `<id>@<fingerprint>`: what the rule's state is keyed by. The fingerprint
   * covers `kind` and its block only, so editing the title, severity, match,
   * dedup or destinations keeps windows, first-seen history and silences;
   * changing the window, groupBy, lookback or key starts them afresh
   * (docs/detection.md "Guarantees", 3).
   */
  readonly stateKey: string;
  readonly match: CompiledExpression;
  readonly threshold: CompiledThreshold | undefined;
  readonly firstSeen: CompiledFirstSeen | undefined;
  readonly absence: CompiledAbsence | undefined;
  readonly requires: CompiledRequires | undefined;
  readonly dedup: { readonly windowMs: number; readonly key: CompiledExpression | undefined } | undefined;
  /** Declared suppression windows, epoch ms, half-open [fromMs, toMs). */
  readonly suppress: readonly { readonly fromMs: number; readonly toMs: number; readonly reason: string }[];
  /** Whether the rule runs on `logId` (`*` is every log but `system`). */
  appliesTo(logId: string): boolean;
}

const ms = (d: string): number => parseDuration(d) as number;

/** Compiles a document parseRuleDocument accepted. Throws RuleError (with the expression's position). */
export function compileRule(doc: RuleDocument): CompiledRule {
  const expr = (source: string | undefined, path: string) =>
    source === undefined ? undefined : compileExpression(source, path);
  const t = doc.threshold;
  const f = doc.first_seen;
  const a = doc.absence;
  const q = doc.requires;
  const block = { threshold: t, first_seen: f, absence: a, requires: q, match: undefined }[doc.kind];
  const fingerprint = toHex(sha256(canonicalBytes({ kind: doc.kind, block: block ?? null }))).slice(0, 16);
  const logs = new Set(doc.logs);
  const firstSeenValue = f === undefined ? undefined : compileExpression(f.value, '/first_seen/value');
  return {
    doc,
    id: doc.id,
    version: doc.version,
    kind: doc.kind,
    stateKey: `${doc.id}@${fingerprint}`,
    match: compileExpression(doc.match, '/match'),
    threshold:
      t === undefined
        ? undefined
        : {
            aggregate: t.aggregate,
            field: expr(t.field, '/threshold/field'),
            groupBy: expr(t.groupBy, '/threshold/groupBy'),
            windowMs: ms(t.window),
            windowType: t.windowType,
            op: t.op,
            value: t.value,
            baseline: t.baseline,
          },
    firstSeen:
      f === undefined || firstSeenValue === undefined
        ? undefined
        : {
            value: firstSeenValue,
            key: expr(f.key, '/first_seen/key'),
            lookbackMs: ms(f.lookback),
            learnMs: f.learn === undefined ? 0 : ms(f.learn),
          },
    absence:
      a === undefined
        ? undefined
        : { forMs: ms(a.for), key: expr(a.key, '/absence/key'), expect: a.expect ?? [] },
    requires:
      q === undefined
        ? undefined
        : {
            precursor: compileExpression(q.precursor, '/requires/precursor'),
            key: expr(q.key, '/requires/key'),
            precursorKey: expr(
              q.precursorKey ?? q.key,
              q.precursorKey === undefined ? '/requires/key' : '/requires/precursorKey',
            ),
            withinMs: ms(q.within),
          },
    dedup:
      doc.dedup === undefined
        ? undefined
        : { windowMs: ms(doc.dedup.window), key: expr(doc.dedup.key, '/dedup/key') },
    suppress: (doc.suppress ?? []).map((s) => ({
      fromMs: parseUtcTimestamp(s.from) as number,
      toMs: parseUtcTimestamp(s.to) as number,
      reason: s.reason,
    })),
    appliesTo: (logId) => logs.has(logId) || (logs.has('*') && logId !== SYSTEM_LOG_ID),
  };
}

/** Parses, validates and compiles untrusted input. Throws RuleError only. */
export function loadRule(input: string | Uint8Array | unknown): CompiledRule {
  return compileRule(parseRuleDocument(input));
}

/** Refuses two rules with one id (a rule set is keyed by id; versions are the store's business). */
export function checkRuleSet(rules: readonly CompiledRule[]): void {
  const seen = new Set<string>();
  for (const r of rules) {
    if (seen.has(r.id))
      throw new RuleError('INVALID_FIELD', '/id', `rule ${r.id} appears twice in one rule set`);
    seen.add(r.id);
  }
}
