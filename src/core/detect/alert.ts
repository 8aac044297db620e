/**
 * Alert documents and the outbox (docs/detection.md "Alerts").
 *
 * Every field of an alert is a function of the rule and the records, never of
 * when or how often evaluation ran, so a redo after a crash produces the same
 * bytes under the same id, and the outbox and the `system` log (idempotent on
 * the event id) keep one copy.
 */
import { toHex, utf8 } from '../bytes.ts';
import { sha256 } from '../hash.ts';
import type { RuleKind, Severity } from './rule.ts';

export const ALERT_VERSION = 1;

export interface AlertRuleRef {
  readonly id: string;
  readonly version: number;
  readonly title: string;
  readonly severity: Severity;
  readonly owner: string;
  readonly runbook: string;
  readonly kind: RuleKind;
}

export interface AlertDocument {
  readonly v: 1;
  /** `alr_` + 32 hex digits (see alertId). */
  readonly id: string;
  readonly logId: string;
  readonly rule: AlertRuleRef;
  /** The natural key: group, first-seen key, absence key; '' when the rule has none. */
  readonly key: string;
  /** Log time the condition held: the trigger's receivedAt, or the moment a silence reached `for`. */
  readonly firedAt: string;
  /** The record that fired the alert; null for an absence (no record did). */
  readonly trigger: { readonly index: number; readonly receivedAt: string } | null;
  /** One line for notifications. */
  readonly summary: string;
  /** Threshold: the aggregate and the value it was compared with. */
  readonly value: number | null;
  readonly threshold: number | null;
  /**
   * A receivedAt range [from, to) holding every record the decision used, and
   * up to 10 of their indexes; `anchorlog export --from --to` proves it complete.
   */
  readonly evidence: { readonly from: string; readonly to: string; readonly indexes: readonly number[] };
  /** De-duplication: the key and the end of the window repeats are merged in; null without dedup. */
  readonly dedup: { readonly key: string; readonly until: string } | null;
  /** Set when a declared suppression window held the alert back (recorded, not delivered). */
  readonly suppressed: { readonly reason: string; readonly from: string; readonly to: string } | null;
  readonly destinations: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

/** What a commit adds to the outbox; `id` is unique per entry and stable across redos. */
export type OutboxEntry =
  | { readonly type: 'alert'; readonly id: string; readonly alert: AlertDocument }
  /** A repeat merged into an open alert (de-duplication). */
  | {
      readonly type: 'occurrence';
      readonly id: string;
      readonly alertId: string;
      readonly logId: string;
      readonly ruleId: string;
      readonly index: number;
      readonly receivedAt: string;
    }
  /** An alert held back by a declared suppression window: reported, not delivered. */
  | { readonly type: 'suppressed'; readonly id: string; readonly alert: AlertDocument };

/**
 * `alr_` + the first 128 bits of SHA-256 over the log, the rule id and
 * version, and what triggered it (`r:<index>` for a record, `a:<key>:<ms>` for
 * the silence of an absence key that began at ms), NUL-separated and
 * domain-separated.
 */
export function alertId(logId: string, ruleId: string, ruleVersion: number, trigger: string): string {
  const input = ['anchorlog-alert/v1', logId, ruleId, String(ruleVersion), trigger].join('\u0000');
  return `alr_${toHex(sha256(utf8(input))).slice(0, 32)}`;
}

/** RFC 3339 UTC with milliseconds, the log's own time format. */
export function isoMs(ms: number): string {
  return new Date(ms).toISOString();
}
