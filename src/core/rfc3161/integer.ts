/**
 * DER INTEGER helpers for nonces (RFC 3161 §2.4.1: nonce INTEGER OPTIONAL).
 * A nonce is chosen as random bytes; on the wire it is an INTEGER, so it is
 * compared by value, not by encoding.
 */

/** Minimal two's-complement content octets for the non-negative integer whose big-endian bytes are `b`. */
export function unsignedToDerInteger(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const trimmed = b.subarray(i);
  if (trimmed.length === 0) return new Uint8Array([0]);
  if (((trimmed[0] as number) & 0x80) !== 0) {
    const out = new Uint8Array(trimmed.length + 1);
    out.set(trimmed, 1);
    return out;
  }
  return new Uint8Array(trimmed);
}

/** Value of two's-complement content octets. */
export function derIntegerValue(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  if (((b[0] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * b.length);
  return v;
}

/** Value of unsigned big-endian bytes. */
export function unsignedValue(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}
