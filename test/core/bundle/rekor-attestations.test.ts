/**
 * Rekor entries in attestations.json (docs/anchoring.md §Rekor, docs/bundle.md
 * §attestations.json): verified offline against pinned Rekor trust (log key + anchor key),
 * reported but not judged without it, and every tampering refused with REKOR_ENTRY_INVALID
 * (the RekorError code named in the message). Runs on every verify path (all-paths.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../../src/adapters/memory/local-signer.ts';
import { BundleError, type BundleTrust } from '../../../src/core/bundle/index.ts';
import { fromBase64, toBase64, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hash.ts';
import { verifierFromSpki } from '../../../src/core/note/verifiers.ts';
import { formatVerifierKey } from '../../../src/core/note/vkey.ts';
import { RekorStandInLog } from '../../../src/core/rekor/stand-in.ts';
import { verifyBundle } from './all-paths.ts';
import {
  checkpointNote,
  exportBundle,
  find,
  json,
  makeLog,
  members,
  repack,
  setJson,
  type TestLog,
  trustFor,
} from './fixture.ts';

const FROM = '2025-06-01T00:10:00.000Z';
const TO = '2025-06-01T00:30:00.000Z';
const ATT = 'attestations.json';
type Entry = { kind: string; checkpoint: number; party: string; evidence: Record<string, string> };

const rekorKey = LocalNoteSigner.generate('rekor.bundle.test', 'ed25519');
const anchorKey = LocalNoteSigner.generate('anchor');
const rekorVkey = formatVerifierKey(verifierFromSpki(rekorKey.keyName, rekorKey.publicKeySpki));

let log: TestLog;
let bundle: Uint8Array;
let trust: BundleTrust;
let rtrust: BundleTrust;

async function entryFor(note: string, rekor = new RekorStandInLog(rekorKey)): Promise<Uint8Array> {
  const data = utf8(note);
  return rekor.add({
    digest: sha256(data),
    signature: await anchorKey.sign(data),
    spki: anchorKey.publicKeySpki,
  });
}

beforeAll(async () => {
  log = makeLog(60);
  const notes = await Promise.all([45, 60].map((s) => checkpointNote(log, s)));
  const rekor = new RekorStandInLog(rekorKey);
  await entryFor('someone else', rekor);
  bundle = await exportBundle(log, {
    fromTime: FROM,
    toTime: TO,
    checkpoints: [45, 60],
    notes,
    rekorEntries: [
      { size: 45, party: 'rekor', entry: await entryFor(notes[0] as string, rekor) },
      { size: 60, party: 'rekor', entry: await entryFor(notes[1] as string, rekor) },
    ],
  });
  trust = trustFor(log);
  rtrust = { ...trust, rekor: { logKeys: [rekorVkey], anchorKeys: [anchorKey.publicKeySpki] } };
});

async function edit(f: (es: Entry[]) => Entry[]): Promise<Uint8Array> {
  const ms = await members(bundle);
  const m = find(ms, ATT);
  setJson(m, { attestations: f((json(m) as { attestations: Entry[] }).attestations) });
  return repack(ms, { fix: true });
}

async function refused(b: Uint8Array, t: BundleTrust, why: string): Promise<void> {
  try {
    await verifyBundle(b, t);
  } catch (e) {
    expect(e).toBeInstanceOf(BundleError);
    expect((e as BundleError).code).toBe('REKOR_ENTRY_INVALID');
    expect((e as BundleError).message).toContain(why);
    return;
  }
  throw new Error('verified but should have been refused');
}

/** Rewrites the Rekor entry over `size` (its TransparencyLogEntry JSON). */
const editEntry = (size: number, f: (j: Record<string, unknown>) => void) =>
  edit((es) =>
    es.map((e) => {
      if (e.kind !== 'rekor' || e.checkpoint !== size) return e;
      const j = JSON.parse(new TextDecoder().decode(fromBase64(e.evidence.entry as string)));
      f(j);
      return { ...e, evidence: { entry: toBase64(utf8(JSON.stringify(j))) } };
    }),
  );

describe('bundles with Rekor entries', () => {
  it('verify with the Rekor key pinned: each entry verified, by origin and log index', async () => {
    const r = await verifyBundle(bundle, rtrust);
    expect(
      r.attestations.filter((a) => a.kind === 'rekor').map((a) => [a.checkpointSize, a.status, a.by]),
    ).toEqual([
      [45, 'verified', 'rekor.bundle.test#1'],
      [60, 'verified', 'rekor.bundle.test#2'],
    ]);
  });

  it('verify without Rekor trust: reported unknown-rekor, not judged', async () => {
    const r = await verifyBundle(bundle, trust);
    expect(r.attestations.filter((a) => a.kind === 'rekor').map((a) => a.status)).toEqual([
      'unknown-rekor',
      'unknown-rekor',
    ]);
  });

  it('an entry moved to another checkpoint records another digest', async () => {
    const b = await edit((es) => {
      const e45 = es.find((e) => e.kind === 'rekor' && e.checkpoint === 45) as Entry;
      return es.map((e) =>
        e.kind === 'rekor' && e.checkpoint === 60 ? { ...e, evidence: e45.evidence } : e,
      );
    });
    await refused(b, rtrust, 'REKOR_DIGEST_MISMATCH');
  });

  it('another anchor key pinned', async () => {
    const other = LocalNoteSigner.generate('other').publicKeySpki;
    await refused(
      bundle,
      { ...rtrust, rekor: { logKeys: [rekorVkey], anchorKeys: [other] } },
      'REKOR_KEY_MISMATCH',
    );
  });

  it('a broken inclusion proof', async () => {
    const b = await editEntry(60, (j) => {
      const p = j.inclusionProof as { hashes: string[] };
      const h = fromBase64(p.hashes[0] as string);
      h[0] = (h[0] as number) ^ 1;
      p.hashes[0] = toBase64(h);
    });
    await refused(b, rtrust, 'REKOR_INCLUSION_PROOF_INVALID');
  });

  it('a checkpoint signed by another Rekor key than the pinned one', async () => {
    const impostor = LocalNoteSigner.generate('rekor.bundle.test', 'ed25519');
    const vkey = formatVerifierKey(verifierFromSpki(impostor.keyName, impostor.publicKeySpki));
    await refused(
      bundle,
      { ...rtrust, rekor: { logKeys: [vkey], anchorKeys: [anchorKey.publicKeySpki] } },
      'REKOR_CHECKPOINT_UNTRUSTED',
    );
  });

  it('garbage evidence', async () => {
    const b = await edit((es) =>
      es.map((e) =>
        e.kind === 'rekor' && e.checkpoint === 60
          ? { ...e, evidence: { entry: toBase64(utf8('<html>')) } }
          : e,
      ),
    );
    await refused(b, rtrust, 'REKOR_MALFORMED_ENTRY');
  });
});
