/**
 * Hash tile bodies: the concatenation of `width` 32-byte hashes
 * (c2sp.org/tlog-tiles, "Merkle Tree"). Tiles come back from storage or over
 * HTTP, so decoding checks the exact length for the expected width.
 */
import { MerkleError } from './errors.ts';
import { HASH_SIZE, hashChildren } from './hasher.ts';
import { TILE_HEIGHT, TILE_WIDTH } from './tile-path.ts';

export function encodeHashTile(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length < 1 || hashes.length > TILE_WIDTH) {
    throw new MerkleError('BAD_TILE', `a tile holds 1..${TILE_WIDTH} hashes, got ${hashes.length}`);
  }
  const out = new Uint8Array(hashes.length * HASH_SIZE);
  hashes.forEach((h, i) => {
    if (h.length !== HASH_SIZE) throw new MerkleError('BAD_HASH_SIZE', 'tile hash is not 32 bytes');
    out.set(h, i * HASH_SIZE);
  });
  return out;
}

/**
 * Checks a tile body's length — 1..256 whole hashes, exactly `expectedWidth` of
 * them when given — and returns its width.
 */
export function checkHashTile(bytes: Uint8Array, expectedWidth?: number): number {
  if (bytes.length === 0 || bytes.length % HASH_SIZE !== 0 || bytes.length > TILE_WIDTH * HASH_SIZE) {
    throw new MerkleError('BAD_TILE', `tile body of ${bytes.length} bytes is not 1..256 hashes`);
  }
  const width = bytes.length / HASH_SIZE;
  if (expectedWidth !== undefined && width !== expectedWidth) {
    throw new MerkleError('BAD_TILE', `tile has ${width} hashes, expected ${expectedWidth}`);
  }
  return width;
}

/**
 * Splits a tile body into hashes (views into `bytes`, not copies), after
 * checkHashTile.
 */
export function decodeHashTile(bytes: Uint8Array, expectedWidth?: number): Uint8Array[] {
  const width = checkHashTile(bytes, expectedWidth);
  const out: Uint8Array[] = [];
  for (let i = 0; i < width; i++) out.push(bytes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  return out;
}

/**
 * Root of the perfect subtree over hashes[begin, begin + 2^height): the node
 * `height` levels above those hashes. Used to read non-tile-level nodes out of a
 * tile and to compute a full tile's entry in the tile level above.
 */
export function perfectRoot(hashes: readonly Uint8Array[], begin: number, height: number): Uint8Array {
  if (height === 0) return hashes[begin] as Uint8Array;
  let level: Uint8Array[] = [];
  const end = begin + 2 ** height;
  for (let i = begin; i < end; i += 2)
    level.push(hashChildren(hashes[i] as Uint8Array, hashes[i + 1] as Uint8Array));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(hashChildren(level[i] as Uint8Array, level[i + 1] as Uint8Array));
    level = next;
  }
  return level[0] as Uint8Array;
}

/** The hash a full tile contributes to the tile level above: MTH of its 256 hashes. */
export function fullTileRoot(tile: Uint8Array): Uint8Array {
  return perfectRoot(decodeHashTile(tile, TILE_WIDTH), 0, TILE_HEIGHT);
}
