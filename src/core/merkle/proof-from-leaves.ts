/**
 * Proofs computed directly from the full list of leaf hashes, by the recursive
 * definitions of RFC 9162 §2.1.3.1 (PATH) and §2.1.4.1 (SUBPROOF). O(n) hashing per
 * proof: meant for tests, small bundles, and as an independent reference for the
 * node-oracle path in proof-nodes.ts.
 */
import { MerkleError } from './errors.ts';
import { assertSafeUint, splitPoint } from './numbers.ts';
import { rootOfRange } from './root.ts';

// PATH(m, D[begin:end]), appended bottom-up to `out`.
function path(hashes: readonly Uint8Array[], m: number, begin: number, end: number, out: Uint8Array[]): void {
  const n = end - begin;
  if (n <= 1) return;
  const k = splitPoint(n);
  if (m < k) {
    path(hashes, m, begin, begin + k, out);
    out.push(rootOfRange(hashes, begin + k, end));
  } else {
    path(hashes, m - k, begin + k, end, out);
    out.push(rootOfRange(hashes, begin, begin + k));
  }
}

// SUBPROOF(m, D[begin:end], b).
function subproof(
  hashes: readonly Uint8Array[],
  m: number,
  begin: number,
  end: number,
  b: boolean,
  out: Uint8Array[],
): void {
  const n = end - begin;
  if (m === n) {
    if (!b) out.push(rootOfRange(hashes, begin, end));
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    subproof(hashes, m, begin, begin + k, b, out);
    out.push(rootOfRange(hashes, begin + k, end));
  } else {
    subproof(hashes, m - k, begin + k, end, false, out);
    out.push(rootOfRange(hashes, begin, begin + k));
  }
}

/** Inclusion proof of leaf `index` in the tree of the first `size` leaf hashes. */
export function inclusionProof(
  leafHashes: readonly Uint8Array[],
  index: number,
  size: number = leafHashes.length,
): Uint8Array[] {
  assertSafeUint(size, 'tree size', 'SIZE_OUT_OF_RANGE');
  assertSafeUint(index, 'leaf index', 'INDEX_OUT_OF_RANGE');
  if (size > leafHashes.length) throw new MerkleError('SIZE_OUT_OF_RANGE', 'size exceeds the leaves given');
  if (index >= size)
    throw new MerkleError('INDEX_OUT_OF_RANGE', `index ${index} not below tree size ${size}`);
  const out: Uint8Array[] = [];
  path(leafHashes, index, 0, size, out);
  return out;
}

/** Consistency proof between the trees of the first size1 and size2 leaf hashes (0 < size1 ≤ size2). */
export function consistencyProof(
  leafHashes: readonly Uint8Array[],
  size1: number,
  size2: number = leafHashes.length,
): Uint8Array[] {
  assertSafeUint(size1, 'size1', 'SIZE_OUT_OF_RANGE');
  assertSafeUint(size2, 'size2', 'SIZE_OUT_OF_RANGE');
  if (size2 > leafHashes.length) throw new MerkleError('SIZE_OUT_OF_RANGE', 'size2 exceeds the leaves given');
  if (size1 === 0 || size1 > size2) {
    throw new MerkleError('SIZE_OUT_OF_RANGE', `need 0 < size1 <= size2, got ${size1}, ${size2}`);
  }
  const out: Uint8Array[] = [];
  if (size1 < size2) subproof(leafHashes, size1, 0, size2, true, out);
  return out;
}
