/**
 * The right edge (compact range) of a tree of size n: the roots of the perfect
 * subtrees that [0, n) decomposes into, one per set bit of n, left to right
 * (highest level first). It is all the sealer needs to keep (e.g. in DynamoDB) to
 * append leaves and compute the new root without re-reading old leaves.
 *
 * Invariant: hashes.length === popcount(size) and hashes[i] is node
 * (level_i, index_i) of rangeNodes(0, size)[i].
 */
import { bytesEqual } from '../bytes.ts';
import { MerkleError } from './errors.ts';
import { emptyRoot, HASH_SIZE, hashChildren } from './hasher.ts';
import { type NodeId, rangeNodes } from './node-id.ts';
import { isSafeUint, popcount } from './numbers.ts';

/** Called for every node that becomes complete, leaves included (level 0), bottom up. */
export type NodeVisitor = (level: number, index: number, hash: Uint8Array) => void;

const FORMAT_VERSION = 0x01;
const HEADER = 1 + 8;

export class CompactRange {
  #size: number;
  readonly #hashes: Uint8Array[];

  private constructor(size: number, hashes: Uint8Array[]) {
    this.#size = size;
    this.#hashes = hashes;
  }

  static empty(): CompactRange {
    return new CompactRange(0, []);
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
    for (const h of hashes) {
      if (h.length !== HASH_SIZE) throw new MerkleError('BAD_COMPACT_RANGE', 'hash is not 32 bytes');
    }
    return new CompactRange(
      size,
      hashes.map((h) => h.slice()),
    );
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
    return this.#hashes.map((h) => h.slice());
  }

  /** The node IDs of hashes(), in the same order. */
  nodeIds(): NodeId[] {
    return rangeNodes(0, this.#size);
  }

  clone(): CompactRange {
    return new CompactRange(this.#size, this.#hashes.slice());
  }

  /**
   * Appends one leaf hash (trusted, 32 bytes). Merges equal-height subtrees like a
   * binary counter increment: one node hash per trailing 1-bit of the old size, so
   * ~1 node hash per leaf amortised.
   */
  append(leafHash: Uint8Array, visit?: NodeVisitor): void {
    if (this.#size >= Number.MAX_SAFE_INTEGER) throw new MerkleError('SIZE_OUT_OF_RANGE', 'tree is full');
    let index = this.#size;
    let hash = leafHash;
    let level = 0;
    visit?.(0, index, hash);
    while (index % 2 === 1) {
      const left = this.#hashes.pop() as Uint8Array;
      hash = hashChildren(left, hash);
      index = (index - 1) / 2;
      level++;
      visit?.(level, index, hash);
    }
    this.#hashes.push(hash);
    this.#size++;
  }

  appendMany(leafHashes: readonly Uint8Array[], visit?: NodeVisitor): void {
    for (const h of leafHashes) this.append(h, visit);
  }

  /** MTH of [0, size): fold the subtree roots from the right. */
  root(): Uint8Array {
    const hs = this.#hashes;
    if (hs.length === 0) return emptyRoot();
    let r = hs[hs.length - 1] as Uint8Array;
    for (let i = hs.length - 2; i >= 0; i--) r = hashChildren(hs[i] as Uint8Array, r);
    return r.slice();
  }

  equals(other: CompactRange): boolean {
    return (
      this.#size === other.#size &&
      this.#hashes.every((h, i) => bytesEqual(h, other.#hashes[i] as Uint8Array))
    );
  }

  /** version(1) ‖ size (uint64 big-endian) ‖ popcount(size) × 32-byte hashes. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(HEADER + this.#hashes.length * HASH_SIZE);
    out[0] = FORMAT_VERSION;
    new DataView(out.buffer).setBigUint64(1, BigInt(this.#size));
    this.#hashes.forEach((h, i) => {
      out.set(h, HEADER + i * HASH_SIZE);
    });
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
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < count; i++)
      hashes.push(bytes.slice(HEADER + i * HASH_SIZE, HEADER + (i + 1) * HASH_SIZE));
    return new CompactRange(size, hashes);
  }
}
