/**
 * Note verifiers for the signature types we implement. Everything here is
 * synchronous and browser-portable (@noble/curves), so the offline bundle
 * verifier can run anywhere.
 *
 * https://c2sp.org/signed-note#signature-types
 *  - 0x01 Ed25519 (RFC 8032), key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey)[:4]
 *  - 0x02 ECDSA as in transparency-dev/witness and Sigstore Rekor: key ID =
 *    SHA-256(DER SPKI)[:4] (independent of the key name), signature = DER
 *    ECDSA over SHA-256(note text). Real Rekor and Pixel vkeys use exactly this
 *    (c0d23d6a = SHA-256(rekor.sigstore.dev SPKI)[:4]).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { concatBytes, utf8 } from '../bytes.ts';
import { sha256 } from '../hash.ts';
import { DerError, ecdsaDerToCompact, ed25519KeyFromSpki, isEd25519Spki, p256PointFromSpki } from './der.ts';
import { NoteError } from './errors.ts';
import { isValidKeyName } from './text.ts';

export const SIG_TYPE_ED25519 = 0x01;
export const SIG_TYPE_ECDSA = 0x02;

export type NoteKeyType = 'ed25519' | 'ecdsa-p256';

/** A trusted key that can check note signatures. */
export interface NoteVerifier {
  readonly name: string;
  /** 4-byte key ID, as it prefixes signatures. */
  readonly keyId: Uint8Array;
  readonly type: NoteKeyType;
  /** Key material as carried in the vkey after the type byte: DER SPKI (ECDSA) or 32 raw bytes (Ed25519). */
  readonly publicKey: Uint8Array;
  /** True iff `signature` is valid over `message`. Never throws. */
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** Key ID of a 0x02 key: SHA-256(DER SubjectPublicKeyInfo)[:4]. */
export function ecdsaKeyId(spki: Uint8Array): Uint8Array {
  return sha256(spki).slice(0, 4);
}

/** Key ID of a 0x01 key: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey)[:4]. */
export function ed25519KeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8(name), Uint8Array.of(0x0a, SIG_TYPE_ED25519), publicKey)).slice(0, 4);
}

function checkName(name: string): void {
  if (!isValidKeyName(name)) throw new NoteError('INVALID_KEY_NAME', 'invalid key name');
}

/**
 * Extracts the EC point of a P-256 SPKI and checks it is on the curve.
 * Throws NoteError MALFORMED_PUBLIC_KEY otherwise.
 */
export function p256PublicPoint(spki: Uint8Array): Uint8Array {
  try {
    const point = p256PointFromSpki(spki);
    p256.Point.fromBytes(point).assertValidity();
    return point;
  } catch (cause) {
    throw new NoteError('MALFORMED_PUBLIC_KEY', 'not a valid P-256 SubjectPublicKeyInfo', { cause });
  }
}

/** A 0x02 verifier for a P-256 key given as DER SPKI. */
export function ecdsaP256Verifier(name: string, spki: Uint8Array): NoteVerifier {
  checkName(name);
  const point = p256PublicPoint(spki);
  return {
    name,
    keyId: ecdsaKeyId(spki),
    type: 'ecdsa-p256',
    publicKey: spki.slice(),
    verify(message, signature) {
      let compact: Uint8Array;
      try {
        // Strict DER first: noble would accept some encodings we do not want to.
        compact = ecdsaDerToCompact(signature, 32);
      } catch (err) {
        if (err instanceof DerError) return false;
        throw err;
      }
      try {
        // lowS: false — KMS, OpenSSL and Go all emit high-S signatures about
        // half the time, and ECDSA malleability does not matter here: the
        // note text, not the signature bytes, is what we trust.
        return p256.verify(compact, message, point, { prehash: true, lowS: false, format: 'compact' });
      } catch {
        // noble throws on r or s outside [1, n-1]: that is simply an invalid signature.
        return false;
      }
    },
  };
}

/**
 * The verifier of a log key given as DER SubjectPublicKeyInfo, by its algorithm: an Ed25519
 * SPKI (RFC 8410) is a 0x01 key, anything else must be a P-256 SPKI (0x02). Log keys reach the
 * use cases as SPKI (KMS GetPublicKey, a local key), so this is where a deployment's choice of
 * signer (docs/formats.md §Checkpoints) stops mattering.
 */
export function verifierFromSpki(name: string, spki: Uint8Array): NoteVerifier {
  if (isEd25519Spki(spki)) {
    checkName(name);
    let key: Uint8Array;
    try {
      key = ed25519KeyFromSpki(spki);
    } catch (cause) {
      throw new NoteError('MALFORMED_PUBLIC_KEY', 'not a valid Ed25519 SubjectPublicKeyInfo', { cause });
    }
    return ed25519Verifier(name, key);
  }
  return ecdsaP256Verifier(name, spki);
}

/** A 0x01 verifier for a 32-byte Ed25519 public key. */
export function ed25519Verifier(name: string, publicKey: Uint8Array): NoteVerifier {
  checkName(name);
  if (publicKey.length !== 32 || !ed25519.utils.isValidPublicKey(publicKey, false))
    throw new NoteError('MALFORMED_PUBLIC_KEY', 'not a valid Ed25519 public key');
  const key = publicKey.slice();
  return {
    name,
    keyId: ed25519KeyId(name, key),
    type: 'ed25519',
    publicKey: key,
    verify(message, signature) {
      if (signature.length !== 64) return false;
      try {
        // zip215: false = strict RFC 8032 / FIPS 186-5 (canonical encodings only).
        return ed25519.verify(signature, message, key, { zip215: false });
      } catch {
        return false;
      }
    },
  };
}
