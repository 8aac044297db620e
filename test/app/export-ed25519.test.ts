/**
 * A log signed with an Ed25519 key end to end on the in-memory adapters: ingest, seal (the
 * checkpoint signed with a 0x01 key named after the log), anchor (the anchor job verifies the
 * published checkpoint with the same key), export, and the auditor's verifyBundle with the
 * pinned 0x01 vkey. The bundle's keys/log.pem is the Ed25519 SPKI (RFC 8410).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { verifyBundle } from '../../src/core/bundle/index.ts';
import { parseVerifierKey } from '../../src/core/note/index.ts';
import { decodePemCertificates } from '../../src/core/rfc3161/pem.ts';
import { appendAt, type ExportEnv, memoryExportEnv, sealAndAnchor } from './export-harness.ts';

const LOG = 'ed-log';
const day = (d: number) => new Date(Date.UTC(2026, 0, 1) + d * 86_400_000).toISOString();
let env: ExportEnv;

beforeAll(async () => {
  env = await memoryExportEnv(LocalNoteSigner.generate('export-test-key', 'ed25519'));
  await env.logRegistry.createLog(LOG);
  for (let d = 0; d < 6; d++)
    await appendAt(env, LOG, day(d), [{ action: 'tool.call', actor: 'u', target: `t${d}` }]);
  await sealAndAnchor(env, LOG);
});

describe('an Ed25519-signed log', () => {
  it('seals, anchors, exports, and the bundle verifies against the pinned 0x01 vkey', async () => {
    const vkey = env.vkey(LOG);
    expect(parseVerifierKey(vkey).type).toBe('ed25519');
    const chunks: Uint8Array[] = [];
    await env.exporter().export(LOG, { from: day(1), to: day(4) }, (c) => void chunks.push(c));
    const r = await verifyBundle(chunks, {
      logKeys: [vkey],
      tsaRoots: env.tsaRootsPem.flatMap((p) => decodePemCertificates(p)),
    });
    expect(r).toMatchObject({ ok: true, trustedBundleKeys: false, records: { count: 3 } });
    expect(r.checkpoint.signedBy).toEqual([vkey.split('+').slice(0, 2).join('+')]);
  });
  it('GET /v1/keys?log=L gives the vkey computed for that log (a 0x01 key ID depends on the name)', async () => {
    const { keys } = await env.proofs.keys(LOG);
    expect(keys[0]?.vkey).toBe(env.vkey(LOG));
    const other = (await env.proofs.keys('another-log')).keys[0]?.vkey as string;
    expect(other.split('+')[1]).not.toBe(env.vkey(LOG).split('+')[1]);
  });
});
