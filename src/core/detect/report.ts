/**
 * The alert review report (docs/detection.md "The alert report"; SOC 2 CC7.2–
 * CC7.4): every alert of a period, who acknowledged and resolved it, when,
 * how, and how long that took — computed from `system` log records alone.
 *
 * Pure and total over any records, so the same function runs on what an
 * auditor exported and verified (`anchorlog alerts report --bundle`, where
 * the bundle proves no record of the range is missing) and on what the API
 * reads (`GET /v1/admin/alerts/report`): an auditor who trusts the bundle
 * need not trust us for the report.
 *
 * Which alerts: those whose `alert.fire` record has receivedAt in [from, to)
 * — the system log's own time, so "every alert of the period" is exactly
 * "every alert.fire record of the range", which a range export proves
 * complete. Review transitions are taken from every record given (typically
 * through the end of the export, `asOf`), in log order; their times are the
 * records' receivedAt (log time, which the bundle proves), not the occurredAt
 * the service claimed.
 *
 * Invariants (test/core/detect/report.test.ts checks them with fast-check):
 * every alert.fire record in [from, to) yields exactly one row; a row is
 * `unreviewed` iff its last transition in effect is not a resolve; durations
 * are never negative. Anything the records say that the lifecycle does not
 * allow (a transition out of sequence, one for an alert whose fire record is
 * outside the records, a second fire of one id) is listed in `problems`, never
 * silently dropped or "fixed".
 */
import type { LogRecord } from '../record.ts';
import type { AlertDocument } from './alert.ts';
import {
  ALERT_OUTCOMES,
  type AlertOutcome,
  type AlertStatus,
  parseReviewEventId,
  REVIEW_ACTIONS,
  type ReviewAction,
} from './review.ts';

export const ALERT_REPORT_FORMAT = 'anchorlog.alert-report/v1';

export interface AlertReportRow {
  readonly alertId: string;
  readonly logId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly title: string;
  readonly severity: string;
  readonly owner: string;
  /** When the condition held (the alert's firedAt, log time of the watched log). */
  readonly firedAt: string;
  /** receivedAt and index of the alert.fire record in the `system` log. */
  readonly recordedAt: string;
  readonly systemIndex: number;
  /** Status as of the last record given. */
  readonly status: AlertStatus;
  readonly acknowledgedBy: string | null;
  readonly acknowledgedAt: string | null;
  readonly resolvedBy: string | null;
  readonly resolvedAt: string | null;
  readonly outcome: AlertOutcome | null;
  readonly notes: string | null;
  /** ms from recordedAt to the acknowledgement (or the resolution, when resolved without one); null if neither. */
  readonly timeToAcknowledgeMs: number | null;
  /** ms from recordedAt to the resolution in effect; null when unresolved. */
  readonly timeToResolveMs: number | null;
  readonly reopened: number;
  /** Repeats merged into this alert (alert.occurrence records). */
  readonly occurrences: number;
  /** No resolution in effect as of the last record: nobody closed this alert. */
  readonly unreviewed: boolean;
}

export interface AlertReportProblem {
  readonly index: number;
  readonly eventId: string;
  readonly problem: string;
}

export interface AlertReport {
  readonly format: typeof ALERT_REPORT_FORMAT;
  readonly from: string;
  readonly to: string;
  /** receivedAt of the last record given: transitions after it are not known to the report. */
  readonly asOf: string | null;
  readonly alerts: readonly AlertReportRow[];
  readonly totals: {
    readonly alerts: number;
    readonly unreviewed: number;
    readonly acknowledged: number;
    readonly resolved: number;
    readonly outcomes: Readonly<Record<AlertOutcome, number>>;
    readonly bySeverity: Readonly<Record<string, number>>;
  };
  readonly problems: readonly AlertReportProblem[];
}

/** Times in receivedAt format compare as strings; ms for the durations. */
const ms = (t: string): number => Date.parse(t);
const since = (from: string, to: string): number => {
  const d = ms(to) - ms(from);
  // receivedAt never decreases along a log, and a transition is recorded after
  // its alert, so in a verified log this is ≥ 0; arbitrary input is clamped and reported.
  return Number.isFinite(d) && d > 0 ? d : 0;
};

interface Mutable {
  row: {
    -readonly [K in keyof AlertReportRow]: AlertReportRow[K];
  };
  rev: number;
  inRange: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The alert document of an alert.fire event, or undefined if it does not hold one. */
function firedAlert(rec: LogRecord): AlertDocument | undefined {
  const a = rec.event.metadata?.alert;
  if (!isObject(a) || typeof a.id !== 'string' || !isObject(a.rule)) return undefined;
  const r = a.rule;
  if (
    typeof r.id !== 'string' ||
    typeof r.version !== 'number' ||
    typeof r.title !== 'string' ||
    typeof r.severity !== 'string' ||
    typeof r.owner !== 'string' ||
    typeof a.logId !== 'string' ||
    typeof a.firedAt !== 'string'
  )
    return undefined;
  return a as unknown as AlertDocument;
}

/**
 * Builds the report over `records` (one log's, in index order — any order is
 * sorted by index first) for alerts recorded in [from, to). `from`/`to` are
 * receivedAt-format strings (RFC 3339 UTC with milliseconds).
 */
export function buildAlertReport(
  records: Iterable<LogRecord>,
  period: { readonly from: string; readonly to: string },
): AlertReport {
  const sorted = [...records].sort((a, b) => a.index - b.index);
  const alerts = new Map<string, Mutable>();
  const problems: AlertReportProblem[] = [];
  const problem = (rec: LogRecord, text: string) =>
    problems.push({ index: rec.index, eventId: String(rec.event.id), problem: text });
  for (const rec of sorted) {
    const action = rec.event.action;
    if (action === 'alert.fire') {
      const a = firedAlert(rec);
      if (!a) {
        problem(rec, 'alert.fire without an alert document');
        continue;
      }
      if (alerts.has(a.id) || a.id !== rec.event.id) {
        problem(
          rec,
          alerts.has(a.id) ? 'a second alert.fire for this alert' : 'event id is not the alert id',
        );
        continue;
      }
      alerts.set(a.id, {
        rev: 0,
        inRange: rec.receivedAt >= period.from && rec.receivedAt < period.to,
        row: {
          alertId: a.id,
          logId: a.logId,
          ruleId: a.rule.id,
          ruleVersion: a.rule.version,
          title: a.rule.title,
          severity: a.rule.severity,
          owner: a.rule.owner,
          firedAt: a.firedAt,
          recordedAt: rec.receivedAt,
          systemIndex: rec.index,
          status: 'open',
          acknowledgedBy: null,
          acknowledgedAt: null,
          resolvedBy: null,
          resolvedAt: null,
          outcome: null,
          notes: null,
          timeToAcknowledgeMs: null,
          timeToResolveMs: null,
          reopened: 0,
          occurrences: 0,
          unreviewed: true,
        },
      });
      continue;
    }
    if (action === 'alert.occurrence') {
      const id = rec.event.metadata?.alertId;
      const m = typeof id === 'string' ? alerts.get(id) : undefined;
      if (m) m.row.occurrences++;
      continue;
    }
    if (!(REVIEW_ACTIONS as readonly string[]).includes(action)) continue;
    const named = parseReviewEventId(String(rec.event.id));
    const m = named ? alerts.get(named.alertId) : undefined;
    if (!named || !m) {
      // An alert recorded before the records given is simply not in this report.
      if (!named) problem(rec, `${action} with a malformed event id`);
      continue;
    }
    if (named.rev !== m.rev + 1) {
      problem(rec, `transition r${named.rev} of ${named.alertId} follows r${m.rev}`);
      continue;
    }
    if (!applyRecord(m, action as ReviewAction, rec)) {
      problem(rec, `${action} is not allowed from ${m.row.status}`);
      continue;
    }
    m.rev = named.rev;
  }
  const rows = [...alerts.values()]
    .filter((m) => m.inRange)
    .map((m) => m.row as AlertReportRow)
    .sort((a, b) => a.systemIndex - b.systemIndex);
  const outcomes = Object.fromEntries(ALERT_OUTCOMES.map((o) => [o, 0])) as Record<AlertOutcome, number>;
  const bySeverity: Record<string, number> = {};
  for (const r of rows) {
    if (r.outcome && !r.unreviewed) outcomes[r.outcome]++;
    bySeverity[r.severity] = (bySeverity[r.severity] ?? 0) + 1;
  }
  return {
    format: ALERT_REPORT_FORMAT,
    from: period.from,
    to: period.to,
    asOf: sorted.length > 0 ? (sorted[sorted.length - 1] as LogRecord).receivedAt : null,
    alerts: rows,
    totals: {
      alerts: rows.length,
      unreviewed: rows.filter((r) => r.unreviewed).length,
      acknowledged: rows.filter((r) => r.acknowledgedAt !== null).length,
      resolved: rows.filter((r) => r.status === 'resolved').length,
      outcomes,
      bySeverity,
    },
    problems,
  };
}

/** Applies one transition record to a row; false when the lifecycle does not allow it. */
function applyRecord(m: Mutable, action: ReviewAction, rec: LogRecord): boolean {
  const r = m.row;
  const by = rec.submitter;
  const at = rec.receivedAt;
  switch (action) {
    case 'alert.ack':
      if (r.status !== 'open') return false;
      r.status = 'acknowledged';
      r.acknowledgedBy = by;
      r.acknowledgedAt = at;
      r.timeToAcknowledgeMs = since(r.recordedAt, at);
      return true;
    case 'alert.resolve': {
      if (r.status === 'resolved') return false;
      const o = rec.event.metadata?.outcome;
      if (typeof o !== 'string' || !(ALERT_OUTCOMES as readonly string[]).includes(o)) return false;
      const notes = rec.event.metadata?.notes;
      r.status = 'resolved';
      r.resolvedBy = by;
      r.resolvedAt = at;
      r.outcome = o as AlertOutcome;
      r.notes = typeof notes === 'string' ? notes : '';
      r.timeToResolveMs = since(r.recordedAt, at);
      // Resolved without an acknowledgement: resolving is the first response.
      if (r.timeToAcknowledgeMs === null) r.timeToAcknowledgeMs = r.timeToResolveMs;
      r.unreviewed = false;
      return true;
    }
    case 'alert.reopen':
      if (r.status !== 'resolved') return false;
      r.status = 'open';
      r.acknowledgedBy = null;
      r.acknowledgedAt = null;
      r.resolvedBy = null;
      r.resolvedAt = null;
      r.outcome = null;
      r.notes = null;
      r.timeToResolveMs = null;
      r.reopened++;
      r.unreviewed = true;
      return true;
  }
}

/** Columns of the CSV form, in order (RFC 4180, CRLF line ends, a header row). */
export const ALERT_REPORT_COLUMNS = [
  'alertId',
  'logId',
  'ruleId',
  'ruleVersion',
  'title',
  'severity',
  'owner',
  'firedAt',
  'recordedAt',
  'systemIndex',
  'status',
  'acknowledgedBy',
  'acknowledgedAt',
  'resolvedBy',
  'resolvedAt',
  'outcome',
  'timeToAcknowledgeMs',
  'timeToResolveMs',
  'reopened',
  'occurrences',
  'unreviewed',
  'notes',
] as const satisfies readonly (keyof AlertReportRow)[];

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  // A spreadsheet runs a cell that starts with = + - @ as a formula: rule titles and
  // notes are user input, so such a cell is prefixed with ' (OWASP "CSV injection").
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function alertReportCsv(report: AlertReport): string {
  const lines = [ALERT_REPORT_COLUMNS.join(',')];
  for (const r of report.alerts) lines.push(ALERT_REPORT_COLUMNS.map((c) => csvCell(r[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function alertReportJson(report: AlertReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
