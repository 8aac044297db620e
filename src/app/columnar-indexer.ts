/**
 * Columnar indexer (docs/query.md §7): after each seal, writes the newly
 * sealed records of a log as Parquet into the index store, one file per UTC
 * day touched, named by leaf range (src/core/columnar.ts); compacts a day's
 * small files into one; rebuilds a log's index from the archive.
 *
 * It reads sealed records only, from the archive's entry bundles (the record
 * of truth), never the batches: an index row is always a record the log has
 * committed to. Normal projection and rebuild share that one read path.
 *
 * Crash safety (the invariant is in src/core/columnar.ts): files first, then
 * `_state.json`. A crash between the two leaves files the next run rewrites
 * from the same first leaf — the same key, or a wider range that contains
 * the old one (readers then ignore the narrower file, compaction deletes it).
 * Compaction writes the covering file before deleting what it covers. Two
 * concurrent runs write identical rows; the state may step back, which only
 * costs a rewrite.
 */

import { fromUtf8, utf8 } from '../core/bytes.ts';
import {
  currentFiles,
  dayPrefix,
  fileKey,
  type IndexFile,
  type IndexRow,
  type IndexState,
  indexRow,
  logPrefix,
  parseFileKey,
  parseIndexState,
  stateKey,
} from '../core/columnar.ts';
import { decodeEntryBundle } from '../core/merkle/entry-bundle.ts';
import { MerkleError } from '../core/merkle/errors.ts';
import { entryBundlePath, TILE_WIDTH } from '../core/merkle/tile-path.ts';
import { decodeRecord, RecordError } from '../core/record.ts';
import { type ArchiveStore, archiveKey } from '../ports/archive-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { ColumnarIndexStore } from '../ports/columnar-index.ts';
import type { SealStateStore } from '../ports/seal-state.ts';
import { mergeParquet, writeParquet } from './duckdb-engine.ts';
import { AppError } from './errors.ts';
import { fromPortError, RETRY_AFTER_SECONDS } from './port-errors.ts';

export interface ColumnarIndexerOptions {
  readonly archive: Pick<ArchiveStore, 'get'>;
  readonly sealState: Pick<SealStateStore, 'read'>;
  readonly index: ColumnarIndexStore;
  readonly clock: Clock;
  /** Records per run (and per file at most). Default 50,000. */
  readonly maxRecordsPerRun?: number;
  /** An open day is compacted once it has this many files. Default 24 (hourly seals). */
  readonly compactAtFiles?: number;
}

export interface IndexOutcome {
  logId: string;
  /** Records written in this run. */
  records: number;
  /** Files written in this run. */
  files: number;
  nextIndex: number;
  sealedSize: number;
  /** Stopped at maxRecordsPerRun with sealed records left: run again. */
  more: boolean;
}

export interface CompactOutcome {
  logId: string;
  /** Days whose files were merged. */
  days: number;
  /** Files deleted (merged into a day file, or covered by one). */
  deleted: number;
}

export type IndexManyResult = Array<
  | ({ ok: true } & IndexOutcome & { compacted: number })
  | { ok: false; logId: string; code: AppError['code']; message: string }
>;

function toAppError(logId: string, err: unknown): AppError {
  const mapped = fromPortError(err, `columnar index of log ${logId}`);
  if (mapped) return mapped;
  if (err instanceof RecordError || err instanceof MerkleError)
    return new AppError('INTEGRITY', `columnar index of log ${logId}: ${err.message}`, { cause: err });
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new AppError('UNAVAILABLE', `columnar index of log ${logId} interrupted (${what})`, {
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    cause: err,
  });
}

/** One sealed record as read from the archive. */
interface Sealed {
  row: IndexRow;
}

export class ColumnarIndexer {
  readonly #o: ColumnarIndexerOptions;
  readonly #max: number;
  readonly #compactAt: number;

  constructor(opts: ColumnarIndexerOptions) {
    this.#o = opts;
    this.#max = opts.maxRecordsPerRun ?? 50_000;
    this.#compactAt = opts.compactAtFiles ?? 24;
    if (!(this.#max >= 1)) throw new RangeError('maxRecordsPerRun must be at least 1');
    if (!(this.#compactAt >= 2)) throw new RangeError('compactAtFiles must be at least 2');
  }

  /** The log's progress, or undefined when it has none (or an unreadable one: it is rebuilt from 0). */
  async state(logId: string): Promise<IndexState | undefined> {
    const bytes = await this.#o.index.get(stateKey(logId));
    return bytes ? parseIndexState(fromUtf8(bytes)) : undefined;
  }

  /** Indexes the next sealed records of one log (at most maxRecordsPerRun). */
  async project(logId: string): Promise<IndexOutcome> {
    try {
      return await this.#project(logId);
    } catch (err) {
      throw toAppError(logId, err);
    }
  }

  /** Merges the small files of each closed day (or of every day with `all`) into one. */
  async compact(logId: string, opts: { all?: boolean } = {}): Promise<CompactOutcome> {
    try {
      return await this.#compact(logId, opts.all ?? false);
    } catch (err) {
      throw toAppError(logId, err);
    }
  }

  /**
   * Rebuilds a log's index from the archive: deletes its files and state,
   * then projects and compacts until done or `deadlineMs` passes (the
   * scheduled projector carries on from the state). Existing files are not
   * trusted — a rebuild is how a damaged index is repaired — so until it
   * ends, queries see only what it has written so far.
   */
  async rebuild(logId: string, deadlineMs: number): Promise<IndexOutcome & { done: boolean }> {
    try {
      for (const o of await this.#o.index.list(logPrefix(logId))) await this.#o.index.delete(o.key);
      let r = await this.#project(logId);
      let records = r.records;
      let files = r.files;
      while (r.more && this.#o.clock.now() < deadlineMs) {
        r = await this.#project(logId);
        records += r.records;
        files += r.files;
      }
      if (!r.more) await this.#compact(logId, true);
      return { ...r, records, files, done: !r.more };
    } catch (err) {
      throw toAppError(logId, err);
    }
  }

  /** The scheduled job: project then compact each log until `deadlineMs`; failures are per log. */
  async projectMany(logIds: readonly string[], deadlineMs: number): Promise<IndexManyResult> {
    const out: IndexManyResult = [];
    for (const logId of logIds) {
      if (this.#o.clock.now() >= deadlineMs) break;
      try {
        let r = await this.#project(logId);
        let records = r.records;
        let files = r.files;
        while (r.more && this.#o.clock.now() < deadlineMs) {
          r = await this.#project(logId);
          records += r.records;
          files += r.files;
        }
        const c = records > 0 ? await this.#compact(logId, false) : { days: 0 };
        out.push({ ok: true, ...r, records, files, compacted: c.days });
      } catch (err) {
        const e = toAppError(logId, err);
        out.push({ ok: false, logId, code: e.code, message: e.message });
      }
    }
    return out;
  }

  async #project(logId: string): Promise<IndexOutcome> {
    const [state, seal] = await Promise.all([this.state(logId), this.#o.sealState.read(logId)]);
    const next = state?.nextIndex ?? 0;
    const size = seal?.size ?? 0;
    if (next >= size) return { logId, records: 0, files: 0, nextIndex: next, sealedSize: size, more: false };
    const end = Math.min(size, next + this.#max);
    const sealed = await this.#readSealed(logId, size, next, end);
    // receivedAt never decreases along the log, so each day is one contiguous run.
    const days: Sealed[][] = [];
    for (const s of sealed) {
      const last = days.at(-1);
      if (last && (last[0] as Sealed).row.day === s.row.day) last.push(s);
      else days.push([s]);
    }
    for (const d of days) {
      const first = (d[0] as Sealed).row;
      const lastRow = (d.at(-1) as Sealed).row;
      await this.#o.index.put(
        fileKey(logId, first.day, first.leafIndex, lastRow.leafIndex + 1),
        await writeParquet(d.map((x) => x.row)),
      );
    }
    const next2: IndexState = {
      v: 1,
      nextIndex: end,
      lastReceivedAt: (sealed.at(-1) as Sealed).row.receivedAt,
    };
    // COMMIT POINT: records below `end` are indexed.
    await this.#o.index.put(stateKey(logId), utf8(JSON.stringify(next2)));
    return {
      logId,
      records: sealed.length,
      files: days.length,
      nextIndex: end,
      sealedSize: size,
      more: end < size,
    };
  }

  /** Records [from, to) of a log sealed at `size`, from its entry bundles (decoded strictly). */
  async #readSealed(logId: string, size: number, from: number, to: number): Promise<Sealed[]> {
    const out: Sealed[] = [];
    for (let b = Math.floor(from / TILE_WIDTH); b * TILE_WIDTH < to; b++) {
      const width = Math.min(TILE_WIDTH, size - b * TILE_WIDTH);
      const bytes = await this.#o.archive.get(archiveKey(logId, entryBundlePath(b, width)));
      if (!bytes)
        throw new AppError('INTEGRITY', `entry bundle ${b} (width ${width}) of log ${logId} is missing`);
      const entries = decodeEntryBundle(bytes, width);
      entries.forEach((e, k) => {
        const index = b * TILE_WIDTH + k;
        if (index < from || index >= to) return;
        const rec = decodeRecord(e);
        if (rec.index !== index || rec.logId !== logId)
          throw new AppError(
            'INTEGRITY',
            `archived record at ${index} of ${logId} names ${rec.logId}/${rec.index}`,
          );
        out.push({ row: indexRow(rec, e) });
      });
    }
    return out;
  }

  async #compact(logId: string, all: boolean): Promise<CompactOutcome> {
    const state = await this.state(logId);
    const openDay = state?.lastReceivedAt?.slice(0, 10);
    const byDay = new Map<string, IndexFile[]>();
    for (const o of await this.#o.index.list(logPrefix(logId))) {
      const f = parseFileKey(o.key, o.size);
      if (!f) continue;
      const list = byDay.get(f.day) ?? [];
      list.push(f);
      byDay.set(f.day, list);
    }
    let days = 0;
    let deleted = 0;
    for (const [day, listed] of byDay) {
      if (listed.length < 2) continue;
      const { files } = currentFiles(listed);
      const closed = openDay === undefined || day < openDay;
      if (!(all || closed || files.length >= this.#compactAt || files.length === 1)) continue;
      let keep: string;
      if (files.length === 1) keep = (files[0] as IndexFile).key;
      else {
        const parts: Uint8Array[] = [];
        for (const f of files) {
          const b = await this.#o.index.get(f.key);
          // Gone: another compaction of this day ran meanwhile; leave the day to it.
          if (!b) break;
          parts.push(b);
        }
        if (parts.length < files.length) continue;
        const first = Math.min(...files.map((f) => f.first));
        const end = Math.max(...files.map((f) => f.end));
        keep = fileKey(logId, day, first, end);
        // COMMIT POINT: the covering file exists before anything it covers is deleted.
        await this.#o.index.put(keep, await mergeParquet(parts));
        days++;
      }
      for (const f of listed)
        if (f.key !== keep && f.key.startsWith(dayPrefix(logId, day))) {
          await this.#o.index.delete(f.key);
          deleted++;
        }
    }
    return { logId, days, deleted };
  }
}
