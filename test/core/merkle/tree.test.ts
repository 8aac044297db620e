import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { bytesEqual, fromHex, toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256, sha256Noble } from '../../../src/core/hash.ts';
import { CompactRange } from '../../../src/core/merkle/compact-range.ts';
import { MerkleError } from '../../../src/core/merkle/errors.ts';
import { emptyRoot, hashChildren, hashLeaf } from '../../../src/core/merkle/hasher.ts';
import { rangeNodes } from '../../../src/core/merkle/node-id.ts';
import { bitLen, popcount, shr, trailingZeros, xor } from '../../../src/core/merkle/numbers.ts';
import { perfectLevels, rootOf } from '../../../src/core/merkle/root.ts';
import { expectMerkleError, hashedLeaves, syntheticLeaves } from './helpers.ts';

describe('hashing (RFC 6962 §2.1)', () => {
  it('prefixes leaves with 0x00 and nodes with 0x01', () => {
    const d = utf8('hello');
    expect(hashLeaf(d)).toEqual(sha256(new Uint8Array([0, ...d])));
    const l = sha256(utf8('l'));
    const r = sha256(utf8('r'));
    expect(hashChildren(l, r)).toEqual(sha256(new Uint8Array([1, ...l, ...r])));
  });
  it('empty root is SHA-256 of nothing', () => {
    expect(toHex(emptyRoot())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
  it('hashLeaf handles entries larger than its scratch buffer and returns fresh arrays', () => {
    const big = new Uint8Array(65535).fill(7);
    expect(hashLeaf(big)).toEqual(sha256(new Uint8Array([0, ...big])));
    const a = hashLeaf(utf8('a'));
    const b = hashLeaf(utf8('b'));
    expect(a).not.toEqual(b);
    expect(a).toEqual(hashLeaf(utf8('a')));
  });
  it('hashLeaf matches @noble/hashes for any sequence of input lengths (cached scratch views)', async () => {
    // Each run gets a fresh module instance (scratch at its initial size), then hashes
    // inputs whose lengths repeat and straddle the view cache's limit and the scratch
    // buffer's growth points; every input differs from all before it. A view kept
    // across a growth would hash the old scratch's stale bytes.
    const len = fc.oneof(
      fc.constantFrom(0, 1, 10, 399, 1022, 1023, 1024, 2047, 8191, 8192, 8193, 20_000),
      fc.integer({ min: 0, max: 20_000 }),
    );
    let counter = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(len, { minLength: 2, maxLength: 16 }), async (lengths) => {
        vi.resetModules();
        const fresh = await import('../../../src/core/merkle/hasher.ts');
        for (const n of lengths) {
          counter++;
          const d = new Uint8Array(n).fill(counter & 0xff);
          if (n > 1) d[0] = (counter >> 8) & 0xff;
          expect(fresh.hashLeaf(d)).toEqual(sha256Noble(new Uint8Array([0, ...d])));
        }
      }),
      { numRuns: 60 },
    );
  });
  it('hashLeaf after its scratch grows: same length, new content', async () => {
    vi.resetModules();
    const fresh = await import('../../../src/core/merkle/hasher.ts');
    const a = new Uint8Array(10).fill(1);
    const b = new Uint8Array(10).fill(2);
    fresh.hashLeaf(a);
    fresh.hashLeaf(new Uint8Array(3000)); // grows the scratch buffer
    expect(fresh.hashLeaf(b)).toEqual(sha256Noble(new Uint8Array([0, ...b])));
  });
  it('known root of the SOURCE.md leaves', () => {
    const leaves = [
      '',
      '00',
      '10',
      '2021',
      '3031',
      '40414243',
      '5051525354555657',
      '606162636465666768696a6b6c6d6e6f',
    ];
    expect(toHex(rootOf(leaves.map((h) => hashLeaf(fromHex(h)))))).toBe(
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    );
  });
});

describe('53-bit integer helpers', () => {
  it('agree with BigInt on safe integers', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.maxSafeNat(), fc.integer({ min: 0, max: 53 }), (a, b, k) => {
        const A = BigInt(a);
        expect(bitLen(a)).toBe(a === 0 ? 0 : A.toString(2).length);
        expect(popcount(a)).toBe([...A.toString(2)].filter((c) => c === '1').length);
        expect(xor(a, b)).toBe(Number(A ^ BigInt(b)));
        expect(shr(a, k)).toBe(Number(A >> BigInt(k)));
        if (a > 0) expect(trailingZeros(a)).toBe(A.toString(2).length - A.toString(2).lastIndexOf('1') - 1);
      }),
    );
  });
});

/** Independent MTH straight from RFC 9162 §2.1.1's recursive definition. */
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return emptyRoot();
  if (leaves.length === 1) return leaves[0] as Uint8Array;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return hashChildren(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

describe('rootOf and CompactRange', () => {
  const leaves = hashedLeaves(1100);
  it('rootOf equals the recursive definition and the compact range for every n ≤ 1100', () => {
    const range = CompactRange.empty();
    expect(range.root()).toEqual(emptyRoot());
    let bad = 0;
    for (let n = 1; n <= leaves.length; n++) {
      range.append(leaves[n - 1] as Uint8Array);
      if (n > 300 && n % 7 !== 0) continue;
      const r = rootOf(leaves.slice(0, n));
      if (!bytesEqual(range.root(), r)) bad++;
      if ((n <= 64 || n % 97 === 0) && !bytesEqual(mth(leaves.slice(0, n)), r)) bad++;
      if (range.size !== n || range.hashes().length !== popcount(n)) bad++;
    }
    expect(bad).toBe(0);
  });
  it('holds the perfect subtree roots of rangeNodes(0, n)', () => {
    const levels = perfectLevels(leaves);
    const range = CompactRange.of(leaves.slice(0, 1000));
    const ids = rangeNodes(0, 1000);
    expect(range.nodeIds()).toEqual(ids);
    expect(range.hashes()).toEqual(ids.map((id) => levels[id.level]?.[id.index]));
  });
  // Records each visited node as "level:index", and each whose hash is not the tree's as wrong.
  function visitRecorder() {
    const levels = perfectLevels(leaves);
    const seen: string[] = [];
    const wrong: string[] = [];
    const visit = (l: number, i: number, hashes: Uint8Array, offset: number) => {
      seen.push(`${l}:${i}`);
      if (!bytesEqual(hashes.subarray(offset, offset + 32), levels[l]?.[i] as Uint8Array))
        wrong.push(`${l}:${i}`);
    };
    return { seen, wrong, visit };
  }
  it('visits every completed interior node once, bottom up, with its hash', () => {
    const { seen, wrong, visit } = visitRecorder();
    CompactRange.of([]).appendMany(leaves.slice(0, 8), visit);
    expect(seen).toEqual(['1:0', '1:1', '2:0', '1:2', '1:3', '2:1', '3:0']);
    expect(wrong).toEqual([]);
  });
  it('visits only levels divisible by `every` (tile rows), across chunk boundaries', () => {
    const { seen, wrong, visit } = visitRecorder();
    const range = CompactRange.empty();
    for (const [a, b] of [
      [0, 3],
      [3, 255],
      [255, 256],
      [256, 1024],
      [1024, 1100],
    ] as const)
      range.appendMany(leaves.slice(a, b), visit, 8);
    expect(seen).toEqual(['8:0', '8:1', '8:2', '8:3']);
    expect(wrong).toEqual([]);
    expect(() => range.appendMany([], visit, 0)).toThrow(MerkleError);
  });
  it('rejects a leaf hash that is not 32 bytes and leaves the range unchanged', () => {
    const range = CompactRange.of(leaves.slice(0, 5));
    const before = range.toBytes();
    expect(() => range.append(new Uint8Array(31))).toThrow(MerkleError);
    expect(() => range.appendMany([...leaves.slice(5, 9), new Uint8Array(33)])).toThrow(MerkleError);
    expect(range.toBytes()).toEqual(before);
  });
  it('appending in chunks equals appending one by one', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 8 }), (chunks) => {
        const a = CompactRange.empty();
        let pos = 0;
        for (const c of chunks) {
          const b = CompactRange.fromBytes(a.toBytes());
          a.appendMany(leaves.slice(pos, pos + c));
          b.appendMany(leaves.slice(pos, pos + c));
          expect(b.equals(a)).toBe(true);
          pos += c;
        }
        expect(a.root()).toEqual(rootOf(leaves.slice(0, pos)));
      }),
      { numRuns: 50 },
    );
  });
  it('round-trips through bytes and rejects malformed bytes', () => {
    const r = CompactRange.of(leaves.slice(0, 13));
    const bytes = r.toBytes();
    expect(bytes.length).toBe(9 + 3 * 32);
    expect(CompactRange.fromBytes(bytes).equals(r)).toBe(true);
    expect(CompactRange.fromBytes(CompactRange.empty().toBytes()).size).toBe(0);
    expectMerkleError(() => CompactRange.fromBytes(bytes.subarray(0, bytes.length - 1)), 'BAD_COMPACT_RANGE');
    expectMerkleError(() => CompactRange.fromBytes(new Uint8Array([...bytes, 0])), 'BAD_COMPACT_RANGE');
    expectMerkleError(
      () => CompactRange.fromBytes(new Uint8Array([2, ...bytes.subarray(1)])),
      'BAD_COMPACT_RANGE',
    );
    expectMerkleError(() => CompactRange.fromBytes(new Uint8Array(3)), 'BAD_COMPACT_RANGE');
    const huge = bytes.slice();
    huge.fill(0xff, 1, 9);
    expectMerkleError(() => CompactRange.fromBytes(huge), 'BAD_COMPACT_RANGE');
    const wrongSize = bytes.slice();
    wrongSize[8] = 14; // popcount(14) = 3 still matches the length, but the size changed: must differ
    expect(CompactRange.fromBytes(wrongSize).equals(r)).toBe(false);
    expectMerkleError(() => CompactRange.fromParts(5, [leaves[0] as Uint8Array]), 'BAD_COMPACT_RANGE');
    expectMerkleError(() => CompactRange.fromParts(1, [new Uint8Array(31)]), 'BAD_COMPACT_RANGE');
    expectMerkleError(() => CompactRange.fromParts(-1, []), 'BAD_COMPACT_RANGE');
  });
  it('handles sizes near 2^16 with synthetic leaves', () => {
    const ls = syntheticLeaves(65537);
    const r = CompactRange.empty();
    r.appendMany(ls.slice(0, 65535));
    const at65535 = r.root();
    r.append(ls[65535] as Uint8Array);
    expect(r.hashes()).toEqual([rootOf(ls.slice(0, 65536))]);
    r.append(ls[65536] as Uint8Array);
    expect(r.root()).toEqual(rootOf(ls));
    expect(at65535).not.toEqual(r.root());
  });
});
