/**
 * A pinned log key vouches for one log only: the log whose origin is the
 * key's name (docs/bundle.md §Checkpoints and keys). One KMS key signs every
 * log of a deployment and a 0x02 key ID does not depend on the key name, so
 * the name is the only thing that ties a signature to a log. These tests run
 * the rename attack: log B's checkpoint with its signature line renamed to
 * log A's key name, re-time-stamped by a pinned TSA (anyone can get a token).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../../src/adapters/memory/local-signer.ts';
import { BundleError, type BundleTrust, verifyBundle } from '../../../src/core/bundle/index.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { spkiToPem, vkeyFromSpki } from '../../../src/core/note/index.ts';
import {
  checkpointNote,
  exportBundle,
  find,
  json,
  makeLog,
  members,
  repack,
  sameKeyNamed,
  setJson,
  type TestLog,
  TSA_ROOTS,
} from './fixture.ts';

const FROM = '2025-06-01T00:05:00.000Z';
const TO = '2025-06-01T00:15:00.000Z';
const A = 'anchorlog.test/tenant-a';
const B = 'anchorlog.test/tenant-b';

let key: LocalNoteSigner;
let logA: TestLog;
let logB: TestLog;
/** Log B's bundle whose checkpoint signature line says A's key name, anchors over that note. */
let renamed: Uint8Array;
let trustA: BundleTrust;

/** The note with every signature line's key name replaced. */
const rename = (note: string, from: string, to: string) => note.replaceAll(`\n— ${from} `, `\n— ${to} `);

async function rejection(b: Uint8Array, t: BundleTrust): Promise<BundleError> {
  const e = await verifyBundle(b, t).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, 'the bundle verified but must not').toBeInstanceOf(BundleError);
  return e as BundleError;
}

beforeAll(async () => {
  key = LocalNoteSigner.generate(A);
  logA = makeLog(30, { logId: 'tenant-a', signer: key });
  logB = makeLog(30, { logId: 'tenant-b', signer: sameKeyNamed(key, B) });
  const noteB = await checkpointNote(logB, 30);
  renamed = await exportBundle(logB, { fromTime: FROM, toTime: TO, notes: [rename(noteB, B, A)] });
  trustA = { logKeys: [vkeyFromSpki(A, key.publicKeySpki)], tsaRoots: TSA_ROOTS };
});

describe('a pinned log key vouches only for the log named like it', () => {
  it("log A's own bundle verifies under A's pinned key", async () => {
    const a = await exportBundle(logA, { fromTime: FROM, toTime: TO });
    await expect(verifyBundle(a, trustA)).resolves.toMatchObject({ ok: true, origin: A });
  });

  it('the rename attack: B’s checkpoint signed as A is refused with ORIGIN_NOT_PINNED', async () => {
    const e = await rejection(renamed, trustA);
    expect(e.code, e.message).toBe('ORIGIN_NOT_PINNED');
    expect(e.member).toBe('header.json');
  });

  it('the same with `origins` pinned explicitly', async () => {
    const e = await rejection(renamed, { ...trustA, origins: [A] });
    expect(e.code, e.message).toBe('ORIGIN_NOT_PINNED');
  });

  it('the rename attack with header, manifest and keys rewritten to A: UNTRUSTED_KEY (refused before too)', async () => {
    const ms = await members(renamed);
    for (const path of ['header.json', 'manifest.json']) {
      const m = find(ms, path);
      const h = json(m);
      h.origin = A;
      h.logId = 'tenant-a';
      setJson(m, h);
    }
    find(ms, 'keys/log.vkey').data = utf8(`${vkeyFromSpki(A, key.publicKeySpki)}\n`);
    find(ms, 'keys/log.pem').data = utf8(spkiToPem(key.publicKeySpki));
    const e = await rejection(repack(ms, { fix: true }), trustA);
    expect(e.code, e.message).toBe('UNTRUSTED_KEY');
    expect(e.member).toBe('checkpoints/30.note');
  });

  it('a pinned key named for another origin does not verify a genuine bundle of B', async () => {
    const b = await exportBundle(logB, { fromTime: FROM, toTime: TO });
    expect((await rejection(b, trustA)).code).toBe('ORIGIN_NOT_PINNED');
    // Pinning B (same key material, B's name) is what accepts it.
    const trustB = { logKeys: [vkeyFromSpki(B, key.publicKeySpki)], tsaRoots: TSA_ROOTS };
    await expect(verifyBundle(b, trustB)).resolves.toMatchObject({ ok: true, origin: B });
    // …but not the renamed one: B's key name is not on its signature line any more.
    expect((await rejection(renamed, trustB)).code).toBe('UNTRUSTED_KEY');
  });

  it('`origins` narrows which of the pinned logs are accepted', async () => {
    const b = await exportBundle(logB, { fromTime: FROM, toTime: TO });
    const both = [vkeyFromSpki(A, key.publicKeySpki), vkeyFromSpki(B, key.publicKeySpki)];
    await expect(verifyBundle(b, { logKeys: both, tsaRoots: TSA_ROOTS })).resolves.toMatchObject({
      origin: B,
    });
    const e = await rejection(b, { logKeys: both, tsaRoots: TSA_ROOTS, origins: [A] });
    expect(e.code).toBe('ORIGIN_NOT_PINNED');
  });

  it('an origin pinned without a key named after it is unusable trust (INVALID_TRUST)', async () => {
    const e = await rejection(renamed, { ...trustA, origins: [A, B] });
    expect(e.code).toBe('INVALID_TRUST');
  });

  it('a header whose origin does not end with /<logId> is refused (MANIFEST_INVALID)', async () => {
    const ms = await members(await exportBundle(logA, { fromTime: FROM, toTime: TO }));
    for (const path of ['header.json', 'manifest.json']) {
      const m = find(ms, path);
      const h = json(m);
      h.logId = 'tenant-z';
      setJson(m, h);
    }
    const e = await rejection(repack(ms, { fix: true }), trustA);
    expect(e.code).toBe('MANIFEST_INVALID');
  });
});
