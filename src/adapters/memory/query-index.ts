/**
 * QueryIndexStore in memory (src/ports/query-index.ts), with the semantics of
 * src/adapters/aws/dynamo-query-index.ts: one item per (log, receivedAt,
 * index), readable through the time index (per UTC day) and the actor,
 * submitter and action indexes, all in sort-key order; a page evaluates at
 * most `limit` items before the filter (DynamoDB's Limit), and names the last
 * evaluated key whenever it stopped at the limit. Every index here is
 * consistent (the port lets the secondary ones lag; none does). Items are
 * kept past `expiresAtSec` (the port lets a store delete them; none does).
 * The projector's cursor moves by compare-and-swap on its seq.
 * THROTTLED and UNAVAILABLE come only from injected faults (`faults`).
 */
import {
  actionPrefixes,
  type IndexPage,
  type IndexQuery,
  type ProjectorCursor,
  QueryIndexError,
  type QueryIndexErrorCode,
  type QueryIndexStore,
  type QueryItem,
  sortKey,
} from '../../ports/query-index.ts';
import { FaultPlan } from './faults.ts';

interface Stored {
  readonly sk: string;
  readonly item: QueryItem;
}

function copy(q: QueryItem): QueryItem {
  return {
    index: q.index,
    receivedAt: q.receivedAt,
    submitter: q.submitter,
    actorId: q.actorId,
    action: q.action,
    bytes: Uint8Array.from(q.bytes),
    expiresAtSec: q.expiresAtSec,
  };
}

function inIndex(q: IndexQuery, item: QueryItem): boolean {
  switch (q.key.kind) {
    case 'time':
      return item.receivedAt.slice(0, 10) === q.key.day;
    case 'actor':
      return item.actorId === q.key.actorId;
    case 'submitter':
      return item.submitter === q.key.submitter;
    case 'action':
      return actionPrefixes(item.action)[q.key.depth - 1] === q.key.prefix;
  }
}

function passes(q: IndexQuery, item: QueryItem): boolean {
  const f = q.filter;
  if (f.actorId !== undefined && item.actorId !== f.actorId) return false;
  if (f.submitter !== undefined && item.submitter !== f.submitter) return false;
  if (f.actionPrefix !== undefined)
    return item.action === f.actionPrefix || item.action.startsWith(`${f.actionPrefix}.`);
  return true;
}

export class MemoryQueryIndex implements QueryIndexStore {
  readonly #cursors = new Map<string, ProjectorCursor>();
  /** Per log, by sort key; kept sorted lazily (`#sorted`). */
  readonly #items = new Map<string, Map<string, QueryItem>>();
  readonly #sorted = new Map<string, Stored[]>();
  readonly faults = new FaultPlan<QueryIndexErrorCode>((code, message) => new QueryIndexError(code, message));

  readCursor(logId: string): Promise<ProjectorCursor | undefined> {
    return this.faults.run('readCursor', logId, () => {
      const c = this.#cursors.get(logId);
      return c && structuredClone(c);
    });
  }

  advanceCursor(next: ProjectorCursor, expectedSeq: number): Promise<boolean> {
    return this.faults.run('advanceCursor', next.logId, () => {
      const cur = this.#cursors.get(next.logId);
      if ((cur?.seq ?? 0) !== expectedSeq) return false;
      this.#cursors.set(next.logId, structuredClone(next));
      return true;
    });
  }

  putItems(logId: string, items: readonly QueryItem[]): Promise<void> {
    return this.faults.run('putItems', logId, () => {
      let m = this.#items.get(logId);
      if (!m) {
        m = new Map();
        this.#items.set(logId, m);
      }
      for (const q of items) m.set(sortKey(q.receivedAt, q.index), copy(q));
      this.#sorted.delete(logId);
    });
  }

  query(q: IndexQuery): Promise<IndexPage> {
    return this.faults.run('query', q.logId, (): IndexPage => {
      const items: QueryItem[] = [];
      let evaluated = 0;
      let lastKey: string | undefined;
      for (const s of this.#all(q.logId)) {
        if (s.sk < q.lo) continue;
        if (s.sk > q.hi) break;
        if (!inIndex(q, s.item)) continue;
        evaluated++;
        lastKey = s.sk;
        if (passes(q, s.item)) items.push(copy(s.item));
        if (evaluated >= q.limit) return { items, lastKey };
      }
      return { items, lastKey: undefined };
    });
  }

  #all(logId: string): Stored[] {
    let sorted = this.#sorted.get(logId);
    if (!sorted) {
      sorted = [...(this.#items.get(logId) ?? new Map<string, QueryItem>())]
        .map(([sk, item]) => ({ sk, item }))
        .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
      this.#sorted.set(logId, sorted);
    }
    return sorted;
  }

  /**
   * Deletes every item whose `expiresAtSec` is at or before `nowSec`, as
   * DynamoDB TTL does some time after; returns how many went.
   */
  expire(nowSec: number): number {
    let n = 0;
    for (const [logId, m] of this.#items) {
      for (const [sk, item] of m)
        if (item.expiresAtSec <= nowSec) {
          m.delete(sk);
          n++;
        }
      this.#sorted.delete(logId);
    }
    return n;
  }

  /** Number of items held for `logId` (tests). */
  size(logId: string): number {
    return this.#items.get(logId)?.size ?? 0;
  }
}
