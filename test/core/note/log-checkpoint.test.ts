/**
 * verifyLogCheckpoint: a log key vouches only for the log named like it
 * (docs/formats.md §Checkpoints). One P-256 key under two names has one key
 * ID, so renaming a signature line keeps the signature valid.
 */
import { describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../../src/adapters/memory/local-signer.ts';
import {
  checkpointFromNote,
  formatCheckpoint,
  NoteError,
  parseVerifierKey,
  signNote,
  verifyLogCheckpoint,
  vkeyFromSpki,
} from '../../../src/core/note/index.ts';

const A = 'anchorlog.test/tenant-a';
const B = 'anchorlog.test/tenant-b';
const key = LocalNoteSigner.generate(A);
const asB = {
  keyName: B,
  keyId: key.keyId,
  publicKeySpki: key.publicKeySpki,
  sign: (m: Uint8Array) => key.sign(m),
};
const vA = parseVerifierKey(vkeyFromSpki(A, key.publicKeySpki));
const vB = parseVerifierKey(vkeyFromSpki(B, key.publicKeySpki));
const body = (origin: string) => formatCheckpoint({ origin, size: 5, rootHash: new Uint8Array(32).fill(7) });

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(NoteError);
    return (e as NoteError).code;
  }
  throw new Error('accepted');
}

describe('verifyLogCheckpoint', () => {
  it("accepts a log's checkpoint signed by the key named like its origin", async () => {
    const note = await signNote(body(B), [asB]);
    const cp = verifyLogCheckpoint(note, [vA, vB], { origin: B });
    expect(cp.origin).toBe(B);
    expect(cp.verifiedBy.map((v) => v.name)).toEqual([B]);
  });

  it('refuses B’s checkpoint with its signature line renamed to A (KEY_NAME_MISMATCH)', async () => {
    const renamed = (await signNote(body(B), [asB])).replace(`— ${B} `, `— ${A} `);
    // The signed-note rule alone accepts it: (name, key ID) match A's vkey and the signature is valid.
    expect(checkpointFromNote(renamed, B, [vA]).origin).toBe(B);
    expect(code(() => verifyLogCheckpoint(renamed, [vA]))).toBe('KEY_NAME_MISMATCH');
    expect(code(() => verifyLogCheckpoint(renamed, [vA], { origin: B }))).toBe('KEY_NAME_MISMATCH');
    // With B pinned as well, the renamed line is still A's: B's key did not sign it.
    expect(code(() => verifyLogCheckpoint(renamed, [vA, vB]))).toBe('KEY_NAME_MISMATCH');
  });

  it('refuses another origin than the expected one (ORIGIN_MISMATCH)', async () => {
    const note = await signNote(body(B), [asB]);
    expect(code(() => verifyLogCheckpoint(note, [vB], { origin: A }))).toBe('ORIGIN_MISMATCH');
  });

  it('keeps the signed-note rules: unknown keys ignored, no known key → NO_TRUSTED_SIGNATURE', async () => {
    const note = await signNote(body(B), [asB]);
    expect(code(() => verifyLogCheckpoint(note, [vA]))).toBe('NO_TRUSTED_SIGNATURE');
  });
});
