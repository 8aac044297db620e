/**
 * Producer streams (docs/events.md §Producer streams): ingest folds each
 * committed batch's `producer` positions into the per-stream state, once per
 * batch per stream, and the API lists the streams with what is overdue.
 *
 * Invariant: every stored state is the fold of committed records only —
 * `observe` runs after the batch's commit point — so it may lag the log (an
 * update lost to a crash or a store failure: those seqs show as a gap until a
 * recount, an over-report, never a missed gap) but never runs ahead of it.
 * Concurrent batches of one stream race on the store's compare-and-swap; the
 * loser re-reads and folds again, and the fold is order-independent within an
 * epoch (src/core/producer.ts), so the outcome is that of some sequential order.
 */
import type { AuditEvent } from '../core/event.ts';
import {
  DEFAULT_MAX_GAPS,
  foldStream,
  HEARTBEAT_ACTION,
  isSilent,
  missingCount,
  overdueGaps,
  type Position,
  type StreamState,
} from '../core/producer.ts';
import { decodeRecord } from '../core/record.ts';
import type { Clock } from '../ports/clock.ts';
import type { LogStore } from '../ports/log-store.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import type { ProducerStore } from '../ports/producer-store.ts';
import { AppError } from './errors.ts';
import { fromPortError } from './port-errors.ts';

export const DEFAULT_GAP_AGE_MS = 5 * 60_000;
/** Compare-and-swap rounds per stream per batch before giving up (the state then lags; see above). */
const MAX_SWAPS = 8;

/** A stream as `GET /v1/logs/{logId}/producers` shows it. */
export interface StreamView extends StreamState {
  readonly missing: number;
  readonly overdueGaps: number;
  readonly silent: boolean;
}

export interface ProducerServiceDeps {
  store: ProducerStore;
  clock: Clock;
  metrics?: MetricsSink;
  /** A gap older than this counts in ProducerGapsOverdue (ANCHORLOG_PRODUCER_GAP_AGE_SECONDS). */
  gapAgeMs?: number;
  maxGaps?: number;
}

/** Positions per stream, in event order; heartbeats carry their declared interval. */
export function positionsByStream(events: readonly AuditEvent[], at: number): Map<string, Position[]> {
  const out = new Map<string, Position[]>();
  for (const e of events) {
    if (!e.producer) continue;
    const interval = e.action === HEARTBEAT_ACTION ? e.metadata?.intervalSeconds : undefined;
    const list = out.get(e.producer.stream) ?? [];
    list.push({
      seq: e.producer.seq,
      at,
      ...(e.producer.epoch !== undefined ? { epoch: e.producer.epoch } : {}),
      ...(typeof interval === 'number' && Number.isSafeInteger(interval) && interval > 0
        ? { heartbeatIntervalSeconds: interval }
        : {}),
    });
    out.set(e.producer.stream, list);
  }
  return out;
}

export class ProducerService {
  readonly #store: ProducerStore;
  readonly #clock: Clock;
  readonly #metrics: MetricsSink | undefined;
  readonly #gapAgeMs: number;
  readonly #maxGaps: number;

  constructor(deps: ProducerServiceDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#metrics = deps.metrics;
    this.#gapAgeMs = deps.gapAgeMs ?? DEFAULT_GAP_AGE_MS;
    this.#maxGaps = deps.maxGaps ?? DEFAULT_MAX_GAPS;
  }

  /**
   * Folds a committed batch (its events, received at `at`) into its streams:
   * one read and one conditional write per stream, repeated on a lost race.
   * Throws port errors; the caller (ingest, after its commit point) treats
   * them as non-fatal.
   */
  async observe(logId: string, events: readonly AuditEvent[], at: number): Promise<void> {
    const streams = positionsByStream(events, at);
    if (streams.size === 0) return;
    let overdue = 0;
    for (const [stream, positions] of streams) {
      const state = await this.#foldOne(logId, stream, positions);
      if (state) overdue += overdueGaps(state, at, this.#gapAgeMs).length;
    }
    this.#metrics?.emit({
      dimensions: { LogId: logId },
      metrics: [{ name: 'ProducerGapsOverdue', value: overdue, unit: 'Count' }],
      timestampMs: at,
    });
  }

  async #foldOne(logId: string, stream: string, positions: Position[]): Promise<StreamState | undefined> {
    for (let i = 0; i < MAX_SWAPS; i++) {
      const current = await this.#store.read(logId, stream);
      const next = foldStream(current?.state, stream, positions, this.#maxGaps);
      if (await this.#store.compareAndSwap(logId, next, current?.version ?? 0)) return next;
    }
    throw new AppError(
      'CONFLICT',
      `producer stream ${stream} of log ${logId}: ${MAX_SWAPS} lost swaps in a row`,
    );
  }

  /**
   * Recomputes every stream of `logId` from its records (the state is derived:
   * this is the repair for updates lost after a commit, docs/events.md). Folds
   * the committed batches in order, each at its records' receivedAt, and
   * writes each stream's state over the stored one (compare-and-swap on the
   * version read; a batch appended meanwhile may make a swap fail, and then
   * the stream is reported in `raced` for a second run). Returns the streams
   * written.
   */
  async recount(
    logId: string,
    log: Pick<LogStore, 'readBatches'>,
  ): Promise<{ streams: number; records: number; raced: string[] }> {
    const states = new Map<string, StreamState>();
    let records = 0;
    for (let seq = 1; ; ) {
      const page = await log.readBatches(logId, seq, 100);
      for (const batch of page) {
        const events = batch.records.map((r) => decodeRecord(r.bytes).event);
        records += events.length;
        const at = Date.parse(decodeRecord((batch.records[0] as { bytes: Uint8Array }).bytes).receivedAt);
        for (const [stream, positions] of positionsByStream(events, at))
          states.set(stream, foldStream(states.get(stream), stream, positions, this.#maxGaps));
      }
      if (page.length < 100) break;
      seq = (page[page.length - 1] as { seq: number }).seq + 1;
    }
    const raced: string[] = [];
    for (const [stream, state] of states) {
      const current = await this.#store.read(logId, stream);
      if (!(await this.#store.compareAndSwap(logId, state, current?.version ?? 0))) raced.push(stream);
    }
    return { streams: states.size - raced.length, records, raced };
  }

  /**
   * One page of a log's streams with their overdue gaps and silence at `now`,
   * and emits ProducerGapsOverdue / ProducerStreamsSilent for the page.
   */
  async list(
    logId: string,
    opts: { cursor?: string; limit?: number } = {},
  ): Promise<{
    streams: StreamView[];
    cursor?: string;
    gapAgeSeconds: number;
  }> {
    const now = this.#clock.now();
    let page: Awaited<ReturnType<ProducerStore['list']>>;
    try {
      page = await this.#store.list(logId, opts);
    } catch (err) {
      throw fromPortError(err, `listing the producer streams of ${logId}`) ?? err;
    }
    const streams = page.items.map(({ state }) => ({
      ...state,
      missing: missingCount(state),
      overdueGaps: overdueGaps(state, now, this.#gapAgeMs).length,
      silent: isSilent(state, now),
    }));
    this.#metrics?.emit({
      dimensions: { LogId: logId },
      metrics: [
        { name: 'ProducerGapsOverdue', value: streams.reduce((n, s) => n + s.overdueGaps, 0), unit: 'Count' },
        { name: 'ProducerStreamsSilent', value: streams.filter((s) => s.silent).length, unit: 'Count' },
      ],
      timestampMs: now,
    });
    return {
      streams,
      ...(page.cursor !== undefined ? { cursor: page.cursor } : {}),
      gapAgeSeconds: this.#gapAgeMs / 1000,
    };
  }
}
