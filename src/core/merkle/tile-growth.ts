/**
 * Pure tile writer for the sealer: given the leaf hashes appended since the last
 * sealed size, compute every hash tile that is new or changed, the new right edge
 * and the new root — reading nothing but the right-edge partial tiles of the old
 * tree (at most one per tile level). I/O is passed in, as in tessera's
 * `integrate` which takes `getTiles`.
 *
 * Hashing work: one node hash per completed subtree, done once by the compact
 * range; the visitor picks up every tile-level node (levels 0, 8, 16, …) as it
 * completes, so tiles cost only byte copies on top of building the tree.
 */
import { CompactRange } from './compact-range.ts';
import { MerkleError } from './errors.ts';
import { decodeHashTile, encodeHashTile, perfectRoot } from './hash-tile.ts';
import { HASH_SIZE } from './hasher.ts';
import { rangeNodes } from './node-id.ts';
import { assertSafeUint } from './numbers.ts';
import { nodesAtTileLevel, partialTiles } from './tile-layout.ts';
import type { TileReader } from './tile-nodes.ts';
import { TILE_HEIGHT, TILE_WIDTH, type TileCoord, tilePath } from './tile-path.ts';

export interface TileWrite {
  readonly coord: TileCoord;
  /** tile/<L>/<N>[.p/<W>] */
  readonly path: string;
  readonly bytes: Uint8Array;
}

export interface Growth {
  /** Changed hash tiles, bottom level first, left to right; equals changedTiles(oldSize, newSize). */
  readonly tiles: TileWrite[];
  /** The right edge at newSize (store it to skip the partial-tile reads next time). */
  readonly edge: CompactRange;
  /** MTH at newSize, for the checkpoint. */
  readonly root: Uint8Array;
}

async function readPartials(
  coords: readonly TileCoord[],
  readTile: TileReader,
): Promise<Map<number, Uint8Array[]>> {
  const bodies = await Promise.all(coords.map((c) => readTile(c.level, c.index, c.width)));
  const out = new Map<number, Uint8Array[]>();
  coords.forEach((c, i) => {
    out.set(c.level, decodeHashTile(bodies[i] as Uint8Array, c.width));
  });
  return out;
}

function edgeFromPartials(size: number, partials: Map<number, Uint8Array[]>): CompactRange {
  const hashes: Uint8Array[] = [];
  const coords = partialTiles(size);
  // Highest tile level first: the compact range is ordered left to right.
  for (let i = coords.length - 1; i >= 0; i--) {
    const c = coords[i] as TileCoord;
    const tile = partials.get(c.level) as Uint8Array[];
    for (const id of rangeNodes(0, c.width))
      hashes.push(perfectRoot(tile, id.index * 2 ** id.level, id.level));
  }
  return CompactRange.fromParts(size, hashes);
}

/** Rebuilds the right edge of the tree of `size` from its partial tiles. */
export async function rightEdgeFromTiles(size: number, readTile: TileReader): Promise<CompactRange> {
  const coords = partialTiles(size);
  return edgeFromPartials(size, await readPartials(coords, readTile));
}

/**
 * Tiles to write when the tree grows from oldSize to newSize by `newLeafHashes`.
 * `edge`, if given, must be the right edge at oldSize (e.g. from DynamoDB); without
 * it the edge is rebuilt from the old partial tiles. Deterministic: a retried seal
 * produces byte-identical tiles, which is what makes If-None-Match writes idempotent.
 */
export async function tilesForGrowth(
  oldSize: number,
  newSize: number,
  newLeafHashes: readonly Uint8Array[],
  readTile: TileReader,
  edge?: CompactRange,
): Promise<Growth> {
  assertSafeUint(oldSize, 'old size', 'SIZE_OUT_OF_RANGE');
  assertSafeUint(newSize, 'new size', 'SIZE_OUT_OF_RANGE');
  if (newSize < oldSize) throw new MerkleError('SIZE_OUT_OF_RANGE', 'a log never shrinks');
  if (newLeafHashes.length !== newSize - oldSize) {
    throw new MerkleError(
      'BAD_ARGUMENT',
      `${newLeafHashes.length} leaf hashes for growth ${oldSize} -> ${newSize}`,
    );
  }
  for (const h of newLeafHashes) {
    if (h.length !== HASH_SIZE) throw new MerkleError('BAD_HASH_SIZE', 'leaf hash is not 32 bytes');
  }
  if (edge !== undefined && edge.size !== oldSize) {
    throw new MerkleError('BAD_ARGUMENT', `edge is at size ${edge.size}, not ${oldSize}`);
  }

  // Old partial tiles: those on changing levels always (their hashes are the
  // prefix of the new tile); all of them when the edge must be rebuilt.
  const changing = partialTiles(oldSize).filter(
    (c) => edge === undefined || nodesAtTileLevel(newSize, c.level) > nodesAtTileLevel(oldSize, c.level),
  );
  const partials = await readPartials(changing, readTile);
  const range = edge !== undefined ? edge.clone() : edgeFromPartials(oldSize, partials);

  const fresh: Uint8Array[][] = [];
  range.appendMany(newLeafHashes, (level, _index, hash) => {
    if (level % TILE_HEIGHT !== 0) return;
    const l = level / TILE_HEIGHT;
    let list = fresh[l];
    if (list === undefined) {
      list = [];
      fresh[l] = list;
    }
    list.push(hash);
  });

  const tiles: TileWrite[] = [];
  for (let level = 0; level < fresh.length; level++) {
    const added = fresh[level] ?? [];
    if (added.length === 0) break;
    const cOld = nodesAtTileLevel(oldSize, level);
    const all = (partials.get(level) ?? []).concat(added);
    const first = Math.floor(cOld / TILE_WIDTH);
    for (let k = 0; k * TILE_WIDTH < all.length; k++) {
      const hashes = all.slice(k * TILE_WIDTH, (k + 1) * TILE_WIDTH);
      const coord: TileCoord = { level, index: first + k, width: hashes.length };
      tiles.push({ coord, path: tilePath(level, coord.index, coord.width), bytes: encodeHashTile(hashes) });
    }
  }
  return { tiles, edge: range, root: range.root() };
}
