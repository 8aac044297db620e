/**
 * Signer port: the log's checkpoint-signing key (docs/formats.md §Checkpoints). Implemented by
 * src/adapters/aws/kms-signer.ts (production, AWS KMS) and
 * src/adapters/memory/local-signer.ts (tests, benchmarks). Checkpoints are signed
 * with `signNote` from src/core/note, which checks each signature against
 * `publicKeySpki` before emitting it.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */
import { AnchorlogError } from '../core/errors.ts';

export interface NoteSigner {
  /**
   * The signed-note key name. It MUST be a valid key name (non-empty, no
   * spaces, no `+`). For a log key it MUST equal the checkpoint origin
   * (`<origin prefix>/<logId>`).
   */
  readonly keyName: string;
  /**
   * MUST be the 4-byte C2SP key ID of the key: SHA-256(publicKeySpki)[:4] for an ECDSA P-256
   * key (signature type 0x02), SHA-256(keyName ‖ 0x0A ‖ 0x01 ‖ 32-byte key)[:4] for an Ed25519
   * key (type 0x01; it depends on the name).
   */
  readonly keyId: Uint8Array;
  /**
   * DER SubjectPublicKeyInfo of an ECDSA P-256 key or of an Ed25519 key (RFC 8410); the
   * algorithm of this SPKI is the signer's signature type. It MUST be the key that `sign` uses
   * and MUST NOT change during the signer's lifetime.
   */
  readonly publicKeySpki: Uint8Array;
  /**
   * ECDSA P-256: returns a DER-encoded ECDSA signature over SHA-256(message) — the message
   * itself, not a caller-computed digest — made by the key of `publicKeySpki`. Either S form
   * (high or low) is acceptable.
   * Ed25519: returns the 64-byte pure Ed25519 signature (RFC 8032, no prehash) over the message.
   *
   * - It MUST NOT resolve with a signature by any other key; on any doubt it
   *   MUST reject.
   * - It MUST reject with a `SignerError`: `SIGNER_UNAVAILABLE` when a retry
   *   may succeed (throttling, network), `MESSAGE_TOO_LARGE` when the message
   *   exceeds what the key service accepts, `KEY_MISCONFIGURED` when retrying
   *   cannot help (wrong key spec, disabled key, access denied).
   * - It MAY be called concurrently and MUST NOT retain or modify `message`.
   */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export type SignerErrorCode = 'SIGNER_UNAVAILABLE' | 'MESSAGE_TOO_LARGE' | 'KEY_MISCONFIGURED';

export class SignerError extends AnchorlogError<SignerErrorCode> {}
