/**
 * SHA-256 for the core. In Node (Lambda, CLI, tests) this is node:crypto's
 * one-shot `hash()`; in a browser, where node:crypto does not exist, it falls
 * back to @noble/hashes, which gives identical output. The choice is made once,
 * at module load.
 *
 * Node's digest is requested as a latin1 string (one char per byte) and copied
 * into place. Measured in Node 20 (docs/benchmarks.md §Core): asking for a
 * Buffer costs 0.7–1.0 µs more per call than the latin1 string — the Buffer gets an
 * external backing store and the GC pressure that comes with it — while the copy
 * into a fresh 32-byte array costs 0.07–0.1 µs. The copy also means a digest never
 * aliases anything (unlike a pooled Buffer or Buffer.slice).
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** Writes SHA-256(data) to out[offset, offset + 32). `data` may overlap `out`: it is read first. */
type HashIntoFn = (data: Uint8Array, out: Uint8Array, offset: number) => void;

const nobleInto: HashIntoFn = (data, out, offset) => {
  out.set(nobleSha256(data), offset);
};

async function pickSha256Into(): Promise<HashIntoFn> {
  try {
    const nodeCrypto = await import('node:crypto');
    if (typeof nodeCrypto.hash === 'function') {
      // 'latin1' (not its alias 'binary', which Node resolves on a slow path); the
      // typings list only the BinaryToTextEncoding names.
      const h = nodeCrypto.hash as unknown as (
        algorithm: string,
        data: Uint8Array,
        encoding: 'latin1',
      ) => string;
      return (data, out, offset) => {
        const s = h('sha256', data, 'latin1');
        for (let i = 0; i < 32; i++) out[offset + i] = s.charCodeAt(i);
      };
    }
    return (data, out, offset) => {
      out.set(nodeCrypto.createHash('sha256').update(data).digest(), offset);
    };
  } catch {
    return nobleInto;
  }
}

/** SHA-256(data) written into out[offset, offset + 32), allocation-free in Node. */
export const sha256Into: HashIntoFn = await pickSha256Into();

/** SHA-256 of `data`; a fresh 32-byte array. */
export function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sha256Into(data, out, 0);
  return out;
}

/** The portable implementation, exported for benchmarks and cross-checks. */
export const sha256Noble = (data: Uint8Array): Uint8Array => nobleSha256(data);
