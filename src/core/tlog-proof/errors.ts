/**
 * Errors of the tlog-proof core (C2SP tlog-proof, docs/formats.md §tlog-proof
 * files). Parsing and verifying a proof file read attacker-controlled bytes:
 * every failure of the file's own shape is a `TlogProofError` with a stable
 * code; the checks it delegates keep their own classes and codes (NoteError
 * for the checkpoint, MerkleError for the inclusion proof, RecordError for
 * the record), so a tampered proof hash and a forged checkpoint are told apart.
 */
import { AnchorlogError } from '../errors.ts';

export type TlogProofErrorCode =
  /** The first line is not `c2sp.org/tlog-proof@v1` (not a tlog-proof, or another version). */
  | 'NOT_TLOG_PROOF'
  /** A line that is not where the format puts it (extra, index, proof hashes, blank line, checkpoint). */
  | 'MALFORMED_TLOG_PROOF'
  /** Larger than MAX_TLOG_PROOF_BYTES, or more proof hashes than any tree of 2^63 leaves needs. */
  | 'TLOG_PROOF_TOO_LARGE'
  /** No `extra` line: anchorlog's proofs carry the record there, and without it no leaf hash can be computed. */
  | 'RECORD_MISSING'
  /** The record's own index is not the proof's `index` line. */
  | 'RECORD_INDEX_MISMATCH'
  /** The record's log is not the log the checkpoint's origin names. */
  | 'RECORD_LOG_MISMATCH'
  /** The checkpoint verified, but its origin is not one of the origins the caller pinned. */
  | 'ORIGIN_NOT_PINNED'
  /** Fewer pinned witnesses than the quorum cosigned the checkpoint. */
  | 'WITNESS_QUORUM_NOT_MET';

export class TlogProofError extends AnchorlogError<TlogProofErrorCode> {}
