/**
 * The ColumnarIndexStore contract (src/ports/columnar-index.ts), run against
 * every implementation by test/contracts/memory.test.ts and aws.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../src/core/bytes.ts';
import type { ColumnarIndexStore } from '../../src/ports/columnar-index.ts';
import { uniqueId } from './support.ts';

export function columnarIndexContract(name: string, make: () => Promise<ColumnarIndexStore>): void {
  describe(`ColumnarIndexStore contract: ${name}`, () => {
    let store: ColumnarIndexStore;
    beforeAll(async () => {
      store = await make();
    });

    it('put then get returns the bytes; a missing key is undefined', async () => {
      const p = `index/log=${uniqueId('log')}/`;
      await store.put(`${p}a.parquet`, utf8('one'));
      expect(await store.get(`${p}a.parquet`)).toEqual(utf8('one'));
      expect(await store.get(`${p}missing.parquet`)).toBeUndefined();
    });

    it('put replaces an object (derived data: rewrites are allowed)', async () => {
      const k = `index/log=${uniqueId('log')}/_state.json`;
      await store.put(k, utf8('v1'));
      await store.put(k, utf8('version 2'));
      expect(await store.get(k)).toEqual(utf8('version 2'));
      expect(await store.list(k)).toEqual([{ key: k, size: 9 }]);
    });

    it('list returns every object under the prefix in key order, nothing else', async () => {
      const p = `index/log=${uniqueId('log')}/`;
      const keys = [
        `${p}day=2026-01-02/b`,
        `${p}day=2026-01-01/z`,
        `${p}day=2026-01-01/a`,
        `${p}_state.json`,
      ];
      for (const k of keys) await store.put(k, utf8(k));
      await store.put(`${p.slice(0, -1)}x/other`, utf8('x'));
      const listed = await store.list(p);
      expect(listed.map((o) => o.key)).toEqual([...keys].sort());
      expect(listed.every((o) => o.size === utf8(o.key).length)).toBe(true);
      expect((await store.list(`${p}day=2026-01-01/`)).map((o) => o.key)).toEqual([
        `${p}day=2026-01-01/a`,
        `${p}day=2026-01-01/z`,
      ]);
      expect(await store.list(`${p}nothing/`)).toEqual([]);
    });

    it('lists past one page (more than 1,000 keys)', { timeout: 120_000 }, async () => {
      const p = `index/log=${uniqueId('log')}/day=2026-01-01/`;
      const n = 1005;
      const keys = Array.from({ length: n }, (_, i) => `${p}${String(i).padStart(5, '0')}`);
      for (let i = 0; i < n; i += 50)
        await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, utf8('x'))));
      const listed = await store.list(p);
      expect(listed.map((o) => o.key)).toEqual(keys);
    });

    it('delete removes the object, and deleting a missing key succeeds', async () => {
      const k = `index/log=${uniqueId('log')}/day=2026-01-01/x.parquet`;
      await store.put(k, utf8('x'));
      await store.delete(k);
      expect(await store.get(k)).toBeUndefined();
      expect(await store.list(k)).toEqual([]);
      await store.delete(k);
    });

    it('keeps binary bytes exactly (empty and every byte value)', async () => {
      const p = `index/log=${uniqueId('log')}/`;
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      await store.put(`${p}bin`, all);
      await store.put(`${p}empty`, new Uint8Array(0));
      expect(await store.get(`${p}bin`)).toEqual(all);
      expect(await store.get(`${p}empty`)).toEqual(new Uint8Array(0));
    });
  });
}
