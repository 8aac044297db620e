/**
 * The two DER structures a note verifier needs: ECDSA signatures
 * (SEQUENCE { r INTEGER, s INTEGER }, RFC 3279 §2.2.3 / SEC 1 §C.8) and P-256
 * SubjectPublicKeyInfo (RFC 5480 §2). Both arrive from untrusted text, so the
 * reader is strict DER (X.690 §10): definite minimal lengths, minimal positive
 * INTEGERs, no trailing bytes. A BER-encoded or padded signature is rejected
 * rather than "fixed up", so every accepted signature has one encoding.
 */
import { bytesEqual, fromHex } from '../bytes.ts';

/** Thrown by the DER helpers; callers wrap it into their own error code. */
export class DerError extends Error {}

interface Tlv {
  tag: number;
  value: Uint8Array;
  /** Offset just past this element. */
  end: number;
}

function readTlv(buf: Uint8Array, offset: number): Tlv {
  if (offset + 2 > buf.length) throw new DerError('truncated DER element');
  const tag = buf[offset] as number;
  // Low-tag-number form only: every tag we accept is universal and < 31.
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not used here');
  let len = buf[offset + 1] as number;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    // 0x80 is BER indefinite length; more than 2 length bytes is far beyond any key or signature.
    if (n === 0 || n > 2) throw new DerError('unsupported DER length form');
    if (p + n > buf.length) throw new DerError('truncated DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | (buf[p + i] as number);
    p += n;
    // X.690 §10.1: the definite form must use the fewest octets.
    if (len < 0x80 || (n === 2 && len < 0x100)) throw new DerError('non-minimal DER length');
  }
  if (p + len > buf.length) throw new DerError('DER length exceeds input');
  return { tag, value: buf.subarray(p, p + len), end: p + len };
}

/** Reads exactly one element of `tag` spanning all of `buf`. */
function readOnly(buf: Uint8Array, tag: number): Uint8Array {
  const tlv = readTlv(buf, 0);
  if (tlv.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}`);
  if (tlv.end !== buf.length) throw new DerError('trailing bytes after DER element');
  return tlv.value;
}

/** A minimal positive DER INTEGER (X.690 §8.3.2) to unsigned big-endian bytes. */
function positiveInteger(value: Uint8Array): Uint8Array {
  if (value.length === 0) throw new DerError('empty INTEGER');
  const first = value[0] as number;
  if (first & 0x80) throw new DerError('negative INTEGER');
  if (first === 0 && value.length > 1 && ((value[1] as number) & 0x80) === 0)
    throw new DerError('INTEGER has an unnecessary leading zero');
  return first === 0 && value.length > 1 ? value.subarray(1) : value;
}

/**
 * Strictly parses a DER ECDSA-Sig-Value into the fixed-width `r ‖ s` form of
 * `size` bytes each (32 for P-256). Range checks (1 ≤ r, s < n) are left to
 * the curve library, which performs them on every verify.
 */
export function ecdsaDerToCompact(der: Uint8Array, size: number): Uint8Array {
  const seq = readOnly(der, 0x30);
  const r = readTlv(seq, 0);
  if (r.tag !== 0x02) throw new DerError('expected INTEGER r');
  const s = readTlv(seq, r.end);
  if (s.tag !== 0x02) throw new DerError('expected INTEGER s');
  if (s.end !== seq.length) throw new DerError('trailing bytes in ECDSA signature');
  const out = new Uint8Array(2 * size);
  const rb = positiveInteger(r.value);
  const sb = positiveInteger(s.value);
  if (rb.length > size || sb.length > size) throw new DerError('ECDSA integer too large');
  out.set(rb, size - rb.length);
  out.set(sb, 2 * size - sb.length);
  return out;
}

// AlgorithmIdentifier { id-ecPublicKey, prime256v1 } (RFC 5480 §2.1.1). In DER
// this encoding is unique, so comparing bytes is an exact check of both OIDs
// and of the absence of any other parameters.
const P256_ALGORITHM = fromHex('301306072a8648ce3d020106082a8648ce3d030107');

/**
 * Returns the SEC 1 encoded EC point from a P-256 SubjectPublicKeyInfo
 * (uncompressed 65 bytes or compressed 33 bytes). The point itself is checked
 * to lie on the curve by the caller.
 */
export function p256PointFromSpki(spki: Uint8Array): Uint8Array {
  const seq = readOnly(spki, 0x30);
  const alg = readTlv(seq, 0);
  if (alg.tag !== 0x30) throw new DerError('expected AlgorithmIdentifier');
  if (!bytesEqual(seq.subarray(0, alg.end), P256_ALGORITHM))
    throw new DerError('not an id-ecPublicKey prime256v1 key');
  const bits = readTlv(seq, alg.end);
  if (bits.tag !== 0x03) throw new DerError('expected BIT STRING');
  if (bits.end !== seq.length) throw new DerError('trailing bytes in SubjectPublicKeyInfo');
  if (bits.value.length < 1 || bits.value[0] !== 0) throw new DerError('BIT STRING has unused bits');
  const point = bits.value.subarray(1);
  if (
    !(point.length === 65 && point[0] === 4) &&
    !(point.length === 33 && (point[0] === 2 || point[0] === 3))
  )
    throw new DerError('not a SEC 1 P-256 point');
  return point;
}

/**
 * RFC 8410 §4: an Ed25519 SubjectPublicKeyInfo is SEQUENCE { SEQUENCE { OID 1.3.101.112 },
 * BIT STRING (0 unused bits) key } with no parameters — always these 12 bytes, then the key.
 */
const ED25519_SPKI_PREFIX = fromHex('302a300506032b6570032100');

/** True iff `spki` has the shape of an Ed25519 SubjectPublicKeyInfo (44 bytes, RFC 8410). */
export function isEd25519Spki(spki: Uint8Array): boolean {
  return spki.length === 44 && bytesEqual(spki.subarray(0, 12), ED25519_SPKI_PREFIX);
}

/** The 32-byte key of an Ed25519 SubjectPublicKeyInfo (RFC 8410); DerError for anything else. */
export function ed25519KeyFromSpki(spki: Uint8Array): Uint8Array {
  if (!isEd25519Spki(spki)) throw new DerError('not an Ed25519 SubjectPublicKeyInfo');
  return spki.slice(12);
}

/** The RFC 8410 SubjectPublicKeyInfo of a 32-byte Ed25519 key (what `openssl pkey -pubin` reads). */
export function ed25519Spki(key: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new DerError('an Ed25519 key is 32 bytes');
  const out = new Uint8Array(44);
  out.set(ED25519_SPKI_PREFIX, 0);
  out.set(key, 12);
  return out;
}

/** Checks that `der` is exactly one well-formed outer SEQUENCE (used for PEM sanity checks). */
export function isDerSequence(der: Uint8Array): boolean {
  try {
    readOnly(der, 0x30);
    return true;
  } catch {
    return false;
  }
}
