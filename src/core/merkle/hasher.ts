/**
 * RFC 6962 §2.1 / RFC 9162 §2.1.1 hashing with domain separation:
 * leaf = SHA-256(0x00 ‖ d), node = SHA-256(0x01 ‖ left ‖ right). The prefixes keep
 * a leaf from ever being confused with an interior node (second-preimage defence).
 */
import { sha256, sha256Into } from '../hash.ts';

export const HASH_SIZE = 32;

// Scratch buffers are reused across calls: hashing is synchronous and single-threaded
// per isolate, so no call can observe another's partially written scratch. The hash
// reads its whole input before anything is written to the output.
const nodeScratch = new Uint8Array(1 + 2 * HASH_SIZE);
nodeScratch[0] = 0x01;
let leafScratch = new Uint8Array(1024);
// Views of leafScratch by input length (index = length + 1), made once each: a
// subarray() per leaf costs ~10% of a 400-byte leaf hash (docs/benchmarks.md §Core).
// Only short inputs are cached, so the cache stays small whatever the callers hash;
// for longer ones a view is cheap next to the hashing.
const MAX_CACHED_VIEW = 8192;
let leafViews: Array<Uint8Array | undefined> = [];

/** SHA-256(0x00 ‖ data): the leaf hash of one record's canonical bytes. */
export function hashLeaf(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(HASH_SIZE);
  hashLeafInto(data, out, 0);
  return out;
}

/** hashLeaf(data) written into out[offset, offset + 32). */
export function hashLeafInto(data: Uint8Array, out: Uint8Array, offset: number): void {
  const n = data.length + 1;
  if (n > leafScratch.length) {
    // Grow to the next power of two; records are ≤ 65,535 bytes so this settles quickly.
    leafScratch = new Uint8Array(2 ** Math.ceil(Math.log2(n)));
    leafViews = [];
  }
  let input = leafViews[n];
  if (input === undefined) {
    input = leafScratch.subarray(0, n);
    if (n <= MAX_CACHED_VIEW) leafViews[n] = input;
  }
  leafScratch[0] = 0x00;
  leafScratch.set(data, 1);
  sha256Into(input, out, offset);
}

/** SHA-256(0x01 ‖ left ‖ right). Both inputs must be 32 bytes (callers validate untrusted ones). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_SIZE);
  return sha256(nodeScratch);
}

const EMPTY_ROOT = sha256(new Uint8Array(0));

/** MTH({}) = SHA-256() — RFC 9162 §2.1.1. Returns a fresh copy. */
export function emptyRoot(): Uint8Array {
  return EMPTY_ROOT.slice();
}
