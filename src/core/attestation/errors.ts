/** Why an attestation was refused; the kind's own error (TimestampError, WitnessError, NoteError) is the cause. */
import { AnchorlogError } from '../errors.ts';

export type AttestationErrorCode =
  /** The evidence cannot be read as its kind's format (not one signature line, not DER, …). */
  | 'MALFORMED_EVIDENCE'
  /** The evidence is by a party the caller trusts but does not verify over the checkpoint. */
  | 'BAD_ATTESTATION'
  /** The trust given for a kind is unusable (caller error, not attacker input). */
  | 'INVALID_TRUST';

export class AttestationError extends AnchorlogError<AttestationErrorCode> {}
