/**
 * The PrincipalStore contract (src/ports/principal-store.ts), run against
 * every implementation by test/contracts/memory.test.ts and aws.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/core/principal.ts';
import {
  type PrincipalState,
  type PrincipalStore,
  PrincipalStoreError,
} from '../../src/ports/principal-store.ts';
import { uniqueId } from './support.ts';

export function principalState(id: string, version = 1, fill = 1): PrincipalState {
  const principal: Principal = {
    id,
    name: `name of ${id}`,
    kind: 'application',
    owner: 'owner',
    purpose: 'purpose',
    scopes: { 'tenant-a': ['events:write'] },
    status: 'active',
    keyId: 'k_0123456789abcdef',
    version,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'admin',
  };
  return { principal, secretHash: new Uint8Array(32).fill(fill) };
}

/** The store's own error class with `code` (the app layer maps it: src/app/port-errors.ts). */
async function expectStoreError(p: Promise<unknown>, code: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PrincipalStoreError);
  expect((err as PrincipalStoreError).code).toBe(code);
}

export interface PrincipalStoreUnderTest {
  readonly store: PrincipalStore;
  /** A store of its own with no entries yet (listing is over the whole store). */
  readonly empty: () => Promise<PrincipalStore>;
}

export function principalStoreContract(name: string, make: () => Promise<PrincipalStoreUnderTest>): void {
  describe(`PrincipalStore contract: ${name}`, () => {
    let store: PrincipalStore;
    let empty: () => Promise<PrincipalStore>;
    beforeAll(async () => {
      ({ store, empty } = await make());
    });

    it('round-trips current and pending state, including the binary hash', async () => {
      const id = uniqueId('store-a');
      expect(await store.get(id)).toBeUndefined();
      const audit = { id: `principal/${id}/v1`, action: 'principal.create', nested: { n: 1 } };
      expect(await store.put({ id, pending: { state: principalState(id), audit } }, 0)).toBe(1);
      expect(await store.get(id)).toEqual({ id, rev: 1, pending: { state: principalState(id), audit } });
      expect(await store.put({ id, current: principalState(id) }, 1)).toBe(2);
      const e2 = await store.get(id);
      expect(e2).toEqual({ id, rev: 2, current: principalState(id) });
      expect(e2?.current?.secretHash).toBeInstanceOf(Uint8Array);
      const both = { current: principalState(id, 2, 2), pending: { state: principalState(id, 3, 3), audit } };
      expect(await store.put({ id, ...both }, 2)).toBe(3);
      expect(await store.get(id)).toEqual({ id, rev: 3, ...both });
    });

    it('keeps the audit binding of the current state only', async () => {
      const id = uniqueId('bound');
      const bound = { ...principalState(id), recorded: { seq: 7, index: 41 } };
      await store.put({ id, current: bound, pending: { state: { ...bound }, audit: { a: 1 } } }, 0);
      const e = await store.get(id);
      expect(e?.current).toEqual(bound);
      expect(e?.pending?.state.recorded).toBeUndefined();
      const unbound = uniqueId('unbound');
      await store.put({ id: unbound, current: principalState(unbound) }, 0);
      expect((await store.get(unbound))?.current?.recorded).toBeUndefined();
    });

    it('create is conditional on absence → CONFLICT, writing nothing', async () => {
      const id = uniqueId('store-b');
      await store.put({ id, current: principalState(id) }, 0);
      await expectStoreError(store.put({ id, current: principalState(id, 1, 9) }, 0), 'CONFLICT');
      expect((await store.get(id))?.current?.secretHash[0]).toBe(1);
    });

    it('updates are conditional on the revision → a stale writer gets CONFLICT and writes nothing', async () => {
      const id = uniqueId('store-c');
      await store.put({ id, current: principalState(id) }, 0);
      await store.put({ id, current: principalState(id, 2, 2) }, 1);
      await expectStoreError(store.put({ id, current: principalState(id, 2, 3) }, 1), 'CONFLICT');
      await expectStoreError(store.put({ id, current: principalState(id, 2, 3) }, 5), 'CONFLICT');
      await expectStoreError(
        store.put({ id: uniqueId('absent'), current: principalState(id) }, 1),
        'CONFLICT',
      );
      const e = await store.get(id);
      expect(e?.rev).toBe(2);
      expect(e?.current?.secretHash[0]).toBe(2);
      await expect(store.put({ id, current: principalState(id) }, -1)).rejects.toBeInstanceOf(TypeError);
    });

    it('stores copies', async () => {
      const id = uniqueId('copy');
      const s = principalState(id);
      await store.put({ id, current: s }, 0);
      s.secretHash.fill(0);
      s.principal.name = 'changed';
      const back = await store.get(id);
      expect(back?.current?.secretHash[0]).toBe(1);
      expect(back?.current?.principal.name).toBe(`name of ${id}`);
    });

    it('lists every entry in id order, a page at a time', async () => {
      const fresh = await empty();
      expect(await fresh.list({ limit: 10 })).toEqual({ entries: [] });
      const ids = Array.from({ length: 7 }, (_, i) => `list-${i}`);
      for (const id of [...ids].reverse()) await fresh.put({ id, current: principalState(id) }, 0);
      for (const limit of [3, 7, 100]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await fresh.list({ limit, ...(cursor ? { cursor } : {}) });
          expect(page.entries.length).toBeLessThanOrEqual(limit);
          seen.push(...page.entries.map((e) => e.id));
          cursor = page.cursor;
          pages++;
        } while (cursor && pages < 10);
        expect(seen).toEqual(ids);
      }
      const [first] = (await fresh.list({ limit: 1 })).entries;
      expect(first).toEqual({ id: 'list-0', rev: 1, current: principalState('list-0') });
    });

    it('recordUse writes at most once per interval: conditional on the last use being older', async () => {
      const id = uniqueId('store-use');
      const other = uniqueId('store-use');
      expect(await store.lastUsed([id, other])).toEqual(new Map());
      const t0 = '2026-03-01T12:00:00.000Z';
      expect(await store.recordUse(id, t0, '2026-03-01T11:00:00.000Z')).toBe(true);
      // Within the hour: every caller's condition fails, nothing is written.
      const within = await Promise.all(
        Array.from({ length: 5 }, () =>
          store.recordUse(id, '2026-03-01T12:30:00.000Z', '2026-03-01T11:30:00.000Z'),
        ),
      );
      expect(within).toEqual([false, false, false, false, false]);
      expect(await store.lastUsed([id])).toEqual(new Map([[id, t0]]));
      // Concurrent callers after the hour: exactly one wins.
      const after = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          store.recordUse(id, `2026-03-01T13:00:0${i}.000Z`, '2026-03-01T12:00:00.001Z'),
        ),
      );
      expect(after.filter(Boolean)).toHaveLength(1);
      const last = (await store.lastUsed([id, other])).get(id);
      expect(last?.startsWith('2026-03-01T13:00:0')).toBe(true);
      // Last use is beside the entry: the entry (and its rev) is untouched.
      expect(await store.get(id)).toBeUndefined();
      await expect(store.lastUsed(Array.from({ length: 101 }, (_, i) => `x${i}`))).rejects.toBeInstanceOf(
        RangeError,
      );
    });

    it('rejects cursors it did not issue and limits out of 1–100', async () => {
      await expectStoreError(store.list({ limit: 10, cursor: 'not a cursor!' }), 'INVALID_CURSOR');
      await expectStoreError(store.list({ limit: 10, cursor: 'QUJD' }), 'INVALID_CURSOR'); // "ABC": not an id
      // The limit is the caller's contract (the service answers 400 before asking the store).
      await expect(store.list({ limit: 0 })).rejects.toBeInstanceOf(RangeError);
      await expect(store.list({ limit: 101 })).rejects.toBeInstanceOf(RangeError);
      await expect(store.list({ limit: 1.5 })).rejects.toBeInstanceOf(RangeError);
    });
  });
}
