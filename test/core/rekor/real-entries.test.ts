/**
 * The core's Rekor v2 verifier (src/core/rekor) against real entries of the production and
 * staging Rekor v2 logs (test/fixtures/rekor/SOURCE.md): RFC 6962 inclusion of the
 * canonicalized body, the checkpoint signed by the pinned Ed25519 log key, and — for the
 * production hashedrekord with a public key, the shape anchorlog submits — every binding of
 * the body (digest, key, signature, canonical form).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromBase64 } from '../../../src/core/bytes.ts';
import { parseVerifierKey } from '../../../src/core/note/index.ts';
import {
  encodeRekorEntry,
  parseHashedRekordBody,
  parseRekorEntry,
  type RekorEntry,
  RekorError,
  verifyRekorEntry,
  verifyRekorInclusion,
} from '../../../src/core/rekor/index.ts';

const dir = new URL('../../fixtures/rekor/', import.meta.url);
const read = (set: string, f: string) => new Uint8Array(readFileSync(new URL(`${set}/${f}`, dir)));
const text = (set: string, f: string) => readFileSync(new URL(`${set}/${f}`, dir), 'utf8');

/** The TransparencyLogEntry rekor-tiles would have returned for the set, as protojson bytes. */
function entryOf(set: string): Uint8Array {
  const p = JSON.parse(text(set, 'proof.json'));
  const e: RekorEntry = {
    logIndex: p.entryLogIndex,
    logKeyId: fromBase64(p.logIdKeyId),
    kind: p.kindVersion.kind,
    version: p.kindVersion.version,
    integratedTime: 0,
    inclusionProof: {
      logIndex: p.proofIndex,
      rootHash: fromBase64(p.rootHash),
      treeSize: p.treeSize,
      hashes: p.hashes.map(fromBase64),
      checkpoint: text(set, 'checkpoint.note'),
    },
    canonicalizedBody: read(set, 'leaf.bin'),
  };
  return encodeRekorEntry(e);
}
const logKeys = (set: string) =>
  text(set, 'vkeys.txt')
    .trim()
    .split('\n')
    .map((l) => parseVerifierKey(l.split(/\s+/)[0] as string));

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RekorError);
    return (e as RekorError).code;
  }
  return 'verified';
}

const PROD = 'rekor-prod-v2-log2025-1-idx547661';

describe('real Rekor v2 entries', () => {
  it.each([
    [PROD, 'log2025-1.rekor.sigstore.dev', 547661, 547662],
    ['rekor-prod-v2-log2025-1-idx544346', 'log2025-1.rekor.sigstore.dev', 544346, 544347],
    ['rekor-staging-v2-log2025-alpha1-idx735', 'log2025-alpha1.rekor.sigstage.dev', 735, 736],
    [
      'rekor-staging-v2-log2025-alpha3-idx4026478-witnessed',
      'log2025-alpha3.rekor.sigstage.dev',
      4026478,
      4026479,
    ],
  ])('%s: inclusion proof and checkpoint verify under the pinned log key', (set, origin, index, size) => {
    const v = verifyRekorInclusion(parseRekorEntry(entryOf(set)), logKeys(set));
    expect(v).toMatchObject({ origin, logIndex: index, treeSize: size });
    expect(v.logKey.type).toBe('ed25519');
  });

  it.each([
    ['NEG-rekor2-checkpoint-missing-origin', 'REKOR_CHECKPOINT_UNTRUSTED'],
    ['NEG-rekor2-checkpoint-wrong-origin-name', 'REKOR_CHECKPOINT_UNTRUSTED'],
  ])('%s is refused: %s', (set, want) => {
    // Pinned: the real staging key (the NEG set's own vkeys name keys that did not sign it).
    const keys = logKeys('rekor-staging-v2-log2025-alpha1-idx735');
    expect(code(() => verifyRekorInclusion(parseRekorEntry(entryOf(set)), keys))).toBe(want);
  });

  it('the production hashedrekord with a public key verifies in full (digest, key, signature, body form)', () => {
    const entry = parseRekorEntry(entryOf(PROD));
    const body = parseHashedRekordBody(entry.canonicalizedBody);
    const v = verifyRekorEntry(entry, body.digest, { logKeys: logKeys(PROD), anchorKeys: [body.spki] });
    expect(v).toMatchObject({ origin: 'log2025-1.rekor.sigstore.dev', logIndex: 547661, treeSize: 547662 });
  });

  it('each binding of the production entry, broken, has its own code', () => {
    const entry = parseRekorEntry(entryOf(PROD));
    const body = parseHashedRekordBody(entry.canonicalizedBody);
    const trust = { logKeys: logKeys(PROD), anchorKeys: [body.spki] };
    const other = new Uint8Array(32).fill(7);
    expect(code(() => verifyRekorEntry(entry, other, trust))).toBe('REKOR_DIGEST_MISMATCH');
    const otherKey = body.spki.slice();
    otherKey[otherKey.length - 1] = (otherKey[otherKey.length - 1] as number) ^ 1;
    expect(code(() => verifyRekorEntry(entry, body.digest, { ...trust, anchorKeys: [otherKey] }))).toBe(
      'REKOR_KEY_MISMATCH',
    );
    const hashes = entry.inclusionProof.hashes.map((h, i) => (i === 3 ? h.map((b) => b ^ 1) : h));
    const broken = { ...entry, inclusionProof: { ...entry.inclusionProof, hashes } };
    expect(code(() => verifyRekorEntry(broken, body.digest, trust))).toBe('REKOR_INCLUSION_PROOF_INVALID');
    const staging = logKeys('rekor-staging-v2-log2025-alpha1-idx735');
    expect(code(() => verifyRekorEntry(entry, body.digest, { ...trust, logKeys: staging }))).toBe(
      'REKOR_CHECKPOINT_UNTRUSTED',
    );
  });

  it('a body that is not the shape anchorlog submits is malformed, not verified', () => {
    // dsse, and hashedrekord with a certificate: real entries, but not ours.
    for (const set of ['rekor-prod-v2-log2025-1-idx544346', 'rekor-staging-v2-log2025-alpha1-idx735']) {
      const entry = parseRekorEntry(entryOf(set));
      expect(
        code(() => verifyRekorEntry(entry, new Uint8Array(32), { logKeys: logKeys(set), anchorKeys: [] })),
      ).toBe('REKOR_MALFORMED_ENTRY');
    }
  });
});
