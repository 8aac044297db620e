/**
 * DetectionStateStore in memory: tests, the benchmark and (until the DynamoDB
 * adapter exists) the local stack. A commit is applied under one
 * compare-and-swap, so it is atomic. Committed values are deep-frozen: reads hand out the stored values themselves
 * (the engine builds new objects for every change and never mutates an item),
 * and a caller that tried to change one would get a TypeError instead of
 * silently changing stored state.
 */
import type { OutboxEntry } from '../../core/detect/alert.ts';
import type { DetectionCursor, StateItem } from '../../core/detect/state.ts';
import type { DetectionCommit, DetectionStateStore } from '../../ports/detection-state.ts';

interface LogState {
  cursor: DetectionCursor | undefined;
  items: Map<string, StateItem>;
  outbox: Map<string, OutboxEntry>;
}

export class MemoryDetectionStateStore implements DetectionStateStore {
  readonly #logs = new Map<string, LogState>();
  /** Commits applied (for tests and the benchmark). */
  commits = 0;

  #log(logId: string): LogState {
    let s = this.#logs.get(logId);
    if (!s) {
      s = { cursor: undefined, items: new Map(), outbox: new Map() };
      this.#logs.set(logId, s);
    }
    return s;
  }

  async readCursor(logId: string): Promise<DetectionCursor | undefined> {
    const c = this.#log(logId).cursor;
    return c === undefined ? undefined : { ...c };
  }

  async readItems(logId: string, keys: readonly string[]): Promise<Map<string, StateItem>> {
    const items = this.#log(logId).items;
    const out = new Map<string, StateItem>();
    for (const k of keys) {
      const item = items.get(k);
      if (item !== undefined) out.set(k, item);
    }
    return out;
  }

  async commit(c: DetectionCommit): Promise<boolean> {
    if (c.cursor.version !== c.expectedVersion + 1 || c.cursor.logId !== c.logId)
      throw new TypeError('commit: the new cursor must be the next version of this log');
    const s = this.#log(c.logId);
    if ((s.cursor?.version ?? 0) !== c.expectedVersion) return false;
    // Committed values are frozen where they are, not copied: nothing can change them afterwards.
    for (const [k, item] of c.puts) s.items.set(k, deepFreeze(item));
    for (const e of c.outbox) if (!s.outbox.has(e.id)) s.outbox.set(e.id, deepFreeze(e));
    s.cursor = { ...c.cursor };
    this.commits++;
    return true;
  }

  /** The outbox of a log, in commit order. */
  outbox(logId: string): OutboxEntry[] {
    return [...this.#log(logId).outbox.values()];
  }

  /** Number of stored state items of a log (for memory accounting in the benchmark). */
  itemCount(logId: string): number {
    return this.#log(logId).items.size;
  }
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
