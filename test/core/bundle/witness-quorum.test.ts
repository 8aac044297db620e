/**
 * Quorum boundaries, as a property (fast-check): for any sets of pinned witnesses cosigning a
 * checkpoint that covers the records and one that does not, plus cosignatures by witnesses
 * nobody pinned, and any quorum k, the bundle verifies iff at least k pinned witnesses
 * cosigned the covering checkpoint — and the report counts exactly those.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleError, verifyBundle } from '../../../src/core/bundle/index.ts';
import {
  checkpointNote,
  cosign,
  exportBundle,
  makeLog,
  type TestLog,
  type TestWitness,
  testWitness,
  trustFor,
} from './fixture.ts';

const PINNED = ['w1', 'w2', 'w3', 'w4'].map((p) => testWitness(p));
const UNPINNED = testWitness('stranger');
let log: TestLog;
let notes: Map<number, string>;

beforeAll(async () => {
  log = makeLog(12);
  notes = new Map();
  for (const s of [6, 12]) notes.set(s, await checkpointNote(log, s));
});

const subset = fc.subarray(PINNED.map((_, i) => i));

describe('witness quorum (property)', () => {
  it('verifies iff k pinned witnesses cosigned one covering checkpoint', async () => {
    await fc.assert(
      fc.asyncProperty(
        subset,
        subset,
        fc.boolean(),
        fc.integer({ min: 0, max: 4 }),
        async (covering, early, stranger, k) => {
          const pick = (ix: number[]): TestWitness[] => ix.map((i) => PINNED[i] as TestWitness);
          const n6 = notes.get(6) as string;
          const n12 = notes.get(12) as string;
          // Records 2..8: checkpoint 12 covers them, checkpoint 6 does not.
          const bundle = await exportBundle(log, {
            fromTime: '2025-06-01T00:02:00.000Z',
            toTime: '2025-06-01T00:09:00.000Z',
            checkpoints: [6, 12],
            notes: [n6, n12],
            cosignatures: [
              ...cosign(pick(early), n6, 6),
              ...cosign(pick(covering), n12, 12),
              ...(stranger ? cosign([UNPINNED], n12, 12) : []),
            ],
          });
          const trust = { ...trustFor(log), witnesses: PINNED.map((w) => w.vkey), witnessQuorum: k };
          try {
            const r = await verifyBundle(bundle, trust);
            expect(covering.length).toBeGreaterThanOrEqual(k);
            const best = Math.max(covering.length, 0);
            expect(r.witnesses.cosigned).toBe(best);
            if (best > 0) expect(r.witnesses.checkpointSize).toBe(12);
          } catch (e) {
            expect(e).toBeInstanceOf(BundleError);
            expect((e as BundleError).code).toBe('WITNESS_QUORUM_NOT_MET');
            expect(covering.length).toBeLessThan(k);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
