/**
 * Exports carry witness cosignatures (docs/witnessing.md §What an auditor gets): each
 * configured witness's cosignature archived over a checkpoint of the bundle (where the anchor
 * job puts it, src/app/witness.ts) goes into attestations.json when it verifies, and the
 * auditor's `verifyBundle` with the witness keys pinned proves the quorum. On the in-memory
 * adapters, anchored by two in-process TSAs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cosignatureKey } from '../../src/app/witness.ts';
import { type BundleTrust, verifyBundle } from '../../src/core/bundle/index.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hash.ts';
import { formatSignatureLine, parseNote } from '../../src/core/note/signed-note.ts';
import { decodePemCertificates } from '../../src/core/rfc3161/pem.ts';
import {
  type Cosigner,
  cosignerFromSecret,
  formatCosignerKey,
  signCosignature,
} from '../../src/core/witness/index.ts';
import { appendAt, type ExportEnv, memoryExportEnv, sealAndAnchor } from './export-harness.ts';

const LOG = 'witnessed';
const day = (d: number) => new Date(Date.UTC(2026, 0, 1) + d * 86_400_000).toISOString();

interface W {
  readonly name: string;
  readonly keyName: string;
  readonly secret: Uint8Array;
  readonly cosigner: Cosigner;
}
const witness = (name: string): W => {
  const keyName = `${name}.witness.test`;
  const secret = sha256(utf8(keyName));
  return { name, keyName, secret, cosigner: cosignerFromSecret(keyName, secret) };
};
const A = witness('wit-a');
const B = witness('wit-b');
const C = witness('wit-c');

let env: ExportEnv;
let size: number;

/** Archives `w`'s cosignature over the published checkpoint, as the anchor job does (line + newline). */
async function cosignPublished(w: W, line?: string): Promise<void> {
  const cp = await env.archive.getCheckpoint(LOG);
  if (!cp) throw new Error('nothing published');
  const text = parseNote(cp.text).text;
  const l = line ?? formatSignatureLine(signCosignature(w.keyName, w.secret, text, 1_780_000_000));
  await env.archive.putImmutable(cosignatureKey(LOG, size, w.name), utf8(`${l}\n`));
}

const trust = (quorum: number): BundleTrust => ({
  logKeys: [env.vkey(LOG)],
  tsaRoots: env.tsaRootsPem.flatMap((p) => decodePemCertificates(p)),
  witnesses: [A, B, C].map((w) => formatCosignerKey(w.cosigner)),
  witnessQuorum: quorum,
});

async function exported(witnesses: readonly W[]): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  await env
    .exporter({ witnesses: witnesses.map((w) => ({ name: w.name, cosigner: w.cosigner })) })
    .export(LOG, { from: day(0), to: day(5) }, (c) => void chunks.push(c));
  return chunks;
}

beforeAll(async () => {
  env = await memoryExportEnv();
  await env.logRegistry.createLog(LOG);
  for (let d = 0; d < 10; d++)
    await appendAt(env, LOG, day(d), [{ action: 'tool.call', actor: 'u', target: `t${d}` }]);
  size = await sealAndAnchor(env, LOG);
});

describe('exports carry witness cosignatures', () => {
  it('before any witness cosigned: the bundle verifies, but not against a pinned quorum', async () => {
    const chunks = await exported([A, B]);
    await expect(verifyBundle(chunks, trust(0))).resolves.toMatchObject({ witnesses: { cosigned: 0 } });
    await expect(verifyBundle(chunks, trust(1))).rejects.toMatchObject({ code: 'WITNESS_QUORUM_NOT_MET' });
  });
  it('a cosignature that does not verify under the configured key is left out, not shipped', async () => {
    // B's archived line is A's signature under B's name: it cannot verify.
    const cp = await env.archive.getCheckpoint(LOG);
    const text = parseNote((cp as { text: string }).text).text;
    const forged = formatSignatureLine({
      ...signCosignature(A.keyName, A.secret, text, 1_780_000_000),
      name: B.keyName,
      keyId: B.cosigner.keyId,
    });
    await cosignPublished(B, forged);
    const report = await verifyBundle(await exported([A, B]), trust(0));
    expect(report.attestations.filter((a) => a.kind === 'witness-cosignature')).toEqual([]);
  });
  it('with the quorum archived: the bundle carries the good cosignatures and verifies with quorum 2', async () => {
    await cosignPublished(A);
    await cosignPublished(C);
    const chunks = await exported([A, B, C]);
    const r = await verifyBundle(chunks, trust(2));
    expect(r.witnesses).toMatchObject({ pinned: 3, quorum: 2, cosigned: 2, checkpointSize: size });
    expect(r.attestations.filter((a) => a.kind === 'witness-cosignature').map((a) => a.party)).toEqual([
      'wit-a',
      'wit-c',
    ]);
    await expect(verifyBundle(chunks, trust(3))).rejects.toMatchObject({ code: 'WITNESS_QUORUM_NOT_MET' });
  });
});
