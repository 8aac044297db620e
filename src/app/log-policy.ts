/**
 * Per-log policy through the admin API (`GET|PUT /v1/admin/logs/{logId}/policy`;
 * docs/events.md §Modes, docs/producer-signatures.md §Policy): a log's
 * event-catalog mode and which of its events must be signed.
 *
 * The environment (ANCHORLOG_CATALOG_MODE, ANCHORLOG_CATALOG_MODES,
 * ANCHORLOG_SIGNATURE_POLICY) stays the deploy-time default; a stored policy
 * overrides a log's catalog mode and its own signature rule. The `*` rule of
 * ANCHORLOG_SIGNATURE_POLICY always applies on top: a deployment-wide
 * requirement cannot be dropped through the API, only per-log ones.
 *
 * Every change is recorded in the `system` log FIRST (`log.policy.set`, event
 * id `log-policy/<logId>/v<version>`, the previous and new record as
 * `changes.before`/`after`), then written to the store (compare-and-swap on
 * the version). A crash between the two leaves the change recorded but not in
 * effect; the next `set` of that log finds the recorded version by its event
 * id and completes it first, so every stored version has its record.
 *
 * Ingest reads the store through CachedLogPolicy: at most
 * LOG_POLICY_CACHE_MS old per function instance, so a change is in effect
 * everywhere at most that long after the PUT returned.
 */
import type { Catalog } from '../core/catalog.ts';
import {
  checkLogPolicyInput,
  checkLogPolicyRecord,
  LogPolicyError,
  type LogPolicyRecord,
  type LogSignatureRule,
} from '../core/log-policy.ts';
import { isValidLogId, LOG_ID_RULE } from '../core/names.ts';
import { hasScope, type Principal, SYSTEM_LOG_ID } from '../core/principal.ts';
import { formatReceivedAt } from '../core/record.ts';
import type { Clock } from '../ports/clock.ts';
import type { LogPolicyStore } from '../ports/log-policy-store.ts';
import type { LogStore } from '../ports/log-store.ts';
import { AppError } from './errors.ts';
import type { CatalogMode, CatalogPolicy } from './ingest.ts';
import { withPortErrors } from './port-errors.ts';
import { type AdminAuditEvent, type AdminAuditLog, type AdminAuditSink, actorOf } from './principals.ts';
import type { SignaturePolicy, SignaturePolicySource } from './producer-keys.ts';

/** How old a policy ingest applies may be: the staleness bound of a change (docs/events.md §Modes). */
export const LOG_POLICY_CACHE_MS = 30_000;
/** Logs whose policy one instance keeps; past it the oldest entry goes (a re-read, never a wrong answer). */
const CACHE_MAX_LOGS = 1_000;

/** The deploy-time defaults: from the configuration (src/config.ts). */
export interface LogPolicyDefaults {
  catalogMode: CatalogMode;
  catalogModes: ReadonlyMap<string, CatalogMode>;
  /** ANCHORLOG_SIGNATURE_POLICY: per log id, and `*` for every log. */
  signatures: ReadonlyMap<string, SignaturePolicy>;
}

export interface EffectivePolicy {
  catalogMode: CatalogMode;
  /** Undefined: no event of the log must be signed. */
  signatures: SignaturePolicy | undefined;
}

export interface LogPolicyView {
  logId: string;
  /** What was set through the API; null: nothing (the defaults apply). */
  stored: LogPolicyRecord | null;
  /** What the deployment's settings give this log. */
  defaults: { catalogMode: CatalogMode; signatures: LogSignatureRule | null };
  /** What ingest applies (at most LOG_POLICY_CACHE_MS after a change). */
  effective: { catalogMode: CatalogMode; signatures: LogSignatureRule | null };
  cacheSeconds: number;
}

/** The policy a log gets from the defaults and its stored record. Pure. */
export function effectivePolicy(
  defaults: LogPolicyDefaults,
  logId: string,
  stored: LogPolicyRecord | undefined,
): EffectivePolicy {
  const catalogMode = stored?.catalogMode ?? defaults.catalogModes.get(logId) ?? defaults.catalogMode;
  const own = stored?.signatures ?? defaults.signatures.get(logId);
  const all = defaults.signatures.get('*');
  return { catalogMode, signatures: union(own, all) };
}

function union(a: SignaturePolicy | undefined, b: SignaturePolicy | undefined): SignaturePolicy | undefined {
  if (!a || !b) return a ?? b;
  return {
    principals: [...new Set([...a.principals, ...b.principals])].sort(),
    actorTypes: [...new Set([...a.actorTypes, ...b.actorTypes])].sort(),
  };
}

const rule = (p: SignaturePolicy | undefined): LogSignatureRule | null =>
  p ? { principals: [...p.principals], actorTypes: [...p.actorTypes] } : null;

export function logPolicyEventId(logId: string, version: number): string {
  return `log-policy/${logId}/v${version}`;
}

export interface LogPolicyServiceDeps {
  store: LogPolicyStore;
  audit: Pick<AdminAuditSink, 'record'>;
  auditLog: Pick<AdminAuditLog, 'find' | 'read'>;
  logs: Pick<LogStore, 'logExists'>;
  clock: Clock;
  defaults: LogPolicyDefaults;
}

export class LogPolicyService {
  readonly #d: LogPolicyServiceDeps;
  readonly #store: LogPolicyStore;

  constructor(deps: LogPolicyServiceDeps) {
    this.#d = deps;
    this.#store = withPortErrors(deps.store, 'log policies');
  }

  /** The log's stored, default and effective policy. Needs `admin` on the log (or `*`). */
  async get(actor: Principal, logId: string): Promise<LogPolicyView> {
    checkLog(logId);
    if (!hasScope(actor, logId, 'admin'))
      throw new AppError('FORBIDDEN', `principal ${actor.id} lacks scope admin on log ${logId}`);
    await this.#mustExist(logId);
    return this.#view(logId, await this.#store.get(logId));
  }

  /**
   * Replaces the log's stored policy with `input` (`{catalogMode?, signatures?}`;
   * an absent or null field falls back to the default). Needs `admin` on `*`:
   * loosening a log's signature requirement is a deployment-level decision.
   * Idempotent: the same policy again changes and records nothing.
   */
  async set(
    actor: Principal,
    logId: string,
    input: unknown,
    opts: { requestId?: string } = {},
  ): Promise<{ policy: LogPolicyView; changed: boolean }> {
    checkLog(logId);
    if (!hasScope(actor, '*', 'admin'))
      throw new AppError('FORBIDDEN', `principal ${actor.id} lacks scope admin on log *`);
    let wanted: ReturnType<typeof checkLogPolicyInput>;
    try {
      wanted = checkLogPolicyInput(input);
    } catch (e) {
      if (e instanceof LogPolicyError)
        throw new AppError('BAD_REQUEST', e.message, { path: e.path, cause: e });
      throw e;
    }
    await this.#mustExist(logId);
    let cur = await this.#store.get(logId);
    // A version recorded but not stored (we crashed between the two): complete it first.
    const pending = await this.#recorded(logId, (cur?.version ?? 0) + 1);
    if (pending) {
      await this.#put(pending);
      cur = pending;
    }
    if (cur && same(cur, wanted)) return { policy: this.#view(logId, cur), changed: pending !== undefined };
    const next: LogPolicyRecord = {
      logId,
      ...wanted,
      version: (cur?.version ?? 0) + 1,
      updatedAt: formatReceivedAt(this.#d.clock.now()),
    };
    const event: AdminAuditEvent = {
      id: logPolicyEventId(logId, next.version),
      occurredAt: next.updatedAt,
      actor: actorOf(actor),
      action: 'log.policy.set',
      target: { type: 'log', id: logId, name: logId },
      outcome: 'success',
      changes: { before: cur ? { ...cur } : {}, after: { ...next } },
      ...(opts.requestId ? { context: { requestId: opts.requestId } } : {}),
    };
    try {
      await this.#d.audit.record(event);
    } catch (e) {
      // Another admin recorded this version first: their change wins; ours is retried on top.
      if (e instanceof AppError && e.code === 'CONFLICT')
        throw new AppError('CONFLICT', `the policy of log ${logId} changed concurrently; retry`, {
          cause: e,
        });
      throw e;
    }
    await this.#put(next);
    return { policy: this.#view(logId, next), changed: true };
  }

  #view(logId: string, stored: LogPolicyRecord | undefined): LogPolicyView {
    const d = effectivePolicy(this.#d.defaults, logId, undefined);
    const e = effectivePolicy(this.#d.defaults, logId, stored);
    return {
      logId,
      stored: stored ?? null,
      defaults: { catalogMode: d.catalogMode, signatures: rule(d.signatures) },
      effective: { catalogMode: e.catalogMode, signatures: rule(e.signatures) },
      cacheSeconds: LOG_POLICY_CACHE_MS / 1000,
    };
  }

  async #mustExist(logId: string): Promise<void> {
    let exists: boolean;
    try {
      exists = await this.#d.logs.logExists(logId);
    } catch (e) {
      throw new AppError('UNAVAILABLE', 'the log store is unavailable; retry', {
        retryAfterSeconds: 1,
        cause: e,
      });
    }
    if (!exists) throw new AppError('NOT_FOUND', `log ${logId} does not exist`);
  }

  async #recorded(logId: string, version: number): Promise<LogPolicyRecord | undefined> {
    const at = await this.#d.auditLog.find(logPolicyEventId(logId, version));
    if (!at) return undefined;
    const event = await this.#d.auditLog.read(at);
    try {
      return checkLogPolicyRecord(event?.changes?.after, '/changes/after');
    } catch (e) {
      throw new AppError('INTEGRITY', `system log record of log ${logId} policy v${version} is malformed`, {
        cause: e,
      });
    }
  }

  /** Stores a recorded version; a lost swap is fine only if the store already holds it or later. */
  async #put(r: LogPolicyRecord): Promise<void> {
    if (await this.#store.put(r)) return;
    const now = await this.#store.get(r.logId);
    if (now && now.version >= r.version) return;
    throw new AppError('CONFLICT', `the policy of log ${r.logId} changed concurrently; retry`);
  }
}

function checkLog(logId: string): void {
  if (!isValidLogId(logId)) throw new AppError('BAD_REQUEST', LOG_ID_RULE, { path: '/logId' });
  if (logId === SYSTEM_LOG_ID)
    throw new AppError('BAD_REQUEST', 'the system log has no catalog or signature policy', {
      path: '/logId',
    });
}

function same(r: LogPolicyRecord, w: Pick<LogPolicyRecord, 'catalogMode' | 'signatures'>): boolean {
  return (
    r.catalogMode === w.catalogMode &&
    JSON.stringify(r.signatures ?? null) === JSON.stringify(w.signatures ?? null)
  );
}

/**
 * What ingest asks per batch (its CatalogPolicy and SignaturePolicySource,
 * one cached read for both): the effective policy of a log, read from the store at most once per
 * LOG_POLICY_CACHE_MS per log and instance. A failed read is not cached and
 * fails the request (retryable): applying the defaults instead could accept
 * an unsigned event a stored policy requires to be signed.
 */
export class CachedLogPolicy {
  readonly #store: Pick<LogPolicyStore, 'get'>;
  readonly #cache = new Map<string, { at: number; value: Promise<EffectivePolicy> }>();

  constructor(
    store: Pick<LogPolicyStore, 'get'>,
    private readonly defaults: LogPolicyDefaults,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
    private readonly ttlMs = LOG_POLICY_CACHE_MS,
  ) {
    this.#store = withPortErrors(store, 'log policies');
  }

  #effective(logId: string): Promise<EffectivePolicy> {
    const now = this.clock.now();
    const hit = this.#cache.get(logId);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    if (logId === SYSTEM_LOG_ID) return Promise.resolve(effectivePolicy(this.defaults, logId, undefined));
    const value = this.#store.get(logId).then((stored) => effectivePolicy(this.defaults, logId, stored));
    this.#cache.delete(logId);
    if (this.#cache.size >= CACHE_MAX_LOGS) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(logId, { at: now, value });
    value.catch(() => {
      if (this.#cache.get(logId)?.value === value) this.#cache.delete(logId);
    });
    return value;
  }

  /** For IngestDeps.catalog. */
  readonly catalogPolicy: CatalogPolicy = {
    forLog: (logId) => this.#effective(logId).then((e) => ({ mode: e.catalogMode, catalog: this.catalog })),
  };

  /** For IngestDeps.signatures.policy (the same cached read). */
  readonly signaturePolicy: SignaturePolicySource = {
    forLog: (logId) => this.#effective(logId).then((e) => e.signatures),
  };
}
