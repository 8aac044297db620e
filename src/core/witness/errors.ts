/**
 * Errors of the witness core (C2SP tlog-cosignature, tlog-witness). Like
 * NoteError, everything that parses attacker-controlled witness traffic
 * throws only `WitnessError`, with a stable code.
 */
import { AnchorlogError } from '../errors.ts';

export type WitnessErrorCode =
  /** A cosigner vkey that is not `<name>+<hex id>+base64(0x04 ‖ 32-byte key)`, or whose ID does not match. */
  | 'MALFORMED_COSIGNER_KEY'
  /** A cosignature whose bytes are not `u64 timestamp ‖ 64-byte Ed25519 signature`, or a timestamp ≥ 2^63. */
  | 'MALFORMED_COSIGNATURE'
  /** An add-checkpoint request body that does not follow tlog-witness (old line, proof lines, blank, checkpoint). */
  | 'MALFORMED_REQUEST'
  /** A witness reply that is not what tlog-witness says it must be (409 size body, 200 signature lines). */
  | 'MALFORMED_RESPONSE'
  /** A witness policy that cannot be satisfied or names a witness twice. */
  | 'INVALID_POLICY'
  /** Two cosigners share name and key ID, or two policy witnesses share a public key. */
  | 'DUPLICATE_COSIGNER'
  /** A signing key that is not 32 bytes, or a timestamp that is not a non-negative safe integer. */
  | 'INVALID_SIGNER';

export class WitnessError extends AnchorlogError<WitnessErrorCode> {}
