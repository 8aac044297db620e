/**
 * Principal administration, authentication and authorization (SOC 2 CC6.1,
 * CC6.2, CC6.3; every change is evidence for CC8.1 via the `system` log).
 *
 * ## Every change has exactly one audit record: stage → record → promote
 *
 * A change is applied in three steps, each a single durable write:
 *
 *   1. STAGE   — put the entry with the new state and its audit event in
 *                `pending`, conditional on the revision we read (CAS).
 *                `current` is untouched, so the change has no effect yet.
 *   2. RECORD  — append the audit event to the `system` log through the
 *                AdminAuditSink. The event id is `principal/<id>/v<version>`
 *                and the sink is idempotent on it, so recording twice never
 *                produces two records.
 *   3. PROMOTE — put `current = pending.state`, clear `pending` (CAS again).
 *                Only now does authentication see the change.
 *
 * Crash (or sink failure) analysis:
 *   - before/at STAGE: nothing changed, nothing recorded; the caller got an
 *     error and may retry.
 *   - after STAGE, before RECORD completes: the change is not in effect and
 *     the caller got an error (UNAVAILABLE). The staged change is rolled
 *     FORWARD by the next operation on that principal or by
 *     `recoverPending()` (on a schedule: `principalsRecoveryJob` in
 *     src/compose/principals.ts, every 5 minutes when deployed, on the job
 *     timer in the local stack): RECORD, then PROMOTE. We must
 *     roll forward rather than discard because we cannot know whether the
 *     sink wrote the record before failing; rolling forward is always safe
 *     because RECORD is idempotent.
 *   - after RECORD, before PROMOTE: the log says the change happened; roll
 *     forward makes it so (same code path as above).
 * So no change ever takes effect without its record already being durable in
 * the system log. The cost: while the audit log is unavailable, admin changes
 * fail (and are completed later), and a staged rotation whose caller saw an
 * error will, when rolled forward, retire the old key for a new key nobody
 * holds — retry the rotation to get a usable key (the retry first completes
 * the staged one, then rotates again: two records, both true).
 *
 * Two deliberate exceptions, both failing closed:
 *   - a STAGED revocation already makes authentication fail, because refusing
 *     access early can never grant anything the audit trail does not show;
 *   - a revocation never waits for a staged change that cannot be recorded
 *     (audit log down, or its event id taken): it REPLACES that change, with
 *     a version above both, and its record names the dropped change
 *     (`metadata.supersedes`). Otherwise a change stuck in STAGE would keep a
 *     leaked key alive.
 *
 * ## Binding: authentication trusts only what the system log records
 *
 * Whoever can write `P#<id>` directly (the admin role's credentials) could
 * skip all of the above. So PROMOTE also stores where the record is
 * (`PrincipalState.recorded`: system-log batch and leaf index, from the
 * sink), every principal record carries `metadata.keyCommitment`
 * (src/core/principal.ts `keyCommitment`), and `authenticate` accepts a
 * committed version only if
 *   - the system log holds, at that position, the event
 *     `principal/<id>/v<version>` whose `changes.after` equals the stored
 *     principal (status, scopes, everything) and whose key commitment equals
 *     the stored key's, and
 *   - no record of version + 1 exists (so an item rolled back to an older,
 *     genuinely recorded version is refused).
 * A success is cached per principal by a digest of the whole stored state
 * (any edit of the item misses the cache), for at most `bindingTtlMs`
 * (default 60 s); in the steady state authentication stays one GetItem. The
 * TTL is what bounds a rollback in a container that verified the old version
 * and has not seen the item since: such a container accepts the rolled-back
 * item until its entry expires.
 *
 * What this does not prevent (docs/architecture.md, Authentication): an
 * insider with the admin role can append a forged event to the system log and
 * bind an item to it — but the forgery is then in the hash-chained, sealed
 * log, where an auditor reading principal changes finds it.
 *
 * Concurrency: STAGE is compare-and-swap on the entry revision, so of two
 * concurrent edits one gets CONFLICT; callers may also pass `ifVersion`
 * (e.g. from an HTTP If-Match) so an edit based on a stale read is refused.
 *
 * ## Roles, key expiry, last use (docs/access.md)
 *
 * - A principal names roles; `authenticate` returns it with
 *   `effectiveScopes` = direct scopes ∪ the scopes of the bound current
 *   version of each role (RoleDirectory, src/app/roles.ts), read on every
 *   request, so a role change applies from the next one. Nothing derived
 *   from roles is ever stored in the principal or its audit record.
 * - A key older than its kind's maximum age is refused with KeyExpiredError
 *   (KEY_EXPIRED), checked after the secret, before the binding check.
 * - Last use is recorded beside the entry (PrincipalStore.recordUse), at
 *   most once per principal per interval, never as a principal change, and
 *   never failing the request.
 */

import { bytesEqual, toBase64, toHex } from '../core/bytes.ts';
import { canonicalBytes } from '../core/canonical.ts';
import type { AuditEvent } from '../core/event.ts';
import { sha256 } from '../core/hash.ts';
import {
  BOOTSTRAP_ACTOR_ID,
  constantTimeEqual,
  generatePrincipalId,
  hasScope,
  isPrincipalId,
  issueApiKey,
  type KeyAgeLimits,
  keyCommitment,
  keyExpired,
  keyExpiresAtMs,
  keyIssuedAt,
  type Principal,
  PrincipalError,
  parseApiKey,
  type Scope,
  type ScopeMap,
  scopesEqual,
  validateCreateInput,
  validateUpdateInput,
} from '../core/principal.ts';
import { type DriftFinding, driftOf, effectiveScopes, type Role } from '../core/role.ts';
import { scimUserId } from '../core/scim.ts';
import type { Clock } from '../ports/clock.ts';
import type {
  AuditPosition,
  PendingChange,
  PrincipalEntry,
  PrincipalState,
  PrincipalStore,
} from '../ports/principal-store.ts';
import { AppError } from './errors.ts';
import { withPortErrors } from './port-errors.ts';
import { settleAllStaged } from './staged-changes.ts';

export type AdminAction =
  | 'principal.create'
  | 'principal.rotate'
  | 'principal.revoke'
  | 'principal.scopes.update'
  | 'principal.update'
  | 'principal.bind'
  | 'principal.flag'
  | 'principal.break_glass.use'
  | 'log.create'
  | 'log.policy.set'
  | 'rule.create'
  | 'rule.update'
  | 'rule.enable'
  | 'rule.disable'
  | 'role.create'
  | 'role.update'
  | 'principal.roles.update'
  | 'producer_key.register'
  | 'producer_key.revoke';

/** An Event v1 (docs/formats.md §Events and records) describing one admin change. Never carries secrets or secret hashes. */
export interface AdminAuditEvent {
  /**
   * `principal/<id>/v<version>`, `log/<logId>/create` or `rule/<id>/v<version>`
   * (src/app/rules.ts) or `producer-key/<keyId>/v<version>` (src/app/producer-keys.ts)
   * or `log-policy/<logId>/v<version>` (src/app/log-policy.ts):
   * unique per change, the idempotency key in the `system` log.
   */
  id: string;
  occurredAt: string;
  /** The acting admin principal (`type: 'system'`, id `system:bootstrap` for bootstrap). */
  actor: { type: 'human' | 'agent' | 'service' | 'system'; id: string; name?: string };
  action: AdminAction;
  target: { type: 'principal' | 'log' | 'rule' | 'role' | 'producer_key'; id: string; name: string };
  /** `denied`: a break-glass use refused because break-glass is disabled (the attempt is evidence too). */
  outcome: 'success' | 'denied';
  /** Public views (no secret material), whole rule documents: `before` is `{}` on create. */
  changes: { before: Record<string, unknown>; after: Record<string, unknown> };
  context?: { requestId?: string };
  /**
   * Principal events: `keyCommitment` binds the version to its key (see
   * "Binding" above); `supersedes` names a staged change a revocation
   * replaced; `attests` names the legacy record a `principal.bind` checked.
   */
  metadata?: { keyCommitment?: string; supersedes?: string; attests?: string; route?: string };
}

/**
 * Where admin audit events go: the `system` log, with submitter = actor.id.
 * `record` MUST resolve only once the event is durable, with the position of
 * its record, and MUST be idempotent on `event.id`: recording an event whose
 * id is already in the log with the same content resolves with the existing
 * record's position and adds nothing. It MUST throw AppError CONFLICT when
 * the id is recorded with different content.
 */
export interface AdminAuditSink {
  record(event: AdminAuditEvent): Promise<AuditPosition>;
}

/**
 * Reads the `system` log back: what authentication checks a principal
 * version against. Both calls MUST be strongly consistent with every
 * `record` that resolved before them, and MUST read the committed log (a
 * record is returned only if its bytes verify against the batch that
 * committed them), never a copy the writer of `P#` items controls.
 */
export interface AdminAuditLog {
  /** Where the event with this id is recorded; undefined when it is not. */
  find(eventId: string): Promise<AuditPosition | undefined>;
  /** The event recorded at `at`; undefined when the log holds no record there. */
  read(at: AuditPosition): Promise<AuditEvent | undefined>;
}

export type AuthFailureReason =
  | 'missing'
  | 'malformed'
  | 'ambiguous'
  | 'unknown'
  | 'wrong_secret'
  | 'revoked'
  | 'revocation_pending'
  // Binding failures: the principal item and the system log disagree, so someone wrote the item
  // outside PrincipalService. Each is also reported to `onBindingFailure` (alarm on it).
  /** The committed version carries no system-log position (written outside PROMOTE, or before bindings). */
  | 'unaudited'
  /** The system log holds no record, or a different one, where the version says it is recorded. */
  | 'audit_mismatch'
  /** A later version of the principal is recorded: the item was rolled back. */
  | 'superseded'
  /**
   * The next version is recorded and staged but not promoted yet (the moment
   * between RECORD and PROMOTE, or a crash there until recovery). Refused —
   * the log already says the stored version is over — but not an alarm.
   */
  | 'promotion_pending'
  /** The break-glass admin's key while break-glass is disabled (the attempt is recorded and alerted). */
  | 'break_glass_disabled'
  /** An IAM caller (the admin plane's SigV4 API) that is not an assumed-role session of an active human. */
  | 'iam_unknown';

/**
 * UNAUTHENTICATED with one generic client-facing message; `reason` (and, for
 * binding failures, `principalId`, `version` and `detail`) are for server
 * logs only: they tell an operator why, but would help an attacker enumerate
 * principals if returned.
 */
export class AuthenticationError extends AppError {
  readonly reason: AuthFailureReason;
  readonly principalId: string | undefined;
  readonly version: number | undefined;
  readonly detail: string | undefined;
  constructor(
    reason: AuthFailureReason,
    about: { principalId?: string; version?: number; detail?: string } = {},
  ) {
    super('UNAUTHENTICATED', 'missing or invalid API key');
    this.reason = reason;
    this.principalId = about.principalId;
    this.version = about.version;
    this.detail = about.detail;
  }
}

/**
 * The right key, past the maximum key age of its principal's kind
 * (docs/access.md "Key expiry"). KEY_EXPIRED, 401, with a message saying so:
 * only a caller who presented the correct secret gets here, so telling them
 * why reveals nothing to anyone else, and "rotate the key" is actionable
 * where "invalid key" is not.
 */
export class KeyExpiredError extends AppError {
  readonly reason = 'expired' as const;
  readonly principalId: string;
  constructor(principalId: string, expiredAt: string) {
    super(
      'KEY_EXPIRED',
      `API key expired at ${expiredAt} (older than the maximum key age for its kind); an admin must rotate it`,
    );
    this.principalId = principalId;
  }
}

/** A binding failure, as reported to `onBindingFailure`. */
export interface BindingFailure {
  reason: AuthFailureReason;
  principalId: string;
  version: number;
  detail: string;
}

/**
 * Picks the API key out of request headers (names matched case-insensitively).
 * Accepted: `Authorization: Bearer <key>` and `x-api-key: <key>`. If both are
 * present they must carry the same key; differing keys are refused as
 * ambiguous rather than silently preferring one, because two credentials on
 * one request usually mean a proxy or client bug, and guessing would
 * authenticate as someone the caller may not have meant. Returns the value
 * for `authenticate` (undefined when neither header is present).
 */
export function apiKeyFromHeaders(
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  let auth: string | undefined;
  let xKey: string | undefined;
  for (const [name, raw] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower !== 'authorization' && lower !== 'x-api-key') continue;
    if (raw === undefined) continue;
    if (Array.isArray(raw) && raw.length !== 1) throw new AuthenticationError('ambiguous');
    const value = (Array.isArray(raw) ? raw[0] : raw) ?? '';
    if (lower === 'authorization') auth = value;
    else xKey = value;
  }
  if (auth === undefined) return xKey;
  if (xKey === undefined) return auth;
  const bearer = stripBearer(auth);
  if (bearer === undefined || bearer !== xKey.trim()) throw new AuthenticationError('ambiguous');
  return xKey;
}

function stripBearer(header: string): string | undefined {
  const m = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  return m?.[1];
}

export interface ChangeOptions {
  /** Refuse with CONFLICT unless the principal is at this version. */
  ifVersion?: number;
  /** Copied into the audit event's context. */
  requestId?: string;
}

export interface PrincipalServiceDeps {
  store: PrincipalStore;
  clock: Clock;
  random: (n: number) => Uint8Array;
  audit: AdminAuditSink;
  /** The system log read back (binding checks). */
  auditLog: AdminAuditLog;
  /** How long a verified binding is trusted without re-reading the system log. Default 60 s. */
  bindingTtlMs?: number;
  /** Most principals whose verified binding is cached. Default 10,000. */
  bindingCacheSize?: number;
  /** Called for every binding failure (alarm on it); the request is refused either way. */
  onBindingFailure?: (failure: BindingFailure) => void;
  /**
   * Roles (src/app/roles.ts). Without it principals have their direct scopes
   * only, and naming a role is refused.
   */
  roles?: RoleDirectory;
  /** Maximum key age per kind (config `keyMaxAgeMs`); a kind left out never expires. */
  keyMaxAgeMs?: KeyAgeLimits;
  /** Least time between two recorded uses of one principal. Default one hour. */
  lastUsedIntervalMs?: number;
  /** A failed last-use write (it never fails the request). */
  onUseRecordFailure?: (principalId: string, cause: unknown) => void;
}

/** What principals need from roles (RoleService implements it). */
export interface RoleDirectory {
  /** Bound committed versions of these ids; others absent (they grant nothing). */
  resolve(ids: readonly string[]): Promise<Map<string, Role>>;
  /** The ids among these that name a role with a committed version. */
  existing(ids: readonly string[]): Promise<Set<string>>;
  /** Every bound role, and those the system log does not back. */
  boundRoles(): Promise<{
    roles: Map<string, Role>;
    unbound: Array<{ id: string; version: number; reason: string; detail: string }>;
  }>;
}

/** What a reviewer sees about a principal beyond its record (never stored, computed per read). */
export interface PrincipalAccess {
  /** Direct scopes ∪ the scopes of its roles, as authentication computes them now. */
  effectiveScopes: ScopeMap;
  /** True when the principal holds direct scopes (flagged in reviews and by `roles drift`). */
  directScopes: boolean;
  /** When the current key was issued (creation or last rotation). */
  keyIssuedAt: string;
  /** Whole days since then. */
  keyAgeDays: number;
  /** When the key stops being accepted; absent when its kind has no maximum age. */
  keyExpiresAt?: string;
  keyExpired: boolean;
  /** Last successful authentication, to within `lastUsedIntervalMs` (absent: never, or before tracking). */
  lastUsedAt?: string;
}

export interface DriftReport {
  /** One per active principal with direct scopes or a missing role, in id order. */
  findings: DriftFinding[];
  /** Role versions the system log does not back (they grant nothing until fixed). */
  unboundRoles: Array<{ id: string; version: number; reason: string; detail: string }>;
  /** Active principals examined. */
  principals: number;
}

const GLOBAL = '*';
const BOOTSTRAP_PURPOSE = 'bootstrap administrator created at first deployment';
const MIGRATION_ACTOR = { type: 'system' as const, id: 'system:bind', name: 'audit binding migration' };
const DEFAULT_BINDING_TTL_MS = 60_000;
const DEFAULT_BINDING_CACHE_SIZE = 10_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The id of the audit event recording version `version` of principal `id`. */
export function principalEventId(id: string, version: number): string {
  return `principal/${id}/v${version}`;
}

export class PrincipalService {
  readonly #store: PrincipalStore;
  readonly #clock: Clock;
  readonly #random: (n: number) => Uint8Array;
  readonly #audit: AdminAuditSink;
  readonly #auditLog: AdminAuditLog;
  readonly #bindingTtlMs: number;
  readonly #bindingCacheSize: number;
  readonly #onBindingFailure: (failure: BindingFailure) => void;
  readonly #roles: RoleDirectory | undefined;
  readonly #keyMaxAgeMs: KeyAgeLimits;
  readonly #lastUsedIntervalMs: number;
  readonly #onUseRecordFailure: (principalId: string, cause: unknown) => void;
  /**
   * Principal id → when this instance last recorded (or tried to record) a
   * use. Most requests find a recent entry here and write nothing; the
   * store's conditional write bounds the rest (one write per principal per
   * interval across all instances).
   */
  readonly #usesNoted = new Map<string, number>();
  /**
   * Verified bindings: principal id → digest of the whole stored state
   * (principal, key hash, position) and when it was verified. One entry per
   * principal (its latest verified version); insertion order is age order.
   */
  readonly #verified = new Map<string, { digest: string; at: number }>();

  constructor(deps: PrincipalServiceDeps) {
    // Store failures as AppErrors (src/app/port-errors.ts): a lost
    // compare-and-swap is CONFLICT, which the change protocol below handles.
    this.#store = withPortErrors(deps.store, 'principal store');
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.#audit = deps.audit;
    this.#auditLog = deps.auditLog;
    this.#bindingTtlMs = deps.bindingTtlMs ?? DEFAULT_BINDING_TTL_MS;
    this.#bindingCacheSize = deps.bindingCacheSize ?? DEFAULT_BINDING_CACHE_SIZE;
    this.#onBindingFailure = deps.onBindingFailure ?? (() => {});
    this.#roles = deps.roles;
    this.#keyMaxAgeMs = deps.keyMaxAgeMs ?? {};
    this.#lastUsedIntervalMs = deps.lastUsedIntervalMs ?? HOUR_MS;
    this.#onUseRecordFailure = deps.onUseRecordFailure ?? (() => {});
  }

  // -------------------------------------------------------------------------
  // Authentication and authorization

  /**
   * Accepts a full `Authorization` header value (`Bearer <key>`) or a bare
   * key (from `x-api-key`). Every failure is AuthenticationError with the
   * same message; `.reason` says why. Reads are strongly consistent, so a
   * revocation or rotation that has returned is enforced on the next call.
   * The committed version must be bound to its system-log record ("Binding"
   * above); the log is read only for a caller holding the right key, on a
   * cache miss, so an unauthenticated caller cannot make us read it.
   */
  async authenticate(authorizationHeaderOrKey: string | undefined): Promise<Principal> {
    if (authorizationHeaderOrKey === undefined || authorizationHeaderOrKey.trim() === '') {
      throw new AuthenticationError('missing');
    }
    // Bound attacker-controlled input before doing any work on it.
    if (authorizationHeaderOrKey.length > 1024) throw new AuthenticationError('malformed');
    const value = authorizationHeaderOrKey.trim();
    // Anything with a space must be "Bearer <key>"; other schemes are not ours.
    const key = /\s/.test(value) ? stripBearer(value) : value;
    if (key === undefined) throw new AuthenticationError('malformed');
    let presented: ReturnType<typeof parseApiKey>;
    try {
      presented = parseApiKey(key);
    } catch (err) {
      if (err instanceof PrincipalError) throw new AuthenticationError('malformed');
      throw err;
    }
    const entry = await this.#store.get(presented.principalId);
    const current = entry?.current;
    if (!current) throw new AuthenticationError('unknown');
    const digest = stateDigest(current);
    const cached = this.#verified.get(current.principal.id);
    // The item changed since we verified it (a legitimate change, or an edit we must re-check).
    if (cached && cached.digest !== digest) this.#verified.delete(current.principal.id);
    if (!constantTimeEqual(presented.secretHash, current.secretHash)) {
      throw new AuthenticationError('wrong_secret');
    }
    if (current.principal.status !== 'active') throw new AuthenticationError('revoked');
    if (entry.pending?.state.principal.status === 'revoked') {
      throw new AuthenticationError('revocation_pending');
    }
    const now = this.#clock.now();
    // After the secret check: only the key's holder learns that it expired.
    if (keyExpired(current.principal, this.#keyMaxAgeMs, now)) {
      const at = keyExpiresAtMs(current.principal, this.#keyMaxAgeMs) ?? now;
      throw new KeyExpiredError(current.principal.id, new Date(at).toISOString());
    }
    if (!(cached?.digest === digest && now - cached.at < this.#bindingTtlMs)) {
      await this.#requireBound(current, entry.pending);
      this.#remember(current.principal.id, digest, now);
    }
    const authenticated = await this.#withEffectiveScopes(current.principal);
    await this.#noteUse(current.principal.id, now);
    return authenticated;
  }

  /**
   * Records one use of the break-glass key (docs/deploy.md "Admin plane";
   * src/compose/principals.ts breakGlassGuard calls it for every request
   * the break-glass principal makes, after authentication):
   * `principal.break_glass.use`, outcome `success` or `denied`, which the
   * `anchorlog.admin.break-glass-used` rule alerts on. Throws
   * AuthenticationError `break_glass_disabled` when disabled. A record that
   * cannot be written refuses the request (UNAVAILABLE): an unrecorded use
   * is never let in.
   */
  async recordBreakGlassUse(
    p: Principal,
    enabled: boolean,
    opts: { requestId?: string; route?: string } = {},
  ): Promise<void> {
    const now = this.#now();
    const nonce = toHex(this.#random(8));
    await this.#record({
      id: `break-glass/${p.id}/${now}/${nonce}`,
      occurredAt: now,
      actor: actorOf(p),
      action: 'principal.break_glass.use',
      target: { type: 'principal', id: p.id, name: p.name },
      outcome: enabled ? 'success' : 'denied',
      changes: { before: {}, after: {} },
      ...(opts.requestId ? { context: { requestId: opts.requestId } } : {}),
      ...(opts.route ? { metadata: { route: opts.route } } : {}),
    } satisfies AdminAuditEvent);
    if (!enabled) throw new AuthenticationError('break_glass_disabled', { principalId: p.id });
  }

  /**
   * The admin plane's IAM path (docs/deploy.md "Admin plane"): API Gateway
   * has verified the SigV4 signature and IAM the MFA condition; the caller
   * is `arn:aws:sts::<account>:assumed-role/<role>/<session>`, and the role's
   * trust policy makes the session name the caller's own user name. The
   * principal is the human the identity provider provisioned with that
   * userName (src/core/scim.ts scimUserId), active and bound like any other;
   * anything else is 401 `iam_unknown`.
   */
  async authenticateIamSession(callerArn: string | undefined): Promise<Principal> {
    const m =
      typeof callerArn === 'string' && callerArn.length <= 512
        ? /^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role\/[\w+=,.@-]{1,64}\/([\w+=,.@-]{2,64})$/.exec(callerArn)
        : null;
    const session = m?.[1];
    if (!session) throw new AuthenticationError('iam_unknown');
    const entry = await this.#store.get(scimUserId(session));
    const current = entry?.current;
    const p = current?.principal;
    if (
      !entry ||
      !current ||
      !p ||
      p.kind !== 'human' ||
      p.status !== 'active' ||
      p.idpIdentity?.toLowerCase() !== session.toLowerCase() ||
      entry.pending?.state.principal.status === 'revoked'
    )
      throw new AuthenticationError('iam_unknown');
    const now = this.#clock.now();
    const digest = stateDigest(current);
    const cached = this.#verified.get(p.id);
    if (!(cached?.digest === digest && now - cached.at < this.#bindingTtlMs)) {
      await this.#requireBound(current, entry.pending);
      this.#remember(p.id, digest, now);
    }
    const authenticated = await this.#withEffectiveScopes(p);
    await this.#noteUse(p.id, now);
    return authenticated;
  }

  /**
   * The principal with `effectiveScopes` set: its direct scopes plus the
   * scopes of the bound current version of every role it names (read
   * strongly consistently, so a role change applies from the next request).
   */
  async #withEffectiveScopes(p: Principal): Promise<Principal> {
    const held = p.roles ?? [];
    const roles = held.length > 0 && this.#roles ? await this.#roles.resolve(held) : new Map<string, Role>();
    return { ...p, effectiveScopes: effectiveScopes(p, roles) };
  }

  /**
   * Records the use at most once per principal per interval: no write when
   * this instance recorded one within the interval, else one conditional
   * write that succeeds only if the stored last use is older than the
   * interval (so other instances cannot multiply writes either). A failure
   * is reported and swallowed: last use is review evidence, not access control.
   */
  async #noteUse(id: string, now: number): Promise<void> {
    const noted = this.#usesNoted.get(id);
    if (noted !== undefined && now - noted < this.#lastUsedIntervalMs) return;
    this.#usesNoted.delete(id);
    if (this.#usesNoted.size >= this.#bindingCacheSize) {
      const oldest = this.#usesNoted.keys().next();
      if (!oldest.done) this.#usesNoted.delete(oldest.value);
    }
    this.#usesNoted.set(id, now);
    try {
      await this.#store.recordUse(
        id,
        new Date(now).toISOString(),
        new Date(now - this.#lastUsedIntervalMs + 1).toISOString(),
      );
    } catch (err) {
      this.#onUseRecordFailure(id, err);
    }
  }

  /** Throws FORBIDDEN naming the missing scope. Semantics: `hasScope` in src/core/principal.ts. */
  authorize(principal: Principal, logId: string, scope: Scope): void {
    if (!hasScope(principal, logId, scope)) {
      throw new AppError('FORBIDDEN', `principal ${principal.id} lacks scope ${scope} on log ${logId}`);
    }
  }

  // -------------------------------------------------------------------------
  // Admin use cases (all require `admin` on `*`)

  /** Creates a principal and returns its API key — the only time the key is ever shown. */
  async create(
    actor: Principal,
    input: unknown,
    opts: { requestId?: string } = {},
  ): Promise<{ principal: Principal; apiKey: string }> {
    this.#requireAdmin(actor);
    const valid = badRequestOn(() => validateCreateInput(input));
    await this.#checkRoles(valid.roles);
    if (valid.kind !== 'human') await this.#checkOwner(valid.owner);
    const id = valid.id ?? generatePrincipalId(this.#random);
    return this.#createAs(actorOf(actor), actor.id, { ...valid, id }, opts.requestId);
  }

  /** Every role named must exist (a typo would otherwise grant nothing, silently). */
  async #checkRoles(roles: readonly string[]): Promise<void> {
    if (roles.length === 0) return;
    if (!this.#roles)
      throw new AppError('BAD_REQUEST', 'roles are not available here', {
        path: '/roles',
        details: { reason: 'UNKNOWN_ROLE' },
      });
    const existing = await this.#roles.existing(roles);
    const i = roles.findIndex((r) => !existing.has(r));
    if (i >= 0)
      throw new AppError('BAD_REQUEST', `/roles/${i}: no role ${JSON.stringify(roles[i])}`, {
        path: `/roles/${i}`,
        details: { reason: 'UNKNOWN_ROLE' },
      });
  }

  /** An agent's or application's owner must be an active human principal. */
  async #checkOwner(owner: string): Promise<void> {
    const p = (await this.#store.get(owner))?.current?.principal;
    if (p?.kind !== 'human' || p.status !== 'active')
      throw new AppError(
        'BAD_REQUEST',
        `/owner: ${JSON.stringify(owner)} is not an active human principal; an agent or application must be owned by one`,
        { path: '/owner', details: { reason: 'OWNER_NOT_ACTIVE_HUMAN' } },
      );
  }

  /** A principal and what a reviewer needs about it (effective scopes, key age and expiry, last use). */
  async describe(actor: Principal, id: string): Promise<{ principal: Principal; access: PrincipalAccess }> {
    const principal = await this.get(actor, id);
    const [access] = await this.#accessOf([principal]);
    return { principal, access: access as PrincipalAccess };
  }

  /** `list`, with each principal's access view (keyed by id). */
  async listWithAccess(
    actor: Principal,
    opts: { cursor?: string; limit?: number } = {},
  ): Promise<{ principals: Principal[]; access: Record<string, PrincipalAccess>; cursor?: string }> {
    const page = await this.list(actor, opts);
    const views = await this.#accessOf(page.principals);
    const access: Record<string, PrincipalAccess> = {};
    page.principals.forEach((p, i) => {
      access[p.id] = views[i] as PrincipalAccess;
    });
    return { ...page, access };
  }

  /**
   * `anchorlog roles drift`: every active principal whose effective
   * permissions differ from what its roles grant (direct grants beyond them,
   * or a role that does not exist), plus those holding redundant direct
   * grants, from one pass over principals and bound roles.
   */
  async drift(actor: Principal): Promise<DriftReport> {
    this.#requireAdmin(actor);
    const { roles, unbound } = this.#roles
      ? await this.#roles.boundRoles()
      : { roles: new Map<string, Role>(), unbound: [] };
    const findings: DriftFinding[] = [];
    let principals = 0;
    let cursor: string | undefined;
    do {
      const page = await this.#store.list({ limit: 100, ...(cursor ? { cursor } : {}) });
      for (const e of page.entries) {
        const p = e.current?.principal;
        if (p?.status !== 'active') continue;
        principals++;
        const f = driftOf(p, roles);
        if (f) findings.push(f);
      }
      cursor = page.cursor;
    } while (cursor);
    return { findings, unboundRoles: unbound, principals };
  }

  async #accessOf(principals: readonly Principal[]): Promise<PrincipalAccess[]> {
    const now = this.#clock.now();
    const roleIds = [...new Set(principals.flatMap((p) => p.roles ?? []))];
    const [roles, used] = await Promise.all([
      roleIds.length > 0 && this.#roles ? this.#roles.resolve(roleIds) : new Map<string, Role>(),
      principals.length > 0 ? this.#store.lastUsed(principals.map((p) => p.id)) : new Map<string, string>(),
    ]);
    return principals.map((p) => {
      const issued = keyIssuedAt(p);
      const expiresAt = keyExpiresAtMs(p, this.#keyMaxAgeMs);
      const lastUsedAt = used.get(p.id);
      return {
        effectiveScopes: p.status === 'active' ? effectiveScopes(p, roles) : {},
        directScopes: Object.keys(p.scopes).length > 0,
        keyIssuedAt: issued,
        keyAgeDays: Math.max(0, Math.floor((now - Date.parse(issued)) / DAY_MS)),
        ...(expiresAt !== undefined ? { keyExpiresAt: new Date(expiresAt).toISOString() } : {}),
        keyExpired: keyExpired(p, this.#keyMaxAgeMs, now),
        ...(lastUsedAt ? { lastUsedAt } : {}),
      };
    });
  }

  async list(
    actor: Principal,
    opts: { cursor?: string; limit?: number } = {},
  ): Promise<{ principals: Principal[]; cursor?: string }> {
    this.#requireAdmin(actor);
    const limit = opts.limit ?? 50;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100) {
      throw new AppError('BAD_REQUEST', 'limit must be an integer from 1 to 100', { path: '/limit' });
    }
    const page = await this.#store.list({ limit, ...(opts.cursor ? { cursor: opts.cursor } : {}) });
    const principals = page.entries.flatMap((e) => (e.current ? [e.current.principal] : []));
    return { principals, ...(page.cursor ? { cursor: page.cursor } : {}) };
  }

  async get(actor: Principal, id: string): Promise<Principal> {
    this.#requireAdmin(actor);
    const entry = isPrincipalId(id) ? await this.#store.get(id) : undefined;
    if (!entry?.current) throw notFound(id);
    return entry.current.principal;
  }

  /** Issues a new key; the old key stops working as soon as this resolves. */
  async rotate(
    actor: Principal,
    id: string,
    opts: ChangeOptions = {},
  ): Promise<{ principal: Principal; apiKey: string }> {
    this.#requireAdmin(actor);
    return this.#rotateAs(actorOf(actor), id, opts);
  }

  /**
   * Revokes a principal for good (there is no un-revoke: create a new one).
   * Revoking twice is a no-op. Takes effect even when a staged change cannot
   * be recorded (it replaces that change; see the exceptions above), and as
   * soon as it is staged: if its own record then fails, the error says the
   * revocation is already in effect and the record follows on recovery.
   */
  async revoke(actor: Principal, id: string, opts: ChangeOptions = {}): Promise<Principal> {
    this.#requireAdmin(actor);
    return this.#change(
      actorOf(actor),
      id,
      opts,
      (cur, now) => {
        if (cur.principal.status === 'revoked') return undefined;
        return {
          action: 'principal.revoke',
          state: { ...cur, principal: { ...cur.principal, status: 'revoked', revokedAt: now } },
        };
      },
      { revocation: true },
    );
  }

  /**
   * Revokes a principal on behalf of another use case: the same change as
   * `revoke`, recorded with `actor` (the reviewer, the identity provider) as
   * the actor. Authorization is the caller's, and only these call it: an
   * access-review decision (src/app/access-reviews.ts, after checking
   * `access:review`) and SCIM deprovisioning (src/app/scim.ts, after checking
   * `scim:provision` and that the principal is one SCIM provisioned).
   */
  async revokeAs(
    reviewer: AdminAuditEvent['actor'],
    id: string,
    opts: ChangeOptions = {},
  ): Promise<Principal> {
    return this.#change(
      reviewer,
      id,
      opts,
      (cur, now) =>
        cur.principal.status === 'revoked'
          ? undefined
          : {
              action: 'principal.revoke',
              state: { ...cur, principal: { ...cur.principal, status: 'revoked', revokedAt: now } },
            },
      { revocation: true },
    );
  }

  /**
   * Everything an access-review snapshot needs (src/core/access-review.ts
   * snapshotItems): every principal with a committed version, with its last
   * use, the bound roles and the key-age limits. Authorization is the caller's.
   */
  /**
   * Creates a human principal for an identity provider (src/app/scim.ts,
   * which checks `scim:provision`): no scopes, no roles — access is granted
   * by an admin (roles) — owner and creator the provisioner, the IdP login as
   * `idpIdentity`. Create-only on `id` (CONFLICT if taken). The API key
   * minted with it is not returned: an admin issues one with `rotate`.
   */
  async provisionHuman(
    provisioner: Principal,
    input: { id: string; name: string; idpIdentity: string; idpProfile?: Record<string, unknown> },
    opts: { requestId?: string } = {},
  ): Promise<Principal> {
    const valid = badRequestOn(() =>
      validateCreateInput({
        name: input.name,
        kind: 'human',
        owner: provisioner.id,
        purpose: 'provisioned by the identity provider (SCIM)',
        scopes: {},
        idpIdentity: input.idpIdentity,
      }),
    );
    const { principal } = await this.#createAs(
      actorOf(provisioner),
      provisioner.id,
      { ...valid, id: input.id, ...(input.idpProfile ? { idpProfile: input.idpProfile } : {}) },
      opts.requestId,
    );
    return principal;
  }

  /**
   * A SCIM change to a user it provisioned (src/app/scim.ts checks
   * `scim:provision` and that the principal is a SCIM user): name and
   * profile replaced, and when `deactivate`, revoked in the same change (one
   * `principal.revoke` event; otherwise `principal.update`); `deleted`
   * marks it gone for the identity provider. Nothing changed records
   * nothing. A revoked principal can only be marked deleted.
   */
  async scimUpdateAs(
    provisioner: AdminAuditEvent['actor'],
    id: string,
    change: {
      name: string;
      idpProfile: Record<string, unknown>;
      deactivate: boolean;
      deleted: boolean;
    },
    opts: ChangeOptions = {},
  ): Promise<Principal> {
    const name = badRequestOn(() => validateUpdateInput({ name: change.name }, 'human').name ?? change.name);
    return this.#change(
      provisioner,
      id,
      opts,
      (cur, now) => {
        const p = cur.principal;
        const revoked = p.status === 'revoked';
        const next: Principal = revoked ? { ...p } : { ...p, name, idpProfile: change.idpProfile };
        if (change.deactivate && !revoked) {
          next.status = 'revoked';
          next.revokedAt = now;
        }
        if (change.deleted && p.idpDeletedAt === undefined) next.idpDeletedAt = now;
        if (jsonEqual(view(next), view(p))) return undefined;
        return {
          action: next.status === 'revoked' && !revoked ? 'principal.revoke' : 'principal.update',
          state: { ...cur, principal: next },
        };
      },
      { revocation: change.deactivate },
    );
  }

  /**
   * Replaces the roles of a SCIM user (group membership, src/app/scim.ts,
   * which checks `scim:provision` and that the roles are ones the identity
   * provider may give). Recorded as `principal.roles.update` with the
   * provisioner as actor; equal roles record nothing.
   */
  async setRolesAs(
    provisioner: AdminAuditEvent['actor'],
    id: string,
    roles: readonly string[],
    opts: ChangeOptions = {},
  ): Promise<Principal> {
    const valid = badRequestOn(() => validateUpdateInput({ roles: [...roles] }, 'human'));
    if (valid.roles) await this.#checkRoles(valid.roles);
    return this.#change(provisioner, id, opts, (cur) => {
      const p = cur.principal;
      if (p.status === 'revoked') throw new AppError('CONFLICT', `principal ${id} is revoked`);
      const next = valid.roles ?? [];
      if (next.join(',') === (p.roles ?? []).join(',')) return undefined;
      return { action: 'principal.roles.update', state: { ...cur, principal: { ...p, roles: next } } };
    });
  }

  /**
   * Marks an agent or application whose owner the identity provider
   * deprovisioned (policy `flag`): `ownerDeprovisionedAt` set, recorded as
   * `principal.flag` with the provisioner as actor. Once only; a revoked
   * principal is left alone.
   */
  async flagOwnerDeprovisionedAs(
    provisioner: AdminAuditEvent['actor'],
    id: string,
    opts: ChangeOptions = {},
  ): Promise<Principal> {
    return this.#change(provisioner, id, opts, (cur, now) => {
      const p = cur.principal;
      if (p.status === 'revoked' || p.ownerDeprovisionedAt !== undefined) return undefined;
      return { action: 'principal.flag', state: { ...cur, principal: { ...p, ownerDeprovisionedAt: now } } };
    });
  }

  /** The committed principal `id`, or undefined; no authorization (callers check their own scope). */
  async peek(id: string): Promise<Principal | undefined> {
    return isPrincipalId(id) ? (await this.#store.get(id))?.current?.principal : undefined;
  }

  async reviewSnapshotInput(): Promise<{
    principals: (Principal & { lastUsedAt?: string })[];
    roles: Map<string, Role>;
    limits: KeyAgeLimits;
  }> {
    const { roles } = this.#roles ? await this.#roles.boundRoles() : { roles: new Map<string, Role>() };
    const principals: (Principal & { lastUsedAt?: string })[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#store.list({ limit: 100, ...(cursor ? { cursor } : {}) });
      const ps = page.entries.flatMap((e) => (e.current ? [e.current.principal] : []));
      const used =
        ps.length > 0 ? await this.#store.lastUsed(ps.map((p) => p.id)) : new Map<string, string>();
      for (const p of ps) {
        const at = used.get(p.id);
        principals.push(at ? { ...p, lastUsedAt: at } : p);
      }
      cursor = page.cursor;
    } while (cursor);
    return { principals, roles, limits: this.#keyMaxAgeMs };
  }

  /** Replaces the scope map. Equal scopes are a no-op (no audit event). */
  async updateScopes(
    actor: Principal,
    id: string,
    scopes: unknown,
    opts: ChangeOptions = {},
  ): Promise<Principal> {
    return this.update(actor, id, { scopes }, opts);
  }

  /**
   * PATCH semantics over name/owner/purpose/scopes/roles/idpIdentity; fields
   * left out are kept (`idpIdentity: null` removes it). The action recorded
   * is `principal.scopes.update` or `principal.roles.update` when only that
   * changed, `principal.update` otherwise; nothing changed records nothing.
   */
  async update(actor: Principal, id: string, patch: unknown, opts: ChangeOptions = {}): Promise<Principal> {
    this.#requireAdmin(actor);
    // Kind-dependent rules need the kind: read it first (the change below re-reads under CAS).
    const kind = isPrincipalId(id) ? (await this.#store.get(id))?.current?.principal.kind : undefined;
    const valid = badRequestOn(() => validateUpdateInput(patch, kind));
    if (valid.roles) await this.#checkRoles(valid.roles);
    return this.#change(actorOf(actor), id, opts, async (cur) => {
      const p = cur.principal;
      if (p.status === 'revoked') throw new AppError('CONFLICT', `principal ${id} is revoked`);
      if (valid.owner !== undefined && valid.owner !== p.owner && p.kind !== 'human')
        await this.#checkOwner(valid.owner);
      const next: Principal = {
        ...p,
        name: valid.name ?? p.name,
        owner: valid.owner ?? p.owner,
        purpose: valid.purpose ?? p.purpose,
        scopes: valid.scopes ?? p.scopes,
      };
      if (valid.roles) next.roles = valid.roles;
      if (valid.idpIdentity === null) delete next.idpIdentity;
      else if (valid.idpIdentity !== undefined) next.idpIdentity = valid.idpIdentity;
      const scopesChanged = !scopesEqual(next.scopes, p.scopes);
      const rolesChanged = (next.roles ?? []).join(',') !== (p.roles ?? []).join(',');
      const otherChanged =
        next.name !== p.name ||
        next.owner !== p.owner ||
        next.purpose !== p.purpose ||
        next.idpIdentity !== p.idpIdentity;
      if (!scopesChanged && !rolesChanged && !otherChanged) return undefined;
      const action: AdminAction =
        otherChanged || (scopesChanged && rolesChanged)
          ? 'principal.update'
          : scopesChanged
            ? 'principal.scopes.update'
            : 'principal.roles.update';
      return { action, state: { ...cur, principal: next } };
    });
  }

  /**
   * First deployment / local stack: makes sure principal `id` exists as an
   * active global admin. Idempotent. Returns the key only when this call
   * created it (or completed a bootstrap that crashed before showing its
   * key, which it does by rotating, so that key is usable). Throws CONFLICT
   * if `id` exists but is not an active `admin` on `*`.
   */
  async bootstrapAdmin(input: {
    id: string;
    name: string;
    owner: string;
  }): Promise<{ principal: Principal; apiKey?: string }> {
    const valid = badRequestOn(() =>
      validateCreateInput({
        ...input,
        kind: 'human',
        purpose: BOOTSTRAP_PURPOSE,
        scopes: { [GLOBAL]: ['admin'] },
      }),
    );
    if (valid.id === undefined) throw new AppError('BAD_REQUEST', 'id is required', { path: '/id' });
    const id = valid.id;
    const system = { type: 'system' as const, id: BOOTSTRAP_ACTOR_ID, name: 'bootstrap' };
    const existing = await this.#store.get(id);
    if (!existing) {
      try {
        return await this.#createAs(system, BOOTSTRAP_ACTOR_ID, { ...valid, id }, undefined);
      } catch (err) {
        // A concurrent bootstrap won the race: fall through to "exists".
        if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
      }
    } else if (!existing.current) {
      // Our own earlier bootstrap staged the creation and died before showing the key.
      await this.#settle(existing);
      return this.#rotateAs(system, id, {});
    }
    const principal = await this.#committed(id);
    if (!hasScope(principal, GLOBAL, 'admin')) {
      throw new AppError('CONFLICT', `principal ${id} exists but is not an active admin on *`);
    }
    return { principal };
  }

  /**
   * One-time, audited migration for principals committed before bindings
   * existed (their items have no `recorded` position, so authentication
   * refuses them with `unaudited`). Runs with the admin role's credentials
   * (scripts/bind-principals.ts), as the system actor `system:bind`.
   *
   * An active principal that fails the binding check is bound only if the
   * system log already shows exactly its stored state in a record written
   * before key commitments existed: the record `principal/<id>/v<version>`
   * exists, carries no key commitment, its `changes.after` equals the stored
   * principal, and no later version is recorded. (A record that does carry a
   * commitment is never overridden: an item disagreeing with it was edited.) Then a `principal.bind` change (version + 1, nothing
   * else changed; `metadata.attests` names the record checked) goes through
   * stage → record → promote like any change. Anything else is reported and
   * left unbound (refused): the migration never launders a state the log does
   * not show. Legacy records carry no key commitment, so a key hash swapped
   * before the migration cannot be detected: rotate keys afterwards.
   * Staged changes are completed (which binds them); revoked principals are
   * refused anyway and are skipped. Idempotent.
   */
  async bindLegacy(): Promise<{ bound: string[]; refused: Array<{ id: string; why: string }> }> {
    const bound: string[] = [];
    const refused: Array<{ id: string; why: string }> = [];
    let cursor: string | undefined;
    do {
      const page = await this.#store.list({ limit: 100, ...(cursor ? { cursor } : {}) });
      for (const listed of page.entries) {
        try {
          // A change staged before the upgrade is completed first; its record, written by the
          // older version, has no key commitment, so it is then bound like any legacy version.
          const entry = listed.pending ? await this.#settle(listed) : listed;
          const cur = entry.current;
          if (cur?.principal.status !== 'active') continue;
          if ((await this.#bindingProblem(cur)) === undefined) continue; // already bound
          const why = await this.#legacyProblem(cur);
          if (why) {
            refused.push({ id: entry.id, why });
            continue;
          }
          const checked = stateDigest(cur);
          await this.#change(MIGRATION_ACTOR, entry.id, {}, (c) => {
            if (stateDigest(c) !== checked) {
              throw new AppError(
                'CONFLICT',
                `principal ${entry.id} changed during the migration; run it again`,
              );
            }
            return {
              action: 'principal.bind',
              state: c,
              metadata: { attests: principalEventId(entry.id, c.principal.version) },
            };
          });
          bound.push(entry.id);
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          refused.push({ id: listed.id, why: `${err.code}: ${err.message}` });
        }
      }
      cursor = page.cursor;
    } while (cursor);
    return { bound, refused };
  }

  /**
   * Completes changes that were staged but not promoted (a crash, or the
   * audit sink failing). Safe to run at any time, concurrently with
   * everything; run it on a schedule.
   */
  async recoverPending(): Promise<{ completed: number; failed: number }> {
    return settleAllStaged(
      async (cursor) => {
        const page = await this.#store.list({ limit: 100, ...(cursor ? { cursor } : {}) });
        return { items: page.entries, cursor: page.cursor };
      },
      (entry) => this.#settle(entry),
    );
  }

  // -------------------------------------------------------------------------
  // Internals

  #requireAdmin(actor: Principal): void {
    if (!hasScope(actor, GLOBAL, 'admin')) {
      throw new AppError('FORBIDDEN', `principal ${actor.id} lacks scope admin on log *`);
    }
  }

  #now(): string {
    return new Date(this.#clock.now()).toISOString();
  }

  async #createAs(
    actor: AdminAuditEvent['actor'],
    createdBy: string,
    input: {
      id: string;
      name: string;
      kind: Principal['kind'];
      owner: string;
      purpose: string;
      scopes: Principal['scopes'];
      roles?: string[];
      idpIdentity?: string;
      idpProfile?: Record<string, unknown>;
    },
    requestId: string | undefined,
  ): Promise<{ principal: Principal; apiKey: string }> {
    const now = this.#now();
    const key = issueApiKey(input.id, this.#random);
    const principal: Principal = {
      id: input.id,
      name: input.name,
      kind: input.kind,
      owner: input.owner,
      purpose: input.purpose,
      scopes: input.scopes,
      // Only when given, so a principal made without roles has the same record as before roles existed.
      ...(input.roles && input.roles.length > 0 ? { roles: input.roles } : {}),
      ...(input.idpIdentity !== undefined ? { idpIdentity: input.idpIdentity } : {}),
      ...(input.idpProfile !== undefined && Object.keys(input.idpProfile).length > 0
        ? { idpProfile: input.idpProfile }
        : {}),
      status: 'active',
      keyId: key.keyId,
      version: 1,
      createdAt: now,
      updatedAt: now,
      createdBy,
    };
    const pending: PendingChange = {
      state: { principal, secretHash: key.secretHash },
      audit: {
        ...auditEvent(actor, 'principal.create', undefined, principal, key.secretHash, now, requestId),
      },
    };
    // STAGE (expectedRev 0: only if the id is free; CONFLICT otherwise).
    const rev = await this.#store.put({ id: input.id, pending }, 0);
    await this.#recordAndPromote({ id: input.id, pending, rev });
    return { principal, apiKey: key.apiKey };
  }

  async #rotateAs(
    actor: AdminAuditEvent['actor'],
    id: string,
    opts: ChangeOptions,
  ): Promise<{ principal: Principal; apiKey: string }> {
    let apiKey: string | undefined;
    const principal = await this.#change(actor, id, opts, (cur, now) => {
      if (cur.principal.status === 'revoked') {
        throw new AppError('CONFLICT', `principal ${id} is revoked; create a new principal instead`);
      }
      const key = issueApiKey(id, this.#random);
      apiKey = key.apiKey;
      return {
        action: 'principal.rotate',
        state: {
          principal: { ...cur.principal, keyId: key.keyId, rotatedAt: now },
          secretHash: key.secretHash,
        },
      };
    });
    if (apiKey === undefined) throw new AppError('INTERNAL', 'rotation produced no key');
    return { principal, apiKey };
  }

  /**
   * Read-modify-write of one principal through STAGE → RECORD → PROMOTE.
   * `build` returns the new state (version/updatedAt are set here) or
   * undefined for "nothing to change", which writes and records nothing.
   * A staged change is rolled forward first; for a revocation, one that
   * cannot be rolled forward is replaced instead (fail closed).
   */
  async #change(
    actor: AdminAuditEvent['actor'],
    id: string,
    opts: ChangeOptions,
    build: (
      cur: PrincipalState,
      now: string,
    ) =>
      | { action: AdminAction; state: PrincipalState; metadata?: AdminAuditEvent['metadata'] }
      | undefined
      | Promise<
          { action: AdminAction; state: PrincipalState; metadata?: AdminAuditEvent['metadata'] } | undefined
        >,
    kind: { revocation?: boolean } = {},
  ): Promise<Principal> {
    let entry = isPrincipalId(id) ? await this.#store.get(id) : undefined;
    let replaced: PendingChange | undefined;
    const staged = entry?.pending;
    if (entry && staged) {
      try {
        entry = await this.#settle(entry); // roll a staged change forward first
      } catch (err) {
        if (!kind.revocation || !entry.current || !(err instanceof AppError)) throw err;
        if (staged.state.principal.status === 'revoked') throw revocationInEffect(id, err);
        replaced = staged;
      }
    }
    const cur = entry?.current;
    if (!entry || !cur) throw notFound(id);
    if (opts.ifVersion !== undefined && opts.ifVersion !== cur.principal.version) {
      throw new AppError(
        'CONFLICT',
        `principal ${id} is at version ${cur.principal.version}, not ${opts.ifVersion}; re-read and retry`,
      );
    }
    const now = this.#now();
    const change = await build(cur, now);
    if (!change) return cur.principal;
    // Above the replaced change's version too: its record may exist, and ids are never reused.
    const after: Principal = {
      ...change.state.principal,
      version: Math.max(cur.principal.version, replaced?.state.principal.version ?? 0) + 1,
      updatedAt: now,
    };
    const metadata = {
      ...change.metadata,
      ...(replaced ? { supersedes: String(replaced.audit.id) } : {}),
    };
    const pending: PendingChange = {
      state: { principal: after, secretHash: change.state.secretHash },
      audit: {
        ...auditEvent(
          actor,
          change.action,
          cur.principal,
          after,
          change.state.secretHash,
          now,
          opts.requestId,
          metadata,
        ),
      },
    };
    // STAGE: CAS on the revision we read; a concurrent edit makes this throw CONFLICT.
    const rev = await this.#store.put({ id, current: cur, pending }, entry.rev);
    try {
      await this.#recordAndPromote({ id, current: cur, pending, rev });
    } catch (err) {
      if (kind.revocation && err instanceof AppError) throw revocationInEffect(id, err);
      throw err;
    }
    return after;
  }

  /** RECORD then PROMOTE a staged change that this call staged itself. */
  async #recordAndPromote(entry: PrincipalEntry & { pending: PendingChange }): Promise<void> {
    const recorded = await this.#record(entry.pending.audit);
    const version = entry.pending.state.principal.version;
    try {
      await this.#store.put({ id: entry.id, current: { ...entry.pending.state, recorded } }, entry.rev);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
      // Someone rolled our staged change forward between RECORD and PROMOTE.
      // Versions are only ever assigned under CAS, so if the committed
      // version has reached ours, ours is committed.
      const now = await this.#store.get(entry.id);
      if ((now?.current?.principal.version ?? 0) < version) throw err;
    }
  }

  /** Roll-forward of a staged change (recovery path). Returns the entry after. */
  async #settle(entry: PrincipalEntry): Promise<PrincipalEntry> {
    const pending = entry.pending;
    if (!pending) return entry;
    const recorded = await this.#record(pending.audit);
    const current = { ...pending.state, recorded };
    try {
      const rev = await this.#store.put({ id: entry.id, current }, entry.rev);
      return { id: entry.id, current, rev };
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
      // A concurrent caller settled it first; continue from what is stored now.
      const now = await this.#store.get(entry.id);
      if (!now) throw err;
      if (now.pending) throw new AppError('CONFLICT', `principal ${entry.id} is being changed concurrently`);
      return now;
    }
  }

  async #record(event: Record<string, unknown>): Promise<AuditPosition> {
    try {
      return await this.#audit.record(event as unknown as AdminAuditEvent);
    } catch (err) {
      if (err instanceof AppError && err.code === 'CONFLICT') {
        // Same event id already recorded with different content: the log and the store disagree.
        throw new AppError('INTEGRITY', `audit event ${String(event.id)} conflicts with the system log`, {
          cause: err,
        });
      }
      const retry = err instanceof AppError ? err.retryAfterSeconds : undefined;
      throw new AppError(
        'UNAVAILABLE',
        'the audit log is unavailable, so the change was not applied yet; it is staged and will be completed ' +
          'when the audit log recovers — retry the request',
        { retryAfterSeconds: retry ?? 5, cause: err },
      );
    }
  }

  /**
   * Refuses (AuthenticationError, reported to onBindingFailure) a committed
   * version that the system log does not show exactly as stored.
   */
  async #requireBound(state: PrincipalState, pending: PendingChange | undefined): Promise<void> {
    const problem = await this.#bindingProblem(state, pending);
    if (!problem) return;
    const failure = { ...problem, principalId: state.principal.id, version: state.principal.version };
    if (problem.reason !== 'promotion_pending') this.#onBindingFailure(failure);
    throw new AuthenticationError(problem.reason, failure);
  }

  /**
   * Why the system log does not show `state` exactly as stored; undefined
   * when it does. `pending` is the entry's staged change, which explains a
   * recorded successor while it waits for PROMOTE.
   */
  async #bindingProblem(
    state: PrincipalState,
    pending?: PendingChange,
  ): Promise<{ reason: AuthFailureReason; detail: string } | undefined> {
    const p = state.principal;
    const at = state.recorded;
    if (!at) return { reason: 'unaudited', detail: 'the stored version carries no system-log position' };
    const [event, successor] = await Promise.all([
      this.#auditLog.read(at),
      this.#auditLog.find(principalEventId(p.id, p.version + 1)),
    ]);
    const where = `system log batch ${at.seq}, index ${at.index}`;
    const mismatch = (detail: string) => ({
      reason: 'audit_mismatch' as const,
      detail: `${where}: ${detail}`,
    });
    if (!event) return mismatch('no record there');
    if (event.id !== principalEventId(p.id, p.version) || event.target?.id !== p.id) {
      return mismatch(`it records ${JSON.stringify(event.id)}, not this version`);
    }
    if (!jsonEqual(event.changes?.after, view(p)))
      return mismatch('the recorded principal differs from the stored one');
    if (event.metadata?.keyCommitment !== keyCommitment(state.secretHash)) {
      return mismatch(
        'the recorded key differs from the stored one (or the record predates key commitments)',
      );
    }
    if (successor) {
      const detail = `version ${p.version + 1} is recorded at index ${successor.index}`;
      const staged = pending?.state.principal.version === p.version + 1;
      return staged ? { reason: 'promotion_pending', detail } : { reason: 'superseded', detail };
    }
    return undefined;
  }

  #remember(id: string, digest: string, at: number): void {
    this.#verified.delete(id);
    if (this.#verified.size >= this.#bindingCacheSize) {
      const oldest = this.#verified.keys().next();
      if (!oldest.done) this.#verified.delete(oldest.value);
    }
    this.#verified.set(id, { digest, at });
  }

  /** Why a legacy (unbound) state may not be bound, or undefined when it may. */
  async #legacyProblem(state: PrincipalState): Promise<string | undefined> {
    const p = state.principal;
    const [at, successor] = await Promise.all([
      this.#auditLog.find(principalEventId(p.id, p.version)),
      this.#auditLog.find(principalEventId(p.id, p.version + 1)),
    ]);
    if (!at) return `the system log has no record of version ${p.version}`;
    if (successor) return `a later version (${p.version + 1}) is recorded`;
    const event = await this.#auditLog.read(at);
    if (!event || event.id !== principalEventId(p.id, p.version)) {
      return `the event id index points at a different record (batch ${at.seq}, index ${at.index})`;
    }
    // A record with a commitment was written by a version that binds: the item disagrees with it,
    // and the migration must not override what that record says.
    if (event.metadata?.keyCommitment !== undefined) {
      return `version ${p.version} is recorded with a key commitment that the stored key does not match`;
    }
    if (!jsonEqual(event.changes?.after, view(p))) {
      return `the stored principal differs from what the system log records for version ${p.version}`;
    }
    return undefined;
  }

  async #committed(id: string): Promise<Principal> {
    const entry = await this.#store.get(id);
    if (!entry?.current) throw notFound(id);
    return entry.current.principal;
  }
}

function notFound(id: string): AppError {
  return new AppError('NOT_FOUND', `no principal ${JSON.stringify(id.slice(0, 80))}`);
}

function badRequestOn<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof PrincipalError) {
      throw new AppError('BAD_REQUEST', err.message, { ...(err.path ? { path: err.path } : {}), cause: err });
    }
    throw err;
  }
}

const ACTOR_TYPE: Record<Principal['kind'], AdminAuditEvent['actor']['type']> = {
  human: 'human',
  agent: 'agent',
  application: 'service',
};

/** The audit-event actor for an acting principal. */
export function actorOf(p: Principal): AdminAuditEvent['actor'] {
  return { type: ACTOR_TYPE[p.kind], id: p.id, name: p.name };
}

/** The audit view of a principal: the public fields only (Principal never holds secret material). */
function view(p: Principal): Record<string, unknown> {
  return JSON.parse(JSON.stringify(p));
}

/** Structural equality of two JSON values (RFC 8785 bytes, so key order does not matter). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return false;
  return bytesEqual(canonicalBytes(a), canonicalBytes(b));
}

/** Digest of everything authentication trusts in a stored state: any edit changes it. */
function stateDigest(state: PrincipalState): string {
  return toBase64(
    sha256(
      canonicalBytes({
        principal: view(state.principal),
        secretHash: toBase64(state.secretHash),
        recorded: state.recorded ? [state.recorded.seq, state.recorded.index] : null,
      }),
    ),
  );
}

/** The error a revocation reports when it is staged (so in effect) but not yet recorded. */
function revocationInEffect(id: string, cause: AppError): AppError {
  return new AppError(
    cause.code,
    `principal ${id}: the revocation is in effect (its key is refused), but its audit record is not ` +
      'written yet; it is completed when the audit log recovers (recoverPending), and retrying is safe',
    {
      ...(cause.retryAfterSeconds !== undefined ? { retryAfterSeconds: cause.retryAfterSeconds } : {}),
      cause,
    },
  );
}

function auditEvent(
  actor: AdminAuditEvent['actor'],
  action: AdminAction,
  before: Principal | undefined,
  after: Principal,
  secretHash: Uint8Array,
  occurredAt: string,
  requestId: string | undefined,
  metadata: AdminAuditEvent['metadata'] = {},
): AdminAuditEvent {
  return {
    id: principalEventId(after.id, after.version),
    occurredAt,
    actor,
    action,
    target: { type: 'principal', id: after.id, name: after.name },
    outcome: 'success',
    changes: { before: before ? view(before) : {}, after: view(after) },
    ...(requestId ? { context: { requestId } } : {}),
    metadata: { keyCommitment: keyCommitment(secretHash), ...metadata },
  };
}
