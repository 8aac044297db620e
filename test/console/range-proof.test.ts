/**
 * The verify page's derivation of a range record's inclusion proof
 * (console/src/verify/range-proof.ts) from only what a range bundle carries —
 * the compact range of [0, a) and the leaves a..b — must equal the RFC 9162
 * proof computed from every leaf of the tree of size b + 1, for any a ≤ i ≤ b.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RangeTree } from '../../console/src/verify/range-proof.ts';
import { toHex } from '../../src/core/bytes.ts';
import { hashLeaf, inclusionProof, rootOf, verifyInclusion } from '../../src/core/merkle/index.ts';

const leavesOf = (n: number) =>
  Array.from({ length: n }, (_, i) => hashLeaf(new Uint8Array([i & 255, i >> 8, 7])));

/** The compact range of [0, a): perfect subtrees for the set bits of a, largest first. */
function compactLeft(leaves: Uint8Array[], a: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let bit = 2 ** Math.floor(Math.log2(Math.max(a, 1))); bit >= 1; bit /= 2) {
    if ((a & bit) === 0) continue;
    out.push(rootOf(leaves.slice(start, start + bit)));
    start += bit;
  }
  return out;
}

function treeFor(leaves: Uint8Array[], a: number, b: number): RangeTree {
  const range = leaves.slice(a, b + 1);
  const packed = new Uint8Array(range.length * 32);
  range.forEach((l, k) => {
    packed.set(l, k * 32);
  });
  return new RangeTree({ first: a, left: compactLeft(leaves, a), leaves: packed, count: range.length });
}

const hex = (xs: Uint8Array[]) => xs.map(toHex);

describe('RangeTree: inclusion proofs from a compact range and the range leaves', () => {
  it('equals the proof from all leaves, for every record of any range (property)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 300 })
          .chain((size) =>
            fc.tuple(
              fc.constant(size),
              fc.integer({ min: 0, max: size - 1 }),
              fc.integer({ min: 0, max: size - 1 }),
            ),
          ),
        fc.nat(),
        ([size, x, y], pick) => {
          const [a, b] = x <= y ? [x, y] : [y, x];
          const leaves = leavesOf(size).slice(0, b + 1);
          const t = treeFor(leaves, a, b);
          const i = a + (pick % (b - a + 1));
          expect(t.size).toBe(b + 1);
          expect(toHex(t.root())).toBe(toHex(rootOf(leaves)));
          expect(hex(t.inclusion(i))).toEqual(hex(inclusionProof(leaves, i, b + 1)));
          verifyInclusion(leaves[i] as Uint8Array, i, b + 1, t.inclusion(i), t.root());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('covers the edges: a range from 0, a one-record range, a power-of-two boundary', () => {
    for (const [n, a, b] of [
      [1, 0, 0],
      [8, 0, 7],
      [9, 8, 8],
      [16, 4, 11],
      [33, 32, 32],
      [100, 63, 64],
    ] as const) {
      const leaves = leavesOf(n).slice(0, b + 1);
      const t = treeFor(leaves, a, b);
      for (let i = a; i <= b; i++) expect(hex(t.inclusion(i))).toEqual(hex(inclusionProof(leaves, i, b + 1)));
    }
  });
});
