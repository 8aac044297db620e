/**
 * Producer public keys (docs/producer-signatures.md): the keys a principal
 * registers so that the events it submits can carry a detached signature.
 *
 * Two algorithms, both in WebCrypto, node:crypto and AWS KMS, so one key can
 * be checked by ingest, the CLI and a browser alike:
 *  - `Ed25519` (RFC 8032), SPKI per RFC 8410;
 *  - `ES256`: ECDSA on P-256 with SHA-256 (RFC 7518 §3.4 names), SPKI per
 *    RFC 5480 with an uncompressed point (the form WebCrypto and KMS export).
 *
 * A key is accepted as an SPKI PEM (`PUBLIC KEY`) or a public JWK, and is
 * always stored and shown as its SPKI DER: one byte form per key, so its id —
 * base64url SHA-256 of the SPKI DER — is stable whichever form it arrived in.
 *
 * Parsing is byte-exact against the two fixed SPKI prefixes, so nothing of an
 * attacker-supplied DER is interpreted beyond comparing it: a key with other
 * parameters, a compressed point, trailing bytes or a private key is refused.
 * Whether a P-256 point lies on the curve is checked by the SignatureVerifier
 * when the key is registered (src/core/producer-signature.ts `checkKey`).
 */
import {
  bytesEqual,
  concatBytes,
  EncodingError,
  fromBase64,
  fromBase64Url,
  toBase64,
  toBase64Url,
} from './bytes.ts';
import { AnchorlogError } from './errors.ts';
import { parseUtcTimestamp, SIGNATURE_ALGS } from './event.ts';
import { sha256 } from './hash.ts';
import { decodeOnePem, encodePem } from './pem.ts';

export { SIGNATURE_ALGS };
export type SignatureAlg = (typeof SIGNATURE_ALGS)[number];

export type ProducerKeyErrorCode = 'INVALID_KEY';
export class ProducerKeyError extends AnchorlogError<ProducerKeyErrorCode> {
  /** JSON pointer of the offending input field. */
  readonly path: string;
  constructor(path: string, message: string, cause?: unknown) {
    super('INVALID_KEY', message, cause === undefined ? undefined : { cause });
    this.path = path;
  }
}

// RFC 8410 §4: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (32 bytes) }.
const ED25519_SPKI_PREFIX = fromHexConst('302a300506032b6570032100');
// RFC 5480: SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING 0x04 ‖ X ‖ Y }.
const P256_SPKI_PREFIX = fromHexConst('3059301306072a8648ce3d020106082a8648ce3d030107034200');

function fromHexConst(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

/** A parsed public key: its algorithm, SPKI DER and id. */
export interface ProducerPublicKey {
  readonly alg: SignatureAlg;
  readonly spki: Uint8Array;
  /** base64url(SHA-256(SPKI DER)), 43 characters. */
  readonly keyId: string;
}

/** 43 base64url characters: a SHA-256 digest without padding. */
export const KEY_ID_RE = /^[A-Za-z0-9_-]{43}$/;

export function keyIdOf(spki: Uint8Array): string {
  return toBase64Url(sha256(spki));
}

/** The algorithm of an SPKI DER, or undefined if it is neither accepted form. */
export function algOfSpki(spki: Uint8Array): SignatureAlg | undefined {
  if (spki.length === ED25519_SPKI_PREFIX.length + 32 && startsWith(spki, ED25519_SPKI_PREFIX))
    return 'Ed25519';
  if (
    spki.length === P256_SPKI_PREFIX.length + 65 &&
    startsWith(spki, P256_SPKI_PREFIX) &&
    spki[P256_SPKI_PREFIX.length] === 0x04
  )
    return 'ES256';
  return undefined;
}

function startsWith(a: Uint8Array, prefix: Uint8Array): boolean {
  return a.length >= prefix.length && bytesEqual(a.subarray(0, prefix.length), prefix);
}

export function publicKeyFromSpki(spki: Uint8Array, path = ''): ProducerPublicKey {
  const alg = algOfSpki(spki);
  if (!alg)
    throw new ProducerKeyError(
      path,
      'public key must be an Ed25519 (RFC 8410) or P-256 (RFC 5480, uncompressed point) SubjectPublicKeyInfo',
    );
  return { alg, spki: spki.slice(), keyId: keyIdOf(spki) };
}

/**
 * A public key from what a client sends: an SPKI PEM string
 * (`-----BEGIN PUBLIC KEY-----`) or a public JWK object (`kty: OKP, crv:
 * Ed25519, x` or `kty: EC, crv: P-256, x, y`; a JWK with `d` is a private key
 * and is refused, so a mistake never stores one).
 */
export function parsePublicKey(input: unknown, path = '/publicKey'): ProducerPublicKey {
  if (typeof input === 'string') {
    let der: Uint8Array;
    try {
      der = decodeOnePem(input, 'PUBLIC KEY');
    } catch (e) {
      throw new ProducerKeyError(
        path,
        'publicKey must be one SPKI PEM block (-----BEGIN PUBLIC KEY-----)',
        e,
      );
    }
    return publicKeyFromSpki(der, path);
  }
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const jwk = input as Record<string, unknown>;
    if ('d' in jwk)
      throw new ProducerKeyError(`${path}/d`, 'this is a private JWK; register the public key only');
    const coord = (name: 'x' | 'y', size: number): Uint8Array => {
      const v = jwk[name];
      let b: Uint8Array | undefined;
      try {
        b = typeof v === 'string' ? fromBase64Url(v) : undefined;
      } catch (e) {
        if (!(e instanceof EncodingError)) throw e;
      }
      if (!b || b.length !== size)
        throw new ProducerKeyError(`${path}/${name}`, `JWK ${name} must be ${size} bytes of base64url`);
      return b;
    };
    if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519')
      return publicKeyFromSpki(concatBytes(ED25519_SPKI_PREFIX, coord('x', 32)), path);
    if (jwk.kty === 'EC' && jwk.crv === 'P-256')
      return publicKeyFromSpki(
        concatBytes(P256_SPKI_PREFIX, new Uint8Array([4]), coord('x', 32), coord('y', 32)),
        path,
      );
    throw new ProducerKeyError(path, 'JWK must be {kty: OKP, crv: Ed25519} or {kty: EC, crv: P-256}');
  }
  throw new ProducerKeyError(path, 'publicKey must be an SPKI PEM string or a public JWK object');
}

/** The key as an SPKI PEM, for `openssl` and for humans. */
export function spkiPem(spki: Uint8Array): string {
  return encodePem('PUBLIC KEY', spki);
}

/**
 * A registered key: what the signing-key store holds and what its
 * registration and revocation records in the `system` log carry as
 * `changes.after` (so an offline verifier learns key → principal from the
 * signed system log, not from the exporter). Times are the log's receivedAt
 * format. `version` counts the key's changes (1: registered, 2: revoked).
 */
export interface ProducerKeyRecord {
  keyId: string;
  principalId: string;
  alg: SignatureAlg;
  /** Standard base64 of the SPKI DER. */
  spki: string;
  /** First instant the key may sign. */
  notBefore: string;
  /** Last instant the key may sign (inclusive); absent: no end. */
  notAfter?: string;
  /** Set by revocation: from this instant the key signs nothing more. */
  revokedAt?: string;
  version: number;
}

/** Whether the key may sign at `atMs`: inside [notBefore, notAfter] and before any revocation. */
export function keyStatusAt(
  key: Pick<ProducerKeyRecord, 'notBefore' | 'notAfter' | 'revokedAt'>,
  atMs: number,
): 'active' | 'not-yet-valid' | 'expired' | 'revoked' {
  if (key.revokedAt !== undefined && atMs >= (parseUtcTimestamp(key.revokedAt) ?? 0)) return 'revoked';
  if (atMs < (parseUtcTimestamp(key.notBefore) ?? Number.POSITIVE_INFINITY)) return 'not-yet-valid';
  if (key.notAfter !== undefined && atMs > (parseUtcTimestamp(key.notAfter) ?? Number.NEGATIVE_INFINITY))
    return 'expired';
  return 'active';
}

/**
 * Shape check of a key record read back from a store or a system-log event:
 * the id is the SPKI's digest and the algorithm is the SPKI's. Throws
 * ProducerKeyError naming the field.
 */
export function checkProducerKeyRecord(v: unknown, path = ''): ProducerKeyRecord {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ProducerKeyError(path, 'key record must be an object');
  const o = v as Record<string, unknown>;
  const allowed = ['keyId', 'principalId', 'alg', 'spki', 'notBefore', 'notAfter', 'revokedAt', 'version'];
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) throw new ProducerKeyError(`${path}/${k}`, `unknown field ${k}`);
  if (typeof o.spki !== 'string') throw new ProducerKeyError(`${path}/spki`, 'spki must be base64');
  let spki: Uint8Array;
  try {
    spki = fromBase64(o.spki);
  } catch (e) {
    throw new ProducerKeyError(`${path}/spki`, 'spki must be base64', e);
  }
  const key = publicKeyFromSpki(spki, `${path}/spki`);
  if (o.keyId !== key.keyId) throw new ProducerKeyError(`${path}/keyId`, 'keyId is not the digest of spki');
  if (o.alg !== key.alg) throw new ProducerKeyError(`${path}/alg`, 'alg is not the algorithm of spki');
  if (typeof o.principalId !== 'string' || o.principalId.length === 0 || o.principalId.length > 256)
    throw new ProducerKeyError(`${path}/principalId`, 'principalId must be a non-empty string');
  for (const t of ['notBefore', 'notAfter', 'revokedAt'] as const) {
    if (o[t] === undefined && t !== 'notBefore') continue;
    if (typeof o[t] !== 'string' || parseUtcTimestamp(o[t]) === undefined)
      throw new ProducerKeyError(`${path}/${t}`, `${t} must be an RFC 3339 UTC timestamp`);
  }
  if (typeof o.version !== 'number' || !Number.isSafeInteger(o.version) || o.version < 1)
    throw new ProducerKeyError(`${path}/version`, 'version must be a positive integer');
  return o as unknown as ProducerKeyRecord;
}

/** The SPKI DER of a record (already checked). */
export function spkiOf(record: Pick<ProducerKeyRecord, 'spki'>): Uint8Array {
  return fromBase64(record.spki);
}

/** Base64 of SPKI DER (the stored form). */
export function spkiBase64(spki: Uint8Array): string {
  return toBase64(spki);
}
