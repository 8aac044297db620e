/**
 * The right edge (compact range) of a tree of size n: the roots of the perfect
 * subtrees that [0, n) decomposes into, one per set bit of n, left to right
 * (highest level first). It is all the sealer needs to keep (e.g. in DynamoDB) to
 * append leaves and compute the new root without re-reading old leaves.
 *
 * Invariant: hashes.length === popcount(size) and hashes[i] is node
 * (level_i, index_i) of rangeNodes(0, size)[i].
 */
import { sha256Into } from '../hash.ts';
import { MerkleError } from './errors.ts';
import { emptyRoot, HASH_SIZE, hashChildren } from './hasher.ts';
import { type NodeId, rangeNodes } from './node-id.ts';
import { isSafeUint, popcount } from './numbers.ts';

/**
 * Called for each interior node that becomes complete at a level divisible by the
 * `every` passed to appendMany, bottom up (leaves are not visited: the caller has
 * them). The node's hash is hashes[offset, offset + 32) and is valid only during
 * the call: copy it to keep it.
 */
export type NodeVisitor = (level: number, index: number, hashes: Uint8Array, offset: number) => void;

const FORMAT_VERSION = 0x01;
const HEADER = 1 + 8;

// Flat layout of #buf: [0, SLOTS) is the node-hash input — the RFC 6962 prefix 0x01
// then two children — so merging two subtree roots is one copyWithin (no view, no
// allocation); the subtree roots follow, slot i at SLOTS + 32·i. popcount of a safe
// integer is at most 53, and an append holds one extra slot transiently.
const SLOTS = 1 + 2 * HASH_SIZE;
const MAX_SLOTS = 54;

export class CompactRange {
  #size: number;
  /** Number of subtree roots held: popcount(#size) between calls. */
  #count: number;
  readonly #buf: Uint8Array;
  readonly #nodeInput: Uint8Array;

  private constructor(size: number, roots: Uint8Array) {
    this.#size = size;
    this.#count = roots.length / HASH_SIZE;
    this.#buf = new Uint8Array(SLOTS + MAX_SLOTS * HASH_SIZE);
    this.#buf[0] = 0x01;
    this.#buf.set(roots, SLOTS);
    this.#nodeInput = this.#buf.subarray(0, SLOTS);
  }

  static empty(): CompactRange {
    return new CompactRange(0, new Uint8Array(0));
  }

  /** Build from parts (e.g. read back from storage or rebuilt from tiles); validated. */
  static fromParts(size: number, hashes: readonly Uint8Array[]): CompactRange {
    if (!isSafeUint(size)) throw new MerkleError('BAD_COMPACT_RANGE', 'size must be a safe integer');
    if (hashes.length !== popcount(size)) {
      throw new MerkleError(
        'BAD_COMPACT_RANGE',
        `size ${size} needs ${popcount(size)} hashes, got ${hashes.length}`,
      );
    }
    const roots = new Uint8Array(hashes.length * HASH_SIZE);
    hashes.forEach((h, i) => {
      if (h.length !== HASH_SIZE) throw new MerkleError('BAD_COMPACT_RANGE', 'hash is not 32 bytes');
      roots.set(h, i * HASH_SIZE);
    });
    return new CompactRange(size, roots);
  }

  /** Compact range of the given leaf hashes (convenience; O(n)). */
  static of(leafHashes: readonly Uint8Array[]): CompactRange {
    const r = CompactRange.empty();
    r.appendMany(leafHashes);
    return r;
  }

  get size(): number {
    return this.#size;
  }

  /** The subtree roots, left to right. Copies. */
  hashes(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < this.#count; i++) out.push(this.#slot(i).slice());
    return out;
  }

  /** The node IDs of hashes(), in the same order. */
  nodeIds(): NodeId[] {
    return rangeNodes(0, this.#size);
  }

  clone(): CompactRange {
    return new CompactRange(this.#size, this.#roots());
  }

  /**
   * Appends one leaf hash (trusted, 32 bytes). Merges equal-height subtrees like a
   * binary counter increment: one node hash per trailing 1-bit of the old size, so
   * ~1 node hash per leaf amortised.
   */
  append(leafHash: Uint8Array, visit?: NodeVisitor): void {
    this.appendMany([leafHash], visit);
  }

  /**
   * Appends leaf hashes in order; `visit` (if given) sees every completed interior
   * node at a level divisible by `every` — the sealer passes the tile height to
   * collect the rows of tile levels 1, 2, ….
   */
  appendMany(leafHashes: readonly Uint8Array[], visit?: NodeVisitor, every = 1): void {
    if (!Number.isInteger(every) || every < 1) throw new MerkleError('BAD_ARGUMENT', 'every must be ≥ 1');
    if (this.#size + leafHashes.length > Number.MAX_SAFE_INTEGER)
      throw new MerkleError('SIZE_OUT_OF_RANGE', 'tree is full');
    // All or nothing: check every input before the range changes.
    for (const leaf of leafHashes)
      if (leaf.length !== HASH_SIZE) throw new MerkleError('BAD_HASH_SIZE', 'leaf hash is not 32 bytes');
    const buf = this.#buf;
    const input = this.#nodeInput;
    for (const leaf of leafHashes) {
      let at = SLOTS + this.#count * HASH_SIZE;
      buf.set(leaf, at);
      this.#count++;
      let index = this.#size;
      let level = 0;
      // Invariant: slots [0, #count) are the roots of rangeNodes(0, #size) followed by
      // the pending node (level, index); an odd index means its left sibling is the
      // slot before it, so the two merge into their parent in the lower slot.
      while (index % 2 === 1) {
        this.#count--;
        at -= HASH_SIZE;
        buf.copyWithin(1, at, at + 2 * HASH_SIZE);
        sha256Into(input, buf, at);
        index = (index - 1) / 2;
        level++;
        if (visit !== undefined && level % every === 0) visit(level, index, buf, at);
      }
      this.#size++;
    }
  }

  /**
   * Appends the leaf hashes packed in `leaves` (32 bytes each, in order), as
   * appendMany would, without a view per leaf (the parallel bundle verifier
   * hands over a chunk's leaves as one buffer).
   */
  appendPacked(leaves: Uint8Array): void {
    if (leaves.length % HASH_SIZE !== 0)
      throw new MerkleError('BAD_HASH_SIZE', 'packed leaf hashes are not a multiple of 32 bytes');
    const n = leaves.length / HASH_SIZE;
    if (this.#size + n > Number.MAX_SAFE_INTEGER) throw new MerkleError('SIZE_OUT_OF_RANGE', 'tree is full');
    const buf = this.#buf;
    const input = this.#nodeInput;
    for (let k = 0; k < n; k++) {
      let at = SLOTS + this.#count * HASH_SIZE;
      buf.set(leaves.subarray(k * HASH_SIZE, (k + 1) * HASH_SIZE), at);
      this.#count++;
      let index = this.#size;
      // Same binary-counter merge as appendMany (see its invariant).
      while (index % 2 === 1) {
        this.#count--;
        at -= HASH_SIZE;
        buf.copyWithin(1, at, at + 2 * HASH_SIZE);
        sha256Into(input, buf, at);
        index = (index - 1) / 2;
      }
      this.#size++;
    }
  }

  /** MTH of [0, size): fold the subtree roots from the right. */
  root(): Uint8Array {
    if (this.#count === 0) return emptyRoot();
    let r: Uint8Array = this.#slot(this.#count - 1).slice();
    for (let i = this.#count - 2; i >= 0; i--) r = hashChildren(this.#slot(i), r);
    return r;
  }

  equals(other: CompactRange): boolean {
    if (this.#size !== other.#size) return false;
    const end = SLOTS + this.#count * HASH_SIZE;
    for (let i = SLOTS; i < end; i++) if (this.#buf[i] !== other.#buf[i]) return false;
    return true;
  }

  #slot(i: number): Uint8Array {
    return this.#buf.subarray(SLOTS + i * HASH_SIZE, SLOTS + (i + 1) * HASH_SIZE);
  }

  #roots(): Uint8Array {
    return this.#buf.subarray(SLOTS, SLOTS + this.#count * HASH_SIZE);
  }

  /** version(1) ‖ size (uint64 big-endian) ‖ popcount(size) × 32-byte hashes. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(HEADER + this.#count * HASH_SIZE);
    out[0] = FORMAT_VERSION;
    new DataView(out.buffer).setBigUint64(1, BigInt(this.#size));
    out.set(this.#roots(), HEADER);
    return out;
  }

  /**
   * Parses toBytes() output. Treated as untrusted (a storage row can be corrupted
   * or tampered with): the version, the size range and the exact length are checked.
   */
  static fromBytes(bytes: Uint8Array): CompactRange {
    if (bytes.length < HEADER || bytes[0] !== FORMAT_VERSION) {
      throw new MerkleError('BAD_COMPACT_RANGE', 'unknown compact range format');
    }
    const big = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(1);
    if (big > BigInt(Number.MAX_SAFE_INTEGER))
      throw new MerkleError('BAD_COMPACT_RANGE', 'size exceeds 2^53 - 1');
    const size = Number(big);
    const count = popcount(size);
    if (bytes.length !== HEADER + count * HASH_SIZE) {
      throw new MerkleError('BAD_COMPACT_RANGE', `expected ${count} hashes for size ${size}`);
    }
    return new CompactRange(size, bytes.subarray(HEADER));
  }
}
