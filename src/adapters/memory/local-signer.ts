/**
 * An in-process NoteSigner on a node:crypto key, for tests and benchmarks (bench/bundle.ts);
 * production and the local stack sign with KMS (src/adapters/aws/kms-signer.ts, against the
 * emulator locally). Two key types, as the port allows (docs/formats.md §Checkpoints):
 *  - ECDSA P-256 (signature type 0x02), the KMS signer's contract: DER ECDSA over SHA-256(message);
 *  - Ed25519 (type 0x01, C2SP signed-note's native type, what public witnesses expect): a pure
 *    RFC 8032 signature over the message. Ed25519 is deterministic, so a known seed reproduces
 *    the reference implementation's notes byte for byte (test/adapters/local-ed25519-signer.test.ts).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { ed25519KeyFromSpki } from '../../core/note/der.ts';
import { ecdsaKeyId, ed25519KeyId, type NoteKeyType } from '../../core/note/verifiers.ts';
import { type NoteSigner, SignerError, type SignerErrorCode } from '../../ports/signer.ts';
import { FaultPlan } from './faults.ts';

/**
 * Largest message `sign` accepts by default: what KMS signs with MessageType
 * RAW (KMS_RAW_MESSAGE_LIMIT in src/adapters/aws/kms-signer.ts), so a message
 * the deployed signer would refuse is refused in tests too.
 */
export const LOCAL_SIGNER_MESSAGE_LIMIT = 4096;

export class LocalNoteSigner implements NoteSigner {
  readonly keyName: string;
  readonly keyId: Uint8Array;
  readonly publicKeySpki: Uint8Array;
  readonly keyType: NoteKeyType;
  readonly #key: KeyObject;
  /** Bytes `sign` accepts at most (MESSAGE_TOO_LARGE beyond). */
  maxMessageBytes = LOCAL_SIGNER_MESSAGE_LIMIT;
  /** Injected failures of `sign` (SIGNER_UNAVAILABLE, KEY_MISCONFIGURED), as KMS raises them. */
  readonly faults = new FaultPlan<SignerErrorCode>((code, message) => new SignerError(code, message));

  private constructor(keyName: string, key: KeyObject) {
    const p256 = key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
    if (key.type !== 'private' || !(p256 || key.asymmetricKeyType === 'ed25519'))
      throw new SignerError('KEY_MISCONFIGURED', 'local signer needs a P-256 or Ed25519 private key');
    this.keyName = keyName;
    this.#key = key;
    this.keyType = p256 ? 'ecdsa-p256' : 'ed25519';
    const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
    this.publicKeySpki = new Uint8Array(der.buffer, der.byteOffset, der.byteLength).slice();
    this.keyId = p256
      ? ecdsaKeyId(this.publicKeySpki)
      : ed25519KeyId(keyName, ed25519KeyFromSpki(this.publicKeySpki));
  }

  /** A fresh random key: ECDSA P-256 (the default, as KMS) or Ed25519. */
  static generate(keyName: string, keyType: NoteKeyType = 'ecdsa-p256'): LocalNoteSigner {
    const { privateKey } =
      keyType === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return new LocalNoteSigner(keyName, privateKey);
  }

  /**
   * An Ed25519 signer from its 32-byte seed (RFC 8032 private key), e.g. a key kept as a secret
   * or a C2SP `PRIVATE+KEY+<name>+<id>+base64(0x01 ‖ seed)` signer key.
   */
  static fromEd25519Seed(keyName: string, seed: Uint8Array): LocalNoteSigner {
    if (seed.length !== 32) throw new SignerError('KEY_MISCONFIGURED', 'an Ed25519 seed is 32 bytes');
    // PKCS#8 of an Ed25519 key (RFC 8410 §7): a fixed 16-byte prefix, then the seed.
    const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seed)]);
    return new LocalNoteSigner(keyName, createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
  }

  /** From a PKCS#8 or SEC 1 PEM private key. */
  static fromPrivateKeyPem(keyName: string, pem: string): LocalNoteSigner {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch (cause) {
      throw new SignerError('KEY_MISCONFIGURED', 'not a PEM private key', { cause });
    }
    return new LocalNoteSigner(keyName, key);
  }

  /** The private key as PKCS#8 PEM (to persist a generated key; `fromPrivateKeyPem` reads it back). */
  exportPrivateKeyPem(): string {
    return this.#key.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  sign(message: Uint8Array): Promise<Uint8Array> {
    return this.faults.run('sign', this.keyName, () => {
      if (message.length > this.maxMessageBytes)
        throw new SignerError(
          'MESSAGE_TOO_LARGE',
          `local signing takes at most ${this.maxMessageBytes} bytes`,
        );
      // Ed25519 takes no digest name (pure EdDSA signs the message itself).
      const sig =
        this.keyType === 'ed25519'
          ? sign(null, message, this.#key)
          : sign('sha256', message, { key: this.#key, dsaEncoding: 'der' });
      return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength).slice();
    });
  }
}
