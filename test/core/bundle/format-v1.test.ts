/**
 * Bundles written in format version 1 (test/fixtures/bundle-v1, written by the writer before
 * version 2) still verify, on every verify path, with the report they always had; they carry
 * no attestations section, so a trust that demands a witness quorum refuses them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTrustFile } from '../../../src/cli/trust-file.ts';
import type { BundleTrust } from '../../../src/core/bundle/index.ts';
import { verifyBundle } from './all-paths.ts';
import { testWitness } from './fixture.ts';

const dir = new URL('../../fixtures/bundle-v1/', import.meta.url);
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));
const trustFile = parseTrustFile(read('TRUST.json'), 'TRUST.json');
const trust: BundleTrust = {
  logKeys: trustFile.logKeys ?? [],
  tsaRoots: trustFile.tsaRoots ?? [],
};

describe('format version 1 bundles', () => {
  it('a range bundle verifies against its pinned trust', async () => {
    const r = await verifyBundle(read('range.tar'), trust);
    expect(r).toMatchObject({
      ok: true,
      format: 1,
      mode: 'range',
      records: { count: 20 },
      completeness: { proved: true },
      trustedBundleKeys: false,
      trustedBundleTsaRoots: false,
      timeStamps: { quorum: 2, distinctTsas: 2 },
    });
    expect(r.checkpoints.map((c) => c.size)).toEqual([20, 45, 60]);
    // Its attestations are its RFC 3161 anchors; it has no witness claim.
    expect(r.attestations.map((a) => [a.kind, a.checkpointSize, a.party, a.status])).toEqual([
      ['rfc3161', 60, 'test-ecdsa', 'verified'],
      ['rfc3161', 60, 'test-rsa', 'verified'],
    ]);
    expect(r.witnesses).toEqual({ pinned: 0, quorum: 0, checkpointSize: null, cosigned: 0, by: [] });
  });
  it('a trust that demands a witness quorum refuses a version 1 bundle (it cannot carry cosignatures)', async () => {
    const w = testWitness('wit-a');
    await expect(
      verifyBundle(read('range.tar'), { ...trust, witnesses: [w.vkey], witnessQuorum: 1 }),
    ).rejects.toMatchObject({
      code: 'WITNESS_QUORUM_NOT_MET',
    });
    await expect(
      verifyBundle(read('range.tar'), { ...trust, witnesses: [w.vkey], witnessQuorum: 0 }),
    ).resolves.toMatchObject({
      ok: true,
    });
  });
  it('a filtered bundle verifies against its pinned trust', async () => {
    const r = await verifyBundle(read('filtered.tar'), trust);
    expect(r).toMatchObject({ ok: true, format: 1, mode: 'filtered', filter: { actionPrefix: 'access.' } });
  });
});
