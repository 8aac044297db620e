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
import { bytesEqual } from '../bytes.ts';
import { CompactRange } from './compact-range.ts';
import { MerkleError } from './errors.ts';
import { checkHashTile, decodeHashTile, perfectRoot } from './hash-tile.ts';
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

/** Old partial tile bodies by tile level, length-checked against their width. */
async function readPartials(
  coords: readonly TileCoord[],
  readTile: TileReader,
): Promise<Map<number, Uint8Array>> {
  const bodies = await Promise.all(coords.map((c) => readTile(c.level, c.index, c.width)));
  const out = new Map<number, Uint8Array>();
  coords.forEach((c, i) => {
    const body = bodies[i] as Uint8Array;
    checkHashTile(body, c.width);
    out.set(c.level, body);
  });
  return out;
}

function edgeFromPartials(size: number, partials: Map<number, Uint8Array>): CompactRange {
  const hashes: Uint8Array[] = [];
  const coords = partialTiles(size);
  // Highest tile level first: the compact range is ordered left to right.
  for (let i = coords.length - 1; i >= 0; i--) {
    const c = coords[i] as TileCoord;
    const tile = decodeHashTile(partials.get(c.level) as Uint8Array, c.width);
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
 * Checks, against a trusted right edge, the old partial tiles that growing the
 * tree from `edge.size` to `newSize` reads: those on tile levels that change,
 * whose hashes tilesForGrowth copies into the new tiles. Each must give the
 * edge's subtree roots at its level (edge order: highest tile level first,
 * each partial's perfect subtrees left to right, as edgeFromPartials builds
 * it). Needed when the edge was not rebuilt from these tiles (a stored edge):
 * tilesForGrowth computes the root from the edge alone, so a partial tile that
 * disagrees with it would otherwise be copied into new tiles under a correct
 * root. Partials on levels that do not change are not read. Throws MerkleError
 * ROOT_MISMATCH (BAD_TILE for a body of the wrong length).
 */
export async function checkGrowthPartials(
  edge: CompactRange,
  newSize: number,
  readTile: TileReader,
): Promise<void> {
  const oldSize = edge.size;
  assertSafeUint(newSize, 'new size', 'SIZE_OUT_OF_RANGE');
  if (newSize < oldSize) throw new MerkleError('SIZE_OUT_OF_RANGE', 'a log never shrinks');
  const all = partialTiles(oldSize);
  const changing = all.filter((c) => nodesAtTileLevel(newSize, c.level) > nodesAtTileLevel(oldSize, c.level));
  if (changing.length === 0) return;
  const partials = await readPartials(changing, readTile);
  const hashes = edge.hashes();
  let at = 0;
  for (let i = all.length - 1; i >= 0; i--) {
    const c = all[i] as TileCoord;
    const ids = rangeNodes(0, c.width);
    const body = partials.get(c.level);
    if (body !== undefined) {
      const tile = decodeHashTile(body, c.width);
      ids.forEach((id, j) => {
        if (!bytesEqual(perfectRoot(tile, id.index * 2 ** id.level, id.level), hashes[at + j] as Uint8Array))
          throw new MerkleError(
            'ROOT_MISMATCH',
            `partial tile ${tilePath(c.level, c.index, c.width)} disagrees with the right edge at size ${oldSize}`,
          );
      });
    }
    at += ids.length;
  }
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

  // One flat row per changed tile level: the old partial tile's hashes (the prefix
  // of the first changed tile), then room for every node this growth completes at
  // that level. The compact range visits each tile-level node exactly once, as it
  // completes, so the rows fill left to right with no further hashing.
  const rows: Uint8Array[] = [];
  const rowStart: number[] = [];
  const expected: number[] = [];
  for (let level = 0; ; level++) {
    const cOld = nodesAtTileLevel(oldSize, level);
    const cNew = nodesAtTileLevel(newSize, level);
    if (cNew === cOld) break; // nothing new here means nothing new above
    const first = Math.floor(cOld / TILE_WIDTH) * TILE_WIDTH;
    const row = new Uint8Array((cNew - first) * HASH_SIZE);
    const prefix = partials.get(level);
    if (cOld > first) row.set(prefix as Uint8Array, 0);
    rows.push(row);
    rowStart.push(first);
    expected.push(cNew - cOld);
  }
  const seen = expected.map(() => 0);
  // Tile level 0 is the leaf hashes themselves.
  const row0 = rows[0];
  if (row0 !== undefined) {
    const at0 = (oldSize - (rowStart[0] as number)) * HASH_SIZE;
    newLeafHashes.forEach((h, i) => {
      row0.set(h, at0 + i * HASH_SIZE);
    });
    seen[0] = newLeafHashes.length;
  }
  range.appendMany(
    newLeafHashes,
    (level, index, hashes, offset) => {
      const l = level / TILE_HEIGHT;
      const row = rows[l] as Uint8Array;
      const at = (index - (rowStart[l] as number)) * HASH_SIZE;
      for (let i = 0; i < HASH_SIZE; i++) row[at + i] = hashes[offset + i] as number;
      seen[l] = (seen[l] as number) + 1;
    },
    TILE_HEIGHT,
  );
  // Internal consistency: every slot after the old prefix was written exactly once.
  if (seen.some((n, l) => n !== expected[l]))
    throw new MerkleError('BAD_ARGUMENT', 'tile rows incomplete after growth (internal error)');

  const tiles: TileWrite[] = [];
  rows.forEach((row, level) => {
    const first = (rowStart[level] as number) / TILE_WIDTH;
    const count = row.length / HASH_SIZE;
    for (let k = 0; k * TILE_WIDTH < count; k++) {
      const width = Math.min(TILE_WIDTH, count - k * TILE_WIDTH);
      const coord: TileCoord = { level, index: first + k, width };
      const bytes = row.slice(k * TILE_WIDTH * HASH_SIZE, (k * TILE_WIDTH + width) * HASH_SIZE);
      tiles.push({ coord, path: tilePath(level, coord.index, width), bytes });
    }
  });
  return { tiles, edge: range, root: range.root() };
}
