// /work/shared/vectors/signed-note/ecdsa-notes.json: transparency-dev/formats
// note_verifier_test.go cases (real Rekor and Pixel 6 checkpoints, type 0x02).
import { describe, expect, it } from 'vitest';
import { NoteError, parseVerifierKey, verifyNote } from '../../../src/core/note/index.ts';
import { readJson, VECTORS } from './fixtures.ts';

interface Case {
  name: string;
  vkey: string;
  note: string;
  valid: boolean;
  note_on_case?: string;
}
const { cases } = readJson<{ cases: Case[] }>(VECTORS, 'signed-note', 'ecdsa-notes.json');

// Why each invalid case fails, so a regression that fails for the wrong reason is caught.
const EXPECTED_CODE: Record<string, string> = {
  'signature line names another key: no trusted signature': 'NO_TRUSTED_SIGNATURE',
  // The garbage replaces the key ID too, so (name, ID) no longer names the known key.
  'corrupted signature': 'NO_TRUSTED_SIGNATURE',
  'vkey key id does not match the key': 'VKEY_ID_MISMATCH',
};

describe('signed-note/ecdsa-notes.json', () => {
  it('has the five cases', () => expect(cases).toHaveLength(5));

  it.each(cases.map((c) => [c.name, c]))('%s', (_name, c) => {
    if (c.valid) {
      const v = verifyNote(c.note, [parseVerifierKey(c.vkey)]);
      expect(v.verifiedBy).toHaveLength(1);
      return;
    }
    let caught: unknown;
    try {
      verifyNote(c.note, [parseVerifierKey(c.vkey)]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NoteError);
    expect((caught as NoteError).code).toBe(EXPECTED_CODE[c.name]);
  });
});
