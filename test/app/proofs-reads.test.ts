/**
 * The O(log n) claim, measured: archive `get` calls per proof for logs of
 * 100, 1,000 and 10,000 records (one checkpoint read + the tiles the proof's
 * nodes live in). Proof *nodes* grow with log2(n); tile reads with the
 * number of tile levels (log256(n)), at most about two per level.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/core/bytes.ts';
import { rootOf } from '../../src/core/merkle/root.ts';
import { verifyConsistency, verifyInclusion } from '../../src/core/merkle/verify.ts';
import { checkpointFromNote, type VerifiedCheckpoint } from '../../src/core/note/verify.ts';
import { parseVerifierKey } from '../../src/core/note/vkey.ts';
import { leafHash } from '../../src/core/record.ts';
import {
  entriesFromBundles,
  growAndSeal,
  ORIGIN_PREFIX,
  prng,
  type ReadEnv,
  readEnv,
} from './proofs-fixture.ts';

const SIZES = [100, 1_000, 10_000];
let env: ReadEnv;
const heads = new Map<number, VerifiedCheckpoint>();

beforeAll(async () => {
  env = await readEnv();
  for (const n of SIZES) {
    const logId = `reads-${n}`;
    const [text] = await growAndSeal(env, logId, [n]);
    const key = parseVerifierKey((await env.proofs.keys(logId)).keys[0]?.vkey ?? '');
    heads.set(n, checkpointFromNote(text ?? '', `${ORIGIN_PREFIX}/${logId}`, [key]));
  }
}, 600_000);

describe('archive reads per proof', () => {
  it('grow with the number of tile levels, not with n', async () => {
    const rows: Array<Record<string, number>> = [];
    for (const n of SIZES) {
      const logId = `reads-${n}`;
      const cp = heads.get(n) as VerifiedCheckpoint;
      const rnd = prng(n);
      const bundle = await entriesFromBundles(env, logId, n);
      const leaves = bundle.map(leafHash);
      let maxIncl = 0;
      let sumIncl = 0;
      let maxNodes = 0;
      const indexes = [0, n - 1, ...Array.from({ length: 18 }, () => rnd(n))];
      for (const index of indexes) {
        env.counting.reset();
        const p = await env.proofs.inclusionProof(logId, index);
        verifyInclusion(
          leafHash(bundle[index] as Uint8Array),
          index,
          n,
          p.hashes.map(fromBase64),
          cp.rootHash,
        );
        maxIncl = Math.max(maxIncl, env.counting.gets.length);
        sumIncl += env.counting.gets.length;
        maxNodes = Math.max(maxNodes, p.hashes.length);
        // Never the same object twice in one request.
        expect(new Set(env.counting.gets).size).toBe(env.counting.gets.length);
      }
      let maxCons = 0;
      for (let i = 0; i < 10; i++) {
        env.counting.reset();
        const from = 1 + rnd(n - 1);
        const p = await env.proofs.consistencyProof(logId, from, n);
        expect(p.to).toBe(n);
        maxCons = Math.max(maxCons, env.counting.gets.length);
        verifyConsistency(from, n, p.hashes.map(fromBase64), rootOf(leaves.slice(0, from)), cp.rootHash);
      }
      rows.push({
        n,
        log2n: Math.ceil(Math.log2(n)),
        maxProofHashes: maxNodes,
        maxInclusionReads: maxIncl,
        meanInclusionReads: Math.round((sumIncl / indexes.length) * 10) / 10,
        maxConsistencyReads: maxCons,
      });
    }
    console.table(rows);
    // 1 checkpoint read + at most 2 tiles per tile level (levels: 1, 2, 2).
    const levels = [1, 2, 2];
    rows.forEach((r, i) => {
      expect(r.maxInclusionReads).toBeLessThanOrEqual(1 + 2 * (levels[i] as number));
      expect(r.maxConsistencyReads).toBeLessThanOrEqual(1 + 2 * (levels[i] as number));
    });
    // Proof length grows with log2(n); reads stay within a small constant per tile level.
    expect(rows[2]?.maxProofHashes).toBeGreaterThan(rows[0]?.maxProofHashes ?? 0);
  });
});
