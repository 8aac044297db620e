/**
 * Integer helpers for tree indexes and sizes.
 *
 * Invariant: every index and size in this package is a JavaScript number that is a
 * non-negative safe integer (≤ 2^53 − 1). Bitwise operators in JS truncate to 32
 * bits, so the helpers below split values into 32-bit halves or use exact
 * power-of-two division instead; both are exact for safe integers.
 */
import { MerkleError, type MerkleErrorCode } from './errors.ts';

const TWO_32 = 2 ** 32;

export function isSafeUint(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** Throws `code` unless `n` is a non-negative safe integer. */
export function assertSafeUint(n: unknown, what: string, code: MerkleErrorCode): asserts n is number {
  if (!isSafeUint(n))
    throw new MerkleError(code, `${what} must be a non-negative safe integer, got ${String(n)}`);
}

/**
 * Strict decimal parse of an untrusted index/size (query string, JSON digits kept
 * as text). Rejects signs, leading zeros, exponents and anything above 2^53 − 1
 * instead of silently rounding it (18446744073709551615 must not become 2^64).
 */
export function parseSafeUint(text: string, what: string, code: MerkleErrorCode): number {
  if (!/^(0|[1-9][0-9]{0,19})$/.test(text)) throw new MerkleError(code, `${what} is not a canonical decimal`);
  if (BigInt(text) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new MerkleError(code, `${what} ${text} exceeds 2^53 - 1`);
  }
  return Number(text);
}

/** floor(n / 2^k), exact for safe integers. */
export function shr(n: number, k: number): number {
  return k === 0 ? n : Math.floor(n / 2 ** k);
}

/** n · 2^k. */
export function shl(n: number, k: number): number {
  return n * 2 ** k;
}

/** Number of bits needed to represent n (0 for 0), like Go's bits.Len64. */
export function bitLen(n: number): number {
  if (n === 0) return 0;
  const hi = Math.floor(n / TWO_32);
  return hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(n >>> 0);
}

/** Count of trailing zero bits; n must be > 0. */
export function trailingZeros(n: number): number {
  const lo = n >>> 0;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(n / TWO_32);
  return 32 + 31 - Math.clz32(hi & -hi);
}

function popcount32(x: number): number {
  let v = x >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Number of set bits. */
export function popcount(n: number): number {
  return popcount32(n >>> 0) + popcount32(Math.floor(n / TWO_32));
}

/** a XOR b for safe integers. */
export function xor(a: number, b: number): number {
  const hi = (Math.floor(a / TWO_32) ^ Math.floor(b / TWO_32)) >>> 0;
  const lo = ((a >>> 0) ^ (b >>> 0)) >>> 0;
  return hi * TWO_32 + lo;
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && popcount(n) === 1;
}

/** Largest power of two strictly less than n (n ≥ 2), the RFC 9162 §2.1.1 split point k. */
export function splitPoint(n: number): number {
  return 2 ** (bitLen(n - 1) - 1);
}
