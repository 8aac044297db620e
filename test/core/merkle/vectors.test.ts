/**
 * The transparency-dev/merkle proof vectors (shared/vectors/rfc6962-proofs, see its
 * SOURCE.md): every happy path verifies, every `wantErr` file is rejected with a
 * MerkleError. Integers are kept as text and parsed with parseSafeUint, so
 * 18446744073709551615 is rejected as out of range instead of rounding to 2^64.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, toBase64 } from '../../../src/core/bytes.ts';
import { MerkleError } from '../../../src/core/merkle/errors.ts';
import { hashLeaf } from '../../../src/core/merkle/hasher.ts';
import { parseSafeUint } from '../../../src/core/merkle/numbers.ts';
import { consistencyProof, inclusionProof } from '../../../src/core/merkle/proof-from-leaves.ts';
import { rootOf } from '../../../src/core/merkle/root.ts';
import { verifyConsistency, verifyInclusion } from '../../../src/core/merkle/verify.ts';
import { VECTORS_DIR } from '../../support/vectors.ts';

const dir = `${VECTORS_DIR}/rfc6962-proofs/`;

function files(kind: string): string[] {
  return readdirSync(join(dir, kind)).flatMap((sub) =>
    readdirSync(join(dir, kind, sub))
      .filter((f) => f.endsWith('.json'))
      .map((f) => `${kind}/${sub}/${f}`),
  );
}

/** JSON with every bare integer turned into its digit string (BigInt-safe). */
function load(rel: string): Record<string, unknown> {
  const text = readFileSync(join(dir, rel), 'utf8').replace(/(:\s*)(-?\d+)(\s*[,}\n])/g, '$1"$2"$3');
  return JSON.parse(text) as Record<string, unknown>;
}

const num = (v: unknown, what: string) => parseSafeUint(String(v), what, 'INDEX_OUT_OF_RANGE');
const b64 = (v: unknown) => fromBase64(String(v));
const b64s = (v: unknown) => ((v ?? []) as string[]).map((s) => fromBase64(s));

const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => hashLeaf(fromHex(h)));

describe('rfc6962 inclusion vectors', () => {
  const all = files('inclusion');
  it('finds the vector files', () => expect(all.length).toBeGreaterThan(60));
  it.each(all)('%s', (rel) => {
    const v = load(rel);
    const run = () =>
      verifyInclusion(
        b64(v.leafHash),
        num(v.leafIdx, 'leafIdx'),
        num(v.treeSize, 'treeSize'),
        b64s(v.proof),
        b64(v.root),
      );
    if (v.wantErr === true) {
      expect(run).toThrow(MerkleError);
    } else {
      expect(run).not.toThrow();
    }
  });
  it.each(all.filter((f) => /\/\d+\/happy-path/.test(f)))('%s matches our generated proof', (rel) => {
    const v = load(rel);
    const idx = num(v.leafIdx, 'leafIdx');
    const size = num(v.treeSize, 'treeSize');
    expect(inclusionProof(LEAVES, idx, size).map(toBase64)).toEqual((v.proof ?? []) as string[]);
    expect(toBase64(rootOf(LEAVES.slice(0, size)))).toBe(v.root);
  });
});

describe('rfc6962 consistency vectors', () => {
  const all = files('consistency');
  it('finds the vector files', () => expect(all.length).toBeGreaterThan(90));
  it.each(all)('%s', (rel) => {
    const v = load(rel);
    const run = () =>
      verifyConsistency(
        num(v.size1, 'size1'),
        num(v.size2, 'size2'),
        b64s(v.proof),
        b64(v.root1),
        b64(v.root2),
      );
    if (v.wantErr === true) {
      expect(run).toThrow(MerkleError);
    } else {
      expect(run).not.toThrow();
    }
  });
  it.each(all.filter((f) => /\/\d+\/happy-path/.test(f)))('%s matches our generated proof', (rel) => {
    const v = load(rel);
    const s1 = num(v.size1, 'size1');
    const s2 = num(v.size2, 'size2');
    expect(consistencyProof(LEAVES, s1, s2).map(toBase64)).toEqual((v.proof ?? []) as string[]);
  });
});

describe('vector number parsing', () => {
  it('rejects 2^64 - 1 rather than rounding it', () => {
    expect(() => num('18446744073709551615', 'leafIdx')).toThrow(MerkleError);
    expect(num(String(Number.MAX_SAFE_INTEGER), 'x')).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => num('9007199254740992', 'x')).toThrow(MerkleError);
    for (const bad of ['-1', '01', '1e3', '1.0', '', ' 1']) expect(() => num(bad, 'x')).toThrow(MerkleError);
  });
});
