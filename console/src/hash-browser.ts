/**
 * src/core/hash.ts for the browser build (console/vite.config.ts swaps it in):
 * the same exports, chosen without the top-level `await import('node:crypto')`,
 * which a classic worker (the single-file page's, started from a `blob:` URL
 * on a `file://` page, where Chromium refuses module workers) cannot contain.
 *
 * SHA-256 is hash-wasm's WebAssembly build once it has been compiled, and
 * @noble/hashes until then (or if WebAssembly is refused). Measured in V8
 * (docs/console.md §Benchmark): WebAssembly hashed a 400-byte leaf about
 * twice and an 8 MiB input five times as fast as the JavaScript
 * implementation, and with JavaScript hashing was about half of a chunk check.
 * WebCrypto's `crypto.subtle.digest` is faster still for large inputs but is
 * asynchronous, and the core's record check hashes synchronously, leaf by leaf.
 *
 * Both implementations give the same digest for the same bytes (checked on a
 * known answer before WebAssembly is used), so which one hashed a record can
 * never change a verdict, only how long it took. Workers wait for `hashReady`
 * before they say they are ready, so a verification runs on WebAssembly.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { createSHA256, type IHasher } from 'hash-wasm';

let wasm: IHasher | undefined;

/** FIPS 180-2 appendix B.1: SHA-256("abc"). */
const ABC = new Uint8Array([0x61, 0x62, 0x63]);
const ABC_DIGEST = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

/**
 * Resolves once the WebAssembly hasher is in use, or once it is known that it
 * cannot be (no WebAssembly, a CSP without 'wasm-unsafe-eval', a wrong known
 * answer): it never rejects, the JavaScript hash stays in use then.
 */
export const hashReady: Promise<void> = (async () => {
  try {
    const h = await createSHA256();
    if (h.init().update(ABC).digest('hex') === ABC_DIGEST) wasm = h;
  } catch {
    // WebAssembly unavailable or refused: @noble/hashes it stays.
  }
})();

/** Which implementation hashes now (for the page's performance note and the tests). */
export const hashEngine = (): 'wasm' | 'js' => (wasm ? 'wasm' : 'js');

/** Writes SHA-256(data) to out[offset, offset + 32). `data` may overlap `out`: it is read first. */
export const sha256Into = (data: Uint8Array, out: Uint8Array, offset: number): void => {
  // init → update → digest with no await between: one hasher serves every call of this thread.
  out.set(wasm ? wasm.init().update(data).digest('binary') : nobleSha256(data), offset);
};

/** SHA-256 of `data`; a fresh 32-byte array. */
export const sha256 = (data: Uint8Array): Uint8Array =>
  wasm ? wasm.init().update(data).digest('binary') : nobleSha256(data);

/** The portable implementation, as src/core/hash.ts exports it. */
export const sha256Noble = (data: Uint8Array): Uint8Array => nobleSha256(data);
