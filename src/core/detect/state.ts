/**
 * Detection state items (docs/detection.md "State"): plain JSON values, so a
 * store can keep them as they are. The engine reads a snapshot of the items a
 * chunk touches and returns their new values; it never increments in place,
 * so applying the same commit twice is harmless.
 *
 * Every item has `expiresAtMs` in **log time**; the engine treats an expired
 * item as absent, so a store may delete expired items late (DynamoDB TTL),
 * but never early.
 */
import { toHex, utf8 } from '../bytes.ts';
import { sha256 } from '../hash.ts';

/** Where evaluation of one log stands. */
export interface DetectionCursor {
  readonly logId: string;
  /** Records [0, nextIndex) have been evaluated (or skipped: a new log starts at its sealed size). */
  readonly nextIndex: number;
  /** Log time reached: the newest receivedAt or tick applied, epoch ms; -1 before the first step. */
  readonly watermarkMs: number;
  /** Compare-and-swap version: +1 per commit; 0 = no cursor stored. */
  readonly version: number;
}

export function initialCursor(logId: string, nextIndex = 0): DetectionCursor {
  return { logId, nextIndex, watermarkMs: -1, version: 0 };
}

/** Log time far beyond any record: items that never expire. */
export const NEVER = Number.MAX_SAFE_INTEGER;

export interface WindowBucket {
  /** Bucket number: floor(t / step) (sliding) or floor(t / window) (tumbling). */
  readonly b: number;
  readonly count: number;
  readonly sum: number;
  /** Distinct values seen in the bucket, at most threshold + 1 of them. */
  readonly distinct: readonly string[];
}

/** One group of a threshold rule. */
export interface WindowItem {
  readonly type: 'window';
  readonly group: string;
  readonly buckets: readonly WindowBucket[];
  /** Edge trigger: fired since the aggregate last was at or below the threshold (sliding) / in this window (tumbling). */
  readonly fired: boolean;
  /** The last record indexes that counted (index, receivedAt ms), at most 10: the alert's evidence. */
  readonly recent: readonly (readonly [number, number])[];
  /** Baseline: the aggregates of the group's previous windows, oldest first (at most `windows`). */
  readonly history?: readonly number[];
  readonly expiresAtMs: number;
}

/** One value of a first-seen rule, for one key; or the last precursor of a key of a `requires` rule (value ''). */
export interface SeenItem {
  readonly type: 'seen';
  readonly key: string;
  readonly value: string;
  readonly lastMs: number;
  readonly expiresAtMs: number;
}

export interface AbsenceKeyState {
  /** When the key was last seen (or tracking began), epoch ms. */
  readonly lastMs: number;
  /** The record it was last seen in. */
  readonly lastIndex: number | null;
  /** This silence has fired already. */
  readonly fired: boolean;
}

/** Rule-level state: when it began, and an absence rule's keys. */
export interface RuleItem {
  readonly type: 'rule';
  readonly startedAtMs: number;
  /** Absence: keys tracked (at most MAX_ABSENCE_KEYS). */
  readonly keys: Readonly<Record<string, AbsenceKeyState>>;
  /** Absence: lower bound on the next silence deadline (a scan happens only past it). */
  readonly nextDeadlineMs: number;
  /** Absence: keys not tracked because MAX_ABSENCE_KEYS were. */
  readonly dropped: number;
  readonly expiresAtMs: number;
}

/** The open alert of a dedup key. */
export interface DedupItem {
  readonly type: 'dedup';
  readonly key: string;
  readonly alertId: string;
  readonly untilMs: number;
  readonly occurrences: number;
  readonly expiresAtMs: number;
}

export type StateItem = WindowItem | SeenItem | RuleItem | DedupItem;

export const MAX_ABSENCE_KEYS = 1000;
/** An absence key unseen for `for` plus this long is forgotten. */
export const ABSENCE_FORGET_MS = 30 * 86_400_000;

const PLAIN_KEY = /^[A-Za-z0-9._:@/+-]{0,64}$/;

/**
 * A key part in an item key: a short plain string as it is (`=agent-7`), and
 * anything else — long, or with characters that could be confused with the
 * separators — as `~` + the first 128 bits of its SHA-256 in hex. The two
 * forms cannot collide (different first characters), and a plain string
 * cannot contain `#` or NUL.
 */
export function digest(s: string): string {
  return PLAIN_KEY.test(s) ? `=${s}` : `~${toHex(sha256(utf8(s))).slice(0, 32)}`;
}

export const itemKey = {
  rule: (stateKey: string) => `r#${stateKey}`,
  window: (stateKey: string, group: string) => `w#${stateKey}#${digest(group)}`,
  seen: (stateKey: string, key: string, value: string) => `s#${stateKey}#${digest(key)}#${digest(value)}`,
  dedup: (ruleId: string, key: string) => `d#${ruleId}#${digest(key)}`,
  precursor: (stateKey: string, key: string) => `p#${stateKey}#${digest(key)}`,
};
