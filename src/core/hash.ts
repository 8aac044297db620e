/**
 * SHA-256 for the core. In Node (Lambda, CLI, tests) this is node:crypto's
 * one-shot `hash()`, measured ~3x faster than @noble/hashes on 400-byte leaves
 * (see docs/benchmarks.md); in a browser, where node:crypto does not exist,
 * it falls back to @noble/hashes, which gives identical output. The choice is
 * made once, at module load.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

type HashFn = (data: Uint8Array) => Uint8Array;

async function pickSha256(): Promise<HashFn> {
  try {
    const nodeCrypto = await import('node:crypto');
    if (typeof nodeCrypto.hash === 'function') {
      const h = nodeCrypto.hash;
      return (data) => {
        const out = h('sha256', data, 'buffer') as unknown as Uint8Array;
        return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      };
    }
    return (data) => {
      const out = nodeCrypto.createHash('sha256').update(data).digest();
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    };
  } catch {
    return (data) => nobleSha256(data);
  }
}

/** SHA-256 of `data`; 32 bytes. */
export const sha256: HashFn = await pickSha256();

/** The portable implementation, exported for benchmarks and cross-checks. */
export const sha256Noble: HashFn = (data) => nobleSha256(data);
