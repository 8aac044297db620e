/**
 * Log streams (docs/streams.md): per stream, the log's sealed records after
 * the stream's cursor → filtered → framed in chunks for the destination →
 * sent, retried with backoff and jitter → the cursor moved past the chunk
 * with a compare-and-swap. Separate from the sealer, like the query
 * projector: a SIEM that is down never holds back the record of truth.
 *
 * At least once, in log order:
 *  - a chunk is sent only after every record before it was delivered (one
 *    chunk in flight per stream, chunks in index order);
 *  - the cursor moves past a chunk only after the destination took it (a 2xx;
 *    for HEC with ack, "indexed"), so it never passes an undelivered record;
 *  - a crash between the send and the cursor write sends the chunk again on
 *    the next run (same range, same idempotency key: webhook-id, S3 key);
 *  - two runners that read the same cursor version may both send a chunk
 *    (a duplicate, within at least once); only one cursor write wins and the
 *    other runner stops.
 *
 * Dead letters — the stream BLOCKS: after `maxAttempts` failed attempts (or
 * one permanent failure) the chunk's dead letter is stored, the StreamBlocked
 * metric alarms, and the cursor stays. The stream keeps retrying that chunk
 * once per backoff cap, so a destination that comes back resumes by itself
 * with nothing lost and nothing to re-drive; an operator who judges the chunk
 * poison skips it (`skip`), which moves the cursor past it and records that
 * in the letter. Why not skip automatically: a SIEM feed's value is that it
 * is complete and in order, and the usual causes of repeated failure (a
 * revoked token, a wrong index, an outage) hit every chunk alike — skipping
 * would turn one misconfiguration into a dead letter per chunk and a hole in
 * the SIEM that nobody notices.
 */
import { backoffDelay, type Sleep, type Uniform } from '../core/backoff.ts';
import type { AttemptResult, DeliveryFailure } from '../core/deliver/progress.ts';
import { decodeRecord, RecordError } from '../core/record.ts';
import {
  assembleBody,
  encodeItem,
  envelopeBytes,
  type StreamChunk,
  type StreamDocument,
  streamDocument,
} from '../core/streams/payloads.ts';
import { type StreamSpec, selects } from '../core/streams/spec.ts';
import type { Clock } from '../ports/clock.ts';
import { type LogStore, LogStoreError, type StoredBatch } from '../ports/log-store.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import type { SealStateStore } from '../ports/seal-state.ts';
import type { StreamSink } from '../ports/stream-sink.ts';
import {
  type StreamCursor,
  type StreamDeadLetter,
  type StreamStore,
  streamDeadLetterId,
} from '../ports/stream-store.ts';
import { AppError } from './errors.ts';
import { fromPortError, RETRY_AFTER_SECONDS } from './port-errors.ts';

export interface StreamRetryPolicy {
  /** backoffDelay's base and cap (ms): the wait before retry n is uniform in [0, min(cap, base·2^(n−1))). */
  readonly baseMs: number;
  readonly capMs: number;
}

/** Waits with ceilings 2 s, 4 s, … 10 min; a blocked stream tries its chunk again every cap. */
export const DEFAULT_STREAM_RETRY: StreamRetryPolicy = { baseMs: 2_000, capMs: 10 * 60_000 };

/** Points a test may crash at (afterStep throws). */
export type StreamStep =
  /** The destination took a chunk; the cursor is not moved. */
  | 'sent'
  /** A dead letter is stored; the cursor does not name it yet. */
  | 'dead-lettered';

export interface StreamServiceOptions {
  readonly logs: Pick<LogStore, 'readBatches'>;
  readonly sealState: Pick<SealStateStore, 'read'>;
  readonly store: StreamStore;
  readonly streams: readonly StreamSpec[];
  /** By stream name: one per configured stream. */
  readonly sinks: ReadonlyMap<string, StreamSink>;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly random: Uniform;
  readonly metrics?: MetricsSink;
  readonly retry?: Partial<StreamRetryPolicy>;
  /** A retry due within this many ms is waited for in the same run; a later one is left to a later run. Default 10 s. */
  readonly maxInRunWaitMs?: number;
  /** Batches per log-store read. Default 50. */
  readonly batchPage?: number;
  /** Records looked at per chunk at most (filtered-out ones included). Default 20,000. */
  readonly maxScanPerChunk?: number;
  readonly afterStep?: (step: StreamStep, stream: string) => void;
}

export type StreamStatus =
  /** Caught up with the sealed records. */
  | 'idle'
  /** Chunks were delivered; `more` says whether the deadline stopped it. */
  | 'delivered'
  /** The last chunk failed; the next attempt is scheduled (nextAttemptAtMs). */
  | 'retrying'
  /** Blocked on a dead letter (see blockedBy). */
  | 'blocked'
  /** A retry is not due yet; nothing was sent. */
  | 'waiting'
  /** Another runner moved the cursor first; this run stopped. */
  | 'lost-race';

export interface StreamOutcome {
  readonly stream: string;
  readonly logId: string;
  readonly status: StreamStatus;
  /** Records delivered (sent and past the cursor) in this run. */
  readonly delivered: number;
  readonly chunks: number;
  readonly failedAttempts: number;
  /** Dead letters stored in this run. */
  readonly deadLettered: number;
  readonly nextIndex: number;
  /** The log's sealed size at the start of the run. */
  readonly sealedSize: number;
  /** Sealed records not yet delivered. */
  readonly lagRecords: number;
  /** Age of the oldest sealed record not yet delivered (0 when caught up). */
  readonly lagSeconds: number;
  readonly blockedBy?: string;
  readonly lastError?: DeliveryFailure;
  readonly more: boolean;
}

export type StreamErrorCode = 'UNKNOWN_STREAM' | 'NOT_BLOCKED';

function toAppError(stream: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const mapped = fromPortError(err, `stream ${stream}`);
  if (mapped) return mapped;
  if (err instanceof RecordError)
    return new AppError('INTEGRITY', `stream ${stream}: ${err.message}`, { cause: err });
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new AppError('UNAVAILABLE', `stream ${stream} interrupted (${what}); the next run resumes`, {
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    cause: err,
  });
}

interface Scanned {
  readonly index: number;
  readonly bytes: Uint8Array;
  /** The batch seq the next record is in (this batch, or the next one after its last record). */
  readonly nextSeq: number;
}

/** Sealed records of one log from (seq, index), in order, read a page of batches at a time. */
class RecordReader {
  readonly #logs: Pick<LogStore, 'readBatches'>;
  readonly #logId: string;
  readonly #sealed: number;
  readonly #page: number;
  #seq: number;
  #next: number;
  #buffer: Scanned[] = [];
  #done = false;

  constructor(
    logs: Pick<LogStore, 'readBatches'>,
    logId: string,
    seq: number,
    from: number,
    sealed: number,
    page: number,
  ) {
    this.#logs = logs;
    this.#logId = logId;
    this.#seq = seq;
    this.#next = from;
    this.#sealed = sealed;
    this.#page = page;
  }

  async peek(): Promise<Scanned | undefined> {
    while (this.#buffer.length === 0 && !this.#done) await this.#fill();
    return this.#buffer[0];
  }

  take(): Scanned {
    const r = this.#buffer.shift();
    if (!r) throw new TypeError('take() without a peeked record');
    return r;
  }

  async #fill(): Promise<void> {
    if (this.#next >= this.#sealed) {
      this.#done = true;
      return;
    }
    const batches: StoredBatch[] = await this.#logs.readBatches(this.#logId, this.#seq, this.#page);
    if (batches.length === 0)
      throw new LogStoreError(
        'INTEGRITY',
        `log ${this.#logId} has no batch ${this.#seq} though record ${this.#next} is sealed`,
      );
    for (const b of batches) {
      const end = b.firstIndex + b.count;
      if (b.firstIndex > this.#next || end <= this.#next)
        throw new LogStoreError(
          'INTEGRITY',
          `batch ${b.seq} of log ${this.#logId} holds ${b.firstIndex}..${end - 1}, the stream expected ${this.#next}`,
        );
      for (const r of b.records) {
        if (r.index < this.#next) continue;
        if (r.index >= this.#sealed) break;
        this.#buffer.push({
          index: r.index,
          bytes: r.bytes,
          nextSeq: r.index + 1 === end ? b.seq + 1 : b.seq,
        });
        this.#next = r.index + 1;
      }
      this.#seq = this.#next === end ? b.seq + 1 : b.seq;
      if (this.#next >= this.#sealed) break;
    }
    if (this.#next >= this.#sealed) this.#done = true;
  }
}

interface BuiltChunk {
  readonly chunk: StreamChunk;
  readonly body: Uint8Array;
  /** The cursor's seq once the chunk is delivered. */
  readonly nextSeq: number;
  /** receivedAt of its first record (for lag). */
  readonly firstReceivedAt: string;
}

type Attempted =
  | { readonly ok: true; readonly attempts: number }
  | {
      readonly ok: false;
      readonly attempts: number;
      readonly failure: Extract<AttemptResult, { ok: false }>;
      /** The earliest the next attempt may start (epoch ms). */
      readonly nextAtMs: number;
    };

function failureOf(r: Extract<AttemptResult, { ok: false }>): DeliveryFailure {
  return {
    code: r.code,
    message: r.message.slice(0, 500),
    ...(r.status !== undefined ? { status: r.status } : {}),
  };
}

export class StreamService {
  readonly #o: StreamServiceOptions;
  readonly #policy: StreamRetryPolicy;
  readonly #inRunWaitMs: number;
  readonly #specs: ReadonlyMap<string, StreamSpec>;

  constructor(options: StreamServiceOptions) {
    this.#o = options;
    this.#policy = { ...DEFAULT_STREAM_RETRY, ...options.retry };
    this.#inRunWaitMs = options.maxInRunWaitMs ?? 10_000;
    this.#specs = new Map(options.streams.map((s) => [s.name, s]));
    for (const s of options.streams)
      if (!options.sinks.has(s.name)) throw new RangeError(`stream ${s.name} has no sink`);
  }

  get streams(): readonly StreamSpec[] {
    return this.#o.streams;
  }

  #spec(name: string): StreamSpec {
    const spec = this.#specs.get(name);
    if (!spec) throw new AppError('NOT_FOUND', `no stream named ${name} is configured (ANCHORLOG_STREAMS)`);
    return spec;
  }

  /** Runs every stream of these logs (every stream when `logIds` is undefined) until the deadline. */
  async runLogs(
    logIds: readonly string[] | undefined,
    deadlineMs: number,
  ): Promise<
    Array<
      | ({ ok: true } & StreamOutcome)
      | { ok: false; logId: string; stream: string; code: string; message: string }
    >
  > {
    const out: Array<
      | ({ ok: true } & StreamOutcome)
      | { ok: false; logId: string; stream: string; code: string; message: string }
    > = [];
    for (const s of this.#o.streams) {
      if (logIds !== undefined && !logIds.includes(s.logId)) continue;
      if (this.#o.clock.now() >= deadlineMs) break;
      try {
        out.push({ ok: true, ...(await this.run(s.name, deadlineMs)) });
      } catch (err) {
        const e = toAppError(s.name, err);
        out.push({ ok: false, logId: s.logId, stream: s.name, code: e.code, message: e.message });
      }
    }
    return out;
  }

  /** One run of one stream until it is caught up, fails, or the deadline passes (no send starts after it). */
  async run(name: string, deadlineMs: number): Promise<StreamOutcome> {
    const spec = this.#spec(name);
    let delivered = 0;
    let chunks = 0;
    let failedAttempts = 0;
    let deadLettered = 0;
    try {
      const { store, clock } = this.#o;
      const stored = await store.readCursor(name);
      let version = stored?.version ?? 0;
      let cur: StreamCursor = stored?.cursor ?? {
        v: 1,
        stream: name,
        logId: spec.logId,
        nextIndex: 0,
        seq: 1,
        attempts: 0,
        nextAttemptAtMs: 0,
        delivered: 0,
        updatedAtMs: clock.now(),
      };
      if (cur.logId !== spec.logId)
        throw new AppError(
          'INTEGRITY',
          `stream ${name}'s cursor is for log ${cur.logId}, the configuration says ${spec.logId}: a stream keeps its log; give the new one another name`,
        );
      const sealedSize = (await this.#o.sealState.read(spec.logId))?.size ?? 0;
      const reader = new RecordReader(
        this.#o.logs,
        spec.logId,
        cur.seq,
        cur.nextIndex,
        sealedSize,
        this.#o.batchPage ?? 50,
      );
      let status: StreamStatus = 'idle';
      let more = false;
      let pendingAt: string | undefined;
      if (cur.nextIndex < sealedSize && cur.nextAttemptAtMs > clock.now())
        status = cur.blockedBy ? 'blocked' : 'waiting';
      else
        for (;;) {
          if (clock.now() >= deadlineMs) {
            more = cur.nextIndex < sealedSize;
            break;
          }
          const built = await this.#build(spec, reader, cur.nextIndex);
          if (!built) break;
          pendingAt = built.firstReceivedAt;
          const a: Attempted =
            built.chunk.docs.length === 0
              ? { ok: true, attempts: 0 }
              : await this.#attempt(spec, built, cur.attempts, deadlineMs);
          failedAttempts += a.attempts - cur.attempts - (a.ok && built.chunk.docs.length > 0 ? 1 : 0);
          const now = clock.now();
          if (a.ok) {
            if (built.chunk.docs.length > 0) this.#o.afterStep?.('sent', name);
            const next: StreamCursor = {
              v: 1,
              stream: name,
              logId: spec.logId,
              nextIndex: built.chunk.toIndex,
              seq: built.nextSeq,
              attempts: 0,
              nextAttemptAtMs: 0,
              delivered: cur.delivered + built.chunk.docs.length,
              updatedAtMs: now,
            };
            // COMMIT POINT: records below next.nextIndex are delivered.
            if (!(await store.writeCursor(next, version))) {
              status = 'lost-race';
              break;
            }
            version++;
            if (cur.blockedBy) await this.#resolveLetter(cur.blockedBy, 'delivered');
            cur = next;
            pendingAt = undefined;
            delivered += built.chunk.docs.length;
            chunks++;
            status = 'delivered';
            continue;
          }
          const lastError = failureOf(a.failure);
          let blockedBy = cur.blockedBy;
          if (!a.failure.retryable || a.attempts >= spec.maxAttempts) {
            const id = streamDeadLetterId(name, built.chunk.fromIndex);
            const letter: StreamDeadLetter = {
              v: 1,
              id,
              stream: name,
              logId: spec.logId,
              fromIndex: built.chunk.fromIndex,
              toIndex: built.chunk.toIndex,
              attempts: a.attempts,
              deadAtMs: now,
              lastError,
              state: 'open',
            };
            // The letter first, then the cursor that names it: a crash between the two
            // stores the same letter again on the next run.
            await store.putDeadLetter(letter);
            if (!blockedBy) deadLettered++;
            blockedBy = id;
            this.#o.afterStep?.('dead-lettered', name);
          }
          const next: StreamCursor = {
            ...cur,
            attempts: a.attempts,
            nextAttemptAtMs: blockedBy ? now + this.#policy.capMs : a.nextAtMs,
            lastError,
            ...(blockedBy ? { blockedBy } : {}),
            updatedAtMs: now,
          };
          if (!(await store.writeCursor(next, version))) status = 'lost-race';
          else {
            cur = next;
            status = blockedBy ? 'blocked' : 'retrying';
          }
          break;
        }
      if (pendingAt === undefined && cur.nextIndex < sealedSize && status !== 'lost-race')
        pendingAt = await this.#receivedAtOf(reader);
      const lagRecords = Math.max(0, sealedSize - cur.nextIndex);
      const lagSeconds =
        lagRecords > 0 && pendingAt !== undefined
          ? Math.max(0, Math.floor((clock.now() - Date.parse(pendingAt)) / 1000))
          : 0;
      const outcome: StreamOutcome = {
        stream: name,
        logId: spec.logId,
        status,
        delivered,
        chunks,
        failedAttempts,
        deadLettered,
        nextIndex: cur.nextIndex,
        sealedSize,
        lagRecords,
        lagSeconds,
        ...(cur.blockedBy ? { blockedBy: cur.blockedBy } : {}),
        ...(cur.lastError && status !== 'delivered' && status !== 'idle' ? { lastError: cur.lastError } : {}),
        more,
      };
      this.#emit(outcome);
      return outcome;
    } catch (err) {
      throw toAppError(name, err);
    }
  }

  async #receivedAtOf(reader: RecordReader): Promise<string | undefined> {
    const r = await reader.peek();
    return r ? decodeRecord(r.bytes).receivedAt : undefined;
  }

  /**
   * The next chunk from `from`: records in index order until maxEvents
   * documents, maxBytes of body, the scan limit, or the sealed end. A single
   * document larger than maxBytes goes alone (the receiver decides).
   */
  async #build(spec: StreamSpec, reader: RecordReader, from: number): Promise<BuiltChunk | undefined> {
    const first = await reader.peek();
    if (!first) return undefined;
    if (first.index !== from)
      throw new LogStoreError('INTEGRITY', `stream read ${first.index}, expected ${from}`);
    const docs: StreamDocument[] = [];
    const items: string[] = [];
    let bytes = 0;
    let scanned = 0;
    let to = from;
    let nextSeq = first.nextSeq;
    let firstReceivedAt: string | undefined;
    const maxScan = this.#o.maxScanPerChunk ?? 20_000;
    const enc = new TextEncoder();
    for (;;) {
      const r = await reader.peek();
      if (!r || scanned >= maxScan || docs.length >= spec.maxEvents) break;
      const rec = decodeRecord(r.bytes);
      if (rec.index !== r.index || rec.logId !== spec.logId)
        throw new LogStoreError(
          'INTEGRITY',
          `record ${r.index} of log ${spec.logId} names ${rec.logId}/${rec.index}`,
        );
      firstReceivedAt ??= rec.receivedAt;
      if (selects(spec.filter, rec.event.action)) {
        const doc = streamDocument(rec, r.bytes, spec.filter.dropFields);
        const item = encodeItem(spec, doc);
        const size = enc.encode(item).length;
        if (docs.length > 0 && bytes + size + envelopeBytes(spec, docs.length + 1) > spec.maxBytes) break;
        docs.push(doc);
        items.push(item);
        bytes += size;
      }
      reader.take();
      scanned++;
      to = r.index + 1;
      nextSeq = r.nextSeq;
    }
    const chunk: StreamChunk = { stream: spec.name, logId: spec.logId, fromIndex: from, toIndex: to, docs };
    return {
      chunk,
      body: enc.encode(assembleBody(spec, chunk, items)),
      nextSeq,
      firstReceivedAt: firstReceivedAt as string,
    };
  }

  /** Attempts a chunk, retrying in this run while the next attempt is due within maxInRunWaitMs and before the deadline. */
  async #attempt(spec: StreamSpec, built: BuiltChunk, prior: number, deadlineMs: number): Promise<Attempted> {
    const { clock, random, sleep } = this.#o;
    const sink = this.#o.sinks.get(spec.name) as StreamSink;
    let attempts = prior;
    for (;;) {
      let r: AttemptResult;
      try {
        r = await sink.send({ chunk: built.chunk, body: built.body, attempt: attempts + 1 });
      } catch (err) {
        // The port says a sink resolves; a throw is a bug in it. Retried.
        r = {
          ok: false,
          code: 'INTERNAL',
          message: `sink ${spec.name} threw: ${err instanceof Error ? err.message : String(err)}`,
          retryable: true,
        };
      }
      attempts++;
      if (r.ok) return { ok: true, attempts };
      const now = clock.now();
      const wait = Math.max(
        backoffDelay(Math.min(attempts, 30), this.#policy, random),
        Math.min(r.retryAfterMs ?? 0, this.#policy.capMs),
      );
      if (
        !r.retryable ||
        attempts >= spec.maxAttempts ||
        wait > this.#inRunWaitMs ||
        now + wait >= deadlineMs
      )
        return { ok: false, attempts, failure: r, nextAtMs: now + wait };
      await sleep(wait);
    }
  }

  async #resolveLetter(id: string, state: 'delivered' | 'skipped'): Promise<void> {
    const l = await this.#o.store.readDeadLetter(id);
    if (l && l.state === 'open')
      await this.#o.store.putDeadLetter({ ...l, state, resolvedAtMs: this.#o.clock.now() });
  }

  /**
   * An operator's decision that a blocked stream's chunk is poison: the cursor
   * moves past the dead letter's range (compare-and-swap) and the letter says
   * `skipped`. Its records stay in the log (and in every export); nothing else
   * is skipped. Refused unless the stream is blocked on exactly this letter.
   */
  async skip(name: string, letterId: string): Promise<StreamCursor> {
    const spec = this.#spec(name);
    try {
      const stored = await this.#o.store.readCursor(name);
      const letter = await this.#o.store.readDeadLetter(letterId);
      if (!stored || stored.cursor.blockedBy !== letterId || !letter || letter.state !== 'open')
        throw new AppError('CONFLICT', `stream ${name} is not blocked on dead letter ${letterId}`);
      // Reading the batches again finds the seq of letter.toIndex: the reader is the one place that knows them.
      const sealed = (await this.#o.sealState.read(spec.logId))?.size ?? 0;
      const reader = new RecordReader(
        this.#o.logs,
        spec.logId,
        stored.cursor.seq,
        stored.cursor.nextIndex,
        sealed,
        this.#o.batchPage ?? 50,
      );
      let seq = stored.cursor.seq;
      for (let i = stored.cursor.nextIndex; i < letter.toIndex; i++) {
        const r = await reader.peek();
        if (!r) break;
        reader.take();
        seq = r.nextSeq;
      }
      const next: StreamCursor = {
        v: 1,
        stream: name,
        logId: spec.logId,
        nextIndex: letter.toIndex,
        seq,
        attempts: 0,
        nextAttemptAtMs: 0,
        delivered: stored.cursor.delivered,
        updatedAtMs: this.#o.clock.now(),
      };
      if (!(await this.#o.store.writeCursor(next, stored.version)))
        throw new AppError('CONFLICT', `stream ${name} moved meanwhile; look again`);
      await this.#resolveLetter(letterId, 'skipped');
      return next;
    } catch (err) {
      throw toAppError(name, err);
    }
  }

  listDeadLetters(
    opts: { stream?: string; state?: StreamDeadLetter['state'] } = {},
  ): Promise<StreamDeadLetter[]> {
    return this.#o.store.listDeadLetters(opts);
  }

  /**
   * Per stream: StreamRecordsDelivered, StreamDeliveryFailures (failed
   * attempts), StreamDeadLetters (new this run), StreamBlocked (1 while blocked
   * on a dead letter: alarmed), StreamLagRecords and StreamLagSeconds (alarmed
   * over a threshold).
   */
  #emit(o: StreamOutcome): void {
    this.#o.metrics?.emit({
      dimensions: { Stream: o.stream },
      metrics: [
        { name: 'StreamRecordsDelivered', value: o.delivered, unit: 'Count' },
        { name: 'StreamDeliveryFailures', value: o.failedAttempts, unit: 'Count' },
        { name: 'StreamDeadLetters', value: o.deadLettered, unit: 'Count' },
        { name: 'StreamBlocked', value: o.blockedBy ? 1 : 0, unit: 'Count' },
        { name: 'StreamLagRecords', value: o.lagRecords, unit: 'Count' },
        { name: 'StreamLagSeconds', value: o.lagSeconds, unit: 'None' },
      ],
      timestampMs: this.#o.clock.now(),
      properties: { logId: o.logId },
    });
  }
}
