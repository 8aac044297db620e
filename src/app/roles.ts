/**
 * Role management (docs/access.md "Roles"; SOC 2 CC6.1–CC6.3): create,
 * change, read, list and history for principals with `admin` on `*`, and the
 * role lookup authentication uses to compute effective permissions.
 *
 * ## Every change has exactly one audit record: stage → record → promote
 *
 * As for principals and detection rules (src/app/principals.ts,
 * src/app/rules.ts), a change is three single durable writes:
 *
 *   1. STAGE   — RoleStore.stage: the new version and its audit event go on
 *                the role's head as `pending`, conditional on the version
 *                being the committed one + 1 and nothing else staged.
 *                Authentication reads committed versions only, so the change
 *                has no effect yet.
 *   2. RECORD  — the audit event `role.create|update` (id
 *                `role/<id>/v<version>`, the whole role before and after) is
 *                appended to the `system` log, idempotent on the id.
 *   3. PROMOTE — RoleStore.promote: the version item is written and becomes
 *                the committed version, with where its record is.
 *
 * Crash analysis: before or at STAGE nothing changed; after STAGE (before or
 * after RECORD) the change is rolled FORWARD by the next change to that role
 * or by `recoverPending()` (the recovery job), because recording is
 * idempotent and we cannot know whether a failed RECORD wrote. So no version
 * is ever in effect without its record already durable, and no staged change
 * is dropped.
 *
 * ## Binding: a role grants only what the system log says it grants
 *
 * Whoever holds the admin role's credentials can write `G#` items directly.
 * So `resolve` (what authentication calls) counts a committed version only if
 * the record at its `change.recorded` position is its own event whose
 * `changes.after` is exactly the stored role, and no later version is
 * recorded (a rolled-back head) unless it is the change staged right now. A
 * role that fails is left out — it grants nothing — and reported to
 * `onBindingFailure`. Verified versions are cached per role by a digest of
 * the stored version for `bindingTtlMs` (as for principals), so in the steady
 * state a request costs one consistent GetItem per role held and no log read.
 *
 * Roles are never deleted: a role that should grant nothing is changed to
 * `scopes: {}`, so its history, and every principal that names it, stay
 * explainable.
 */
import { bytesEqual, toBase64 } from '../core/bytes.ts';
import { canonicalBytes } from '../core/canonical.ts';
import { sha256 } from '../core/hash.ts';
import { hasScope, type Principal } from '../core/principal.ts';
import {
  isRoleId,
  type Role,
  RoleError,
  type RoleInput,
  sameRoleContent,
  validateRoleInput,
} from '../core/role.ts';
import type { Clock } from '../ports/clock.ts';
import type { AuditPosition } from '../ports/principal-store.ts';
import type { PendingRoleChange, RoleChange, RoleHead, RoleStore, RoleVersion } from '../ports/role-store.ts';
import { AppError } from './errors.ts';
import { withPortErrors } from './port-errors.ts';
import { type AdminAuditEvent, type AdminAuditLog, type AdminAuditSink, actorOf } from './principals.ts';
import { settleAllStaged } from './staged-changes.ts';

export type RoleAction = 'role.create' | 'role.update';

/** A role version as the API shows it. */
export interface RoleView {
  readonly role: Role;
  /** Who made this version, how, when, and where the `system` log records it. */
  readonly change: RoleChange;
  /** A change staged but not yet in effect. */
  readonly pending?: { readonly version: number; readonly action: string };
}

export interface RoleChangeResult {
  readonly view: RoleView;
  /** False when the role already was exactly this (nothing written, nothing recorded). */
  readonly changed: boolean;
  readonly created: boolean;
}

export interface RoleChangeOptions {
  /** Refuse with CONFLICT unless the committed version is this one (0: the role must not exist). */
  ifVersion?: number;
  /** Copied into the audit event's context. */
  requestId?: string;
}

/** A committed role version the `system` log does not back. */
export interface UnboundRole {
  readonly id: string;
  readonly version: number;
  readonly reason: 'audit_mismatch' | 'superseded';
  readonly detail: string;
}

/** What authentication needs from roles: their bound current versions. */
export interface RoleResolver {
  /** The committed, bound version of each id that has one; other ids are absent (they grant nothing). */
  resolve(ids: readonly string[]): Promise<Map<string, Role>>;
}

export interface RoleServiceDeps {
  store: RoleStore;
  audit: AdminAuditSink;
  auditLog: AdminAuditLog;
  clock: Clock;
  /** How long a verified role version is trusted without re-reading the system log. Default 60 s. */
  bindingTtlMs?: number;
  /** Called for every committed role version the system log does not back (alarm on it). */
  onBindingFailure?: (failure: UnboundRole) => void;
}

const DEFAULT_BINDING_TTL_MS = 60_000;
const MAX_CACHED = 10_000;

/** The id of the audit event recording version `version` of role `id` (≤ 78 characters). */
export function roleEventId(id: string, version: number): string {
  return `role/${id}/v${version}`;
}

export class RoleService implements RoleResolver {
  readonly #store: RoleStore;
  readonly #audit: AdminAuditSink;
  readonly #auditLog: AdminAuditLog;
  readonly #clock: Clock;
  readonly #bindingTtlMs: number;
  readonly #onBindingFailure: (failure: UnboundRole) => void;
  /** role id → digest of the verified committed version and when it was verified. */
  readonly #verified = new Map<string, { digest: string; at: number }>();

  constructor(deps: RoleServiceDeps) {
    this.#store = withPortErrors(deps.store, 'role store');
    this.#audit = deps.audit;
    this.#auditLog = deps.auditLog;
    this.#clock = deps.clock;
    this.#bindingTtlMs = deps.bindingTtlMs ?? DEFAULT_BINDING_TTL_MS;
    this.#onBindingFailure = deps.onBindingFailure ?? (() => {});
  }

  /**
   * Creates role `roleId` or changes it to `input` ({ description, purpose,
   * scopes }). Content equal to the committed version changes nothing and
   * records nothing (so applying the same file twice is harmless).
   */
  async put(
    actor: Principal,
    roleId: string,
    input: unknown,
    opts: RoleChangeOptions = {},
  ): Promise<RoleChangeResult> {
    requireAdmin(actor);
    const id = checkId(roleId);
    const content = roleBadRequestOn(() => validateRoleInput(input));
    const cur = (await this.#settled(id))?.current;
    if (opts.ifVersion !== undefined && opts.ifVersion !== (cur?.role.version ?? 0))
      throw new AppError(
        'CONFLICT',
        cur
          ? `role ${id} is at version ${cur.role.version}, not ${opts.ifVersion}; re-read it and retry`
          : `role ${id} does not exist (If-Match ${opts.ifVersion})`,
      );
    if (cur && sameRoleContent(cur.role, content))
      return { view: viewOf(cur), changed: false, created: false };
    const role: Role = { id, version: (cur?.role.version ?? 0) + 1, ...content };
    const version = await this.#apply(actor, cur, role, opts.requestId);
    return { view: viewOf(version), changed: true, created: !cur };
  }

  /** The committed version, or version `opts.version` of the role's history. */
  async get(actor: Principal, roleId: string, opts: { version?: number } = {}): Promise<RoleView> {
    requireAdmin(actor);
    const head = isRoleId(roleId) ? await this.#store.get(roleId) : undefined;
    const cur = head?.current;
    if (!head || !cur) throw notFound(roleId);
    if (opts.version === undefined || opts.version === cur.role.version) return viewOf(cur, head);
    if (!Number.isSafeInteger(opts.version) || opts.version < 1)
      throw new AppError('BAD_REQUEST', 'version must be a positive integer', { path: '/query/version' });
    const v =
      opts.version < cur.role.version ? await this.#store.getVersion(roleId, opts.version) : undefined;
    if (!v) throw new AppError('NOT_FOUND', `role ${roleId} has no version ${opts.version}`);
    return viewOf(v);
  }

  /** Roles in id order, a page at a time (creations still staged are left out). */
  async list(
    actor: Principal,
    opts: { cursor?: string; limit?: number } = {},
  ): Promise<{ roles: RoleView[]; cursor?: string }> {
    requireAdmin(actor);
    const limit = pageLimit(opts.limit);
    const page = await this.#store.list({ limit, ...(opts.cursor ? { cursor: opts.cursor } : {}) });
    const roles = page.heads.flatMap((h) => (h.current ? [viewOf(h.current, h)] : []));
    return { roles, ...(page.cursor ? { cursor: page.cursor } : {}) };
  }

  /** Every committed version of a role, newest first, a page at a time. */
  async history(
    actor: Principal,
    roleId: string,
    opts: { cursor?: string; limit?: number } = {},
  ): Promise<{ versions: RoleView[]; cursor?: string }> {
    requireAdmin(actor);
    const limit = pageLimit(opts.limit);
    const head = isRoleId(roleId) ? await this.#store.get(roleId) : undefined;
    const committed = head?.current?.role.version;
    if (committed === undefined) throw notFound(roleId);
    const page = await this.#store.history(roleId, {
      limit,
      ...(opts.cursor ? { cursor: opts.cursor } : {}),
    });
    const versions = page.versions.filter((v) => v.role.version <= committed).map((v) => viewOf(v));
    return { versions, ...(page.cursor ? { cursor: page.cursor } : {}) };
  }

  /**
   * Every role's bound committed version (for drift), and the versions the
   * system log does not back. Reads the log for every role: an admin
   * operation, not a per-request one.
   */
  async boundRoles(): Promise<{ roles: Map<string, Role>; unbound: UnboundRole[] }> {
    const roles = new Map<string, Role>();
    const unbound: UnboundRole[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#store.list({ limit: 100, ...(cursor ? { cursor } : {}) });
      for (const head of page.heads) {
        const cur = head.current;
        if (!cur) continue;
        const problem = await this.#bindingProblem(cur, head.pending);
        if (problem) unbound.push({ id: head.roleId, version: cur.role.version, ...problem });
        else roles.set(head.roleId, cur.role);
      }
      cursor = page.cursor;
    } while (cursor);
    return { roles, unbound };
  }

  /** Whether each id names a role with a committed version (for validating a principal's role list). */
  async existing(ids: readonly string[]): Promise<Set<string>> {
    const heads = await Promise.all(ids.map((id) => (isRoleId(id) ? this.#store.get(id) : undefined)));
    return new Set(ids.filter((_, i) => heads[i]?.current !== undefined));
  }

  async resolve(ids: readonly string[]): Promise<Map<string, Role>> {
    const out = new Map<string, Role>();
    const heads = await Promise.all(ids.map((id) => (isRoleId(id) ? this.#store.get(id) : undefined)));
    const now = this.#clock.now();
    await Promise.all(
      heads.map(async (head) => {
        const cur = head?.current;
        if (!head || !cur) return; // never created, or its creation is still staged: grants nothing
        const digest = versionDigest(cur);
        const cached = this.#verified.get(head.roleId);
        if (cached?.digest === digest && now - cached.at < this.#bindingTtlMs) {
          out.set(head.roleId, cur.role);
          return;
        }
        const problem = await this.#bindingProblem(cur, head.pending);
        if (problem) {
          this.#verified.delete(head.roleId);
          this.#onBindingFailure({ id: head.roleId, version: cur.role.version, ...problem });
          return; // fail closed: a role the log does not back grants nothing
        }
        if (this.#verified.size >= MAX_CACHED && !this.#verified.has(head.roleId)) {
          const oldest = this.#verified.keys().next();
          if (!oldest.done) this.#verified.delete(oldest.value);
        }
        this.#verified.set(head.roleId, { digest, at: now });
        out.set(head.roleId, cur.role);
      }),
    );
    return out;
  }

  /** Completes changes that were staged but not promoted; the recovery job runs it on a schedule. */
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
  async #settled(roleId: string): Promise<RoleHead | undefined> {
    const head = await this.#store.get(roleId);
    if (!head?.pending) return head;
    try {
      return await this.#settle(head);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'UNAVAILABLE')) throw err;
      throw new AppError(
        'UNAVAILABLE',
        `role ${roleId} has an earlier change (version ${head.pending.role.version}) waiting for its ` +
          'audit record, and the audit log is unavailable; nothing was changed — retry',
        {
          ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
          cause: err,
        },
      );
    }
  }

  /** STAGE → RECORD → PROMOTE of `role` on top of `cur`. */
  async #apply(
    actor: Principal,
    cur: RoleVersion | undefined,
    role: Role,
    requestId: string | undefined,
  ): Promise<RoleVersion> {
    const event: AdminAuditEvent = {
      id: roleEventId(role.id, role.version),
      occurredAt: new Date(this.#clock.now()).toISOString(),
      actor: actorOf(actor),
      action: cur ? 'role.update' : 'role.create',
      target: { type: 'role', id: role.id, name: role.id },
      outcome: 'success',
      changes: { before: cur ? json(cur.role) : {}, after: json(role) },
      ...(requestId ? { context: { requestId } } : {}),
    };
    const pending: PendingRoleChange = { role, audit: { ...event } };
    await this.#store.stage(pending); // CONFLICT when another change got there first
    const settled = await this.#settle({ roleId: role.id, ...(cur ? { current: cur } : {}), pending });
    const now = settled.current;
    if (now?.role.version !== role.version)
      throw new AppError('CONFLICT', `role ${role.id} was changed concurrently; re-read it and retry`);
    return now;
  }

  /** RECORD then PROMOTE a staged change (ours, or one a crash left). Returns the head after. */
  async #settle(head: RoleHead): Promise<RoleHead> {
    const pending = head.pending;
    if (!pending) return head;
    const recorded = await this.#record(pending.audit);
    const version: RoleVersion = { role: pending.role, change: changeOf(pending.audit, recorded) };
    try {
      await this.#store.promote(version);
      return { roleId: head.roleId, current: version };
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
      // Someone rolled the same change forward between our RECORD and PROMOTE.
      const now = await this.#store.get(head.roleId);
      if (now && (now.current?.role.version ?? 0) >= pending.role.version && !now.pending) return now;
      throw new AppError('CONFLICT', `role ${head.roleId} is being changed concurrently; retry`, {
        cause: err,
      });
    }
  }

  async #record(event: Record<string, unknown>): Promise<AuditPosition> {
    try {
      return await this.#audit.record(event as unknown as AdminAuditEvent);
    } catch (err) {
      if (err instanceof AppError && err.code === 'CONFLICT') {
        throw new AppError('INTEGRITY', `audit event ${String(event.id)} conflicts with the system log`, {
          cause: err,
        });
      }
      const retry = err instanceof AppError ? err.retryAfterSeconds : undefined;
      throw new AppError(
        'UNAVAILABLE',
        'the audit log is unavailable, so the role change is not in effect yet; it is staged and will be ' +
          'completed when the audit log recovers — retry the request',
        { retryAfterSeconds: retry ?? 5, cause: err },
      );
    }
  }

  /** Why the `system` log does not back committed version `v`; undefined when it does. */
  async #bindingProblem(
    v: RoleVersion,
    pending: PendingRoleChange | undefined,
  ): Promise<Omit<UnboundRole, 'id' | 'version'> | undefined> {
    const { id, version } = v.role;
    const at = v.change.recorded;
    const [event, successor] = await Promise.all([
      this.#auditLog.read(at),
      this.#auditLog.find(roleEventId(id, version + 1)),
    ]);
    const where = `system log batch ${at.seq}, index ${at.index}`;
    const mismatch = (detail: string) => ({
      reason: 'audit_mismatch' as const,
      detail: `${where}: ${detail}`,
    });
    if (!event) return mismatch('no record there');
    if (event.id !== roleEventId(id, version) || event.target?.type !== 'role' || event.target.id !== id)
      return mismatch(`it records ${JSON.stringify(event.id)}, not version ${version} of this role`);
    const after = event.changes?.after;
    if (after === undefined || !bytesEqual(canonicalBytes(after), canonicalBytes(json(v.role))))
      return mismatch('the recorded role differs from the stored one');
    if (successor && pending?.role.version !== version + 1)
      return {
        reason: 'superseded',
        detail: `version ${version + 1} is recorded at index ${successor.index}`,
      };
    return undefined;
  }
}

function requireAdmin(actor: Principal): void {
  if (!hasScope(actor, '*', 'admin'))
    throw new AppError('FORBIDDEN', `principal ${actor.id} lacks scope admin on log *`);
}

function checkId(roleId: string): string {
  if (!isRoleId(roleId))
    throw new AppError('BAD_REQUEST', 'a role id must match [a-z0-9][a-z0-9._-]{0,63}', {
      path: '/id',
      details: { reason: 'INVALID_ROLE_INPUT' },
    });
  return roleId;
}

/** A RoleError as the 400 it is: its path and, as `reason`, its code. */
export function roleBadRequestOn<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof RoleError)
      throw new AppError('BAD_REQUEST', err.message, {
        path: err.path,
        details: { reason: err.code },
        cause: err,
      });
    throw err;
  }
}

function notFound(roleId: string): AppError {
  return new AppError('NOT_FOUND', `no role ${JSON.stringify(roleId.slice(0, 80))}`);
}

function pageLimit(limit: number | undefined): number {
  const n = limit ?? 50;
  if (!Number.isSafeInteger(n) || n < 1 || n > 100)
    throw new AppError('BAD_REQUEST', 'limit must be an integer from 1 to 100', { path: '/query/limit' });
  return n;
}

function json(role: Role): Record<string, unknown> {
  return JSON.parse(JSON.stringify(role)) as Record<string, unknown>;
}

function versionDigest(v: RoleVersion): string {
  return toBase64(sha256(canonicalBytes(JSON.parse(JSON.stringify(v)))));
}

function changeOf(audit: Record<string, unknown>, recorded: AuditPosition): RoleChange {
  const actor = audit.actor as { id?: unknown } | undefined;
  return {
    action: String(audit.action),
    by: String(actor?.id),
    at: String(audit.occurredAt),
    eventId: String(audit.id),
    recorded: { seq: recorded.seq, index: recorded.index },
  };
}

function viewOf(v: RoleVersion, head?: RoleHead): RoleView {
  const p = head?.pending;
  return {
    role: v.role,
    change: v.change,
    ...(p ? { pending: { version: p.role.version, action: String(p.audit.action) } } : {}),
  };
}

/** The content of a role, for diffing against a file. */
export function contentOf(role: Role): RoleInput {
  return { description: role.description, purpose: role.purpose, scopes: role.scopes };
}
