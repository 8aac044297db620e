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
  if (!Number.isSafeInteger(leaf.index) || leaf.index < 0)
    throw new ClassError('CLASS_PROOF_INVALID', 'class leaf index must be a non-negative safe integer');
  if (leaf.leafHash.length !== 32)
    throw new ClassError('CLASS_PROOF_INVALID', 'class leaf hash must be 32 bytes');
  const out = new Uint8Array(CLASS_LEAF_SIZE);
  // uint64 big-endian as two uint32 words (a safe integer's high word fits in
  // 21 bits): no BigInt per leaf, the sealer encodes one per class record.
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(leaf.index / 0x1_0000_0000));
  view.setUint32(4, leaf.index >>> 0);
  out.set(leaf.leafHash, 8);
  return out;
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
