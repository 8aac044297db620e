/**
 * Access reviews (SOC 2 CC6.2–CC6.3; docs/access.md "Access reviews"). Pure.
 *
 * A review is a snapshot of every principal taken at start, one item per
 * principal, on which reviewers record keep / revoke / change decisions.
 * Everything a report needs travels in `system` log records — the snapshot
 * in `access_review.start`, each decision in `access_review.decide`, the
 * close in `access_review.close` — so `accessReviewReport` is computed from
 * records alone, the same way on what the API reads and on what an auditor
 * exported as a verified bundle (compare src/core/detect/report.ts).
 *
 * Invariants (test/core/access-review.test.ts, fast-check): every
 * snapshotted principal appears in the report exactly once; an item is
 * undecided iff no decision for it is in effect; the decision in effect is
 * the first valid one in log order (the store lets exactly one win, so a
 * second one in the log is a problem, listed, never applied).
 */

import {
  type KeyAgeLimits,
  keyExpiresAtMs,
  keyIssuedAt,
  type Principal,
  type ScopeMap,
} from './principal.ts';
import type { LogRecord } from './record.ts';
import { effectiveScopes, type Role } from './role.ts';

export const ACCESS_REVIEW_FORMAT = 'anchorlog.access-review-report/v1';
export const ACCESS_REVIEW_START = 'access_review.start';
export const ACCESS_REVIEW_DECIDE = 'access_review.decide';
export const ACCESS_REVIEW_CLOSE = 'access_review.close';
/**
 * A part of the snapshot: a record holds at most 65,535 bytes (MAX_RECORD_BYTES
 * in ./record.ts), so the items travel in `access_review.items` records
 * (metadata `{ reviewId, part, items }`) recorded before the start, whose
 * metadata says how many there are (`parts`).
 */
export const ACCESS_REVIEW_ITEMS = 'access_review.items';
/** Most bytes of item JSON one `access_review.items` record carries (the rest of the record fits below 64 KiB). */
export const SNAPSHOT_PART_BYTES = 48_000;

export const REVIEW_DECISIONS = ['keep', 'revoke', 'change'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

/** Review thresholds: a key unused this long, or expiring this soon, is flagged. */
export const UNUSED_MS = 90 * 86_400_000;
export const EXPIRING_MS = 14 * 86_400_000;

export type ReviewFlag =
  | 'admin'
  | 'unused_90d'
  | 'no_owner'
  | 'owner_not_active_human'
  | 'direct_scopes'
  | 'expiring_14d'
  | 'revoked';

export interface ReviewItem {
  readonly principalId: string;
  readonly name: string;
  readonly kind: Principal['kind'];
  readonly owner: string;
  readonly status: Principal['status'];
  readonly roles: readonly string[];
  readonly directScopes: ScopeMap;
  readonly effectiveScopes: ScopeMap;
  readonly keyIssuedAt: string;
  /** Whole days from key issue to the snapshot. */
  readonly keyAgeDays: number | null;
  readonly keyExpiresAt: string | null;
  readonly lastUsedAt: string | null;
  /** Sorted, distinct. */
  readonly flags: readonly ReviewFlag[];
}

export interface SnapshotInput {
  readonly principals: readonly (Principal & { lastUsedAt?: string })[];
  readonly roles: ReadonlyMap<string, Pick<Role, 'scopes'>>;
  readonly limits: KeyAgeLimits;
  readonly nowMs: number;
}

function hasAny(scopes: ScopeMap): boolean {
  return Object.values(scopes).some((l) => Array.isArray(l) && l.length > 0);
}

/** One item per principal, sorted by principal id (ids are unique, so the order is total). */
export function snapshotItems(input: SnapshotInput): ReviewItem[] {
  const byId = new Map(input.principals.map((p) => [p.id, p]));
  const items: ReviewItem[] = [];
  for (const p of [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const eff = effectiveScopes(p, input.roles);
    const flags = new Set<ReviewFlag>();
    if (Object.values(eff).some((l) => l.includes('admin'))) flags.add('admin');
    const issued = keyIssuedAt(p);
    const issuedMs = Date.parse(issued);
    const lastUsedMs = p.lastUsedAt ? Date.parse(p.lastUsedAt) : Number.NaN;
    const since = Number.isFinite(lastUsedMs) ? lastUsedMs : issuedMs;
    if (Number.isFinite(since) && input.nowMs - since >= UNUSED_MS) flags.add('unused_90d');
    if (p.owner.trim() === '') flags.add('no_owner');
    else if (p.kind !== 'human') {
      const o = byId.get(p.owner);
      if (o?.kind !== 'human' || o.status !== 'active') flags.add('owner_not_active_human');
    }
    if (hasAny(p.scopes)) flags.add('direct_scopes');
    const exp = keyExpiresAtMs(p, input.limits);
    if (exp !== undefined && exp - input.nowMs <= EXPIRING_MS) flags.add('expiring_14d');
    if (p.status !== 'active') flags.add('revoked');
    items.push({
      principalId: p.id,
      name: p.name,
      kind: p.kind,
      owner: p.owner,
      status: p.status,
      roles: [...(p.roles ?? [])],
      directScopes: p.scopes,
      effectiveScopes: eff,
      keyIssuedAt: issued,
      keyAgeDays: Number.isFinite(issuedMs) ? Math.floor((input.nowMs - issuedMs) / 86_400_000) : null,
      keyExpiresAt: exp === undefined ? null : new Date(exp).toISOString(),
      lastUsedAt: p.lastUsedAt ?? null,
      flags: [...flags].sort(),
    });
  }
  return items;
}

/**
 * The items cut into parts of at most SNAPSHOT_PART_BYTES of JSON each, in
 * order (one item larger than that is a part of its own; recording it fails
 * loudly rather than truncating). At least one part, possibly empty.
 */
export function snapshotParts(items: readonly ReviewItem[]): ReviewItem[][] {
  const parts: ReviewItem[][] = [[]];
  let bytes = 0;
  for (const it of items) {
    const n = new TextEncoder().encode(JSON.stringify(it)).length + 1;
    const cur = parts[parts.length - 1] as ReviewItem[];
    if (cur.length > 0 && bytes + n > SNAPSHOT_PART_BYTES) {
      parts.push([it]);
      bytes = n;
    } else {
      cur.push(it);
      bytes += n;
    }
  }
  return parts;
}

export interface AccessReviewRow extends ReviewItem {
  readonly decision: ReviewDecision | null;
  readonly reason: string | null;
  readonly reviewer: string | null;
  readonly decidedAt: string | null;
  readonly undecided: boolean;
}

export interface AccessReviewProblem {
  readonly index: number;
  readonly problem: string;
}

export interface AccessReviewReport {
  readonly format: typeof ACCESS_REVIEW_FORMAT;
  readonly reviewId: string;
  readonly name: string | null;
  readonly startedAt: string | null;
  readonly closedAt: string | null;
  readonly closedBy: string | null;
  readonly items: readonly AccessReviewRow[];
  readonly undecided: readonly string[];
  readonly problems: readonly AccessReviewProblem[];
}

function meta(r: LogRecord): Record<string, unknown> {
  const m = r.event.metadata;
  return m && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>) : {};
}

/**
 * The report of review `reviewId` from `system` log records (any order of
 * arrival; sorted by index here). Reviewer and time of a decision are the
 * record's submitter and receivedAt — what the log proves — not claims in
 * the event body.
 */
export function accessReviewReport(reviewId: string, records: readonly LogRecord[]): AccessReviewReport {
  const sorted = [...records].sort((a, b) => a.index - b.index);
  const problems: AccessReviewProblem[] = [];
  // Snapshot parts, wherever they are in the log (they are recorded before the start).
  const parts = new Map<number, ReviewItem[]>();
  for (const r of sorted) {
    const m = meta(r);
    if (m.reviewId !== reviewId || r.event.action !== ACCESS_REVIEW_ITEMS) continue;
    const part = m.part;
    if (!Number.isSafeInteger(part) || (part as number) < 0 || !Array.isArray(m.items))
      problems.push({ index: r.index, problem: 'malformed access_review.items' });
    else if (parts.has(part as number))
      problems.push({ index: r.index, problem: `second snapshot part ${part}` });
    else parts.set(part as number, m.items as unknown as ReviewItem[]);
  }
  let start: LogRecord | undefined;
  let items: ReviewItem[] = [];
  let close: LogRecord | undefined;
  const decided = new Map<
    string,
    { decision: ReviewDecision; reason: string; reviewer: string; at: string }
  >();
  for (const r of sorted) {
    const m = meta(r);
    if (m.reviewId !== reviewId) continue;
    const action = r.event.action;
    if (action === ACCESS_REVIEW_START) {
      if (start) {
        problems.push({ index: r.index, problem: 'second access_review.start' });
        continue;
      }
      start = r;
      items = Array.isArray(m.items) ? [...(m.items as unknown as ReviewItem[])] : [];
      const n = Number.isSafeInteger(m.parts) && (m.parts as number) > 0 ? (m.parts as number) : 0;
      for (let i = 0; i < n; i++) {
        const part = parts.get(i);
        if (part) items.push(...part);
        else problems.push({ index: r.index, problem: `snapshot part ${i} is missing` });
      }
    } else if (action === ACCESS_REVIEW_DECIDE) {
      const pid = m.principalId;
      const d = m.decision;
      if (!start) problems.push({ index: r.index, problem: 'decision before start' });
      else if (close) problems.push({ index: r.index, problem: 'decision after close' });
      else if (typeof pid !== 'string' || !items.some((i) => i.principalId === pid))
        problems.push({ index: r.index, problem: 'decision on an item not in the snapshot' });
      else if (!REVIEW_DECISIONS.includes(d as ReviewDecision))
        problems.push({ index: r.index, problem: 'unknown decision' });
      else if (decided.has(pid)) problems.push({ index: r.index, problem: `second decision on ${pid}` });
      else
        decided.set(pid, {
          decision: d as ReviewDecision,
          reason: typeof m.reason === 'string' ? m.reason : '',
          reviewer: r.submitter,
          at: r.receivedAt,
        });
    } else if (action === ACCESS_REVIEW_CLOSE) {
      if (close) problems.push({ index: r.index, problem: 'second access_review.close' });
      else close = r;
    }
  }
  const seen = new Set<string>();
  const rows: AccessReviewRow[] = [];
  for (const it of items) {
    if (seen.has(it.principalId)) continue;
    seen.add(it.principalId);
    const d = decided.get(it.principalId);
    rows.push({
      ...it,
      decision: d?.decision ?? null,
      reason: d?.reason ?? null,
      reviewer: d?.reviewer ?? null,
      decidedAt: d?.at ?? null,
      undecided: d === undefined,
    });
  }
  const sm = start ? meta(start) : {};
  return {
    format: ACCESS_REVIEW_FORMAT,
    reviewId,
    name: typeof sm.name === 'string' ? sm.name : null,
    startedAt: start?.receivedAt ?? null,
    closedAt: close?.receivedAt ?? null,
    closedBy: close?.submitter ?? null,
    items: rows,
    undecided: rows.filter((r) => r.undecided).map((r) => r.principalId),
    problems,
  };
}

export const ACCESS_REVIEW_COLUMNS = [
  'principalId',
  'name',
  'kind',
  'owner',
  'status',
  'roles',
  'effectiveScopes',
  'keyAgeDays',
  'keyExpiresAt',
  'lastUsedAt',
  'flags',
  'decision',
  'reason',
  'reviewer',
  'decidedAt',
  'undecided',
] as const;

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (Array.isArray(v)) s = v.join(' ');
  // Formula injection (OWASP "CSV injection"): reasons and names are user input.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function accessReviewCsv(report: AccessReviewReport): string {
  const lines = [ACCESS_REVIEW_COLUMNS.join(',')];
  for (const r of report.items) lines.push(ACCESS_REVIEW_COLUMNS.map((c) => csvCell(r[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function accessReviewJson(report: AccessReviewReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
