/**
 * The evaluation loop over one log (docs/detection.md "Evaluation"): cursor →
 * prepare → one batch read → apply → one commit, chunk after chunk. The
 * scheduled job (a later slice) feeds it the sealed records after the cursor
 * and a tick at the watermark; tests and `bench:detect` feed it directly.
 *
 * Crash safety is the store's atomic commit plus the engine's determinism:
 *  - dies before a commit: nothing of the chunk is stored; the next run reads
 *    the same cursor and items and computes the same commit (same alert ids);
 *  - dies after a commit (or a timeout hides that it landed): the next run
 *    reads the new cursor and skips the records it covers.
 * Recovery is the next run; there is no separate repair path.
 */
import type { ChunkStats, DetectionEngine, Step } from '../core/detect/engine.ts';
import { type DetectionCursor, initialCursor } from '../core/detect/state.ts';
import type { DetectionStateStore } from '../ports/detection-state.ts';

export type DetectionPhase = 'read-cursor' | 'prepared' | 'read-items' | 'applied' | 'committed';

export interface RunDetectionOptions {
  /** Records per chunk (ticks ride along). Default 1,000. */
  readonly chunkRecords?: number;
  /** Where a new log's evaluation starts (a log detection has not seen: its sealed size). Default 0. */
  readonly startIndex?: number;
  /** Test seam: called after each phase of each chunk; a throw is a crash right there. */
  readonly afterPhase?: (phase: DetectionPhase, chunk: number) => void;
}

export interface RunDetectionResult {
  readonly cursor: DetectionCursor;
  readonly chunks: number;
  /** Another evaluator committed first; this run stopped (its work is redone by whoever is ahead). */
  readonly lostRace: boolean;
  readonly stats: readonly ChunkStats[];
}

export async function runDetection(
  store: DetectionStateStore,
  engine: DetectionEngine,
  steps: readonly Step[],
  opts: RunDetectionOptions = {},
): Promise<RunDetectionResult> {
  const per = opts.chunkRecords ?? 1000;
  if (!Number.isSafeInteger(per) || per < 1) throw new RangeError('chunkRecords must be a positive integer');
  const phase = opts.afterPhase ?? (() => undefined);
  let cursor = (await store.readCursor(engine.logId)) ?? initialCursor(engine.logId, opts.startIndex ?? 0);
  phase('read-cursor', 0);
  const stats: ChunkStats[] = [];
  let chunks = 0;
  let start = 0;
  while (start < steps.length) {
    let end = start;
    let records = 0;
    while (end < steps.length && (records < per || steps[end]?.kind === 'tick')) {
      if (steps[end]?.kind === 'record') records++;
      end++;
    }
    const chunk = steps.slice(start, end);
    start = end;
    const prepared = engine.prepare(cursor, chunk);
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
    });
    if (!ok) return { cursor, chunks, lostRace: true, stats };
    phase('committed', chunks);
    cursor = result.cursor;
    stats.push(result.stats);
    chunks++;
  }
  return { cursor, chunks, lostRace: false, stats };
}
