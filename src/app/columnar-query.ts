/**
 * Queries over the columnar index (docs/query.md §7): the query API's
 * filters, and read-only SQL over the view `events`, both executed by an
 * embedded DuckDB on Parquet files fetched from the index store into a
 * private temporary directory (src/app/duckdb-engine.ts).
 *
 * What they see: the sealed records the indexer has written, i.e. records
 * [0, P) where P is the index state's nextIndex when the query (its first
 * page) started. Unsealed records, and sealed ones the projector has not
 * reached yet, are not in the answer — unlike the DynamoDB path
 * (src/app/query.ts), which scans that tail from the batches.
 *
 * Filters: one page reads the current files of consecutive days from the
 * cursor's day on (at most maxBytesPerPage of Parquet), selects matching rows
 * after the cursor's leaf in leaf order, and returns at most `limit` of them
 * with a cursor when more days remain. A cursor is HMAC-signed, bound to the
 * filters, and says (P, last leaf returned, its day): receivedAt never
 * decreases along the log, so no later row lives on an earlier day.
 *
 * SQL: exactly one statement whose type DuckDB's own parser reports as
 * SELECT (a WITH … SELECT is one), run with external access off and the
 * configuration locked (only the fetched files readable), one thread, a
 * memory limit, a row limit and a time limit (interrupt). Every result must
 * carry a `leafIndex` column, so every row can be proved.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../core/bytes.ts';
import { currentFiles, type IndexFile, logPrefix, parseFileKey } from '../core/columnar.ts';
import { type AuditEvent, OUTCOMES } from '../core/event.ts';
import { isWellFormedUnicode, parseJson } from '../core/ijson.ts';
import type { Clock } from '../ports/clock.ts';
import type { ColumnarIndexStore } from '../ports/columnar-index.ts';
import type { LogStore } from '../ports/log-store.ts';
import type { ColumnarIndexer } from './columnar-indexer.ts';
import { duckdb, withView } from './duckdb-engine.ts';
import { AppError } from './errors.ts';
import { fromPortError, RETRY_AFTER_SECONDS } from './port-errors.ts';
import {
  MIN_CURSOR_KEY_BYTES,
  parseQuery,
  type QueryParams,
  type QueryRecord,
  type QueryResult,
} from './query.ts';

const MiB = 1024 * 1024;
export const MAX_SQL_CHARS = 16_384;
export const DEFAULT_SQL_ROWS = 1000;
export const MAX_SQL_ROWS = 10_000;
const MAX_CURSOR_CHARS = 1024;
const FETCH_CONCURRENCY = 16;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_RE = /[\x00-\x1f\x7f]/;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Why a SQL request was refused (`error.reason`, with 400 BAD_REQUEST and path `/sql`). */
export type SqlRefusal =
  | 'SQL_EMPTY'
  | 'SQL_TOO_LONG'
  | 'SQL_MULTIPLE_STATEMENTS'
  | 'SQL_NOT_READ_ONLY'
  | 'SQL_INVALID'
  | 'SQL_FORBIDDEN'
  | 'SQL_TIMEOUT'
  | 'SQL_MEMORY'
  | 'SQL_NO_LEAF_INDEX'
  | 'SQL_SCOPE_TOO_LARGE';

function refuse(reason: SqlRefusal, message: string, path = '/sql'): AppError {
  return new AppError('BAD_REQUEST', message, { path, details: { reason } });
}

function bad(name: string, message: string): AppError {
  return new AppError('BAD_REQUEST', message, { path: `/query/${name}` });
}

/** The filters of the DynamoDB path plus the ones only the columnar index answers. */
export interface ColumnarQueryParams extends QueryParams {
  targetType?: string;
  targetId?: string;
  outcome?: string;
}

export interface SqlRequest {
  sql: string;
  /** Optional RFC 3339 bounds that choose which days' files are read (the SQL still filters rows). */
  from?: string;
  to?: string;
  /** Rows to return at most (1–10,000, default 1,000). */
  maxRows?: number;
}

export interface SqlResult {
  columns: Array<{ name: string; type: string }>;
  /** Rows as JSON values (BIGINT and TIMESTAMP as strings, JSON columns as text). */
  rows: Array<Record<string, unknown>>;
  /** More rows matched than maxRows. */
  truncated: boolean;
  /** Records [0, indexedSize) are in the index. */
  indexedSize: number;
  /** Parquet bytes read. */
  bytesRead: number;
}

export interface ColumnarQueryOptions {
  readonly index: ColumnarIndexStore;
  readonly indexer: Pick<ColumnarIndexer, 'state'>;
  readonly logs: Pick<LogStore, 'logExists'>;
  readonly clock: Clock;
  readonly cursorKey: Uint8Array;
  /** Parquet bytes one filter page may read. Default 256 MiB. */
  readonly maxBytesPerPage?: number;
  /** Parquet bytes one SQL request may read (they are written to the temporary directory: Lambda /tmp is 512 MB by default). Default 256 MiB. */
  readonly maxSqlBytes?: number;
  /** SQL time limit. Default 10 s. */
  readonly sqlTimeoutMs?: number;
  /** DuckDB memory_limit for a request. Default '512MB'. */
  readonly memoryLimit?: string;
  /** Cursor lifetime. Default 12 hours. */
  readonly cursorTtlMs?: number;
}

interface Filters {
  from: number;
  to: number;
  actionPrefix: string | undefined;
  actorId: string | undefined;
  submitter: string | undefined;
  targetType: string | undefined;
  targetId: string | undefined;
  outcome: string | undefined;
  limit: number;
}

interface Cursor {
  v: 2;
  f: string;
  exp: number;
  /** Index size at the first page. */
  p: number;
  /** Last leaf returned (or passed), -1 before the first. */
  a: number;
  /** Day to continue from. */
  d: string;
}

function textParam(name: string, v: string | undefined, max: number): string | undefined {
  if (v === undefined) return undefined;
  if (v.length === 0 || v.length > max || CONTROL_RE.test(v) || !isWellFormedUnicode(v))
    throw bad(name, `${name} must be 1 to ${max} characters without control characters`);
  return v;
}

function parseFilters(logId: string, p: ColumnarQueryParams): Filters {
  const q = parseQuery(logId, p);
  if (p.outcome !== undefined && !(OUTCOMES as readonly string[]).includes(p.outcome))
    throw bad('outcome', `outcome must be one of ${OUTCOMES.join(', ')}`);
  return {
    from: q.from,
    to: q.to,
    actionPrefix: q.actionPrefix,
    actorId: q.actorId,
    submitter: q.submitter,
    targetType: textParam('targetType', p.targetType, 128),
    targetId: textParam('targetId', p.targetId, 512),
    outcome: p.outcome,
    limit: q.limit,
  };
}

const dayOf = (ms: number) => new Date(Math.min(ms, 253402300799999)).toISOString().slice(0, 10);

function toAppError(logId: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const mapped = fromPortError(err, `query of log ${logId}`);
  if (mapped) return mapped;
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new AppError('UNAVAILABLE', `query of log ${logId} failed (${what}); retry`, {
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    cause: err,
  });
}

/** A DuckDB error from running a caller's SQL, as the refusal it is (or undefined: our fault). */
function sqlRefusal(err: unknown): AppError | undefined {
  const m = err instanceof Error ? err.message : '';
  const first = m.split('\n')[0]?.slice(0, 300) ?? '';
  if (/^INTERRUPT Error/.test(m)) return refuse('SQL_TIMEOUT', 'the query ran past its time limit');
  if (/^Out of Memory Error/.test(m)) return refuse('SQL_MEMORY', 'the query needs more memory than allowed');
  if (/^Permission Error|configuration has been locked|disabled by configuration/.test(m))
    return refuse('SQL_FORBIDDEN', `only the view events may be read: ${first}`);
  if (
    /^(Parser|Binder|Catalog|Conversion|Invalid Input|Not implemented|Out of Range|Syntax|Invalid type|Mismatch Type|Type|Dependency|Constraint|Sequence) Error/.test(
      m,
    )
  )
    return refuse('SQL_INVALID', first);
  return undefined;
}

export class ColumnarQueryService {
  readonly #o: ColumnarQueryOptions;
  readonly #maxPage: number;
  readonly #maxSql: number;
  readonly #timeout: number;
  readonly #memory: string;
  readonly #ttl: number;

  constructor(opts: ColumnarQueryOptions) {
    this.#o = opts;
    this.#maxPage = opts.maxBytesPerPage ?? 256 * MiB;
    this.#maxSql = opts.maxSqlBytes ?? 256 * MiB;
    this.#timeout = opts.sqlTimeoutMs ?? 10_000;
    this.#memory = opts.memoryLimit ?? '512MB';
    this.#ttl = opts.cursorTtlMs ?? 12 * 3_600_000;
    if (!(opts.cursorKey instanceof Uint8Array) || opts.cursorKey.length < MIN_CURSOR_KEY_BYTES)
      throw new RangeError(`cursorKey must be at least ${MIN_CURSOR_KEY_BYTES} bytes`);
  }

  // --- filters ---

  async query(logId: string, params: ColumnarQueryParams): Promise<QueryResult> {
    const f = parseFilters(logId, params);
    const binding = this.#binding(logId, f);
    const now = this.#o.clock.now();
    const resumed = params.cursor === undefined ? undefined : this.#decodeCursor(params.cursor, binding, now);
    try {
      if (!(await this.#o.logs.logExists(logId)))
        throw new AppError('NOT_FOUND', `log ${logId} does not exist`);
      if (f.from >= f.to) return { records: [] };
      const cur: Cursor = resumed ?? {
        v: 2,
        f: binding,
        exp: now + this.#ttl,
        p: (await this.#o.indexer.state(logId))?.nextIndex ?? 0,
        a: -1,
        d: dayOf(f.from),
      };
      const lastDay = dayOf(f.to - 1);
      const days = await this.#days(logId, cur.d, lastDay);
      // One page reads consecutive days from the cursor's, up to maxBytesPerPage of Parquet
      // (at least one day), so its work is bounded whatever the filters match.
      const group: IndexFile[][] = [];
      let bytes = 0;
      for (const files of days) {
        const size = files.reduce((n, x) => n + x.size, 0);
        if (group.length > 0 && bytes + size > this.#maxPage) break;
        group.push(files);
        bytes += size;
      }
      const records = await this.#select(logId, group.flat(), f, cur, f.limit);
      const last = records.at(-1);
      if (records.length >= f.limit && last) {
        // Full: the next page resumes after the last row, on its day.
        cur.a = last.index;
        cur.d = last.receivedAt.slice(0, 10);
        return { records, cursor: this.#encodeCursor(cur) };
      }
      // Every day read is exhausted: the next page starts at the first day not read.
      const next = days[group.length]?.[0]?.day;
      if (next === undefined) return { records };
      if (last) cur.a = last.index;
      cur.d = next;
      return { records, cursor: this.#encodeCursor(cur) };
    } catch (err) {
      throw toAppError(logId, err);
    }
  }

  /** Current files per day for days in [fromDay, toDay], ascending. */
  async #days(logId: string, fromDay: string, toDay: string): Promise<IndexFile[][]> {
    const byDay = new Map<string, IndexFile[]>();
    for (const o of await this.#o.index.list(logPrefix(logId))) {
      const x = parseFileKey(o.key, o.size);
      if (!x || x.day < fromDay || x.day > toDay) continue;
      byDay.set(x.day, [...(byDay.get(x.day) ?? []), x]);
    }
    return [...byDay.keys()].sort().map((d) => currentFiles(byDay.get(d) as IndexFile[]).files);
  }

  /** The files' bytes, fetched FETCH_CONCURRENCY at a time (a day is one GET; S3 latency dominates). */
  async #fetch(logId: string, files: readonly IndexFile[]): Promise<Uint8Array[]> {
    const out: Uint8Array[] = new Array(files.length);
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const k = next++;
        const b = await this.#o.index.get((files[k] as IndexFile).key);
        // Compaction deleted it after our listing: the covering file has its rows; ask again.
        if (!b)
          throw new AppError('UNAVAILABLE', `index of log ${logId} changed while it was read; retry`, {
            retryAfterSeconds: RETRY_AFTER_SECONDS,
          });
        out[k] = b;
      }
    };
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, files.length) }, worker));
    return out;
  }

  async #select(
    logId: string,
    files: IndexFile[],
    f: Filters,
    cur: Cursor,
    n: number,
  ): Promise<QueryRecord[]> {
    if (files.length === 0) return [];
    const bytes = await this.#fetch(logId, files);
    const overlap = currentFiles(files).overlap;
    return withView(bytes, overlap, { memoryLimit: this.#memory }, async (conn) => {
      const where = [
        'leafIndex > $after',
        'leafIndex < $p',
        'receivedAt >= make_timestamp($fromUs::BIGINT)',
        'receivedAt < make_timestamp($toUs::BIGINT)',
      ];
      const values: Record<string, string | bigint | number> = {
        after: BigInt(cur.a),
        p: BigInt(cur.p),
        fromUs: BigInt(f.from) * 1000n,
        toUs: BigInt(Math.min(f.to, 253402300799999)) * 1000n,
        n,
      };
      const eq = (col: string, name: string, v: string | undefined) => {
        if (v === undefined) return;
        where.push(`${col} = $${name}`);
        values[name] = v;
      };
      eq('actorId', 'actorId', f.actorId);
      eq('submitter', 'submitter', f.submitter);
      eq('targetType', 'targetType', f.targetType);
      eq('targetId', 'targetId', f.targetId);
      eq('outcome', 'outcome', f.outcome);
      if (f.actionPrefix !== undefined) {
        where.push(`(action = $ap OR starts_with(action, $apDot))`);
        values.ap = f.actionPrefix;
        values.apDot = `${f.actionPrefix}.`;
      }
      const r = await conn.runAndReadAll(
        `SELECT leafIndex, epoch_ms(receivedAt) AS ms, submitter, event::VARCHAR AS event, leafHash
         FROM events WHERE ${where.join(' AND ')} ORDER BY leafIndex LIMIT $n`,
        values,
      );
      return r.getRowObjectsJS().map((row) => ({
        index: Number(row.leafIndex),
        receivedAt: new Date(Number(row.ms)).toISOString(),
        submitter: String(row.submitter),
        event: parseJson(String(row.event)) as unknown as AuditEvent,
        leafHash: String(row.leafHash),
      }));
    });
  }

  // --- SQL ---

  async sql(logId: string, req: SqlRequest): Promise<SqlResult> {
    const text = req.sql;
    if (typeof text !== 'string' || text.trim().length === 0)
      throw refuse('SQL_EMPTY', 'sql must not be empty');
    if (text.length > MAX_SQL_CHARS || !isWellFormedUnicode(text))
      throw refuse('SQL_TOO_LONG', `sql must be at most ${MAX_SQL_CHARS} characters of well-formed text`);
    const maxRows = req.maxRows ?? DEFAULT_SQL_ROWS;
    if (!Number.isSafeInteger(maxRows) || maxRows < 1 || maxRows > MAX_SQL_ROWS)
      throw new AppError('BAD_REQUEST', `maxRows must be an integer from 1 to ${MAX_SQL_ROWS}`, {
        path: '/maxRows',
      });
    const q = parseQuery(logId, {
      ...(req.from ? { from: req.from } : {}),
      ...(req.to ? { to: req.to } : {}),
    });
    try {
      if (!(await this.#o.logs.logExists(logId)))
        throw new AppError('NOT_FOUND', `log ${logId} does not exist`);
      const indexedSize = (await this.#o.indexer.state(logId))?.nextIndex ?? 0;
      const days = q.from >= q.to ? [] : await this.#days(logId, dayOf(q.from), dayOf(q.to - 1));
      const files = days.flat();
      const bytesRead = files.reduce((n, x) => n + x.size, 0);
      if (bytesRead > this.#maxSql)
        throw refuse(
          'SQL_SCOPE_TOO_LARGE',
          `the index of this log in [from, to) is ${bytesRead} bytes, over the ${this.#maxSql}-byte limit of one SQL request; narrow from/to`,
          '/from',
        );
      const bytes = await this.#fetch(logId, files);
      return await withView(
        bytes,
        currentFiles(files).overlap,
        { memoryLimit: this.#memory },
        async (conn) => {
          const r = await this.#runUserSql(conn, text, maxRows);
          return { ...r, indexedSize, bytesRead };
        },
      );
    } catch (err) {
      throw toAppError(logId, err);
    }
  }

  async #runUserSql(
    conn: DuckDBConnection,
    text: string,
    maxRows: number,
  ): Promise<Pick<SqlResult, 'columns' | 'rows' | 'truncated'>> {
    let extracted: Awaited<ReturnType<DuckDBConnection['extractStatements']>>;
    try {
      extracted = await conn.extractStatements(text);
    } catch (err) {
      throw sqlRefusal(err) ?? refuse('SQL_INVALID', 'sql does not parse');
    }
    if (extracted.count !== 1)
      throw refuse('SQL_MULTIPLE_STATEMENTS', `sql must be exactly one statement (got ${extracted.count})`);
    // Statement kind from DuckDB's parser alone, before anything is bound (binding a COPY or an
    // INSERT would already touch files or tables): json_serialize_sql serialises SELECT
    // statements only and reports every other kind as such.
    const parsed = await conn.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS j', [text]);
    const tree = JSON.parse(String(parsed.getRows()[0]?.[0] ?? '{}')) as {
      error?: boolean;
      error_type?: string;
    };
    if (tree.error === true)
      throw tree.error_type === 'not implemented'
        ? refuse('SQL_NOT_READ_ONLY', 'only a query (SELECT or WITH … SELECT) is allowed')
        : refuse('SQL_INVALID', 'sql does not parse');
    let prepared: Awaited<ReturnType<typeof extracted.prepare>>;
    try {
      prepared = await extracted.prepare(0);
    } catch (err) {
      throw sqlRefusal(err) ?? err;
    }
    const { StatementType } = await duckdb();
    // DuckDB's parser, not a pattern: PRAGMA, COPY, ATTACH, SET, LOAD, CREATE … all have their own type.
    if (prepared.statementType !== StatementType.SELECT)
      throw refuse(
        'SQL_NOT_READ_ONLY',
        `only a query (SELECT or WITH … SELECT) is allowed; this is a ${StatementType[prepared.statementType] ?? 'other'} statement`,
      );
    if (prepared.parameterCount > 0) throw refuse('SQL_INVALID', 'sql must not have parameters');
    const names = Array.from({ length: prepared.columnCount }, (_, i) => prepared.columnName(i));
    if (!names.includes('leafIndex'))
      throw refuse(
        'SQL_NO_LEAF_INDEX',
        'the result must have a column named leafIndex (so every row can be proved)',
      );
    const timer = setTimeout(() => conn.interrupt(), this.#timeout);
    try {
      const reader = await prepared.streamAndReadUntil(maxRows + 1);
      const rows = reader.getRowObjectsJson() as Array<Record<string, unknown>>;
      const columns = reader
        .columnNames()
        .map((name, i) => ({ name, type: reader.columnType(i).toString() }));
      return { columns, rows: rows.slice(0, maxRows), truncated: rows.length > maxRows };
    } catch (err) {
      throw sqlRefusal(err) ?? err;
    } finally {
      clearTimeout(timer);
    }
  }

  // --- cursor ---

  #binding(logId: string, f: Filters): string {
    const { limit: _, ...rest } = f;
    const text = JSON.stringify(['columnar', logId, rest]);
    return toBase64Url(createHash('sha256').update(text).digest().subarray(0, 12));
  }

  #mac(payload: string): string {
    return toBase64Url(createHmac('sha256', this.#o.cursorKey).update(payload).digest().subarray(0, 16));
  }

  #encodeCursor(c: Cursor): string {
    const payload = toBase64Url(utf8(JSON.stringify(c)));
    return `${payload}.${this.#mac(payload)}`;
  }

  #decodeCursor(raw: string, binding: string, now: number): Cursor {
    const invalid = (why: string) => bad('cursor', `cursor is not valid for this query (${why})`);
    if (raw.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(raw))
      throw invalid('malformed');
    const [payload = '', mac = ''] = raw.split('.');
    const want = Buffer.from(this.#mac(payload));
    const got = Buffer.from(mac);
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw invalid('bad signature');
    let v: unknown;
    try {
      v = JSON.parse(fromUtf8(fromBase64Url(payload)));
    } catch {
      throw invalid('malformed');
    }
    const o = v as Record<string, unknown>;
    const uint = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
    if (
      typeof o !== 'object' ||
      o === null ||
      Object.keys(o).sort().join() !== 'a,d,exp,f,p,v' ||
      o.v !== 2 ||
      typeof o.f !== 'string' ||
      !uint(o.exp) ||
      !uint(o.p) ||
      !(o.a === -1 || uint(o.a)) ||
      typeof o.d !== 'string' ||
      !DAY_RE.test(o.d)
    )
      throw invalid('malformed');
    const c = o as unknown as Cursor;
    if (c.f !== binding) throw invalid('it belongs to a query with other parameters');
    if (now > c.exp) throw invalid('expired; start the query again');
    if (c.exp > now + this.#ttl) throw invalid('malformed');
    return c;
  }
}
