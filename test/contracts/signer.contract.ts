/**
 * The NoteSigner contract (src/ports/signer.ts), run against every
 * implementation by test/contracts/memory.test.ts (LocalNoteSigner) and
 * aws.test.ts (KmsNoteSigner on the emulator).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hash.ts';
import { checkpointFromNote, formatCheckpoint, signNote } from '../../src/core/note/index.ts';
import { ecdsaP256Verifier } from '../../src/core/note/verifiers.ts';
import { type NoteSigner, SignerError } from '../../src/ports/signer.ts';

const ORIGIN = 'contract.test.anchorlog/log-1';

export function signerContract(name: string, make: () => Promise<NoteSigner>): void {
  describe(`NoteSigner contract: ${name}`, () => {
    let signer: NoteSigner;
    beforeAll(async () => {
      signer = await make();
    });

    it('names its key by the origin, with the 0x02 key ID of its SPKI', () => {
      expect(signer.keyName).toBe(ORIGIN);
      expect(toHex(signer.keyId)).toBe(toHex(sha256(signer.publicKeySpki).subarray(0, 4)));
    });

    it('signs checkpoints that verify with its public key, concurrently', async () => {
      const verifier = ecdsaP256Verifier(ORIGIN, signer.publicKeySpki);
      const notes = await Promise.all(
        [1, 2, 3, 4].map((size) =>
          signNote(formatCheckpoint({ origin: ORIGIN, size, rootHash: sha256(utf8(`root ${size}`)) }), [
            signer,
          ]),
        ),
      );
      notes.forEach((note, i) => {
        expect(checkpointFromNote(note, ORIGIN, [verifier]).size).toBe(i + 1);
      });
    });

    it('neither keeps nor changes the message', async () => {
      const message = utf8('a message to sign');
      const copy = Uint8Array.from(message);
      const sig = await signer.sign(message);
      expect(message).toEqual(copy);
      expect(sig.length).toBeGreaterThan(8);
      expect(sig[0]).toBe(0x30); // DER SEQUENCE
    });

    it('signs up to 4096 bytes (KMS RAW) and refuses more as MESSAGE_TOO_LARGE', async () => {
      expect((await signer.sign(new Uint8Array(4096))).length).toBeGreaterThan(8);
      const err = await signer.sign(new Uint8Array(4097)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SignerError);
      expect(err).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    });
  });
}

export const SIGNER_CONTRACT_ORIGIN = ORIGIN;
