/**
 * Alert review (docs/detection.md "Reviewing alerts"; SOC 2 CC7.3, CC7.4):
 * the lifecycle of an alert after it fired, and the transitions' audit events.
 * Pure: time, the actor and storage are passed in.
 *
 *     open ──ack──▶ acknowledged ──resolve──▶ resolved
 *       └───────────────resolve───────────────▶ │
 *       ▲                                       │
 *       └────────────────reopen─────────────────┘
 *
 * Every transition is numbered: `rev` is how many transitions the alert has
 * had (0 when it fired), and transition n is recorded in the `system` log as
 * the event `<alert id>/r<n>` (action `alert.ack`, `alert.resolve` or
 * `alert.reopen`). The number is the compare-and-swap token (a transition to
 * rev n is staged only while the committed rev is n − 1), so of two reviewers
 * acting on the same alert at once exactly one wins, and the event ids of one
 * alert's transitions are unique and gap-free: src/core/detect/report.ts
 * relies on that to rebuild every alert's history from the log alone.
 *
 * Re-open exists because a resolution can turn out wrong (a "false positive"
 * that was not): instead of editing history, the alert goes back to `open`
 * and the next resolution is recorded as a new event. Bounded by MAX_REV so
 * one alert's history stays small.
 */
import { AnchorlogError } from '../errors.ts';
import type { AlertDocument } from './alert.ts';
import type { Severity } from './rule.ts';

export type ReviewErrorCode =
  /** The transition is not allowed from the alert's status (resolve twice, ack a resolved alert, …). */
  | 'INVALID_TRANSITION'
  /** `outcome` is not one of ALERT_OUTCOMES. */
  | 'INVALID_OUTCOME'
  /** `notes` is not a string of at most MAX_NOTES characters without control characters (tab and newline aside). */
  | 'INVALID_NOTES'
  /** The alert has had MAX_REV transitions. */
  | 'TOO_MANY_TRANSITIONS';

export class ReviewError extends AnchorlogError<ReviewErrorCode> {
  /** JSON pointer of the offending input field, when there is one. */
  readonly path: string | undefined;
  constructor(code: ReviewErrorCode, message: string, path?: string) {
    super(code, message);
    this.path = path;
  }
}

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export const ALERT_OUTCOMES = ['true_positive', 'false_positive', 'accepted_risk'] as const;
export type AlertOutcome = (typeof ALERT_OUTCOMES)[number];

export const REVIEW_ACTIONS = ['alert.ack', 'alert.resolve', 'alert.reopen'] as const;
export type ReviewAction = (typeof REVIEW_ACTIONS)[number];

/** Longest resolution (or re-open) note, in characters: it goes into a system-log record whole. */
export const MAX_NOTES = 4000;
/** Most transitions one alert may have (ack + resolve + reopen cycles). */
export const MAX_REV = 60;

/** What a reviewer needs to know about an alert without reading the system log. */
export interface AlertRef {
  readonly id: string;
  readonly logId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly title: string;
  readonly severity: Severity;
  readonly owner: string;
  readonly runbook: string;
  readonly firedAt: string;
  readonly summary: string;
}

export function alertRefOf(a: AlertDocument): AlertRef {
  return {
    id: a.id,
    logId: a.logId,
    ruleId: a.rule.id,
    ruleVersion: a.rule.version,
    title: a.rule.title,
    severity: a.rule.severity,
    owner: a.rule.owner,
    runbook: a.rule.runbook,
    firedAt: a.firedAt,
    summary: a.summary,
  };
}

/** Who did something, and when (the clock at the transition: the event's occurredAt). */
export interface ReviewMark {
  readonly by: string;
  readonly at: string;
}

export interface Resolution extends ReviewMark {
  readonly outcome: AlertOutcome;
  readonly notes: string;
}

/** An alert's review state after `rev` transitions. */
export interface ReviewState {
  readonly status: AlertStatus;
  readonly rev: number;
  /** The acknowledgement in effect (kept through resolve; cleared by reopen). */
  readonly acknowledged: ReviewMark | null;
  readonly resolved: Resolution | null;
  /** How often the alert was re-opened. */
  readonly reopened: number;
}

export const FIRED_STATE: ReviewState = {
  status: 'open',
  rev: 0,
  acknowledged: null,
  resolved: null,
  reopened: 0,
};

/** What a reviewer asks for. */
export type ReviewRequest =
  | { readonly action: 'alert.ack' }
  | { readonly action: 'alert.resolve'; readonly outcome: unknown; readonly notes?: unknown }
  | { readonly action: 'alert.reopen'; readonly notes?: unknown };

/** Validated resolution input. */
export function checkOutcome(v: unknown): AlertOutcome {
  if (typeof v !== 'string' || !(ALERT_OUTCOMES as readonly string[]).includes(v))
    throw new ReviewError(
      'INVALID_OUTCOME',
      `outcome must be one of ${ALERT_OUTCOMES.join(', ')}`,
      '/outcome',
    );
  return v as AlertOutcome;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const NOTE_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f\u2028\u2029]/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function checkNotes(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ReviewError('INVALID_NOTES', 'notes must be a string', '/notes');
  if (v.length > MAX_NOTES)
    throw new ReviewError('INVALID_NOTES', `notes must be at most ${MAX_NOTES} characters`, '/notes');
  if (NOTE_CONTROLS.test(v))
    throw new ReviewError('INVALID_NOTES', 'notes must not contain control characters', '/notes');
  // Lone surrogates cannot go into an I-JSON record.
  if (LONE_SURROGATE.test(v))
    throw new ReviewError('INVALID_NOTES', 'notes must be well-formed Unicode', '/notes');
  return v;
}

/**
 * The state after `req` by `mark.by` at `mark.at`, or ReviewError. Total over
 * its inputs: nothing here depends on storage, so the API, the store's
 * roll-forward and the report agree on what a transition does.
 */
export function applyReview(state: ReviewState, req: ReviewRequest, mark: ReviewMark): ReviewState {
  if (state.rev >= MAX_REV)
    throw new ReviewError('TOO_MANY_TRANSITIONS', `an alert may have at most ${MAX_REV} transitions`);
  const rev = state.rev + 1;
  switch (req.action) {
    case 'alert.ack':
      if (state.status !== 'open')
        throw new ReviewError(
          'INVALID_TRANSITION',
          `the alert is ${state.status}; only an open alert is acknowledged`,
        );
      return { ...state, status: 'acknowledged', rev, acknowledged: { by: mark.by, at: mark.at } };
    case 'alert.resolve': {
      const outcome = checkOutcome(req.outcome);
      const notes = checkNotes(req.notes);
      if (state.status === 'resolved')
        throw new ReviewError('INVALID_TRANSITION', 'the alert is already resolved (reopen it first)');
      return { ...state, status: 'resolved', rev, resolved: { by: mark.by, at: mark.at, outcome, notes } };
    }
    case 'alert.reopen':
      checkNotes(req.notes);
      if (state.status !== 'resolved')
        throw new ReviewError(
          'INVALID_TRANSITION',
          `the alert is ${state.status}; only a resolved alert is re-opened`,
        );
      return { status: 'open', rev, acknowledged: null, resolved: null, reopened: state.reopened + 1 };
    default:
      throw new ReviewError('INVALID_TRANSITION', 'unknown transition');
  }
}

/** The `system` log event id of transition `rev` of alert `alertId` (alert ids are 36 characters). */
export function reviewEventId(alertId: string, rev: number): string {
  return `${alertId}/r${rev}`;
}

const REVIEW_EVENT_ID_RE = /^(alr_[0-9a-f]{32})\/r([1-9][0-9]{0,5})$/;

/** The alert id and rev a review event id names, or undefined. */
export function parseReviewEventId(id: string): { alertId: string; rev: number } | undefined {
  const m = REVIEW_EVENT_ID_RE.exec(id);
  return m ? { alertId: m[1] as string, rev: Number(m[2]) } : undefined;
}

export const ALERT_ID_RE = /^alr_[0-9a-f]{32}$/;

/** The actor of a review event: the authenticated principal. */
export interface ReviewActor {
  readonly type: 'human' | 'agent' | 'service' | 'system';
  readonly id: string;
  readonly name?: string;
}

/** The audit event of one transition (an Event v1 for the `system` log). */
export interface ReviewAuditEvent {
  readonly id: string;
  readonly occurredAt: string;
  readonly actor: ReviewActor;
  readonly action: ReviewAction;
  readonly target: { readonly type: 'alert'; readonly id: string; readonly name: string };
  readonly outcome: 'success';
  readonly changes: { readonly before: Record<string, unknown>; readonly after: Record<string, unknown> };
  readonly metadata: {
    readonly alertId: string;
    readonly logId: string;
    readonly ruleId: string;
    readonly rev: number;
    readonly outcome?: AlertOutcome;
    readonly notes?: string;
  };
  readonly context?: { readonly requestId?: string };
}

/** A state as plain JSON, nulls dropped (the event's before/after). */
export function stateJson(s: ReviewState): Record<string, unknown> {
  return {
    status: s.status,
    rev: s.rev,
    reopened: s.reopened,
    ...(s.acknowledged ? { acknowledged: { ...s.acknowledged } } : {}),
    ...(s.resolved ? { resolved: { ...s.resolved } } : {}),
  };
}

export function reviewEvent(
  alert: AlertRef,
  action: ReviewAction,
  before: ReviewState,
  after: ReviewState,
  actor: ReviewActor,
  at: string,
  opts: { notes?: string; requestId?: string } = {},
): ReviewAuditEvent {
  const notes = action === 'alert.resolve' ? after.resolved?.notes : opts.notes;
  return {
    id: reviewEventId(alert.id, after.rev),
    occurredAt: at,
    actor: { ...actor },
    action,
    target: { type: 'alert', id: alert.id, name: alert.title.slice(0, 256) },
    outcome: 'success',
    changes: { before: stateJson(before), after: stateJson(after) },
    metadata: {
      alertId: alert.id,
      logId: alert.logId,
      ruleId: alert.ruleId,
      rev: after.rev,
      ...(after.resolved && action === 'alert.resolve' ? { outcome: after.resolved.outcome } : {}),
      ...(notes ? { notes } : {}),
    },
    ...(opts.requestId ? { context: { requestId: opts.requestId } } : {}),
  };
}
