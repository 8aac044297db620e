/**
 * NoteSigner on an asymmetric AWS KMS key (ECC_NIST_P256, ECDSA_SHA_256).
 * The private key never leaves KMS; only the seal role may call kms:Sign.
 *
 * We sign with MessageType RAW (KMS hashes the note text with SHA-256), which
 * is exactly what signature type 0x02 verifies. RAW is limited to 4096 bytes;
 * a checkpoint body is ~100. (DIGEST would lift the limit but moto does not
 * implement it, and the local stack must run the same code path.)
 */
import {
  GetPublicKeyCommand,
  type GetPublicKeyCommandOutput,
  type KMSClient,
  SignCommand,
} from '@aws-sdk/client-kms';
import { ecdsaKeyId, p256PublicPoint } from '../../core/note/verifiers.ts';
import { type NoteSigner, SignerError } from '../../ports/signer.ts';

/** KMS Sign with MessageType RAW accepts at most 4096 bytes. */
export const KMS_RAW_MESSAGE_LIMIT = 4096;

export interface KmsNoteSignerOptions {
  /** Created once at module scope by the caller (Lambda wiring) and injected. */
  readonly client: KMSClient;
  /** Key ID, key ARN, alias name or alias ARN. */
  readonly kmsKeyId: string;
  /** Signed-note key name; for the log key, the checkpoint origin. */
  readonly keyName: string;
}

// Retrying cannot fix these: the key or the role is wrong.
const MISCONFIGURED = new Set([
  'AccessDeniedException',
  'DisabledException',
  'NotFoundException',
  'InvalidKeyUsageException',
  'KMSInvalidStateException',
  'InvalidGrantTokenException',
  'IncorrectKeyException',
  'UnsupportedOperationException',
]);

function classify(err: unknown, what: string): SignerError {
  const name = err instanceof Error ? err.name : '';
  const fault = (err as { $fault?: string } | null)?.$fault;
  const code =
    MISCONFIGURED.has(name) || (fault === 'client' && !/Throttl|LimitExceeded/.test(name))
      ? 'KEY_MISCONFIGURED'
      : 'SIGNER_UNAVAILABLE';
  return new SignerError(code, `KMS ${what} failed: ${name || 'error'}`, { cause: err });
}

export class KmsNoteSigner implements NoteSigner {
  readonly keyName: string;
  readonly keyId: Uint8Array;
  readonly publicKeySpki: Uint8Array;
  readonly #client: KMSClient;
  readonly #kmsKeyId: string;

  private constructor(opts: KmsNoteSignerOptions, spki: Uint8Array) {
    this.keyName = opts.keyName;
    this.#client = opts.client;
    this.#kmsKeyId = opts.kmsKeyId;
    this.publicKeySpki = spki;
    this.keyId = ecdsaKeyId(spki);
  }

  /**
   * Fetches the public key once (GetPublicKey) and checks the key is a P-256
   * signing key that allows ECDSA_SHA_256, so a misconfiguration fails at
   * start-up rather than at the first seal.
   */
  static async create(opts: KmsNoteSignerOptions): Promise<KmsNoteSigner> {
    return new KmsNoteSigner(opts, await kmsPublicKey(opts.client, opts.kmsKeyId));
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    if (message.length > KMS_RAW_MESSAGE_LIMIT)
      throw new SignerError(
        'MESSAGE_TOO_LARGE',
        `KMS RAW signing takes at most ${KMS_RAW_MESSAGE_LIMIT} bytes`,
      );
    let signature: Uint8Array | undefined;
    try {
      const out = await this.#client.send(
        new SignCommand({
          KeyId: this.#kmsKeyId,
          Message: Uint8Array.from(message),
          MessageType: 'RAW',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
      signature = out.Signature;
    } catch (err) {
      throw classify(err, 'Sign');
    }
    if (!signature || signature.length === 0)
      throw new SignerError('SIGNER_UNAVAILABLE', 'KMS returned no signature');
    return Uint8Array.from(signature);
  }
}

/**
 * The public key (DER SPKI) of a KMS log key, checked to be a P-256 signing
 * key that allows ECDSA_SHA_256. GetPublicKey only: what the seal role needs
 * for its own key, and the seal and anchor roles for retired ones.
 */
export async function kmsPublicKey(client: KMSClient, kmsKeyId: string): Promise<Uint8Array> {
  let out: GetPublicKeyCommandOutput;
  try {
    out = await client.send(new GetPublicKeyCommand({ KeyId: kmsKeyId }));
  } catch (err) {
    throw classify(err, 'GetPublicKey');
  }
  // Real KMS returns both KeySpec and its deprecated alias CustomerMasterKeySpec; moto only the alias.
  const keySpec = out.KeySpec ?? out.CustomerMasterKeySpec;
  if (keySpec !== 'ECC_NIST_P256' || out.KeyUsage !== 'SIGN_VERIFY')
    throw new SignerError(
      'KEY_MISCONFIGURED',
      `KMS key must be ECC_NIST_P256 / SIGN_VERIFY, is ${keySpec} / ${out.KeyUsage}`,
    );
  if (!out.SigningAlgorithms?.includes('ECDSA_SHA_256'))
    throw new SignerError('KEY_MISCONFIGURED', 'KMS key does not allow ECDSA_SHA_256');
  if (!out.PublicKey) throw new SignerError('KEY_MISCONFIGURED', 'KMS returned no public key');
  const spki = Uint8Array.from(out.PublicKey);
  try {
    p256PublicPoint(spki);
  } catch (cause) {
    throw new SignerError('KEY_MISCONFIGURED', 'KMS public key is not a valid P-256 SPKI', { cause });
  }
  return spki;
}
