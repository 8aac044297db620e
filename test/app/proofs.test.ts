import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import { ProofService } from '../../src/app/proofs.ts';
import { bytesEqual, fromBase64 } from '../../src/core/bytes.ts';
import { decodeEntryBundle } from '../../src/core/merkle/entry-bundle.ts';
import { hashLeaf } from '../../src/core/merkle/hasher.ts';
import { rootOf } from '../../src/core/merkle/root.ts';
import { entryBundlePath, tilePath } from '../../src/core/merkle/tile-path.ts';
import { verifyConsistency, verifyInclusion } from '../../src/core/merkle/verify.ts';
import { checkpointFromNote, type VerifiedCheckpoint } from '../../src/core/note/verify.ts';
import { parseVerifierKey } from '../../src/core/note/vkey.ts';
import { verifyChain, ZERO_HASH } from '../../src/core/record.ts';
import { archiveKey } from '../../src/ports/archive-store.ts';
import {
  entriesFromBundles,
  growAndSeal,
  ORIGIN_PREFIX,
  prng,
  type ReadEnv,
  readEnv,
} from './proofs-fixture.ts';

const LOG = 'alpha';
const origin = `${ORIGIN_PREFIX}/${LOG}`;
let env: ReadEnv;
let checkpoints: VerifiedCheckpoint[];
let leaves: Uint8Array[];

async function expectApp(p: Promise<unknown>, code: string, path?: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
  if (path !== undefined) expect((err as AppError).path).toBe(path);
}

beforeAll(async () => {
  env = await readEnv();
  // Sizes 5, 255, 256, 556, 1256: partial, one short of full, exactly full, mixed, two tile levels.
  const texts = await growAndSeal(env, LOG, [5, 250, 1, 300, 700]);
  const key = parseVerifierKey((await env.proofs.keys(LOG)).keys[0]?.vkey ?? '');
  checkpoints = texts.map((t) => checkpointFromNote(t, origin, [key]));
  const size = checkpoints[checkpoints.length - 1]?.size ?? 0;
  leaves = verifyChain(await entriesFromBundles(env, LOG, size), ZERO_HASH, {
    firstIndex: 0,
    logId: LOG,
  }).leafHashes;
});

describe('ProofService over a sealed log (moto, real ingest and sealer)', () => {
  it('serves the latest checkpoint, and the entry bundles alone rebuild its root', async () => {
    expect(checkpoints.map((c) => c.size)).toEqual([5, 255, 256, 556, 1256]);
    const latest = checkpoints[checkpoints.length - 1] as VerifiedCheckpoint;
    const text = await env.proofs.latestCheckpoint(LOG);
    const key = parseVerifierKey((await env.proofs.keys(LOG)).keys[0]?.vkey ?? '');
    expect(checkpointFromNote(text, origin, [key]).size).toBe(latest.size);
    expect(leaves).toHaveLength(latest.size);
    expect(bytesEqual(rootOf(leaves), latest.rootHash)).toBe(true);
  });

  it('inclusion proofs for random indexes and sizes verify with the core verifier', async () => {
    const rnd = prng(7);
    const latest = checkpoints[checkpoints.length - 1] as VerifiedCheckpoint;
    const cases: Array<[number, number]> = [
      [0, 1],
      [0, latest.size],
      [latest.size - 1, latest.size],
      [255, 256],
      [256, 257],
      [511, 512],
      [512, 513],
    ];
    for (let i = 0; i < 40; i++) {
      const size = 1 + rnd(latest.size);
      cases.push([rnd(size), size]);
    }
    for (const [index, size] of cases) {
      const p = await env.proofs.inclusionProof(LOG, index, size);
      expect(p).toMatchObject({ index, size });
      verifyInclusion(
        leaves[index] as Uint8Array,
        index,
        size,
        p.hashes.map(fromBase64),
        rootOf(leaves.slice(0, size)),
      );
    }
    // Default size: the latest checkpoint, checked against its signed root.
    for (const index of [0, 300, latest.size - 1]) {
      const p = await env.proofs.inclusionProof(LOG, index);
      expect(p.size).toBe(latest.size);
      verifyInclusion(leaves[index] as Uint8Array, index, p.size, p.hashes.map(fromBase64), latest.rootHash);
    }
  });

  it('consistency proofs between every pair of published checkpoints verify', async () => {
    for (const a of checkpoints) {
      for (const b of checkpoints) {
        if (a.size > b.size) continue;
        const p = await env.proofs.consistencyProof(LOG, a.size, b.size);
        expect(p).toMatchObject({ from: a.size, to: b.size });
        verifyConsistency(a.size, b.size, p.hashes.map(fromBase64), a.rootHash, b.rootHash);
      }
    }
    const rnd = prng(11);
    for (let i = 0; i < 30; i++) {
      const to = 1 + rnd(leaves.length);
      const from = 1 + rnd(to);
      const p = await env.proofs.consistencyProof(LOG, from, i % 2 === 0 ? to : undefined);
      const want = i % 2 === 0 ? to : leaves.length;
      expect(p.to).toBe(want);
      verifyConsistency(
        from,
        want,
        p.hashes.map(fromBase64),
        rootOf(leaves.slice(0, from)),
        rootOf(leaves.slice(0, want)),
      );
    }
  });

  it('serves tiles inside the tree; partials of older sizes are cut from the current tile', async () => {
    const full = await env.proofs.tile(LOG, tilePath(0, 0));
    expect(full).toMatchObject({ kind: 'hash', full: true });
    expect(
      bytesEqual(full.bytes, (await env.archive.get(archiveKey(LOG, tilePath(0, 0)))) as Uint8Array),
    ).toBe(true);
    // Stored by the seal at size 5; and width 7, never stored, cut from the full tile.
    for (const w of [5, 7]) {
      const t = await env.proofs.tile(LOG, tilePath(0, 0, w));
      expect(t.full).toBe(false);
      expect(bytesEqual(t.bytes, full.bytes.subarray(0, w * 32))).toBe(true);
    }
    const bundle = await env.proofs.tile(LOG, entryBundlePath(4, 232));
    const entries = decodeEntryBundle(bundle.bytes, 232);
    entries.forEach((e, i) => {
      expect(bytesEqual(hashLeaf(e), leaves[1024 + i] as Uint8Array)).toBe(true);
    });
    const cut = await env.proofs.tile(LOG, entryBundlePath(4, 3));
    expect(decodeEntryBundle(cut.bytes, 3)).toEqual(entries.slice(0, 3));
    expect((await env.proofs.tile(LOG, tilePath(1, 0, 4))).bytes).toHaveLength(128);

    // Outside the tree of size 1256: NOT_FOUND, whatever the archive holds.
    for (const p of [
      tilePath(0, 4),
      tilePath(0, 4, 233),
      tilePath(0, 5, 1),
      entryBundlePath(4),
      tilePath(1, 0, 5),
      tilePath(2, 0, 1),
    ])
      await expectApp(env.proofs.tile(LOG, p), 'NOT_FOUND');
    for (const p of [
      'tile/../x',
      'tile/0/x000/001',
      'tile/0/1',
      'tile/0/000.p/256',
      'tile/0/000.p/0',
      'tile/64/000',
      'tile/entries/000.p/',
      'checkpoint',
      '',
      'tile/0/000/',
    ])
      await expectApp(env.proofs.tile(LOG, p), 'BAD_REQUEST', '/path');
  });

  it('refuses bad parameters with BAD_REQUEST naming them, unknown logs with NOT_FOUND', async () => {
    const size = leaves.length;
    await expectApp(env.proofs.latestCheckpoint('nope'), 'NOT_FOUND');
    await expectApp(env.proofs.inclusionProof('nope', 0), 'NOT_FOUND');
    await expectApp(env.proofs.tile('nope', tilePath(0, 0, 1)), 'NOT_FOUND');
    await env.logRegistry.createLog('unsealed');
    await expectApp(env.proofs.consistencyProof('unsealed', 1), 'NOT_FOUND');

    await expectApp(env.proofs.inclusionProof(LOG, size), 'BAD_REQUEST', '/query/index');
    await expectApp(env.proofs.inclusionProof(LOG, 5, 5), 'BAD_REQUEST', '/query/index');
    await expectApp(env.proofs.inclusionProof(LOG, -1), 'BAD_REQUEST', '/query/index');
    await expectApp(env.proofs.inclusionProof(LOG, 1.5), 'BAD_REQUEST', '/query/index');
    await expectApp(env.proofs.inclusionProof(LOG, 0, size + 1), 'BAD_REQUEST', '/query/size');
    await expectApp(env.proofs.inclusionProof(LOG, 0, 0), 'BAD_REQUEST', '/query/size');
    await expectApp(env.proofs.inclusionProof(LOG, 0, 2 ** 60), 'BAD_REQUEST', '/query/size');
    await expectApp(env.proofs.consistencyProof(LOG, 10, 9), 'BAD_REQUEST', '/query/from');
    await expectApp(env.proofs.consistencyProof(LOG, 0, 9), 'BAD_REQUEST', '/query/from');
    await expectApp(env.proofs.consistencyProof(LOG, 1, size + 1), 'BAD_REQUEST', '/query/to');
    expect((await env.proofs.consistencyProof(LOG, 9, 9)).hashes).toEqual([]);
  });

  it('keys(): a vkey template and the PEM, naming no log; keys(L) adds the vkey of L', async () => {
    const { keys } = await env.proofs.keys();
    expect(keys).toHaveLength(1);
    const k = keys[0];
    expect(k?.name).toBe(`${ORIGIN_PREFIX}/{logId}`);
    expect(k?.vkey).toBeUndefined();
    expect(JSON.stringify(keys)).not.toContain(LOG);
    expect(k?.pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const own = (await env.proofs.keys(LOG)).keys[0];
    expect(own?.vkey).toBe(k?.vkeyTemplate.replace('{logId}', LOG));
    expect(own?.vkey).toMatch(new RegExp(`^${ORIGIN_PREFIX}/${LOG}\\+${k?.keyId}\\+`));
    // The same answer for a log that does not exist: nothing is looked up.
    expect((await env.proofs.keys('never-created')).keys[0]?.vkey).toBe(
      k?.vkeyTemplate.replace('{logId}', 'never-created'),
    );
    await expectApp(env.proofs.keys('Not_A_Log'), 'BAD_REQUEST', '/query/log');
  });

  it('keys(): the public key is fetched once and kept; a failed fetch is not kept', async () => {
    let calls = 0;
    let fail = true;
    const proofs = new ProofService({
      archive: env.counting,
      originPrefix: ORIGIN_PREFIX,
      publicKeys: async () => {
        calls++;
        if (fail) throw new Error('KMS throttled');
        return [env.signer.publicKeySpki];
      },
    });
    await expectApp(proofs.keys(), 'UNAVAILABLE');
    fail = false;
    for (let i = 0; i < 5; i++) await proofs.keys(i % 2 ? LOG : undefined);
    expect(calls).toBe(2);
  });
});
