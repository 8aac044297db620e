/**
 * The SealStateStore contract (src/ports/seal-state.ts), run against every
 * implementation by test/contracts/memory.test.ts and aws.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.ts';
import type { SealState, SealStateStore } from '../../src/ports/seal-state.ts';
import { uniqueId } from './support.ts';

export function sealState(logId: string, version: number, size: number): SealState {
  return {
    logId,
    version,
    size,
    rootHash: new Uint8Array(32).fill(size),
    rightEdge: new Uint8Array(64).fill(size),
    seq: version,
    lastLeafHash: new Uint8Array(32).fill(1),
    lastReceivedAt: '2026-03-01T12:00:00.000Z',
    checkpoint: `origin/${logId}\n${size}\nAAAA\n`,
    publishedVersion: version - 1,
    sealedAt: 1_000 + version,
    halted: undefined,
  };
}

export function sealStateContract(name: string, make: () => Promise<SealStateStore>): void {
  describe(`SealStateStore contract: ${name}`, () => {
    let store: SealStateStore;
    beforeAll(async () => {
      store = await make();
    });

    it('a log never sealed nor halted has no state', async () => {
      expect(await store.read(uniqueId('none'))).toBeUndefined();
    });

    it('compare-and-swap: first onto nothing, then only onto the version named, one step at a time', async () => {
      const log = uniqueId('cas');
      expect(await store.compareAndSwap(sealState(log, 1, 5), 0)).toBe(true);
      expect(await store.compareAndSwap(sealState(log, 1, 6), 0)).toBe(false);
      expect(await store.compareAndSwap(sealState(log, 2, 9), 1)).toBe(true);
      expect(await store.compareAndSwap(sealState(log, 2, 10), 1)).toBe(false);
      await expect(store.compareAndSwap(sealState(log, 4, 10), 2)).rejects.toBeInstanceOf(TypeError);
      const st = await store.read(log);
      expect(st).toMatchObject({
        logId: log,
        version: 2,
        size: 9,
        seq: 2,
        lastReceivedAt: '2026-03-01T12:00:00.000Z',
        checkpoint: `origin/${log}\n9\nAAAA\n`,
        publishedVersion: 1,
        sealedAt: 1_002,
        halted: undefined,
      });
      expect(st?.legacy).toBeUndefined();
      expect(bytesEqual(st?.rootHash ?? new Uint8Array(), new Uint8Array(32).fill(9))).toBe(true);
      expect(bytesEqual(st?.rightEdge ?? new Uint8Array(), new Uint8Array(64).fill(9))).toBe(true);
      expect(bytesEqual(st?.lastLeafHash ?? new Uint8Array(), new Uint8Array(32).fill(1))).toBe(true);
    });

    it('keeps lastReceivedAt absent when the state has none', async () => {
      const log = uniqueId('norecv');
      await store.compareAndSwap({ ...sealState(log, 1, 0), lastReceivedAt: undefined }, 0);
      expect((await store.read(log))?.lastReceivedAt).toBeUndefined();
    });

    it('markPublished only for the current version', async () => {
      const log = uniqueId('pub');
      expect(await store.markPublished(log, 1)).toBe(false);
      await store.compareAndSwap(sealState(log, 1, 5), 0);
      await store.compareAndSwap(sealState(log, 2, 7), 1);
      expect(await store.markPublished(log, 1)).toBe(false);
      expect((await store.read(log))?.publishedVersion).toBe(1);
      expect(await store.markPublished(log, 2)).toBe(true);
      expect(await store.markPublished(log, 2)).toBe(true);
      expect(await store.read(log)).toMatchObject({ version: 2, publishedVersion: 2, size: 7 });
    });

    it('a halt stops every later swap, keeps its first reason, and survives on a log never sealed', async () => {
      const log = uniqueId('halt');
      await store.compareAndSwap(sealState(log, 1, 5), 0);
      await store.halt(log, 'FORK: first', 7);
      await store.halt(log, 'FORK: second', 8);
      expect(await store.compareAndSwap(sealState(log, 2, 9), 1)).toBe(false);
      expect(await store.read(log)).toMatchObject({ version: 1, size: 5, halted: 'FORK: first' });
      // A halt still lets the publish marker of the current version move.
      expect(await store.markPublished(log, 1)).toBe(true);
      expect((await store.read(log))?.halted).toBe('FORK: first');

      const fresh = uniqueId('halt-fresh');
      await store.halt(fresh, 'STATE_BEHIND_ARCHIVE: test', 1);
      const st = await store.read(fresh);
      expect(st).toMatchObject({ version: 0, size: 0, seq: 0, halted: 'STATE_BEHIND_ARCHIVE: test' });
      expect(await store.compareAndSwap(sealState(fresh, 1, 1), 0)).toBe(false);
      expect(await store.adopt(sealState(fresh, 1, 1))).toBe(false);
      expect((await store.read(fresh))?.version).toBe(0);
    });

    it('adopts a state onto an empty location only, then swaps continue from it', async () => {
      const log = uniqueId('adopt');
      const s = sealState(log, 3, 12);
      expect(await store.adopt(s)).toBe(true);
      expect(await store.adopt(s)).toBe(false);
      expect(await store.read(log)).toMatchObject({ version: 3, size: 12 });
      expect(await store.compareAndSwap(sealState(log, 4, 13), 3)).toBe(true);
      await expect(store.adopt(initialOf(log))).rejects.toBeInstanceOf(TypeError);
      await expect(store.adopt({ ...s, halted: 'x' })).rejects.toBeInstanceOf(TypeError);
    });

    it('keeps the class edges byte for byte with the state they were written with; a swap without them drops them', async () => {
      const log = uniqueId('edges');
      const edges = Uint8Array.from({ length: 300 }, (_, i) => (i * 7 + 1) & 255);
      expect(await store.read(log)).toBeUndefined();
      expect(await store.compareAndSwap({ ...sealState(log, 1, 4), classEdges: edges }, 0)).toBe(true);
      expect((await store.read(log))?.classEdges).toEqual(edges);
      // The publish marker and a halt leave them as they are.
      expect(await store.markPublished(log, 1)).toBe(true);
      expect((await store.read(log))?.classEdges).toEqual(edges);
      // A state written without them (a sealer from before them, or without classes) has none.
      expect(await store.compareAndSwap(sealState(log, 2, 5), 1)).toBe(true);
      expect((await store.read(log))?.classEdges).toBeUndefined();
      expect(await store.compareAndSwap({ ...sealState(log, 3, 6), classEdges: edges.subarray(1) }, 2)).toBe(
        true,
      );
      await store.halt(log, 'STORE_INCONSISTENT: test', 9);
      const halted = await store.read(log);
      expect(halted?.classEdges).toEqual(edges.subarray(1));
      expect(halted?.halted).toBe('STORE_INCONSISTENT: test');
      // Adoption copies them too.
      const adopted = uniqueId('edges-adopt');
      expect(await store.adopt({ ...sealState(adopted, 2, 3), classEdges: edges })).toBe(true);
      expect((await store.read(adopted))?.classEdges).toEqual(edges);
    });

    it('stores copies', async () => {
      const log = uniqueId('copy');
      const s = sealState(log, 1, 4);
      await store.compareAndSwap(s, 0);
      s.rootHash.fill(0);
      const back = await store.read(log);
      back?.lastLeafHash.fill(0);
      const again = await store.read(log);
      expect(again?.rootHash[0]).toBe(4);
      expect(again?.lastLeafHash[0]).toBe(1);
    });
  });
}

function initialOf(logId: string): SealState {
  return { ...sealState(logId, 0, 0), checkpoint: undefined };
}
