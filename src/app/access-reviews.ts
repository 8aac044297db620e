/**
 * Access reviews (docs/access.md "Access reviews"; SOC 2 CC6.2, CC6.3):
 * start a review (a snapshot of every principal), record keep / revoke /
 * change decisions with a reason, close it, and the report. Reviewers hold
 * `access:review` on `*`; a global `admin` implies it.
 *
 * ## Every change has its audit records first: stage → record → promote
 *
 * As for alert review (src/app/alerts.ts):
 *
 *   START   — AccessReviewStore.create stages the start on a new head with
 *             its events: the snapshot parts (`access_review.items`, the
 *             snapshot travels in the log, not the store) and
 *             `access_review.start`. RECORD appends them in order
 *             (idempotent on their ids), PROMOTE makes the review open.
 *   DECIDE  — AccessReviewStore.stageDecision stages the decision, only if
 *             none exists for that principal and the review is open with
 *             nothing staged on its head (one atomic condition): of two
 *             deciders exactly one wins, the other gets 409 and nothing of
 *             theirs is written. RECORD appends `access_review.decide`
 *             (submitter = the reviewer); APPLY revokes the principal when
 *             the decision is `revoke` (its own principal.revoke record, with
 *             the reviewer as actor; its key answers 401 from then on);
 *             PROMOTE marks the decision recorded.
 *   CLOSE   — stage rev 2 on the head (from then on no decision can be
 *             staged), complete every decision still staged (RECORD, APPLY,
 *             PROMOTE), RECORD `access_review.close`, PROMOTE. So every
 *             decision record precedes the close record in the log.
 *
 * The caller hears success only after PROMOTE. A crash anywhere leaves a
 * staged change that the next request on that review, or `recoverPending()`
 * (the recovery job), rolls FORWARD along the same path — forward, because
 * recording is idempotent and we cannot know whether a record landed, and
 * revoking a revoked principal is a no-op. So the store never shows a change
 * the `system` log lacks, and none that was staged is lost.
 *
 * The report (src/core/access-review.ts) never reads the store: it is
 * computed from the review's `system` log records, by the API here and by
 * `anchorlog access-reviews report --bundle` from a verified export — the
 * same function over the same records, so the same bytes.
 */
import {
  ACCESS_REVIEW_CLOSE,
  ACCESS_REVIEW_DECIDE,
  ACCESS_REVIEW_ITEMS,
  ACCESS_REVIEW_START,
  type AccessReviewReport,
  accessReviewReport,
  REVIEW_DECISIONS,
  type ReviewDecision,
  type ReviewItem,
  snapshotItems,
  snapshotParts,
} from '../core/access-review.ts';
import { toHex } from '../core/bytes.ts';
import { hasScope, isPrincipalId, type Principal } from '../core/principal.ts';
import type { LogRecord } from '../core/record.ts';
import {
  ACCESS_REVIEW_ID_RE,
  type AccessDecisionItem,
  type AccessReviewHead,
  type AccessReviewState,
  type AccessReviewStore,
  type PendingReviewChange,
} from '../ports/access-review-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { LogStore } from '../ports/log-store.ts';
import type { AuditPosition } from '../ports/principal-store.ts';
import { AppError } from './errors.ts';
import { withPortErrors } from './port-errors.ts';
import {
  type AdminAuditEvent,
  type AdminAuditLog,
  type AdminAuditSink,
  actorOf,
  type PrincipalService,
} from './principals.ts';
import { systemRecords } from './system-records.ts';

/** The crash points a test may stop at (afterStep throws). */
export type AccessReviewStep = 'staged' | 'recorded' | 'applied' | 'promoted';

export interface AccessReviewServiceDeps {
  store: AccessReviewStore;
  audit: Pick<AdminAuditSink, 'record'>;
  /** The `system` log read back: the snapshot (which principals a review holds). */
  auditLog: AdminAuditLog;
  principals: Pick<PrincipalService, 'reviewSnapshotInput' | 'revokeAs'>;
  /** The `system` log's batches, for the report. */
  logs: Pick<LogStore, 'readTip' | 'readBatchHeader' | 'readBatches'>;
  clock: Clock;
  random: (n: number) => Uint8Array;
  /** Most records of one review the API report reads. Default 50,000. */
  maxReportRecords?: number;
  /** Test seam: a throw is a crash after that step. */
  afterStep?: (step: AccessReviewStep, key: string) => void;
}

export interface AccessReviewView {
  readonly id: string;
  /** `starting` and `closing` while that change is staged but not yet in effect. */
  readonly status: 'starting' | 'open' | 'closing' | 'closed';
  readonly name: string;
  readonly startedAt: string;
  readonly startedBy: string;
  readonly items: number;
  readonly closedAt?: string;
  readonly closedBy?: string;
  /** Where the `system` log holds the last record of the committed change. */
  readonly recorded?: AuditPosition;
}

export interface DecisionView {
  readonly reviewId: string;
  readonly principalId: string;
  readonly decision: ReviewDecision;
  readonly reason: string;
  readonly by: string;
  readonly at: string;
  readonly recorded?: AuditPosition;
  /** True while staged (a crash or an audit-log outage); completed by the next request or recovery. */
  readonly pending?: true;
}

/**
 * A snapshot is cut into parts of at most 48 kB (SNAPSHOT_PART_BYTES) and the
 * staged start holds them all on one store item (DynamoDB: 400 KB at most), so
 * a review holds at most 6 parts — roughly 400 to 600 principals.
 */
export const MAX_SNAPSHOT_PARTS = 6;
const MAX_REASON = 1000;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9 ._:-]{0,63}$/;
const DEFAULT_MAX_REPORT_RECORDS = 50_000;
/** Clock skew between the function that staged a start and the one that appended its records. */
const START_MARGIN_MS = 10 * 60_000;
const SNAPSHOT_CACHE = 8;

export const reviewEventId = {
  items: (id: string, part: number) => `access-review/${id}/items/${part}`,
  start: (id: string) => `access-review/${id}/start`,
  decide: (id: string, principalId: string) => `access-review/${id}/decide/${principalId}`,
  close: (id: string) => `access-review/${id}/close`,
};

function reviewNotFound(id: string): AppError {
  return new AppError('NOT_FOUND', `no access review ${JSON.stringify(String(id).slice(0, 80))}`, {
    details: { reason: 'REVIEW_NOT_FOUND' },
  });
}

function closedError(id: string, status: string): AppError {
  return new AppError('CONFLICT', `access review ${id} is ${status}; no decision can be recorded`, {
    details: { reason: 'REVIEW_CLOSED', status },
  });
}

function objectInput(input: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new AppError('BAD_REQUEST', 'body must be a JSON object', {
      path: '',
      details: { reason: 'INVALID_BODY' },
    });
  for (const k of Object.keys(input))
    if (!allowed.includes(k))
      throw new AppError(
        'BAD_REQUEST',
        `unknown field ${JSON.stringify(k.slice(0, 64))}; allowed: ${allowed.join(', ')}`,
        {
          path: `/${k.slice(0, 64)}`,
          details: { reason: 'UNKNOWN_FIELD' },
        },
      );
  return input as Record<string, unknown>;
}

export class AccessReviewService {
  readonly #store: AccessReviewStore;
  readonly #d: AccessReviewServiceDeps;
  readonly #snapshots = new Map<string, Map<string, ReviewItem>>();

  constructor(deps: AccessReviewServiceDeps) {
    this.#d = deps;
    this.#store = withPortErrors(deps.store, 'access review store');
  }

  /** Snapshots every principal and opens review `name`; the snapshot is in the `system` log before this returns. */
  async start(
    actor: Principal,
    input: unknown,
    opts: { requestId?: string } = {},
  ): Promise<{ review: AccessReviewView; eventId: string }> {
    this.#requireReviewer(actor);
    const name = objectInput(input, ['name']).name;
    if (typeof name !== 'string' || !NAME_RE.test(name))
      throw new AppError(
        'BAD_REQUEST',
        'name must be 1 to 64 letters, digits, spaces and . _ : - (starting with a letter or digit), e.g. 2026-Q1',
        { path: '/name', details: { reason: 'INVALID_NAME' } },
      );
    const id = `arv_${toHex(this.#d.random(12))}`;
    const nowMs = this.#d.clock.now();
    const at = new Date(nowMs).toISOString();
    const items = snapshotItems({ ...(await this.#d.principals.reviewSnapshotInput()), nowMs });
    const parts = snapshotParts(items);
    if (parts.length > MAX_SNAPSHOT_PARTS)
      throw new AppError(
        'PAYLOAD_TOO_LARGE',
        `the snapshot of ${items.length} principals needs ${parts.length} parts; a review holds at most ${MAX_SNAPSHOT_PARTS}`,
        { details: { reason: 'REVIEW_TOO_LARGE' } },
      );
    const who = actorOf(actor);
    const target = { type: 'access_review', id, name };
    const ctx = opts.requestId ? { context: { requestId: opts.requestId } } : {};
    const state: AccessReviewState = {
      rev: 1,
      status: 'open',
      name,
      startedAt: at,
      startedBy: actor.id,
      items: items.length,
    };
    const audits = [
      ...parts.map((part, i) => ({
        id: reviewEventId.items(id, i),
        occurredAt: at,
        actor: who,
        action: ACCESS_REVIEW_ITEMS,
        target,
        outcome: 'success',
        metadata: { reviewId: id, part: i, items: part },
        ...ctx,
      })),
      {
        id: reviewEventId.start(id),
        occurredAt: at,
        actor: who,
        action: ACCESS_REVIEW_START,
        target,
        outcome: 'success',
        changes: { before: {}, after: { status: 'open', items: items.length } },
        metadata: { reviewId: id, name, parts: parts.length },
        ...ctx,
      },
    ];
    const pending: PendingReviewChange = JSON.parse(JSON.stringify({ state, audits }));
    await this.#store.create(id, pending);
    this.#d.afterStep?.('staged', id);
    const head = await this.#settleHead({ id, pending });
    return { review: viewOf(head), eventId: reviewEventId.start(id) };
  }

  async list(
    actor: Principal,
    opts: { cursor?: string; limit?: number } = {},
  ): Promise<{ reviews: AccessReviewView[]; cursor?: string }> {
    this.#requireReviewer(actor);
    const limit = opts.limit ?? 50;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100)
      throw new AppError('BAD_REQUEST', 'limit must be an integer from 1 to 100', { path: '/query/limit' });
    const page = await this.#store.list({
      limit,
      ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}),
    });
    return { reviews: page.items.map(viewOf), ...(page.cursor ? { cursor: page.cursor } : {}) };
  }

  /** A review with its decisions so far (the working set; the report is the evidence). */
  async show(actor: Principal, id: string): Promise<{ review: AccessReviewView; decisions: DecisionView[] }> {
    const head = await this.#head(actor, id);
    const decisions: DecisionView[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#store.listDecisions(id, { limit: 100, ...(cursor ? { cursor } : {}) });
      decisions.push(...page.items.map(decisionView));
      cursor = page.cursor;
    } while (cursor);
    return { review: viewOf(head), decisions };
  }

  /**
   * Records a keep / revoke / change decision on one principal of the
   * snapshot. `revoke` revokes the principal before this returns. One
   * decision per principal per review: a second one is 409 ALREADY_DECIDED.
   */
  async decide(
    actor: Principal,
    reviewId: string,
    principalId: string,
    input: unknown,
    opts: { requestId?: string } = {},
  ): Promise<{ decision: DecisionView; eventId: string }> {
    this.#requireReviewer(actor);
    // Input first: garbage is a 400 whatever the review's state.
    const body = objectInput(input, ['decision', 'reason']);
    if (!(REVIEW_DECISIONS as readonly unknown[]).includes(body.decision))
      throw new AppError('BAD_REQUEST', `decision must be one of ${REVIEW_DECISIONS.join(', ')}`, {
        path: '/decision',
        details: { reason: 'INVALID_DECISION' },
      });
    const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
    if (reason.length === 0 || reason.length > MAX_REASON)
      throw new AppError(
        'BAD_REQUEST',
        `reason must be a non-blank string of at most ${MAX_REASON} characters`,
        {
          path: '/reason',
          details: { reason: 'INVALID_REASON' },
        },
      );
    const decision = body.decision as ReviewDecision;
    const head = await this.#head(actor, reviewId);
    if (head.state?.status !== 'open' || head.pending) throw closedError(reviewId, viewOf(head).status);
    const item = isPrincipalId(principalId) ? (await this.#snapshot(reviewId)).get(principalId) : undefined;
    if (!item)
      throw new AppError(
        'NOT_FOUND',
        `principal ${JSON.stringify(String(principalId).slice(0, 80))} is not in access review ${reviewId}`,
        {
          details: { reason: 'NOT_IN_REVIEW' },
        },
      );
    const existing = await this.#store.getDecision(reviewId, principalId);
    if (existing) {
      // Help a staged one along (a crash may have left it), best effort: it may be another
      // reviewer's in flight (its record IN_PROGRESS), and the answer is the same either way.
      if (existing.pending) await this.#settleDecision(existing).catch(() => undefined);
      throw alreadyDecided(reviewId, existing);
    }
    const at = new Date(this.#d.clock.now()).toISOString();
    const eventId = reviewEventId.decide(reviewId, principalId);
    const audit = {
      id: eventId,
      occurredAt: at,
      actor: actorOf(actor),
      action: ACCESS_REVIEW_DECIDE,
      target: { type: 'principal', id: principalId, name: item.name },
      outcome: 'success',
      metadata: { reviewId, principalId, decision, reason },
      ...(opts.requestId ? { context: { requestId: opts.requestId } } : {}),
    };
    const staged: AccessDecisionItem = {
      reviewId,
      principalId,
      decision,
      reason,
      by: actor.id,
      at,
      pending: { audit },
    };
    try {
      await this.#store.stageDecision(staged);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
      const now = await this.#store.getDecision(reviewId, principalId);
      if (now) throw alreadyDecided(reviewId, now);
      throw closedError(reviewId, 'closing or closed');
    }
    this.#d.afterStep?.('staged', `${reviewId}/${principalId}`);
    return { decision: decisionView(await this.#settleDecision(staged)), eventId };
  }

  /** Closes an open review: decisions still staged are completed first; nothing can be decided afterwards. */
  async close(
    actor: Principal,
    reviewId: string,
    opts: { requestId?: string } = {},
  ): Promise<{ review: AccessReviewView; eventId: string }> {
    const head = await this.#head(actor, reviewId);
    const cur = head.state;
    if (cur?.status !== 'open')
      throw new AppError('CONFLICT', `access review ${reviewId} is ${viewOf(head).status}`, {
        details: { reason: 'REVIEW_CLOSED', status: viewOf(head).status },
      });
    const at = new Date(this.#d.clock.now()).toISOString();
    const state: AccessReviewState = {
      ...cur,
      rev: cur.rev + 1,
      status: 'closed',
      closedAt: at,
      closedBy: actor.id,
    };
    const eventId = reviewEventId.close(reviewId);
    const pending: PendingReviewChange = {
      state,
      audits: [
        {
          id: eventId,
          occurredAt: at,
          actor: actorOf(actor),
          action: ACCESS_REVIEW_CLOSE,
          target: { type: 'access_review', id: reviewId, name: cur.name },
          outcome: 'success',
          changes: { before: { status: 'open' }, after: { status: 'closed' } },
          metadata: { reviewId },
          ...(opts.requestId ? { context: { requestId: opts.requestId } } : {}),
        },
      ],
    };
    try {
      await this.#store.stage(reviewId, pending);
    } catch (err) {
      if (err instanceof AppError && err.code === 'CONFLICT')
        throw new AppError('CONFLICT', `access review ${reviewId} was changed concurrently; re-read it`, {
          details: { reason: 'CONCURRENT_CHANGE' },
          cause: err,
        });
      throw err;
    }
    this.#d.afterStep?.('staged', reviewId);
    const settled = await this.#settleHead({ ...head, pending });
    return { review: viewOf(settled), eventId };
  }

  /** The report from the review's `system` log records: what `report --bundle` computes from a verified export. */
  async report(actor: Principal, reviewId: string): Promise<AccessReviewReport> {
    const head = await this.#head(actor, reviewId);
    const started = head.state?.startedAt ?? head.pending?.state.startedAt ?? '';
    const from = new Date(Date.parse(started) - START_MARGIN_MS).toISOString();
    const max = this.#d.maxReportRecords ?? DEFAULT_MAX_REPORT_RECORDS;
    const records = await systemRecords(
      this.#d.logs,
      { from, until: '9999-12-31T23:59:59.999Z' },
      (r) => r.event.action.startsWith('access_review.') && reviewIdOf(r) === reviewId,
      max,
      `access review ${reviewId} has more than ${max} records; export the system log and run ` +
        '`anchorlog access-reviews report --bundle` on the bundle',
    );
    return accessReviewReport(reviewId, records);
  }

  /** Completes every staged start, decision and close (the recovery job). */
  async recoverPending(): Promise<{ completed: number; failed: number }> {
    let completed = 0;
    let failed = 0;
    let cursor: string | undefined;
    do {
      const page = await this.#store.list({ limit: 100, ...(cursor ? { cursor } : {}) });
      for (let head of page.items) {
        try {
          if (head.pending) {
            head = await this.#settleHead(head);
            completed++;
          }
          if (head.state?.status === 'open') {
            const r = await this.#settleDecisions(head.id);
            completed += r.completed;
            failed += r.failed;
          }
        } catch {
          failed++; // left staged; the next run or the next request retries it
        }
      }
      cursor = page.cursor;
    } while (cursor);
    return { completed, failed };
  }

  // ---- internals ----

  #requireReviewer(actor: Principal): void {
    if (!hasScope(actor, '*', 'access:review'))
      throw new AppError('FORBIDDEN', `principal ${actor.id} lacks scope access:review on log *`);
  }

  /** The head, authorized, with a staged change completed first. */
  async #head(actor: Principal, id: string): Promise<AccessReviewHead> {
    this.#requireReviewer(actor);
    if (typeof id !== 'string' || !ACCESS_REVIEW_ID_RE.test(id)) throw reviewNotFound(String(id));
    const head = await this.#store.get(id);
    if (!head) throw reviewNotFound(id);
    if (!head.pending) return head;
    try {
      return await this.#settleHead(head);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'UNAVAILABLE')) throw err;
      throw new AppError(
        'UNAVAILABLE',
        `access review ${id} has a change waiting for its audit records, and the audit log is unavailable; retry`,
        { retryAfterSeconds: err.retryAfterSeconds ?? 5, cause: err },
      );
    }
  }

  async #settleDecisions(reviewId: string): Promise<{ completed: number; failed: number }> {
    let completed = 0;
    let failed = 0;
    let cursor: string | undefined;
    do {
      const page = await this.#store.listDecisions(reviewId, { limit: 100, ...(cursor ? { cursor } : {}) });
      for (const d of page.items) {
        if (!d.pending) continue;
        try {
          await this.#settleDecision(d);
          completed++;
        } catch {
          failed++;
        }
      }
      cursor = page.cursor;
    } while (cursor);
    return { completed, failed };
  }

  /** RECORD every event of the staged head change, in order, then PROMOTE. A close completes staged decisions first. */
  async #settleHead(head: AccessReviewHead): Promise<AccessReviewHead> {
    const pending = head.pending;
    if (!pending) return head;
    if (pending.state.status === 'closed') {
      // Every decision record must precede the close record: complete them first, all of them.
      const r = await this.#settleDecisions(head.id);
      if (r.failed > 0)
        throw new AppError(
          'UNAVAILABLE',
          `access review ${head.id} is closing, and ${r.failed} staged decision(s) could not be completed yet; retry`,
          { retryAfterSeconds: 5 },
        );
    }
    let recorded: AuditPosition | undefined;
    for (const event of pending.audits) recorded = await this.#record(event);
    if (!recorded)
      throw new AppError('INTEGRITY', `access review ${head.id}: a staged change without events`);
    this.#d.afterStep?.('recorded', head.id);
    try {
      await this.#store.promote(head.id, pending.state, recorded);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
      // Someone rolled the same change forward between our RECORD and PROMOTE.
      const now = await this.#store.get(head.id);
      if (now?.state && now.state.rev >= pending.state.rev) return now;
      throw new AppError('CONFLICT', `access review ${head.id} is being changed concurrently; retry`, {
        details: { reason: 'CONCURRENT_CHANGE' },
        cause: err,
      });
    }
    this.#d.afterStep?.('promoted', head.id);
    return { id: head.id, state: pending.state, recorded };
  }

  /** RECORD the decision, APPLY it (revoke), PROMOTE. Every step is idempotent, so anyone may complete it. */
  async #settleDecision(d: AccessDecisionItem): Promise<AccessDecisionItem> {
    const audit = d.pending?.audit;
    if (!audit) return d;
    const key = `${d.reviewId}/${d.principalId}`;
    const recorded = await this.#record(audit);
    this.#d.afterStep?.('recorded', key);
    if (d.decision === 'revoke') {
      const reviewer = audit.actor as AdminAuditEvent['actor'];
      const ctx = audit.context as { requestId?: string } | undefined;
      await this.#d.principals.revokeAs(
        reviewer,
        d.principalId,
        ctx?.requestId ? { requestId: ctx.requestId } : {},
      );
    }
    this.#d.afterStep?.('applied', key);
    try {
      await this.#store.promoteDecision(d.reviewId, d.principalId, recorded);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
      const now = await this.#store.getDecision(d.reviewId, d.principalId);
      if (now?.recorded) return now;
      throw err;
    }
    this.#d.afterStep?.('promoted', key);
    const { pending: _, ...rest } = d;
    return { ...rest, recorded };
  }

  async #record(event: Record<string, unknown>): Promise<AuditPosition> {
    try {
      return await this.#d.audit.record(event as unknown as AdminAuditEvent);
    } catch (err) {
      if (err instanceof AppError && err.code === 'CONFLICT')
        throw new AppError('INTEGRITY', `audit event ${String(event.id)} conflicts with the system log`, {
          cause: err,
        });
      if (err instanceof AppError && err.code === 'PAYLOAD_TOO_LARGE') throw err;
      const retry = err instanceof AppError ? err.retryAfterSeconds : undefined;
      throw new AppError(
        'UNAVAILABLE',
        'the audit log is unavailable, so the change is not in effect yet; it is staged and will be completed ' +
          'when the audit log recovers — retry the request',
        { retryAfterSeconds: retry ?? 5, cause: err },
      );
    }
  }

  /** The principals of a review's snapshot, read back from its `system` log records (cached: they never change). */
  async #snapshot(reviewId: string): Promise<Map<string, ReviewItem>> {
    const cached = this.#snapshots.get(reviewId);
    if (cached) return cached;
    const read = async (eventId: string) => {
      const at = await this.#d.auditLog.find(eventId);
      const event = at ? await this.#d.auditLog.read(at) : undefined;
      if (!event || event.id !== eventId)
        throw new AppError(
          'INTEGRITY',
          `access review ${reviewId} is open, but ${eventId} is not in the system log`,
        );
      return (event.metadata ?? {}) as Record<string, unknown>;
    };
    const start = await read(reviewEventId.start(reviewId));
    const parts = Number.isSafeInteger(start.parts) ? (start.parts as number) : 0;
    const map = new Map<string, ReviewItem>();
    for (let i = 0; i < parts; i++) {
      const m = await read(reviewEventId.items(reviewId, i));
      for (const it of Array.isArray(m.items) ? (m.items as unknown as ReviewItem[]) : [])
        map.set(it.principalId, it);
    }
    if (this.#snapshots.size >= SNAPSHOT_CACHE)
      this.#snapshots.delete(this.#snapshots.keys().next().value as string);
    this.#snapshots.set(reviewId, map);
    return map;
  }
}

function reviewIdOf(r: LogRecord): unknown {
  const m = r.event.metadata;
  return m && typeof m === 'object' && !Array.isArray(m)
    ? (m as Record<string, unknown>).reviewId
    : undefined;
}

function alreadyDecided(reviewId: string, d: AccessDecisionItem): AppError {
  return new AppError(
    'CONFLICT',
    `${d.principalId} was already decided in access review ${reviewId} (${d.decision} by ${d.by} at ${d.at})`,
    { details: { reason: 'ALREADY_DECIDED', decision: d.decision, by: d.by } },
  );
}

function viewOf(head: AccessReviewHead): AccessReviewView {
  const s = head.state ?? head.pending?.state;
  if (!s) throw new AppError('INTEGRITY', `access review ${head.id} has neither a state nor a staged start`);
  const status = !head.state ? 'starting' : head.pending ? 'closing' : head.state.status;
  return {
    id: head.id,
    status,
    name: s.name,
    startedAt: s.startedAt,
    startedBy: s.startedBy,
    items: s.items,
    ...(head.state?.closedAt ? { closedAt: head.state.closedAt } : {}),
    ...(head.state?.closedBy ? { closedBy: head.state.closedBy } : {}),
    ...(head.recorded ? { recorded: head.recorded } : {}),
  };
}

function decisionView(d: AccessDecisionItem): DecisionView {
  return {
    reviewId: d.reviewId,
    principalId: d.principalId,
    decision: d.decision as ReviewDecision,
    reason: d.reason,
    by: d.by,
    at: d.at,
    ...(d.recorded ? { recorded: d.recorded } : {}),
    ...(d.pending ? { pending: true as const } : {}),
  };
}
