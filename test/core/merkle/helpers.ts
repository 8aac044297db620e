import { expect } from 'vitest';
import { sha256 } from '../../../src/core/hash.ts';
import { MerkleError, type MerkleErrorCode } from '../../../src/core/merkle/errors.ts';

/** Cheap distinct leaf hashes: 32 bytes carrying the index (not real hashes; structure only). */
export function syntheticLeaves(n: number, seed = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const h = new Uint8Array(32);
    const v = new DataView(h.buffer);
    v.setFloat64(0, i);
    v.setUint32(8, seed);
    v.setUint32(28, Math.imul(i + 1, 0x9e3779b1) ^ seed);
    out.push(h);
  }
  return out;
}

/** Real SHA-256 leaf-like hashes, for trees where looking random matters. */
export function hashedLeaves(n: number, seed = 0): Uint8Array[] {
  return Array.from({ length: n }, (_, i) =>
    sha256(new Uint8Array([seed, i & 255, (i >> 8) & 255, i >> 16])),
  );
}

export function catchMerkle(fn: () => unknown): MerkleError | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof MerkleError) return e;
    throw e;
  }
  return undefined;
}

export function expectMerkleError(fn: () => unknown, code?: MerkleErrorCode): void {
  const e = catchMerkle(fn);
  expect(e, 'expected a MerkleError').toBeInstanceOf(MerkleError);
  if (code !== undefined) expect(e?.code).toBe(code);
}

export async function expectMerkleRejects(p: Promise<unknown>, code?: MerkleErrorCode): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(MerkleError);
  if (code !== undefined) expect((e as MerkleError).code).toBe(code);
}

export function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const c = b.slice();
  c[bit >> 3] = (c[bit >> 3] as number) ^ (1 << (bit & 7));
  return c;
}
