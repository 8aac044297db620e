/**
 * The LogPolicyStore contract (src/ports/log-policy-store.ts), run against
 * every implementation by test/contracts/memory.test.ts and aws.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { LogPolicyRecord } from '../../src/core/log-policy.ts';
import type { LogPolicyStore } from '../../src/ports/log-policy-store.ts';
import { uniqueId } from './support.ts';

export function logPolicyStoreContract(name: string, make: () => Promise<LogPolicyStore>): void {
  describe(`LogPolicyStore contract: ${name}`, () => {
    let store: LogPolicyStore;
    beforeAll(async () => {
      store = await make();
    });

    it('a log whose policy was never set has none', async () => {
      expect(await store.get(uniqueId('none'))).toBeUndefined();
    });

    it('put is compare-and-swap on version: v1 onto nothing, v2 onto v1 only; reads back whole', async () => {
      const logId = uniqueId('cas');
      const v1: LogPolicyRecord = {
        logId,
        catalogMode: 'enforce',
        signatures: { principals: ['app-1'], actorTypes: ['agent'] },
        version: 1,
        updatedAt: '2026-01-01T00:00:00.000Z',
      };
      expect(await store.put(v1)).toBe(true);
      expect(await store.put(v1)).toBe(false);
      expect(await store.get(logId)).toEqual(v1);
      const v2: LogPolicyRecord = { logId, version: 2, updatedAt: '2026-01-02T00:00:00.000Z' };
      expect(await store.put({ ...v2, version: 3 })).toBe(false);
      expect(await store.put(v2)).toBe(true);
      expect(await store.put(v2)).toBe(false);
      // Fields cleared in a later version are gone, not merged.
      expect(await store.get(logId)).toEqual(v2);
      expect(await store.get(uniqueId('other'))).toBeUndefined();
    });
  });
}
