/**
 * Query parameters (`parseQuery`, `parseTimeBound`, the page types) for
 * `GET /v1/logs/{logId}/events` (docs/query.md §1. API), shared with the
 * columnar index that answers it (src/app/columnar-query.ts).
 *
 * RETIRED (issue #17, docs/query.md §2): `QueryService` below, the DynamoDB
 * query index's reader, is mounted by no function and not by the local stack
 * (src/compose/query.ts); it stays, with its projector and adapters, only
 * until they are deleted together with their tests. What follows describes it.
 *
 * A page walks the log in index order through three disjoint phases, fixed
 * by a snapshot taken on the first page and carried in the cursor:
 *
 *   1. cold  — records with receivedAt < tc (the hot window's start):
 *              scanned from the archive's entry bundles (index < sealed
 *              size) or the log's batches (beyond), after a binary search
 *              over bundles for `from`;
 *   2. hot   — records with receivedAt ≥ tc and index < P (projected):
 *              one index Query per request, the most selective index among
 *              the filters, the others applied as filters;
 *   3. tail  — records with receivedAt ≥ tc and index ≥ P (not yet
 *              projected): scanned from the batches.
 *
 * receivedAt never decreases along the log, so phase 1 < phase 2 < phase 3
 * in index order and every record is in exactly one phase. Each page does
 * bounded work (requests, records scanned) and may come back short — even
 * empty — with a cursor; only a page without a cursor is the end.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { fromBase64Url, fromUtf8, toBase64, toBase64Url, utf8 } from '../core/bytes.ts';
import type { AuditEvent } from '../core/event.ts';
import { parseUtcTimestamp } from '../core/event.ts';
import { isWellFormedUnicode } from '../core/ijson.ts';
import { decodeEntryBundle } from '../core/merkle/entry-bundle.ts';
import { MerkleError } from '../core/merkle/errors.ts';
import { entryBundlePath, TILE_WIDTH } from '../core/merkle/tile-path.ts';
import { decodeRecord, type LogRecord, leafHash, RecordError } from '../core/record.ts';
import { type ArchiveStore, archiveKey } from '../ports/archive-store.ts';
import type { Clock } from '../ports/clock.ts';
import { type LogStore, LogStoreError } from '../ports/log-store.ts';
import {
  type IndexKey,
  type ItemFilter,
  type QueryIndexStore,
  type QueryItem,
  SORT_INDEX_DIGITS,
  sortKey,
} from '../ports/query-index.ts';
import type { SealStateStore } from '../ports/seal-state.ts';
import { AppError } from './errors.ts';
import { fromPortError, RETRY_AFTER_SECONDS } from './port-errors.ts';
import { DAY_MS, DEFAULT_HOT_WINDOW_MS, DEFAULT_SETTLE_MS } from './query-projector.ts';

export const MAX_QUERY_LIMIT = 1000;
export const DEFAULT_QUERY_LIMIT = 100;
/**
 * With this many record bytes a page is full. The JSON answer is the records'
 * events plus ~100 bytes each (leafHash, keys), and the page may overshoot by
 * one record: at most ~4.2 MB, below the 6 MB a Lambda may return.
 */
export const DEFAULT_MAX_PAGE_BYTES = 4 * 1024 * 1024;
/** Per-record bytes a page's JSON adds to the record's own (leafHash, keys, separators). */
const PAGE_BYTES_PER_RECORD = 128;
const MAX_EPOCH_MS = 253402300799999;
const MAX_CURSOR_CHARS = 2048;
export const MIN_CURSOR_KEY_BYTES = 32;
const ACTION_PREFIX_RE = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_RE = /[\x00-\x1f\x7f]/;
const KEY_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z(?:#\d{16})?$/;
const RFC3339_RE = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const BATCHES_PER_READ = 4;

/** What a caller asks (strings as received; validated here). */
export interface QueryParams {
  from?: string;
  to?: string;
  actionPrefix?: string;
  actorId?: string;
  submitter?: string;
  /** Columnar index only (docs/query.md §7): the DynamoDB path refuses them. */
  targetType?: string;
  targetId?: string;
  outcome?: string;
  limit?: number;
  cursor?: string;
}

export interface QueryRecord {
  index: number;
  receivedAt: string;
  submitter: string;
  event: AuditEvent;
  /** Base64 RFC 6962 leaf hash of the record's canonical bytes. */
  leafHash: string;
}

export interface QueryResult {
  records: QueryRecord[];
  /** Present when more records may follow; pass it back with the same filters. */
  cursor?: string;
}

export interface QueryServiceOptions {
  readonly logs: Pick<LogStore, 'readBatches' | 'logExists'>;
  readonly index: QueryIndexStore;
  readonly archive: Pick<ArchiveStore, 'get'>;
  readonly sealState: Pick<SealStateStore, 'read'>;
  readonly clock: Clock;
  /** Hot window (must match the projector's; the smaller of the two is used). Default 90 days. */
  readonly hotWindowMs?: number;
  /** Safety between the hot window's start and items actually expiring (clock skew, cursor life). Default 1 day. */
  readonly marginMs?: number;
  /** How long a cursor stays usable. Default 12 hours; must be below marginMs. */
  readonly cursorTtlMs?: number;
  /** See ProjectorCursor.settled. Default 10 s. */
  readonly settleMs?: number;
  /**
   * HMAC-SHA-256 key for cursors, at least 32 bytes (docs/query.md §Cursor).
   * Required: a cursor is a client-held snapshot of server state (positions,
   * sealed size, expiry), so one the server did not sign must never be read.
   */
  readonly cursorKey: Uint8Array;
  /** Work per page. Defaults: 50 store requests, 20,000 records scanned. */
  readonly maxRequestsPerPage?: number;
  readonly maxScannedPerPage?: number;
  /**
   * Record bytes per page (default 4 MiB). A page ends once it holds this
   * much, whatever `limit` says: a Lambda answers at most 6 MB, and 100
   * records at the 65,535-byte limit (the default page) would be 6.5 MB.
   */
  readonly maxPageBytes?: number;
}

/** Validated query. Times are epoch ms; from inclusive, to exclusive. */
interface Query {
  logId: string;
  from: number;
  to: number;
  actionPrefix: string | undefined;
  actorId: string | undefined;
  submitter: string | undefined;
  limit: number;
}

/** Cursor state: a snapshot (fixed on page 1) and a position. */
interface State {
  v: 1;
  /** Filter binding. */
  f: string;
  /** Expiry, epoch ms. */
  exp: number;
  /** Hot window start, epoch ms (Infinity is encoded as -1: no projection). */
  tc: number;
  /** Projection boundary index, its batch seq and receivedAt. */
  p: number;
  pq: number;
  pat: string | undefined;
  /** Sealed size, seq, last receivedAt. */
  s: number;
  sq: number;
  sat: string | undefined;
  /** Phase 1, 2, 3; scan position (index, batch seq when index ≥ s); seek pending. */
  ph: 1 | 2 | 3;
  i: number;
  q: number;
  z: 0 | 1;
  /** Phase 2: next sort key to read (inclusive); undefined = phase start. */
  lo: string | undefined;
  /** Where phase 1 stopped (index, batch seq): phase 3 starts at max(p, c). */
  c: number;
  cq: number;
}

interface Budget {
  requests: number;
  scanned: number;
}

function bad(name: string, message: string): AppError {
  return new AppError('BAD_REQUEST', message, { path: `/query/${name}` });
}

/** RFC 3339 (Z or ±hh:mm) → epoch ms rounded *up* (records carry whole ms). */
export function parseTimeBound(name: string, raw: string): number {
  const m = RFC3339_RE.exec(raw.toUpperCase());
  const err = () =>
    bad(
      name,
      `${name} must be an RFC 3339 date-time such as 2026-03-01T12:00:00Z (got ${JSON.stringify(raw.slice(0, 64))})`,
    );
  if (!m) throw err();
  const [, date, time, frac = '', zone] = m as unknown as [
    string,
    string,
    string,
    string | undefined,
    string,
  ];
  const base = parseUtcTimestamp(`${date}T${time}${frac}Z`);
  if (base === undefined) throw err();
  const sub = frac.length > 4 && /[1-9]/.test(frac.slice(4)) ? 1 : 0;
  let offset = 0;
  if (zone !== 'Z') {
    const hh = Number(zone.slice(1, 3));
    const mm = Number(zone.slice(4, 6));
    if (hh > 23 || mm > 59) throw err();
    offset = (zone[0] === '-' ? -1 : 1) * (hh * 60 + mm) * 60_000;
  }
  const ms = base + sub - offset;
  if (ms < 0 || ms > MAX_EPOCH_MS + 1) throw bad(name, `${name} must be between 1970 and 9999`);
  return ms;
}

function textParam(name: string, v: string | undefined, max: number): string | undefined {
  if (v === undefined) return undefined;
  if (v.length === 0 || v.length > max || CONTROL_RE.test(v) || !isWellFormedUnicode(v))
    throw bad(name, `${name} must be 1 to ${max} characters without control characters`);
  return v;
}

export function parseQuery(logId: string, p: QueryParams): Query {
  const limit = p.limit ?? DEFAULT_QUERY_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT)
    throw bad('limit', `limit must be an integer from 1 to ${MAX_QUERY_LIMIT}`);
  const from = p.from === undefined ? 0 : parseTimeBound('from', p.from);
  const to = p.to === undefined ? MAX_EPOCH_MS + 1 : parseTimeBound('to', p.to);
  if (p.from !== undefined && p.to !== undefined && from > to) throw bad('to', 'to must not be before from');
  if (p.actionPrefix !== undefined && (p.actionPrefix.length > 128 || !ACTION_PREFIX_RE.test(p.actionPrefix)))
    throw bad(
      'actionPrefix',
      'actionPrefix must be whole dot-separated action segments, e.g. access or access.grant',
    );
  return {
    logId,
    from,
    to,
    actionPrefix: p.actionPrefix,
    actorId: textParam('actorId', p.actorId, 256),
    submitter: textParam('submitter', p.submitter, 256),
    limit,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
/** Inclusive upper sort key for `receivedAt < to`: the bare instant sorts before its keys. */
const toKey = (to: number) => (to > MAX_EPOCH_MS ? '9999-12-31T23:59:59.999Z#~' : iso(to));
/** The next possible sort key after `key` (a full `<at>#<index>` key). */
function succ(key: string): string {
  const hash = key.lastIndexOf('#');
  const idx = Number(key.slice(hash + 1));
  return `${key.slice(0, hash)}#${String(idx + 1).padStart(SORT_INDEX_DIGITS, '0')}`;
}
const minStr = (a: string, b: string) => (a < b ? a : b);

/** The index a page reads, most selective first (the retired DynamoDB index, docs/query.md §2). */
function plan(q: Query): { key: (day: string) => IndexKey; filter: ItemFilter; gsi: boolean } {
  const depth = q.actionPrefix?.split('.').length ?? 0;
  const rest = (drop: keyof ItemFilter, extra: Partial<ItemFilter> = {}): ItemFilter => {
    const f: ItemFilter = {};
    if (q.actorId !== undefined && drop !== 'actorId') f.actorId = q.actorId;
    if (q.submitter !== undefined && drop !== 'submitter') f.submitter = q.submitter;
    if (q.actionPrefix !== undefined && drop !== 'actionPrefix') f.actionPrefix = q.actionPrefix;
    return { ...f, ...extra };
  };
  if (q.actorId !== undefined) {
    const actorId = q.actorId;
    return { key: () => ({ kind: 'actor', actorId }), filter: rest('actorId'), gsi: true };
  }
  const prefix = q.actionPrefix;
  if (prefix !== undefined && depth >= 2) {
    const two = prefix.split('.').slice(0, 2).join('.');
    return {
      key: () => ({ kind: 'action', depth: 2, prefix: two }),
      filter: rest('actionPrefix', depth > 2 ? { actionPrefix: prefix } : {}),
      gsi: true,
    };
  }
  if (q.submitter !== undefined) {
    const submitter = q.submitter;
    return { key: () => ({ kind: 'submitter', submitter }), filter: rest('submitter'), gsi: true };
  }
  if (prefix !== undefined)
    return { key: () => ({ kind: 'action', depth: 1, prefix }), filter: rest('actionPrefix'), gsi: true };
  return { key: (day) => ({ kind: 'time', day }), filter: {}, gsi: false };
}

function matches(q: Query, r: LogRecord): boolean {
  if (q.actorId !== undefined && r.event.actor.id !== q.actorId) return false;
  if (q.submitter !== undefined && r.submitter !== q.submitter) return false;
  const p = q.actionPrefix;
  if (p !== undefined && r.event.action !== p && !r.event.action.startsWith(`${p}.`)) return false;
  return true;
}

function toAppError(logId: string, err: unknown): AppError {
  const mapped = fromPortError(err, `query of log ${logId}`);
  if (mapped) return mapped;
  if (err instanceof RecordError || err instanceof MerkleError)
    return new AppError('INTEGRITY', `query of log ${logId}: ${err.message}`, { cause: err });
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new AppError('UNAVAILABLE', `query of log ${logId} failed (${what}); retry`, {
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    cause: err,
  });
}

export class QueryService {
  readonly #o: QueryServiceOptions;
  readonly #hotWindowMs: number;
  readonly #marginMs: number;
  readonly #cursorTtlMs: number;
  readonly #settleMs: number;
  readonly #maxRequests: number;
  readonly #maxScanned: number;
  readonly #maxPageBytes: number;

  constructor(opts: QueryServiceOptions) {
    this.#o = opts;
    this.#hotWindowMs = opts.hotWindowMs ?? DEFAULT_HOT_WINDOW_MS;
    this.#marginMs = opts.marginMs ?? DAY_MS;
    this.#cursorTtlMs = opts.cursorTtlMs ?? 12 * 3_600_000;
    this.#settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS;
    this.#maxRequests = opts.maxRequestsPerPage ?? 50;
    this.#maxScanned = opts.maxScannedPerPage ?? 20_000;
    this.#maxPageBytes = opts.maxPageBytes ?? DEFAULT_MAX_PAGE_BYTES;
    if (this.#cursorTtlMs >= this.#marginMs) throw new RangeError('cursorTtlMs must be below marginMs');
    if (!(opts.cursorKey instanceof Uint8Array) || opts.cursorKey.length < MIN_CURSOR_KEY_BYTES)
      throw new RangeError(`cursorKey must be at least ${MIN_CURSOR_KEY_BYTES} bytes`);
  }

  async query(logId: string, params: QueryParams): Promise<QueryResult> {
    for (const name of ['targetType', 'targetId', 'outcome'] as const)
      if (params[name] !== undefined)
        throw bad(
          name,
          `${name} is answered by the columnar index only (docs/query.md §7); it is not configured`,
        );
    const q = parseQuery(logId, params);
    const binding = this.#binding(q);
    const now = this.#o.clock.now();
    // Decode before any I/O: a bad cursor is a 400 whatever the log holds.
    const resumed = params.cursor === undefined ? undefined : this.#decodeCursor(params.cursor, binding, now);
    try {
      if (!(await this.#o.logs.logExists(logId)))
        throw new AppError('NOT_FOUND', `log ${logId} does not exist`);
      if (q.from >= q.to) return { records: [] };
      const st = resumed ?? (await this.#start(q, binding, now));
      return await this.#page(q, st);
    } catch (err) {
      throw toAppError(logId, err);
    }
  }

  // --- snapshot ---

  async #start(q: Query, binding: string, now: number): Promise<State> {
    const [proj, seal] = await Promise.all([
      this.#o.index.readCursor(q.logId),
      this.#o.sealState.read(q.logId),
    ]);
    const gsi = plan(q).gsi;
    let p = 0;
    let pq = 0;
    let pat: string | undefined;
    let tc = -1;
    if (proj && proj.nextIndex > 0) {
      // GSIs may lag the base table: trust only a position that has had time to settle.
      const pos = gsi && now - proj.updatedAt < this.#settleMs ? proj.settled : proj;
      p = pos.nextIndex;
      pq = pos.seq;
      pat = pos.lastReceivedAt;
      const window = Math.min(this.#hotWindowMs, proj.hotWindowMs);
      tc = Math.max(0, now - window + this.#marginMs);
    }
    const s = seal?.size ?? 0;
    return {
      v: 1,
      f: binding,
      exp: now + this.#cursorTtlMs,
      tc,
      p,
      pq,
      pat,
      s,
      sq: seal?.seq ?? 0,
      sat: seal?.lastReceivedAt,
      ph: 1,
      i: 0,
      q: s > 0 ? 0 : 1,
      z: 1,
      lo: undefined,
      c: 0,
      cq: 1,
    };
  }

  // --- the page ---

  async #page(q: Query, st: State): Promise<QueryResult> {
    const out: QueryRecord[] = [];
    let outBytes = 0;
    const push = (rec: LogRecord, bytes: Uint8Array): void => {
      out.push(result(rec, bytes));
      outBytes += bytes.length + PAGE_BYTES_PER_RECORD;
    };
    const full = (): boolean => out.length >= q.limit || outBytes >= this.#maxPageBytes;
    const budget: Budget = { requests: 0, scanned: 0 };
    const scan = new Scanner(this.#o, q.logId, st, budget);
    const tc = st.tc < 0 ? Number.POSITIVE_INFINITY : st.tc;
    const hotFrom = Math.max(q.from, tc);
    const pl = plan(q);
    const done = (): QueryResult => ({ records: out });
    const more = (): QueryResult => ({ records: out, cursor: this.#encodeCursor(st) });

    for (;;) {
      if (full()) return more();
      if (budget.requests >= this.#maxRequests || budget.scanned >= this.#maxScanned) return more();
      if (st.ph === 1) {
        const end = Math.min(q.to, tc);
        if (q.from >= end) {
          this.#toPhase2(st);
          continue;
        }
        if (st.z) {
          await scan.seek(q.from);
          st.z = 0;
        }
        const r = await scan.peek();
        if (!r) return done();
        const at = parseUtcTimestamp(r.rec.receivedAt) as number;
        if (at >= q.to) return done();
        if (at >= end) {
          st.c = st.i;
          st.cq = st.q;
          this.#toPhase2(st);
          continue;
        }
        scan.consume(r);
        if (at >= q.from && matches(q, r.rec)) push(r.rec, r.bytes);
      } else if (st.ph === 2) {
        if (st.p === 0 || st.pat === undefined || hotFrom >= q.to) {
          this.#toPhase3(st);
          continue;
        }
        const hi = minStr(toKey(q.to), `${st.pat}#~`);
        const lo = st.lo ?? iso(hotFrom);
        if (lo > hi) {
          this.#toPhase3(st);
          continue;
        }
        const day = lo.slice(0, 10);
        const dayHi = pl.gsi ? hi : minStr(hi, `${day}T23:59:59.999Z#~`);
        const want = q.limit - out.length;
        const filtered = Object.keys(pl.filter).length > 0;
        budget.requests++;
        const page = await this.#o.index.query({
          logId: q.logId,
          key: pl.key(day),
          lo,
          hi: dayHi,
          limit: filtered ? Math.min(MAX_QUERY_LIMIT, Math.max(100, want * 4)) : want,
          filter: pl.filter,
        });
        let finished = false;
        let pageFull = false;
        for (const item of page.items) {
          if (item.index >= st.p) {
            finished = true;
            break;
          }
          const rec = fromItem(q.logId, item);
          st.lo = succ(sortKey(item.receivedAt, item.index));
          if (matches(q, rec)) push(rec, item.bytes);
          if (full()) {
            pageFull = true;
            break;
          }
        }
        if (finished) this.#toPhase3(st);
        else if (!pageFull) {
          if (page.lastKey !== undefined) st.lo = succ(page.lastKey);
          else if (!pl.gsi && dayHi < hi) st.lo = iso(Date.parse(`${day}T00:00:00.000Z`) + DAY_MS);
          else this.#toPhase3(st);
        }
      } else {
        if (!Number.isFinite(hotFrom)) return done();
        if (st.z) {
          await scan.seek(hotFrom);
          st.z = 0;
        }
        const r = await scan.peek();
        if (!r) return done();
        const at = parseUtcTimestamp(r.rec.receivedAt) as number;
        if (at >= q.to) return done();
        scan.consume(r);
        if (at >= hotFrom && matches(q, r.rec)) push(r.rec, r.bytes);
      }
    }
  }

  #toPhase2(st: State): void {
    st.ph = 2;
    st.lo = undefined;
  }

  /** Phase 3 starts at max(p, c): past the projection and past what phase 1 scanned. */
  #toPhase3(st: State): void {
    st.ph = 3;
    st.z = 1;
    if (st.p >= st.c) {
      st.i = st.p;
      st.q = st.p >= st.s ? st.pq + 1 : 0;
    } else {
      st.i = st.c;
      st.q = st.cq;
    }
    // Crossing from the archive into the batches exactly at the sealed size.
    if (st.i >= st.s && st.q === 0) st.q = st.sq + 1;
  }

  // --- cursor ---

  #binding(q: Query): string {
    const text = JSON.stringify([q.logId, q.from, q.to, q.actionPrefix, q.actorId, q.submitter]);
    return toBase64Url(createHash('sha256').update(text).digest().subarray(0, 12));
  }

  /** base64url of HMAC-SHA-256(key, payload text)[:16]. */
  #mac(payload: string): string {
    return toBase64Url(createHmac('sha256', this.#o.cursorKey).update(payload).digest().subarray(0, 16));
  }

  #encodeCursor(st: State): string {
    const payload = toBase64Url(utf8(JSON.stringify(st)));
    return `${payload}.${this.#mac(payload)}`;
  }

  #decodeCursor(raw: string, binding: string, now: number): State {
    const invalid = (why: string) => bad('cursor', `cursor is not valid for this query (${why})`);
    if (raw.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(raw))
      throw invalid('malformed');
    const [payload = '', mac = ''] = raw.split('.');
    // Compared as text, not as decoded bytes: base64url decoders ignore the
    // spare bits of the last character, so several spellings decode to one MAC.
    // Only the exact string the server issued is accepted.
    const want = Buffer.from(this.#mac(payload));
    const got = Buffer.from(mac);
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw invalid('bad signature');
    let v: unknown;
    try {
      v = JSON.parse(fromUtf8(fromBase64Url(payload)));
    } catch {
      throw invalid('malformed');
    }
    const st = checkState(v);
    if (!st) throw invalid('malformed');
    if (st.f !== binding) throw invalid('it belongs to a query with other parameters');
    if (now > st.exp) throw invalid('expired; start the query again');
    // Signed by us, so these hold unless the key leaked; checked anyway so that
    // no cursor can carry the service outside the ranges it computes with.
    if (st.exp > now + this.#cursorTtlMs) throw invalid('malformed');
    return st;
  }
}

const isUint = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isAt = (x: unknown) => x === undefined || (typeof x === 'string' && KEY_RE.test(x) && !x.includes('#'));

/** Strict shape check of a decoded cursor; undefined when anything is off. */
function checkState(v: unknown): State | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const keys = [
    'v',
    'f',
    'exp',
    'tc',
    'p',
    'pq',
    'pat',
    's',
    'sq',
    'sat',
    'ph',
    'i',
    'q',
    'z',
    'lo',
    'c',
    'cq',
  ];
  for (const k of Object.keys(o)) if (!keys.includes(k)) return undefined;
  if (o.v !== 1 || typeof o.f !== 'string' || !/^[A-Za-z0-9_-]{16}$/.test(o.f)) return undefined;
  if (!isUint(o.exp) || !(o.tc === -1 || isUint(o.tc))) return undefined;
  if ((o.exp as number) > MAX_EPOCH_MS || (o.tc as number) > MAX_EPOCH_MS) return undefined;
  for (const k of ['p', 'pq', 's', 'sq', 'i', 'q', 'c', 'cq']) if (!isUint(o[k])) return undefined;
  if (!isAt(o.pat) || !isAt(o.sat)) return undefined;
  if (o.ph !== 1 && o.ph !== 2 && o.ph !== 3) return undefined;
  if (o.z !== 0 && o.z !== 1) return undefined;
  if (o.lo !== undefined && (typeof o.lo !== 'string' || !KEY_RE.test(o.lo))) return undefined;
  const st = o as unknown as State;
  if (st.i >= st.s && st.q === 0) return undefined;
  return st;
}

function fromItem(logId: string, item: QueryItem): LogRecord {
  const rec = decodeRecord(item.bytes);
  if (rec.index !== item.index || rec.receivedAt !== item.receivedAt || rec.logId !== logId)
    throw new LogStoreError('INTEGRITY', `query item ${item.index} does not match its record`);
  return rec;
}

function result(rec: LogRecord, bytes: Uint8Array): QueryRecord {
  return {
    index: rec.index,
    receivedAt: rec.receivedAt,
    submitter: rec.submitter,
    event: rec.event,
    leafHash: toBase64(leafHash(bytes)),
  };
}

interface Scanned {
  index: number;
  bytes: Uint8Array;
  rec: LogRecord;
  /** Batch seq for records read from batches; -1 from the archive. */
  seq: number;
  lastInBatch: boolean;
}

/**
 * Reads records by index from the archive (index < sealed size) or the
 * log's batches (beyond), moving the state's (i, q) position as it goes.
 * Caches what it read within one page.
 */
class Scanner {
  readonly #bundles = new Map<number, Uint8Array[]>();
  #batchBuf: Scanned[] = [];
  #buffered: Scanned | undefined;

  constructor(
    private readonly deps: Pick<QueryServiceOptions, 'archive' | 'logs'>,
    private readonly logId: string,
    private readonly st: State,
    private readonly budget: Budget,
  ) {}

  async #bundle(b: number): Promise<Uint8Array[]> {
    const cached = this.#bundles.get(b);
    if (cached) return cached;
    const width = Math.min(TILE_WIDTH, this.st.s - b * TILE_WIDTH);
    this.budget.requests++;
    const bytes = await this.deps.archive.get(archiveKey(this.logId, entryBundlePath(b, width)));
    if (!bytes)
      throw new AppError('INTEGRITY', `entry bundle ${b} (width ${width}) of log ${this.logId} is missing`);
    const entries = decodeEntryBundle(bytes, width);
    this.#bundles.set(b, entries);
    return entries;
  }

  #fromEntry(index: number, bytes: Uint8Array): Scanned {
    const rec = decodeRecord(bytes);
    if (rec.index !== index || rec.logId !== this.logId)
      throw new LogStoreError('INTEGRITY', `archived record at ${index} names ${rec.logId}/${rec.index}`);
    return { index, bytes, rec, seq: -1, lastInBatch: false };
  }

  /** The record at the current position, or undefined at the end of the log. */
  async peek(): Promise<Scanned | undefined> {
    const { st } = this;
    if (this.#buffered?.index === st.i) return this.#buffered;
    let r: Scanned | undefined;
    if (st.i < st.s) {
      const b = Math.floor(st.i / TILE_WIDTH);
      const entries = await this.#bundle(b);
      r = this.#fromEntry(st.i, entries[st.i - b * TILE_WIDTH] as Uint8Array);
    } else {
      while (this.#batchBuf.length > 0 && (this.#batchBuf[0] as Scanned).index < st.i) this.#batchBuf.shift();
      if (this.#batchBuf.length === 0) {
        this.budget.requests++;
        const batches = await this.deps.logs.readBatches(this.logId, st.q, BATCHES_PER_READ);
        if (batches.length === 0) return undefined;
        // (i, q): q is the batch *holding* i, which a page may have left midway.
        const first = batches[0];
        if (!first || first.firstIndex > st.i || first.firstIndex + first.count <= st.i)
          throw new LogStoreError('INTEGRITY', `batch ${st.q} does not hold index ${st.i}`);
        for (const b of batches)
          b.records.forEach((x, k) => {
            if (x.index < st.i) return;
            const rec = decodeRecord(x.bytes);
            if (rec.index !== x.index || rec.logId !== this.logId)
              throw new LogStoreError('INTEGRITY', `record at ${x.index} names ${rec.logId}/${rec.index}`);
            this.#batchBuf.push({
              index: x.index,
              bytes: x.bytes,
              rec,
              seq: b.seq,
              lastInBatch: k === b.count - 1,
            });
          });
      }
      r = this.#batchBuf[0];
      if (r?.index !== st.i) throw new LogStoreError('INTEGRITY', `batches skip index ${st.i}`);
    }
    this.budget.scanned++;
    this.#buffered = r;
    return r;
  }

  consume(r: Scanned): void {
    const { st } = this;
    st.i = r.index + 1;
    if (r.seq >= 0) {
      if (r.lastInBatch) st.q = r.seq + 1;
    } else if (st.i === st.s) st.q = st.sq + 1;
  }

  /**
   * Jumps forward over archived bundles that end before `t` (binary search on
   * each bundle's last record). Records in the batches are skipped linearly
   * by the caller (the unsealed tail is short).
   */
  async seek(t: number): Promise<void> {
    const { st } = this;
    if (t <= 0 || st.i >= st.s) return;
    const tText = iso(t);
    if (st.sat === undefined || st.sat < tText) {
      st.i = st.s;
      st.q = st.sq + 1;
      return;
    }
    let lo = Math.floor(st.i / TILE_WIDTH);
    let hi = Math.ceil(st.s / TILE_WIDTH) - 1; // its last record is sat ≥ t
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const entries = await this.#bundle(mid);
      const last = decodeRecord(entries[entries.length - 1] as Uint8Array);
      if (last.receivedAt >= tText) hi = mid;
      else lo = mid + 1;
    }
    st.i = Math.max(st.i, lo * TILE_WIDTH);
  }
}
