/**
 * The Ed25519 log signer (signature type 0x01, C2SP signed-note's native type): the local
 * signer reproduces the Go reference implementation's signed note byte for byte (Ed25519 is
 * deterministic; golang.org/x/mod/sumdb/note documents the key and the note, kept in the shared
 * vectors), checkpoints signed with it verify under a pinned 0x01 vkey, and a 0x01 key ID binds
 * the key name — so, unlike a 0x02 key, a signature line cannot be renamed to another log.
 */
import { describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { fromBase64, toHex, utf8 } from '../../src/core/bytes.ts';
import { rootOf } from '../../src/core/merkle/index.ts';
import {
  ed25519Spki,
  formatCheckpoint,
  formatVerifierKey,
  isEd25519Spki,
  NoteError,
  parseNote,
  parseVerifierKey,
  signNote,
  verifierFromSpki,
  verifyLogCheckpoint,
  verifyNote,
  vkeyFromSpki,
} from '../../src/core/note/index.ts';
import { formatSignatureLine } from '../../src/core/note/signed-note.ts';
import {
  cosignerFromSecret,
  signCosignature,
  verifyWitnessedCheckpoint,
  witnessPolicy,
} from '../../src/core/witness/index.ts';
import { notesIndex, REAL_LOGS, readText } from '../core/note/fixtures.ts';

// golang.org/x/mod/sumdb/note package documentation: the signer key of the note in
// go-x-mod-PeterNeumann-EnochRoot.note (PRIVATE+KEY+PeterNeumann+c74f20a3+base64(0x01 ‖ seed)).
const GO_SKEY = 'AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';

async function noteError(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(NoteError);
    return (e as NoteError).code;
  }
  return 'no error';
}

describe('Ed25519 log signer: the reference vectors', () => {
  it('reproduces the Go reference note (golang.org/x/mod/sumdb/note) byte for byte', async () => {
    const raw = fromBase64(GO_SKEY);
    expect(raw[0]).toBe(0x01);
    const signer = LocalNoteSigner.fromEd25519Seed('PeterNeumann', raw.subarray(1));
    expect(signer.keyType).toBe('ed25519');
    expect(toHex(signer.keyId)).toBe('c74f20a3');
    const entry = notesIndex().find((e) => e.file === 'go-x-mod-PeterNeumann-EnochRoot.note');
    expect(formatVerifierKey(verifierFromSpki('PeterNeumann', signer.publicKeySpki))).toBe(entry?.vkeys[0]);
    const reference = readText(REAL_LOGS, 'notes', 'go-x-mod-PeterNeumann-EnochRoot.note');
    const { text, signatures } = parseNote(reference);
    const ours = await signNote(text, [signer]);
    expect(ours).toBe(`${text}\n${formatSignatureLine(signatures[0] as never)}\n`);
  });
  it('sum.golang.org notes (Ed25519) verify through verifierFromSpki of their key', () => {
    for (const e of notesIndex().filter((x) => x.file.startsWith('sumdb-') && x.file.endsWith('.note'))) {
      const v = parseVerifierKey(e.vkeys[0] as string);
      const again = verifierFromSpki(v.name, ed25519Spki(v.publicKey));
      expect(toHex(again.keyId)).toBe(toHex(v.keyId));
      const note = readText(REAL_LOGS, 'notes', e.file);
      expect(verifyNote(note, [again]).verifiedBy.map((k) => k.name)).toEqual(['sum.golang.org']);
    }
  });
});

describe('Ed25519 log signer: checkpoints', () => {
  const origin = 'anchorlog.test/ed-log';
  const body = formatCheckpoint({
    origin,
    size: 3,
    rootHash: rootOf([1, 2, 3].map((i) => utf8(`leaf ${i}`))),
  });

  it('a signed checkpoint verifies under the pinned 0x01 vkey (vkeyFromSpki dispatches on the SPKI)', async () => {
    const signer = LocalNoteSigner.generate(origin, 'ed25519');
    expect(isEd25519Spki(signer.publicKeySpki)).toBe(true);
    const vkey = vkeyFromSpki(origin, signer.publicKeySpki);
    expect(vkey).toMatch(/^anchorlog\.test\/ed-log\+[0-9a-f]{8}\+A/); // base64 of 0x01 ‖ key starts with "A"
    const note = await signNote(body, [signer]);
    const cp = verifyLogCheckpoint(note, [parseVerifierKey(vkey)], { origin });
    expect(cp.size).toBe(3);
    expect(cp.verifiedBy[0]?.type).toBe('ed25519');
  });
  it('a rename to another log breaks a 0x01 signature line (the key ID binds the name)', async () => {
    const signer = LocalNoteSigner.generate(origin, 'ed25519');
    const otherOrigin = 'anchorlog.test/other';
    const note = await signNote(body, [signer]);
    const renamed = note.replace(`— ${origin} `, `— ${otherOrigin} `);
    const other = parseVerifierKey(vkeyFromSpki(otherOrigin, signer.publicKeySpki));
    expect(toHex(other.keyId)).not.toBe(toHex(signer.keyId));
    expect(await noteError(() => verifyNote(renamed, [other]))).toBe('NO_TRUSTED_SIGNATURE');
  });
  it('ECDSA and Ed25519 log keys side by side (a rotation between key types) both verify', async () => {
    const ec = LocalNoteSigner.generate(origin);
    const ed = LocalNoteSigner.generate(origin, 'ed25519');
    const note = await signNote(body, [ec, ed]);
    for (const s of [ec, ed])
      expect(verifyLogCheckpoint(note, [parseVerifierKey(vkeyFromSpki(origin, s.publicKeySpki))]).size).toBe(
        3,
      );
  });
  it('a signer whose key ID is not its key’s, or whose signature its key does not verify, is refused', async () => {
    const ed = LocalNoteSigner.generate(origin, 'ed25519');
    const wrongId = {
      keyName: origin,
      keyId: Uint8Array.of(1, 2, 3, 4),
      publicKeySpki: ed.publicKeySpki,
      sign: (m: Uint8Array) => ed.sign(m),
    };
    expect(await noteError(signNote(body, [wrongId]))).toBe('INVALID_SIGNER');
    const other = LocalNoteSigner.generate(origin, 'ed25519');
    const liar = {
      keyName: origin,
      keyId: ed.keyId,
      publicKeySpki: ed.publicKeySpki,
      sign: (m: Uint8Array) => other.sign(m),
    };
    expect(await noteError(signNote(body, [liar]))).toBe('SIGNER_MISMATCH');
  });
  it('witnesses cosign an Ed25519-signed checkpoint like any other', async () => {
    const signer = LocalNoteSigner.generate(origin, 'ed25519');
    const note = await signNote(body, [signer]);
    const secret = new Uint8Array(32).fill(9);
    const w = cosignerFromSecret('w.test', secret);
    const line = formatSignatureLine(signCosignature('w.test', secret, parseNote(note).text, 1_700_000_000));
    const witnessed = verifyWitnessedCheckpoint(
      `${note}${line}\n`,
      [parseVerifierKey(vkeyFromSpki(origin, signer.publicKeySpki))],
      witnessPolicy([w], 1),
    );
    expect(witnessed.quorumMet).toBe(true);
  });
});
