/**
 * ProducerStore in memory (src/ports/producer-store.ts), with the semantics of
 * src/adapters/aws/dynamo-producer-store.ts: one record per (log, stream),
 * compare-and-swap on `version`, pages in stream order. Reads and writes are
 * copies. THROTTLED and UNAVAILABLE come only from injected faults (`faults`).
 */
import type { StreamState } from '../../core/producer.ts';
import {
  type ProducerPage,
  type ProducerStore,
  ProducerStoreError,
  type ProducerStoreErrorCode,
  type StoredStream,
} from '../../ports/producer-store.ts';
import { FaultPlan } from './faults.ts';

export class MemoryProducerStore implements ProducerStore {
  readonly #logs = new Map<string, Map<string, StoredStream>>();
  readonly faults = new FaultPlan<ProducerStoreErrorCode>(
    (code, message) => new ProducerStoreError(code, message),
  );

  read(logId: string, stream: string): Promise<StoredStream | undefined> {
    return this.faults.run('read', logId, () => {
      const s = this.#logs.get(logId)?.get(stream);
      return s ? structuredClone(s) : undefined;
    });
  }

  compareAndSwap(logId: string, state: StreamState, expectedVersion: number): Promise<boolean> {
    return this.faults.run('compareAndSwap', logId, () => {
      const log = this.#logs.get(logId) ?? new Map<string, StoredStream>();
      const current = log.get(state.stream)?.version ?? 0;
      if (current !== expectedVersion) return false;
      log.set(state.stream, { state: structuredClone(state), version: expectedVersion + 1 });
      this.#logs.set(logId, log);
      return true;
    });
  }

  list(logId: string, opts: { cursor?: string; limit?: number } = {}): Promise<ProducerPage> {
    return this.faults.run('list', logId, () => {
      const limit = Math.min(100, Math.max(1, opts.limit ?? 100));
      const all = [...(this.#logs.get(logId)?.values() ?? [])]
        .filter((s) => opts.cursor === undefined || s.state.stream > opts.cursor)
        .sort((a, b) => (a.state.stream < b.state.stream ? -1 : 1));
      const items = all.slice(0, limit).map((s) => structuredClone(s));
      const last = items[items.length - 1];
      return all.length > limit && last ? { items, cursor: last.state.stream } : { items };
    });
  }
}
