/**
 * Proof verification, RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency).
 *
 * Everything here is attacker-controlled: a proof from a bundle or an API
 * response, and indexes/sizes that may come from JSON. We therefore check that
 * numbers are safe integers, that every hash is exactly 32 bytes and that the
 * proof has exactly the length the (index, size) pair implies, before hashing.
 * Each function returns nothing and throws a MerkleError on any failure.
 */
import { bytesEqual } from '../bytes.ts';
import { MerkleError } from './errors.ts';
import { HASH_SIZE, hashChildren } from './hasher.ts';
import { assertSafeUint, bitLen, isPowerOfTwo, popcount, shr, trailingZeros, xor } from './numbers.ts';

function assertHash(h: Uint8Array, what: string): void {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
    throw new MerkleError('BAD_HASH_SIZE', `${what} must be ${HASH_SIZE} bytes`);
  }
}

function assertProofHashes(proof: readonly Uint8Array[]): void {
  proof.forEach((h, i) => {
    assertHash(h, `proof[${i}]`);
  });
}

/** Number of hashes in an inclusion proof for (index, size), index < size. */
export function inclusionProofLength(index: number, size: number): number {
  const inner = bitLen(xor(index, size - 1));
  return inner + popcount(shr(index, inner));
}

/** Number of hashes in a consistency proof for 0 < size1 < size2 (0 when equal). */
export function consistencyProofLength(size1: number, size2: number): number {
  if (size1 === size2) return 0;
  const shift = trailingZeros(size1);
  const a = shr(size1 - 1, shift);
  const inner = bitLen(xor(a, shr(size2 - 1, shift)));
  return inner + popcount(shr(a, inner)) + (isPowerOfTwo(size1) ? 0 : 1);
}

/**
 * Root implied by an inclusion proof (RFC 9162 §2.1.3.2 steps 1–5, without the
 * final comparison). Validates inputs; throws on a structurally wrong proof.
 */
export function rootFromInclusionProof(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Uint8Array {
  assertSafeUint(size, 'tree size', 'SIZE_OUT_OF_RANGE');
  assertSafeUint(index, 'leaf index', 'INDEX_OUT_OF_RANGE');
  if (index >= size)
    throw new MerkleError('INDEX_OUT_OF_RANGE', `index ${index} not below tree size ${size}`);
  assertHash(leafHash, 'leaf hash');
  assertProofHashes(proof);
  const want = inclusionProofLength(index, size);
  if (proof.length !== want) {
    throw new MerkleError('BAD_PROOF_SIZE', `inclusion proof has ${proof.length} hashes, want ${want}`);
  }
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) throw new MerkleError('BAD_PROOF_SIZE', 'inclusion proof too long');
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new MerkleError('BAD_PROOF_SIZE', 'inclusion proof too short');
  return r;
}

/** Throws unless `proof` shows that `leafHash` is leaf `index` of the tree of `size` with `root`. */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  assertHash(root, 'root');
  const got = rootFromInclusionProof(leafHash, index, size, proof);
  if (!bytesEqual(got, root)) {
    throw new MerkleError('INCLUSION_PROOF_INVALID', 'inclusion proof does not lead to the root');
  }
}

/**
 * Throws unless `proof` shows that the tree of size1 with root1 is a prefix of the
 * tree of size2 with root2 (RFC 9162 §2.1.4.2).
 *
 * Conventions (shared with transparency-dev/merkle's vectors): a proof from size 0
 * is rejected (it proves nothing); size1 === size2 requires an empty proof and
 * byte-equal roots (the roots are then only compared, not length-checked).
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  assertSafeUint(size1, 'size1', 'SIZE_OUT_OF_RANGE');
  assertSafeUint(size2, 'size2', 'SIZE_OUT_OF_RANGE');
  if (size1 > size2) throw new MerkleError('SIZE_OUT_OF_RANGE', `size1 ${size1} > size2 ${size2}`);
  if (size1 === 0)
    throw new MerkleError('SIZE_OUT_OF_RANGE', 'consistency proof from an empty tree is meaningless');
  if (size1 === size2) {
    if (proof.length !== 0) throw new MerkleError('BAD_PROOF_SIZE', 'equal sizes need an empty proof');
    if (!bytesEqual(root1, root2)) throw new MerkleError('ROOT_MISMATCH', 'equal sizes but different roots');
    return;
  }
  assertHash(root1, 'root1');
  assertHash(root2, 'root2');
  assertProofHashes(proof);
  const want = consistencyProofLength(size1, size2);
  if (proof.length !== want) {
    throw new MerkleError('BAD_PROOF_SIZE', `consistency proof has ${proof.length} hashes, want ${want}`);
  }
  // Step 2: when size1 is a power of two, the old root is the first node of the path.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (let i = 1; i < path.length; i++) {
    const c = path[i] as Uint8Array;
    if (sn === 0) throw new MerkleError('BAD_PROOF_SIZE', 'consistency proof too long');
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new MerkleError('BAD_PROOF_SIZE', 'consistency proof too short');
  if (!bytesEqual(fr, root1) || !bytesEqual(sr, root2)) {
    throw new MerkleError('CONSISTENCY_PROOF_INVALID', 'consistency proof does not reproduce both roots');
  }
}
