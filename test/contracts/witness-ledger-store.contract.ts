/**
 * The WitnessLedgerStore contract (src/ports/witness-ledger-store.ts), run
 * against every implementation by test/contracts/memory.test.ts and
 * aws.test.ts; and the witness service (src/app/witness-service.ts) on top
 * of each, because its safety under concurrent requests is the store's
 * compareAndSet and nothing else.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { WitnessService } from '../../src/app/witness-service.ts';
import { toHex } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hash.ts';
import { verifyCosignature } from '../../src/core/witness/cosignature.ts';
import { parseCosignatureResponse } from '../../src/core/witness/protocol.ts';
import { originHash } from '../../src/core/witness/witness.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { WitnessLedgerHead, WitnessLedgerStore } from '../../src/ports/witness-ledger-store.ts';
import { seed, testLog } from '../core/witness/support.ts';
import { uniqueId } from './support.ts';

const root = (n: number) => new Uint8Array(32).fill(n);
const head = (origin: string, size: number, r: number, extra = ''): WitnessLedgerHead => ({
  origin,
  size,
  rootHash: root(r),
  checkpoint: `${origin}\n${size}\n${Buffer.from(root(r)).toString('base64')}\n\n— ${origin} sig${extra}\n`,
  updatedAt: 1_700_000_000_000 + size,
});

export function witnessLedgerStoreContract(name: string, make: () => Promise<WitnessLedgerStore>): void {
  describe(`WitnessLedgerStore contract: ${name}`, () => {
    let store: WitnessLedgerStore;
    beforeAll(async () => {
      store = await make();
    });
    const fresh = () => {
      const origin = `${uniqueId('wl')}.example/log — ü`;
      return { origin, key: originHash(origin) };
    };

    it('knows nothing of a new origin', async () => {
      expect(await store.get(fresh().key)).toBeUndefined();
    });

    it('creates a head only when none exists, and reads it back byte for byte', async () => {
      const { origin, key } = fresh();
      const h = head(origin, 5, 1, ' ✓');
      expect(await store.compareAndSet(key, undefined, h)).toBe(true);
      expect(await store.get(key)).toEqual(h);
      expect(await store.compareAndSet(key, undefined, head(origin, 7, 2))).toBe(false);
      expect(await store.get(key)).toEqual(h);
    });

    it('replaces a head only from the size AND root it holds', async () => {
      const { origin, key } = fresh();
      await store.compareAndSet(key, undefined, head(origin, 5, 1));
      expect(await store.compareAndSet(key, { size: 4, rootHash: root(1) }, head(origin, 9, 3))).toBe(false);
      expect(await store.compareAndSet(key, { size: 5, rootHash: root(2) }, head(origin, 9, 3))).toBe(false);
      expect((await store.get(key))?.size).toBe(5);
      expect(await store.compareAndSet(key, { size: 5, rootHash: root(1) }, head(origin, 9, 3))).toBe(true);
      expect(await store.get(key)).toEqual(head(origin, 9, 3));
    });

    it('of concurrent writes from the same head exactly one lands', async () => {
      const { origin, key } = fresh();
      await store.compareAndSet(key, undefined, head(origin, 5, 1));
      const from = { size: 5, rootHash: root(1) };
      const results = await Promise.all(
        [10, 11, 12, 13].map((r) => store.compareAndSet(key, from, head(origin, 10, r))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const won = 10 + results.indexOf(true);
      expect(await store.get(key)).toEqual(head(origin, 10, won));
    });

    it('keeps origins apart', async () => {
      const a = fresh();
      const b = fresh();
      await store.compareAndSet(a.key, undefined, head(a.origin, 3, 1));
      expect(await store.get(b.key)).toBeUndefined();
      expect(await store.compareAndSet(b.key, undefined, head(b.origin, 4, 2))).toBe(true);
      expect((await store.get(a.key))?.size).toBe(3);
    });

    describe('the witness service on this store', () => {
      const make = (logs: ReturnType<typeof trust>) =>
        new WitnessService({
          keyName: 'witness.ledger.contract',
          secretKey: seed(41),
          logs,
          store,
          clock: systemClock,
        });
      const trust = (l: ReturnType<typeof testLog>) => new Map([[l.origin, [l.verifier]]]);

      it('two concurrent conflicting checkpoints: exactly one is cosigned, the loser is told the winner’s size', async () => {
        const honest = testLog(`${uniqueId('wlrace')}.example/log`);
        const svc = make(trust(honest));
        honest.append(5, 'base');
        expect(
          (await svc.addCheckpoint({ oldSize: 0, proof: [], checkpoint: await honest.checkpoint() })).status,
        ).toBe(200);
        // A fork: the same first 5 leaves, then different ones, signed by the same key.
        const forked = testLog(honest.origin, honest.signer);
        forked.leaves = honest.leaves.slice();
        honest.append(5, 'honest');
        forked.append(5, 'forged');
        // ECDSA signatures are randomized: sign each checkpoint once.
        const cps = { honest: await honest.checkpoint(), forked: await forked.checkpoint() };
        const answers = await Promise.all([
          svc.addCheckpoint({ oldSize: 5, proof: honest.proof(5, 10), checkpoint: cps.honest }),
          svc.addCheckpoint({ oldSize: 5, proof: forked.proof(5, 10), checkpoint: cps.forked }),
        ]);
        expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
        expect(answers.find((a) => a.status === 409)).toMatchObject({ size: 10 });
        const winnerIsHonest = answers[0]?.status === 200;
        // The loser, retrying from the size it was told, is refused: same size, another root.
        const retry = await svc.addCheckpoint({
          oldSize: 10,
          proof: [],
          checkpoint: winnerIsHonest ? cps.forked : cps.honest,
        });
        expect(retry.status).toBe(422);
        const stored = await store.get(originHash(honest.origin));
        expect(stored?.size).toBe(10);
        expect(stored?.checkpoint.startsWith(winnerIsHonest ? cps.honest : cps.forked)).toBe(true);
      });

      it('persists before it answers: the cosignature returned is the one stored, over the checkpoint sent', async () => {
        const l = testLog(`${uniqueId('wlpersist')}.example/log`);
        const svc = make(trust(l));
        l.append(3);
        const cp = await l.checkpoint();
        const a = await svc.addCheckpoint({ oldSize: 0, proof: [], checkpoint: cp });
        if (a.status !== 200) throw new Error(`status ${a.status}`);
        const stored = await store.get(originHash(l.origin));
        expect(stored?.checkpoint).toBe(`${cp}${a.body}`);
        const monitored = await svc.latest(toHex(sha256(new TextEncoder().encode(l.origin))));
        expect(monitored).toEqual({ status: 200, body: `${cp}${a.body}` });
        const text = cp.slice(0, cp.indexOf('\n\n') + 1);
        const [line] = parseCosignatureResponse(text, a.body);
        if (!line) throw new Error('no line');
        expect(verifyCosignature(svc.cosigner, text, line)).toBeGreaterThan(0);
      });
    });
  });
}
