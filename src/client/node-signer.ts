/**
 * An EventSigner (src/core/producer-signature.ts) over a node:crypto private
 * key: Ed25519, or ECDSA P-256 with SHA-256 producing the raw 64-byte
 * (IEEE P1363) signature the wire format wants (docs/producer-signatures.md).
 * The key id is computed from the public key, so it cannot disagree with the
 * key that signs.
 */
import { createPublicKey, type KeyObject, sign } from 'node:crypto';
import { parsePublicKey } from '../core/producer-key.ts';
import type { EventSigner } from '../core/producer-signature.ts';

export function nodeEventSigner(privateKey: KeyObject): EventSigner {
  const pem = createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString();
  const { keyId, alg } = parsePublicKey(pem);
  return {
    keyId,
    alg,
    sign: async (message) =>
      new Uint8Array(
        alg === 'Ed25519'
          ? sign(null, message, privateKey)
          : sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
      ),
  };
}
