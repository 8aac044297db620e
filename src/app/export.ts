/**
 * Export use case, `POST /v1/logs/{logId}/exports` (docs/api.md §Routes, docs/bundle.md): an
 * evidence bundle for a half-open time range [from, to), optionally filtered
 * by action prefix and/or actor id (both = AND), streamed through the pure writer (src/core/bundle).
 *
 * Plan (O(log n) store reads, no record bytes):
 *  1. the checkpoint: the newest one published in the archive (size N);
 *  2. the index interval: receivedAt never decreases and every record of a
 *     batch shares one receivedAt, so [from, to) is the records of the batches
 *     between two binary searches over batch headers (first batch with
 *     receivedAt ≥ from, first with receivedAt ≥ to). Records at index ≥ N are
 *     not under the checkpoint: the interval is cut at N (and the bundle's
 *     verifier then says the range ends at the checkpoint); a range whose
 *     records are all unsealed is refused (409, retry after the next seal);
 *  3. the anchors: the earliest time-stamped checkpoint past the interval
 *     (tightest "existed by") and the newest time-stamped one ≤ N, each with
 *     every TSA token it has. No time-stamp past the interval yet → 409.
 *
 * Stream: records in index order from the DynamoDB batches (a few batches per
 * BatchGetItem), the neighbour records, proofs computed here from the
 * archive's hash tiles (one bounded tile cache for the whole export, so a
 * filtered export's per-record proofs cost few reads), the time-stamp
 * responses and chains from the archive. Memory is bounded by the writer's
 * records chunk (4 MiB) plus a few batches and the tile cache, independent of
 * the range.
 */
import { createHash } from 'node:crypto';
import {
  type BundleAnchorInput,
  type BundleCosignatureInput,
  type BundleFilter,
  type BundleRekorInput,
  filterMatches,
  filterProblem,
  writeBundle,
} from '../core/bundle/index.ts';
import { fromUtf8, toHex } from '../core/bytes.ts';
import { MerkleError } from '../core/merkle/errors.ts';
import { HASH_SIZE } from '../core/merkle/hasher.ts';
import { consistencyProofFromOracle, inclusionProofFromOracle } from '../core/merkle/proof-nodes.ts';
import { tileNodeOracle } from '../core/merkle/tile-nodes.ts';
import { tilePath } from '../core/merkle/tile-path.ts';
import { parseCheckpoint } from '../core/note/checkpoint.ts';
import { parseNote } from '../core/note/signed-note.ts';
import { decodeRecord, formatReceivedAt, MAX_EPOCH_MS } from '../core/record.ts';
import { decodePemCertificates } from '../core/rfc3161/pem.ts';
import { type Cosigner, verifyCosignature } from '../core/witness/cosignature.ts';
import type { AnchorStore } from '../ports/anchor-store.ts';
import { type ArchiveStore, archiveKey } from '../ports/archive-store.ts';
import type { Clock } from '../ports/clock.ts';
import { type AnchoredSizeLister, type ExportStore, exportKey } from '../ports/export-store.ts';

export type { AnchoredSizeLister };

import type { BatchHeader, LogStore, StoredBatch } from '../ports/log-store.ts';
import { anchoredCheckpointKey } from './anchor.ts';
import { AppError } from './errors.ts';
import { fromPortError } from './port-errors.ts';
import type { ProofService } from './proofs.ts';
import { parseTimeBound } from './query.ts';
import { rekorEntryKey } from './rekor.ts';
import { cosignatureKey } from './witness.ts';

/**
 * The archived cosignature line (`— <name> <base64>\n`, src/app/witness.ts) without its
 * newline, if it is one line that verifies under `cosigner` over `noteText`; else undefined
 * (the bundle then simply lacks it, and the verifier's quorum says so).
 */
function cosignatureLine(bytes: Uint8Array, noteText: string, cosigner: Cosigner): string | undefined {
  try {
    const line = new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/\n$/, '');
    const sigs = parseNote(`${noteText}\n${line}\n`).signatures;
    const sig = sigs.length === 1 ? sigs[0] : undefined;
    return sig && verifyCosignature(cosigner, noteText, sig) !== undefined ? line : undefined;
  } catch {
    return undefined;
  }
}

/** What a caller asks for (strings as received; validated here). */
export interface ExportParams {
  /** Inclusive start: RFC 3339 date-time or a UTC date (`2026-03-01`). */
  readonly from: string;
  /** Exclusive end, same forms. */
  readonly to: string;
  /** Only records whose event.action starts with this (e.g. `access.`). */
  readonly actionPrefix?: string | undefined;
  /** Only records whose event.actor.id equals this (with actionPrefix: both must match). */
  readonly actorId?: string | undefined;
}

export interface ExportProgress {
  /** Records of the interval read so far. */
  readonly scanned: number;
  /** Records written to the bundle so far (= scanned without a filter). */
  readonly written: number;
  /** Records in the index interval (an upper bound on `written` with a filter). */
  readonly total: number;
  /** Bundle bytes emitted so far. */
  readonly bytes: number;
}

/** Resolved before any record is read. */
export interface ExportPlan {
  readonly logId: string;
  readonly origin: string;
  /** Normalised bounds, as the records spell receivedAt. */
  readonly fromTime: string;
  readonly toTime: string;
  readonly filter: BundleFilter | null;
  /** Index interval [firstIndex, lastIndex] (lastIndex = firstIndex - 1 when empty), cut at the checkpoint. */
  readonly firstIndex: number;
  readonly lastIndex: number;
  /** Records in the interval (what the export reads). */
  readonly intervalRecords: number;
  /** Size of the checkpoint the proofs are relative to. */
  readonly checkpointSize: number;
  /** Records with receivedAt in the range that are not yet under a checkpoint (left out; export again after the next seal). */
  readonly unsealedRecords: number;
  /** Checkpoint sizes whose time-stamps the bundle carries. */
  readonly anchoredSizes: readonly number[];
}

export interface ExportResult extends ExportPlan {
  /** Records in the bundle. */
  readonly records: number;
  /** Bundle size in bytes. */
  readonly bytes: number;
  /** Lowercase hex SHA-256 of the bundle. */
  readonly sha256: string;
}

export interface StoredExport extends ExportResult {
  readonly exportId: string;
  readonly key: string;
  /** Presigned GET. */
  readonly url: string;
  readonly urlExpiresAt: string;
}

export type ExportSink = (chunk: Uint8Array) => Promise<void> | void;

export interface ExportServiceOptions {
  readonly logs: Pick<LogStore, 'readTip' | 'readBatchHeader' | 'readBatch' | 'readBatches' | 'logExists'>;
  /** The published checkpoint (ProofService.latestCheckpoint) and the origin. */
  readonly proofs: Pick<ProofService, 'latestCheckpoint' | 'origin'>;
  /** The log public key(s), DER SPKI, current first (createProofService's source). */
  readonly publicKeys: () => Promise<readonly Uint8Array[]>;
  /** Hash tiles, time-stamp responses and anchored checkpoint texts. */
  readonly archive: Pick<ArchiveStore, 'get'>;
  readonly anchors: Pick<AnchorStore, 'read' | 'newestAnchoredSize'>;
  /** Finds the earliest time-stamp past the interval; without it only the newest one is used. */
  readonly anchoredSizes?: AnchoredSizeLister;
  readonly clock: Clock;
  /** Where `createExport` writes bundles. */
  readonly store?: ExportStore;
  /** Largest interval (records) `createExport` accepts. Default 200,000. */
  readonly maxRecords?: number;
  /** Presigned URL lifetime. Default 3600 s. */
  readonly urlTtlSeconds?: number;
  /** Batches per BatchGetItem while streaming. Default 16. */
  readonly batchesPerRead?: number;
  /** Hash tiles kept for proofs. Default 512 (≤ 4 MiB). */
  readonly tileCacheSize?: number;
  /**
   * The configured witnesses (docs/witnessing.md): the cosignature each archived over a
   * checkpoint of the bundle goes into its attestations.json, when it verifies under the
   * configured key (as GET …/checkpoint serves them). The auditor's verifier judges it again
   * against the keys it pins.
   */
  readonly witnesses?: readonly { readonly name: string; readonly cosigner: Cosigner }[];
  /**
   * The configured Rekor party (docs/anchoring.md §Rekor): its archived entry over each
   * checkpoint of the bundle goes into attestations.json as archived (the anchor job verified
   * it before archiving it; the auditor's verifier judges it against the Rekor keys it pins).
   */
  readonly rekor?: { readonly name: string };
  /** Writer records-chunk size (tests). */
  readonly chunkBytes?: number;
  /** Random bytes for export ids. */
  readonly random?: (n: number) => Uint8Array;
}

export const DEFAULT_MAX_EXPORT_RECORDS = 200_000;
const ACTION_PREFIX_RE = /^[a-z][a-z0-9_.]*$/;
const DATE_ONLY_RE = /^\d{4}-\d{2}-\d{2}$/;

function bad(field: string, message: string): AppError {
  return new AppError('BAD_REQUEST', message, { path: `/${field}` });
}

/**
 * RFC 3339 date-time (rounded up to the ms, as the query API does) or a UTC
 * date, at most 9999-12-31T23:59:59.999Z: the range goes into the bundle as
 * receivedAt-format text, which ends there. That is enough to export every
 * record, since the log assigns receivedAt up to one ms before it
 * (MAX_RECEIVED_AT_MS).
 */
export function parseExportTime(field: string, raw: string): number {
  if (typeof raw !== 'string' || raw.length > 64)
    throw bad(field, `${field} must be an RFC 3339 date-time or a date (YYYY-MM-DD)`);
  const text = DATE_ONLY_RE.test(raw) ? `${raw}T00:00:00Z` : raw;
  let ms: number;
  try {
    ms = parseTimeBound(field, text);
  } catch (err) {
    if (err instanceof AppError) throw bad(field, err.message);
    throw err;
  }
  if (ms > MAX_EPOCH_MS) throw bad(field, `${field} must be at most ${formatReceivedAt(MAX_EPOCH_MS)}`);
  return ms;
}

/** Store failures are the server's, never the client's. */
function fromStore(err: unknown, what: string): AppError {
  const mapped = fromPortError(err, what);
  if (mapped) return mapped;
  if (err instanceof MerkleError)
    return new AppError('INTEGRITY', `${what}: stored tiles are malformed: ${err.message}`, { cause: err });
  return new AppError('UNAVAILABLE', `${what} failed; retry`, { retryAfterSeconds: 2, cause: err });
}

/** A small LRU of tile reads shared by every proof of one export. */
class TileCache {
  readonly #map = new Map<string, Promise<Uint8Array>>();
  constructor(
    readonly limit: number,
    readonly read: (key: string) => Promise<Uint8Array>,
  ) {}
  get(key: string): Promise<Uint8Array> {
    let p = this.#map.get(key);
    if (p !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, p);
      return p;
    }
    p = this.read(key);
    p.catch(() => this.#map.delete(key));
    this.#map.set(key, p);
    if (this.#map.size > this.limit) {
      const oldest = this.#map.keys().next().value as string;
      this.#map.delete(oldest);
    }
    return p;
  }
}

interface Resolved extends ExportPlan {
  readonly checkpointText: string;
  /** Batch seq holding firstIndex (when the interval is not empty) or firstIndex itself. */
  readonly startSeq: number;
  /** Batch seq holding lastIndex + 1, when that record is under the checkpoint. */
  readonly afterSeq: number | undefined;
}

export class ExportService {
  readonly #o: ExportServiceOptions;

  constructor(options: ExportServiceOptions) {
    this.#o = options;
  }

  /** Validates the request and resolves the interval, checkpoint and anchors. */
  async plan(logId: string, params: ExportParams): Promise<ExportPlan> {
    const { checkpointText: _c, startSeq: _s, afterSeq: _a, ...plan } = await this.#resolve(logId, params);
    return plan;
  }

  /**
   * Writes the bundle to `sink`, chunk by chunk (the sink's promise is
   * awaited: backpressure). On failure the sink has received a partial
   * bundle: the caller discards it.
   */
  async export(
    logId: string,
    params: ExportParams,
    sink: ExportSink,
    opts: { onProgress?: (p: ExportProgress) => void } = {},
  ): Promise<ExportResult> {
    const r = await this.#resolve(logId, params);
    return this.#write(r, sink, opts.onProgress);
  }

  /**
   * The synchronous API path: plan, refuse intervals above `maxRecords` (413),
   * stream the bundle into the exports bucket, return a presigned URL.
   */
  async createExport(logId: string, params: ExportParams): Promise<StoredExport> {
    this.#validate(params);
    const store = this.#o.store;
    if (!store) throw new AppError('INTERNAL', 'exports are not configured (no exports bucket)');
    const r = await this.#resolve(logId, params);
    const max = this.#o.maxRecords ?? DEFAULT_MAX_EXPORT_RECORDS;
    if (r.intervalRecords > max)
      throw new AppError(
        'PAYLOAD_TOO_LARGE',
        `the range holds ${r.intervalRecords} records; a synchronous export takes at most ${max}: split the range`,
        { path: '/to' },
      );
    const random = this.#o.random ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
    const now = this.#o.clock.now();
    const exportId = `${formatReceivedAt(now).replace(/[-:.]/g, '').toLowerCase()}-${toHex(random(8))}`;
    const key = exportKey(logId, exportId);
    let upload: Awaited<ReturnType<ExportStore['open']>>;
    try {
      upload = await store.open(key, 'application/x-tar');
    } catch (err) {
      throw fromStore(err, 'export upload');
    }
    let result: ExportResult;
    try {
      result = await this.#write(r, (c) => upload.write(c));
      await upload.complete();
    } catch (err) {
      await upload.abort().catch(() => {});
      throw fromStore(err, 'export');
    }
    const ttl = this.#o.urlTtlSeconds ?? 3600;
    let url: string;
    try {
      url = await store.downloadUrl(key, ttl);
    } catch (err) {
      throw fromStore(err, 'presigning the export');
    }
    return { ...result, exportId, key, url, urlExpiresAt: formatReceivedAt(now + ttl * 1000) };
  }

  // ---- plan ----

  /** Checks the request alone (no store access): 400 naming the field. */
  #validate(params: ExportParams): { fromTime: string; toTime: string; filter: BundleFilter | null } {
    const from = parseExportTime('from', params.from);
    const to = parseExportTime('to', params.to);
    if (!(from < to)) throw bad('to', 'to must be after from');
    let filter: BundleFilter | null = null;
    if (params.actionPrefix !== undefined) {
      const p = params.actionPrefix;
      if (typeof p !== 'string' || p.length > 128 || !ACTION_PREFIX_RE.test(p))
        throw bad('action', 'action must be an action prefix such as "access." ([a-z][a-z0-9_.]*, ≤ 128)');
      filter = { actionPrefix: p };
    }
    if (params.actorId !== undefined) {
      const a = params.actorId;
      if (typeof a !== 'string' || filterProblem({ actorId: a }) !== null)
        throw bad('actor', 'actor must be an actor id: 1 to 256 characters without control characters');
      filter = { ...(filter ?? {}), actorId: a };
    }
    return { fromTime: formatReceivedAt(from), toTime: formatReceivedAt(to), filter };
  }

  async #resolve(logId: string, params: ExportParams): Promise<Resolved> {
    const { fromTime, toTime, filter } = this.#validate(params);
    const origin = this.#o.proofs.origin(logId);

    if (!(await this.#guard('log lookup', () => this.#o.logs.logExists(logId))))
      throw new AppError('NOT_FOUND', `log ${logId} does not exist`);
    const checkpointText = await this.#o.proofs.latestCheckpoint(logId);
    const n = parseCheckpoint(parseNote(checkpointText).text).size;
    const tip = await this.#guard('log tip', () => this.#o.logs.readTip(logId));
    const headers = new Map<number, BatchHeader>();
    const header = async (seq: number): Promise<BatchHeader> => {
      let h = headers.get(seq);
      if (h === undefined) {
        h = await this.#guard(`batch ${seq}`, () => this.#o.logs.readBatchHeader(logId, seq));
        if (h === undefined) throw new AppError('INTEGRITY', `batch ${seq} of log ${logId} is missing`);
        headers.set(seq, h);
      }
      return h;
    };
    /** Smallest seq in [1, tip.seq] with pred(header), or tip.seq + 1. */
    const lowerBound = async (pred: (h: BatchHeader) => boolean): Promise<number> => {
      let lo = 1;
      let hi = tip.seq + 1;
      while (lo < hi) {
        const mid = lo + Math.floor((hi - lo) / 2);
        if (pred(await header(mid))) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    };
    const indexAt = async (seq: number) => (seq > tip.seq ? tip.nextIndex : (await header(seq)).firstIndex);
    const seqFrom = await lowerBound((h) => h.receivedAt >= fromTime);
    const seqTo = await lowerBound((h) => h.receivedAt >= toTime);
    let first = await indexAt(seqFrom);
    let end = await indexAt(seqTo);
    let startSeq = seqFrom;
    let unsealed = 0;
    if (end > n) {
      if (first >= n && end > first)
        throw new AppError(
          'CONFLICT',
          `the ${end - first} record(s) in the range are not yet under a signed checkpoint (size ${n}); retry after the next seal`,
          { retryAfterSeconds: 60 },
        );
      unsealed = end - Math.max(first, n);
      end = n;
      if (first > n) {
        // Empty range past the checkpoint: anchor it at the checkpoint's end.
        first = n;
        startSeq = (await lowerBound((h) => h.firstIndex + h.count > n - 1)) + 1;
      }
    }
    const lastIndex = end - 1;
    const afterSeq = end < n ? seqTo : undefined;

    const anchoredSizes = await this.#anchorSizes(logId, lastIndex + 1, n);
    if (!anchoredSizes.some((s) => s > lastIndex))
      throw new AppError(
        'CONFLICT',
        `no RFC 3161 time-stamp covers the range yet (none over a checkpoint past index ${lastIndex}); retry after the next anchor run`,
        { retryAfterSeconds: 60 },
      );
    return {
      logId,
      origin,
      fromTime,
      toTime,
      filter,
      firstIndex: first,
      lastIndex,
      intervalRecords: end - first,
      checkpointSize: n,
      unsealedRecords: unsealed,
      anchoredSizes,
      checkpointText,
      startSeq,
      afterSeq,
    };
  }

  /** Earliest anchored size ≥ min (≤ max) and the newest ≤ max. */
  async #anchorSizes(logId: string, min: number, max: number): Promise<number[]> {
    const out = new Set<number>();
    const newest = await this.#guard('anchor lookup', () => this.#o.anchors.newestAnchoredSize(logId));
    const lister = this.#o.anchoredSizes;
    if (newest !== undefined && newest <= max && newest >= 1) out.add(newest);
    if (lister) {
      const [earliest] = await this.#guard('anchor listing', () => lister(logId, Math.max(1, min), max, 1));
      if (earliest !== undefined) out.add(earliest);
      if (newest === undefined || newest > max) {
        // The pointer is past the published checkpoint (publish pending): the newest at or below it.
        const all = await this.#guard('anchor listing', () => lister(logId, Math.max(1, min), max, 1000));
        const last = all[all.length - 1];
        if (last !== undefined) out.add(last);
      }
    }
    return [...out].sort((a, b) => a - b);
  }

  // ---- stream ----

  async #write(
    r: Resolved,
    sink: ExportSink,
    onProgress?: (p: ExportProgress) => void,
  ): Promise<ExportResult> {
    const logId = r.logId;
    const n = r.checkpointSize;
    const tiles = new TileCache(this.#o.tileCacheSize ?? 512, async (path) => {
      const body = await this.#o.archive.get(archiveKey(logId, path));
      if (body === undefined) throw new AppError('INTEGRITY', `${path} is missing from the archive`);
      return body;
    });
    const oracle = () =>
      tileNodeOracle(n, async (level, index, width) => {
        const body = await tiles.get(tilePath(level, index, width));
        if (body.length !== width * HASH_SIZE)
          throw new AppError('INTEGRITY', `${tilePath(level, index, width)} has ${body.length} bytes`);
        return body;
      });

    // Checkpoints and time-stamps.
    const checkpoints = new Map<number, string>([[n, r.checkpointText]]);
    const anchors: BundleAnchorInput[] = [];
    for (const size of r.anchoredSizes) {
      const at = await this.#guard('anchor read', () => this.#o.anchors.read(logId, size));
      let text = at.summary?.checkpoint;
      if (text === undefined) {
        const b = await this.#guard('anchored checkpoint', () =>
          this.#o.archive.get(anchoredCheckpointKey(logId, size)),
        );
        if (b === undefined) throw new AppError('INTEGRITY', `anchored checkpoint ${size} is missing`);
        text = fromUtf8(b);
      }
      if (size !== n) checkpoints.set(size, text);
      else if (text !== r.checkpointText)
        throw new AppError('INTEGRITY', `the anchored checkpoint ${size} differs from the published one`);
      for (const t of at.tsas) {
        if (t.status !== 'granted' || !t.granted) continue;
        const g = t.granted;
        const response = await this.#guard('time-stamp read', () => this.#o.archive.get(g.responseKey));
        if (response === undefined)
          throw new AppError('INTEGRITY', `time-stamp ${g.responseKey} is missing from the archive`);
        anchors.push({ size, tsa: t.tsa, response, chain: decodePemCertificates(g.chainPem) });
      }
    }
    const cosignatures: BundleCosignatureInput[] = [];
    for (const [size, text] of checkpoints) {
      const noteText = parseNote(text).text;
      for (const w of this.#o.witnesses ?? []) {
        const bytes = await this.#guard('cosignature read', () =>
          this.#o.archive.get(cosignatureKey(logId, size, w.name)),
        );
        const line = bytes === undefined ? undefined : cosignatureLine(bytes, noteText, w.cosigner);
        if (line !== undefined) cosignatures.push({ size, witness: w.name, line });
      }
    }
    const rekorEntries: BundleRekorInput[] = [];
    const rekorParty = this.#o.rekor?.name;
    if (rekorParty !== undefined)
      for (const size of checkpoints.keys()) {
        const entry = await this.#guard('Rekor entry read', () =>
          this.#o.archive.get(rekorEntryKey(logId, size, rekorParty)),
        );
        if (entry !== undefined) rekorEntries.push({ size, party: rekorParty, entry });
      }
    const [spki] = await this.#guard('log key', () => this.#o.publicKeys());
    if (!spki) throw new AppError('INTERNAL', 'no log public key is configured');

    // Neighbours (range mode).
    let before: Uint8Array | null = null;
    let after: Uint8Array | null = null;
    if (r.filter === null) {
      if (r.firstIndex > 0) before = await this.#recordAt(logId, r.startSeq - 1, r.firstIndex - 1);
      if (r.afterSeq !== undefined) after = await this.#recordAt(logId, r.afterSeq, r.lastIndex + 1);
    }

    let scanned = 0;
    let written = 0;
    let bytes = 0;
    const total = r.intervalRecords;
    const progress = () => onProgress?.({ scanned, written, total, bytes });
    const self = this;
    async function* records(): AsyncGenerator<Uint8Array> {
      if (total === 0) return;
      const per = Math.max(1, self.#o.batchesPerRead ?? 16);
      let seq = r.startSeq;
      let next = r.firstIndex;
      while (next <= r.lastIndex) {
        const batches: StoredBatch[] = await self.#guard('batch read', () =>
          self.#o.logs.readBatches(logId, seq, per),
        );
        if (batches.length === 0)
          throw new AppError('INTEGRITY', `batch ${seq} of log ${logId} is missing (index ${next})`);
        for (const b of batches) {
          for (const rec of b.records) {
            if (rec.index < next) continue;
            if (rec.index > r.lastIndex) break;
            if (rec.index !== next)
              throw new AppError(
                'INTEGRITY',
                `log ${logId}: expected record ${next}, batch has ${rec.index}`,
              );
            next++;
            scanned++;
            if (r.filter !== null && !filterMatches(r.filter, decodeRecord(rec.bytes).event)) continue;
            written++;
            yield rec.bytes;
          }
          seq = b.seq + 1;
        }
        progress();
      }
    }

    const hash = createHash('sha256');
    const chunks = writeBundle({
      logId,
      origin: r.origin,
      createdAt: formatReceivedAt(this.#o.clock.now()),
      range: { fromTime: r.fromTime, toTime: r.toTime, firstIndex: r.firstIndex, lastIndex: r.lastIndex },
      filter: r.filter,
      logKeySpki: spki,
      checkpoints: [...checkpoints.values()],
      checkpointSize: n,
      anchors,
      cosignatures,
      rekorEntries,
      records: records(),
      before,
      after,
      getInclusionProof: (index, size) =>
        this.#guard('inclusion proof', () => inclusionProofFromOracle(index, size, oracle())),
      getConsistencyProof: (from, to) =>
        this.#guard('consistency proof', () => consistencyProofFromOracle(from, to, oracle())),
      ...(this.#o.chunkBytes !== undefined ? { chunkBytes: this.#o.chunkBytes } : {}),
    });
    for await (const c of chunks) {
      hash.update(c);
      bytes += c.length;
      await sink(c);
    }
    progress();
    const { checkpointText: _c, startSeq: _s, afterSeq: _a, ...plan } = r;
    return { ...plan, records: written, bytes, sha256: hash.digest('hex') };
  }

  /** Record `index`, from batch `seq` (which must hold it). */
  async #recordAt(logId: string, seq: number, index: number): Promise<Uint8Array> {
    const b = await this.#guard(`batch ${seq}`, () => this.#o.logs.readBatch(logId, seq));
    const rec = b?.records.find((x) => x.index === index);
    if (!rec) throw new AppError('INTEGRITY', `record ${index} of log ${logId} is not in batch ${seq}`);
    return rec.bytes;
  }

  async #guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw fromStore(err, what);
    }
  }
}
