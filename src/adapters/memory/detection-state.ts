/**
 * DetectionStateStore in memory (src/ports/detection-state.ts): tests, the
 * benchmark and the contract suite's reference. A commit is applied under
 * one compare-and-swap, so it is atomic. Committed values are deep-frozen
 * where they are, not copied: reads hand out the stored values themselves
 * (the engine builds new objects for every change and never mutates an
 * item), and a caller that tried to change one gets a TypeError instead of
 * silently changing stored state. `bench:detect` turns the freezing of state
 * items off (`freezeItems: false`): it measures the engine, whose folds build
 * new items and never edit stored ones (the exactly-once property and the
 * contract suite run with freezing on), and deep-freezing ~2 items per record
 * would be most of what it measured of the store.
 */
import type { OutboxEntry } from '../../core/detect/alert.ts';
import type { StateItem } from '../../core/detect/state.ts';
import {
  type DetectionCommit,
  type DetectionStateStore,
  OUTBOX_PAGE_MAX,
  type OutboxPage,
  type OutboxRecord,
  outboxPosition,
  type StoredCursor,
} from '../../ports/detection-state.ts';

interface LogState {
  cursor: StoredCursor | undefined;
  items: Map<string, StateItem>;
  /** Not yet acknowledged, by position. */
  pending: Map<string, OutboxRecord>;
  /** Every entry ever committed, in commit order (tests and the benchmark). */
  history: OutboxEntry[];
}

export class MemoryDetectionStateStore implements DetectionStateStore {
  readonly #logs = new Map<string, LogState>();
  /** Commits applied (for tests and the benchmark). */
  commits = 0;
  readonly #freezeItems: boolean;

  constructor(opts: { freezeItems?: boolean } = {}) {
    this.#freezeItems = opts.freezeItems ?? true;
  }

  #log(logId: string): LogState {
    let s = this.#logs.get(logId);
    if (!s) {
      s = { cursor: undefined, items: new Map(), pending: new Map(), history: [] };
      this.#logs.set(logId, s);
    }
    return s;
  }

  async readCursor(logId: string): Promise<StoredCursor | undefined> {
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
    // Frozen where they are, not copied: nothing can change them afterwards.
    for (const [k, item] of c.puts) s.items.set(k, this.#freezeItems ? deepFreeze(item) : item);
    const checkpoint = c.checkpoint ? { size: c.checkpoint.size, checkpoint: c.checkpoint.checkpoint } : null;
    c.outbox.forEach((e, i) => {
      const position = outboxPosition(c.cursor.version, i);
      s.pending.set(position, deepFreeze({ logId: c.logId, position, entry: deepFreeze(e), checkpoint }));
      s.history.push(e);
    });
    s.cursor = deepFreeze({ ...c.cursor, ...(c.resume ? { resume: { ...c.resume } } : {}) });
    this.commits++;
    return true;
  }

  async readOutbox(logId: string, opts: { after?: string; limit?: number } = {}): Promise<OutboxPage> {
    const limit = Math.min(Math.max(1, opts.limit ?? 100), OUTBOX_PAGE_MAX);
    const after = opts.after ?? '';
    const all = [...this.#log(logId).pending.values()]
      .filter((r) => r.position > after)
      .sort((a, b) => (a.position < b.position ? -1 : 1));
    const records = all.slice(0, limit);
    const last = records[records.length - 1];
    return all.length > limit && last ? { records, next: last.position } : { records };
  }

  async ackOutbox(logId: string, positions: readonly string[]): Promise<void> {
    const pending = this.#log(logId).pending;
    for (const p of positions) pending.delete(p);
  }

  /** Every outbox entry a log ever committed, acknowledged or not, in commit order. */
  outbox(logId: string): OutboxEntry[] {
    return [...this.#log(logId).history];
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
