/**
 * Signing notes with 0x02 ECDSA P-256 or 0x01 Ed25519 keys (docs/formats.md §Checkpoints),
 * chosen by the signer's SPKI: the full signed-note text
 * from a body and one or more signers (the log key; during rotation, the old
 * and the new key).
 */
import { bytesEqual, toHex, utf8 } from '../bytes.ts';
import { NoteError } from './errors.ts';
import { checkNoteText, formatNote, type NoteSignature } from './signed-note.ts';
import { type NoteVerifier, verifierFromSpki } from './verifiers.ts';

/**
 * The shape signNote needs; src/ports/signer.ts `NoteSigner` (which carries
 * the contract) satisfies it. Declared here so the core does not depend on ports.
 */
export interface NoteSigningKey {
  readonly keyName: string;
  readonly keyId: Uint8Array;
  readonly publicKeySpki: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/**
 * Signs `body` with every signer and returns the signed note. Each signature
 * is verified against the signer's own public key before it is emitted, so a
 * misconfigured key (wrong KMS key ID, wrong algorithm) fails here with
 * SIGNER_MISMATCH instead of publishing a checkpoint nobody can verify.
 */
export async function signNote(body: string, signers: readonly NoteSigningKey[]): Promise<string> {
  checkNoteText(body);
  if (signers.length === 0) throw new NoteError('INVALID_SIGNER', 'at least one signer is required');
  const seen = new Set<string>();
  const verifiers = signers.map((s) => {
    const id = `${s.keyName}+${toHex(s.keyId)}`;
    if (seen.has(id)) throw new NoteError('INVALID_SIGNER', `two signers for ${id}`);
    seen.add(id);
    let v: NoteVerifier;
    try {
      v = verifierFromSpki(s.keyName, s.publicKeySpki);
    } catch (cause) {
      throw new NoteError('INVALID_SIGNER', `signer ${id} has an invalid name or public key`, { cause });
    }
    if (!bytesEqual(v.keyId, s.keyId))
      throw new NoteError(
        'INVALID_SIGNER',
        `signer ${id}: key ID is not the one of its key (${v.type === 'ed25519' ? 'SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]' : 'SHA-256(SPKI)[:4]'})`,
      );
    return v;
  });
  const message = utf8(body);
  const sigs = await Promise.all(
    signers.map(async (s, i): Promise<NoteSignature> => {
      const signature = await s.sign(message.slice());
      if (!verifiers[i]?.verify(message, signature))
        throw new NoteError(
          'SIGNER_MISMATCH',
          `signer ${s.keyName} returned a signature its key does not verify`,
        );
      return { name: s.keyName, keyId: s.keyId, signature };
    }),
  );
  return formatNote(body, sigs);
}
