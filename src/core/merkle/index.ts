/**
 * RFC 6962 / RFC 9162 Merkle trees and C2SP tlog-tiles for anchorlog's pure core.
 * Re-exports the public API; each concept lives in its own file.
 */
export { CompactRange, type NodeVisitor } from './compact-range.ts';
export { decodeEntryBundle, encodeEntryBundle, MAX_ENTRY_SIZE } from './entry-bundle.ts';
export { MerkleError, type MerkleErrorCode } from './errors.ts';
export { decodeHashTile, encodeHashTile, fullTileRoot, perfectRoot } from './hash-tile.ts';
export { emptyRoot, HASH_SIZE, hashChildren, hashLeaf } from './hasher.ts';
export { coverage, type NodeId, rangeNodes } from './node-id.ts';
export { parseSafeUint } from './numbers.ts';
export { consistencyProof, inclusionProof } from './proof-from-leaves.ts';
export {
  consistencyNodes,
  consistencyProofFromOracle,
  consistencyProofFromSyncOracle,
  inclusionNodes,
  inclusionProofFromOracle,
  inclusionProofFromSyncOracle,
  levelsOracle,
  type NodeOracle,
  type ProofNodes,
  rehash,
  type SyncNodeOracle,
} from './proof-nodes.ts';
export { perfectLevels, rootOf, rootOfRange } from './root.ts';
export {
  checkGrowthPartials,
  type Growth,
  rightEdgeFromTiles,
  type TileWrite,
  tilesForGrowth,
} from './tile-growth.ts';
export { changedTiles, nodesAtTileLevel, partialTiles, tileContaining } from './tile-layout.ts';
export {
  locateNode,
  type NodeLocation,
  nodeFromTile,
  rootFromOracle,
  type SyncTileReader,
  type TileReader,
  tileNodeOracle,
  tileNodeOracleSync,
} from './tile-nodes.ts';
export {
  encodeTileIndex,
  entryBundlePath,
  MAX_TILE_LEVEL,
  type ParsedTilePath,
  parseTilePath,
  TILE_HEIGHT,
  TILE_WIDTH,
  type TileCoord,
  tilePath,
} from './tile-path.ts';
export {
  consistencyProofLength,
  inclusionProofLength,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from './verify.ts';
