/**
 * Errors for the Merkle area (trees, proofs, tiles). Tests and callers match on
 * `code`, never on message text. Every check on attacker-controlled input (proofs,
 * sizes from query strings, tiles and bundles read back from storage) throws one
 * of these instead of returning a boolean, so a caller cannot forget to look.
 */
import { AnchorlogError } from '../errors.ts';

export type MerkleErrorCode =
  /** An index is negative, not a safe integer, or not below the tree size. */
  | 'INDEX_OUT_OF_RANGE'
  /** A tree size is negative or not a safe integer, or sizes are in the wrong order / zero where not allowed. */
  | 'SIZE_OUT_OF_RANGE'
  /** A hash that must be 32 bytes is not. */
  | 'BAD_HASH_SIZE'
  /** A proof has the wrong number of hashes for its (index, size) or (size1, size2). */
  | 'BAD_PROOF_SIZE'
  /** Inclusion proof does not lead to the given root. */
  | 'INCLUSION_PROOF_INVALID'
  /** Consistency proof does not reproduce both roots. */
  | 'CONSISTENCY_PROOF_INVALID'
  /** Equal tree sizes with different roots. */
  | 'ROOT_MISMATCH'
  /** A (level, index) node that is not a complete subtree of the tree of the given size. */
  | 'NODE_OUT_OF_RANGE'
  /** Serialized compact range (right edge) is malformed or inconsistent. */
  | 'BAD_COMPACT_RANGE'
  /** A tile or entry-bundle path that is not canonical C2SP tlog-tiles syntax. */
  | 'BAD_TILE_PATH'
  /** A hash tile whose length is not width × 32 bytes, or a bad tile coordinate. */
  | 'BAD_TILE'
  /** An entry bundle that is truncated, has trailing bytes, or the wrong entry count. */
  | 'BAD_ENTRY_BUNDLE'
  /** An entry longer than the uint16 length prefix allows (65,535 bytes). */
  | 'ENTRY_TOO_LARGE'
  /** Mismatched inputs from the caller (e.g. leaf count ≠ newSize − oldSize). */
  | 'BAD_ARGUMENT';

export class MerkleError extends AnchorlogError<MerkleErrorCode> {}
