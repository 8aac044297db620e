/**
 * Checking one records chunk of a range bundle on its own, so chunks can be
 * checked in parallel (worker threads in the CLI, Web Workers in a browser)
 * while the verifier joins them in stream order (docs/bundle.md §Verifying
 * fast). Pure: no I/O, no clock, no node: imports.
 *
 * A chunk check is OPTIMISTIC. It either proves that the chunk's records are
 * fine *given* three facts only the verifier knows at the seam (what the
 * previous chunk ended with), or it says "not ok" and the verifier re-checks
 * the chunk with the sequential reference code, which names the first failure
 * exactly as a sequential verifier does. So a chunk check never decides a
 * verdict on its own: it can only let a correct chunk through faster.
 *
 * What `ok: true` proves, for the records r_0 … r_{n-1} of the chunk (each
 * line one record, the chunk ends with a newline, no empty line):
 *   - each line decodes as a valid canonical record (scanRecord, or else
 *     decodeRecordFast: the same verdict and fields as decodeRecord), of log
 *     `logId`;
 *   - r_{i+1}.index = r_i.index + 1, r_{i+1}.prev = base64 leafHash(r_i),
 *     r_{i+1}.receivedAt ≥ r_i.receivedAt (inside the chunk);
 *   - every index ≤ `lastIndex`, every receivedAt in [fromTime, toTime);
 *   - no time-stamp over a checkpoint containing r_i predates r_i (at most
 *     MAX_CREDITED_ACCURACY_MS credited, as `plausibleMs` already says).
 * The verifier then checks the SEAM against its running state:
 *   r_0.index = expected index, r_0.prev = base64 of the previous leaf,
 *   r_0.receivedAt ≥ the previous receivedAt,
 * and, when all three hold, every per-record check of the sequential verifier
 * holds for every record of the chunk (by induction along the chunk), so it
 * folds the summary into its state exactly as the sequential code would have:
 * appends `leaves` to the compact range, advances the chain and the counters.
 */
import { toHex, utf8 } from '../bytes.ts';
import { sha256 } from '../hash.ts';
import { hashLeafInto } from '../merkle/hasher.ts';
import { isValidLogId } from '../names.ts';
import { decodeRecordFast, formatReceivedAt, type LogRecord, MAX_EPOCH_MS } from '../record.ts';
import { asciiText, newRecordFields, scanRecord } from '../record-scan.ts';

/** What a chunk check needs from the verifier; plain data, so it can be posted to a worker. */
export interface ChunkParams {
  readonly logId: string;
  readonly fromTime: string;
  readonly toTime: string;
  readonly lastIndex: number;
  /** Verified time-stamps: checkpoint size and the latest plausible issue time (ms). */
  readonly anchors: readonly { readonly size: number; readonly plausibleMs: number }[];
}

export interface ChunkSummary {
  readonly ok: true;
  readonly count: number;
  /** Sum of the records' byte lengths (newlines excluded). */
  readonly bytes: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  /** r_0.prev, to be checked against the previous chunk's last leaf. */
  readonly firstPrev: string;
  readonly firstReceivedAt: string;
  readonly lastReceivedAt: string;
  /** The records' leaf hashes, packed, 32 bytes each, in order. */
  readonly leaves: Uint8Array;
}

/** The chunk check and the member's SHA-256 (lowercase hex), computed where the bytes are. */
export type ChunkCheck = (ChunkSummary | { readonly ok: false }) & { readonly sha256: string };

/**
 * Checks chunks, possibly elsewhere (a worker). Must resolve (never reject) for
 * any bytes: a failure to check is `{ ok: false }`, which only costs the
 * sequential re-check. The caller keeps `data` unchanged until it resolves.
 */
export type ChunkChecker = (data: Uint8Array, params: ChunkParams) => Promise<ChunkCheck>;

const NOT_OK = { ok: false } as const;

/**
 * `plausibleMs < Date.parse(receivedAt)` as one string comparison per record:
 * a record's receivedAt has passed checkRecord, so it is the fixed-width
 * `YYYY-MM-DDTHH:MM:SS.mmmZ` text of an integer millisecond in
 * [0, MAX_EPOCH_MS], whose string order is time order. For an integer
 * instant `at`, `plausibleMs < at` ⇔ `floor(plausibleMs) < at` ⇔
 * formatReceivedAt(floor(plausibleMs)) < receivedAt. Outside that range the
 * comparison is decided for every record: below 0 every record is later ('' is
 * below any text), at or past the last instant (or NaN) none is ('\uffff' is
 * above any text). test/core/bundle/chunk.test.ts checks it against Date.parse.
 */
export function plausibleText(plausibleMs: number): string {
  if (plausibleMs < 0) return '';
  if (!(plausibleMs < MAX_EPOCH_MS)) return '\uffff';
  return formatReceivedAt(Math.floor(plausibleMs));
}

/** Standard base64 (with its `=`) of the 32 bytes at src[at], written as ASCII bytes into out[0, 44). */
const B64_ALPHABET = new TextEncoder().encode(
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
);
function base64HashInto(src: Uint8Array, at: number, out: Uint8Array): void {
  let o = 0;
  for (let i = at; i < at + 30; i += 3) {
    const n = ((src[i] as number) << 16) | ((src[i + 1] as number) << 8) | (src[i + 2] as number);
    out[o++] = B64_ALPHABET[n >> 18] as number;
    out[o++] = B64_ALPHABET[(n >> 12) & 63] as number;
    out[o++] = B64_ALPHABET[(n >> 6) & 63] as number;
    out[o++] = B64_ALPHABET[n & 63] as number;
  }
  const n = ((src[at + 30] as number) << 16) | ((src[at + 31] as number) << 8);
  out[40] = B64_ALPHABET[n >> 18] as number;
  out[41] = B64_ALPHABET[(n >> 12) & 63] as number;
  out[42] = B64_ALPHABET[(n >> 6) & 63] as number;
  out[43] = 0x3d;
}

/** Whether line[from, to) holds exactly the bytes of `expected`. */
function holds(line: Uint8Array, from: number, to: number, expected: Uint8Array): boolean {
  if (to - from !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (line[from + i] !== expected[i]) return false;
  return true;
}

/**
 * How each record of a chunk is read. `scan` (the default): the byte scanner
 * (../record-scan.ts) first, then decodeRecordFast for what it does not prove.
 * `json`: decodeRecordFast only — the record check before the scanner, kept so
 * tests can run both over the same cases (test/core/bundle/all-paths.ts).
 */
export type RecordCheck = 'scan' | 'json';

/**
 * `text` (24 bytes at buf[at]) compared with the string `s` in UTF-16
 * code-unit order, as `<` compares strings: the bytes are a receivedAt, ASCII,
 * so each byte is its code unit. Negative, zero or positive.
 */
function compareText(buf: Uint8Array, at: number, s: string): number {
  const n = Math.min(24, s.length);
  for (let i = 0; i < n; i++) {
    const d = (buf[at + i] as number) - s.charCodeAt(i);
    if (d !== 0) return d;
  }
  return 24 - s.length;
}

function compare24(a: Uint8Array, at: number, b: Uint8Array): number {
  for (let i = 0; i < 24; i++) {
    const d = (a[at + i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

const ascii24 = (b: Uint8Array): string => String.fromCharCode(...b);

function summarise(data: Uint8Array, p: ChunkParams, how: RecordCheck): ChunkSummary | typeof NOT_OK {
  if (data.length === 0 || data[data.length - 1] !== 0x0a) return NOT_OK;
  // A record of another log fails below anyway; an invalid header logId matches no valid record.
  if (!isValidLogId(p.logId)) return NOT_OK;
  const logId = utf8(p.logId);
  // Grown as records pass (not sized by counting lines: 16 MiB of newlines would ask for 512 MiB).
  let leaves = new Uint8Array(32 * 1024);
  const fields = newRecordFields();
  // Base64 of the previous record's leaf hash, as bytes: what this record's prev must be.
  const prevB64 = new Uint8Array(44);
  // receivedAt of the first and the previous record, as bytes (a valid receivedAt is 24 ASCII
  // bytes); compared as bytes, made strings once per chunk.
  const firstAt = new Uint8Array(24);
  const lastAt = new Uint8Array(24);
  const fallbackAt = new Uint8Array(24);
  let firstIndex = 0;
  let firstPrev = '';
  let lastIndex = -1;
  let start = 0;
  let n = 0;
  let bytes = 0;
  const anchors = p.anchors.map((a) => a.size);
  const plausible = p.anchors.map((a) => plausibleText(a.plausibleMs));
  for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, start)) {
    const line = data.subarray(start, i);
    start = i + 1;
    let index: number;
    // This record's receivedAt: 24 bytes at at[atOffset].
    let at: Uint8Array;
    let atOffset: number;
    if (how === 'scan' && scanRecord(line, fields)) {
      // The scanner proved the line a valid canonical record (what decodeRecord accepts); its fields:
      if (!holds(line, fields.logIdStart, fields.logIdEnd, logId)) return NOT_OK;
      index = fields.index;
      at = line;
      atOffset = fields.receivedAtStart;
      if (n === 0) firstPrev = asciiText(line, fields.prevStart, fields.prevStart + 44);
      else if (!holds(line, fields.prevStart, fields.prevStart + 44, prevB64)) return NOT_OK;
    } else {
      let rec: LogRecord;
      try {
        rec = decodeRecordFast(line);
      } catch {
        return NOT_OK;
      }
      if (rec.logId !== p.logId) return NOT_OK;
      index = rec.index;
      // checkRecord passed: receivedAt is 24 ASCII characters.
      for (let k = 0; k < 24; k++) fallbackAt[k] = rec.receivedAt.charCodeAt(k);
      at = fallbackAt;
      atOffset = 0;
      if (n === 0) firstPrev = rec.prev;
      else if (rec.prev !== asciiText(prevB64, 0, 44)) return NOT_OK;
    }
    if (index > p.lastIndex) return NOT_OK;
    if (compareText(at, atOffset, p.fromTime) < 0 || compareText(at, atOffset, p.toTime) >= 0) return NOT_OK;
    if (n > 0 && (index !== lastIndex + 1 || compare24(at, atOffset, lastAt) < 0)) return NOT_OK;
    for (let k = 0; k < anchors.length; k++) {
      if (index < (anchors[k] as number) && compareText(at, atOffset, plausible[k] as string) > 0)
        return NOT_OK;
    }
    if ((n + 1) * 32 > leaves.length) {
      const grown = new Uint8Array(leaves.length * 2);
      grown.set(leaves);
      leaves = grown;
    }
    hashLeafInto(line, leaves, n * 32);
    base64HashInto(leaves, n * 32, prevB64);
    for (let k = 0; k < 24; k++) lastAt[k] = at[atOffset + k] as number;
    if (n === 0) {
      firstIndex = index;
      firstAt.set(lastAt);
    }
    lastIndex = index;
    bytes += line.length;
    n++;
  }
  if (n === 0) return NOT_OK;
  return {
    ok: true,
    count: n,
    bytes,
    firstIndex,
    lastIndex,
    firstPrev,
    firstReceivedAt: ascii24(firstAt),
    lastReceivedAt: ascii24(lastAt),
    leaves: leaves.slice(0, n * 32),
  };
}

/** Checks one records chunk (see the module comment for what `ok` proves). Never throws. */
export function checkRecordsChunk(
  data: Uint8Array,
  params: ChunkParams,
  how: RecordCheck = 'scan',
): ChunkCheck {
  let s: ChunkSummary | typeof NOT_OK;
  try {
    s = summarise(data, params, how);
  } catch {
    s = NOT_OK;
  }
  return { ...s, sha256: toHex(sha256(data)) };
}

/** A ChunkChecker that checks in the calling thread (no parallelism; the same logic as a worker's). */
export const inThreadChunkChecker: ChunkChecker = async (data, params) => checkRecordsChunk(data, params);

/** inThreadChunkChecker with the record check before the scanner (decodeRecordFast only), for tests. */
export const jsonChunkChecker: ChunkChecker = async (data, params) => checkRecordsChunk(data, params, 'json');
