/**
 * Class-log leaves (docs/formats.md §Class logs): each leaf points at one
 * record of the main log, as exactly 40 bytes —
 *
 *     uint64 big-endian main-log leaf index ‖ 32-byte main-log leaf hash
 *
 * Fixed width so a leaf can be checked by hand (`xxd`) and no length prefix or
 * encoding choice can make two leaves collide. The class log is an RFC 6962
 * tree over these bytes (leaf hash = SHA-256(0x00 ‖ leaf)), stored as C2SP
 * tlog-tiles with the leaves in entry bundles like the main log's records.
 */
import { hashLeaf } from '../merkle/hasher.ts';
import { ClassError } from './errors.ts';

export const CLASS_LEAF_SIZE = 40;

export interface ClassLeaf {
  /** Index of the record in the main log. */
  readonly index: number;
  /** Its main-log leaf hash, SHA-256(0x00 ‖ canonical record). */
  readonly leafHash: Uint8Array;
}

export function encodeClassLeaf(leaf: ClassLeaf): Uint8Array {
  const out = new Uint8Array(CLASS_LEAF_SIZE);
  writeClassLeaf(leaf, out, 0);
  return out;
}

/**
 * encodeClassLeaf of each leaf, as views of one buffer (the sealer encodes
 * every class record of a run: one allocation instead of one per leaf).
 */
export function encodeClassLeaves(leaves: readonly ClassLeaf[]): Uint8Array[] {
  const buf = new Uint8Array(leaves.length * CLASS_LEAF_SIZE);
  return leaves.map((leaf, i) => {
    const at = i * CLASS_LEAF_SIZE;
    writeClassLeaf(leaf, buf, at);
    return buf.subarray(at, at + CLASS_LEAF_SIZE);
  });
}

function writeClassLeaf(leaf: ClassLeaf, out: Uint8Array, at: number): void {
  const index = leaf.index;
  if (!Number.isSafeInteger(index) || index < 0)
    throw new ClassError('CLASS_PROOF_INVALID', 'class leaf index must be a non-negative safe integer');
  if (leaf.leafHash.length !== 32)
    throw new ClassError('CLASS_PROOF_INVALID', 'class leaf hash must be 32 bytes');
  // uint64 big-endian as two uint32 words (a safe integer's high word fits in
  // 21 bits), byte by byte: no BigInt and no DataView per leaf.
  const hi = Math.floor(index / 0x1_0000_0000);
  const lo = index >>> 0;
  out[at] = hi >>> 24;
  out[at + 1] = (hi >>> 16) & 0xff;
  out[at + 2] = (hi >>> 8) & 0xff;
  out[at + 3] = hi & 0xff;
  out[at + 4] = lo >>> 24;
  out[at + 5] = (lo >>> 16) & 0xff;
  out[at + 6] = (lo >>> 8) & 0xff;
  out[at + 7] = lo & 0xff;
  out.set(leaf.leafHash, at + 8);
}

/** Parses attacker-controlled bytes (an archived entry bundle): exact length, safe index. */
export function decodeClassLeaf(bytes: Uint8Array): ClassLeaf {
  if (bytes.length !== CLASS_LEAF_SIZE)
    throw new ClassError(
      'CLASS_PROOF_INVALID',
      `class leaf is ${bytes.length} bytes, not ${CLASS_LEAF_SIZE}`,
    );
  const big = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0);
  if (big > BigInt(Number.MAX_SAFE_INTEGER))
    throw new ClassError('CLASS_PROOF_INVALID', 'class leaf index exceeds 2^53 - 1');
  return { index: Number(big), leafHash: bytes.slice(8) };
}

/** The class-log leaf hash of a main-log record. */
export function classLeafHash(leaf: ClassLeaf): Uint8Array {
  return hashLeaf(encodeClassLeaf(leaf));
}
