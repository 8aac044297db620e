/**
 * Byte helpers for the pure core. Uint8Array only (no Buffer), so the core runs
 * unchanged in a browser. Decoders are strict: attacker-controlled text that is
 * not canonical base64/hex is rejected, never "best-effort" decoded.
 */
import { AnchorlogError } from './errors.ts';

export type EncodingErrorCode = 'INVALID_BASE64' | 'INVALID_HEX' | 'INVALID_PEM';
export class EncodingError extends AnchorlogError<EncodingErrorCode> {}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

/** Two base64 characters per 12 bits: half the steps of one character at a time (verifiers encode a hash per record). */
const B64_PAIRS: string[] = [];
for (let i = 0; i < 4096; i++) B64_PAIRS.push(B64.charAt(i >> 6) + B64.charAt(i & 63));

/** Standard base64 with padding (RFC 4648 §4). */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out += (B64_PAIRS[n >> 12] as string) + (B64_PAIRS[n & 4095] as string);
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    out += `${B64.charAt(n >> 18)}${B64.charAt((n >> 12) & 63)}==`;
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    out += `${B64.charAt(n >> 18)}${B64.charAt((n >> 12) & 63)}${B64.charAt((n >> 6) & 63)}=`;
  }
  return out;
}

/**
 * Strict standard base64 decode: padding required, no whitespace, no URL-safe
 * alphabet, and non-zero trailing bits rejected (so every byte string has
 * exactly one accepted encoding).
 */
export function fromBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0)
    throw new EncodingError('INVALID_BASE64', 'base64 length is not a multiple of 4');
  let pad = 0;
  if (text.endsWith('==')) pad = 2;
  else if (text.endsWith('=')) pad = 1;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    const v = [0, 1, 2, 3].map((k) => {
      const c = text.charCodeAt(i + k);
      if (last && c === 61 /* = */ && k >= 4 - pad) return 0;
      const d = c < 128 ? (B64_INDEX[c] as number) : -1;
      if (d < 0) throw new EncodingError('INVALID_BASE64', `invalid base64 character at offset ${i + k}`);
      return d;
    }) as [number, number, number, number];
    const n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    if (last && pad === 2 && (n & 0xffff) !== 0)
      throw new EncodingError('INVALID_BASE64', 'non-canonical base64');
    if (last && pad === 1 && (n & 0xff) !== 0)
      throw new EncodingError('INVALID_BASE64', 'non-canonical base64');
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

/** Unpadded base64url (RFC 4648 §5), the form used in keys, cursors and API keys. */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

const B64URL_TEXT = /^[A-Za-z0-9_-]*$/;

/**
 * Strict unpadded base64url decode: no padding, no standard alphabet, and
 * non-canonical trailing bits rejected (through the strict standard decoder),
 * so every byte string has exactly one accepted spelling.
 */
export function fromBase64Url(text: string): Uint8Array {
  if (!B64URL_TEXT.test(text) || text.length % 4 === 1)
    throw new EncodingError('INVALID_BASE64', 'invalid base64url');
  const std = text.replace(/-/g, '+').replace(/_/g, '/');
  return fromBase64(std + '='.repeat((4 - (std.length % 4)) % 4));
}

const HEX_CODES = new TextEncoder().encode('0123456789abcdef');
const hexDecoder = new TextDecoder();

/**
 * Lowercase hex. Built as bytes and decoded once, so the string is flat: a
 * string grown by `+=` is a rope of one node per step, ~1.5 KiB for a 32-byte
 * hash, and a verifier keeps one per bundle member (docs/bundle.md §Memory).
 */
export function toHex(bytes: Uint8Array): string {
  const out = new Uint8Array(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    out[2 * i] = HEX_CODES[b >> 4] as number;
    out[2 * i + 1] = HEX_CODES[b & 15] as number;
  }
  return hexDecoder.decode(out);
}

export function fromHex(text: string): Uint8Array {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new EncodingError('INVALID_HEX', 'hex must be an even number of [0-9a-f] characters');
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Byte equality. Not constant-time: use only on public data (hashes, roots). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
export const utf8 = (s: string): Uint8Array => encoder.encode(s);
/** UTF-8 decode that throws a TypeError on invalid UTF-8 instead of inserting U+FFFD. */
export const fromUtf8 = (b: Uint8Array): string => strictDecoder.decode(b);
