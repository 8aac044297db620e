// The witness service (src/app/witness-service.ts) on the memory store: what it releases under
// store failures and under arbitrary interleavings of honest and forked requests.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryWitnessLedgerStore } from '../../src/adapters/memory/witness-ledger-store.ts';
import { WitnessService } from '../../src/app/witness-service.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { originHash } from '../../src/core/witness/witness.ts';
import { seed, type TestLog, testLog } from '../core/witness/support.ts';

function service(l: TestLog, store = new MemoryWitnessLedgerStore()) {
  return {
    store,
    svc: new WitnessService({
      keyName: 'witness-service.test',
      secretKey: seed(71),
      logs: new Map([[l.origin, [l.verifier]]]),
      store,
      clock: new ManualClock({ startMs: 1_800_000_000_000 }),
    }),
  };
}

describe('WitnessService: store failures release nothing', () => {
  it('a write that landed but was not confirmed (UNAVAILABLE after): 503, then 409 with the new size, then the same root cosigned', async () => {
    const l = testLog('witness-service.test/after');
    const { store, svc } = service(l);
    l.append(4);
    const cp = await l.checkpoint();
    store.faults.fail({ op: 'compareAndSet', code: 'UNAVAILABLE', when: 'after' });
    expect(await svc.addCheckpoint({ oldSize: 0, proof: [], checkpoint: cp })).toMatchObject({
      status: 503,
      code: 'UNAVAILABLE',
    });
    expect(store.peek(originHash(l.origin))?.size).toBe(4); // it did persist
    expect(await svc.addCheckpoint({ oldSize: 0, proof: [], checkpoint: cp })).toMatchObject({
      status: 409,
      size: 4,
    });
    expect((await svc.addCheckpoint({ oldSize: 4, proof: [], checkpoint: cp })).status).toBe(200);
  });

  it.each(['get', 'compareAndSet'] as const)('%s throttled: 503 THROTTLED, nothing written', async (op) => {
    const l = testLog(`witness-service.test/${op}`);
    const { store, svc } = service(l);
    l.append(2);
    store.faults.fail({ op, code: 'THROTTLED' });
    expect(
      await svc.addCheckpoint({ oldSize: 0, proof: [], checkpoint: await l.checkpoint() }),
    ).toMatchObject({
      status: 503,
      code: 'THROTTLED',
    });
    expect(store.peek(originHash(l.origin))).toBeUndefined();
  });

  it('a corrupt head (another origin under this hash) is 503 INTEGRITY, never a cosignature', async () => {
    const l = testLog('witness-service.test/corrupt');
    const { store, svc } = service(l);
    l.append(2);
    store.setHead(originHash(l.origin), {
      origin: 'someone.else/log',
      size: 1,
      rootHash: new Uint8Array(32),
      checkpoint: '',
      updatedAt: 0,
    });
    expect(
      await svc.addCheckpoint({ oldSize: 1, proof: [], checkpoint: await l.checkpoint() }),
    ).toMatchObject({
      status: 503,
      code: 'INTEGRITY',
    });
  });
});

describe('WitnessService: one root per size, whatever the interleaving (property)', () => {
  it('concurrent honest and forked submissions never get two roots cosigned at one size, and the size never goes back', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ fork: fc.boolean(), grow: fc.integer({ min: 0, max: 3 }), old: fc.nat(12) }), {
          minLength: 2,
          maxLength: 10,
        }),
        async (steps) => {
          const honest = testLog('witness-service.test/prop');
          const forked = testLog(honest.origin, honest.signer);
          honest.append(2, 'base');
          forked.leaves = honest.leaves.slice();
          const { store, svc } = service(honest);
          const released = new Map<number, Set<string>>();
          let lastSize = 0;
          let cosigned = 0;
          // Fire each step's request without waiting for the previous one: they interleave at every store call.
          const pending = steps.map(async (s) => {
            const l = s.fork ? forked : honest;
            l.append(s.grow, s.fork ? 'f' : 'h');
            const size = l.leaves.length;
            const old = Math.min(s.old, size);
            const cp = await l.checkpoint(size);
            const proof = old === 0 || old === size ? [] : l.proof(old, size);
            let a = await svc.addCheckpoint({ oldSize: old, proof, checkpoint: cp });
            // As a log does: on 409, resend once from the witness's size (when not ahead of ours).
            if (a.status === 409 && a.size <= size)
              a = await svc.addCheckpoint({
                oldSize: a.size,
                proof: a.size === 0 || a.size === size ? [] : l.proof(a.size, size),
                checkpoint: cp,
              });
            if (a.status === 200) {
              cosigned++;
              const root = cp.split('\n')[2] as string;
              const roots = released.get(size) ?? new Set<string>();
              roots.add(root);
              released.set(size, roots);
            }
            const h = store.peek(originHash(honest.origin));
            if (h) {
              expect(h.size).toBeGreaterThanOrEqual(lastSize);
              lastSize = h.size;
            }
          });
          await Promise.all(pending);
          // Not vacuous: whichever submission first moves the head is cosigned, so every run cosigns one at least.
          expect(cosigned).toBeGreaterThan(0);
          for (const [size, roots] of released) expect(roots.size, `size ${size}`).toBe(1);
          const h = store.peek(originHash(honest.origin));
          if (h) expect(released.get(h.size)?.has(toBase64(h.rootHash))).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});
