/**
 * An in-process ECDSA P-256 NoteSigner on a node:crypto key, for tests and
 * benchmarks (bench/bundle.ts); production and the local stack sign with KMS
 * (src/adapters/aws/kms-signer.ts, against the emulator locally). Same
 * contract as the KMS signer: DER ECDSA over SHA-256(message).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { ecdsaKeyId } from '../../core/note/verifiers.ts';
import { type NoteSigner, SignerError } from '../../ports/signer.ts';

export class LocalNoteSigner implements NoteSigner {
  readonly keyName: string;
  readonly keyId: Uint8Array;
  readonly publicKeySpki: Uint8Array;
  readonly #key: KeyObject;

  private constructor(keyName: string, key: KeyObject) {
    if (
      key.type !== 'private' ||
      key.asymmetricKeyType !== 'ec' ||
      key.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
    )
      throw new SignerError('KEY_MISCONFIGURED', 'local signer needs a P-256 private key');
    this.keyName = keyName;
    this.#key = key;
    const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
    this.publicKeySpki = new Uint8Array(der.buffer, der.byteOffset, der.byteLength).slice();
    this.keyId = ecdsaKeyId(this.publicKeySpki);
  }

  /** A fresh random key. */
  static generate(keyName: string): LocalNoteSigner {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return new LocalNoteSigner(keyName, privateKey);
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

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const sig = sign('sha256', message, { key: this.#key, dsaEncoding: 'der' });
    return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength).slice();
  }
}
