/**
 * Why an evidence bundle was refused (docs/bundle.md §Verification order and errors). One class, one stable
 * string-union code per distinct failure (the sigstore-js `VerificationError`
 * pattern): the CLI maps every code to exit 1, tests assert class + code,
 * never message text. Everything `verifyBundle` rejects with is a BundleError;
 * lower-level errors (NoteError, MerkleError, TimestampError, RecordError)
 * are kept as `cause`.
 */
import { AnchorlogError } from '../errors.ts';

export type BundleErrorCode =
  /** Not a well-formed ustar archive: bad header, checksum, truncation, trailing garbage, size limits. */
  | 'ARCHIVE_INVALID'
  /** A member's bytes do not match the SHA-256 (or size) the manifest lists. */
  | 'MEMBER_HASH_MISMATCH'
  /** header.json, manifest.json, proofs.json, consistency.json or SHA256SUMS is malformed or inconsistent. */
  | 'MANIFEST_INVALID'
  /** A member the format requires (or the manifest lists) is absent. */
  | 'MISSING_MEMBER'
  /** A member the format does not allow, a path outside it, a duplicate, or a member out of order. */
  | 'UNEXPECTED_MEMBER'
  /** A record is not a valid canonical record, or belongs to another log. */
  | 'RECORD_INVALID'
  /** A record's `prev` is not the leaf hash of the record before it, or records are out of order / duplicated / go back in time. */
  | 'CHAIN_BROKEN'
  /** A record or neighbour is not included under the checkpoint (bad inclusion or range proof). */
  | 'INCLUSION_FAILED'
  /** A checkpoint signature by a known key does not verify, or the note is malformed. */
  | 'CHECKPOINT_SIGNATURE_INVALID'
  /** A checkpoint is signed by no trusted log key, or names another log than the key that signed it. */
  | 'UNTRUSTED_KEY'
  /** The bundle's log (header origin) is not one the caller pinned: no pinned log key is named after it, or it is not in `origins`. */
  | 'ORIGIN_NOT_PINNED'
  /** The checkpoint the proofs use does not cover the records (tree too small). */
  | 'CHECKPOINT_STALE'
  /** Two checkpoints are not consistent (missing or failing consistency proof). */
  | 'CONSISTENCY_FAILED'
  /** An RFC 3161 time-stamp does not verify (status, signature, chain, imprint, …). */
  | 'TIMESTAMP_INVALID'
  /** A time-stamp uses SHA-1 in its imprint, CMS digest or signature: SHA-256 or stronger is required. */
  | 'TIMESTAMP_WEAK_HASH'
  /** No verified time-stamp covers the exported records. */
  | 'TIMESTAMP_MISSING'
  /**
   * A time-stamp's genTime, plus at most MAX_CREDITED_ACCURACY_MS of its accuracy, is earlier than
   * the receivedAt of a record it covers: impossible for an honest TSA (the checkpoint did not exist yet).
   */
  | 'TIMESTAMP_BEFORE_RECORDS'
  /** Fewer distinct TSAs (distinct roots) than the quorum time-stamped a checkpoint covering the records. */
  | 'TIMESTAMP_QUORUM_NOT_MET'
  /**
   * A witness cosignature in attestations.json by a pinned witness (name and key ID) does not
   * verify over the checkpoint it names, or is not one well-formed signature line.
   */
  | 'COSIGNATURE_INVALID'
  /** Fewer pinned witnesses than the witness quorum cosigned any one checkpoint covering the records. */
  | 'WITNESS_QUORUM_NOT_MET'
  /**
   * A Rekor entry in attestations.json, judged against pinned Rekor trust, fails a binding: not
   * this checkpoint's digest, not a pinned anchor key, a bad signature, a broken inclusion proof,
   * or a checkpoint not signed by a pinned Rekor key (the RekorError code is in the message).
   */
  | 'REKOR_ENTRY_INVALID'
  /** A record inside the range is missing: an index gap, or a neighbour that is itself inside the time range. */
  | 'RANGE_INCOMPLETE'
  /** Records or indexes disagree with the declared range or filter (outside the time range, wrong interval). */
  | 'RANGE_MISMATCH'
  /** manifest counts do not match the content. */
  | 'COUNT_MISMATCH'
  /**
   * A record's producer signature does not verify, or names a key the system log did not register
   * to its submitter or that was not active when it was received (docs/producer-signatures.md).
   */
  | 'PRODUCER_SIGNATURE_INVALID'
  /** Trust material given by the caller is unusable (not attacker input). */
  | 'INVALID_TRUST'
  /** keys/log.vkey or keys/log.pem is malformed, misnamed, or the two differ. */
  | 'KEY_INVALID'
  /** The bundle writer was given inconsistent input (writer only). */
  | 'INVALID_INPUT';

export interface BundleErrorDetails {
  /** Log index of the record at fault, when there is one. */
  readonly index?: number;
  /** Archive member at fault, when there is one. */
  readonly member?: string;
  readonly cause?: unknown;
}

export class BundleError extends AnchorlogError<BundleErrorCode> {
  readonly index: number | undefined;
  readonly member: string | undefined;
  constructor(code: BundleErrorCode, message: string, details: BundleErrorDetails = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.index = details.index;
    this.member = details.member;
  }
}
