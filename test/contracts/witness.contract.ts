/**
 * The Witness contract (src/ports/witness.ts), run against every
 * implementation by test/contracts/memory.test.ts (MemoryWitness) and
 * aws.test.ts (HttpWitness against the local tlog-witness server).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseNote } from '../../src/core/note/signed-note.ts';
import { verifyCosignature } from '../../src/core/witness/cosignature.ts';
import type { Witness } from '../../src/ports/witness.ts';
import { type TestLog, testLog } from '../core/witness/support.ts';

export interface WitnessUnderTest {
  /** A witness that trusts `log`'s key for its origin, and knows no other log. */
  readonly witness: Witness;
  readonly log: TestLog;
}

export function witnessContract(name: string, make: () => Promise<WitnessUnderTest>): void {
  describe(`Witness contract: ${name}`, () => {
    let w: Witness;
    let log: TestLog;
    beforeAll(async () => {
      ({ witness: w, log } = await make());
    });

    it('cosigns a first checkpoint from old size 0; the line verifies under its configured key', async () => {
      log.append(5);
      const checkpoint = await log.checkpoint();
      const reply = await w.addCheckpoint({ oldSize: 0, proof: [], checkpoint });
      if (reply.kind !== 'cosigned') throw new Error(`expected a cosignature, got ${reply.kind}`);
      const text = parseNote(checkpoint).text;
      const valid = reply.signatures
        .map((s) => verifyCosignature(w.cosigner, text, s))
        .filter((t) => t !== undefined);
      expect(valid).toHaveLength(1);
      expect(valid[0]).toBeGreaterThan(0);
    });

    it('answers a wrong old size with a conflict naming its size', async () => {
      const reply = await w.addCheckpoint({ oldSize: 0, proof: [], checkpoint: await log.checkpoint() });
      expect(reply).toEqual({ kind: 'conflict', size: 5 });
    });

    it('cosigns a consistent extension given the proof', async () => {
      log.append(7);
      const reply = await w.addCheckpoint({
        oldSize: 5,
        proof: log.proof(5, 12),
        checkpoint: await log.checkpoint(),
      });
      expect(reply.kind).toBe('cosigned');
    });

    it('rejects a bad proof with WITNESS_INCONSISTENT', async () => {
      log.append(1);
      const proof = log.proof(12, 13).map((h) => h.map((b) => b ^ 0xff));
      await expect(
        w.addCheckpoint({ oldSize: 12, proof, checkpoint: await log.checkpoint() }),
      ).rejects.toMatchObject({
        code: 'WITNESS_INCONSISTENT',
        httpStatus: 422,
      });
    });

    it('rejects an unknown origin with WITNESS_UNKNOWN_LOG', async () => {
      const other = testLog(`${log.origin}-unknown`);
      other.append(1);
      await expect(
        w.addCheckpoint({ oldSize: 0, proof: [], checkpoint: await other.checkpoint() }),
      ).rejects.toMatchObject({
        code: 'WITNESS_UNKNOWN_LOG',
      });
    });

    it('rejects a checkpoint not signed by the trusted key with WITNESS_FORBIDDEN', async () => {
      const impostor = testLog(log.origin);
      impostor.append(20);
      await expect(
        w.addCheckpoint({ oldSize: 12, proof: [], checkpoint: await impostor.checkpoint() }),
      ).rejects.toMatchObject({ code: 'WITNESS_FORBIDDEN' });
    });

    it('rejects an old size above the checkpoint with WITNESS_BAD_REQUEST', async () => {
      await expect(
        w.addCheckpoint({ oldSize: 12, proof: [], checkpoint: await log.checkpoint(10) }),
      ).rejects.toMatchObject({
        code: 'WITNESS_BAD_REQUEST',
      });
    });
  });
}
