/**
 * Records: the stored, hashed form of an event (docs/formats.md §Events and records).
 *
 * A record's canonical bytes (RFC 8785) are the Merkle leaf data, and its leaf
 * hash SHA-256(0x00 ‖ bytes) (RFC 6962 §2.1) is also its chain hash: record i
 * carries `prev` = base64 leaf hash of record i-1, so the leaves form a hash
 * chain. `decodeRecord` and `verifyChain` are used by offline verifiers on
 * attacker-supplied bundles: they parse strictly, bound sizes before work,
 * and accept only bytes that are exactly the canonical form (one record, one
 * encoding, one hash).
 */
import { bytesEqual, fromBase64, toBase64 } from './bytes.ts';
import { canonicalBytes } from './canonical.ts';
import { AnchorlogError } from './errors.ts';
import {
  type AuditEvent,
  EVENT_LIMITS,
  EventValidationError,
  parseUtcTimestamp,
  validateEvent,
} from './event.ts';
import { CanonicalJsonError, DEFAULT_MAX_DEPTH, isWellFormedUnicode, parseJson } from './ijson.ts';
import { MAX_ENTRY_SIZE } from './merkle/entry-bundle.ts';
import { hashLeaf } from './merkle/hasher.ts';
import { isValidLogId, LOG_ID_RULE } from './names.ts';

export const RECORD_VERSION = 1;
/**
 * THE record limit: a record's canonical bytes are at most 65,535 bytes
 * (docs/formats.md §Limits). It is not a choice but the sealer's ceiling: a
 * C2SP entry bundle prefixes each entry with a uint16 length
 * (c2sp.org/tlog-tiles), so a longer record could be stored but never sealed,
 * and one such record halts its log. encodeRecord (hence ingest),
 * decodeRecord (hence every verifier) and the bundle format all use this
 * constant; nothing else may state the number.
 */
export const MAX_RECORD_BYTES: number = MAX_ENTRY_SIZE;
/**
 * Deepest nesting of a valid record: the record, its event, `changes`, then
 * EVENT_LIMITS.freeformDepth levels of `changes.before`/`after` (metadata is
 * one level shallower). decodeRecord parses no deeper.
 */
export const MAX_RECORD_DEPTH: number = 3 + EVENT_LIMITS.freeformDepth;
// canonicalBytes (encodeRecord, decodeRecord's canonical check) serialises at
// most DEFAULT_MAX_DEPTH levels: a valid record must fit, or ingest would
// refuse (or a verifier reject) an event the event rules allow.
if (MAX_RECORD_DEPTH > DEFAULT_MAX_DEPTH)
  throw new Error(`MAX_RECORD_DEPTH ${MAX_RECORD_DEPTH} exceeds the serialiser's ${DEFAULT_MAX_DEPTH}`);
/** RFC 6962 leaf hashes are SHA-256: 32 bytes. */
export const HASH_SIZE = 32;
/** `prev` of record 0: 32 zero bytes. Do not mutate; copy if you need a buffer. */
export const ZERO_HASH: Uint8Array = new Uint8Array(HASH_SIZE);
export const ZERO_HASH_B64: string = toBase64(ZERO_HASH);

export interface LogRecord {
  v: 1;
  logId: string;
  /** 0-based position in the log. */
  index: number;
  /** Assigned by the log, millisecond precision, never decreasing along the log. */
  receivedAt: string;
  /** Authenticated principal id (not client-claimed). */
  submitter: string;
  /** Base64 leaf hash of record index-1; ZERO_HASH_B64 for index 0. */
  prev: string;
  event: AuditEvent;
}

export type RecordErrorCode = 'INVALID_RECORD' | 'RECORD_TOO_LARGE' | 'INVALID_LOG_ID';

export class RecordError extends AnchorlogError<RecordErrorCode> {
  /** JSON pointer inside the record, when the problem is a field. */
  readonly path: string;
  /** RECORD_TOO_LARGE: the record's size in bytes. */
  readonly size: number | undefined;
  constructor(
    code: RecordErrorCode,
    message: string,
    details: { path?: string; size?: number; cause?: unknown } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.path = details.path ?? '';
    this.size = details.size;
  }
}

export type ChainErrorCode =
  | 'INVALID_RECORD'
  | 'RECORD_TOO_LARGE'
  | 'CHAIN_LOG_MISMATCH'
  | 'CHAIN_INDEX_GAP'
  | 'CHAIN_PREV_MISMATCH'
  | 'CHAIN_TIME_REGRESSION';

export class ChainError extends AnchorlogError<ChainErrorCode> {
  /** Log index of the first failing record (its expected index when it could not be decoded). */
  readonly index: number;
  /** 0-based position of that record in the sequence given to verifyChain. */
  readonly position: number;
  constructor(code: ChainErrorCode, index: number, position: number, message: string, cause?: unknown) {
    super(code, `record ${index}: ${message}`, cause === undefined ? undefined : { cause });
    this.index = index;
    this.position = position;
  }
}

const RECEIVED_AT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_RE = /[\x00-\x1f\x7f]/;
const MAX_SUBMITTER = 256;
const RECORD_KEYS = ['event', 'index', 'logId', 'prev', 'receivedAt', 'submitter', 'v'];

/** The one log id rule (./names.ts), re-exported where records are. */
export { isValidLogId };

/** Throws RecordError('INVALID_LOG_ID') unless `v` is a valid log id (./names.ts). */
export function validateLogId(v: unknown): string {
  if (!isValidLogId(v)) throw new RecordError('INVALID_LOG_ID', LOG_ID_RULE);
  return v;
}

/** Latest instant `formatReceivedAt` accepts: 9999-12-31T23:59:59.999Z. */
export const MAX_EPOCH_MS = 253402300799999;

/**
 * Latest receivedAt the log assigns: 9999-12-31T23:59:59.998Z, one
 * millisecond before the last writable instant, so every record lies in a
 * half-open range [from, to) whose `to` is still a time in this format
 * (exports and bundles, docs/bundle.md).
 */
export const MAX_RECEIVED_AT_MS = MAX_EPOCH_MS - 1;

/**
 * The log's `receivedAt` text for an epoch-millisecond instant from the
 * injected clock: `2026-03-01T12:00:00.000Z`. Fixed width, so string order is
 * time order.
 */
export function formatReceivedAt(epochMs: number): string {
  if (!Number.isSafeInteger(epochMs) || epochMs < 0 || epochMs > MAX_EPOCH_MS) {
    throw new RangeError(`receivedAt must be integer epoch ms in [0, ${MAX_EPOCH_MS}]`);
  }
  return new Date(epochMs).toISOString();
}

function invalid(path: string, message: string, cause?: unknown): never {
  throw new RecordError('INVALID_RECORD', `${message}${path ? ` (${path})` : ''}`, { path, cause });
}

/** Shape check shared by encode and decode; `v` is any value, typically freshly parsed. */
function checkRecord(v: unknown): LogRecord {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid('', 'record must be an object');
  const o = v as { [k: string]: unknown };
  const keys = Object.keys(o).sort();
  for (const k of keys)
    if (!RECORD_KEYS.includes(k)) invalid(`/${k}`, `unknown record field ${JSON.stringify(k)}`);
  for (const k of RECORD_KEYS) if (!(k in o)) invalid(`/${k}`, `record field ${k} is missing`);
  if (o.v !== RECORD_VERSION) invalid('/v', `unsupported record version (expected ${RECORD_VERSION})`);
  if (!isValidLogId(o.logId)) invalid('/logId', LOG_ID_RULE);
  if (typeof o.index !== 'number' || !Number.isSafeInteger(o.index) || o.index < 0) {
    invalid('/index', 'index must be a non-negative safe integer');
  }
  if (
    typeof o.receivedAt !== 'string' ||
    !RECEIVED_AT_RE.test(o.receivedAt) ||
    parseUtcTimestamp(o.receivedAt) === undefined
  ) {
    invalid(
      '/receivedAt',
      'receivedAt must be a UTC timestamp with milliseconds, e.g. 2026-03-01T12:00:00.000Z',
    );
  }
  const s = o.submitter;
  if (
    typeof s !== 'string' ||
    s.length === 0 ||
    s.length > MAX_SUBMITTER ||
    CONTROL_RE.test(s) ||
    !isWellFormedUnicode(s)
  ) {
    invalid('/submitter', `submitter must be a non-empty string of at most ${MAX_SUBMITTER} characters`);
  }
  if (typeof o.prev !== 'string' || o.prev.length !== 44 || !isHash(o.prev)) {
    invalid('/prev', 'prev must be the base64 of a 32-byte hash');
  }
  if (o.index === 0 && o.prev !== ZERO_HASH_B64) invalid('/prev', 'prev of record 0 must be 32 zero bytes');
  try {
    validateEvent(o.event, '/event');
  } catch (e) {
    if (e instanceof EventValidationError) invalid(e.path, e.message, e);
    throw e;
  }
  return o as unknown as LogRecord;
}

/**
 * Exactly the strings fromBase64 decodes to 32 bytes: 43 alphabet characters
 * and one `=` (44 characters), the last data character with its two low bits
 * zero (fromBase64 refuses non-canonical trailing bits). One regular
 * expression instead of a decode: it runs for every record a verifier reads.
 * test/core/record-fast.test.ts checks it against fromBase64.
 */
const HASH_B64_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export function isHash(b64: string): boolean {
  return HASH_B64_RE.test(b64);
}

/**
 * Canonical bytes of a record (the leaf data). Checks the record's shape first
 * (INVALID_RECORD), and refuses more than MAX_RECORD_BYTES with
 * RECORD_TOO_LARGE — never truncates — so the API can answer 413.
 */
export function encodeRecord(record: LogRecord): Uint8Array {
  checkRecord(record);
  let bytes: Uint8Array;
  try {
    bytes = canonicalBytes(record);
  } catch (e) {
    if (e instanceof CanonicalJsonError) invalid(e.path, e.message, e);
    throw e;
  }
  // Measured after encoding so the message can say by how much: a client
  // trimming its event needs the number. The encoding is bounded by the input
  // it came from (ingest's body limit), so nothing is gained by stopping early.
  if (bytes.length > MAX_RECORD_BYTES) {
    throw new RecordError(
      'RECORD_TOO_LARGE',
      `record is ${bytes.length} bytes; limit ${MAX_RECORD_BYTES} (the C2SP entry-bundle maximum)`,
      { size: bytes.length },
    );
  }
  return bytes;
}

/**
 * Parse record bytes from an untrusted source. Rejects oversize input before
 * parsing, anything that is not strict I-JSON, a wrong shape, and bytes that
 * are valid but not the canonical encoding (which we would never have written).
 */
export function decodeRecord(bytes: Uint8Array): LogRecord {
  if (bytes.length > MAX_RECORD_BYTES) {
    throw new RecordError('RECORD_TOO_LARGE', `record is ${bytes.length} bytes; limit ${MAX_RECORD_BYTES}`, {
      size: bytes.length,
    });
  }
  let value: unknown;
  try {
    // The parser's exact-number rule (INEXACT_NUMBER) costs nothing here and
    // changes nothing for honest input: canonical bytes write every number as
    // String(double), which always denotes exactly that double. A record that
    // trips it is not canonical either, and would fail the check below.
    value = parseJson(bytes, { maxBytes: MAX_RECORD_BYTES, maxDepth: MAX_RECORD_DEPTH });
  } catch (e) {
    if (e instanceof CanonicalJsonError) invalid(e.path, e.message, e);
    throw e;
  }
  const record = checkRecord(value);
  if (!bytesEqual(canonicalBytes(record), bytes))
    invalid('', 'record bytes are not in RFC 8785 canonical form');
  return record;
}

// ignoreBOM: a leading U+FEFF stays in the text, so it can never equal a canonical serialisation.
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Whether every object in `v` lists its own keys in strictly increasing
 * UTF-16 order (RFC 8785 §3.2.3, and so no key twice) and nesting stays
 * within MAX_RECORD_DEPTH (what decodeRecord's parser allows).
 */
function sortedWithin(v: unknown, depth: number): boolean {
  if (typeof v !== 'object' || v === null) return true;
  if (depth > MAX_RECORD_DEPTH) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!sortedWithin(v[i], depth + 1)) return false;
    return true;
  }
  let prev: string | undefined;
  for (const k of Object.keys(v)) {
    if (prev !== undefined && !(prev < k)) return false;
    prev = k;
    if (!sortedWithin((v as { [k: string]: unknown })[k], depth + 1)) return false;
  }
  return true;
}

/**
 * The fast, sound half of decodeRecord: returns the record when it can prove
 * `bytes` are a valid record in RFC 8785 canonical form, and undefined when it
 * cannot (then decodeRecord, the reference, decides and names the error). It
 * never accepts what decodeRecord refuses, and accepts the same value:
 *
 *   T = strict UTF-8 decode of the bytes (so T holds no raw lone surrogate)
 *   V = JSON.parse(T)                     (the engine's parser)
 *   JSON.stringify(V) === T               (no whitespace; every string escaped
 *     exactly as JCS escapes it; every number literal is Number::toString of
 *     its double, so finite, exact and in its one canonical form; and no
 *     duplicate key, since JSON.parse keeps one of each and the text would
 *     then be longer than its re-serialisation)
 *   T has no `\ud` escape               (JSON.stringify writes `\udXXX` only for
 *     a lone surrogate, which JCS refuses; a false alarm like the text `\\ud`
 *     only sends the record to the reference)
 *   own keys strictly increasing, depth ≤ MAX_RECORD_DEPTH (sortedWithin):
 *     JSON.stringify follows own-key order, so T's keys are in JCS order
 *   checkRecord(V)                        (the same shape rules)
 *
 * Then canonicalJson(V) === T (it differs from JSON.stringify only by sorting
 * keys and refusing what was excluded above), canonicalBytes(V) === bytes, and
 * the strict parser reads T as the same V: decodeRecord accepts with the same
 * record. Keys JSON.parse orders differently (integer-like keys come first)
 * only cost the fallback. test/core/record-fast.test.ts checks the equivalence.
 */
export function decodeCanonicalRecordFast(bytes: Uint8Array): LogRecord | undefined {
  if (bytes.length > MAX_RECORD_BYTES || bytes.length === 0) return undefined;
  let text: string;
  let value: unknown;
  try {
    text = fatalUtf8.decode(bytes);
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  if (JSON.stringify(value) !== text || text.includes('\\ud') || !sortedWithin(value, 1)) return undefined;
  try {
    return checkRecord(value);
  } catch {
    return undefined;
  }
}

/**
 * decodeRecord's verdict, faster: the fast path when it proves the bytes
 * canonical, else decodeRecord itself (so every refusal is decodeRecord's,
 * with its code and message).
 */
export function decodeRecordFast(bytes: Uint8Array): LogRecord {
  return decodeCanonicalRecordFast(bytes) ?? decodeRecord(bytes);
}

/** RFC 6962 §2.1: MTH({d}) = SHA-256(0x00 ‖ d). Also the record's chain hash. */
export function leafHash(recordBytes: Uint8Array): Uint8Array {
  return hashLeaf(recordBytes);
}

export interface ChainOptions {
  /** Index the first record must have (default: whatever it has). */
  firstIndex?: number;
  /** logId every record must have (default: the first record's). */
  logId?: string;
  /** receivedAt of the record before the first one, if known. */
  notBefore?: string;
  /**
   * Called with each record once it has passed every check, with its leaf
   * hash: a caller that needs the decoded records too (the sealer's class
   * logs, docs/classes.md) gets them without decoding each record again.
   */
  onRecord?: (record: LogRecord, leafHash: Uint8Array) => void;
}

export interface ChainSummary {
  count: number;
  /** Index of the first and last records (undefined when empty). */
  firstIndex: number | undefined;
  lastIndex: number | undefined;
  /** Leaf hash of the last record, or expectedFirstPrev when empty: the next record's prev. */
  lastLeafHash: Uint8Array;
  lastReceivedAt: string | undefined;
  /** Leaf hash of every record, in order (for Merkle inclusion checks). */
  leafHashes: Uint8Array[];
}

/**
 * Verify a contiguous run of records (docs/formats.md §Events and records; docs/bundle.md §Records): each decodes strictly,
 * all share one logId, indexes are consecutive, record k's prev is the leaf
 * hash of record k-1 (the first's prev is `expectedFirstPrev`), and receivedAt
 * never decreases. Throws ChainError naming the first failing record.
 */
export function verifyChain(
  records: Iterable<Uint8Array>,
  expectedFirstPrev: Uint8Array | string,
  options: ChainOptions = {},
): ChainSummary {
  let prevHash = typeof expectedFirstPrev === 'string' ? expectedFirstPrev : toBase64(expectedFirstPrev);
  let prevLeaf: Uint8Array =
    typeof expectedFirstPrev === 'string' ? fromBase64(expectedFirstPrev) : expectedFirstPrev;
  let logId = options.logId;
  let expectedIndex = options.firstIndex;
  let lastReceivedAt = options.notBefore;
  let firstIndex: number | undefined;
  const leafHashes: Uint8Array[] = [];
  let position = 0;
  for (const bytes of records) {
    const at = expectedIndex ?? -1;
    let rec: LogRecord;
    try {
      rec = decodeRecord(bytes);
    } catch (e) {
      if (e instanceof RecordError && e.code !== 'INVALID_LOG_ID') {
        throw new ChainError(e.code, at, position, e.message, e);
      }
      throw e;
    }
    if (logId === undefined) logId = rec.logId;
    else if (rec.logId !== logId) {
      throw new ChainError('CHAIN_LOG_MISMATCH', rec.index, position, `logId ${rec.logId} is not ${logId}`);
    }
    if (expectedIndex !== undefined && rec.index !== expectedIndex) {
      throw new ChainError('CHAIN_INDEX_GAP', rec.index, position, `expected index ${expectedIndex}`);
    }
    if (rec.prev !== prevHash) {
      throw new ChainError(
        'CHAIN_PREV_MISMATCH',
        rec.index,
        position,
        position === 0
          ? 'prev does not match the expected chain head'
          : 'prev is not the leaf hash of the previous record',
      );
    }
    // Fixed-width UTC text with milliseconds: lexicographic order is time order.
    if (lastReceivedAt !== undefined && rec.receivedAt < lastReceivedAt) {
      throw new ChainError(
        'CHAIN_TIME_REGRESSION',
        rec.index,
        position,
        `receivedAt goes back before ${lastReceivedAt}`,
      );
    }
    firstIndex ??= rec.index;
    prevLeaf = leafHash(bytes);
    leafHashes.push(prevLeaf);
    options.onRecord?.(rec, prevLeaf);
    prevHash = toBase64(prevLeaf);
    lastReceivedAt = rec.receivedAt;
    expectedIndex = rec.index + 1;
    position++;
  }
  return {
    count: position,
    firstIndex,
    lastIndex: expectedIndex === undefined || position === 0 ? undefined : expectedIndex - 1,
    lastLeafHash: prevLeaf,
    lastReceivedAt: position === 0 ? undefined : lastReceivedAt,
    leafHashes,
  };
}
