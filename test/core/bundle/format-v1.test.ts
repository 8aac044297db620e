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
  });
  it('a filtered bundle verifies against its pinned trust', async () => {
    const r = await verifyBundle(read('filtered.tar'), trust);
    expect(r).toMatchObject({ ok: true, format: 1, mode: 'filtered', filter: { actionPrefix: 'access.' } });
  });
});
