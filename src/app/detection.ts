/**
 * The evaluation loop over one log (docs/detection.md "Evaluation"): cursor →
 * prepare → one batch read → apply → one commit, chunk after chunk. The
 * detection job (src/app/detect.ts) feeds it the sealed records after the
 * cursor, chunk by chunk as it reads them, and a tick at the watermark;
 * tests and `bench:detect` feed it an array of steps.
 *
 * Crash safety is the store's atomic commit plus the engine's determinism:
 *  - dies before a commit: nothing of the chunk is stored; the next run reads
 *    the same cursor and items and computes the same commit (same alert ids);
 *  - dies after a commit (or a timeout hides that it landed): the next run
 *    reads the new cursor and skips the records it covers.
 * Recovery is the next run; there is no separate repair path.
 */
import type { ChunkStats, DetectionEngine, Step } from '../core/detect/engine.ts';
import { initialCursor } from '../core/detect/state.ts';
import type {
  CheckpointRef,
  DetectionStateStore,
  LogPosition,
  StoredCursor,
} from '../ports/detection-state.ts';

export type DetectionPhase = 'read-cursor' | 'prepared' | 'read-items' | 'applied' | 'committed';

/** One chunk from a step source: what to evaluate, and what to store with its commit. */
export interface StepChunk {
  readonly steps: readonly Step[];
  /** The signed checkpoint every record of the chunk is under (cited by its alerts). */
  readonly checkpoint?: CheckpointRef;
  /** Where the log store batch holding the first record after the chunk begins. */
  readonly resume?: LogPosition;
}

/**
 * Steps to evaluate: an array (cut into chunks of `chunkRecords` records
 * here), or a function of the stored cursor that yields chunks as it reads
 * them (the job; each chunk is committed before the next is asked for).
 */
export type StepSource =
  | readonly Step[]
  | ((cursor: StoredCursor) => AsyncIterable<StepChunk> | Iterable<StepChunk>);

export interface RunDetectionOptions {
  /** Records per chunk of an array source (ticks ride along). Default 1,000. */
  readonly chunkRecords?: number;
  /**
   * Where a log without a cursor starts (docs/detection.md "Guarantees", 4).
   * A function is called only then. Default 0.
   */
  readonly startIndex?: number | (() => Promise<number>);
  /**
   * Commit the cursor of a log seen for the first time even when there is
   * nothing to evaluate, so where it starts is decided once. Default false.
   */
  readonly pinCursor?: boolean;
  /** Asked before each chunk; false stops the run there (the deadline). Default: always go on. */
  readonly shouldContinue?: () => boolean;
  /** Test seam: called after each phase of each chunk; a throw is a crash right there. */
  readonly afterPhase?: (phase: DetectionPhase, chunk: number) => void;
}

export interface RunDetectionResult {
  readonly cursor: StoredCursor;
  readonly chunks: number;
  /** Another evaluator committed first; this run stopped (its work is redone by whoever is ahead). */
  readonly lostRace: boolean;
  /** shouldContinue said stop while the source had more. */
  readonly stopped: boolean;
  readonly stats: readonly ChunkStats[];
}

function* arrayChunks(steps: readonly Step[], per: number): Iterable<StepChunk> {
  let start = 0;
  while (start < steps.length) {
    let end = start;
    let records = 0;
    while (end < steps.length && (records < per || steps[end]?.kind === 'tick')) {
      if (steps[end]?.kind === 'record') records++;
      end++;
    }
    yield { steps: steps.slice(start, end) };
    start = end;
  }
}

export async function runDetection(
  store: DetectionStateStore,
  engine: DetectionEngine,
  source: StepSource,
  opts: RunDetectionOptions = {},
): Promise<RunDetectionResult> {
  const per = opts.chunkRecords ?? 1000;
  if (!Number.isSafeInteger(per) || per < 1) throw new RangeError('chunkRecords must be a positive integer');
  const phase = opts.afterPhase ?? (() => undefined);
  const goOn = opts.shouldContinue ?? (() => true);
  let cursor: StoredCursor | undefined = await store.readCursor(engine.logId);
  const fresh = cursor === undefined;
  if (cursor === undefined) {
    const s = opts.startIndex;
    cursor = initialCursor(engine.logId, typeof s === 'function' ? await s() : (s ?? 0));
  }
  phase('read-cursor', 0);
  const stats: ChunkStats[] = [];
  let chunks = 0;
  const chunksOf = typeof source === 'function' ? source(cursor) : arrayChunks(source, per);
  const iterator =
    Symbol.asyncIterator in chunksOf
      ? chunksOf[Symbol.asyncIterator]()
      : (chunksOf as Iterable<StepChunk>)[Symbol.iterator]();
  let stopped = false;
  try {
    for (;;) {
      if (chunks > 0 && !goOn()) {
        stopped = true;
        break;
      }
      const next = await iterator.next();
      let chunk: StepChunk;
      if (next.done) {
        // A log met for the first time is pinned where it starts, even with nothing to evaluate.
        if (!(fresh && opts.pinCursor && chunks === 0)) break;
        chunk = { steps: [] };
      } else chunk = next.value;
      const prepared = engine.prepare(cursor, chunk.steps);
      phase('prepared', chunks);
      const items = await store.readItems(engine.logId, prepared.keys);
      phase('read-items', chunks);
      const result = engine.apply(cursor, prepared, items);
      phase('applied', chunks);
      // COMMIT POINT: state, outbox and cursor together, by compare-and-swap.
      const ok = await store.commit({
        logId: engine.logId,
        expectedVersion: cursor.version,
        cursor: result.cursor,
        puts: result.puts,
        outbox: result.outbox,
        ...(chunk.checkpoint ? { checkpoint: chunk.checkpoint } : {}),
        ...(chunk.resume ? { resume: chunk.resume } : {}),
      });
      if (!ok) return { cursor, chunks, lostRace: true, stopped: false, stats };
      phase('committed', chunks);
      cursor = { ...result.cursor, ...(chunk.resume ? { resume: chunk.resume } : {}) };
      stats.push(result.stats);
      chunks++;
      if (next.done) break;
    }
  } finally {
    // Lets a reading source release what it holds when the run ends early.
    await iterator.return?.();
  }
  return { cursor, chunks, lostRace: false, stopped, stats };
}
