/**
 * `anchorlog verify` on a bundle of a log signed with an Ed25519 key (docs/formats.md §Ed25519
 * log keys): TRUST.json pins its 0x01 vkey like any other log key; a P-256 key pinned under
 * the same name does not verify it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { runVerify } from '../../src/cli/verify.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { vkeyFromSpki } from '../../src/core/note/index.ts';
import { exportBundle, makeLog, TSA_ROOTS_PEM } from '../core/bundle/fixture.ts';
import { captureIo } from './support.ts';

const files: Record<string, Uint8Array> = {};

beforeAll(async () => {
  const origin = 'anchorlog.test/tenant-a';
  const log = makeLog(30, { signer: LocalNoteSigner.generate(origin, 'ed25519') });
  files['/mem/ed.tar'] = await exportBundle(log, {
    fromTime: '2025-06-01T00:05:00.000Z',
    toTime: '2025-06-01T00:15:00.000Z',
  });
  files['/mem/trust.json'] = utf8(
    JSON.stringify({ logKeys: [vkeyFromSpki(origin, log.signer.publicKeySpki)], tsaRoots: TSA_ROOTS_PEM }),
  );
  const ec = LocalNoteSigner.generate(origin);
  files['/mem/wrong.json'] = utf8(
    JSON.stringify({ logKeys: [vkeyFromSpki(origin, ec.publicKeySpki)], tsaRoots: TSA_ROOTS_PEM }),
  );
});

async function run(...argv: string[]) {
  const io = captureIo(files);
  const code = await runVerify(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('anchorlog verify: an Ed25519-signed log', () => {
  it('verifies against the pinned 0x01 vkey: exit 0', async () => {
    const r = await run('/mem/ed.tar', '--trust', '/mem/trust.json', '--json');
    expect(r.code, r.out + r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, trustedBundleKeys: false, records: { count: 10 } });
  });
  it('another key pinned for the log: exit 1, UNTRUSTED_KEY', async () => {
    const r = await run('/mem/ed.tar', '--trust', '/mem/wrong.json', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ error: { code: 'UNTRUSTED_KEY' } });
  });
});
