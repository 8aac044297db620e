/**
 * PrincipalStore in memory (src/ports/principal-store.ts), with the semantics
 * of src/adapters/aws/dynamo-principal-store.ts: entries replaced whole under
 * compare-and-swap on `rev` (CONFLICT, writing nothing, when it fails), read
 * strongly consistently, listed in id order a page at a time with the same
 * opaque cursor (INVALID_CURSOR for one it did not issue). An entry keeps
 * what the DynamoDB item keeps: the principal and audit event as JSON
 * (copies), the secret hashes, and the audit binding of the current state
 * only. A stored entry that does not read back as one (an id that is not the
 * entry's, a hash that is not 32 bytes) is INTEGRITY on read, as there.
 * THROTTLED and UNAVAILABLE come only from injected faults (`faults`).
 */
import {
  decodePrincipalCursor,
  encodePrincipalCursor,
  type PrincipalEntry,
  type PrincipalPage,
  type PrincipalState,
  type PrincipalStore,
  PrincipalStoreError,
  type PrincipalStoreErrorCode,
} from '../../ports/principal-store.ts';
import { FaultPlan } from './faults.ts';

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function keptState(s: PrincipalState, withBinding: boolean): PrincipalState {
  const out: PrincipalState = { principal: json(s.principal), secretHash: Uint8Array.from(s.secretHash) };
  if (withBinding && s.recorded) out.recorded = { seq: s.recorded.seq, index: s.recorded.index };
  return out;
}

/** The entry as the store keeps it (see the header). */
function kept(entry: Omit<PrincipalEntry, 'rev'>, rev: number): PrincipalEntry {
  const out: PrincipalEntry = { id: entry.id, rev };
  if (entry.current) out.current = keptState(entry.current, true);
  if (entry.pending)
    out.pending = { state: keptState(entry.pending.state, false), audit: json(entry.pending.audit) };
  return out;
}

/** A copy of a stored entry, checked as the DynamoDB adapter checks an item it reads. */
function readBack(e: PrincipalEntry): PrincipalEntry {
  const corrupt = (why: string) =>
    new PrincipalStoreError('INTEGRITY', `stored principal ${e.id} is malformed: ${why}`);
  for (const s of [e.current, e.pending?.state]) {
    if (!s) continue;
    if (s.principal.id !== e.id || !Number.isSafeInteger(s.principal.version))
      throw corrupt('principal fields');
    if (s.secretHash.length !== 32) throw corrupt('secret hash');
  }
  const r = e.current?.recorded;
  if (r && (!Number.isSafeInteger(r.seq) || r.seq < 1 || !Number.isSafeInteger(r.index) || r.index < 0))
    throw corrupt('curSeq/curIndex');
  const pending = e.pending;
  if (
    pending &&
    (typeof pending.audit !== 'object' || pending.audit === null || Array.isArray(pending.audit))
  )
    throw corrupt('pend.audit');
  return kept(e, e.rev);
}

export class MemoryPrincipalStore implements PrincipalStore {
  readonly #entries = new Map<string, PrincipalEntry>();
  readonly #lastUsed = new Map<string, string>();
  /** Successful recordUse writes, for tests that bound them. */
  useWrites = 0;
  readonly faults = new FaultPlan<PrincipalStoreErrorCode>(
    (code, message) => new PrincipalStoreError(code, message),
  );

  get(id: string): Promise<PrincipalEntry | undefined> {
    return this.faults.run('get', id, () => {
      const e = this.#entries.get(id);
      return e && readBack(e);
    });
  }

  put(entry: Omit<PrincipalEntry, 'rev'>, expectedRev: number): Promise<number> {
    if (!Number.isSafeInteger(expectedRev) || expectedRev < 0)
      return Promise.reject(new TypeError('put: bad expectedRev'));
    return this.faults.run('put', entry.id, () => {
      const cur = this.#entries.get(entry.id);
      if ((cur?.rev ?? 0) !== expectedRev)
        throw new PrincipalStoreError(
          'CONFLICT',
          expectedRev === 0
            ? `principal ${entry.id} already exists`
            : `principal ${entry.id} was changed concurrently; re-read and retry`,
        );
      const rev = expectedRev + 1;
      this.#entries.set(entry.id, kept(entry, rev));
      return rev;
    });
  }

  list(opts: { cursor?: string; limit: number }): Promise<PrincipalPage> {
    // The caller validates the client's limit; here it is a contract.
    if (!Number.isSafeInteger(opts.limit) || opts.limit < 1 || opts.limit > 100)
      return Promise.reject(new RangeError('list: limit must be an integer from 1 to 100'));
    return this.faults.run('list', opts.cursor ?? '', (): PrincipalPage => {
      const after = opts.cursor === undefined ? undefined : decodePrincipalCursor(opts.cursor);
      const ids = [...this.#entries.keys()]
        .filter((id) => after === undefined || id > after)
        .sort()
        .slice(0, opts.limit);
      const entries = ids.map((id) => readBack(this.#entries.get(id) as PrincipalEntry));
      const last = ids[ids.length - 1];
      // As a DynamoDB Query with Limit: a full page names where it stopped.
      return {
        entries,
        ...(ids.length === opts.limit && last ? { cursor: encodePrincipalCursor(last) } : {}),
      };
    });
  }

  recordUse(id: string, at: string, ifLastBefore: string): Promise<boolean> {
    return this.faults.run('recordUse', id, () => {
      const last = this.#lastUsed.get(id);
      if (last !== undefined && !(last < ifLastBefore)) return false;
      this.#lastUsed.set(id, at);
      this.useWrites++;
      return true;
    });
  }

  lastUsed(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length > 100) return Promise.reject(new RangeError('lastUsed: at most 100 ids'));
    return this.faults.run('lastUsed', ids.join(','), () => {
      const out = new Map<string, string>();
      for (const id of ids) {
        const at = this.#lastUsed.get(id);
        if (at !== undefined) out.set(id, at);
      }
      return out;
    });
  }

  /**
   * Replaces an entry outside the compare-and-swap, keeping its rev: a write
   * by someone other than the service (an operator, a restore) that the
   * service must notice. Tests only.
   */
  overwrite(entry: PrincipalEntry): void {
    this.#entries.set(entry.id, structuredClone(entry));
  }
}
