/**
 * Verifier keys ("vkeys"): `<name>+<hex key ID>+base64(type ‖ key)`.
 * https://c2sp.org/signed-note#verifier-keys
 */
import { bytesEqual, concatBytes, fromBase64, toBase64, toHex } from '../bytes.ts';
import { NoteError } from './errors.ts';
import { isValidKeyName } from './text.ts';
import {
  ecdsaP256Verifier,
  ed25519Verifier,
  type NoteVerifier,
  SIG_TYPE_ECDSA,
  SIG_TYPE_ED25519,
  verifierFromSpki,
} from './verifiers.ts';

const KEY_ID_HEX = /^[0-9a-f]{8}$/;

/**
 * Parses a vkey into a verifier. Refuses (with a code) a vkey whose declared
 * key ID is not the one computed from its key — a verifier built from it could
 * never match an honest signature, so loading it is a configuration error —
 * and signature types we do not implement (UNSUPPORTED_KEY_TYPE), which
 * callers may skip: signatures by such keys are then ignored as unknown.
 */
export function parseVerifierKey(vkey: string): NoteVerifier {
  // The name cannot contain '+', the hex ID cannot either; base64 can, so split twice only.
  const p1 = vkey.indexOf('+');
  const p2 = p1 < 0 ? -1 : vkey.indexOf('+', p1 + 1);
  if (p1 < 0 || p2 < 0) throw new NoteError('MALFORMED_VKEY', 'vkey is not name+id+key');
  const name = vkey.slice(0, p1);
  const idHex = vkey.slice(p1 + 1, p2);
  const keyB64 = vkey.slice(p2 + 1);
  if (!isValidKeyName(name)) throw new NoteError('MALFORMED_VKEY', 'vkey has an invalid key name');
  if (!KEY_ID_HEX.test(idHex))
    throw new NoteError('MALFORMED_VKEY', 'vkey key ID is not 8 lowercase hex digits');
  let key: Uint8Array;
  try {
    key = fromBase64(keyB64);
  } catch (cause) {
    throw new NoteError('MALFORMED_VKEY', 'vkey key is not base64', { cause });
  }
  if (key.length < 2) throw new NoteError('MALFORMED_VKEY', 'vkey key is too short');
  const type = key[0] as number;
  const material = key.subarray(1);
  let verifier: NoteVerifier;
  if (type === SIG_TYPE_ED25519) verifier = ed25519Verifier(name, material);
  else if (type === SIG_TYPE_ECDSA) verifier = ecdsaP256Verifier(name, material);
  else
    throw new NoteError(
      'UNSUPPORTED_KEY_TYPE',
      `vkey signature type 0x${type.toString(16).padStart(2, '0')} is not supported`,
    );
  if (toHex(verifier.keyId) !== idHex)
    throw new NoteError('VKEY_ID_MISMATCH', `vkey ${name}: key ID ${idHex} does not match its key`);
  return verifier;
}

/** The vkey text of a verifier. */
export function formatVerifierKey(v: NoteVerifier): string {
  const type = v.type === 'ed25519' ? SIG_TYPE_ED25519 : SIG_TYPE_ECDSA;
  return `${v.name}+${toHex(v.keyId)}+${toBase64(concatBytes(Uint8Array.of(type), v.publicKey))}`;
}

/**
 * The vkey of a log key given as DER SPKI (what KMS GetPublicKey returns): 0x02 for a P-256
 * key, 0x01 for an Ed25519 key (RFC 8410 SPKI).
 */
export function vkeyFromSpki(name: string, spki: Uint8Array): string {
  return formatVerifierKey(verifierFromSpki(name, spki));
}

/** True iff two verifiers are the same key under the same name. */
export function sameVerifier(a: NoteVerifier, b: NoteVerifier): boolean {
  return (
    a.name === b.name &&
    a.type === b.type &&
    bytesEqual(a.keyId, b.keyId) &&
    bytesEqual(a.publicKey, b.publicKey)
  );
}
