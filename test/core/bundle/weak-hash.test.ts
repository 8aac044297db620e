/**
 * The bundle verifier accepts only time-stamps whose imprint, CMS digest and
 * signature use SHA-256 or stronger (TIMESTAMP_WEAK_HASH otherwise): there is
 * no way to relax this for a bundle (docs/bundle.md §Time-stamps). Tokens
 * come from a real pkijs TSA (src/adapters/memory/tsa-pki.ts) over the
 * bundle's own checkpoint, so each is valid except for its hash.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createPki,
  issueToken,
  type MockPki,
  response,
  type TokenOptions,
} from '../../../src/adapters/memory/tsa-pki.ts';
import { BundleError, type BundleTrust, verifyBundle } from '../../../src/core/bundle/index.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { vkeyFromSpki } from '../../../src/core/note/index.ts';
import { verifyTimestamp } from '../../../src/core/rfc3161/index.ts';
import { checkpointNote, exportBundle, makeLog, type TestLog } from './fixture.ts';

const FROM = '2025-06-01T00:05:00.000Z';
const TO = '2025-06-01T00:15:00.000Z';

let pki: MockPki;
let log: TestLog;
let note: string;
let trust: BundleTrust;

async function bundleWith(o: Partial<TokenOptions>): Promise<Uint8Array> {
  const token = await issueToken(pki, { data: utf8(note), ...o });
  return exportBundle(log, {
    fromTime: FROM,
    toTime: TO,
    notes: [note],
    anchors: [
      {
        size: 30,
        tsa: 'mock',
        response: response({ token }),
        chain: [pki.tsa.der, pki.intermediate.der, pki.root.der],
      },
    ],
  });
}

beforeAll(async () => {
  pki = await createPki();
  log = makeLog(30);
  note = await checkpointNote(log, 30);
  trust = { logKeys: [vkeyFromSpki(log.origin, log.signer.publicKeySpki)], tsaRoots: [pki.root.der] };
});

describe('bundle time-stamps must use SHA-256 or stronger', () => {
  it('a SHA-256 token from the same TSA verifies', async () => {
    await expect(verifyBundle(await bundleWith({}), trust)).resolves.toMatchObject({
      ok: true,
      anchors: [{ tsa: 'mock' }],
    });
  });

  it.each([
    ['a SHA-1 messageImprint', { imprintHash: 'SHA-1' }],
    ['a SHA-1 CMS digest', { digestHash: 'SHA-1' }],
    ['an ecdsa-with-SHA1 signature', { signatureHash: 'SHA-1' }],
  ] as const)('%s is refused with TIMESTAMP_WEAK_HASH', async (_n, o) => {
    const b = await bundleWith(o);
    const e = await verifyBundle(b, trust).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e, 'the bundle verified but must not').toBeInstanceOf(BundleError);
    expect((e as BundleError).code).toBe('TIMESTAMP_WEAK_HASH');
    expect((e as BundleError).member).toBe('anchors/30/mock.tsr');
    // Also when the TSA roots come from the bundle itself.
    const own = await verifyBundle(b, { logKeys: trust.logKeys }).catch((x: BundleError) => x.code);
    expect(own).toBe('TIMESTAMP_WEAK_HASH');
    // The token itself is sound apart from SHA-1: it verifies when SHA-1 is explicitly allowed.
    const token = await issueToken(pki, { data: utf8(note), ...o });
    await expect(
      verifyTimestamp(token, { expected: { data: utf8(note) }, roots: [pki.root.der], allowSha1: true }),
    ).resolves.toBeDefined();
  });
});
