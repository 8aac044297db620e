import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/core/bytes.ts';
import type { CompactRange } from '../../../src/core/merkle/compact-range.ts';
import { decodeEntryBundle, encodeEntryBundle } from '../../../src/core/merkle/entry-bundle.ts';
import { decodeHashTile, encodeHashTile, fullTileRoot } from '../../../src/core/merkle/hash-tile.ts';
import { hashLeaf } from '../../../src/core/merkle/hasher.ts';
import { inclusionProof } from '../../../src/core/merkle/proof-from-leaves.ts';
import {
  consistencyProofFromOracle,
  inclusionProofFromOracle,
  inclusionProofFromSyncOracle,
  levelsOracle,
} from '../../../src/core/merkle/proof-nodes.ts';
import { perfectLevels, rootOf } from '../../../src/core/merkle/root.ts';
import {
  checkGrowthPartials,
  rightEdgeFromTiles,
  tilesForGrowth,
} from '../../../src/core/merkle/tile-growth.ts';
import { changedTiles, partialTiles } from '../../../src/core/merkle/tile-layout.ts';
import {
  locateNode,
  rootFromOracle,
  tileNodeOracle,
  tileNodeOracleSync,
} from '../../../src/core/merkle/tile-nodes.ts';
import {
  encodeTileIndex,
  entryBundlePath,
  parseTilePath,
  tilePath,
} from '../../../src/core/merkle/tile-path.ts';
import { verifyConsistency, verifyInclusion } from '../../../src/core/merkle/verify.ts';
import { expectMerkleError, expectMerkleRejects, flipBit, syntheticLeaves } from './helpers.ts';

describe('tile paths (c2sp.org/tlog-tiles)', () => {
  it('encodes the spec example and partial widths', () => {
    expect(encodeTileIndex(1234067)).toBe('x001/x234/067');
    expect(tilePath(0, 1234067)).toBe('tile/0/x001/x234/067');
    expect(tilePath(2, 0, 1)).toBe('tile/2/000.p/1');
    expect(tilePath(1, 1, 17)).toBe('tile/1/001.p/17');
    expect(tilePath(0, 273, 112)).toBe('tile/0/273.p/112');
    expect(tilePath(0, 1000)).toBe('tile/0/x001/000');
    expect(entryBundlePath(5, 255)).toBe('tile/entries/005.p/255');
    expect(entryBundlePath(Number.MAX_SAFE_INTEGER)).toBe('tile/entries/x009/x007/x199/x254/x740/991');
  });
  it('rejects bad coordinates', () => {
    expectMerkleError(() => tilePath(64, 0), 'BAD_TILE');
    expectMerkleError(() => tilePath(0, -1), 'BAD_TILE');
    expectMerkleError(() => tilePath(0, 0, 0), 'BAD_TILE');
    expectMerkleError(() => tilePath(0, 0, 257), 'BAD_TILE');
    expectMerkleError(() => tilePath(0, 2 ** 53), 'BAD_TILE');
  });
  it('parse inverts format for any coordinate', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 63 }),
        fc.maxSafeNat(),
        fc.integer({ min: 1, max: 256 }),
        fc.boolean(),
        (level, index, width, entries) => {
          const p = entries ? entryBundlePath(index, width) : tilePath(level, index, width);
          expect(parseTilePath(p)).toEqual({
            kind: entries ? 'entries' : 'hash',
            level: entries ? 0 : level,
            index,
            width,
          });
        },
      ),
    );
  });
  it.each([
    'tile/0/1',
    'tile/0/0001',
    'tile/00/000',
    'tile/64/000',
    'tile/-1/000',
    'tile/0/x000/001',
    'tile/0/x1/001',
    'tile/0/001/x002',
    'tile/0/000.p/0',
    'tile/0/000.p/256',
    'tile/0/000.p/010',
    'tile/0/000.p/',
    'tile/0/000/',
    '/tile/0/000',
    'tile/0/x009/x007/x199/x254/x740/992',
    'tile/0/x018/x446/x744/x073/x709/x551/615',
    'tile/data/000',
    'tile/entries/000.p/256',
    'tile/0/../000',
    `tile/0/${'x001/'.repeat(60)}000`,
  ])('rejects %j', (p) => {
    expectMerkleError(() => parseTilePath(p), 'BAD_TILE_PATH');
  });
});

describe('tile layout', () => {
  it('matches the spec example for size 70,000', () => {
    expect(partialTiles(70_000)).toEqual([
      { level: 0, index: 273, width: 112 },
      { level: 1, index: 1, width: 17 },
      { level: 2, index: 0, width: 1 },
    ]);
    const all = changedTiles(0, 70_000);
    expect(all.filter((t) => t.level === 0 && t.width === 256).length).toBe(273);
    expect(all.filter((t) => t.level === 1 && t.width === 256).length).toBe(1);
    expect(all.filter((t) => t.width < 256)).toEqual(partialTiles(70_000));
  });
  it('size 256 is one full level-0 tile and a level-1 partial of width 1', () => {
    expect(changedTiles(0, 256)).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 1, index: 0, width: 1 },
    ]);
    expect(changedTiles(256, 257)).toEqual([{ level: 0, index: 1, width: 1 }]);
    expect(changedTiles(255, 256)).toEqual(changedTiles(0, 256));
    expect(changedTiles(10, 10)).toEqual([]);
    expectMerkleError(() => changedTiles(11, 10), 'SIZE_OUT_OF_RANGE');
  });
  it('locates nodes in the stratified tiles', () => {
    // Level-8 node 3 is hash 3 of tile (1, 0); level-11 node 1 spans hashes 8..15 of that tile.
    expect(locateNode(8, 3, 70_000)).toEqual({
      tile: { level: 1, index: 0, width: 256 },
      offset: 3,
      height: 0,
    });
    expect(locateNode(11, 1, 70_000)).toEqual({
      tile: { level: 1, index: 0, width: 256 },
      offset: 8,
      height: 3,
    });
    expect(locateNode(16, 0, 70_000)).toEqual({
      tile: { level: 2, index: 0, width: 1 },
      offset: 0,
      height: 0,
    });
    expect(locateNode(3, 8749, 70_000)).toEqual({
      tile: { level: 0, index: 273, width: 112 },
      offset: 104,
      height: 3,
    });
    expectMerkleError(() => locateNode(4, 4375, 70_000), 'NODE_OUT_OF_RANGE');
    expectMerkleError(() => locateNode(17, 0, 70_000), 'NODE_OUT_OF_RANGE');
  });
});

describe('hash tiles and entry bundles', () => {
  it('hash tiles round-trip and are length-checked', () => {
    const hs = syntheticLeaves(3);
    const t = encodeHashTile(hs);
    expect(t.length).toBe(96);
    expect(decodeHashTile(t, 3)).toEqual(hs);
    expectMerkleError(() => decodeHashTile(t, 2), 'BAD_TILE');
    expectMerkleError(() => decodeHashTile(t.subarray(1)), 'BAD_TILE');
    expectMerkleError(() => decodeHashTile(new Uint8Array(0)), 'BAD_TILE');
    expectMerkleError(() => decodeHashTile(new Uint8Array(257 * 32)), 'BAD_TILE');
    expectMerkleError(() => encodeHashTile([]), 'BAD_TILE');
    expectMerkleError(() => encodeHashTile([new Uint8Array(31)]), 'BAD_HASH_SIZE');
    const full = syntheticLeaves(256);
    expect(fullTileRoot(encodeHashTile(full))).toEqual(rootOf(full));
  });
  it('entry bundles round-trip', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 64 }), (entries) => {
        const b = encodeEntryBundle(entries);
        expect(decodeEntryBundle(b, entries.length)).toEqual(entries);
      }),
      { numRuns: 30 },
    );
    const max = new Uint8Array(65535).fill(1);
    expect(decodeEntryBundle(encodeEntryBundle([max]))).toEqual([max]);
  });
  it('reject hostile bundles', () => {
    const good = encodeEntryBundle([utf8('ab'), utf8('cde')]);
    expectMerkleError(() => decodeEntryBundle(good.subarray(0, good.length - 1)), 'BAD_ENTRY_BUNDLE');
    expectMerkleError(() => decodeEntryBundle(new Uint8Array([...good, 0])), 'BAD_ENTRY_BUNDLE');
    expectMerkleError(() => decodeEntryBundle(new Uint8Array([0xff, 0xff, 1, 2])), 'BAD_ENTRY_BUNDLE');
    expectMerkleError(() => decodeEntryBundle(new Uint8Array(0)), 'BAD_ENTRY_BUNDLE');
    expectMerkleError(() => decodeEntryBundle(good, 3), 'BAD_ENTRY_BUNDLE');
    expectMerkleError(() => decodeEntryBundle(new Uint8Array(257 * 2)), 'BAD_ENTRY_BUNDLE');
    expectMerkleError(() => encodeEntryBundle([new Uint8Array(65536)]), 'ENTRY_TOO_LARGE');
    expectMerkleError(() => encodeEntryBundle([]), 'BAD_ENTRY_BUNDLE');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (junk) => {
        try {
          decodeEntryBundle(junk);
        } catch (e) {
          expect((e as { code?: string }).code).toBe('BAD_ENTRY_BUNDLE');
        }
      }),
    );
  });
});

/** An in-memory tile store: what the sealer would put in S3. */
class TileStore {
  readonly tiles = new Map<string, Uint8Array>();
  reads: string[] = [];
  read = (level: number, index: number, width: number): Uint8Array => {
    const p = tilePath(level, index, width);
    this.reads.push(p);
    const t = this.tiles.get(p);
    if (t === undefined) throw new Error(`missing tile ${p}`);
    return t;
  };
}

async function grow(store: TileStore, leaves: Uint8Array[], from: number, to: number, edge?: CompactRange) {
  store.reads = [];
  const g = await tilesForGrowth(from, to, leaves.slice(from, to), store.read, edge);
  expect(g.tiles.map((t) => t.coord)).toEqual(changedTiles(from, to));
  for (const t of g.tiles) {
    const prev = store.tiles.get(t.path);
    if (prev !== undefined) expect(prev).toEqual(t.bytes); // immutable: rewrites are byte-identical
    store.tiles.set(t.path, t.bytes);
  }
  return g;
}

describe('tilesForGrowth and the tile node oracle', () => {
  const N = 70_000;
  const leaves = syntheticLeaves(N, 3);
  const levels = perfectLevels(leaves);
  const leafOracle = levelsOracle(levels);
  const rootAt = (n: number) => rootFromOracle(n, async (l, i) => leafOracle(l, i));

  it('builds the same tiles in any number of steps, reading only right-edge partials', async () => {
    const oneShot = new TileStore();
    const g = await grow(oneShot, leaves, 0, N);
    expect(g.root).toEqual(rootOf(leaves));
    expect(oneShot.reads).toEqual([]);

    const stepped = new TileStore();
    let size = 0;
    let edge: CompactRange | undefined;
    const steps = [1, 254, 255, 256, 300, 64_443, 65_535, 65_536, 65_537, 69_999, N];
    for (const [k, next] of steps.entries()) {
      // Alternate: carry the edge (as from DynamoDB) or rebuild it from tiles.
      const gs = await grow(stepped, leaves, size, next, k % 2 === 0 ? undefined : edge);
      const expectedReads = partialTiles(size)
        .filter((c) => k % 2 === 0 || changedTiles(size, next).some((t) => t.level === c.level))
        .map((c) => tilePath(c.level, c.index, c.width));
      expect(stepped.reads.sort()).toEqual(expectedReads.sort());
      expect(gs.edge.size).toBe(next);
      expect((await rightEdgeFromTiles(next, stepped.read)).equals(gs.edge)).toBe(true);
      size = next;
      edge = gs.edge;
    }
    for (const [p, t] of oneShot.tiles) expect(stepped.tiles.get(p)).toEqual(t);
  });

  it('level-1+ tile hashes are roots of full tiles below; a proof reads O(log n) tiles', async () => {
    const s = new TileStore();
    await grow(s, leaves, 0, N);
    expect(await rootAt(N)).toEqual(rootOf(leaves));
    const l1 = decodeHashTile(s.read(1, 0, 256));
    expect(l1[5]).toEqual(fullTileRoot(s.read(0, 5, 256)));
    expect(l1[5]).toEqual(rootOf(leaves.slice(5 * 256, 6 * 256)));
    expect(decodeHashTile(s.read(2, 0, 1))[0]).toEqual(levels[16]?.[0]);
    s.reads = [];
    await inclusionProofFromOracle(12_345, N, tileNodeOracle(N, s.read));
    expect(new Set(s.reads).size).toBeLessThanOrEqual(6);
  });

  it('roots and proofs from tiles equal those from the leaves, for random and edge sizes', async () => {
    const s = new TileStore();
    const sizes = [1, 2, 255, 256, 257, 511, 65_535, 65_536, 65_537, N];
    const rnd = fc.sample(fc.integer({ min: 1, max: N }), { numRuns: 8, seed: 42 });
    const all = [...new Set([...sizes, ...rnd])].sort((a, b) => a - b);
    let size = 0;
    for (const n of all) {
      await grow(s, leaves, size, n);
      size = n;
      const oracle = tileNodeOracle(n, s.read);
      const root = await rootFromOracle(n, oracle);
      expect(root).toEqual(await rootAt(n));
      for (const i of new Set([0, n - 1, Math.floor(n / 3)])) {
        const p = await inclusionProofFromOracle(i, n, oracle);
        expect(p).toEqual(inclusionProofFromSyncOracle(i, n, leafOracle));
        verifyInclusion(leaves[i] as Uint8Array, i, n, p, root);
      }
      for (const m of new Set([1, Math.max(1, n >> 1), n])) {
        const p = await consistencyProofFromOracle(m, n, oracle);
        verifyConsistency(m, n, p, await rootAt(m), root);
      }
    }
    // Partial tiles of earlier sizes remain readable, so proofs for old sizes still work.
    const old = tileNodeOracleSync(257, s.read);
    expect(inclusionProofFromSyncOracle(100, 257, old)).toEqual(inclusionProof(leaves, 100, 257));
  });

  it('rejects bad growth input and corrupt tiles', async () => {
    const s = new TileStore();
    await grow(s, leaves, 0, 300);
    await expectMerkleRejects(tilesForGrowth(300, 302, leaves.slice(300, 301), s.read), 'BAD_ARGUMENT');
    await expectMerkleRejects(tilesForGrowth(300, 299, [], s.read), 'SIZE_OUT_OF_RANGE');
    await expectMerkleRejects(tilesForGrowth(300, 301, [new Uint8Array(5)], s.read), 'BAD_HASH_SIZE');
    const edge = (await tilesForGrowth(0, 10, leaves.slice(0, 10), s.read)).edge;
    await expectMerkleRejects(tilesForGrowth(300, 301, leaves.slice(300, 301), s.read, edge), 'BAD_ARGUMENT');
    const corrupt = (l: number, i: number, w: number) => s.read(l, i, w).subarray(32);
    await expectMerkleRejects(tilesForGrowth(300, 301, leaves.slice(300, 301), corrupt), 'BAD_TILE');
    // With a stored edge only the changing level's partial tile is read; it is still length-checked.
    const edgeAt300 = (await tilesForGrowth(0, 300, leaves.slice(0, 300), s.read)).edge;
    await expectMerkleRejects(
      tilesForGrowth(300, 301, leaves.slice(300, 301), corrupt, edgeAt300),
      'BAD_TILE',
    );
    await expectMerkleRejects(tileNodeOracle(300, corrupt)(0, 299), 'BAD_TILE');
    await expectMerkleRejects(tileNodeOracle(300, s.read)(0, 300), 'NODE_OUT_OF_RANGE');
  });

  it('checkGrowthPartials reads only the changing partials and finds any that disagree with the edge', async () => {
    const s = new TileStore();
    const sizes = [1, 255, 257, 300, 65_535, 65_793, N - 1];
    let size = 0;
    for (const n of sizes) {
      const g = await grow(s, leaves, size, n);
      size = n;
      for (const next of new Set([n, n + 1, n + 256, n + 70_000])) {
        s.reads = [];
        await checkGrowthPartials(g.edge, next, s.read);
        // Exactly the partial tiles tilesForGrowth copies from with a stored edge.
        const want = partialTiles(n)
          .filter((c) => changedTiles(n, next).some((t) => t.level === c.level))
          .map((c) => tilePath(c.level, c.index, c.width));
        expect(s.reads.sort()).toEqual(want.sort());
        // Any flipped bit in a tile it reads is found.
        for (const p of want) {
          const good = s.tiles.get(p) as Uint8Array;
          for (const bit of [0, good.length * 8 - 1, (good.length * 8) >> 1]) {
            s.tiles.set(p, flipBit(good, bit));
            await expectMerkleRejects(checkGrowthPartials(g.edge, next, s.read), 'ROOT_MISMATCH');
          }
          s.tiles.set(p, good);
        }
      }
    }
    // An edge of another tree (same size) is refused; a short tile is BAD_TILE.
    const other = await tilesForGrowth(0, 300, syntheticLeaves(300, 9), () => new Uint8Array(0));
    const s300 = new TileStore();
    await grow(s300, leaves, 0, 300);
    await expectMerkleRejects(checkGrowthPartials(other.edge, 301, s300.read), 'ROOT_MISMATCH');
    const edge300 = (await tilesForGrowth(0, 300, leaves.slice(0, 300), s300.read)).edge;
    await expectMerkleRejects(
      checkGrowthPartials(edge300, 301, (l, i, w) => s300.read(l, i, w).subarray(32)),
      'BAD_TILE',
    );
    await expectMerkleRejects(checkGrowthPartials(edge300, 299, s300.read), 'SIZE_OUT_OF_RANGE');
  });

  it('leaf hashes from entry bundles match the level-0 tile', async () => {
    const records = Array.from({ length: 300 }, (_, i) => utf8(`{"index":${i}}`));
    const hashes = records.map(hashLeaf);
    const s = new TileStore();
    const g = await grow(s, hashes, 0, 300);
    const bundle = decodeEntryBundle(encodeEntryBundle(records.slice(256)), 44);
    expect(encodeHashTile(bundle.map(hashLeaf))).toEqual(
      g.tiles.find((t) => t.path === 'tile/0/001.p/44')?.bytes,
    );
  });
});
