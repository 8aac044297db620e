/**
 * The ProducerStore contract (src/ports/producer-store.ts), run against every
 * implementation by test/contracts/memory.test.ts and aws.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { foldStream, type StreamState } from '../../src/core/producer.ts';
import type { ProducerStore } from '../../src/ports/producer-store.ts';
import { uniqueId } from './support.ts';

const state = (stream: string, seqs: number[]): StreamState =>
  foldStream(
    undefined,
    stream,
    seqs.map((seq) => ({ seq, at: 1_000 + seq })),
  );

export function producerStoreContract(name: string, make: () => Promise<ProducerStore>): void {
  describe(`ProducerStore contract: ${name}`, () => {
    let store: ProducerStore;
    beforeAll(async () => {
      store = await make();
    });

    it('a stream never written has no state; a log with none lists nothing', async () => {
      const log = uniqueId('none');
      expect(await store.read(log, 'a')).toBeUndefined();
      expect(await store.list(log)).toEqual({ items: [] });
    });

    it('compare-and-swap: first onto nothing, then only onto the version read; the state reads back whole', async () => {
      const log = uniqueId('cas');
      const s1 = state('svc/host-1', [1, 2, 5]);
      expect(await store.compareAndSwap(log, s1, 0)).toBe(true);
      expect(await store.compareAndSwap(log, s1, 0)).toBe(false);
      expect(await store.read(log, 'svc/host-1')).toEqual({ state: s1, version: 1 });
      const s2 = foldStream(s1, 'svc/host-1', [{ seq: 3, at: 9_000 }]);
      expect(await store.compareAndSwap(log, s2, 2)).toBe(false);
      expect(await store.compareAndSwap(log, s2, 1)).toBe(true);
      expect(await store.read(log, 'svc/host-1')).toEqual({ state: s2, version: 2 });
      // Streams and logs are apart.
      expect(await store.read(log, 'svc/host-2')).toBeUndefined();
      expect(await store.read(uniqueId('other'), 'svc/host-1')).toBeUndefined();
    });

    it('lists a log’s streams in name order, in pages', async () => {
      const log = uniqueId('list');
      for (const s of ['c', 'a', 'b/1', 'b'])
        expect(await store.compareAndSwap(log, state(s, [1]), 0)).toBe(true);
      const p1 = await store.list(log, { limit: 3 });
      expect(p1.items.map((i) => i.state.stream)).toEqual(['a', 'b', 'b/1']);
      expect(p1.cursor).toBeDefined();
      const p2 = await store.list(log, { limit: 3, ...(p1.cursor ? { cursor: p1.cursor } : {}) });
      expect(p2.items.map((i) => i.state.stream)).toEqual(['c']);
      expect((await store.list(log)).items).toHaveLength(4);
    });
  });
}
