/**
 * C2SP tlog-cosignature, Ed25519 `cosignature/v1` (signature type 0x04).
 * Implemented from https://c2sp.org/tlog-cosignature (C2SP/C2SP main at
 * 01194db, 2026-06-03; the Ed25519 part is unchanged since tag
 * tlog-cosignature/v1.0.1). ML-DSA-44 cosignatures (type 0x06) are not
 * implemented; a line with such a key is ignored as unknown.
 *
 * Format (§Format): a note signature line `— <name> base64(keyID ‖ sig)`
 * where keyID = SHA-256(name ‖ "\n" ‖ 0x04 ‖ pubkey)[:4] and
 * sig = u64 big-endian timestamp ‖ 64-byte Ed25519 signature.
 *
 * Signed message (§Ed25519 signed message):
 *
 *     cosignature/v1\n
 *     time <timestamp>\n
 *     <the whole checkpoint note text, final newline included>
 *
 * The message does not commit to the cosigner name, so one Ed25519 key MUST
 * NOT serve two cosigners (checked by `checkCosigners`).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesEqual, concatBytes, fromBase64, toBase64, toHex, utf8 } from '../bytes.ts';
import { sha256 } from '../hash.ts';
import type { NoteSignature } from '../note/signed-note.ts';
import { isValidKeyName } from '../note/text.ts';
import { WitnessError } from './errors.ts';

export const SIG_TYPE_COSIGNATURE_V1 = 0x04;
/** u64 timestamp + Ed25519 signature. */
export const COSIGNATURE_V1_BYTES = 8 + 64;
/** §Format: the timestamp "MUST NOT exceed 2^63 - 1"; we also keep it a safe JS integer. */
const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER;

/** A witness (cosigner) public key, as a verifier of its cosignatures. */
export interface Cosigner {
  /** The key name: the cosigner's identity on signature lines (a schema-less URL, by convention). */
  readonly name: string;
  readonly keyId: Uint8Array;
  /** 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

/** A cosignature that verified: who, and the time it states (POSIX seconds). */
export interface VerifiedCosignature {
  readonly cosigner: Cosigner;
  readonly timestamp: number;
}

/** keyID = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ 32-byte public key)[:4]. */
export function cosignerKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8(name), Uint8Array.of(0x0a, SIG_TYPE_COSIGNATURE_V1), publicKey)).slice(0, 4);
}

/** A cosigner from its name and 32-byte Ed25519 public key. */
export function cosigner(name: string, publicKey: Uint8Array): Cosigner {
  if (!isValidKeyName(name)) throw new WitnessError('MALFORMED_COSIGNER_KEY', 'invalid cosigner name');
  if (publicKey.length !== 32 || !ed25519.utils.isValidPublicKey(publicKey, false))
    throw new WitnessError('MALFORMED_COSIGNER_KEY', `cosigner ${name}: not a valid Ed25519 public key`);
  const key = publicKey.slice();
  return { name, keyId: cosignerKeyId(name, key), publicKey: key };
}

const KEY_ID_HEX = /^[0-9a-f]{8}$/;

/**
 * Parses a cosigner vkey `<name>+<hex key ID>+base64(0x04 ‖ key)`
 * (tlog-cosignature §Format: "MAY be encoded as vkeys with signature type
 * 0x04"). A declared key ID that is not the computed one is refused: such a
 * key could never match an honest cosignature.
 */
export function parseCosignerKey(vkey: string): Cosigner {
  const p1 = vkey.indexOf('+');
  const p2 = p1 < 0 ? -1 : vkey.indexOf('+', p1 + 1);
  if (p1 < 0 || p2 < 0) throw new WitnessError('MALFORMED_COSIGNER_KEY', 'vkey is not name+id+key');
  const name = vkey.slice(0, p1);
  const idHex = vkey.slice(p1 + 1, p2);
  if (!KEY_ID_HEX.test(idHex))
    throw new WitnessError('MALFORMED_COSIGNER_KEY', 'vkey key ID is not 8 lowercase hex digits');
  let key: Uint8Array;
  try {
    key = fromBase64(vkey.slice(p2 + 1));
  } catch (cause) {
    throw new WitnessError('MALFORMED_COSIGNER_KEY', 'vkey key is not base64', { cause });
  }
  if (key[0] !== SIG_TYPE_COSIGNATURE_V1 || key.length !== 33)
    throw new WitnessError(
      'MALFORMED_COSIGNER_KEY',
      'not a cosignature/v1 vkey (type 0x04 followed by a 32-byte Ed25519 key)',
    );
  const c = cosigner(name, key.subarray(1));
  if (toHex(c.keyId) !== idHex)
    throw new WitnessError('MALFORMED_COSIGNER_KEY', `vkey ${name}: key ID ${idHex} does not match its key`);
  return c;
}

export function formatCosignerKey(c: Cosigner): string {
  return `${c.name}+${toHex(c.keyId)}+${toBase64(concatBytes(Uint8Array.of(SIG_TYPE_COSIGNATURE_V1), c.publicKey))}`;
}

/** The cosigner of a 32-byte Ed25519 secret key (seed). */
export function cosignerFromSecret(name: string, secretKey: Uint8Array): Cosigner {
  if (secretKey.length !== 32)
    throw new WitnessError('INVALID_SIGNER', 'Ed25519 secret key must be 32 bytes');
  return cosigner(name, ed25519.getPublicKey(secretKey));
}

/** The bytes a cosignature/v1 signs: header, time line, then the checkpoint note text. */
export function cosignedMessage(noteText: string, timestamp: number): Uint8Array {
  checkTimestamp(timestamp);
  if (!noteText.endsWith('\n')) throw new WitnessError('INVALID_SIGNER', 'note text must end in a newline');
  return utf8(`cosignature/v1\ntime ${timestamp}\n${noteText}`);
}

function checkTimestamp(t: number): void {
  if (!Number.isSafeInteger(t) || t < 0 || t > MAX_TIMESTAMP)
    throw new WitnessError('INVALID_SIGNER', 'timestamp must be a non-negative safe integer');
}

/**
 * Signs `noteText` (a checkpoint body, final newline included) as of
 * `timestamp` (POSIX seconds) and returns the note signature to append.
 */
export function signCosignature(
  name: string,
  secretKey: Uint8Array,
  noteText: string,
  timestamp: number,
): NoteSignature {
  const c = cosignerFromSecret(name, secretKey);
  const sig = ed25519.sign(cosignedMessage(noteText, timestamp), secretKey);
  const ts = new Uint8Array(8);
  new DataView(ts.buffer).setBigUint64(0, BigInt(timestamp));
  return { name: c.name, keyId: c.keyId, signature: concatBytes(ts, sig) };
}

/**
 * Splits `u64 timestamp ‖ 64-byte signature`. Throws MALFORMED_COSIGNATURE
 * for another length or a timestamp beyond 2^53 − 1 (which also covers the
 * spec's 2^63 − 1 bound).
 */
export function splitCosignature(signature: Uint8Array): { timestamp: number; signature: Uint8Array } {
  if (signature.length !== COSIGNATURE_V1_BYTES)
    throw new WitnessError('MALFORMED_COSIGNATURE', `cosignature is ${signature.length} bytes, want 72`);
  const t = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0);
  if (t > BigInt(MAX_TIMESTAMP))
    throw new WitnessError('MALFORMED_COSIGNATURE', 'cosignature timestamp is out of range');
  return { timestamp: Number(t), signature: signature.subarray(8) };
}

/** True iff `sig` is a signature line of this cosigner (name and key ID both match). */
export function isLineOf(c: Cosigner, sig: NoteSignature): boolean {
  return sig.name === c.name && bytesEqual(sig.keyId, c.keyId);
}

/**
 * Verifies one cosignature line by `c` over `noteText`. Returns the
 * timestamp it states, or undefined when it does not verify (wrong length,
 * bad signature, out-of-range time). Never throws on hostile input. The
 * caller matched the line to `c` by name and key ID.
 */
export function verifyCosignature(c: Cosigner, noteText: string, sig: NoteSignature): number | undefined {
  if (!isLineOf(c, sig)) return undefined;
  let parts: { timestamp: number; signature: Uint8Array };
  try {
    parts = splitCosignature(sig.signature);
  } catch {
    return undefined;
  }
  try {
    // zip215: false = strict RFC 8032 (canonical encodings only), as for 0x01 keys.
    const ok = ed25519.verify(parts.signature, cosignedMessage(noteText, parts.timestamp), c.publicKey, {
      zip215: false,
    });
    return ok ? parts.timestamp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Throws DUPLICATE_COSIGNER when two cosigners share (name, key ID) or an
 * Ed25519 key (§Ed25519 signed message: the message does not commit to the
 * name, so a key shared by two cosigners would let one's signature count as
 * the other's).
 */
export function checkCosigners(cosigners: readonly Cosigner[]): void {
  const ids = new Set<string>();
  const keys = new Set<string>();
  for (const c of cosigners) {
    const id = `${c.name}+${toHex(c.keyId)}`;
    const key = toHex(c.publicKey);
    if (ids.has(id)) throw new WitnessError('DUPLICATE_COSIGNER', `cosigner ${id} is listed twice`);
    if (keys.has(key))
      throw new WitnessError('DUPLICATE_COSIGNER', `cosigner ${c.name} shares its public key with another`);
    ids.add(id);
    keys.add(key);
  }
}
