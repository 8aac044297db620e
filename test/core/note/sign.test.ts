import { describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../../src/adapters/memory/local-signer.ts';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hash.ts';
import {
  checkpointFromNote,
  formatCheckpoint,
  NoteError,
  parseVerifierKey,
  signNote,
  vkeyFromSpki,
} from '../../../src/core/note/index.ts';
import { SignerError } from '../../../src/ports/signer.ts';

async function code(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (err) {
    expect(err).toBeInstanceOf(NoteError);
    return (err as NoteError).code;
  }
  return 'NO_ERROR';
}

const origin = 'audit.example/tenant-1';
const root = sha256(utf8('root'));
const body = formatCheckpoint({ origin, size: 1000, rootHash: root });

describe('signNote + LocalNoteSigner', () => {
  const signer = LocalNoteSigner.generate(origin);

  it('produces a checkpoint that verifies under its published vkey', async () => {
    const note = await signNote(body, [signer]);
    expect(note.startsWith(`${body}\n— ${origin} `)).toBe(true);
    const vkey = vkeyFromSpki(origin, signer.publicKeySpki);
    expect(vkey.split('+')[1]).toBe(toHex(signer.keyId));
    const cp = checkpointFromNote(note, origin, [parseVerifierKey(vkey)]);
    expect(cp.size).toBe(1000);
    expect(cp.rootHash).toEqual(root);
  });

  it('signs with several keys (rotation): old and new verifiers both accept', async () => {
    const next = LocalNoteSigner.generate(origin);
    const note = await signNote(body, [signer, next]);
    for (const s of [signer, next])
      expect(
        checkpointFromNote(note, origin, [parseVerifierKey(vkeyFromSpki(origin, s.publicKeySpki))]).size,
      ).toBe(1000);
  });

  it('a signer whose key does not match its public key is caught before publishing', async () => {
    const other = LocalNoteSigner.generate(origin);
    const liar = {
      keyName: origin,
      keyId: signer.keyId,
      publicKeySpki: signer.publicKeySpki,
      sign: (m: Uint8Array) => other.sign(m),
    };
    expect(await code(() => signNote(body, [liar]))).toBe('SIGNER_MISMATCH');
  });

  it('refuses bad signer sets and bodies', async () => {
    expect(await code(() => signNote(body, []))).toBe('INVALID_SIGNER');
    expect(await code(() => signNote(body, [signer, signer]))).toBe('INVALID_SIGNER');
    expect(
      await code(() => signNote(body, [{ ...signer, sign: signer.sign.bind(signer), keyName: 'a b' }])),
    ).toBe('INVALID_SIGNER');
    expect(
      await code(() =>
        signNote(body, [{ ...signer, sign: signer.sign.bind(signer), keyId: Uint8Array.of(0, 0, 0, 0) }]),
      ),
    ).toBe('INVALID_SIGNER');
    expect(await code(() => signNote('no newline', [signer]))).toBe('MISSING_SEPARATOR');
  });

  it('round-trips its private key through PEM and refuses non-P-256 keys', async () => {
    const again = LocalNoteSigner.fromPrivateKeyPem(origin, signer.exportPrivateKeyPem());
    expect(again.publicKeySpki).toEqual(signer.publicKeySpki);
    expect(() => LocalNoteSigner.fromPrivateKeyPem(origin, 'nope')).toThrow(SignerError);
  });
});
