/**
 * The columnar index's layout (docs/query.md §7), pure: what one sealed
 * record becomes as a row, where a file of rows lives, and which of a day's
 * files a reader uses.
 *
 * Keys: `index/log=<logId>/day=<yyyy-mm-dd>/<first>-<end>.parquet`, `first`
 * and `end` the half-open leaf range [first, end) of the rows the file holds
 * (16 digits each, so key order is leaf order). Hive-style `name=value`
 * segments, so Athena/Glue partition projection reads the same tree.
 * Progress: `index/log=<logId>/_state.json`.
 *
 * INVARIANT (what makes writes idempotent and compaction crash-safe):
 *   a file named [first, end) under day D holds exactly the sealed records
 *   with first ≤ leafIndex < end whose receivedAt falls on D, one row each,
 *   derived deterministically from the record. So two files never disagree
 *   about a leaf, rewriting a range rewrites the same rows, and a file whose
 *   range contains another's holds all of that one's rows. Readers therefore
 *   use the *current* files of a day — those whose range is not inside another
 *   listed file's range — and deduplicate by leafIndex where current ranges
 *   still overlap (only after a crash mid-rebuild). Writers write a covering
 *   file before deleting what it covers.
 */
import { toBase64 } from './bytes.ts';
import { canonicalJson } from './canonical.ts';
import { type LogRecord, leafHash } from './record.ts';

export const INDEX_PREFIX = 'index/';
const RANGE_DIGITS = 16;

/** One record as a row of the index (column names are the SQL view's). */
export interface IndexRow {
  log: string;
  /** UTC day of receivedAt, yyyy-mm-dd (the partition). */
  day: string;
  leafIndex: number;
  /** RFC 3339 with milliseconds, as in the record (a TIMESTAMP column in the files). */
  receivedAt: string;
  occurredAt: string;
  actorType: string;
  actorId: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  submitter: string;
  /** The event as canonical JSON (RFC 8785), as it is inside the record. */
  event: string;
  /** Base64 RFC 6962 leaf hash of the record's canonical bytes: prove the row with it. */
  leafHash: string;
}

/** The columns in file order. */
export const INDEX_COLUMNS = [
  'log',
  'day',
  'leafIndex',
  'receivedAt',
  'occurredAt',
  'actorType',
  'actorId',
  'action',
  'targetType',
  'targetId',
  'outcome',
  'submitter',
  'event',
  'leafHash',
] as const;

export function indexRow(rec: LogRecord, bytes: Uint8Array): IndexRow {
  return {
    log: rec.logId,
    day: rec.receivedAt.slice(0, 10),
    leafIndex: rec.index,
    receivedAt: rec.receivedAt,
    occurredAt: rec.event.occurredAt,
    actorType: rec.event.actor.type,
    actorId: rec.event.actor.id,
    action: rec.event.action,
    targetType: rec.event.target?.type ?? null,
    targetId: rec.event.target?.id ?? null,
    outcome: rec.event.outcome,
    submitter: rec.submitter,
    event: canonicalJson(rec.event),
    leafHash: toBase64(leafHash(bytes)),
  };
}

export const logPrefix = (logId: string) => `${INDEX_PREFIX}log=${logId}/`;
export const dayPrefix = (logId: string, day: string) => `${logPrefix(logId)}day=${day}/`;
export const stateKey = (logId: string) => `${logPrefix(logId)}_state.json`;

const pad = (n: number) => String(n).padStart(RANGE_DIGITS, '0');
export function fileKey(logId: string, day: string, first: number, end: number): string {
  return `${dayPrefix(logId, day)}${pad(first)}-${pad(end)}.parquet`;
}

export interface IndexFile {
  key: string;
  day: string;
  first: number;
  end: number;
  size: number;
}

const FILE_RE = /\/day=(\d{4}-\d{2}-\d{2})\/(\d{16})-(\d{16})\.parquet$/;

/** A listed key as an index file, or undefined for anything else (state, strays). */
export function parseFileKey(key: string, size = 0): IndexFile | undefined {
  const m = FILE_RE.exec(key);
  if (!m) return undefined;
  const first = Number(m[2]);
  const end = Number(m[3]);
  if (!(first < end)) return undefined;
  return { key, day: m[1] as string, first, end, size };
}

/**
 * The current files among one day's (see the invariant above): every file
 * whose range is not inside another's (equal ranges are one key), in leaf
 * order; `overlap` says whether current ranges still overlap, so the reader
 * must deduplicate by leafIndex.
 */
export function currentFiles(files: readonly IndexFile[]): { files: IndexFile[]; overlap: boolean } {
  const out = files.filter(
    (f) =>
      !files.some(
        (g) => g !== f && g.first <= f.first && f.end <= g.end && (g.first < f.first || f.end < g.end),
      ),
  );
  out.sort((a, b) => a.first - b.first || a.end - b.end);
  let overlap = false;
  for (let i = 1; i < out.length; i++)
    if ((out[i] as IndexFile).first < (out[i - 1] as IndexFile).end) overlap = true;
  return { files: out, overlap };
}

/** The projector's progress (`_state.json`): records [0, nextIndex) are in files. */
export interface IndexState {
  v: 1;
  nextIndex: number;
  /** receivedAt of record nextIndex-1; undefined when nextIndex = 0. */
  lastReceivedAt: string | undefined;
}

export function parseIndexState(text: string): IndexState | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (o.v !== 1 || !Number.isSafeInteger(o.nextIndex) || (o.nextIndex as number) < 0) return undefined;
  if (o.lastReceivedAt !== undefined && typeof o.lastReceivedAt !== 'string') return undefined;
  return { v: 1, nextIndex: o.nextIndex as number, lastReceivedAt: o.lastReceivedAt as string | undefined };
}
