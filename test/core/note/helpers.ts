// Test helpers: DER ECDSA re-encoding (to build high-S and BER variants).
import { p256 } from '@noble/curves/nist.js';
import { concatBytes, fromHex, toHex } from '../../../src/core/bytes.ts';

export const P256_N = p256.Point.Fn.ORDER;

export function bigToBytes(n: bigint): Uint8Array {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return fromHex(hex);
}

function derInt(n: bigint): Uint8Array {
  let b = bigToBytes(n);
  if ((b[0] as number) & 0x80) b = concatBytes(Uint8Array.of(0), b);
  return concatBytes(Uint8Array.of(0x02, b.length), b);
}

export function derSig(r: bigint, s: bigint): Uint8Array {
  const body = concatBytes(derInt(r), derInt(s));
  return concatBytes(Uint8Array.of(0x30, body.length), body);
}

/** Parses a (known-good) DER ECDSA signature into r, s. */
export function parseDerSig(der: Uint8Array): { r: bigint; s: bigint } {
  const rLen = der[3] as number;
  const r = BigInt(`0x${toHex(der.subarray(4, 4 + rLen))}`);
  const sLen = der[5 + rLen] as number;
  const s = BigInt(`0x${toHex(der.subarray(6 + rLen, 6 + rLen + sLen))}`);
  return { r, s };
}
