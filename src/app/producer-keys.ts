/**
 * Producer signing keys through the admin API (docs/producer-signatures.md):
 * register, revoke, list; and the two things ingest asks — the key an event
 * names, and whether a log requires a signature.
 *
 * Every change is recorded in the `system` log FIRST, with the key record as
 * `changes.after` (and the previous version as `changes.before`), and only
 * then written to the store ingest reads. So every version ingest can use has
 * its record, and an offline verifier learns key → principal from the signed
 * system log, never from the exporter. If we crash between the two writes,
 * the change is recorded but not in effect; a retry of the same request finds
 * the record by its event id (`producer-key/<keyId>/v<version>`) and
 * completes it (recovery and normal operation share this path).
 *
 * The store item names where its record is (`recorded`), and ingest reads
 * keys through BoundProducerKeys (below), which uses a stored version only
 * when the system-log record it names holds the same key record: the store
 * is a cache of the system log that cannot disagree with it silently.
 *
 * Event ids in the system log are one namespace for the whole log
 * (src/app/ingest.ts eventIdScope), so one public key can be registered to
 * one principal only, ever: a second registration of the same key for
 * another principal finds the first record and is refused.
 */
import { bytesEqual, fromBase64 } from '../core/bytes.ts';
import { canonicalBytes } from '../core/canonical.ts';
import { type ActorType, parseUtcTimestamp } from '../core/event.ts';
import { hasScope, type Principal } from '../core/principal.ts';
import {
  checkProducerKeyRecord,
  keyStatusAt,
  ProducerKeyError,
  type ProducerKeyRecord,
  parsePublicKey,
  spkiBase64,
  spkiPem,
} from '../core/producer-key.ts';
import {
  defaultSignatureVerifier,
  SignatureError,
  type SignatureVerifier,
} from '../core/producer-signature.ts';
import { formatReceivedAt } from '../core/record.ts';
import type { Clock } from '../ports/clock.ts';
import type { AuditPosition } from '../ports/principal-store.ts';
import {
  keyRecordOf,
  MAX_KEYS_PER_PRINCIPAL,
  type ProducerKeyStore,
  type StoredProducerKey,
} from '../ports/producer-key-store.ts';
import { AppError } from './errors.ts';
import { withPortErrors } from './port-errors.ts';
import { type AdminAuditEvent, type AdminAuditLog, type AdminAuditSink, actorOf } from './principals.ts';

/** How far in the past a `notBefore` or revocation time may lie: a key's window is never moved back over records already accepted. */
export const KEY_TIME_PAST_LIMIT_MS = 5 * 60_000;

export interface ProducerKeyView extends StoredProducerKey {
  publicKeyPem: string;
  /** At the time of the request. */
  status: ReturnType<typeof keyStatusAt>;
}

export interface ProducerKeyServiceDeps {
  store: ProducerKeyStore;
  audit: Pick<AdminAuditSink, 'record'>;
  auditLog: Pick<AdminAuditLog, 'find' | 'read'>;
  clock: Clock;
  /** Registration refuses keys for unknown principals: `get` throws NOT_FOUND. */
  principals: { get(actor: Principal, id: string): Promise<unknown> };
  verifier?: SignatureVerifier;
}

/**
 * The store's `get` alone, its failures as AppErrors: NOT bound to the
 * system log. For tests and tools that put keys into a store directly;
 * deployments give ingest BoundProducerKeys.
 */
export function producerKeyReader(store: ProducerKeyStore): {
  keyFor(principalId: string, keyId: string): Promise<ProducerKeyRecord | undefined>;
} {
  const s = withPortErrors(store, 'producer keys');
  return {
    keyFor: async (principalId, keyId) => {
      const k = await s.get(principalId, keyId);
      return k && keyRecordOf(k);
    },
  };
}

/** How long BoundProducerKeys trusts a checked binding before it reads the system log again. */
export const KEY_BINDING_RECHECK_MS = 30_000;

/** A stored key version the system log does not show as stored (reported, then refused). */
export interface KeyBindingFailure {
  principalId: string;
  keyId: string;
  version: number;
  detail: string;
}

/**
 * What ingest reads (docs/producer-signatures.md §Ingest): a key as the
 * `system` log records it, never as the store alone says.
 *
 * Every call reads the store item (strongly consistent: a revocation stored
 * by the admin path is in effect for the next batch). A version is used only
 * after the system-log record its item names (`recorded`, or for an item
 * written before items carried it, the record with its event id
 * `producer-key/<keyId>/v<version>`) was read and found to be that key
 * record exactly; and when the system log already holds a later version
 * (recorded, but the store write after it was lost), that later version is
 * used — so ingest accepts a signature only under the key record the offline
 * verifier will rebuild from the same log (src/core/bundle/producer-signatures.ts).
 *
 * The check costs two or three system-log reads per key version; its result
 * is cached per key for `recheckMs` (default KEY_BINDING_RECHECK_MS) while
 * the store item stays byte-identical. So a recorded version whose store
 * write was lost takes effect at ingest within `recheckMs` at most — well
 * inside the 5 minutes by which the offline check widens a key's window.
 *
 * A store item the system log does not confirm is refused as
 * SIGNATURE_KEY_UNKNOWN naming the disagreement, and reported to
 * `onBindingFailure` (alarm on it: someone wrote `PK#` items outside the
 * admin path, or the system log was not written).
 */
export class BoundProducerKeys {
  readonly #store: ProducerKeyStore;
  readonly #log: Pick<AdminAuditLog, 'find' | 'read'>;
  readonly #clock: Clock;
  readonly #recheckMs: number;
  readonly #onFailure: (f: KeyBindingFailure) => void;
  readonly #cache = new Map<string, { item: string; record: ProducerKeyRecord; checkedAt: number }>();

  constructor(deps: {
    store: ProducerKeyStore;
    auditLog: Pick<AdminAuditLog, 'find' | 'read'>;
    clock: Clock;
    recheckMs?: number;
    onBindingFailure?: (f: KeyBindingFailure) => void;
  }) {
    this.#store = withPortErrors(deps.store, 'producer keys');
    this.#log = deps.auditLog;
    this.#clock = deps.clock;
    this.#recheckMs = deps.recheckMs ?? KEY_BINDING_RECHECK_MS;
    this.#onFailure = deps.onBindingFailure ?? (() => {});
  }

  /**
   * The key record `keyId` of `principalId` as the system log holds it;
   * undefined when the store has no such key. Throws SignatureError
   * SIGNATURE_KEY_UNKNOWN when the store item and the system log disagree.
   * The same object is returned while the binding is cached (callers must
   * not modify it), so per-key work downstream can be cached by identity.
   */
  async keyFor(principalId: string, keyId: string): Promise<ProducerKeyRecord | undefined> {
    const stored = await this.#store.get(principalId, keyId);
    if (!stored) return undefined;
    const cacheKey = `${principalId}\n${keyId}`;
    const item = JSON.stringify(stored);
    const now = this.#clock.now();
    const hit = this.#cache.get(cacheKey);
    if (hit && hit.item === item && now - hit.checkedAt < this.#recheckMs) return hit.record;
    const record = await this.#bound(stored);
    this.#cache.delete(cacheKey);
    if (this.#cache.size >= 4096) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
    this.#cache.set(cacheKey, { item, record, checkedAt: now });
    return record;
  }

  async #bound(stored: StoredProducerKey): Promise<ProducerKeyRecord> {
    const { principalId, keyId } = stored;
    let version = stored.version;
    const fail = (detail: string): never => {
      this.#onFailure({ principalId, keyId, version: stored.version, detail });
      throw new SignatureError(
        'SIGNATURE_KEY_UNKNOWN',
        `key ${keyId} of ${principalId} is not used: its stored version ${stored.version} ${detail}`,
      );
    };
    const at: AuditPosition | undefined =
      stored.recorded ?? (await this.#log.find(producerKeyEventId(keyId, version)));
    if (!at) return fail('has no record in the system log');
    const where = `(system log batch ${at.seq}, index ${at.index})`;
    const [event, successor] = await Promise.all([
      this.#log.read(at),
      this.#log.find(producerKeyEventId(keyId, version + 1)),
    ]);
    if (!event || event.id !== producerKeyEventId(keyId, version))
      return fail(`names a system-log record that is not its registration or revocation ${where}`);
    const after = recordIn(event.changes?.after);
    if (!after || !sameRecord(after, keyRecordOf(stored)))
      return fail(`differs from its system-log record ${where}`);
    // The system log is ahead of the store (a change recorded, its store write lost): follow it.
    let record = after;
    let next = successor;
    for (let hops = 0; next && hops < 8; hops++) {
      const e = await this.#log.read(next);
      const r = recordIn(e?.changes?.after);
      if (!e || e.id !== producerKeyEventId(keyId, version + 1) || !r)
        return fail(
          `has a successor in the system log that does not read as one (batch ${next.seq}, index ${next.index})`,
        );
      if (r.keyId !== keyId || r.principalId !== principalId || r.version !== version + 1)
        return fail(`has a successor in the system log for another key or principal`);
      record = r;
      version += 1;
      next = await this.#log.find(producerKeyEventId(keyId, version + 1));
    }
    if (next) return fail('has more successors in the system log than can be followed');
    return record;
  }
}

function recordIn(v: unknown): ProducerKeyRecord | undefined {
  try {
    return checkProducerKeyRecord(v);
  } catch (e) {
    if (e instanceof ProducerKeyError) return undefined;
    throw e;
  }
}

function sameRecord(a: ProducerKeyRecord, b: ProducerKeyRecord): boolean {
  return bytesEqual(canonicalBytes(a), canonicalBytes(b));
}

export function producerKeyEventId(keyId: string, version: number): string {
  return `producer-key/${keyId}/v${version}`;
}

export class ProducerKeyService {
  readonly #d: ProducerKeyServiceDeps;
  readonly #verifier: SignatureVerifier;
  /** The store with its failures as AppErrors (pushback stays retryable). */
  readonly #store: ProducerKeyStore;

  constructor(deps: ProducerKeyServiceDeps) {
    this.#d = deps;
    this.#store = withPortErrors(deps.store, 'producer keys');
    this.#verifier = deps.verifier ?? defaultSignatureVerifier;
  }

  /** The key `keyId` of `principalId` as the store holds it (undefined: none). */
  keyFor(principalId: string, keyId: string): Promise<StoredProducerKey | undefined> {
    return this.#store.get(principalId, keyId);
  }

  async list(actor: Principal, principalId: string): Promise<{ keys: ProducerKeyView[] }> {
    requireAdmin(actor);
    const keys = await this.#store.list(principalId);
    return { keys: keys.map((k) => this.#view(k)) };
  }

  /**
   * Registers `input.publicKey` (SPKI PEM or public JWK) for `principalId`,
   * valid from `input.notBefore` (default now) to `input.notAfter` (default
   * no end). Rotation with overlap: register the next key while the old one
   * is still valid, move producers over, then revoke the old one (or give it
   * a `notAfter` from the start). Idempotent: the same key and window again
   * returns the stored key with `created: false`.
   */
  async register(
    actor: Principal,
    principalId: string,
    input: unknown,
    opts: { requestId?: string } = {},
  ): Promise<{ key: ProducerKeyView; created: boolean }> {
    requireAdmin(actor);
    const body = object(input, ['publicKey', 'notBefore', 'notAfter']);
    let parsed: ReturnType<typeof parsePublicKey>;
    try {
      parsed = parsePublicKey(body.publicKey);
    } catch (e) {
      if (e instanceof ProducerKeyError)
        throw new AppError('BAD_REQUEST', e.message, { path: e.path, cause: e });
      throw e;
    }
    if (!(await this.#verifier.checkKey(parsed.alg, parsed.spki)))
      throw new AppError('BAD_REQUEST', `publicKey is not a valid ${parsed.alg} public key`, {
        path: '/publicKey',
      });
    const now = this.#d.clock.now();
    const notBefore = time(body.notBefore, '/notBefore') ?? now;
    if (notBefore < now - KEY_TIME_PAST_LIMIT_MS)
      throw new AppError('BAD_REQUEST', 'notBefore must not lie in the past', { path: '/notBefore' });
    const notAfter = time(body.notAfter, '/notAfter');
    if (notAfter !== undefined && notAfter <= notBefore)
      throw new AppError('BAD_REQUEST', 'notAfter must be after notBefore', { path: '/notAfter' });
    await this.#d.principals.get(actor, principalId);

    const wanted: ProducerKeyRecord = {
      keyId: parsed.keyId,
      principalId,
      alg: parsed.alg,
      spki: spkiBase64(parsed.spki),
      notBefore: formatReceivedAt(notBefore),
      ...(notAfter !== undefined ? { notAfter: formatReceivedAt(notAfter) } : {}),
      version: 1,
    };
    const same = (r: ProducerKeyRecord) =>
      r.principalId === principalId &&
      bytesEqual(fromBase64(r.spki), parsed.spki) &&
      r.notAfter === wanted.notAfter &&
      (body.notBefore === undefined || r.notBefore === wanted.notBefore);

    const stored = await this.keyFor(principalId, parsed.keyId);
    if (stored) {
      if (stored.version === 1 && same(stored)) return { key: this.#view(stored), created: false };
      throw new AppError(
        'CONFLICT',
        `key ${parsed.keyId} is already registered to ${principalId} (version ${stored.version})`,
      );
    }
    const recorded = await this.#recorded(parsed.keyId, 1);
    if (recorded) {
      if (recorded.principalId !== principalId)
        throw new AppError('CONFLICT', `key ${parsed.keyId} is registered to another principal`);
      await this.#put(recorded);
      if (!same(recorded))
        throw new AppError(
          'CONFLICT',
          `key ${parsed.keyId} was registered earlier with another validity window`,
        );
      return { key: this.#view(recorded), created: false };
    }
    const count = (await this.#store.list(principalId)).length;
    if (count >= MAX_KEYS_PER_PRINCIPAL)
      throw new AppError('CONFLICT', `principal ${principalId} already has ${count} keys (the most allowed)`);
    const at = await this.#record(actor, 'producer_key.register', undefined, wanted, opts.requestId);
    const put = { ...wanted, recorded: at };
    await this.#put(put);
    return { key: this.#view(put), created: true };
  }

  /**
   * Revokes a key from `input.at` (default now; not in the past, so records
   * already accepted stay valid). A future time schedules the end of a key
   * being rotated out. An earlier time than a scheduled one brings it
   * forward (a new version); a later one is a no-op.
   */
  async revoke(
    actor: Principal,
    principalId: string,
    keyId: string,
    input: unknown,
    opts: { requestId?: string } = {},
  ): Promise<{ key: ProducerKeyView; changed: boolean }> {
    requireAdmin(actor);
    const body = object(input ?? {}, ['at']);
    const now = this.#d.clock.now();
    const at = time(body.at, '/at') ?? now;
    if (at < now - KEY_TIME_PAST_LIMIT_MS)
      throw new AppError('BAD_REQUEST', 'a key cannot be revoked in the past', { path: '/at' });
    const cur = await this.keyFor(principalId, keyId);
    if (!cur)
      throw new AppError(
        'NOT_FOUND',
        `principal ${principalId} has no key ${JSON.stringify(keyId.slice(0, 60))}`,
      );
    // A version recorded but not stored (we crashed between the two): complete it first.
    const pending = await this.#recorded(keyId, cur.version + 1);
    const base = pending ?? cur;
    if (pending) await this.#put(pending);
    if (base.revokedAt !== undefined && (parseUtcTimestamp(base.revokedAt) ?? 0) <= at)
      return { key: this.#view(base), changed: pending !== undefined };
    const next: ProducerKeyRecord = {
      ...keyRecordOf(base),
      revokedAt: formatReceivedAt(at),
      version: base.version + 1,
    };
    const where = await this.#record(actor, 'producer_key.revoke', keyRecordOf(base), next, opts.requestId);
    const put = { ...next, recorded: where };
    await this.#put(put);
    return { key: this.#view(put), changed: true };
  }

  #view(r: StoredProducerKey): ProducerKeyView {
    return { ...r, publicKeyPem: spkiPem(fromBase64(r.spki)), status: keyStatusAt(r, this.#d.clock.now()) };
  }

  /** The key record of version `version` as the system log holds it, if it does, with where it is. */
  async #recorded(keyId: string, version: number): Promise<StoredProducerKey | undefined> {
    const at = await this.#d.auditLog.find(producerKeyEventId(keyId, version));
    if (!at) return undefined;
    const event = await this.#d.auditLog.read(at);
    try {
      return { ...checkProducerKeyRecord(event?.changes?.after, '/changes/after'), recorded: at };
    } catch (e) {
      throw new AppError('INTEGRITY', `system log record of key ${keyId} v${version} is malformed`, {
        cause: e,
      });
    }
  }

  async #record(
    actor: Principal,
    action: 'producer_key.register' | 'producer_key.revoke',
    before: ProducerKeyRecord | undefined,
    after: ProducerKeyRecord,
    requestId: string | undefined,
  ): Promise<AuditPosition> {
    const event: AdminAuditEvent = {
      id: producerKeyEventId(after.keyId, after.version),
      occurredAt: formatReceivedAt(this.#d.clock.now()),
      actor: actorOf(actor),
      action,
      target: { type: 'producer_key', id: after.keyId, name: after.principalId },
      outcome: 'success',
      changes: { before: before ? { ...before } : {}, after: { ...after } },
      ...(requestId ? { context: { requestId } } : {}),
    };
    return this.#d.audit.record(event);
  }

  /** Stores a recorded version; a lost swap is fine only if the store already holds exactly it. */
  async #put(r: StoredProducerKey): Promise<void> {
    if (await this.#store.put(r)) return;
    const now = await this.keyFor(r.principalId, r.keyId);
    if (now && now.version >= r.version) return;
    throw new AppError('CONFLICT', `key ${r.keyId} changed concurrently; retry`);
  }
}

/**
 * Which events of a log must be signed (docs/producer-signatures.md §Policy):
 * those submitted by one of `principals`, and those whose `actor.type` is one
 * of `actorTypes`. Checked at ingest before anything is stored.
 */
export interface SignaturePolicy {
  principals: readonly string[];
  actorTypes: readonly ActorType[];
}

/** Asked once per batch; may read a store (src/app/log-policy.ts CachedLogPolicy). */
export interface SignaturePolicySource {
  forLog(logId: string): SignaturePolicy | undefined | Promise<SignaturePolicy | undefined>;
}

export class StaticSignaturePolicy implements SignaturePolicySource {
  constructor(private readonly policies: ReadonlyMap<string, SignaturePolicy>) {}
  /** The log's own rules and the `*` rules together: a log can add requirements, never drop them. */
  forLog(logId: string): SignaturePolicy | undefined {
    const own = this.policies.get(logId);
    const all = this.policies.get('*');
    if (!own || !all) return own ?? all;
    return {
      principals: [...own.principals, ...all.principals],
      actorTypes: [...own.actorTypes, ...all.actorTypes],
    };
  }
}

const ACTOR_TYPE_SET: readonly string[] = ['human', 'agent', 'service', 'system'];

/**
 * Parses ANCHORLOG_SIGNATURE_POLICY: `;`-separated `<logId|*>=<rule>,<rule>…`
 * with rules `principal:<id>` and `actor:<human|agent|service|system>`, e.g.
 * `payments=principal:app-1,actor:agent;*=actor:agent`. Throws RangeError
 * naming the bad part, so a typo fails at start, not per request.
 */
export function parseSignaturePolicy(raw: string | undefined): Map<string, SignaturePolicy> {
  const out = new Map<string, SignaturePolicy>();
  if (raw === undefined || raw.trim() === '') return out;
  for (const part of raw.split(';')) {
    const [log, rules, extra] = part.trim().split('=');
    const bad = () =>
      new RangeError(
        `signature policy entry ${JSON.stringify(part.slice(0, 100))} must be <logId|*>=principal:<id>|actor:<type>,…`,
      );
    if (extra !== undefined || !log || !rules || !(log === '*' || /^[a-z0-9][a-z0-9-]{0,62}$/.test(log)))
      throw bad();
    const policy: { principals: string[]; actorTypes: ActorType[] } = { principals: [], actorTypes: [] };
    for (const r of rules.split(',')) {
      const [kind, value] = r.trim().split(/:(.*)/s);
      if (kind === 'principal' && value) policy.principals.push(value);
      else if (kind === 'actor' && value && ACTOR_TYPE_SET.includes(value))
        policy.actorTypes.push(value as ActorType);
      else throw bad();
    }
    out.set(log, policy);
  }
  return out;
}

function requireAdmin(actor: Principal): void {
  if (!hasScope(actor, '*', 'admin'))
    throw new AppError('FORBIDDEN', `principal ${actor.id} lacks scope admin on log *`);
}

function object(v: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new AppError('BAD_REQUEST', 'body must be a JSON object', { path: '' });
  for (const k of Object.keys(v))
    if (!allowed.includes(k))
      throw new AppError(
        'BAD_REQUEST',
        `unknown field ${JSON.stringify(k)}; allowed: ${allowed.join(', ')}`,
        {
          path: `/${k}`,
        },
      );
  return v as Record<string, unknown>;
}

function time(v: unknown, path: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = typeof v === 'string' ? parseUtcTimestamp(v) : undefined;
  if (ms === undefined) throw new AppError('BAD_REQUEST', 'must be an RFC 3339 UTC timestamp', { path });
  return ms;
}
