/**
 * A log's policy as set through the admin API (docs/events.md §Modes,
 * docs/producer-signatures.md §Policy): its event-catalog mode and which of
 * its events must carry a producer signature. Each field is optional: an
 * absent field leaves the deployment's setting (ANCHORLOG_CATALOG_MODE[S],
 * ANCHORLOG_SIGNATURE_POLICY) in force, so the environment stays the
 * deploy-time default and a stored policy only says where a log differs.
 *
 * Pure: the record's shape and the input check; src/app/log-policy.ts
 * records changes and merges with the defaults.
 */
import { AnchorlogError } from './errors.ts';
import { ACTOR_TYPES, type ActorType } from './event.ts';

/** The same three modes as ingest's CatalogMode (src/app/ingest.ts). */
export const LOG_CATALOG_MODES = ['enforce', 'warn', 'off'] as const;
export type LogCatalogMode = (typeof LOG_CATALOG_MODES)[number];

/** Most principals one log's signature rule may name (one record stays small). */
export const MAX_POLICY_PRINCIPALS = 100;

export interface LogSignatureRule {
  /** Events submitted by these principals must be signed. */
  principals: string[];
  /** Events whose `actor.type` is one of these must be signed. */
  actorTypes: ActorType[];
}

export interface LogPolicyRecord {
  logId: string;
  /** Absent: the deployment's mode for this log. */
  catalogMode?: LogCatalogMode;
  /** Absent: the deployment's rule for this log. Present and empty: this log requires none of its own. */
  signatures?: LogSignatureRule;
  /** 1 for the first policy set, +1 per change (compare-and-swap in the store). */
  version: number;
  /** RFC 3339 UTC, when this version was set. */
  updatedAt: string;
}

export class LogPolicyError extends AnchorlogError<'INVALID_POLICY'> {
  readonly path: string;
  constructor(path: string, message: string) {
    super('INVALID_POLICY', message);
    this.path = path;
  }
}

/** The settable part of a policy (a PUT body): `{catalogMode?, signatures?}`; `null` clears a field. */
export function checkLogPolicyInput(v: unknown): Pick<LogPolicyRecord, 'catalogMode' | 'signatures'> {
  const o = object(v, '', ['catalogMode', 'signatures']);
  const out: Pick<LogPolicyRecord, 'catalogMode' | 'signatures'> = {};
  if (o.catalogMode !== undefined && o.catalogMode !== null) {
    if (
      typeof o.catalogMode !== 'string' ||
      !(LOG_CATALOG_MODES as readonly string[]).includes(o.catalogMode)
    )
      throw new LogPolicyError('/catalogMode', 'catalogMode must be enforce, warn or off');
    out.catalogMode = o.catalogMode as LogCatalogMode;
  }
  if (o.signatures !== undefined && o.signatures !== null) out.signatures = checkRule(o.signatures);
  return out;
}

/** A stored record (from the store or the system log), checked whole. */
export function checkLogPolicyRecord(v: unknown, path = ''): LogPolicyRecord {
  const o = object(v, path, ['logId', 'catalogMode', 'signatures', 'version', 'updatedAt']);
  if (typeof o.logId !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(o.logId))
    throw new LogPolicyError(`${path}/logId`, 'logId must be a log id');
  const rest = checkLogPolicyInput({
    ...(o.catalogMode !== undefined ? { catalogMode: o.catalogMode } : {}),
    ...(o.signatures !== undefined ? { signatures: o.signatures } : {}),
  });
  if (typeof o.version !== 'number' || !Number.isSafeInteger(o.version) || o.version < 1)
    throw new LogPolicyError(`${path}/version`, 'version must be a positive integer');
  if (typeof o.updatedAt !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(o.updatedAt))
    throw new LogPolicyError(`${path}/updatedAt`, 'updatedAt must be an RFC 3339 UTC timestamp');
  return { logId: o.logId, ...rest, version: o.version, updatedAt: o.updatedAt };
}

function checkRule(v: unknown): LogSignatureRule {
  const o = object(v, '/signatures', ['principals', 'actorTypes']);
  const principals = o.principals ?? [];
  const actorTypes = o.actorTypes ?? [];
  if (!Array.isArray(principals) || principals.length > MAX_POLICY_PRINCIPALS)
    throw new LogPolicyError(
      '/signatures/principals',
      `principals must be an array of at most ${MAX_POLICY_PRINCIPALS} principal ids`,
    );
  principals.forEach((p, i) => {
    if (typeof p !== 'string' || p.length === 0 || p.length > 256)
      throw new LogPolicyError(`/signatures/principals/${i}`, 'must be a principal id');
  });
  if (!Array.isArray(actorTypes))
    throw new LogPolicyError('/signatures/actorTypes', 'actorTypes must be an array');
  actorTypes.forEach((t, i) => {
    if (!(ACTOR_TYPES as readonly unknown[]).includes(t))
      throw new LogPolicyError(`/signatures/actorTypes/${i}`, `must be one of ${ACTOR_TYPES.join(', ')}`);
  });
  // Sorted and unique: one byte form per meaning, so before/after in the audit record compare plainly.
  return {
    principals: [...new Set(principals as string[])].sort(),
    actorTypes: [...new Set(actorTypes as ActorType[])].sort(),
  };
}

function object(v: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new LogPolicyError(path, 'must be a JSON object');
  for (const k of Object.keys(v))
    if (!allowed.includes(k))
      throw new LogPolicyError(
        `${path}/${k}`,
        `unknown field ${JSON.stringify(k.slice(0, 64))}; allowed: ${allowed.join(', ')}`,
      );
  return v as Record<string, unknown>;
}
