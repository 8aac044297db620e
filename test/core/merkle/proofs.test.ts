/**
 * Property tests for proof generation and verification on random trees of up to
 * 10,000 leaves. Perfect nodes do not depend on the tree size, so one
 * perfectLevels() over 10,000 leaves serves as the node store for every size.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../../src/core/bytes.ts';
import { MerkleError } from '../../../src/core/merkle/errors.ts';
import { hashChildren } from '../../../src/core/merkle/hasher.ts';
import { rangeNodes } from '../../../src/core/merkle/node-id.ts';
import { consistencyProof, inclusionProof } from '../../../src/core/merkle/proof-from-leaves.ts';
import {
  consistencyNodes,
  consistencyProofFromOracle,
  consistencyProofFromSyncOracle,
  inclusionNodes,
  inclusionProofFromOracle,
  inclusionProofFromSyncOracle,
  levelsOracle,
  rehash,
} from '../../../src/core/merkle/proof-nodes.ts';
import { perfectLevels, rootOf } from '../../../src/core/merkle/root.ts';
import {
  consistencyProofLength,
  inclusionProofLength,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/core/merkle/verify.ts';
import { catchMerkle, expectMerkleError, flipBit, hashedLeaves } from './helpers.ts';

const MAX = 10_000;
const leaves = hashedLeaves(MAX, 7);
const levels = perfectLevels(leaves);
const oracle = levelsOracle(levels);

/** Root of the first n leaves from the stored perfect nodes (O(log n)). */
function rootAt(n: number): Uint8Array {
  const ids = rangeNodes(0, n);
  let r = oracle(ids.at(-1)?.level as number, ids.at(-1)?.index as number);
  for (let i = ids.length - 2; i >= 0; i--)
    r = hashChildren(oracle(ids[i]?.level ?? 0, ids[i]?.index ?? 0), r);
  return r;
}

const same = (a: Uint8Array[], b: Uint8Array[]) =>
  a.length === b.length && a.every((x, i) => bytesEqual(x, b[i] as Uint8Array));

/** Shape of PATH(m, D[n]) from RFC 9162 §2.1.3.1: which side each proof hash goes. */
function pathShape(m: number, n: number): string {
  if (n <= 1) return '';
  let k = 1;
  while (k * 2 < n) k *= 2;
  return m < k ? `${pathShape(m, k)}R` : `${pathShape(m - k, n - k)}L`;
}

/** Shape of SUBPROOF(m, D[n], b) from RFC 9162 §2.1.4.1. */
function subproofShape(m: number, n: number, b: boolean): string {
  if (m === n) return b ? '' : 'S';
  let k = 1;
  while (k * 2 < n) k *= 2;
  return m <= k ? `${subproofShape(m, k, b)}R` : `${subproofShape(m - k, n - k, false)}L`;
}

const sizeAndIndex = fc
  .integer({ min: 1, max: MAX })
  .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 })));
const sizePair = fc
  .integer({ min: 1, max: MAX })
  .chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n)));

const edgeSizes = [1, 2, 3, 255, 256, 257, 511, 512, 513, 4095, 4096, 4097, 9999, 10_000];

describe('perfect-node store', () => {
  it('roots from stored nodes equal rootOf', () => {
    for (const n of [1, 2, 3, 7, 8, 9, 255, 256, 257, 1000, 4097, MAX])
      expect(rootAt(n)).toEqual(rootOf(leaves.slice(0, n)));
  });
});

describe('inclusion proofs', () => {
  it('from the node oracle equal those from the leaf array, verify, and have the RFC length', () => {
    fc.assert(
      fc.property(sizeAndIndex, ([n, i]) => {
        const fromOracle = inclusionProofFromSyncOracle(i, n, oracle);
        expect(same(fromOracle, inclusionProof(leaves, i, n))).toBe(true);
        expect(fromOracle.length).toBe(inclusionProofLength(i, n));
        expect(fromOracle.length).toBe(pathShape(i, n).length);
        verifyInclusion(leaves[i] as Uint8Array, i, n, fromOracle, rootAt(n));
      }),
      { numRuns: 60 },
    );
  });
  it('verify at edge sizes for first, middle and last leaves', () => {
    for (const n of edgeSizes) {
      const root = rootAt(n);
      for (const i of new Set([0, n >> 1, n - 2, n - 1].filter((x) => x >= 0))) {
        verifyInclusion(leaves[i] as Uint8Array, i, n, inclusionProofFromSyncOracle(i, n, oracle), root);
      }
    }
  });
  it('async oracle path gives the same proof', async () => {
    const asyncOracle = async (l: number, i: number) => oracle(l, i);
    for (const [n, i] of [
      [10_000, 4711],
      [257, 256],
      [1, 0],
    ] as const) {
      expect(await inclusionProofFromOracle(i, n, asyncOracle)).toEqual(
        inclusionProofFromSyncOracle(i, n, oracle),
      );
    }
  });
  it('reject every single-bit mutation of proof hashes, leaf and root', () => {
    fc.assert(
      fc.property(sizeAndIndex, ([n, i]) => {
        const leaf = leaves[i] as Uint8Array;
        const proof = inclusionProofFromSyncOracle(i, n, oracle);
        const root = rootAt(n);
        let accepted = 0;
        const tryIt = (fn: () => void) => {
          const e = catchMerkle(fn);
          if (e === undefined) accepted++;
        };
        for (let k = 0; k < proof.length; k++) {
          for (let bit = 0; bit < 256; bit++) {
            const p = proof.slice();
            p[k] = flipBit(proof[k] as Uint8Array, bit);
            tryIt(() => verifyInclusion(leaf, i, n, p, root));
          }
        }
        for (let bit = 0; bit < 256; bit++) {
          tryIt(() => verifyInclusion(leaf, i, n, proof, flipBit(root, bit)));
          tryIt(() => verifyInclusion(flipBit(leaf, bit), i, n, proof, root));
        }
        expect(accepted).toBe(0);
      }),
      { numRuns: 8 },
    );
  });
  it('reject index bit flips (all 53 bits) exactly', () => {
    fc.assert(
      fc.property(sizeAndIndex, ([n, i]) => {
        const proof = inclusionProofFromSyncOracle(i, n, oracle);
        const root = rootAt(n);
        for (let bit = 0; bit < 53; bit++) {
          const j = Number(BigInt(i) ^ (1n << BigInt(bit)));
          expect(
            catchMerkle(() => verifyInclusion(leaves[i] as Uint8Array, j, n, proof, root)),
          ).toBeInstanceOf(MerkleError);
        }
      }),
      { numRuns: 150 },
    );
  });
  it('size bit flips are rejected unless the proof has the same RFC shape (size is bound by the checkpoint)', () => {
    // An inclusion proof only fixes the sequence of left/right hashing steps; a size
    // with the same PATH shape yields the same computation. That is inherent to
    // RFC 9162: the size is authenticated by the signed checkpoint, not the proof.
    fc.assert(
      fc.property(sizeAndIndex, ([n, i]) => {
        const proof = inclusionProofFromSyncOracle(i, n, oracle);
        const root = rootAt(n);
        for (let bit = 0; bit < 53; bit++) {
          const m = Number(BigInt(n) ^ (1n << BigInt(bit)));
          const ok =
            catchMerkle(() => verifyInclusion(leaves[i] as Uint8Array, i, m, proof, root)) === undefined;
          const shapeEqual = i < m && pathShape(i, m) === pathShape(i, n);
          expect(ok).toBe(shapeEqual);
        }
      }),
      { numRuns: 150 },
    );
  });
  it('reject malformed input with codes', () => {
    const proof = inclusionProofFromSyncOracle(5, 8, oracle);
    const root = rootAt(8);
    const leaf = leaves[5] as Uint8Array;
    verifyInclusion(leaf, 5, 8, proof, root);
    expectMerkleError(() => verifyInclusion(leaf, 8, 8, proof, root), 'INDEX_OUT_OF_RANGE');
    expectMerkleError(() => verifyInclusion(leaf, -1, 8, proof, root), 'INDEX_OUT_OF_RANGE');
    expectMerkleError(() => verifyInclusion(leaf, 5.5, 8, proof, root), 'INDEX_OUT_OF_RANGE');
    expectMerkleError(() => verifyInclusion(leaf, 2 ** 64 - 1, 2 ** 64, proof, root), 'SIZE_OUT_OF_RANGE');
    expectMerkleError(
      () => verifyInclusion(leaf, 2 ** 53, Number.MAX_SAFE_INTEGER, proof, root),
      'INDEX_OUT_OF_RANGE',
    );
    expectMerkleError(() => verifyInclusion(leaf, 5, Number.NaN, proof, root), 'SIZE_OUT_OF_RANGE');
    expectMerkleError(() => verifyInclusion(leaf, 5, 8, proof.slice(1), root), 'BAD_PROOF_SIZE');
    expectMerkleError(() => verifyInclusion(leaf, 5, 8, [...proof, root], root), 'BAD_PROOF_SIZE');
    expectMerkleError(
      () =>
        verifyInclusion(
          leaf,
          5,
          8,
          [proof[0] as Uint8Array, new Uint8Array(31), proof[2] as Uint8Array],
          root,
        ),
      'BAD_HASH_SIZE',
    );
    expectMerkleError(() => verifyInclusion(leaf.subarray(1), 5, 8, proof, root), 'BAD_HASH_SIZE');
    expectMerkleError(() => verifyInclusion(leaf, 5, 8, proof, root.subarray(0, 16)), 'BAD_HASH_SIZE');
    expectMerkleError(
      () => verifyInclusion(leaf, 5, 8, proof.slice().reverse(), root),
      'INCLUSION_PROOF_INVALID',
    );
    expect(rootFromInclusionProof(leaf, 5, 8, proof)).toEqual(root);
    expectMerkleError(() => inclusionNodes(3, 3), 'INDEX_OUT_OF_RANGE');
    expectMerkleError(() => inclusionProof(leaves, 0, MAX + 1), 'SIZE_OUT_OF_RANGE');
  });
  it('node lists at the largest safe size stay exact (no float rounding)', () => {
    const n = Number.MAX_SAFE_INTEGER;
    const nodes = inclusionNodes(n - 1, n);
    expect(nodes.ids.length).toBe(52);
    expect(nodes.end - nodes.begin).toBe(0);
    expect(
      nodes.ids.every((id) => Number.isSafeInteger(id.index) && (id.index + 1) * 2 ** id.level <= n),
    ).toBe(true);
    expect(
      rehash(
        nodes,
        nodes.ids.map(() => new Uint8Array(32)),
      ).length,
    ).toBe(inclusionProofLength(n - 1, n));
    const c = consistencyNodes(2 ** 52 + 3, n);
    expect(
      rehash(
        c,
        c.ids.map(() => new Uint8Array(32)),
      ).length,
    ).toBe(consistencyProofLength(2 ** 52 + 3, n));
  });
});

describe('consistency proofs', () => {
  it('from the node oracle equal those from the leaf array, verify, and have the RFC length', () => {
    fc.assert(
      fc.property(sizePair, ([m, n]) => {
        const fromOracle = consistencyProofFromSyncOracle(m, n, oracle);
        expect(same(fromOracle, consistencyProof(leaves, m, n))).toBe(true);
        expect(fromOracle.length).toBe(consistencyProofLength(m, n));
        expect(fromOracle.length).toBe(m === n ? 0 : subproofShape(m, n, true).length);
        verifyConsistency(m, n, fromOracle, rootAt(m), rootAt(n));
      }),
      { numRuns: 60 },
    );
  });
  it('verify between edge sizes', async () => {
    const asyncOracle = async (l: number, i: number) => oracle(l, i);
    for (const m of edgeSizes) {
      for (const n of edgeSizes.filter((x) => x >= m)) {
        const p = consistencyProofFromSyncOracle(m, n, oracle);
        verifyConsistency(m, n, p, rootAt(m), rootAt(n));
        if (n === MAX) expect(await consistencyProofFromOracle(m, n, asyncOracle)).toEqual(p);
      }
    }
  });
  it('reject every single-bit mutation of proof hashes and roots', () => {
    fc.assert(
      fc.property(sizePair, ([m, n]) => {
        fc.pre(m < n);
        const proof = consistencyProofFromSyncOracle(m, n, oracle);
        const r1 = rootAt(m);
        const r2 = rootAt(n);
        let accepted = 0;
        const tryIt = (fn: () => void) => {
          if (catchMerkle(fn) === undefined) accepted++;
        };
        for (let k = 0; k < proof.length; k++) {
          for (let bit = 0; bit < 256; bit++) {
            const p = proof.slice();
            p[k] = flipBit(proof[k] as Uint8Array, bit);
            tryIt(() => verifyConsistency(m, n, p, r1, r2));
          }
        }
        for (let bit = 0; bit < 256; bit++) {
          tryIt(() => verifyConsistency(m, n, proof, flipBit(r1, bit), r2));
          tryIt(() => verifyConsistency(m, n, proof, r1, flipBit(r2, bit)));
        }
        expect(accepted).toBe(0);
      }),
      { numRuns: 8 },
    );
  });
  it('size bit flips are rejected unless the SUBPROOF shape is unchanged', () => {
    fc.assert(
      fc.property(sizePair, ([m, n]) => {
        fc.pre(m < n);
        const proof = consistencyProofFromSyncOracle(m, n, oracle);
        const r1 = rootAt(m);
        const r2 = rootAt(n);
        const shape = subproofShape(m, n, true);
        for (let bit = 0; bit < 53; bit++) {
          const f = 2 ** bit;
          const m2 = Number(BigInt(m) ^ BigInt(f));
          const n2 = Number(BigInt(n) ^ BigInt(f));
          const ok1 = catchMerkle(() => verifyConsistency(m2, n, proof, r1, r2)) === undefined;
          const ok2 = catchMerkle(() => verifyConsistency(m, n2, proof, r1, r2)) === undefined;
          // Changing size1 changes which prefix root1 covers; it is never accepted.
          expect(ok1).toBe(false);
          expect(ok2).toBe(m < n2 && subproofShape(m, n2, true) === shape);
        }
      }),
      { numRuns: 150 },
    );
  });
  it('reject malformed input with codes', () => {
    const p = consistencyProofFromSyncOracle(6, 8, oracle);
    const r6 = rootAt(6);
    const r8 = rootAt(8);
    verifyConsistency(6, 8, p, r6, r8);
    expectMerkleError(() => verifyConsistency(0, 8, p, r6, r8), 'SIZE_OUT_OF_RANGE');
    expectMerkleError(() => verifyConsistency(9, 8, p, r6, r8), 'SIZE_OUT_OF_RANGE');
    expectMerkleError(() => verifyConsistency(6, 2 ** 64, p, r6, r8), 'SIZE_OUT_OF_RANGE');
    expectMerkleError(() => verifyConsistency(6, 8, [], r6, r8), 'BAD_PROOF_SIZE');
    expectMerkleError(() => verifyConsistency(6, 8, [...p, r8], r6, r8), 'BAD_PROOF_SIZE');
    expectMerkleError(
      () => verifyConsistency(6, 8, [new Uint8Array(3), ...p.slice(1)], r6, r8),
      'BAD_HASH_SIZE',
    );
    expectMerkleError(() => verifyConsistency(6, 8, p, r8, r6), 'CONSISTENCY_PROOF_INVALID');
    expectMerkleError(() => verifyConsistency(8, 8, [], r6, r8), 'ROOT_MISMATCH');
    expectMerkleError(() => verifyConsistency(8, 8, [r8], r8, r8), 'BAD_PROOF_SIZE');
    verifyConsistency(8, 8, [], r8, r8);
    expectMerkleError(() => consistencyNodes(0, 3), 'SIZE_OUT_OF_RANGE');
    expectMerkleError(() => consistencyNodes(4, 3), 'SIZE_OUT_OF_RANGE');
    expectMerkleError(() => rehash(consistencyNodes(3, 7), []), 'BAD_ARGUMENT');
  });
});
