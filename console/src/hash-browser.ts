/**
 * src/core/hash.ts for the browser build (console/vite.config.ts swaps it in):
 * the same exports, always @noble/hashes — what the core picks in a browser
 * anyway — but chosen without the top-level `await import('node:crypto')`,
 * which a classic worker (the single-file page's, started from a `blob:` URL
 * on a `file://` page, where Chromium refuses module workers) cannot contain.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** Writes SHA-256(data) to out[offset, offset + 32). */
export const sha256Into = (data: Uint8Array, out: Uint8Array, offset: number): void => {
  out.set(nobleSha256(data), offset);
};

/** SHA-256 of `data`; a fresh 32-byte array. */
export const sha256 = (data: Uint8Array): Uint8Array => nobleSha256(data);

/** The portable implementation (the same function here). */
export const sha256Noble = sha256;
