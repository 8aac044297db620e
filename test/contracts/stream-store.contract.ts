/**
 * The StreamStore contract (src/ports/stream-store.ts), run against the
 * in-memory and the DynamoDB adapters by test/contracts/memory.test.ts and
 * test/contracts/aws.test.ts:
 * a compare-and-swap cursor per stream (of two writers from one version, one
 * wins), and dead letters that are idempotent, listable per stream and by state.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { StreamCursor, StreamDeadLetter, StreamStore } from '../../src/ports/stream-store.ts';
import { uniqueId } from './support.ts';

function cursor(stream: string, over: Partial<StreamCursor> = {}): StreamCursor {
  return {
    v: 1,
    stream,
    logId: 'acme',
    nextIndex: 0,
    seq: 1,
    attempts: 0,
    nextAttemptAtMs: 0,
    delivered: 0,
    updatedAtMs: 1000,
    ...over,
  };
}

function letter(stream: string, fromIndex: number, over: Partial<StreamDeadLetter> = {}): StreamDeadLetter {
  return {
    v: 1,
    id: `${stream}/${fromIndex}`,
    stream,
    logId: 'acme',
    fromIndex,
    toIndex: fromIndex + 10,
    attempts: 8,
    deadAtMs: 2000,
    lastError: { code: 'HTTP_STATUS', message: 'HTTP 503', status: 503 },
    state: 'open',
    ...over,
  };
}

export function streamStoreContract(name: string, make: () => Promise<StreamStore>): void {
  describe(`StreamStore contract: ${name}`, () => {
    let store: StreamStore;
    beforeAll(async () => {
      store = await make();
    });

    it('cursor: compare-and-swap on the version; absolute values; per stream', async () => {
      const s = uniqueId('stream');
      expect(await store.readCursor(s)).toBeUndefined();
      expect(await store.writeCursor(cursor(s), 1)).toBe(false);
      expect(await store.writeCursor(cursor(s), 0)).toBe(true);
      expect(await store.writeCursor(cursor(s, { nextIndex: 5 }), 0)).toBe(false);
      const moved = cursor(s, {
        nextIndex: 40,
        seq: 7,
        delivered: 38,
        attempts: 2,
        nextAttemptAtMs: 99,
        lastError: { code: 'TIMEOUT', message: 't' },
        blockedBy: `${s}/40`,
      });
      expect(await store.writeCursor(moved, 1)).toBe(true);
      expect(await store.readCursor(s)).toEqual({ cursor: moved, version: 2 });
      expect(await store.readCursor(uniqueId('other'))).toBeUndefined();
    });

    it('two writers from one version: exactly one wins', async () => {
      const s = uniqueId('race');
      expect(await store.writeCursor(cursor(s), 0)).toBe(true);
      const results = await Promise.all(
        [10, 20, 30, 40].map((n) => store.writeCursor(cursor(s, { nextIndex: n }), 1)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const won = [10, 20, 30, 40][results.indexOf(true)];
      expect((await store.readCursor(s))?.cursor.nextIndex).toBe(won);
      expect((await store.readCursor(s))?.version).toBe(2);
    });

    it('dead letters: stored under their id, replaced idempotently, listed per stream and by state', async () => {
      const a = uniqueId('dla');
      const b = uniqueId('dlb');
      expect(await store.readDeadLetter(`${a}/0`)).toBeUndefined();
      await store.putDeadLetter(letter(a, 0));
      await store.putDeadLetter(letter(a, 0));
      await store.putDeadLetter(letter(a, 50, { state: 'delivered', resolvedAtMs: 3000 }));
      await store.putDeadLetter(letter(b, 7));
      expect(await store.readDeadLetter(`${a}/0`)).toEqual(letter(a, 0));
      expect((await store.listDeadLetters({ stream: a })).map((l) => l.id)).toEqual([`${a}/0`, `${a}/50`]);
      expect((await store.listDeadLetters({ stream: a, state: 'open' })).map((l) => l.id)).toEqual([
        `${a}/0`,
      ]);
      await store.putDeadLetter(letter(a, 0, { state: 'skipped', resolvedAtMs: 4000 }));
      expect(await store.readDeadLetter(`${a}/0`)).toMatchObject({ state: 'skipped', resolvedAtMs: 4000 });
      expect(await store.listDeadLetters({ stream: a, state: 'open' })).toEqual([]);
      const all = (await store.listDeadLetters()).map((l) => l.id);
      expect(all).toEqual(expect.arrayContaining([`${a}/0`, `${a}/50`, `${b}/7`]));
    });
  });
}
