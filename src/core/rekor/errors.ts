/**
 * Why a Rekor v2 transparency-log entry was refused (docs/anchoring.md §Rekor). Every check of
 * src/core/rekor throws only RekorError; each code names one failed binding, so a tampered
 * entry is reported by what was tampered with.
 */
import { AnchorlogError } from '../errors.ts';

export type RekorErrorCode =
  /** Not a TransparencyLogEntry (JSON shape, base64, numbers), or its body is not a canonical hashedrekord v0.0.2. */
  | 'REKOR_MALFORMED_ENTRY'
  /** The entry's body does not hash the expected data (another checkpoint's digest). */
  | 'REKOR_DIGEST_MISMATCH'
  /** The body's verifier is not the pinned anchor key. */
  | 'REKOR_KEY_MISMATCH'
  /** The body's signature does not verify over its digest with its key. */
  | 'REKOR_SIGNATURE_INVALID'
  /** The inclusion proof does not lead from the body's leaf hash to its root hash. */
  | 'REKOR_INCLUSION_PROOF_INVALID'
  /** The entry's checkpoint is not signed by a pinned Rekor log key (or its signature is bad). */
  | 'REKOR_CHECKPOINT_UNTRUSTED'
  /** The signed checkpoint names another tree (size or root) than the inclusion proof. */
  | 'REKOR_CHECKPOINT_MISMATCH';

export class RekorError extends AnchorlogError<RekorErrorCode> {}
