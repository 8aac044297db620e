/**
 * Roles (SOC 2 CC6.1–CC6.3: job function → permissions, in writing, matching
 * configuration). Pure.
 *
 * A role is a named, described, versioned permission set: scopes on logs,
 * log patterns (`tenant-*`) or every log (`*`), with the purpose it serves.
 * Principals hold roles and, only where no role fits, direct scopes. What a
 * principal may do is `effectiveScopes`: the union of its direct scopes and
 * the scopes of its roles, computed at authentication from the roles' current
 * versions — nothing is copied into the principal, so a role change reaches
 * every holder on their next request and there is no materialised copy that
 * can go stale.
 *
 * Drift (`driftOf`) is therefore about what is *not* explained by roles: a
 * principal whose effective permissions differ from what its roles grant
 * holds a direct grant no role gives, or names a role that does not exist
 * (which grants nothing). Direct grants a role already gives change nothing
 * but are reported too, so they can be removed. docs/access.md.
 */
import { AnchorlogError } from './errors.ts';
import {
  isRoleId,
  type Principal,
  PrincipalError,
  ROLE_ID_PATTERN,
  SCOPES,
  type Scope,
  type ScopeMap,
  validateScopes,
} from './principal.ts';

export { isRoleId, ROLE_ID_PATTERN } from './principal.ts';

export type RoleErrorCode = 'INVALID_ROLE_INPUT';
export class RoleError extends AnchorlogError<RoleErrorCode> {
  /** JSON pointer of the offending field ('' for the document). */
  readonly path: string;
  constructor(code: RoleErrorCode, message: string, path: string) {
    super(code, message);
    this.path = path;
  }
}

/** One version of a role: what is stored, recorded in the `system` log and declared in roles files. */
export interface Role {
  /** The role's name: `[a-z0-9][a-z0-9._-]{0,63}`. */
  id: string;
  /** 1 on creation, +1 per committed change. Assigned by the service, never by the caller. */
  version: number;
  /** What holders of the role do (the job function). */
  description: string;
  /** Why the role exists: what an auditor reads when reviewing who holds it. */
  purpose: string;
  /** Normalised as `validateScopes` returns it. May be empty (a role retired by granting nothing). */
  scopes: ScopeMap;
}

/** What a caller gives for a role: everything but the id (from the path or file) and the version. */
export interface RoleInput {
  description: string;
  purpose: string;
  scopes: ScopeMap;
}

const TEXT_MAX = 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function fail(path: string, message: string): never {
  throw new RoleError('INVALID_ROLE_INPUT', `${path || 'body'}: ${message}`, path);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, 'must be a string');
  const s = v.trim();
  if (s.length === 0) fail(path, 'must not be empty');
  if (s.length > TEXT_MAX) fail(path, `must be at most ${TEXT_MAX} characters`);
  if (CONTROL.test(s)) fail(path, 'must not contain control characters');
  return s;
}

/** Validates a role id (a path parameter, a file entry's `id`). */
export function validateRoleId(v: unknown, path = '/id'): string {
  if (!isRoleId(v)) fail(path, `must be a role id (${ROLE_ID_PATTERN})`);
  return v;
}

/**
 * Validates untrusted role input (an API body, one entry of a roles file)
 * and returns it normalised. `base` prefixes every error path. Keys other
 * than description, purpose and scopes are refused (`id` too, unless
 * `allowId`: a roles file names each role inside its entry).
 */
export function validateRoleInput(v: unknown, base = '', allowId = false): RoleInput {
  if (!isPlainObject(v)) fail(base, 'must be a JSON object');
  const allowed = allowId ? ['id', 'description', 'purpose', 'scopes'] : ['description', 'purpose', 'scopes'];
  for (const k of Object.keys(v)) if (!allowed.includes(k)) fail(`${base}/${k}`, 'unknown field');
  const description = text(v.description, `${base}/description`);
  const purpose = text(v.purpose, `${base}/purpose`);
  if (v.scopes === undefined) fail(`${base}/scopes`, 'is required ({} for a role that grants nothing)');
  try {
    return { description, purpose, scopes: validateScopes(v.scopes, `${base}/scopes`) };
  } catch (err) {
    // The one scope-map rule (src/core/principal.ts), reported as a role error with its path.
    if (!(err instanceof PrincipalError)) throw err;
    throw new RoleError('INVALID_ROLE_INPUT', err.message, err.path ?? `${base}/scopes`);
  }
}

/** Whether two inputs describe the same role (scopes are normalised, so structural equality is enough). */
export function sameRoleContent(a: RoleInput, b: RoleInput): boolean {
  return a.description === b.description && a.purpose === b.purpose && scopeMapsEqual(a.scopes, b.scopes);
}

// ---------------------------------------------------------------------------
// Effective permissions

/** Own properties only (`constructor` is a valid log id). */
function on(scopes: ScopeMap, target: string): readonly Scope[] {
  const list = Object.hasOwn(scopes, target) ? scopes[target] : undefined;
  return Array.isArray(list) ? list : [];
}

/**
 * The union of scope maps, normalised like validateScopes output (targets
 * sorted, each list in canonical SCOPES order, no duplicates). Commutative,
 * associative and idempotent; `{}` is its identity.
 */
export function unionScopes(...maps: readonly ScopeMap[]): ScopeMap {
  const acc = new Map<string, Set<Scope>>();
  for (const m of maps)
    for (const target of Object.keys(m)) {
      const set = acc.get(target) ?? new Set<Scope>();
      for (const s of on(m, target)) set.add(s);
      if (set.size > 0) acc.set(target, set);
    }
  const out: ScopeMap = {};
  for (const target of [...acc.keys()].sort()) {
    const set = acc.get(target) as Set<Scope>;
    out[target] = SCOPES.filter((s) => set.has(s));
  }
  return out;
}

/** Grants of `a` not in `b`, per (target, scope) pair; normalised. */
export function scopeDifference(a: ScopeMap, b: ScopeMap): ScopeMap {
  const out: ScopeMap = {};
  for (const target of Object.keys(a).sort()) {
    const extra = on(a, target).filter((s) => !on(b, target).includes(s));
    if (extra.length > 0) out[target] = SCOPES.filter((s) => extra.includes(s));
  }
  return out;
}

export function scopeMapsEqual(a: ScopeMap, b: ScopeMap): boolean {
  const ka = Object.keys(a).filter((k) => on(a, k).length > 0);
  const kb = Object.keys(b).filter((k) => on(b, k).length > 0);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => {
    const x = new Set(on(a, k));
    const y = on(b, k);
    return y.length > 0 && y.length === x.size && y.every((s) => x.has(s));
  });
}

/**
 * What a principal may do: its direct scopes plus the scopes of every role
 * it names that exists. A role id with no role (never created, or whose
 * version the system log does not back, which the caller leaves out of
 * `roles`) grants nothing: unknown means no access.
 */
export function effectiveScopes(
  principal: Pick<Principal, 'scopes' | 'roles'>,
  roles: ReadonlyMap<string, Pick<Role, 'scopes'>>,
): ScopeMap {
  const granted = (principal.roles ?? []).flatMap((id) => {
    const role = roles.get(id);
    return role ? [role.scopes] : [];
  });
  return unionScopes(principal.scopes, ...granted);
}

/** What a principal's roles alone grant (no direct scopes). */
export function roleGrantedScopes(
  principal: Pick<Principal, 'roles'>,
  roles: ReadonlyMap<string, Pick<Role, 'scopes'>>,
): ScopeMap {
  return effectiveScopes({ scopes: {}, roles: principal.roles ?? [] }, roles);
}

// ---------------------------------------------------------------------------
// Drift

export type DriftReason =
  /** A direct grant no role gives: effective permissions exceed what the roles grant. */
  | 'direct-grants'
  /** The principal names a role that does not exist (it grants nothing). */
  | 'missing-role'
  /** Direct grants that roles already give: no effect on access, but they should go. */
  | 'redundant-direct';

export interface DriftFinding {
  principalId: string;
  name: string;
  kind: Principal['kind'];
  roles: string[];
  /** Sorted: `direct-grants` and `missing-role` are drift; `redundant-direct` alone is not. */
  reasons: DriftReason[];
  /** The principal's direct scopes, as stored. */
  directScopes: ScopeMap;
  /** Effective minus role-granted: exactly what the direct scopes add. */
  beyondRoles: ScopeMap;
  /** Role ids named but not found. */
  missingRoles: string[];
}

/**
 * How a principal's effective permissions differ from what its roles grant;
 * undefined when they do not and it holds no direct scope. Revoked principals
 * have no permissions at all, so they never drift.
 */
export function driftOf(
  principal: Principal,
  roles: ReadonlyMap<string, Pick<Role, 'scopes'>>,
): DriftFinding | undefined {
  if (principal.status !== 'active') return undefined;
  const named = principal.roles ?? [];
  const missingRoles = named.filter((id) => !roles.has(id));
  const direct = unionScopes(principal.scopes);
  const granted = roleGrantedScopes(principal, roles);
  const beyondRoles = scopeDifference(direct, granted);
  const reasons: DriftReason[] = [];
  if (Object.keys(beyondRoles).length > 0) reasons.push('direct-grants');
  if (missingRoles.length > 0) reasons.push('missing-role');
  if (Object.keys(direct).length > 0 && Object.keys(beyondRoles).length === 0)
    reasons.push('redundant-direct');
  if (reasons.length === 0) return undefined;
  return {
    principalId: principal.id,
    name: principal.name,
    kind: principal.kind,
    roles: [...named],
    reasons: reasons.sort(),
    directScopes: direct,
    beyondRoles,
    missingRoles,
  };
}

/** Whether a finding means the effective permissions differ from the roles' (the CLI's exit status). */
export function isDrift(f: DriftFinding): boolean {
  return f.reasons.includes('direct-grants') || f.reasons.includes('missing-role');
}
