/**
 * RETIRED (issue #17, docs/query.md §2): mounted by no function and not by the
 * local stack; kept only until it is deleted together with its tests.
 *
 * Query projector (docs/query.md): reads a log's batches after its own cursor
 * and writes one query item per record (QueryIndexStore.putItems), then moves
 * the cursor with a compare-and-swap. Separate from the sealer on purpose: it
 * may lag, crash or be redeployed without touching the record of truth.
 *
 * Crash safety: items first, cursor second. A crash between the two leaves
 * items the next run rewrites byte-identically (same key → same item), so
 * every run converges; two concurrent runs write the same items and one CAS
 * wins. Readers trust items only below the cursor.
 */
import { parseUtcTimestamp } from '../core/event.ts';
import { decodeRecord, RecordError } from '../core/record.ts';
import type { Clock } from '../ports/clock.ts';
import { type LogStore, LogStoreError } from '../ports/log-store.ts';
import type { ProjectorCursor, QueryIndexStore, QueryItem } from '../ports/query-index.ts';
import { AppError } from './errors.ts';
import { fromPortError, RETRY_AFTER_SECONDS } from './port-errors.ts';

export const DAY_MS = 86_400_000;
export const DEFAULT_HOT_WINDOW_MS = 90 * DAY_MS;
/** GSIs usually apply a write within a second; readers wait this long before trusting one. */
export const DEFAULT_SETTLE_MS = 10_000;

export interface QueryProjectorOptions {
  readonly logs: Pick<LogStore, 'readBatches'>;
  readonly index: QueryIndexStore;
  readonly clock: Clock;
  /** Items expire this long after their record's receivedAt. Default 90 days. */
  readonly hotWindowMs?: number;
  /** See ProjectorCursor.settled. Default 10 s. */
  readonly settleMs?: number;
  /** Upper bound on records per run (whole batches). Default 20,000. */
  readonly maxRecordsPerRun?: number;
  /** Batches per log-store read. Default 100. */
  readonly batchPage?: number;
}

export interface ProjectOutcome {
  logId: string;
  /** Records the cursor moved over in this run. */
  records: number;
  /** Items written (records already past the hot window are skipped). */
  written: number;
  nextIndex: number;
  /** Stopped at maxRecordsPerRun with batches left: run again. */
  more: boolean;
  /** Another projector moved the cursor first; this run stopped. */
  lostRace: boolean;
}

export type ProjectManyResult = Array<
  ({ ok: true } & ProjectOutcome) | { ok: false; logId: string; code: AppError['code']; message: string }
>;

function toAppError(logId: string, err: unknown): AppError {
  const mapped = fromPortError(err, `projection of log ${logId}`);
  if (mapped) return mapped;
  if (err instanceof RecordError)
    return new AppError('INTEGRITY', `projection of log ${logId}: ${err.message}`, { cause: err });
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new AppError('UNAVAILABLE', `projection of log ${logId} interrupted (${what})`, {
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    cause: err,
  });
}

export class QueryProjector {
  readonly #logs: Pick<LogStore, 'readBatches'>;
  readonly #index: QueryIndexStore;
  readonly #clock: Clock;
  readonly #hotWindowMs: number;
  readonly #settleMs: number;
  readonly #maxRecords: number;
  readonly #page: number;

  constructor(opts: QueryProjectorOptions) {
    this.#logs = opts.logs;
    this.#index = opts.index;
    this.#clock = opts.clock;
    this.#hotWindowMs = opts.hotWindowMs ?? DEFAULT_HOT_WINDOW_MS;
    this.#settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS;
    this.#maxRecords = opts.maxRecordsPerRun ?? 20_000;
    this.#page = opts.batchPage ?? 100;
    if (!(this.#hotWindowMs > DAY_MS)) throw new RangeError('hotWindowMs must exceed one day');
  }

  get hotWindowMs(): number {
    return this.#hotWindowMs;
  }

  /** Projects new batches of one log (bounded by maxRecordsPerRun). */
  async project(logId: string): Promise<ProjectOutcome> {
    try {
      return await this.#project(logId);
    } catch (err) {
      throw toAppError(logId, err);
    }
  }

  /** Projects each log until done or `deadlineMs` (epoch ms) passes; failures are per log. */
  async projectMany(logIds: readonly string[], deadlineMs: number): Promise<ProjectManyResult> {
    const out: ProjectManyResult = [];
    for (const logId of logIds) {
      if (this.#clock.now() >= deadlineMs) break;
      try {
        let r = await this.project(logId);
        let records = r.records;
        let written = r.written;
        while (r.more && !r.lostRace && this.#clock.now() < deadlineMs) {
          r = await this.project(logId);
          records += r.records;
          written += r.written;
        }
        out.push({ ok: true, ...r, records, written });
      } catch (err) {
        const e = toAppError(logId, err);
        out.push({ ok: false, logId, code: e.code, message: e.message });
      }
    }
    return out;
  }

  async #project(logId: string): Promise<ProjectOutcome> {
    let cursor = await this.#index.readCursor(logId);
    let seq = cursor?.seq ?? 0;
    let nextIndex = cursor?.nextIndex ?? 0;
    let records = 0;
    let written = 0;
    for (;;) {
      if (records >= this.#maxRecords)
        return { logId, records, written, nextIndex, more: true, lostRace: false };
      const batches = await this.#logs.readBatches(logId, seq + 1, this.#page);
      if (batches.length === 0) return { logId, records, written, nextIndex, more: false, lostRace: false };
      const nowMs = this.#clock.now();
      const items: QueryItem[] = [];
      let lastReceivedAt = cursor?.lastReceivedAt;
      let taken = 0;
      for (const b of batches) {
        if (taken > 0 && records + taken >= this.#maxRecords) break;
        if (b.firstIndex !== nextIndex + taken)
          throw new LogStoreError(
            'INTEGRITY',
            `batch ${b.seq} starts at index ${b.firstIndex}, projection expected ${nextIndex + taken}`,
          );
        for (const r of b.records) {
          const rec = decodeRecord(r.bytes);
          if (rec.index !== r.index || rec.logId !== logId)
            throw new LogStoreError(
              'INTEGRITY',
              `record ${r.index} of log ${logId} names ${rec.logId}/${rec.index}`,
            );
          const at = parseUtcTimestamp(rec.receivedAt) as number;
          const expiresAtMs = at + this.#hotWindowMs;
          // Already past its hot window: the query reads it from the archive anyway.
          if (expiresAtMs > nowMs) {
            items.push({
              index: rec.index,
              receivedAt: rec.receivedAt,
              submitter: rec.submitter,
              actorId: rec.event.actor.id,
              action: rec.event.action,
              bytes: r.bytes,
              expiresAtSec: Math.ceil(expiresAtMs / 1000),
            });
          }
          lastReceivedAt = rec.receivedAt;
        }
        taken += b.count;
        seq = b.seq;
      }
      await this.#index.putItems(logId, items);
      const previous = cursor;
      const next: ProjectorCursor = {
        logId,
        seq,
        nextIndex: nextIndex + taken,
        lastReceivedAt,
        updatedAt: nowMs,
        settled:
          previous === undefined
            ? { seq: 0, nextIndex: 0, lastReceivedAt: undefined }
            : nowMs - previous.updatedAt >= this.#settleMs
              ? { seq: previous.seq, nextIndex: previous.nextIndex, lastReceivedAt: previous.lastReceivedAt }
              : previous.settled,
        hotWindowMs: this.#hotWindowMs,
      };
      // COMMIT POINT: items below next.nextIndex are now visible to readers.
      if (!(await this.#index.advanceCursor(next, previous?.seq ?? 0)))
        return { logId, records, written, nextIndex, more: false, lostRace: true };
      cursor = next;
      nextIndex = next.nextIndex;
      records += taken;
      written += items.length;
    }
  }
}
