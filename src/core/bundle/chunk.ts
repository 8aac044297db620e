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
 *   - each line decodes as a valid canonical record (decodeRecordFast: the
 *     same verdict and value as decodeRecord), of log `logId`;
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
import { toBase64, toHex } from '../bytes.ts';
import { sha256 } from '../hash.ts';
import { hashLeafInto } from '../merkle/hasher.ts';
import { decodeRecordFast, formatReceivedAt, type LogRecord, MAX_EPOCH_MS } from '../record.ts';

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

function summarise(data: Uint8Array, p: ChunkParams): ChunkSummary | typeof NOT_OK {
  if (data.length === 0 || data[data.length - 1] !== 0x0a) return NOT_OK;
  // Grown as records pass (not sized by counting lines: 16 MiB of newlines would ask for 512 MiB).
  let leaves = new Uint8Array(32 * 1024);
  let prev: LogRecord | undefined;
  let first: LogRecord | undefined;
  let start = 0;
  let n = 0;
  let bytes = 0;
  const anchors = p.anchors.map((a) => a.size);
  const plausible = p.anchors.map((a) => plausibleText(a.plausibleMs));
  for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, start)) {
    const line = data.subarray(start, i);
    start = i + 1;
    let rec: LogRecord;
    try {
      rec = decodeRecordFast(line);
    } catch {
      return NOT_OK;
    }
    if (rec.logId !== p.logId || rec.index > p.lastIndex) return NOT_OK;
    if (rec.receivedAt < p.fromTime || rec.receivedAt >= p.toTime) return NOT_OK;
    if (prev !== undefined) {
      if (rec.index !== prev.index + 1 || rec.receivedAt < prev.receivedAt) return NOT_OK;
      if (rec.prev !== toBase64(leaves.subarray((n - 1) * 32, n * 32))) return NOT_OK;
    }
    for (let k = 0; k < anchors.length; k++) {
      if (rec.index < (anchors[k] as number) && (plausible[k] as string) < rec.receivedAt) return NOT_OK;
    }
    if ((n + 1) * 32 > leaves.length) {
      const grown = new Uint8Array(leaves.length * 2);
      grown.set(leaves);
      leaves = grown;
    }
    hashLeafInto(line, leaves, n * 32);
    first ??= rec;
    prev = rec;
    bytes += line.length;
    n++;
  }
  if (first === undefined || prev === undefined) return NOT_OK;
  return {
    ok: true,
    count: n,
    bytes,
    firstIndex: first.index,
    lastIndex: prev.index,
    firstPrev: first.prev,
    firstReceivedAt: first.receivedAt,
    lastReceivedAt: prev.receivedAt,
    leaves: leaves.slice(0, n * 32),
  };
}

/** Checks one records chunk (see the module comment for what `ok` proves). Never throws. */
export function checkRecordsChunk(data: Uint8Array, params: ChunkParams): ChunkCheck {
  let s: ChunkSummary | typeof NOT_OK;
  try {
    s = summarise(data, params);
  } catch {
    s = NOT_OK;
  }
  return { ...s, sha256: toHex(sha256(data)) };
}

/** A ChunkChecker that checks in the calling thread (no parallelism; the same logic as a worker's). */
export const inThreadChunkChecker: ChunkChecker = async (data, params) => checkRecordsChunk(data, params);
