/**
 * The WitnessStateStore contract (src/ports/witness-state.ts), run against
 * every implementation by test/contracts/memory.test.ts and aws.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { WitnessStateStore } from '../../src/ports/witness-state.ts';
import { uniqueId } from './support.ts';

export function witnessStateContract(name: string, make: () => Promise<WitnessStateStore>): void {
  describe(`WitnessStateStore contract: ${name}`, () => {
    let store: WitnessStateStore;
    beforeAll(async () => {
      store = await make();
    });

    it('knows nothing of a new log', async () => {
      const logId = uniqueId('ws');
      expect(await store.get(logId, 'w1')).toBeUndefined();
      expect(await store.list(logId)).toEqual([]);
    });

    it('records a cosigned size that only rises', async () => {
      const logId = uniqueId('ws');
      expect(
        await store.recordCosigned({ logId, witness: 'w1', size: 10, cosignedAt: 100, updatedAt: 1 }),
      ).toBe(true);
      expect(await store.get(logId, 'w1')).toEqual({
        logId,
        witness: 'w1',
        size: 10,
        cosignedAt: 100,
        updatedAt: 1,
      });
      expect(
        await store.recordCosigned({ logId, witness: 'w1', size: 12, cosignedAt: 101, updatedAt: 2 }),
      ).toBe(true);
      expect(
        await store.recordCosigned({ logId, witness: 'w1', size: 12, cosignedAt: 102, updatedAt: 3 }),
      ).toBe(true);
      // A slow concurrent run must not move it back.
      expect(
        await store.recordCosigned({ logId, witness: 'w1', size: 11, cosignedAt: 99, updatedAt: 4 }),
      ).toBe(false);
      expect(await store.get(logId, 'w1')).toMatchObject({ size: 12, cosignedAt: 102, updatedAt: 3 });
    });

    it('records a failure without touching the size, and a later cosignature clears it', async () => {
      const logId = uniqueId('ws');
      await store.recordCosigned({ logId, witness: 'w1', size: 5, cosignedAt: 50, updatedAt: 1 });
      await store.recordFailure(logId, 'w1', { code: 'WITNESS_TIMEOUT', message: 'slow', at: 7 });
      expect(await store.get(logId, 'w1')).toEqual({
        logId,
        witness: 'w1',
        size: 5,
        cosignedAt: 50,
        updatedAt: 7,
        lastFailure: { code: 'WITNESS_TIMEOUT', message: 'slow', at: 7 },
      });
      await store.recordCosigned({ logId, witness: 'w1', size: 6, cosignedAt: 60, updatedAt: 8 });
      const after = await store.get(logId, 'w1');
      expect(after?.size).toBe(6);
      expect(after?.lastFailure).toBeUndefined();
    });

    it('a first failure creates the record at size 0', async () => {
      const logId = uniqueId('ws');
      await store.recordFailure(logId, 'w2', {
        code: 'WITNESS_UNKNOWN_LOG',
        message: 'x'.repeat(3000),
        at: 9,
      });
      const s = await store.get(logId, 'w2');
      expect(s).toMatchObject({ size: 0, lastFailure: { code: 'WITNESS_UNKNOWN_LOG', at: 9 } });
      expect(s?.lastFailure?.message.length).toBeLessThanOrEqual(2000);
      expect(
        await store.recordCosigned({ logId, witness: 'w2', size: 0, cosignedAt: 0, updatedAt: 10 }),
      ).toBe(true);
    });

    it('lists every witness of one log, by name, and no other log', async () => {
      const logId = uniqueId('ws');
      const other = uniqueId('ws');
      await store.recordCosigned({ logId, witness: 'w-b', size: 2, cosignedAt: 2, updatedAt: 2 });
      await store.recordCosigned({ logId, witness: 'w-a', size: 1, cosignedAt: 1, updatedAt: 1 });
      await store.recordCosigned({ logId: other, witness: 'w-a', size: 9, cosignedAt: 9, updatedAt: 9 });
      expect((await store.list(logId)).map((s) => [s.witness, s.size])).toEqual([
        ['w-a', 1],
        ['w-b', 2],
      ]);
    });
  });
}
