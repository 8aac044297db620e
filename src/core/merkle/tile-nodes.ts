/**
 * Serving any perfect-subtree node from hash tiles, so proofs cost O(log n) tile
 * reads (c2sp.org/tlog-tiles, "Merkle Tree": "the Merkle Tree levels between those
 * expressed by the tile hashes are reconstructed by hashing the leaves").
 *
 * Node (level, index) lives in tile level L = floor(level / 8): it is the root of
 * the 2^r tile-level-L hashes starting at index·2^r, r = level mod 8. For r = 0 it
 * is read directly; otherwise up to 2^r − 1 node hashes rebuild it.
 */
import { MerkleError } from './errors.ts';
import { perfectRoot } from './hash-tile.ts';
import { emptyRoot, HASH_SIZE, hashChildren } from './hasher.ts';
import { rangeNodes } from './node-id.ts';
import { assertSafeUint, shl } from './numbers.ts';
import type { NodeOracle, SyncNodeOracle } from './proof-nodes.ts';
import { tileContaining } from './tile-layout.ts';
import { TILE_HEIGHT, TILE_WIDTH, type TileCoord } from './tile-path.ts';

/** Reads the body of hash tile (level, index) of the given width (256 = full). */
export type TileReader = (level: number, index: number, width: number) => Uint8Array | Promise<Uint8Array>;
export type SyncTileReader = (level: number, index: number, width: number) => Uint8Array;

export interface NodeLocation {
  /** The tile to read, with the width it has in the tree of the given size. */
  readonly tile: TileCoord;
  /** First hash of the node's span within the tile. */
  readonly offset: number;
  /** Levels to hash up from the tile's hashes (0..7). */
  readonly height: number;
}

/** Where node (level, index) of the tree of `size` is stored. Throws if it is not a complete subtree. */
export function locateNode(level: number, index: number, size: number): NodeLocation {
  assertSafeUint(size, 'tree size', 'SIZE_OUT_OF_RANGE');
  if (!Number.isInteger(level) || level < 0 || level > 63 || !Number.isSafeInteger(index) || index < 0) {
    throw new MerkleError('NODE_OUT_OF_RANGE', `bad node (${level}, ${index})`);
  }
  if (shl(index + 1, level) > size) {
    throw new MerkleError('NODE_OUT_OF_RANGE', `node (${level}, ${index}) is not complete at size ${size}`);
  }
  const tileLevel = Math.floor(level / TILE_HEIGHT);
  const height = level % TILE_HEIGHT;
  const first = shl(index, height);
  const tile = tileContaining(tileLevel, first, size);
  return { tile, offset: first - tile.index * TILE_WIDTH, height };
}

/**
 * The node at `loc` from the tile body. The body's length is checked against the
 * expected width (tiles are read back from storage); only the 2^height hashes
 * under the node are touched.
 */
export function nodeFromTile(tileBody: Uint8Array, loc: NodeLocation): Uint8Array {
  if (tileBody.length !== loc.tile.width * HASH_SIZE) {
    throw new MerkleError('BAD_TILE', `tile has ${tileBody.length} bytes, expected ${loc.tile.width} hashes`);
  }
  const span = 2 ** loc.height;
  const hashes: Uint8Array[] = [];
  for (let i = loc.offset; i < loc.offset + span; i++)
    hashes.push(tileBody.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  return perfectRoot(hashes, 0, loc.height).slice();
}

const key = (t: TileCoord) => `${t.level}/${t.index}/${t.width}`;

/**
 * A node oracle over tiles for a fixed tree size. Tile reads are cached (and
 * concurrent reads of one tile shared) for the oracle's lifetime: create one per
 * request/proof, not one per process.
 */
export function tileNodeOracle(
  size: number,
  readTile: TileReader,
): (level: number, index: number) => Promise<Uint8Array> {
  const cache = new Map<string, Promise<Uint8Array>>();
  return async (level, index) => {
    const loc = locateNode(level, index, size);
    const k = key(loc.tile);
    let p = cache.get(k);
    if (p === undefined) {
      p = Promise.resolve(readTile(loc.tile.level, loc.tile.index, loc.tile.width));
      cache.set(k, p);
    }
    return nodeFromTile(await p, loc);
  };
}

export function tileNodeOracleSync(size: number, readTile: SyncTileReader): SyncNodeOracle {
  const cache = new Map<string, Uint8Array>();
  return (level, index) => {
    const loc = locateNode(level, index, size);
    const k = key(loc.tile);
    let body = cache.get(k);
    if (body === undefined) {
      body = readTile(loc.tile.level, loc.tile.index, loc.tile.width);
      cache.set(k, body);
    }
    return nodeFromTile(body, loc);
  };
}

/** MTH of the tree of `size` from a node oracle: fold the compact range of [0, size). */
export async function rootFromOracle(size: number, getNode: NodeOracle): Promise<Uint8Array> {
  assertSafeUint(size, 'tree size', 'SIZE_OUT_OF_RANGE');
  if (size === 0) return emptyRoot();
  const ids = rangeNodes(0, size);
  const hs = await Promise.all(ids.map((id) => getNode(id.level, id.index)));
  let r = hs[hs.length - 1] as Uint8Array;
  for (let i = hs.length - 2; i >= 0; i--) r = hashChildren(hs[i] as Uint8Array, r);
  return r;
}
