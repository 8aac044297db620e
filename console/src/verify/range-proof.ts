/**
 * The inclusion proof of one record of a range bundle, derived from what the
 * bundle carries (docs/bundle.md §proofs.json): `left`, the compact range of
 * [0, a) (perfect subtrees, largest first), and the leaves a..b of the range.
 * Together they determine every node of the tree of size b + 1 that an
 * inclusion proof of a leaf in a..b needs (RFC 9162 §2.1.3.1): a sibling that
 * lies wholly in [0, a) is an aligned perfect subtree, so it is one of the
 * compact range's nodes (it cannot be strictly inside one, or the leaf would
 * be too); anything else is hashed from the leaves. The bundle's consistency
 * proof then links that tree to the signed checkpoint, as the verifier did.
 *
 * Pure; the caller has already verified the bundle, so inputs are consistent.
 * Cost: O(b − a) hashes per proof (the subtrees right of the leaf are rebuilt).
 */
import { hashChildren } from '../../../src/core/merkle/index.ts';

export interface RangeLeaves {
  /** First index of the range (a). */
  readonly first: number;
  /** Compact range of [0, first), largest subtree first. */
  readonly left: readonly Uint8Array[];
  /** Leaf hashes of indexes first.., 32 bytes each, in order. */
  readonly leaves: Uint8Array;
  readonly count: number;
}

/** Largest power of two strictly smaller than n (n ≥ 2), RFC 9162's split point. */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export class RangeTree {
  readonly #r: RangeLeaves;
  /** Compact range nodes keyed by `start:size`. */
  readonly #left = new Map<string, Uint8Array>();

  constructor(r: RangeLeaves) {
    this.#r = r;
    let start = 0;
    let rest = r.first;
    for (const node of r.left) {
      let size = 1;
      while (size * 2 <= rest) size *= 2;
      this.#left.set(`${start}:${size}`, node);
      start += size;
      rest -= size;
    }
  }

  /** Size of the tree whose leaves the bundle fixes: b + 1. */
  get size(): number {
    return this.#r.first + this.#r.count;
  }

  leaf(index: number): Uint8Array {
    const o = (index - this.#r.first) * 32;
    return this.#r.leaves.subarray(o, o + 32);
  }

  /** MTH of leaves [start, start + n) of the tree of size b + 1. */
  hash(start: number, n: number): Uint8Array {
    const known = this.#left.get(`${start}:${n}`);
    if (known) return known;
    if (n === 1) {
      if (start < this.#r.first)
        throw new Error(`leaf ${start} is left of the range and not in the compact range`);
      return this.leaf(start);
    }
    const k = split(n);
    return hashChildren(this.hash(start, k), this.hash(start + k, n - k));
  }

  /** RFC 9162 PATH(m, D[start:start+n]), bottom-up. */
  #path(m: number, start: number, n: number): Uint8Array[] {
    if (n <= 1) return [];
    const k = split(n);
    if (m < k) return [...this.#path(m, start, k), this.hash(start + k, n - k)];
    return [...this.#path(m - k, start + k, n - k), this.hash(start, k)];
  }

  /** Inclusion proof of `index` (first ≤ index ≤ b) in the tree of size b + 1. */
  inclusion(index: number): Uint8Array[] {
    return this.#path(index, 0, this.size);
  }

  root(): Uint8Array {
    return this.hash(0, this.size);
  }
}
