/**
 * Which tiles exist for a tree size, and which change when the tree grows
 * (c2sp.org/tlog-tiles, "Merkle Tree" and "Partial Tiles").
 *
 * Tile (L, N) holds tree-level 8L nodes N·256 … N·256+255. For tree size s there
 * are c_L = floor(s / 256^L) complete nodes at tree level 8L, hence floor(c_L/256)
 * full tiles and, when c_L mod 256 ≠ 0, one partial tile of that width. Example
 * from the spec: s = 70,000 → 273 full level-0 tiles, a level-0 partial of width
 * 112, one full level-1 tile, a level-1 partial of width 17, a level-2 partial of 1.
 */
import { MerkleError } from './errors.ts';
import { assertSafeUint, shr } from './numbers.ts';
import { TILE_HEIGHT, TILE_WIDTH, type TileCoord } from './tile-path.ts';

/** Complete nodes at tree level 8·level for a tree of `size`. */
export function nodesAtTileLevel(size: number, level: number): number {
  return shr(size, TILE_HEIGHT * level);
}

/** The right-edge partial tiles of a tree of `size`, bottom level first. */
export function partialTiles(size: number): TileCoord[] {
  assertSafeUint(size, 'tree size', 'SIZE_OUT_OF_RANGE');
  const out: TileCoord[] = [];
  for (let level = 0; ; level++) {
    const c = nodesAtTileLevel(size, level);
    if (c === 0) return out;
    if (c % TILE_WIDTH !== 0) out.push({ level, index: Math.floor(c / TILE_WIDTH), width: c % TILE_WIDTH });
  }
}

/** The tile holding node `nodeIndex` of tile level `level` in a tree of `size` (full or partial). */
export function tileContaining(level: number, nodeIndex: number, size: number): TileCoord {
  const c = nodesAtTileLevel(size, level);
  if (nodeIndex >= c)
    throw new MerkleError('NODE_OUT_OF_RANGE', `tile level ${level} has ${c} nodes at size ${size}`);
  const index = Math.floor(nodeIndex / TILE_WIDTH);
  return { level, index, width: Math.min(TILE_WIDTH, c - index * TILE_WIDTH) };
}

/**
 * The hash tiles whose content at newSize differs from oldSize (new full tiles
 * and the new right-edge partials), bottom level first. The sealer writes exactly
 * these; level-0 coordinates are also the entry bundles to write.
 */
export function changedTiles(oldSize: number, newSize: number): TileCoord[] {
  assertSafeUint(oldSize, 'old size', 'SIZE_OUT_OF_RANGE');
  assertSafeUint(newSize, 'new size', 'SIZE_OUT_OF_RANGE');
  if (oldSize > newSize) throw new MerkleError('SIZE_OUT_OF_RANGE', 'a log never shrinks');
  const out: TileCoord[] = [];
  for (let level = 0; ; level++) {
    const cOld = nodesAtTileLevel(oldSize, level);
    const cNew = nodesAtTileLevel(newSize, level);
    // Nothing new at this tile level means nothing new above it either.
    if (cNew === cOld) return out;
    for (let n = Math.floor(cOld / TILE_WIDTH); n * TILE_WIDTH < cNew; n++) {
      out.push({ level, index: n, width: Math.min(TILE_WIDTH, cNew - n * TILE_WIDTH) });
    }
  }
}
