// Real checkpoints from Sigstore Rekor v1/v2, sum.golang.org, Pixel 6,
// a Sunlight CT log and Rekor v2 staging with witness cosignatures
// (sources: /work/shared/vectors/real-logs/SOURCE.md and the INDEX files).
import { describe, expect, it } from 'vitest';
import { fromBase64, toHex } from '../../../src/core/bytes.ts';
import { MerkleError } from '../../../src/core/merkle/errors.ts';
import { hashLeaf } from '../../../src/core/merkle/hasher.ts';
import { verifyInclusion } from '../../../src/core/merkle/verify.ts';
import {
  checkpointFromNote,
  NoteError,
  type NoteVerifier,
  parseNote,
  parseVerifierKey,
  verifyNote,
} from '../../../src/core/note/index.ts';
import { inclusionIndex, inclusionSet, notesIndex, REAL_LOGS, readText } from './fixtures.ts';

const noteText = (file: string) => readText(REAL_LOGS, 'notes', file);

/** Loads the vkeys we implement; returns the rest with the type byte we refused. */
function loadVkeys(vkeys: string[]): { verifiers: NoteVerifier[]; unsupported: string[] } {
  const verifiers: NoteVerifier[] = [];
  const unsupported: string[] = [];
  for (const k of vkeys) {
    try {
      verifiers.push(parseVerifierKey(k));
    } catch (err) {
      if (err instanceof NoteError && err.code === 'UNSUPPORTED_KEY_TYPE') unsupported.push(k);
      else throw err;
    }
  }
  return { verifiers, unsupported };
}

const sigIds = (v: readonly { name: string; keyId: Uint8Array }[]) =>
  v.map((x) => `${x.name}+${toHex(x.keyId)}`);

describe('real-logs/notes', () => {
  const byFile = new Map(notesIndex().map((e) => [e.file, e]));
  const entry = (file: string) => {
    const e = byFile.get(file);
    if (!e) throw new Error(`missing INDEX entry ${file}`);
    return e;
  };

  it('covers every note in INDEX.json', () => {
    expect([...byFile.keys()].sort()).toEqual([
      'go-x-mod-PeterNeumann-EnochRoot.note',
      'pixel6-10.note',
      'rekor-legacy-798034.note',
      'rekor-staging-alpha3-4026479-witnessed.note',
      'rome2024h1-115474666.note',
      'sumdb-3935567.note',
      'sumdb-6476701.note',
    ]);
  });

  it.each([
    ['sumdb-6476701.note', 'go.sum database tree', 6476701],
    ['sumdb-3935567.note', 'go.sum database tree', 3935567],
  ])('%s: sum.golang.org Ed25519 (0x01) checkpoint verifies', (file, origin, size) => {
    const { verifiers, unsupported } = loadVkeys(entry(file).vkeys);
    expect(unsupported).toEqual([]);
    expect(verifiers[0]?.type).toBe('ed25519');
    const cp = checkpointFromNote(noteText(file), origin, verifiers);
    expect(cp.size).toBe(size);
    expect(sigIds(cp.verifiedBy)).toEqual(['sum.golang.org+033de0ae']);
  });

  it.each([
    ['rekor-legacy-798034.note', 'Rekor', 798034, 'rekor.sigstore.dev+c0d23d6a'],
    ['pixel6-10.note', 'DEFAULT', 10, 'pixel6_transparency_log+91c16e30'],
  ])('%s: ECDSA (0x02) checkpoint verifies; key name differs from origin', (file, origin, size, id) => {
    const { verifiers } = loadVkeys(entry(file).vkeys);
    expect(verifiers[0]?.type).toBe('ecdsa-p256');
    const cp = checkpointFromNote(noteText(file), origin, verifiers);
    expect(cp.size).toBe(size);
    expect(sigIds(cp.verifiedBy)).toEqual([id]);
  });

  it('go-x-mod: both Ed25519 signatures verify; the text is not a checkpoint', () => {
    const file = 'go-x-mod-PeterNeumann-EnochRoot.note';
    const { verifiers } = loadVkeys(entry(file).vkeys);
    const v = verifyNote(noteText(file), verifiers);
    expect(sigIds(v.verifiedBy)).toEqual(['PeterNeumann+c74f20a3', 'EnochRoot+af0cfe78']);
    expect(v.ignored).toEqual([]);
    expect(() => checkpointFromNote(noteText(file), 'x', verifiers)).toThrow(
      expect.objectContaining({ code: 'MALFORMED_CHECKPOINT' }),
    );
  });

  it('rome2024h1 (Sunlight, type 0x05 RFC 6962 note signature): unsupported — vkey refused, signature ignored as unknown', () => {
    const file = 'rome2024h1-115474666.note';
    const { verifiers, unsupported } = loadVkeys(entry(file).vkeys);
    expect(verifiers).toEqual([]);
    expect(unsupported).toHaveLength(1);
    // The note itself is well-formed and its one signature line parses.
    const parsed = parseNote(noteText(file));
    expect(sigIds(parsed.signatures)).toEqual(['rome.ct.filippo.io/2024h1+78f4abae']);
    // With no key we can use, it cannot be trusted: NO_TRUSTED_SIGNATURE, not a parse or signature error.
    const other = parseVerifierKey(entry('pixel6-10.note').vkeys[0] as string);
    expect(() => verifyNote(noteText(file), [other])).toThrow(
      expect.objectContaining({ code: 'NO_TRUSTED_SIGNATURE' }),
    );
  });

  it('witnessed Rekor v2 staging: log Ed25519 signature verifies; three 0x04 cosignatures are unknown keys, ignored', () => {
    const file = 'rekor-staging-alpha3-4026479-witnessed.note';
    const { verifiers, unsupported } = loadVkeys(entry(file).vkeys);
    expect(sigIds(verifiers)).toEqual(['log2025-alpha3.rekor.sigstage.dev+d3d3a70c']);
    // The witness vkeys are tlog-cosignature (0x04): refused with a code, not a crash.
    expect(unsupported.map((k) => fromBase64(k.split('+').slice(2).join('+'))[0])).toEqual([4, 4, 4]);
    const cp = checkpointFromNote(noteText(file), 'log2025-alpha3.rekor.sigstage.dev', verifiers, {
      required: verifiers,
    });
    expect(cp.size).toBe(4026479);
    const v = verifyNote(noteText(file), verifiers);
    expect(sigIds(v.ignored)).toEqual([
      'witness.stagemole.eu+67f7aea0',
      'staging.witness.transparency.goog/ring-any-bells+2e1a8dc9',
      'witness.navigli.sunlight.geomys.org+a3e00fe2',
    ]);
  });
});

/**
 * The full check a Sigstore-style verifier makes: the checkpoint is signed by
 * the trusted log key, names the expected origin, and the proof takes the
 * entry's leaf hash to the checkpoint's root at the checkpoint's size.
 */
function verifyInclusionSet(set: string, expectedOrigin: string): { size: number; ignored: number } {
  const s = inclusionSet(set);
  const leafHash = hashLeaf(s.leaf);
  const proof = s.proof.hashes.map(fromBase64);
  if (!s.note) {
    // No checkpoint: nothing signed to anchor the proof; it must also fail against its own claimed root.
    verifyInclusion(leafHash, s.proof.proofIndex, s.proof.treeSize, proof, fromBase64(s.proof.rootHash));
    throw new Error('unreachable: stale proof verified');
  }
  const { verifiers } = loadVkeys(s.vkeys);
  const cp = checkpointFromNote(s.note, expectedOrigin, verifiers);
  verifyInclusion(leafHash, s.proof.proofIndex, cp.size, proof, cp.rootHash);
  return { size: cp.size, ignored: verifyNote(s.note, verifiers).ignored.length };
}

// Rekor v1 origins are "<key name> - <tree ID>"; the tree ID is in the set name
// (the NEG-checkpoint sets are all from production shard 2605736670972794746,
// as their INDEX entries record). Rekor v2 origin = key name.
function expectedOrigin(set: string): string {
  const shard = /shard(\d+)/.exec(set)?.[1];
  if (set.startsWith('rekor-prod-v1')) return `rekor.sigstore.dev - ${shard}`;
  if (set.startsWith('rekor-staging-v1')) return `rekor.sigstage.dev - ${shard}`;
  if (set.startsWith('rekor-prod-v2-log2025-1')) return 'log2025-1.rekor.sigstore.dev';
  if (set.includes('alpha3')) return 'log2025-alpha3.rekor.sigstage.dev';
  if (set.includes('alpha1') || set.startsWith('NEG-rekor2')) return 'log2025-alpha1.rekor.sigstage.dev';
  return 'rekor.sigstore.dev - 2605736670972794746';
}

// How each negative set must fail: which check catches it.
const NEGATIVE: Record<string, { cls: typeof NoteError | typeof MerkleError; code: string }> = {
  'NEG-checkpoint-bad-keyhint': { cls: NoteError, code: 'NO_TRUSTED_SIGNATURE' },
  'NEG-checkpoint-bad-signature': { cls: NoteError, code: 'INVALID_SIGNATURE' },
  // Validly signed, but for another tree size: the proof has the wrong length for it.
  'NEG-checkpoint-wrong-roothash': { cls: MerkleError, code: 'BAD_PROOF_SIZE' },
  'NEG-corrupted-proof-hash': { cls: MerkleError, code: 'INCLUSION_PROOF_INVALID' },
  'NEG-leaf-body-tampered': { cls: MerkleError, code: 'INCLUSION_PROOF_INVALID' },
  // Origin line removed: the log key is known, so its now-invalid signature rejects the note.
  'NEG-rekor2-checkpoint-missing-origin': { cls: NoteError, code: 'INVALID_SIGNATURE' },
  // Signer renamed: (name, key ID) matches no trusted key, so the signature is ignored.
  'NEG-rekor2-checkpoint-wrong-origin-name': { cls: NoteError, code: 'NO_TRUSTED_SIGNATURE' },
  'NEG-stale-proof-no-checkpoint': { cls: MerkleError, code: 'INCLUSION_PROOF_INVALID' },
};

describe('real-logs/real-inclusion', () => {
  const sets = inclusionIndex();

  it('has the 13 valid and 8 invalid sets SOURCE.md describes', () => {
    expect(sets.filter((s) => s.expected === 'VALID')).toHaveLength(13);
    expect(
      sets
        .filter((s) => s.expected === 'INVALID')
        .map((s) => s.set)
        .sort(),
    ).toEqual(Object.keys(NEGATIVE).sort());
  });

  it.each(sets.filter((s) => s.expected === 'VALID').map((s) => [s.set]))(
    '%s: checkpoint signature, origin and inclusion proof verify',
    (set) => {
      const s = inclusionSet(set);
      const got = verifyInclusionSet(set, expectedOrigin(set));
      expect(got.size).toBe(s.proof.treeSize);
      expect(toHex(hashLeaf(s.leaf))).toBe(toHex(fromBase64(s.proof.leafHash)));
      // Unknown cosignatures are ignored, not errors.
      const expectIgnored = set.includes('witnessed') ? 3 : set.includes('idx735-') ? 1 : 0;
      expect(got.ignored).toBe(expectIgnored);
    },
  );

  it.each(Object.entries(NEGATIVE))('%s fails with %o', (set, { cls, code }) => {
    let caught: unknown;
    try {
      verifyInclusionSet(set, expectedOrigin(set));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(cls);
    expect((caught as NoteError).code).toBe(code);
  });

  it('NEG-rekor2-checkpoint-wrong-origin-name also fails against the genuine log key', () => {
    const s = inclusionSet('NEG-rekor2-checkpoint-wrong-origin-name');
    const genuine = parseVerifierKey(
      inclusionSet('rekor-staging-v2-log2025-alpha1-idx735').vkeys[0] as string,
    );
    expect(() => verifyNote(s.note as string, [genuine])).toThrow(
      expect.objectContaining({ code: 'NO_TRUSTED_SIGNATURE' }),
    );
  });

  it('a Rekor v1 checkpoint of one shard is refused as another shard (origin is checked)', () => {
    const set = 'rekor-prod-v1-shard2605736670972794746-idx79571823';
    const s = inclusionSet(set);
    const { verifiers } = loadVkeys(s.vkeys);
    expect(() =>
      checkpointFromNote(s.note as string, 'rekor.sigstore.dev - 1193050959916656506', verifiers),
    ).toThrow(expect.objectContaining({ code: 'ORIGIN_MISMATCH' }));
  });

  it('the Rekor v1 "Timestamp:" extension line is parsed, not rejected', () => {
    const set = 'rekor-prod-v1-shard2605736670972794746-idx27246492';
    const s = inclusionSet(set);
    const cp = checkpointFromNote(s.note as string, expectedOrigin(set), loadVkeys(s.vkeys).verifiers);
    expect(cp.extensions).toEqual(['Timestamp: 1689177396617352539']);
  });

  it('the witnessed set verifies with its log key required', () => {
    const set = 'rekor-staging-v2-log2025-alpha3-idx4026478-witnessed';
    const s = inclusionSet(set);
    const { verifiers } = loadVkeys(s.vkeys);
    const { unsupported } = loadVkeys(s.witnessVkeys);
    expect(unsupported).toHaveLength(3);
    expect(
      checkpointFromNote(s.note as string, expectedOrigin(set), verifiers, { required: verifiers }).size,
    ).toBe(4026479);
  });
});
