/**
 * The delivery state machine of one outbox entry (docs/detection.md
 * "Delivery"): per destination, pending → delivered, or pending → … →
 * dead (a dead-letter record), with retries spaced by the core backoff
 * (src/core/backoff.ts, full jitter). Pure: the time and the randomness
 * are passed in, so the store adapters and the tests agree on every
 * transition.
 *
 * Invariants:
 *  - a destination leaves `pending` exactly once, to `delivered` or `dead`;
 *  - `attempts` counts attempts whose outcome was seen (an attempt cut short
 *    by a crash is not counted; it is repeated, with the same idempotency key);
 *  - an entry is terminal when every destination is, and only a terminal
 *    entry whose event is recorded in the `system` log is acknowledged.
 */
import { backoffDelay, type Uniform } from '../backoff.ts';
import type { AlertDocument } from '../detect/alert.ts';
import type { CheckpointCitation } from './payloads.ts';

/** Why one attempt failed. Stable codes; the message is for people. */
export type DeliveryFailureCode =
  /** The receiver answered a status that is not success (`status` says which). */
  | 'HTTP_STATUS'
  /** A 3xx: never followed (Standard Webhooks: a redirect is a failure; update the URL). */
  | 'REDIRECT'
  /** No complete answer within the timeout. */
  | 'TIMEOUT'
  /** Connection refused, reset, DNS, TLS, or an answer that is not HTTP. */
  | 'NETWORK'
  /** The answer's body was larger than we read. */
  | 'RESPONSE_TOO_LARGE'
  /** A 2xx whose body is not what this kind of destination answers (Slack `ok`, PagerDuty `success`). */
  | 'BAD_RESPONSE'
  /** SNS refused or failed the Publish. */
  | 'SNS_ERROR'
  /** The alert names a destination that is not configured. */
  | 'UNKNOWN_DESTINATION'
  /** The destination is configured but cannot be used (its secret is missing or malformed). */
  | 'NOT_CONFIGURED'
  /** The notifier threw something it should have returned: a bug, retried. */
  | 'INTERNAL';

export interface DeliveryFailure {
  readonly code: DeliveryFailureCode;
  readonly message: string;
  /** HTTP status, when the receiver answered one. */
  readonly status?: number;
}

/** What a Notifier reports for one attempt. */
export type AttemptResult =
  | { readonly ok: true; readonly status?: number }
  | (DeliveryFailure & {
      readonly ok: false;
      /** Whether a later attempt may succeed (5xx, 429, timeouts, network: yes; 4xx, redirects: no). */
      readonly retryable: boolean;
      /** The receiver's Retry-After, in ms, if it sent one. */
      readonly retryAfterMs?: number;
    });

export type DestinationProgress =
  | {
      readonly state: 'pending';
      readonly attempts: number;
      /** Not attempted again before this time (epoch ms). */
      readonly nextAtMs: number;
      readonly lastError?: DeliveryFailure;
    }
  | { readonly state: 'delivered'; readonly attempts: number; readonly atMs: number }
  | {
      readonly state: 'dead';
      readonly attempts: number;
      readonly atMs: number;
      readonly lastError: DeliveryFailure;
    };

export interface EntryProgress {
  readonly v: 1;
  readonly entryId: string;
  /** The entry's event is in the `system` log. */
  readonly recorded: boolean;
  /** When delivery of this entry began (epoch ms, wall clock). */
  readonly startedAtMs: number;
  /** Frozen when the entry is first seen: a configuration change never re-routes an alert half delivered. */
  readonly destinations: Readonly<Record<string, DestinationProgress>>;
}

export interface DeliveryRetryPolicy {
  /** Attempts per destination in all, the first included (≥ 1). */
  readonly maxAttempts: number;
  /** backoffDelay's base and cap (ms): the wait before retry n is uniform in [0, min(cap, base·2^(n−1))). */
  readonly baseMs: number;
  readonly capMs: number;
}

/**
 * Ten attempts, waits with ceilings 5 s, 10 s, … 15 min: about half an hour
 * of a destination being down before its alerts are dead-lettered (the
 * AlertDeliveryFailures alarm has fired long before), short enough that
 * un-acknowledged entries do not pile up.
 */
export const DEFAULT_DELIVERY_RETRY: DeliveryRetryPolicy = {
  maxAttempts: 10,
  baseMs: 5_000,
  capMs: 15 * 60_000,
};

/** The progress of an entry seen for the first time. */
export function newProgress(entryId: string, destinations: readonly string[], nowMs: number): EntryProgress {
  const d: Record<string, DestinationProgress> = {};
  for (const name of destinations) d[name] = { state: 'pending', attempts: 0, nextAtMs: nowMs };
  return { v: 1, entryId, recorded: false, startedAtMs: nowMs, destinations: d };
}

/** Every destination delivered or dead (an entry with none is terminal at once). */
export function isTerminal(p: EntryProgress): boolean {
  return Object.values(p.destinations).every((d) => d.state !== 'pending');
}

/** Destinations whose next attempt is due at `nowMs`, in configured order. */
export function dueDestinations(p: EntryProgress, nowMs: number): string[] {
  return Object.entries(p.destinations)
    .filter(([, d]) => d.state === 'pending' && d.nextAtMs <= nowMs)
    .map(([name]) => name);
}

/**
 * The destination's state after one attempt: delivered; dead when the
 * failure is permanent or the attempts are used up; else pending until
 * now + the backoff wait (at least the receiver's Retry-After, capped at
 * the policy's cap).
 */
export function afterAttempt(
  d: DestinationProgress,
  result: AttemptResult,
  nowMs: number,
  policy: DeliveryRetryPolicy,
  random: Uniform,
): DestinationProgress {
  if (d.state !== 'pending') return d;
  const attempts = d.attempts + 1;
  if (result.ok) return { state: 'delivered', attempts, atMs: nowMs };
  const lastError: DeliveryFailure = {
    code: result.code,
    message: result.message.slice(0, 500),
    ...(result.status !== undefined ? { status: result.status } : {}),
  };
  if (!result.retryable || attempts >= policy.maxAttempts)
    return { state: 'dead', attempts, atMs: nowMs, lastError };
  const wait = Math.max(
    backoffDelay(attempts, policy, random),
    Math.min(result.retryAfterMs ?? 0, policy.capMs),
  );
  return { state: 'pending', attempts, nextAtMs: nowMs + wait, lastError };
}

/**
 * A dead letter: an alert one destination never took, kept until an
 * operator re-drives it (docs/operations.md "Dead letters"). Its id is
 * `<alert id>/<destination>`: dead-lettering again after a crash
 * overwrites the same record.
 */
export interface DeadLetter {
  readonly v: 1;
  readonly id: string;
  readonly logId: string;
  /** The outbox position the entry had (for people; the entry is acknowledged). */
  readonly position: string;
  readonly destination: string;
  readonly alert: AlertDocument;
  readonly checkpoint: CheckpointCitation | null;
  readonly attempts: number;
  readonly firstAttemptAtMs: number;
  readonly deadAtMs: number;
  readonly lastError: DeliveryFailure;
  /** `open` until a re-drive delivers it. */
  readonly state: 'open' | 'redriven';
  /** Re-drive attempts so far, and when one delivered it. */
  readonly redrives: number;
  readonly redrivenAtMs?: number;
}

export function deadLetterId(alertId: string, destination: string): string {
  return `${alertId}/${destination}`;
}
