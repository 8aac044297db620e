/** Signed notes, checkpoints and verifier keys (C2SP signed-note, tlog-checkpoint). */
export { type Checkpoint, formatCheckpoint, parseCheckpoint } from './checkpoint.ts';
export { ed25519KeyFromSpki, ed25519Spki, isEd25519Spki } from './der.ts';
export { NoteError, type NoteErrorCode } from './errors.ts';
export { pemToSpki, spkiToPem } from './pem.ts';
export { type NoteSigningKey, signNote } from './sign.ts';
export {
  checkNoteText,
  formatNote,
  formatSignatureLine,
  type NoteSignature,
  type ParsedNote,
  parseNote,
} from './signed-note.ts';
export { isValidKeyName, MAX_NOTE_BYTES, MAX_SIGNATURES } from './text.ts';
export {
  ecdsaKeyId,
  ecdsaP256Verifier,
  ed25519KeyId,
  ed25519Verifier,
  type NoteKeyType,
  type NoteVerifier,
  p256PublicPoint,
  SIG_TYPE_ECDSA,
  SIG_TYPE_ED25519,
  verifierFromSpki,
} from './verifiers.ts';
export {
  checkpointFromNote,
  sameTreeHead,
  type VerifiedCheckpoint,
  type VerifiedNote,
  type VerifyLogCheckpointOptions,
  type VerifyNoteOptions,
  verifyLogCheckpoint,
  verifyNote,
} from './verify.ts';
export { formatVerifierKey, parseVerifierKey, sameVerifier, vkeyFromSpki } from './vkey.ts';
