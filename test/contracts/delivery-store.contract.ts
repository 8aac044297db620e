/**
 * The DeliveryStore contract (src/ports/delivery-store.ts), run against
 * every implementation by test/contracts/memory.test.ts and aws.test.ts: the lease,
 * compare-and-swap progress, and dead letters that are idempotent, listable
 * in pages and re-drivable once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetter, EntryProgress } from '../../src/core/deliver/progress.ts';
import { newProgress } from '../../src/core/deliver/progress.ts';
import type { DeliveryStore } from '../../src/ports/delivery-store.ts';
import { ALERT } from '../core/deliver/alerts.ts';
import { uniqueId } from './support.ts';

export function letter(id: string, over: Partial<DeadLetter> = {}): DeadLetter {
  return {
    v: 1,
    id,
    logId: 'acme',
    position: '0000000000000003.000001',
    destination: 'hook',
    alert: ALERT,
    checkpoint: null,
    attempts: 10,
    firstAttemptAtMs: 1000,
    deadAtMs: 2000,
    lastError: { code: 'HTTP_STATUS', message: 'HTTP 500', status: 500 },
    state: 'open',
    redrives: 0,
    ...over,
  };
}

export function deliveryStoreContract(name: string, make: () => Promise<DeliveryStore>): void {
  describe(`DeliveryStore contract: ${name}`, () => {
    let store: DeliveryStore;
    beforeAll(async () => {
      store = await make();
    });

    it('lease: one owner at a time; the owner renews; free once released or expired', async () => {
      const log = uniqueId('lease');
      expect(await store.acquireLease(log, 'a', 1000, 0)).toBe(true);
      expect(await store.acquireLease(log, 'b', 2000, 500)).toBe(false);
      expect(await store.acquireLease(log, 'a', 3000, 600)).toBe(true);
      expect(await store.acquireLease(log, 'b', 4000, 3000)).toBe(true); // expired at 3000
      await store.releaseLease(log, 'a'); // not a's: no effect
      expect(await store.acquireLease(log, 'c', 5000, 3100)).toBe(false);
      await store.releaseLease(log, 'b');
      expect(await store.acquireLease(log, 'c', 5000, 3100)).toBe(true);
    });

    it('progress: compare-and-swap on the version, absolute values, per log', async () => {
      const log = uniqueId('progress');
      const p = newProgress('alr_00000000000000000000000000000abc', ['hook', 'pager'], 10);
      expect(await store.readProgress(log, [p.entryId])).toEqual(new Map());
      expect(await store.writeProgress(log, p, 1)).toBe(false);
      expect(await store.writeProgress(log, p, 0)).toBe(true);
      expect(await store.writeProgress(log, p, 0)).toBe(false);
      const recorded: EntryProgress = {
        ...p,
        recorded: true,
        destinations: {
          hook: { state: 'delivered', attempts: 1, atMs: 20 },
          pager: {
            state: 'pending',
            attempts: 1,
            nextAtMs: 99,
            lastError: { code: 'TIMEOUT', message: 't' },
          },
        },
      };
      expect(await store.writeProgress(log, recorded, 1, 10_000_000)).toBe(true);
      const read = await store.readProgress(log, [p.entryId, 'unknown', p.entryId]);
      expect([...read.keys()]).toEqual([p.entryId]);
      expect(read.get(p.entryId)).toEqual({ progress: recorded, version: 2 });
      expect(await store.readProgress(uniqueId('other'), [p.entryId])).toEqual(new Map());
      // An occurrence id carries '#'.
      const occ = newProgress('alr_00000000000000000000000000000abc#17', [], 10);
      expect(await store.writeProgress(log, occ, 0)).toBe(true);
      expect((await store.readProgress(log, [occ.entryId])).get(occ.entryId)?.progress).toEqual(occ);
    });

    it('progress read in bulk (more than one batch)', async () => {
      const log = uniqueId('bulk');
      const ids = Array.from({ length: 130 }, (_, i) => `alr_${i.toString(16).padStart(32, '0')}`);
      for (const id of ids) expect(await store.writeProgress(log, newProgress(id, ['x'], 1), 0)).toBe(true);
      const read = await store.readProgress(log, ids);
      expect(read.size).toBe(130);
    });

    it('dead letters: idempotent, listable in id order and pages, filtered by state', async () => {
      const prefix = uniqueId('dl');
      const ids = Array.from({ length: 7 }, (_, i) => `${prefix}-${i}/hook`);
      for (const id of ids) await store.putDeadLetter(letter(id));
      await store.putDeadLetter(letter(ids[0] as string, { attempts: 11 })); // overwrite while open
      expect((await store.readDeadLetter(ids[0] as string))?.attempts).toBe(11);
      expect(await store.readDeadLetter(`${prefix}-none/hook`)).toBeUndefined();

      const mine = async (state?: DeadLetter['state'], limit?: number) => {
        const out: string[] = [];
        let after: string | undefined;
        let pages = 0;
        do {
          const page = await store.listDeadLetters({
            ...(state ? { state } : {}),
            ...(after ? { after } : {}),
            ...(limit ? { limit } : {}),
          });
          out.push(...page.items.map((l) => l.id).filter((id) => id.startsWith(prefix)));
          after = page.next;
          pages++;
        } while (after !== undefined && pages < 1000);
        return out;
      };
      expect(await mine(undefined, 3)).toEqual([...ids].sort());
      expect(await mine('open')).toEqual([...ids].sort());
      expect(await mine('redriven')).toEqual([]);
    });

    it('re-drive: compare-and-swap on redrives; a redriven letter is never overwritten by a late duplicate', async () => {
      const id = `${uniqueId('rd')}/pager`;
      await store.putDeadLetter(letter(id));
      const l = (await store.readDeadLetter(id)) as DeadLetter;
      const done: DeadLetter = { ...l, state: 'redriven', redrives: 1, redrivenAtMs: 5000 };
      expect(await store.updateDeadLetter(done, 1)).toBe(false);
      expect(await store.updateDeadLetter(done, 0)).toBe(true);
      expect(await store.updateDeadLetter({ ...done, redrives: 2 }, 0)).toBe(false);
      await store.putDeadLetter(letter(id)); // a crashed run dead-letters the same alert again
      expect(await store.readDeadLetter(id)).toEqual(done);
      const listed = await store.listDeadLetters({ state: 'redriven', limit: 100 });
      expect(listed.items.some((x) => x.id === id) || listed.next !== undefined).toBe(true);
      expect(await store.updateDeadLetter(letter(`${uniqueId('none')}/x`), 0)).toBe(false);
    });
  });
}
