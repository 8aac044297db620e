/**
 * Detection rule management (docs/detection.md "Managing rules"; SOC 2
 * CC7.2 for what the rules detect, CC8.1 for how they change): create,
 * update, enable, disable, read, list and history, for principals with
 * `admin` on `*`.
 *
 * ## Every change has exactly one audit record: stage → record → promote
 *
 * As for principals (src/app/principals.ts), a change is three single
 * durable writes:
 *
 *   1. STAGE   — RuleStore.stage: the new version and its audit event go on
 *                the rule's head as `pending`, conditional on the version
 *                being the committed one + 1 and nothing else staged. The
 *                committed version is untouched, so evaluation (which loads
 *                committed versions only) does not see the change yet.
 *   2. RECORD  — the audit event `rule.create|update|enable|disable` (id
 *                `rule/<id>/v<version>`, the whole document before and after)
 *                is appended to the `system` log through the AdminAuditSink,
 *                idempotent on the id.
 *   3. PROMOTE — RuleStore.promote: the version item is written and becomes
 *                the committed version, with where its record is.
 *
 * Crash (or sink failure) analysis:
 *   - before or at STAGE: nothing changed, nothing recorded; the caller got
 *     an error and may retry.
 *   - after STAGE, before RECORD completes: not in effect, and the caller got
 *     UNAVAILABLE. The staged change is rolled FORWARD — RECORD, then
 *     PROMOTE — by the next change to that rule or by `recoverPending()` (the
 *     recovery job runs it on a schedule). Forward, not back: we cannot know
 *     whether the sink wrote the record before failing, and recording is
 *     idempotent, so forward is always safe.
 *   - after RECORD, before PROMOTE: the log says the change happened; roll
 *     forward makes it so (same path).
 * So no version is ever committed without its record already durable in the
 * `system` log (no unaudited change), and no change that was staged is ever
 * dropped (no lost change). While the `system` log is unavailable, rule
 * changes fail and are completed later; a rule with a staged change refuses
 * other changes until it is completed.
 *
 * ## Versions
 *
 * A document carries its version; a change must carry the committed version
 * + 1 (1 to create), and the store refuses anything else (CONFLICT), so of
 * two admins editing the same version one wins and the other re-reads.
 * Callers may also pass `ifVersion` (HTTP If-Match): the version their edit
 * is based on. A document equal to the committed one (version aside) changes
 * nothing and records nothing, so applying the same file twice, or retrying
 * a request whose response was lost, is harmless.
 */
import { bytesEqual, toHex } from '../core/bytes.ts';
import { canonicalBytes } from '../core/canonical.ts';
import { compileRule } from '../core/detect/compile.ts';
import { RuleError } from '../core/detect/errors.ts';
import { parseRuleDocument, type RuleDocument } from '../core/detect/rule.ts';
import { EVENT_LIMITS } from '../core/event.ts';
import { sha256 } from '../core/hash.ts';
import { hasScope, type Principal } from '../core/principal.ts';
import { MAX_RECORD_BYTES } from '../core/record.ts';
import type { Clock } from '../ports/clock.ts';
import type { AuditPosition } from '../ports/principal-store.ts';
import {
  type PendingRuleChange,
  RULE_ID_RE,
  type RuleChange,
  type RuleHead,
  type RuleStore,
  type RuleVersion,
} from '../ports/rule-store.ts';
import { AppError } from './errors.ts';
import { withPortErrors } from './port-errors.ts';
import { type AdminAuditEvent, type AdminAuditLog, type AdminAuditSink, actorOf } from './principals.ts';
import { settleAllStaged } from './staged-changes.ts';

export type RuleAction = 'rule.create' | 'rule.update' | 'rule.enable' | 'rule.disable';

/** A rule version as the API shows it. */
export interface RuleView {
  readonly rule: RuleDocument;
  /** Who made this version, how, when, and where the `system` log records it. */
  readonly change: RuleChange;
  /** A change staged but not yet in effect (its record is being written, or the audit log was down). */
  readonly pending?: { readonly version: number; readonly action: string };
}

export interface RuleChangeResult {
  readonly view: RuleView;
  /** True when this call made a new version (false: the document was already in effect). */
  readonly changed: boolean;
  /** True when this call created the rule. */
  readonly created: boolean;
}

export interface RuleChangeOptions {
  /** Refuse with CONFLICT unless the committed version is this one (0: the rule must not exist). */
  ifVersion?: number;
  /** Copied into the audit event's context. */
  requestId?: string;
}

export interface RuleServiceDeps {
  store: RuleStore;
  audit: AdminAuditSink;
  clock: Clock;
  /** The `system` log read back: what `boundRules` checks each version against. */
  auditLog?: AdminAuditLog;
}

/** A committed version the `system` log does not back, as `boundRules` reports it. */
export interface UnboundRule {
  readonly id: string;
  readonly version: number;
  /**
   * `audit_mismatch`: no record at the stored position, or one that says
   * something else; `superseded`: a later version is recorded, so the head
   * was rolled back.
   */
  readonly reason: 'audit_mismatch' | 'superseded';
  readonly detail: string;
}

/**
 * Room a record needs around its event (`v`, `logId`, `index`, `receivedAt`,
 * `submitter`, `prev`): the event itself must fit in MAX_RECORD_BYTES minus
 * this, or the `system` log could not take the audit record of the change.
 */
const RECORD_ENVELOPE_BYTES = 1024;

/** The id of the audit event recording version `version` of rule `id` (≤ 128 characters, as event ids are). */
export function ruleEventId(id: string, version: number): string {
  const plain = `rule/${id}/v${version}`;
  if (plain.length <= EVENT_LIMITS.id) return plain;
  // A long rule id: its start stays readable, a digest keeps ids of different rules apart.
  const digest = toHex(sha256(new TextEncoder().encode(id))).slice(0, 24);
  return `rule/${id.slice(0, 80)}~${digest}/v${version}`;
}

/**
 * Validates untrusted input as a rule document the way the store will hold
 * it: parsed (strict I-JSON for text and bytes), every field checked, every
 * expression compiled. Throws AppError BAD_REQUEST whose `path` is the JSON
 * pointer of the field and whose details carry the RuleError code (`reason`)
 * and, for an expression, its `position` (offset, line, column). Pure: the
 * CLI's `rules validate` runs the same check offline.
 */
export function validateRuleDocument(input: string | Uint8Array | unknown): RuleDocument {
  try {
    const doc = parseRuleDocument(input);
    compileRule(doc);
    return doc;
  } catch (err) {
    throw err instanceof RuleError ? ruleBadRequest(err) : err;
  }
}

/** The 400 for a RuleError: code, JSON pointer and expression position. */
export function ruleBadRequest(err: RuleError): AppError {
  return new AppError('BAD_REQUEST', err.message, {
    ...(err.path ? { path: err.path } : {}),
    details: { reason: err.code, ...(err.position ? { position: { ...err.position } } : {}) },
    cause: err,
  });
}

export class RuleService {
  readonly #store: RuleStore;
  readonly #audit: AdminAuditSink;
  readonly #clock: Clock;

  readonly #auditLog: AdminAuditLog | undefined;

  constructor(deps: RuleServiceDeps) {
    // Store failures as AppErrors (src/app/port-errors.ts): a lost race is CONFLICT (409).
    this.#store = withPortErrors(deps.store, 'rule store');
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#auditLog = deps.auditLog;
  }

  /**
   * Creates or changes rule `ruleId` to the document `input` (text, bytes or
   * a parsed value), whose `id` must be `ruleId` and whose `version` the
   * committed one + 1. The change is `rule.enable`/`rule.disable` when only
   * `enabled` differs, `rule.update` otherwise, `rule.create` for a new rule.
   */
  async put(
    actor: Principal,
    ruleId: string,
    input: unknown,
    opts: RuleChangeOptions = {},
  ): Promise<RuleChangeResult> {
    requireAdmin(actor);
    if (!RULE_ID_RE.test(ruleId))
      throw new AppError('BAD_REQUEST', 'a rule id must match [a-z0-9][a-z0-9._-]{0,127}', { path: '/id' });
    const doc = validateRuleDocument(input);
    if (doc.id !== ruleId)
      throw ruleBadRequest(
        new RuleError(
          'INVALID_FIELD',
          '/id',
          `must be the rule id in the request (${JSON.stringify(ruleId)})`,
        ),
      );
    const cur = (await this.#settled(ruleId))?.current;
    checkIfVersion(ruleId, cur, opts);
    if (cur && sameRule(cur.document, doc)) return { view: viewOf(cur), changed: false, created: false };
    const committed = cur?.document.version ?? 0;
    if (doc.version !== committed + 1)
      throw new AppError(
        'CONFLICT',
        cur
          ? `rule ${ruleId} is at version ${committed}; a change must carry version ${committed + 1} (re-read it and retry)`
          : `rule ${ruleId} does not exist; create it with version 1`,
      );
    const action: RuleAction = !cur
      ? 'rule.create'
      : sameRule(cur.document, { ...doc, enabled: cur.document.enabled })
        ? doc.enabled
          ? 'rule.enable'
          : 'rule.disable'
        : 'rule.update';
    const version = await this.#apply(actor, cur, doc, action, opts.requestId);
    return { view: viewOf(version), changed: true, created: !cur };
  }

  /** Enables or disables a rule: a new version with only `enabled` changed; a no-op if it already is. */
  async setEnabled(
    actor: Principal,
    ruleId: string,
    enabled: boolean,
    opts: RuleChangeOptions = {},
  ): Promise<RuleChangeResult> {
    requireAdmin(actor);
    const cur = RULE_ID_RE.test(ruleId) ? (await this.#settled(ruleId))?.current : undefined;
    if (!cur) throw notFound(ruleId);
    checkIfVersion(ruleId, cur, opts);
    if (cur.document.enabled === enabled) return { view: viewOf(cur), changed: false, created: false };
    const doc: RuleDocument = { ...cur.document, enabled, version: cur.document.version + 1 };
    const version = await this.#apply(
      actor,
      cur,
      doc,
      enabled ? 'rule.enable' : 'rule.disable',
      opts.requestId,
    );
    return { view: viewOf(version), changed: true, created: false };
  }

  /** The committed version, or version `opts.version` of the rule's history. */
  async get(actor: Principal, ruleId: string, opts: { version?: number } = {}): Promise<RuleView> {
    requireAdmin(actor);
    const head = RULE_ID_RE.test(ruleId) ? await this.#store.get(ruleId) : undefined;
    const cur = head?.current;
    if (!head || !cur) throw notFound(ruleId);
    if (opts.version === undefined || opts.version === cur.document.version) return viewOf(cur, head);
    if (!Number.isSafeInteger(opts.version) || opts.version < 1)
      throw new AppError('BAD_REQUEST', 'version must be a positive integer', { path: '/query/version' });
    // A version above the committed one may exist for a moment (promotion in progress): not history yet.
    const v =
      opts.version < cur.document.version ? await this.#store.getVersion(ruleId, opts.version) : undefined;
    if (!v) throw new AppError('NOT_FOUND', `rule ${ruleId} has no version ${opts.version}`);
    return viewOf(v);
  }

  /** Rules in id order, a page at a time (creations still staged are left out). */
  async list(
    actor: Principal,
    opts: { cursor?: string; limit?: number } = {},
  ): Promise<{ rules: RuleView[]; cursor?: string }> {
    requireAdmin(actor);
    const limit = pageLimit(opts.limit);
    const page = await this.#store.list({ limit, ...(opts.cursor ? { cursor: opts.cursor } : {}) });
    const rules = page.heads.flatMap((h) => (h.current ? [viewOf(h.current, h)] : []));
    return { rules, ...(page.cursor ? { cursor: page.cursor } : {}) };
  }

  /** Every committed version of a rule, newest first, a page at a time. */
  async history(
    actor: Principal,
    ruleId: string,
    opts: { cursor?: string; limit?: number } = {},
  ): Promise<{ versions: RuleView[]; cursor?: string }> {
    requireAdmin(actor);
    const limit = pageLimit(opts.limit);
    const head = RULE_ID_RE.test(ruleId) ? await this.#store.get(ruleId) : undefined;
    const committed = head?.current?.document.version;
    if (committed === undefined) throw notFound(ruleId);
    const page = await this.#store.history(ruleId, {
      limit,
      ...(opts.cursor ? { cursor: opts.cursor } : {}),
    });
    const versions = page.versions.filter((v) => v.document.version <= committed).map((v) => viewOf(v));
    return { versions, ...(page.cursor ? { cursor: page.cursor } : {}) };
  }

  /**
   * The committed version of every rule, enabled or not (the engine skips
   * disabled rules but keeps their state); staged changes are not in effect
   * and are left out. Unchecked against the `system` log: the evaluation job
   * loads `boundRules` instead.
   */
  async committedRules(): Promise<RuleDocument[]> {
    const out: RuleDocument[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#store.list({ limit: 100, ...(cursor ? { cursor } : {}) });
      for (const h of page.heads) if (h.current) out.push(h.current.document);
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  /**
   * The committed rules that the `system` log backs, and those it does not.
   * Whoever holds the admin role's credentials can write `R#` items
   * directly, skipping the audit trail; as authentication does for principals
   * (src/app/principals.ts, "Binding"), a version counts only if the record
   * at its `change.recorded` position is its own event (`rule/<id>/v<n>`)
   * whose `changes.after` is exactly the stored document, and no later
   * version is recorded (a rolled-back head) unless it is the change staged
   * right now (between its RECORD and PROMOTE). Two reads of the log per
   * rule: for the evaluation job, which alarms on `unbound` and runs only
   * `rules`. Needs `auditLog`.
   */
  async boundRules(): Promise<{ rules: RuleDocument[]; unbound: UnboundRule[] }> {
    const log = this.#auditLog;
    if (!log) throw new AppError('INTERNAL', 'boundRules needs the system log reader (auditLog)');
    const rules: RuleDocument[] = [];
    const unbound: UnboundRule[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#store.list({ limit: 100, ...(cursor ? { cursor } : {}) });
      for (const head of page.heads) {
        const cur = head.current;
        if (!cur) continue;
        const problem = await bindingProblem(log, cur, head.pending);
        if (problem) unbound.push({ id: head.ruleId, version: cur.document.version, ...problem });
        else rules.push(cur.document);
      }
      cursor = page.cursor;
    } while (cursor);
    return { rules, unbound };
  }

  /**
   * Completes changes that were staged but not promoted (a crash, or the
   * audit sink failing): RECORD, then PROMOTE. Safe at any time, concurrently
   * with everything; the recovery job runs it on a schedule.
   */
  async recoverPending(): Promise<{ completed: number; failed: number }> {
    return settleAllStaged(
      async (cursor) => {
        const page = await this.#store.list({ limit: 100, ...(cursor ? { cursor } : {}) });
        return { items: page.heads, cursor: page.cursor };
      },
      (head) => this.#settle(head),
    );
  }

  // -------------------------------------------------------------------------
  // Internals

  /** The head, with a staged change rolled forward first. */
  async #settled(ruleId: string): Promise<RuleHead | undefined> {
    const head = await this.#store.get(ruleId);
    if (!head?.pending) return head;
    try {
      return await this.#settle(head);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'UNAVAILABLE')) throw err;
      // Not this request's change: an earlier one, still waiting for its audit record.
      throw new AppError(
        'UNAVAILABLE',
        `rule ${ruleId} has an earlier change (version ${head.pending.document.version}) waiting for its ` +
          'audit record, and the audit log is unavailable; nothing was changed — retry',
        {
          ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
          cause: err,
        },
      );
    }
  }

  /** STAGE → RECORD → PROMOTE of version `doc` on top of `cur`. */
  async #apply(
    actor: Principal,
    cur: RuleVersion | undefined,
    doc: RuleDocument,
    action: RuleAction,
    requestId: string | undefined,
  ): Promise<RuleVersion> {
    const event: AdminAuditEvent = {
      id: ruleEventId(doc.id, doc.version),
      occurredAt: new Date(this.#clock.now()).toISOString(),
      actor: actorOf(actor),
      action,
      target: { type: 'rule', id: doc.id, name: doc.title },
      outcome: 'success',
      changes: { before: cur ? json(cur.document) : {}, after: json(doc) },
      ...(requestId ? { context: { requestId } } : {}),
    };
    const size = canonicalBytes(event).length;
    if (size + RECORD_ENVELOPE_BYTES > MAX_RECORD_BYTES)
      throw ruleBadRequest(
        new RuleError(
          'DOCUMENT_TOO_LARGE',
          '',
          `the audit record of this change (the whole rule before and after) would be ${size} bytes; ` +
            `the system log takes records up to ${MAX_RECORD_BYTES} bytes, so keep a rule under about ` +
            `${Math.floor((MAX_RECORD_BYTES - RECORD_ENVELOPE_BYTES) / 2 / 1024)} KiB`,
        ),
      );
    const pending: PendingRuleChange = { document: doc, audit: { ...event } };
    await this.#store.stage(pending); // CONFLICT when another change got there first
    const settled = await this.#settle({ ruleId: doc.id, ...(cur ? { current: cur } : {}), pending });
    const now = settled.current;
    if (now?.document.version !== doc.version)
      throw new AppError('CONFLICT', `rule ${doc.id} was changed concurrently; re-read it and retry`);
    return now;
  }

  /** RECORD then PROMOTE a staged change (ours, or one a crash left). Returns the head after. */
  async #settle(head: RuleHead): Promise<RuleHead> {
    const pending = head.pending;
    if (!pending) return head;
    const recorded = await this.#record(pending.audit);
    const version: RuleVersion = { document: pending.document, change: changeOf(pending.audit, recorded) };
    try {
      await this.#store.promote(version);
      return { ruleId: head.ruleId, current: version };
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
      // Someone rolled the same change forward between our RECORD and PROMOTE. Versions are
      // only ever committed through promote, so if the committed version reached ours, ours is in.
      const now = await this.#store.get(head.ruleId);
      if (now && (now.current?.document.version ?? 0) >= pending.document.version && !now.pending) return now;
      throw new AppError('CONFLICT', `rule ${head.ruleId} is being changed concurrently; retry`, {
        cause: err,
      });
    }
  }

  async #record(event: Record<string, unknown>): Promise<AuditPosition> {
    try {
      return await this.#audit.record(event as unknown as AdminAuditEvent);
    } catch (err) {
      if (err instanceof AppError && err.code === 'CONFLICT') {
        // The same event id is recorded with other content: the log and the store disagree.
        throw new AppError('INTEGRITY', `audit event ${String(event.id)} conflicts with the system log`, {
          cause: err,
        });
      }
      const retry = err instanceof AppError ? err.retryAfterSeconds : undefined;
      throw new AppError(
        'UNAVAILABLE',
        'the audit log is unavailable, so the rule change is not in effect yet; it is staged and will be ' +
          'completed when the audit log recovers — retry the request',
        { retryAfterSeconds: retry ?? 5, cause: err },
      );
    }
  }
}

/** Why the `system` log does not back committed version `v`; undefined when it does. */
async function bindingProblem(
  log: AdminAuditLog,
  v: RuleVersion,
  pending: PendingRuleChange | undefined,
): Promise<Omit<UnboundRule, 'id' | 'version'> | undefined> {
  const { id, version } = v.document;
  const at = v.change.recorded;
  const [event, successor] = await Promise.all([log.read(at), log.find(ruleEventId(id, version + 1))]);
  const where = `system log batch ${at.seq}, index ${at.index}`;
  const mismatch = (detail: string) => ({ reason: 'audit_mismatch' as const, detail: `${where}: ${detail}` });
  if (!event) return mismatch('no record there');
  if (event.id !== ruleEventId(id, version) || event.target?.type !== 'rule' || event.target.id !== id)
    return mismatch(`it records ${JSON.stringify(event.id)}, not version ${version} of this rule`);
  const after = event.changes?.after;
  if (after === undefined || !bytesEqual(canonicalBytes(after), canonicalBytes(v.document)))
    return mismatch('the recorded rule differs from the stored one');
  if (successor && pending?.document.version !== version + 1)
    return { reason: 'superseded', detail: `version ${version + 1} is recorded at index ${successor.index}` };
  return undefined;
}

function requireAdmin(actor: Principal): void {
  if (!hasScope(actor, '*', 'admin'))
    throw new AppError('FORBIDDEN', `principal ${actor.id} lacks scope admin on log *`);
}

function notFound(ruleId: string): AppError {
  return new AppError('NOT_FOUND', `no rule ${JSON.stringify(ruleId.slice(0, 130))}`);
}

function pageLimit(limit: number | undefined): number {
  const n = limit ?? 50;
  if (!Number.isSafeInteger(n) || n < 1 || n > 100)
    throw new AppError('BAD_REQUEST', 'limit must be an integer from 1 to 100', { path: '/query/limit' });
  return n;
}

function checkIfVersion(ruleId: string, cur: RuleVersion | undefined, opts: RuleChangeOptions): void {
  if (opts.ifVersion === undefined) return;
  const committed = cur?.document.version ?? 0;
  if (opts.ifVersion !== committed)
    throw new AppError(
      'CONFLICT',
      cur
        ? `rule ${ruleId} is at version ${committed}, not ${opts.ifVersion}; re-read it and retry`
        : `rule ${ruleId} does not exist (If-Match ${opts.ifVersion})`,
    );
}

/** The document as plain JSON (for the audit event's before/after). */
function json(doc: RuleDocument): Record<string, unknown> {
  return JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
}

/** Equal rules but for the version number (RFC 8785 bytes: key order does not matter). */
function sameRule(a: RuleDocument, b: RuleDocument): boolean {
  return bytesEqual(canonicalBytes({ ...a, version: 0 }), canonicalBytes({ ...b, version: 0 }));
}

function changeOf(audit: Record<string, unknown>, recorded: AuditPosition): RuleChange {
  const actor = audit.actor as { id?: unknown } | undefined;
  return {
    action: String(audit.action),
    by: String(actor?.id),
    at: String(audit.occurredAt),
    eventId: String(audit.id),
    recorded: { seq: recorded.seq, index: recorded.index },
  };
}

function viewOf(v: RuleVersion, head?: RuleHead): RuleView {
  const p = head?.pending;
  return {
    rule: v.document,
    change: v.change,
    ...(p ? { pending: { version: p.document.version, action: String(p.audit.action) } } : {}),
  };
}
