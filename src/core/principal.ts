/**
 * Principals and API keys (SOC 2 CC6.1–CC6.3: logical access, least
 * privilege, credential lifecycle). Pure: randomness and time are passed in.
 *
 * A principal is anything that authenticates — a human operator, an
 * application, an agent — and each holds exactly one API key at a time.
 *
 * API key format (all ASCII):
 *
 *     alk_<principalId>_<secret>
 *
 * - `principalId` is either generated, `p_` + 32 lowercase hex digits
 *   (16 random bytes), or a caller-chosen slug `[a-z0-9][a-z0-9-]{2,62}`.
 *   The two forms cannot collide (slugs have no `_`). Carrying the id in the
 *   key lets authentication find the principal with one strongly consistent
 *   GetItem instead of an index on the secret.
 * - `secret` is 32 random bytes in unpadded base64url: exactly 43 characters.
 *   Because the secret has a fixed length, the key parses unambiguously from
 *   the right even though both the `p_` id form and base64url contain `_`.
 *
 * Only SHA-256(secret bytes) is stored. A slow password KDF (bcrypt, scrypt,
 * Argon2) exists to make guessing *low-entropy* human passwords expensive; a
 * 256-bit uniformly random secret cannot be guessed whatever the hash costs,
 * so a single SHA-256 is as strong here and keeps authentication at one hash
 * per request. Hashes are compared in constant time.
 */
import { concatBytes, fromBase64Url, toBase64Url, toHex, utf8 } from './bytes.ts';
import { AnchorlogError } from './errors.ts';
import { sha256 } from './hash.ts';
import { isValidLogId, LOG_ID_PATTERN } from './names.ts';

export type PrincipalErrorCode = 'INVALID_PRINCIPAL_INPUT' | 'MALFORMED_API_KEY';
export class PrincipalError extends AnchorlogError<PrincipalErrorCode> {
  /** JSON-pointer-ish location of the offending input field, e.g. /scopes/tenant-a/1. */
  readonly path: string | undefined;
  constructor(code: PrincipalErrorCode, message: string, path?: string) {
    super(code, message);
    this.path = path;
  }
}

export const PRINCIPAL_KINDS = ['human', 'application', 'agent'] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

/** In canonical order; scope lists are normalised to this order. */
/**
 * `alerts:review`: list, show, acknowledge and resolve the alerts detection
 * raised on the log (on `*`: every log, and the review report); see
 * docs/detection.md "Reviewing alerts".
 * `access:review` (meaningful on `*` only): start, decide and close access
 * reviews of every principal, including revoking one as a decision; see
 * docs/access.md "Access reviews".
 * `scim:provision` (on `*` only): the identity provider's credential for
 * `/scim/v2/Users` — create human principals, deactivate them; nothing else
 * (docs/access.md "SCIM").
 */
export const SCOPES = [
  'events:write',
  'events:read',
  'proofs:read',
  'export',
  'alerts:review',
  'access:review',
  'scim:provision',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Key of a scope grant: a log id (docs/formats.md §Names), `*` for every
 * log, or a log pattern `<prefix>*` for every log whose id starts with
 * `<prefix>` (e.g. `tenant-*`). A pattern never stands for "every log": a
 * check against `*` (global admin) is satisfied by a grant on `*` only.
 */
export type ScopeTarget = string;

/** A log pattern: a log-id prefix followed by `*` (at most 63 characters in all). */
export const LOG_PATTERN_PATTERN = '[a-z0-9][a-z0-9-]{0,61}\\*';
const LOG_PATTERN_RE = /^[a-z0-9][a-z0-9-]{0,61}\*$/;

export function isLogPattern(target: string): boolean {
  return LOG_PATTERN_RE.test(target);
}

/** Whether a grant on `target` covers log `logId` (exact id, `*`, or a matching pattern). */
export function targetCovers(target: string, logId: string): boolean {
  if (target === '*') return true;
  if (isLogPattern(target)) return logId !== '*' && logId.startsWith(target.slice(0, -1));
  return target === logId;
}
export type ScopeMap = Record<ScopeTarget, Scope[]>;

/**
 * The log that receives admin audit events. It is reserved: only the admin
 * path (PrincipalService and log administration, through SystemLogAuditSink)
 * appends to it. No principal can hold `events:write` on it (validateScopes
 * refuses the grant, hasScope never grants it), because its event ids are
 * predictable (`principal/<id>/v<n>`) and a writer who registered one first
 * could block or impersonate an admin change.
 */
export const SYSTEM_LOG_ID = 'system';

/** Public view of a principal. Never contains secret material or its hash. */
export interface Principal {
  id: string;
  name: string;
  kind: PrincipalKind;
  /**
   * Who answers for this principal. For an agent or an application: the id
   * of a human principal (checked to be an active human when set). For a
   * human: free text (a manager, a team). Principals created before this
   * rule keep whatever text they had (docs/access.md, "Migration").
   */
  owner: string;
  /** Why this principal exists; shown to auditors reviewing access. */
  purpose: string;
  /**
   * Direct grants: scopes given to this principal itself rather than through
   * a role. Allowed only where no role fits; `anchorlog roles drift` and
   * reviews flag them (docs/access.md). Principals created before roles
   * existed hold all their grants here.
   */
  scopes: ScopeMap;
  /**
   * Role ids (sorted, distinct). Absent on principals created before roles
   * existed, which is the same as none. What a role grants is read at
   * authentication time, so a role change reaches every holder on their next
   * request (src/core/role.ts `effectiveScopes`).
   */
  roles?: string[];
  /** Humans only: the identity-provider subject or login (e.g. an email) this principal is. */
  idpIdentity?: string;
  /**
   * Humans provisioned through SCIM only: the user attributes the identity
   * provider sent (name parts, emails, title, department, …), validated
   * against the published schema (src/core/scim.ts). For reviewers; grants
   * nothing.
   */
  idpProfile?: Record<string, unknown>;
  /** SCIM DELETE time: the user is gone for the identity provider (404), revoked here and kept for history. */
  idpDeletedAt?: string;
  /**
   * Agents and applications: when their owner was deprovisioned by the
   * identity provider and the policy is `flag` (config
   * `scimOwnedPrincipals`); access reviews show it.
   */
  ownerDeprovisionedAt?: string;
  /**
   * Runtime only, never stored or recorded: the union of `scopes` and the
   * scopes of `roles`, set by PrincipalService.authenticate. `hasScope`
   * checks this when present and `scopes` otherwise, so a principal that did
   * not come through authentication never gains a role's grants.
   */
  effectiveScopes?: ScopeMap;
  status: 'active' | 'revoked';
  /** Public identifier of the current key (`k_` + 16 hex); changes on rotation. Not derived from the secret. */
  keyId: string;
  /** Starts at 1 on creation; +1 for every committed change. Clients may send it back as a precondition. */
  version: number;
  createdAt: string;
  updatedAt: string;
  rotatedAt?: string;
  revokedAt?: string;
  /** Principal id of the creating admin, or `system:bootstrap`. */
  createdBy: string;
}

export const BOOTSTRAP_ACTOR_ID = 'system:bootstrap';

export interface CreatePrincipalInput {
  id?: string;
  name: string;
  kind: PrincipalKind;
  owner: string;
  purpose: string;
  /** Direct scopes; `{}` when the principal gets everything through roles. */
  scopes: ScopeMap;
  roles: string[];
  idpIdentity?: string;
}

export interface UpdatePrincipalInput {
  name?: string;
  owner?: string;
  purpose?: string;
  scopes?: ScopeMap;
  roles?: string[];
  /** `null` removes it. */
  idpIdentity?: string | null;
}

// ---------------------------------------------------------------------------
// Identifiers

const GENERATED_ID = /^p_[0-9a-f]{32}$/;
const SLUG_ID = /^[a-z0-9][a-z0-9-]{2,62}$/;
const KEY_ID = /^k_[0-9a-f]{16}$/;

export function isPrincipalId(id: string): boolean {
  return GENERATED_ID.test(id) || SLUG_ID.test(id);
}

/** A log id (the one rule in ./names.ts). */
export function isLogId(id: string): boolean {
  return isValidLogId(id);
}

export function isKeyId(id: string): boolean {
  return KEY_ID.test(id);
}

function takeRandom(random: (n: number) => Uint8Array, n: number): Uint8Array {
  const bytes = random(n);
  // A short read from a broken RNG would silently weaken every key.
  if (!(bytes instanceof Uint8Array) || bytes.length !== n) {
    throw new TypeError(`random(${n}) returned ${bytes?.length ?? 'nothing'} bytes`);
  }
  return bytes;
}

export function generatePrincipalId(random: (n: number) => Uint8Array): string {
  return `p_${toHex(takeRandom(random, 16))}`;
}

export function generateKeyId(random: (n: number) => Uint8Array): string {
  return `k_${toHex(takeRandom(random, 8))}`;
}

// ---------------------------------------------------------------------------
// API keys

export const API_KEY_PREFIX = 'alk_';
const SECRET_BYTES = 32;
const SECRET_CHARS = 43; // ceil(32 * 8 / 6), unpadded
/** Longest well-formed key: prefix + 63-char slug + `_` + secret. Anything longer is refused before parsing. */
export const MAX_API_KEY_LENGTH = API_KEY_PREFIX.length + 63 + 1 + SECRET_CHARS;

export interface IssuedKey {
  /** The full key, shown to the caller once and never stored. */
  apiKey: string;
  /** SHA-256 of the secret bytes: the only thing stored. */
  secretHash: Uint8Array;
  keyId: string;
}

export function issueApiKey(principalId: string, random: (n: number) => Uint8Array): IssuedKey {
  if (!isPrincipalId(principalId)) throw new TypeError('issueApiKey: invalid principal id');
  const secret = takeRandom(random, SECRET_BYTES);
  return {
    apiKey: `${API_KEY_PREFIX}${principalId}_${toBase64Url(secret)}`,
    secretHash: sha256(secret),
    keyId: generateKeyId(random),
  };
}

const KEY_COMMITMENT_DOMAIN = utf8('anchorlog principal key commitment v1\n');

/**
 * What an admin audit event says about a principal's key: a domain-separated
 * SHA-256 of the stored secret hash, so the `system` log binds each principal
 * version to exactly one key (an item whose hash was swapped no longer
 * matches its record) without carrying the value authentication compares
 * against. Base64url, 43 characters.
 */
export function keyCommitment(secretHash: Uint8Array): string {
  if (secretHash.length !== 32) throw new TypeError('keyCommitment: secret hash must be 32 bytes');
  return toBase64Url(sha256(concatBytes(KEY_COMMITMENT_DOMAIN, secretHash)));
}

export interface ParsedApiKey {
  principalId: string;
  /** SHA-256 of the presented secret, ready for a constant-time compare with the stored hash. */
  secretHash: Uint8Array;
}

/**
 * Parses a presented key. The input is attacker-controlled: the length is
 * bounded before any other work, only ASCII of the expected shape passes, and
 * the secret must decode to exactly 32 bytes in its one canonical encoding.
 * Error messages never echo the key.
 */
export function parseApiKey(key: string): ParsedApiKey {
  if (typeof key !== 'string' || key.length === 0) {
    throw new PrincipalError('MALFORMED_API_KEY', 'empty API key');
  }
  if (key.length > MAX_API_KEY_LENGTH) throw new PrincipalError('MALFORMED_API_KEY', 'API key too long');
  if (!key.startsWith(API_KEY_PREFIX)) throw new PrincipalError('MALFORMED_API_KEY', 'wrong API key prefix');
  const rest = key.slice(API_KEY_PREFIX.length);
  const sep = rest.length - SECRET_CHARS - 1;
  if (sep < 1 || rest.charAt(sep) !== '_') {
    throw new PrincipalError('MALFORMED_API_KEY', 'API key has the wrong shape');
  }
  const principalId = rest.slice(0, sep);
  if (!isPrincipalId(principalId))
    throw new PrincipalError('MALFORMED_API_KEY', 'invalid principal id in key');
  let secret: Uint8Array;
  try {
    secret = fromBase64Url(rest.slice(sep + 1));
  } catch {
    throw new PrincipalError('MALFORMED_API_KEY', 'invalid secret encoding');
  }
  if (secret.length !== SECRET_BYTES) throw new PrincipalError('MALFORMED_API_KEY', 'invalid secret length');
  return { principalId, secretHash: sha256(secret) };
}

/**
 * Constant-time equality for secret-derived bytes: the running time depends
 * only on the lengths, never on where the first difference is. Lengths are
 * public here (both sides are 32-byte SHA-256 outputs).
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

// ---------------------------------------------------------------------------
// Authorization

/**
 * Whether `principal` may use `scope` on `logId`. Exact semantics:
 *
 * 1. A revoked principal has no scopes.
 * 2. `admin` on `*` implies every scope on every log, and is the only grant
 *    that satisfies a check against `logId = '*'` for `admin` (global admin:
 *    managing principals).
 * 3. A scope listed for `logId` itself, or for a pattern matching it
 *    (`tenant-*`), is granted; `admin` on a log or pattern implies every
 *    scope *on the logs it covers* (never on another log, never global admin).
 * 4. A non-admin scope listed on `*` is granted on every log.
 * 5. A check against `logId = '*'` ("on every log") is satisfied only by
 *    grants on `*` (rules 2 and 4), never by per-log or pattern grants.
 * The grants checked are `effectiveScopes` when set (by authentication:
 * direct scopes plus role scopes), the direct `scopes` otherwise.
 * 6. Overriding all of the above: nobody has `events:write` on the `system`
 *    log — not a global admin, not `admin` or `events:write` on `system`
 *    (such grants are refused at creation; one stored by an older version is
 *    inert). Admin audit events reach it only through the admin path.
 */
export function hasScope(principal: Principal, logId: string, scope: Scope): boolean {
  if (principal.status !== 'active') return false;
  if (scope === 'events:write' && logId === SYSTEM_LOG_ID) return false;
  const scopes = principal.effectiveScopes ?? principal.scopes;
  const wildcard = grantsOn(scopes, '*');
  if (wildcard.includes('admin')) return true;
  if (logId !== '*') {
    for (const target of Object.keys(scopes)) {
      if (target === '*' || !targetCovers(target, logId)) continue;
      const own = grantsOn(scopes, target);
      if (own.includes(scope) || own.includes('admin')) return true;
    }
  }
  if (scope === 'admin') return false;
  return wildcard.includes(scope);
}

/**
 * Own properties only: `constructor` and `toString` are valid log ids, and a
 * plain lookup would find Object.prototype's functions instead of a grant.
 */
function grantsOn(scopes: ScopeMap, target: string): readonly string[] {
  const list = Object.hasOwn(scopes, target) ? scopes[target] : undefined;
  return Array.isArray(list) ? list : [];
}

// ---------------------------------------------------------------------------
// Input validation (attacker-controlled JSON from the admin API)

const MAX_SCOPE_TARGETS = 64;
const TEXT_LIMITS = { name: 128, owner: 256, purpose: 1024 } as const;
// C0/C1 controls and line/paragraph separators: they forge log lines and confuse terminals.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function fail(path: string, message: string): never {
  throw new PrincipalError('INVALID_PRINCIPAL_INPUT', `${path}: ${message}`, path);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], base: string): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) fail(`${base}/${k}`, 'unknown field');
}

function text(v: unknown, field: keyof typeof TEXT_LIMITS): string {
  const path = `/${field}`;
  if (typeof v !== 'string') fail(path, 'must be a string');
  const s = v.trim();
  if (s.length === 0) fail(path, 'must not be empty');
  if (s.length > TEXT_LIMITS[field]) fail(path, `must be at most ${TEXT_LIMITS[field]} characters`);
  if (CONTROL.test(s)) fail(path, 'must not contain control characters');
  return s;
}

/**
 * Validates a scope map and returns it normalised: targets sorted, each
 * scope list deduplicated into canonical order, so equal grants compare
 * equal and audit before/after values are stable.
 */
export function validateScopes(v: unknown, path = '/scopes'): ScopeMap {
  if (!isPlainObject(v)) fail(path, 'must be an object of { logId | "*": [scope…] }');
  const targets = Object.keys(v);
  if (targets.length > MAX_SCOPE_TARGETS) fail(path, `at most ${MAX_SCOPE_TARGETS} logs`);
  const out: ScopeMap = {};
  for (const target of targets.sort()) {
    const tp = `${path}/${target}`;
    if (target !== '*' && !isLogId(target) && !isLogPattern(target))
      fail(tp, `must be a log id (${LOG_ID_PATTERN}), a log pattern (<log id prefix>*) or "*"`);
    const list = v[target];
    if (!Array.isArray(list)) fail(tp, 'must be an array of scopes');
    if (list.length === 0) fail(tp, 'must grant at least one scope (omit the log instead)');
    if (list.length > SCOPES.length * 2) fail(tp, 'too many entries');
    list.forEach((s, i) => {
      if (typeof s !== 'string' || !(SCOPES as readonly string[]).includes(s)) {
        fail(`${tp}/${i}`, `must be one of ${SCOPES.join(', ')}`);
      }
      if (target === SYSTEM_LOG_ID && s === 'events:write') {
        fail(`${tp}/${i}`, 'the system log is reserved for admin audit events; nobody may write it');
      }
    });
    out[target] = SCOPES.filter((s) => list.includes(s));
  }
  return out;
}

/** A role id: also its name in files and on the command line. */
export const ROLE_ID_PATTERN = '[a-z0-9][a-z0-9._-]{0,63}';
const ROLE_ID_RE = new RegExp(`^${ROLE_ID_PATTERN}$`);
export function isRoleId(v: unknown): v is string {
  return typeof v === 'string' && ROLE_ID_RE.test(v);
}
/** Most roles one principal may hold (each is one read at authentication). */
export const MAX_ROLES_PER_PRINCIPAL = 16;

/** A role list, normalised: sorted, distinct. */
export function validateRoleList(v: unknown, path = '/roles'): string[] {
  if (!Array.isArray(v)) fail(path, 'must be an array of role ids');
  if (v.length > MAX_ROLES_PER_PRINCIPAL) fail(path, `at most ${MAX_ROLES_PER_PRINCIPAL} roles`);
  v.forEach((r, i) => {
    if (!isRoleId(r)) fail(`${path}/${i}`, `must be a role id (${ROLE_ID_PATTERN})`);
  });
  return [...new Set(v as string[])].sort();
}

const IDP_IDENTITY_MAX = 256;
// Visible ASCII plus non-control Unicode, no spaces at the ends: an email, a SAML NameID, an OIDC `sub`.
function idpIdentity(v: unknown): string {
  const path = '/idpIdentity';
  if (typeof v !== 'string') fail(path, 'must be a string');
  const s = v.trim();
  if (s.length === 0) fail(path, 'must not be empty');
  if (s.length > IDP_IDENTITY_MAX) fail(path, `must be at most ${IDP_IDENTITY_MAX} characters`);
  if (CONTROL.test(s)) fail(path, 'must not contain control characters');
  return s;
}

/**
 * Syntax of `owner` for a kind: an agent or application is owned by a human
 * principal, so its owner must be a principal id (the use case checks that
 * it exists, is a human and is active); a human's owner is free text.
 */
function ownerFor(kind: PrincipalKind, v: unknown): string {
  const owner = text(v, 'owner');
  if (kind !== 'human' && !isPrincipalId(owner))
    fail('/owner', `an ${kind} must be owned by a human principal: give that principal's id`);
  return owner;
}

export function validateCreateInput(v: unknown): CreatePrincipalInput {
  if (!isPlainObject(v)) fail('', 'body must be a JSON object');
  checkKeys(v, ['id', 'name', 'kind', 'owner', 'purpose', 'scopes', 'roles', 'idpIdentity'], '');
  if (typeof v.kind !== 'string' || !(PRINCIPAL_KINDS as readonly string[]).includes(v.kind)) {
    fail('/kind', `must be one of ${PRINCIPAL_KINDS.join(', ')}`);
  }
  const kind = v.kind as PrincipalKind;
  const out: CreatePrincipalInput = {
    name: text(v.name, 'name'),
    kind,
    owner: ownerFor(kind, v.owner),
    purpose: text(v.purpose, 'purpose'),
    scopes: v.scopes === undefined ? {} : validateScopes(v.scopes),
    roles: v.roles === undefined ? [] : validateRoleList(v.roles),
  };
  if (v.idpIdentity !== undefined) {
    if (kind !== 'human') fail('/idpIdentity', 'only a human has an identity-provider identity');
    out.idpIdentity = idpIdentity(v.idpIdentity);
  }
  if (v.id !== undefined) {
    if (typeof v.id !== 'string' || !SLUG_ID.test(v.id)) {
      // Callers choose slugs only; the p_ form is reserved for generated ids.
      fail('/id', 'must match [a-z0-9][a-z0-9-]{2,62}');
    }
    out.id = v.id;
  }
  return out;
}

/**
 * A PATCH body. Kind-dependent rules (an agent's owner is a principal id,
 * only humans have an idpIdentity) need the principal's kind: pass it.
 */
export function validateUpdateInput(v: unknown, kind?: PrincipalKind): UpdatePrincipalInput {
  if (!isPlainObject(v)) fail('', 'body must be a JSON object');
  checkKeys(v, ['name', 'owner', 'purpose', 'scopes', 'roles', 'idpIdentity'], '');
  const out: UpdatePrincipalInput = {};
  if (v.name !== undefined) out.name = text(v.name, 'name');
  if (v.owner !== undefined) out.owner = kind ? ownerFor(kind, v.owner) : text(v.owner, 'owner');
  if (v.purpose !== undefined) out.purpose = text(v.purpose, 'purpose');
  if (v.scopes !== undefined) out.scopes = validateScopes(v.scopes);
  if (v.roles !== undefined) out.roles = validateRoleList(v.roles);
  if (v.idpIdentity !== undefined) {
    if (kind !== undefined && kind !== 'human')
      fail('/idpIdentity', 'only a human has an identity-provider identity');
    out.idpIdentity = v.idpIdentity === null ? null : idpIdentity(v.idpIdentity);
  }
  if (Object.keys(out).length === 0)
    fail('', 'nothing to update: give name, owner, purpose, scopes, roles or idpIdentity');
  return out;
}

// ---------------------------------------------------------------------------
// Key age and expiry

/**
 * Maximum key age per kind, in milliseconds; a kind left out (or 0) has no
 * limit. `countFrom` (epoch ms): a key issued before it ages from then, not
 * from its issue — so keys issued before expiry was introduced get one full
 * period after it instead of being refused on the day of the upgrade.
 */
export interface KeyAgeLimits {
  human?: number;
  application?: number;
  agent?: number;
  countFrom?: number;
}

/** When expiry was introduced: the default `countFrom` (docs/access.md "Key expiry"). */
export const KEY_EXPIRY_INTRODUCED_MS = Date.UTC(2026, 11, 1);

/** When the current key was issued: the last rotation, or the creation. */
export function keyIssuedAt(p: Principal): string {
  return p.rotatedAt ?? p.createdAt;
}

/**
 * When the current key stops being accepted, as epoch ms; undefined when
 * the kind has no limit or the issue time does not parse (a stored principal
 * without a readable time is not locked out by a clock-format bug; the
 * binding check already vouches for what is stored).
 */
export function keyExpiresAtMs(p: Principal, limits: KeyAgeLimits): number | undefined {
  const max = limits[p.kind];
  if (max === undefined || max <= 0) return undefined;
  const issued = Date.parse(keyIssuedAt(p));
  if (!Number.isFinite(issued)) return undefined;
  return Math.max(issued, limits.countFrom ?? Number.NEGATIVE_INFINITY) + max;
}

/** Whether the key is past its maximum age at `nowMs`. The last valid instant is expiresAt − 1 ms. */
export function keyExpired(p: Principal, limits: KeyAgeLimits, nowMs: number): boolean {
  const at = keyExpiresAtMs(p, limits);
  return at !== undefined && nowMs >= at;
}

/** Structural equality of two normalised scope maps. */
export function scopesEqual(a: ScopeMap, b: ScopeMap): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.length !== kb.length) return false;
  return ka.every((k, i) => {
    const x = a[k] ?? [];
    const y = b[kb[i] as string] ?? [];
    return k === kb[i] && x.length === y.length && x.every((s, j) => s === y[j]);
  });
}
