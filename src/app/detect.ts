/**
 * The detection job's use case (docs/detection.md "Evaluation"): for one log,
 * evaluate the enabled rules over the records sealed since its cursor,
 * exactly once per record and rule, and put what fires in the outbox, citing
 * the signed checkpoint the records are under.
 *
 *   seal state ─▶ sealed size S, its checkpoint (the records evaluated are [cursor, S))
 *   rules      ─▶ compiled once per (id, version, document), one engine per run
 *   cursor     ─▶ read records [cursor, S) through the LogStore, batch by batch, in
 *                 chunks of ≤ 1,000: decode, check the hash chain, evaluate, commit
 *   watermark  ─▶ a tick after the last chunk (absence rules only)
 *
 * All the crash safety is runDetection's (src/app/detection.ts): a chunk's
 * state, outbox entries and cursor are one atomic commit, so a run cut short
 * anywhere — a Lambda timeout, a store failure, a crash — is resumed by the
 * next run from the stored cursor and produces the same alerts. Nothing here
 * writes anything else.
 *
 * Input is verified, not trusted: the records evaluated are exactly the
 * sealed ones, read from the batches the seal state names, chained record to
 * record from the first batch read, and — when a run reaches the sealed size —
 * ending in the leaf hash the sealer recorded. A contradiction is INTEGRITY
 * (the run stops for that log and the job raises DETECT_INTEGRITY).
 */
import { bytesEqual, toBase64, toHex } from '../core/bytes.ts';
import { canonicalBytes } from '../core/canonical.ts';
import { type CompiledRule, compileRule } from '../core/detect/compile.ts';
import { type ChunkStats, DetectionEngine, DetectionError, type Step } from '../core/detect/engine.ts';
import { RuleError } from '../core/detect/errors.ts';
import { sha256 } from '../core/hash.ts';
import { parseCheckpoint } from '../core/note/checkpoint.ts';
import { decodeRecord, type LogRecord, leafHash, RecordError } from '../core/record.ts';
import { type Clock, MAX_CLOCK_SKEW_MS } from '../ports/clock.ts';
import type {
  CheckpointRef,
  DetectionStateStore,
  LogPosition,
  StoredCursor,
} from '../ports/detection-state.ts';
import type { LogStore, StoredBatch } from '../ports/log-store.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import type { RuleSource } from '../ports/rule-source.ts';
import type { SealState, SealStateStore } from '../ports/seal-state.ts';
import { type DetectionPhase, runDetection, type StepChunk } from './detection.ts';
import { AppError } from './errors.ts';
import { fromPortError, RETRY_AFTER_SECONDS } from './port-errors.ts';

export interface DetectionServiceOptions {
  /** Reads only: detection never writes the log. */
  readonly logs: Pick<LogStore, 'readBatches' | 'readBatchHeader'>;
  readonly sealState: Pick<SealStateStore, 'read'>;
  readonly state: DetectionStateStore;
  readonly rules: RuleSource;
  readonly clock: Clock;
  readonly metrics?: MetricsSink;
  /** Records per chunk (one commit each), 1 … 1,000. Default 1,000. */
  readonly chunkRecords?: number;
  /**
   * A log detection meets for the first time is evaluated from its first
   * record received this long before (docs/detection.md "Guarantees", 4):
   * a new log's first records are not missed, an old log's history is not
   * replayed. Default 1 hour.
   */
  readonly newLogLookbackMs?: number;
  /** Test seam (runDetection's): a throw is a crash at that phase. */
  readonly afterPhase?: (phase: DetectionPhase, chunk: number) => void;
}

export type DetectStatus =
  /** Nothing to evaluate and no tick to apply. */
  | 'idle'
  /** Records or a tick were evaluated and committed. */
  | 'evaluated'
  /** Another evaluator committed first; this run stopped (the other one is ahead). */
  | 'lost-race';

export interface DetectOutcome {
  readonly logId: string;
  readonly status: DetectStatus;
  /** The cursor's next index before and after the run. */
  readonly from: number;
  readonly to: number;
  /** The sealed size the run evaluated up to (the size of the checkpoint alerts cite). */
  readonly sealedSize: number;
  /** True when the deadline stopped the run with sealed records left: run again. */
  readonly more: boolean;
  readonly chunks: number;
  readonly records: number;
  readonly alerts: number;
  readonly occurrences: number;
  readonly suppressed: number;
  /** Expression errors over all rules (a rule that errors on every record is broken: see the metric). */
  readonly ruleErrors: number;
  /** Rules the source returned that did not compile, by id: they did not run. */
  readonly invalidRules: readonly string[];
  /** Age of the oldest sealed record not evaluated after the run; 0 when caught up. */
  readonly lagSeconds: number;
}

/** Records per chunk at most (docs/detection.md: chunks of ≤ 1,000). */
export const MAX_CHUNK_RECORDS = 1000;
const DEFAULT_NEW_LOG_LOOKBACK_MS = 3_600_000;
/** Batches per read at most (BatchGetItem's limit). */
const READ_PAGE = 100;
/** Compiled rule versions kept across runs. */
const COMPILED_CACHE_MAX = 2000;

/** Thrown inside a run when stored data contradicts itself; becomes AppError INTEGRITY. */
class Integrity extends Error {}

function toAppError(logId: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof Integrity || err instanceof RecordError)
    return new AppError('INTEGRITY', `detection of log ${logId}: ${err.message}`, { cause: err });
  if (err instanceof DetectionError)
    return new AppError(
      err.code === 'STATE_NOT_READ' ? 'INTERNAL' : 'INTEGRITY',
      `detection of log ${logId}: ${err.message}`,
      { cause: err },
    );
  const mapped = fromPortError(err, `detection of log ${logId}`);
  if (mapped) return mapped;
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new AppError(
    'UNAVAILABLE',
    `detection of log ${logId} interrupted (${what}); the next run resumes`,
    {
      retryAfterSeconds: RETRY_AFTER_SECONDS,
      cause: err,
    },
  );
}

/** The tree size a signed checkpoint note states. */
function checkpointSize(note: string): number | undefined {
  const end = note.indexOf('\n\n');
  try {
    return parseCheckpoint(end < 0 ? note : note.slice(0, end + 1)).size;
  } catch {
    return undefined;
  }
}

export class DetectionService {
  readonly #o: DetectionServiceOptions;
  readonly #per: number;
  /** Compiled rules by `<id>@<version>#<document digest>`: compiling CEL is the expensive part. */
  readonly #compiled = new Map<string, CompiledRule | RuleError>();

  constructor(options: DetectionServiceOptions) {
    this.#o = options;
    this.#per = options.chunkRecords ?? MAX_CHUNK_RECORDS;
    if (!Number.isSafeInteger(this.#per) || this.#per < 1 || this.#per > MAX_CHUNK_RECORDS)
      throw new RangeError(`chunkRecords must be an integer in 1 … ${MAX_CHUNK_RECORDS}`);
  }

  /**
   * Evaluates what `logId` sealed since its cursor, starting no new chunk
   * after `deadlineMs` (epoch ms, the injected clock). Safe to run
   * concurrently, repeatedly and after any crash. Throws AppError:
   * INTEGRITY (stored records or state contradict themselves), THROTTLED /
   * UNAVAILABLE (retry: the next run resumes), INTERNAL.
   */
  async detectLog(logId: string, deadlineMs = Number.POSITIVE_INFINITY): Promise<DetectOutcome> {
    try {
      return await this.#run(logId, deadlineMs);
    } catch (err) {
      throw toAppError(logId, err);
    }
  }

  async #run(logId: string, deadlineMs: number): Promise<DetectOutcome> {
    const o = this.#o;
    // Read before anything else: the tick at `now − skew` is safe only for records appended after this.
    const now = o.clock.now();
    const read = await o.sealState.read(logId);
    const sealed = read !== undefined && read.version > 0 && read.checkpoint !== undefined ? read : undefined;
    const size = sealed?.size ?? 0;
    let checkpoint: CheckpointRef | undefined;
    if (sealed) {
      if (checkpointSize(sealed.checkpoint as string) !== size)
        throw new Integrity(`the seal state's checkpoint does not state its size ${size}`);
      checkpoint = { size, checkpoint: sealed.checkpoint as string };
    }
    const { engine, invalid } = await this.#engine(logId);
    const tickAt = engine.rules.some((r) => r.kind === 'absence')
      ? await this.#watermark(logId, sealed, now)
      : undefined;

    let from = -1;
    // Where a new log's start was found: the batch to read first (saves a search).
    let start: LogPosition | undefined;
    const result = await runDetection(
      o.state,
      engine,
      (cursor) => {
        from = cursor.nextIndex;
        const hint = cursor.resume ?? (start?.firstIndex === cursor.nextIndex ? start : undefined);
        return this.#chunks(
          logId,
          { ...cursor, ...(hint ? { resume: hint } : {}) },
          sealed,
          checkpoint,
          tickAt,
        );
      },
      {
        chunkRecords: this.#per,
        startIndex: async () => {
          start = await this.#startIndex(logId, sealed, now);
          return start.firstIndex;
        },
        pinCursor: true,
        shouldContinue: () => o.clock.now() < deadlineMs,
        ...(o.afterPhase ? { afterPhase: o.afterPhase } : {}),
      },
    );
    const totals = sum(result.stats);
    const to = result.cursor.nextIndex;
    const lagSeconds =
      to < size ? await this.#lagSeconds(logId, to, result.cursor.resume, sealed as SealState, now) : 0;
    const outcome: DetectOutcome = {
      logId,
      status: result.lostRace ? 'lost-race' : totals.records + totals.ticks > 0 ? 'evaluated' : 'idle',
      from,
      to,
      sealedSize: size,
      more: to < size,
      chunks: result.chunks,
      records: totals.records,
      alerts: totals.alerts,
      occurrences: totals.occurrences,
      suppressed: totals.suppressed,
      ruleErrors: totals.errors,
      invalidRules: invalid.map((i) => i.id),
      lagSeconds,
    };
    this.#emit(outcome, totals, invalid, now);
    return outcome;
  }

  /** The engine for this run: the source's enabled rules, compiled (cached across runs). */
  async #engine(
    logId: string,
  ): Promise<{ engine: DetectionEngine; invalid: { id: string; error: RuleError }[] }> {
    const docs = await this.#o.rules.enabledRules(logId);
    const seen = new Set<string>();
    const rules: CompiledRule[] = [];
    const invalid: { id: string; error: RuleError }[] = [];
    for (const doc of docs) {
      if (seen.has(doc.id))
        throw new AppError(
          'INTERNAL',
          `the rule source returned rule ${doc.id} twice (one version per rule)`,
        );
      seen.add(doc.id);
      const key = `${doc.id}@${doc.version}#${toHex(sha256(canonicalBytes(doc))).slice(0, 32)}`;
      let compiled = this.#compiled.get(key);
      if (compiled === undefined) {
        try {
          compiled = compileRule(doc);
        } catch (err) {
          // A document the source accepted and this engine refuses: the others still run, and
          // the refusal is visible (DetectionRuleErrors, code RULE_INVALID).
          if (!(err instanceof RuleError)) throw err;
          compiled = err;
        }
      }
      this.#compiled.set(key, compiled);
      if (compiled instanceof RuleError) invalid.push({ id: doc.id, error: compiled });
      else rules.push(compiled);
    }
    // Rule versions gone from every source are dropped now and then (a bounded cache, not an index).
    if (this.#compiled.size > COMPILED_CACHE_MAX) this.#compiled.clear();
    return { engine: new DetectionEngine(logId, rules), invalid };
  }

  /**
   * Log time the run may tick to (docs/detection.md "Time"): 1 ms before the
   * oldest record waiting to be sealed, if there is one, but never past this
   * job's clock minus MAX_CLOCK_SKEW_MS (an unsealed batch is not verified
   * yet: one planted with a future receivedAt must not move log time); else
   * that clock minus MAX_CLOCK_SKEW_MS (ingest stamps a record at most that
   * far behind it). Undefined when there is no time to tick to.
   */
  async #watermark(logId: string, sealed: SealState | undefined, now: number): Promise<number | undefined> {
    const sealedAt = sealed?.lastReceivedAt !== undefined ? Date.parse(sealed.lastReceivedAt) : undefined;
    const unsealed = await this.#o.logs.readBatchHeader(logId, (sealed?.seq ?? 0) + 1);
    const bound = now - MAX_CLOCK_SKEW_MS;
    const tick = unsealed ? Math.min(Date.parse(unsealed.receivedAt) - 1, bound) : bound;
    const t = Math.max(
      sealedAt ?? Number.NEGATIVE_INFINITY,
      Number.isFinite(tick) ? tick : Number.NEGATIVE_INFINITY,
    );
    return Number.isFinite(t) ? t : undefined;
  }

  /**
   * Where a log without a cursor starts: its first sealed record received in
   * the last newLogLookbackMs (binary search over batch headers, whose
   * receivedAt never decreases), or the sealed size when there is none; with
   * the batch that record is in.
   */
  async #startIndex(logId: string, sealed: SealState | undefined, now: number): Promise<LogPosition> {
    if (!sealed) return { seq: 1, firstIndex: 0 };
    const end = { seq: sealed.seq + 1, firstIndex: sealed.size };
    const cutoff = now - (this.#o.newLogLookbackMs ?? DEFAULT_NEW_LOG_LOOKBACK_MS);
    if (sealed.lastReceivedAt === undefined || Date.parse(sealed.lastReceivedAt) < cutoff) return end;
    let lo = 1;
    let hi = sealed.seq;
    let found = end;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const h = await this.#o.logs.readBatchHeader(logId, mid);
      if (!h) throw new Integrity(`sealed batch ${mid} is missing`);
      if (Date.parse(h.receivedAt) >= cutoff) {
        found = { seq: mid, firstIndex: h.firstIndex };
        hi = mid - 1;
      } else lo = mid + 1;
    }
    return found;
  }

  /** The batch holding record `index` (binary search over the sealed batch headers). */
  async #locate(logId: string, index: number, sealed: SealState): Promise<LogPosition> {
    let lo = 1;
    let hi = sealed.seq;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const h = await this.#o.logs.readBatchHeader(logId, mid);
      if (!h) throw new Integrity(`sealed batch ${mid} is missing`);
      if (index < h.firstIndex) hi = mid - 1;
      else if (index >= h.firstIndex + h.count) lo = mid + 1;
      else return { seq: mid, firstIndex: h.firstIndex };
    }
    throw new Integrity(`no sealed batch holds record ${index}`);
  }

  /**
   * The chunks of one run: sealed records [cursor, size) read batch by batch
   * (from the cursor's resume hint, checked, or a search), decoded, checked,
   * cut into chunks of ≤ chunkRecords records, each with its resume position;
   * then the tick. Reads lazily: a chunk is read only when the previous one
   * is committed and the deadline allows another.
   */
  async *#chunks(
    logId: string,
    cursor: StoredCursor,
    sealed: SealState | undefined,
    checkpoint: CheckpointRef | undefined,
    tickAt: number | undefined,
  ): AsyncGenerator<StepChunk> {
    const size = sealed?.size ?? 0;
    const tick = (): Step[] =>
      tickAt !== undefined && tickAt > cursor.watermarkMs ? [{ kind: 'tick', atMs: tickAt }] : [];
    const cite = checkpoint ? { checkpoint } : {};
    let next = cursor.nextIndex;
    if (next > size)
      throw new Integrity(
        `the detection cursor is at record ${next}, past the sealed size ${size} (was the seal state rolled back?)`,
      );
    if (next === size || !sealed) {
      const steps = tick();
      if (steps.length) yield { steps, ...cite, ...(cursor.resume ? { resume: cursor.resume } : {}) };
      return;
    }
    let pos =
      cursor.resume && cursor.resume.firstIndex <= next && cursor.resume.seq <= sealed.seq
        ? cursor.resume
        : await this.#locate(logId, next, sealed);
    let hinted = pos === cursor.resume;
    // Records per batch so far: how many batches one chunk needs.
    const perBatch = Math.max(1, sealed.seq > 0 ? size / sealed.seq : 1);
    let pending: LogRecord[] = [];
    /** Base64 leaf hash of the last record read: the next one's `prev`. */
    let prev: string | undefined;
    let lastLeaf: Uint8Array | undefined;
    /** The batch holding the first record not yet read, once reading has begun. */
    let after: LogPosition = pos;
    /** The batches whose records are in `pending`, to name the one a chunk ends in. */
    let spans: { seq: number; firstIndex: number; count: number }[] = [];
    while (next + pending.length < size) {
      const want = this.#per - pending.length;
      const limit = Math.max(1, Math.min(READ_PAGE, Math.ceil(want / perBatch), sealed.seq - pos.seq + 1));
      const batches = await this.#o.logs.readBatches(logId, pos.seq, limit);
      const first = batches[0];
      if (hinted && (!first || first.firstIndex > next || first.firstIndex + first.count <= next)) {
        // A stale or wrong hint costs a search, never a wrong answer.
        pos = await this.#locate(logId, next, sealed);
        after = pos;
        hinted = false;
        continue;
      }
      hinted = false;
      if (batches.length === 0) throw new Integrity(`sealed batch ${pos.seq} is missing`);
      for (const b of batches) {
        if (b.seq !== pos.seq || b.firstIndex !== pos.firstIndex)
          throw new Integrity(`batch ${b.seq} does not continue the log at record ${pos.firstIndex}`);
        ({ prev, lastLeaf } = this.#decode(logId, b, next + pending.length, prev, pending));
        spans.push({ seq: b.seq, firstIndex: b.firstIndex, count: b.count });
        pos = { seq: b.seq + 1, firstIndex: b.firstIndex + b.count };
        if (b.seq === sealed.seq && pos.firstIndex !== size)
          throw new Integrity(
            `the last sealed batch ${b.seq} ends at ${pos.firstIndex}, not at the sealed size ${size}`,
          );
      }
      after = pos;
      while (pending.length >= this.#per || (pending.length > 0 && next + pending.length >= size)) {
        const records = pending.slice(0, this.#per);
        pending = pending.slice(records.length);
        next += records.length;
        const steps: Step[] = records.map((record) => ({ kind: 'record', record }));
        if (next === size) {
          // The run reached the sealed size: the chain must end where the sealer's did.
          if (!lastLeaf || !bytesEqual(lastLeaf, sealed.lastLeafHash))
            throw new Integrity(`the records read do not end in the sealed leaf hash at size ${size}`);
          steps.push(...tick());
        }
        // The batch holding record `next` (read already), or the next one to read.
        spans = spans.filter((x) => x.firstIndex + x.count > next);
        const holding = spans[0];
        const resume = holding ? { seq: holding.seq, firstIndex: holding.firstIndex } : after;
        yield { steps, ...cite, resume };
      }
    }
  }

  /** Decodes a batch's records from `from` on into `out`, checking index, log and hash chain. */
  #decode(
    logId: string,
    b: StoredBatch,
    from: number,
    prev: string | undefined,
    out: LogRecord[],
  ): { prev: string | undefined; lastLeaf: Uint8Array | undefined } {
    let expectPrev = prev ?? toBase64(b.prevHash);
    let lastLeaf: Uint8Array | undefined;
    for (const r of b.records) {
      const rec = decodeRecord(r.bytes);
      if (rec.index !== r.index || rec.logId !== logId)
        throw new Integrity(`record ${r.index} of batch ${b.seq} names log ${rec.logId} index ${rec.index}`);
      if (rec.prev !== expectPrev)
        throw new Integrity(`record ${r.index} does not chain to the record before it`);
      lastLeaf = leafHash(r.bytes);
      expectPrev = toBase64(lastLeaf);
      if (rec.index >= from) out.push(rec);
    }
    return { prev: expectPrev, lastLeaf };
  }

  /** Age of sealed record `index` (the oldest not evaluated), from its batch header. */
  async #lagSeconds(
    logId: string,
    index: number,
    resume: LogPosition | undefined,
    sealed: SealState,
    now: number,
  ): Promise<number> {
    let h = resume ? await this.#o.logs.readBatchHeader(logId, resume.seq) : undefined;
    if (!h || h.firstIndex > index || index >= h.firstIndex + h.count)
      h = await this.#o.logs.readBatchHeader(logId, (await this.#locate(logId, index, sealed)).seq);
    return h ? Math.max(0, Math.round((now - Date.parse(h.receivedAt)) / 1000)) : 0;
  }

  /** DetectionLagSeconds and DetectionAlerts per log; DetectionRuleErrors per rule that erred. */
  #emit(o: DetectOutcome, totals: Totals, invalid: { id: string; error: RuleError }[], now: number): void {
    const m = this.#o.metrics;
    if (!m) return;
    m.emit({
      dimensions: { LogId: o.logId },
      metrics: [
        { name: 'DetectionLagSeconds', value: o.lagSeconds, unit: 'None' },
        { name: 'DetectionAlerts', value: o.alerts, unit: 'Count' },
      ],
      timestampMs: now,
      properties: {
        status: o.status,
        records: o.records,
        occurrences: o.occurrences,
        suppressed: o.suppressed,
        sealedSize: o.sealedSize,
        cursor: o.to,
      },
    });
    const errors: [string, number, Record<string, string | number>][] = [
      ...[...totals.byRule].map(([id, r]): [string, number, Record<string, string | number>] => [
        id,
        r.errors,
        r.firstError
          ? { code: r.firstError.code, path: r.firstError.path, error: r.firstError.message.slice(0, 300) }
          : {},
      ]),
      ...invalid.map((i): [string, number, Record<string, string | number>] => [
        i.id,
        1,
        { code: 'RULE_INVALID', path: i.error.path ?? '', error: i.error.message.slice(0, 300) },
      ]),
    ];
    for (const [ruleId, count, properties] of errors) {
      if (count === 0) continue;
      m.emit({
        dimensions: { RuleId: ruleId },
        metrics: [{ name: 'DetectionRuleErrors', value: count, unit: 'Count' }],
        timestampMs: now,
        properties: { logId: o.logId, ...properties },
      });
    }
  }
}

interface Totals {
  records: number;
  ticks: number;
  alerts: number;
  occurrences: number;
  suppressed: number;
  errors: number;
  byRule: Map<string, { errors: number; firstError?: ChunkStats['rules'][string]['firstError'] }>;
}

function sum(stats: readonly ChunkStats[]): Totals {
  const t: Totals = {
    records: 0,
    ticks: 0,
    alerts: 0,
    occurrences: 0,
    suppressed: 0,
    errors: 0,
    byRule: new Map(),
  };
  for (const s of stats) {
    t.records += s.records;
    t.ticks += s.ticks;
    for (const [id, r] of Object.entries(s.rules)) {
      t.alerts += r.alerts;
      t.occurrences += r.occurrences;
      t.suppressed += r.suppressed;
      t.errors += r.errors;
      const b = t.byRule.get(id) ?? { errors: 0 };
      b.errors += r.errors;
      b.firstError ??= r.firstError;
      t.byRule.set(id, b);
    }
  }
  return t;
}
