/**
 * Alert review (docs/detection.md "Reviewing alerts"; SOC 2 CC7.3, CC7.4):
 * list, show, acknowledge, resolve and re-open the alerts detection raised,
 * and the review report. Reviewers hold `alerts:review` on an alert's log (or
 * on `*`); `admin` implies it.
 *
 * ## Every transition has exactly one audit record: stage → record → promote
 *
 * As for rules and principals (src/app/rules.ts, src/app/principals.ts):
 *
 *   1. STAGE   — AlertReviewStore.stage: the new state and its audit event go
 *                on the alert's item as `pending`, conditional on the rev being
 *                the committed one + 1 and nothing else staged. Of two
 *                reviewers acting at once, exactly one stages; the other gets
 *                409 and nothing of theirs is written anywhere.
 *   2. RECORD  — the event `alert.ack|alert.resolve|alert.reopen` (id
 *                `<alert id>/r<rev>`, state before and after, submitter = the
 *                reviewer) is appended to the `system` log, idempotent on the id.
 *   3. PROMOTE — AlertReviewStore.promote: the state becomes the committed one,
 *                with where its record is.
 *
 * The caller hears success only after 3, so no transition is acknowledged to
 * anyone before its record is durable. Crashes:
 *   - before or at STAGE: nothing changed, nothing recorded; the caller retries.
 *   - after STAGE, before RECORD completes: not in effect; the caller got
 *     UNAVAILABLE. The staged transition is rolled FORWARD (RECORD, then
 *     PROMOTE) by the next request on that alert or by `recoverPending()`
 *     (the recovery job). Forward, because we cannot know whether the record
 *     landed, and recording is idempotent.
 *   - after RECORD, before PROMOTE: the log says it happened; roll forward
 *     makes it so (same path).
 * So the store never shows a transition the `system` log lacks, and none
 * that was staged is lost. The report (src/core/detect/report.ts) does not
 * read the store at all: it is rebuilt from the `system` log.
 *
 * ## Where alert items come from
 *
 * Delivery opens an item right after it records `alert.fire` (src/app/
 * deliver.ts, `alerts.open`), before the alert is sent anywhere. An alert the
 * store does not know (recorded before this existed, or an open that failed)
 * is opened on first use from its `alert.fire` record in the `system` log,
 * so nothing can be reviewed that the log does not hold.
 */
import type { AlertDocument } from '../core/detect/alert.ts';
import { type AlertReport, buildAlertReport } from '../core/detect/report.ts';
import {
  ALERT_ID_RE,
  ALERT_STATUSES,
  type AlertRef,
  type AlertStatus,
  alertRefOf,
  applyReview,
  checkNotes,
  checkOutcome,
  type ReviewAction,
  ReviewError,
  type ReviewRequest,
  type ReviewState,
  reviewEvent,
} from '../core/detect/review.ts';
import { SEVERITIES, type Severity } from '../core/detect/rule.ts';
import type { AuditEvent } from '../core/event.ts';
import { hasScope, type Principal, SYSTEM_LOG_ID } from '../core/principal.ts';
import { decodeRecord, formatReceivedAt, type LogRecord } from '../core/record.ts';
import {
  type AlertReviewItem,
  type AlertReviewStore,
  encodeAlertCursor,
  type PendingReview,
} from '../ports/alert-review-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { LogStore } from '../ports/log-store.ts';
import type { AuditPosition } from '../ports/principal-store.ts';
import { AppError } from './errors.ts';
import { parseExportTime } from './export.ts';
import { fromPortError, withPortErrors } from './port-errors.ts';
import { type AdminAuditEvent, type AdminAuditLog, type AdminAuditSink, actorOf } from './principals.ts';
import { settleAllStaged } from './staged-changes.ts';

/** The crash points a test may stop at (afterStep throws). */
export type ReviewStep = 'staged' | 'recorded' | 'promoted';

export interface AlertReviewServiceDeps {
  store: AlertReviewStore;
  audit: Pick<AdminAuditSink, 'record'>;
  /** The `system` log read back: alert.fire records (show, opening unknown alerts). */
  auditLog: AdminAuditLog;
  /** The `system` log's batches, for the report. */
  logs: Pick<LogStore, 'readTip' | 'readBatchHeader' | 'readBatches'>;
  clock: Clock;
  /** Most alert records (fire, occurrence, transitions) one API report reads. Default 50,000. */
  maxReportRecords?: number;
  /** Test seam: a throw is a crash after that step. */
  afterStep?: (step: ReviewStep, alertId: string) => void;
}

/** An alert as the API shows it. */
export interface AlertView {
  readonly alert: AlertRef;
  readonly review: ReviewState;
  /** Where the `system` log holds the committed transition (absent while open and never reviewed). */
  readonly recorded?: AuditPosition;
  /** A transition staged but not yet in effect. */
  readonly pending?: { readonly rev: number; readonly action: string };
}

export interface AlertShowView extends AlertView {
  /** The alert.fire record: where it is, the whole alert document, and the checkpoint its trigger is under. */
  readonly fired: {
    readonly recorded: AuditPosition;
    readonly event: AuditEvent;
    readonly checkpoint: unknown;
  } | null;
}

export interface TransitionResult {
  readonly view: AlertView;
  readonly eventId: string;
}

export interface AlertFilter {
  readonly status?: string | undefined;
  readonly ruleId?: string | undefined;
  readonly severity?: string | undefined;
  readonly logId?: string | undefined;
  /** firedAt ≥ from (RFC 3339 or a date). */
  readonly from?: string | undefined;
  /** firedAt < to. */
  readonly to?: string | undefined;
}

/** Items a list request looks at before it answers with what it found (and a cursor). */
const LIST_SCAN_LIMIT = 1000;
const DEFAULT_MAX_REPORT_RECORDS = 50_000;
const ALERT_ACTIONS = new Set([
  'alert.fire',
  'alert.occurrence',
  'alert.ack',
  'alert.resolve',
  'alert.reopen',
]);

/** The API error of a ReviewError: input faults are 400, lifecycle refusals 409; `reason` is the stable code. */
function reviewAppError(err: ReviewError, status?: AlertStatus): AppError {
  const input = err.code === 'INVALID_OUTCOME' || err.code === 'INVALID_NOTES';
  return new AppError(input ? 'BAD_REQUEST' : 'CONFLICT', err.message, {
    ...(err.path ? { path: err.path } : {}),
    details: { reason: err.code, ...(status ? { status } : {}) },
    cause: err,
  });
}

function alertNotFound(alertId: string): AppError {
  return new AppError('NOT_FOUND', `no alert ${JSON.stringify(alertId.slice(0, 80))}`, {
    details: { reason: 'ALERT_NOT_FOUND' },
  });
}

export class AlertReviewService {
  readonly #store: AlertReviewStore;
  readonly #d: AlertReviewServiceDeps;

  constructor(deps: AlertReviewServiceDeps) {
    this.#store = withPortErrors(deps.store, 'alert review store');
    this.#d = deps;
  }

  /** Opens the review item of an alert delivery just recorded (idempotent). */
  async open(alert: AlertDocument): Promise<void> {
    await this.#store.open(alertRefOf(alert));
  }

  async acknowledge(
    actor: Principal,
    alertId: string,
    opts: { requestId?: string } = {},
  ): Promise<TransitionResult> {
    return this.#transition(actor, alertId, { action: 'alert.ack' }, opts);
  }

  async resolve(
    actor: Principal,
    alertId: string,
    input: { outcome: unknown; notes?: unknown },
    opts: { requestId?: string } = {},
  ): Promise<TransitionResult> {
    return this.#transition(
      actor,
      alertId,
      { action: 'alert.resolve', outcome: input.outcome, notes: input.notes },
      opts,
    );
  }

  async reopen(
    actor: Principal,
    alertId: string,
    input: { notes?: unknown } = {},
    opts: { requestId?: string } = {},
  ): Promise<TransitionResult> {
    return this.#transition(actor, alertId, { action: 'alert.reopen', notes: input.notes }, opts);
  }

  /** One alert with its alert.fire record and checkpoint citation. */
  async show(actor: Principal, alertId: string): Promise<AlertShowView> {
    const item = await this.#item(actor, alertId);
    let fired: AlertShowView['fired'] = null;
    const at = await this.#d.auditLog.find(alertId);
    const event = at ? await this.#d.auditLog.read(at) : undefined;
    if (at && event?.action === 'alert.fire')
      fired = { recorded: at, event, checkpoint: event.metadata?.checkpoint ?? null };
    return { ...viewOf(item), fired };
  }

  /**
   * Alerts in id order, filtered, a page at a time: up to `limit` matches
   * from at most LIST_SCAN_LIMIT items looked at; `cursor` resumes after the
   * last item looked at (a page may hold fewer than `limit` with a cursor).
   * Only alerts of logs the actor may review are listed.
   */
  async list(
    actor: Principal,
    filter: AlertFilter = {},
    opts: { cursor?: string; limit?: number } = {},
  ): Promise<{ alerts: AlertView[]; cursor?: string }> {
    if (!canReviewSomewhere(actor))
      throw new AppError('FORBIDDEN', `principal ${actor.id} lacks scope alerts:review`);
    const limit = opts.limit ?? 50;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100)
      throw new AppError('BAD_REQUEST', 'limit must be an integer from 1 to 100', { path: '/query/limit' });
    const match = matcher(filter);
    const alerts: AlertView[] = [];
    let cursor = opts.cursor;
    let scanned = 0;
    for (;;) {
      const page = await this.#store.list({ limit: 100, ...(cursor !== undefined ? { cursor } : {}) });
      let stoppedAt: string | undefined;
      for (const item of page.items) {
        scanned++;
        if (match(item) && hasScope(actor, item.alert.logId, 'alerts:review')) alerts.push(viewOf(item));
        if (alerts.length >= limit) {
          stoppedAt = item.alert.id;
          break;
        }
      }
      if (stoppedAt !== undefined) {
        const last = page.items[page.items.length - 1];
        // Stopped inside the page: resume right after the last item returned.
        return {
          alerts,
          ...(page.cursor || last?.alert.id !== stoppedAt ? { cursor: cursorAt(stoppedAt) } : {}),
        };
      }
      cursor = page.cursor;
      if (!cursor) return { alerts };
      if (scanned >= LIST_SCAN_LIMIT) return { alerts, cursor };
    }
  }

  /**
   * The review report over the `system` log's records with receivedAt in
   * [from, until) (until defaults to now): every alert recorded in [from, to)
   * and what reviewers did about it up to `until`. The same pure function an
   * auditor runs on an exported bundle of that range.
   */
  async report(
    actor: Principal,
    params: { from: string; to: string; until?: string | undefined },
  ): Promise<AlertReport> {
    if (!hasScope(actor, '*', 'alerts:review'))
      throw new AppError('FORBIDDEN', `principal ${actor.id} lacks scope alerts:review on log *`);
    const from = parseExportTime('from', params.from);
    const to = parseExportTime('to', params.to);
    const until =
      params.until === undefined
        ? Math.max(to, this.#d.clock.now() + 1)
        : parseExportTime('until', params.until);
    if (!(from < to)) throw new AppError('BAD_REQUEST', 'to must be after from', { path: '/to' });
    if (until < to) throw new AppError('BAD_REQUEST', 'until must not be before to', { path: '/until' });
    const records = await this.#systemRecords(formatReceivedAt(from), formatReceivedAt(until));
    return buildAlertReport(records, { from: formatReceivedAt(from), to: formatReceivedAt(to) });
  }

  /** Completes every staged transition (the recovery job; also run after an audit-log outage). */
  async recoverPending(): Promise<{ completed: number; failed: number }> {
    return settleAllStaged(
      (cursor) => this.#store.list({ limit: 100, ...(cursor ? { cursor } : {}) }),
      (item) => this.#settle(item),
    );
  }

  // ---- transitions ----

  async #transition(
    actor: Principal,
    alertId: string,
    req: ReviewRequest,
    opts: { requestId?: string },
  ): Promise<TransitionResult> {
    // Input first: garbage is a 400 whatever the alert's state.
    try {
      if (req.action === 'alert.resolve') {
        checkOutcome(req.outcome);
        checkNotes(req.notes);
      } else if (req.action === 'alert.reopen') checkNotes(req.notes);
    } catch (err) {
      throw err instanceof ReviewError ? reviewAppError(err) : err;
    }
    const item = await this.#item(actor, alertId);
    // One instant for the state and the event: what the store shows is what the log says.
    const at = new Date(this.#d.clock.now()).toISOString();
    let after: ReviewState;
    try {
      after = applyReview(item.state, req, { by: actor.id, at });
    } catch (err) {
      throw err instanceof ReviewError ? reviewAppError(err, item.state.status) : err;
    }
    const event = reviewEvent(item.alert, req.action as ReviewAction, item.state, after, actorOf(actor), at, {
      ...(req.action === 'alert.reopen' ? { notes: checkNotes(req.notes) } : {}),
      ...(opts.requestId ? { requestId: opts.requestId } : {}),
    });
    const pending: PendingReview = { state: after, audit: JSON.parse(JSON.stringify(event)) };
    try {
      await this.#store.stage(alertId, pending);
    } catch (err) {
      if (err instanceof AppError && err.code === 'CONFLICT')
        throw new AppError('CONFLICT', `alert ${alertId} was changed concurrently; re-read it and retry`, {
          details: { reason: 'CONCURRENT_TRANSITION' },
          cause: err,
        });
      throw err;
    }
    this.#d.afterStep?.('staged', alertId);
    const settled = await this.#settle({ ...item, pending });
    if (settled.state.rev !== after.rev)
      throw new AppError('CONFLICT', `alert ${alertId} was changed concurrently; re-read it and retry`, {
        details: { reason: 'CONCURRENT_TRANSITION' },
      });
    return { view: viewOf(settled), eventId: event.id };
  }

  /** The item, settled (a staged transition completed first), opened from the log if unknown; authorized. */
  async #item(actor: Principal, alertId: string): Promise<AlertReviewItem> {
    if (!canReviewSomewhere(actor))
      throw new AppError('FORBIDDEN', `principal ${actor.id} lacks scope alerts:review`);
    if (typeof alertId !== 'string' || !ALERT_ID_RE.test(alertId)) throw alertNotFound(String(alertId));
    let item = await this.#store.get(alertId);
    if (!item) {
      const ref = await this.#fromLog(alertId);
      if (!ref) throw alertNotFound(alertId);
      await this.#store.open(ref);
      item = await this.#store.get(alertId);
      if (!item)
        throw new AppError('UNAVAILABLE', `alert ${alertId} is being opened; retry`, {
          retryAfterSeconds: 1,
        });
    }
    // Authorize before settling: someone who may not review the alert learns only that it exists.
    if (!hasScope(actor, item.alert.logId, 'alerts:review'))
      throw new AppError(
        'FORBIDDEN',
        `principal ${actor.id} lacks scope alerts:review on log ${item.alert.logId}`,
      );
    if (!item.pending) return item;
    try {
      return await this.#settle(item);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'UNAVAILABLE')) throw err;
      throw new AppError(
        'UNAVAILABLE',
        `alert ${alertId} has an earlier transition (r${item.pending.state.rev}) waiting for its audit record, ` +
          'and the audit log is unavailable; nothing was changed — retry',
        { retryAfterSeconds: err.retryAfterSeconds ?? 5, cause: err },
      );
    }
  }

  /** The AlertRef of an alert.fire record in the `system` log, or undefined. */
  async #fromLog(alertId: string): Promise<AlertRef | undefined> {
    const at = await this.#d.auditLog.find(alertId);
    const event = at ? await this.#d.auditLog.read(at) : undefined;
    if (event?.action !== 'alert.fire' || event.id !== alertId) return undefined;
    const alert = event.metadata?.alert as AlertDocument | undefined;
    if (!alert || alert.id !== alertId || typeof alert.rule !== 'object')
      throw new AppError('INTEGRITY', `the alert.fire record of ${alertId} holds no alert document`);
    return alertRefOf(alert);
  }

  /** RECORD then PROMOTE a staged transition (ours, or one a crash left). */
  async #settle(item: AlertReviewItem): Promise<AlertReviewItem> {
    const pending = item.pending;
    if (!pending) return item;
    const id = item.alert.id;
    const recorded = await this.#record(pending.audit);
    this.#d.afterStep?.('recorded', id);
    try {
      await this.#store.promote(id, pending.state, recorded);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
      // Someone rolled the same transition forward between our RECORD and PROMOTE.
      const now = await this.#store.get(id);
      if (now && now.state.rev >= pending.state.rev && !now.pending) return now;
      throw new AppError('CONFLICT', `alert ${id} is being changed concurrently; retry`, {
        details: { reason: 'CONCURRENT_TRANSITION' },
        cause: err,
      });
    }
    this.#d.afterStep?.('promoted', id);
    return { alert: item.alert, state: pending.state, recorded };
  }

  async #record(event: Record<string, unknown>): Promise<AuditPosition> {
    try {
      return await this.#d.audit.record(event as unknown as AdminAuditEvent);
    } catch (err) {
      if (err instanceof AppError && err.code === 'CONFLICT')
        throw new AppError('INTEGRITY', `audit event ${String(event.id)} conflicts with the system log`, {
          cause: err,
        });
      const retry = err instanceof AppError ? err.retryAfterSeconds : undefined;
      throw new AppError(
        'UNAVAILABLE',
        'the audit log is unavailable, so the alert transition is not in effect yet; it is staged and will be ' +
          'completed when the audit log recovers — retry the request',
        { retryAfterSeconds: retry ?? 5, cause: err },
      );
    }
  }

  // ---- report ----

  /**
   * The alert records of the `system` log with receivedAt in [from, until):
   * a binary search over batch headers for the first batch (every record of
   * a batch shares its receivedAt, which never decreases), then batches in
   * order until one reaches `until`. Every record of the range is read (the
   * `system` log holds admin changes and alerts only, so ranges are small);
   * only alert records are kept, at most maxReportRecords.
   */
  async #systemRecords(from: string, until: string): Promise<LogRecord[]> {
    const logs = this.#d.logs;
    const call = async <T>(fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (err) {
        throw fromPortError(err, 'system log') ?? err;
      }
    };
    const tip = await call(() => logs.readTip(SYSTEM_LOG_ID));
    let lo = 1;
    let hi = tip.seq + 1; // first seq with receivedAt ≥ from lies in [lo, hi]
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const h = await call(() => logs.readBatchHeader(SYSTEM_LOG_ID, mid));
      if (!h) throw new AppError('INTEGRITY', `system log batch ${mid} is missing below the tip`);
      if (h.receivedAt < from) lo = mid + 1;
      else hi = mid;
    }
    const max = this.#d.maxReportRecords ?? DEFAULT_MAX_REPORT_RECORDS;
    const out: LogRecord[] = [];
    for (let seq = lo; seq <= tip.seq; ) {
      const batches = await call(() => logs.readBatches(SYSTEM_LOG_ID, seq, 16));
      if (batches.length === 0) break;
      for (const b of batches) {
        if (b.receivedAt >= until) return out;
        for (const r of b.records) {
          let rec: LogRecord;
          try {
            rec = decodeRecord(r.bytes);
          } catch (err) {
            // LogStore.readBatch checked these bytes against the commit: one that does not decode is corruption.
            throw new AppError('INTEGRITY', `system log record ${r.index} does not decode`, { cause: err });
          }
          if (!ALERT_ACTIONS.has(rec.event.action)) continue;
          if (out.length >= max)
            throw new AppError(
              'PAYLOAD_TOO_LARGE',
              `the range holds more than ${max} alert records; split it, or export the system log and run ` +
                '`anchorlog alerts report --bundle` on the bundle',
              { path: '/to' },
            );
          out.push(rec);
        }
        seq = b.seq + 1;
      }
    }
    return out;
  }
}

function canReviewSomewhere(actor: Principal): boolean {
  if (actor.status !== 'active') return false;
  return Object.entries(actor.scopes).some(
    ([, list]) => list.includes('alerts:review') || list.includes('admin'),
  );
}

const cursorAt = encodeAlertCursor;

function matcher(f: AlertFilter): (item: AlertReviewItem) => boolean {
  const bad = (field: string, message: string) =>
    new AppError('BAD_REQUEST', message, { path: `/query/${field}` });
  if (f.status !== undefined && !(ALERT_STATUSES as readonly string[]).includes(f.status))
    throw bad('status', `status must be one of ${ALERT_STATUSES.join(', ')}`);
  if (f.severity !== undefined && !(SEVERITIES as readonly string[]).includes(f.severity))
    throw bad('severity', `severity must be one of ${SEVERITIES.join(', ')}`);
  if (f.ruleId !== undefined && (f.ruleId.length === 0 || f.ruleId.length > 128))
    throw bad('rule', 'rule must be a rule id');
  const from = f.from === undefined ? undefined : formatReceivedAt(parseExportTime('from', f.from));
  const to = f.to === undefined ? undefined : formatReceivedAt(parseExportTime('to', f.to));
  const status = f.status as AlertStatus | undefined;
  const severity = f.severity as Severity | undefined;
  return (item) =>
    (status === undefined || item.state.status === status) &&
    (severity === undefined || item.alert.severity === severity) &&
    (f.ruleId === undefined || item.alert.ruleId === f.ruleId) &&
    (f.logId === undefined || item.alert.logId === f.logId) &&
    (from === undefined || item.alert.firedAt >= from) &&
    (to === undefined || item.alert.firedAt < to);
}

function viewOf(item: AlertReviewItem): AlertView {
  const p = item.pending;
  return {
    alert: item.alert,
    review: item.state,
    ...(item.recorded ? { recorded: item.recorded } : {}),
    ...(p ? { pending: { rev: p.state.rev, action: String(p.audit.action) } } : {}),
  };
}
