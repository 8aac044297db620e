/**
 * Errors for signed notes, checkpoints and verifier keys. Everything that
 * parses or verifies attacker-controlled note text throws only `NoteError`
 * (never a TypeError or RangeError), so callers can map every failure to a
 * stable code: 400 at the API, exit 1 in the verifier.
 */
import { AnchorlogError } from '../errors.ts';

export type NoteErrorCode =
  /** The note is larger than MAX_NOTE_BYTES. */
  | 'NOTE_TOO_LARGE'
  /** Not valid UTF-8 (or a string with lone surrogates). */
  | 'INVALID_UTF8'
  /** An ASCII control character other than newline. */
  | 'CONTROL_CHARACTER'
  /** No blank line separating text and signatures, or text not newline-terminated. */
  | 'MISSING_SEPARATOR'
  /** A signature line is not `— <name> <base64(keyid ‖ sig)>`. */
  | 'MALFORMED_SIGNATURE_LINE'
  /** More than MAX_SIGNATURES signature lines. */
  | 'TOO_MANY_SIGNATURES'
  /** A key name that is empty or holds a space or `+`. */
  | 'INVALID_KEY_NAME'
  /** The note text is not a tlog-checkpoint body. */
  | 'MALFORMED_CHECKPOINT'
  /** A vkey that is not `<name>+<hex id>+<base64(type ‖ key)>`. */
  | 'MALFORMED_VKEY'
  /** A vkey whose key ID does not match its key (it must not be loaded). */
  | 'VKEY_ID_MISMATCH'
  /** A vkey of a signature type this verifier does not implement (0x04, 0x05, …). */
  | 'UNSUPPORTED_KEY_TYPE'
  /** A public key that is not a valid key of its type (bad SPKI, off-curve point). */
  | 'MALFORMED_PUBLIC_KEY'
  /** Two verifiers share key name and key ID: signatures would be ambiguous. */
  | 'DUPLICATE_VERIFIER'
  /** A signature from a known key (name and ID match) failed to verify. */
  | 'INVALID_SIGNATURE'
  /** No signature from any known key verified. */
  | 'NO_TRUSTED_SIGNATURE'
  /** A key the caller required did not sign the note. */
  | 'MISSING_REQUIRED_SIGNATURE'
  /** The checkpoint's origin line is not the one the caller expects. */
  | 'ORIGIN_MISMATCH'
  /**
   * A log checkpoint whose origin is not the name of any trusted key whose
   * signature verified: a key vouches only for the log named like it.
   */
  | 'KEY_NAME_MISMATCH'
  /** PEM text that is not exactly one `PUBLIC KEY` block of strict base64. */
  | 'MALFORMED_PEM'
  /** A signer with an invalid name or key ID, or two signers for the same key. */
  | 'INVALID_SIGNER'
  /** A signer produced a signature that does not verify under its own public key. */
  | 'SIGNER_MISMATCH';

export class NoteError extends AnchorlogError<NoteErrorCode> {}
