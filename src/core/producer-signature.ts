/**
 * Producer signatures on events (docs/producer-signatures.md): what is signed,
 * how it is checked, and the one error class with its stable codes.
 *
 * What is signed: the RFC 8785 canonical bytes of the event without its
 * `signature` member — exactly the bytes a producer can compute before it
 * sends, and that every verifier recomputes from the stored record
 * (the record keeps the event byte-for-byte; src/core/record.ts).
 *
 * Verification goes through SignatureVerifier, a small async interface, so
 * the same checks run on node:crypto (ingest, CLI; the default here) and on
 * WebCrypto (a browser verifier): both implement Ed25519 and ECDSA P-256 with
 * the 64-byte raw (IEEE P1363) signature form used on the wire.
 */
import { EncodingError, fromBase64Url, toBase64Url } from './bytes.ts';
import { canonicalBytes } from './canonical.ts';
import { AnchorlogError } from './errors.ts';
import type { AuditEvent, EventSignature } from './event.ts';
import { algOfSpki, keyStatusAt, type ProducerKeyRecord, type SignatureAlg, spkiOf } from './producer-key.ts';

export type SignatureErrorCode =
  /** The signature does not verify with the named key, or is malformed. */
  | 'SIGNATURE_INVALID'
  /** No key with that id is registered to the submitting principal. */
  | 'SIGNATURE_KEY_UNKNOWN'
  /** The key is registered but revoked, expired or not yet valid at that time. */
  | 'SIGNATURE_KEY_INACTIVE'
  /** The log's policy requires a signature on this event and there is none. */
  | 'SIGNATURE_REQUIRED';

export class SignatureError extends AnchorlogError<SignatureErrorCode> {}

/**
 * Verifies raw signatures. `verify` resolves false for a signature that does
 * not verify and for a key it cannot import; it never throws on
 * attacker-controlled bytes. `checkKey` tells whether the SPKI imports (for
 * P-256: the point is on the curve) — registration runs it.
 */
export interface SignatureVerifier {
  verify(alg: SignatureAlg, spki: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
  checkKey(alg: SignatureAlg, spki: Uint8Array): Promise<boolean>;
}

/** The bytes a producer signs: RFC 8785 of the event without `signature`. */
export function signingBytes(event: AuditEvent): Uint8Array {
  const { signature: _omit, ...unsigned } = event;
  return canonicalBytes(unsigned);
}

/** Signs with whatever holds the private key (node:crypto, WebCrypto, KMS): returns the raw 64 bytes. */
export interface EventSigner {
  readonly keyId: string;
  readonly alg: SignatureAlg;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** `event` with its `signature` member (any earlier one replaced). */
export async function signEvent<E extends AuditEvent>(event: E, signer: EventSigner): Promise<E> {
  const { signature: _old, ...unsigned } = event;
  const sig = await signer.sign(signingBytes(unsigned as AuditEvent));
  if (sig.length !== 64)
    throw new RangeError(`a ${signer.alg} signature must be 64 raw bytes (got ${sig.length})`);
  return { ...(unsigned as E), signature: { keyId: signer.keyId, alg: signer.alg, sig: toBase64Url(sig) } };
}

/**
 * A key record made ready for checking many events at one time `atMs`: its
 * status and SPKI bytes computed once (not once per event), and `spki` one
 * stable Uint8Array, so a verifier can cache its imported key by identity.
 */
export interface PreparedKey {
  readonly record: ProducerKeyRecord;
  readonly spki: Uint8Array;
  readonly status: ReturnType<typeof keyStatusAt>;
  /** The record's alg when it is the SPKI's; undefined when they disagree. */
  readonly alg: SignatureAlg | undefined;
}

export function prepareKey(key: ProducerKeyRecord, atMs: number): PreparedKey {
  let spki = spkiBytes.get(key);
  if (!spki) {
    spki = spkiOf(key);
    spkiBytes.set(key, spki);
  }
  const alg = algOfSpki(spki) === key.alg ? key.alg : undefined;
  return { record: key, spki, status: keyStatusAt(key, atMs), alg };
}

/**
 * SPKI bytes by record object: a key reader that returns the same object for
 * the same key (src/app/producer-keys.ts BoundProducerKeys caches it) gets the
 * same array, so the verifier's imported key is found by identity. Records
 * are never modified after they are read.
 */
const spkiBytes = new WeakMap<ProducerKeyRecord, Uint8Array>();

/** What a verifier is asked for one event: the key, the signed bytes and the raw signature. */
export interface SignatureInput {
  readonly alg: SignatureAlg;
  readonly spki: Uint8Array;
  readonly message: Uint8Array;
  readonly sig: Uint8Array;
}

/**
 * Every check of `event.signature` against `key` that needs no cryptography
 * (the key is the named one, active, of the signature's algorithm; the
 * signature is 64 bytes of base64url), then the signed bytes, computed once.
 * Throws SignatureError. Split from the verification so a caller can run the
 * verifications of a batch concurrently (src/app/ingest.ts).
 */
export function signatureInput(event: AuditEvent, key: PreparedKey | undefined): SignatureInput {
  const s = event.signature as EventSignature | undefined;
  if (!s) throw new SignatureError('SIGNATURE_REQUIRED', 'event is not signed');
  if (!key || key.record.keyId !== s.keyId)
    throw new SignatureError('SIGNATURE_KEY_UNKNOWN', `key ${s.keyId} is not registered to the submitter`);
  if (key.status !== 'active')
    throw new SignatureError('SIGNATURE_KEY_INACTIVE', `key ${s.keyId} is ${key.status}`);
  if (s.alg !== key.record.alg || key.alg !== s.alg)
    throw new SignatureError('SIGNATURE_INVALID', `key ${s.keyId} is ${key.record.alg}, not ${s.alg}`);
  let sig: Uint8Array;
  try {
    sig = fromBase64Url(s.sig);
  } catch (e) {
    if (!(e instanceof EncodingError)) throw e;
    throw new SignatureError('SIGNATURE_INVALID', 'signature is not base64url');
  }
  if (sig.length !== 64) throw new SignatureError('SIGNATURE_INVALID', 'signature must be 64 bytes');
  return { alg: s.alg, spki: key.spki, message: signingBytes(event), sig };
}

/** The failure for a signature that does not verify (the one message, wherever it is checked). */
export function signatureMismatch(event: AuditEvent): SignatureError {
  return new SignatureError(
    'SIGNATURE_INVALID',
    `signature does not verify with key ${(event.signature as EventSignature | undefined)?.keyId}`,
  );
}

/**
 * Checks `event.signature` against `key` (the record of the key it names,
 * registered to the submitter; undefined when there is none) at `atMs`.
 * Throws SignatureError; resolves when the signature is good.
 */
export async function verifyEventSignature(
  event: AuditEvent,
  key: ProducerKeyRecord | undefined,
  atMs: number,
  verifier: SignatureVerifier,
): Promise<void> {
  const input = signatureInput(event, key ? prepareKey(key, atMs) : undefined);
  if (!(await verifier.verify(input.alg, input.spki, input.message, input.sig)))
    throw signatureMismatch(event);
}

type Subtle = SubtleCrypto;

const WEBCRYPTO_PARAMS: Record<
  SignatureAlg,
  { importAlg: AlgorithmIdentifier | EcKeyImportParams; verifyAlg: AlgorithmIdentifier | EcdsaParams }
> = {
  Ed25519: { importAlg: { name: 'Ed25519' }, verifyAlg: { name: 'Ed25519' } },
  ES256: {
    importAlg: { name: 'ECDSA', namedCurve: 'P-256' } as EcKeyImportParams,
    verifyAlg: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
  },
};

/**
 * SignatureVerifier on WebCrypto (browsers; Node's globalThis.crypto.subtle too).
 * Imported keys are cached by the SPKI array's identity and algorithm (a
 * caller that prepared a key once, `prepareKey`, imports it once).
 */
export function webCryptoVerifier(subtle: Subtle = globalThis.crypto.subtle): SignatureVerifier {
  const cache = new WeakMap<Uint8Array, Map<SignatureAlg, Promise<CryptoKey | undefined>>>();
  const importOnce = async (alg: SignatureAlg, spki: Uint8Array): Promise<CryptoKey | undefined> => {
    try {
      return await subtle.importKey('spki', spki as BufferSource, WEBCRYPTO_PARAMS[alg].importAlg, false, [
        'verify',
      ]);
    } catch {
      return undefined;
    }
  };
  const imported = (alg: SignatureAlg, spki: Uint8Array): Promise<CryptoKey | undefined> => {
    let byAlg = cache.get(spki);
    if (!byAlg) {
      byAlg = new Map();
      cache.set(spki, byAlg);
    }
    let k = byAlg.get(alg);
    if (!k) {
      k = importOnce(alg, spki);
      byAlg.set(alg, k);
    }
    return k;
  };
  return {
    async verify(alg, spki, message, signature) {
      const key = await imported(alg, spki);
      if (!key) return false;
      try {
        return await subtle.verify(
          WEBCRYPTO_PARAMS[alg].verifyAlg,
          key,
          signature as BufferSource,
          message as BufferSource,
        );
      } catch {
        return false;
      }
    },
    async checkKey(alg, spki) {
      return algOfSpki(spki) === alg && (await imported(alg, spki)) !== undefined;
    },
  };
}

type NodeCrypto = typeof import('node:crypto');

/**
 * SignatureVerifier on node:crypto. Imported keys are cached (a producer signs
 * a stream of events with one key): by the SPKI array's identity first (a
 * caller that prepared a key once, src/core/producer-signature.ts
 * `prepareKey`, pays no encoding per event), then by its bytes. ECDSA
 * signatures are read in the raw P1363 form (`dsaEncoding: 'ieee-p1363'`).
 *
 * `verify` uses the asynchronous `crypto.verify(…, callback)`, which runs in
 * libuv's threadpool (UV_THREADPOOL_SIZE, default 4 threads): the
 * verifications of a batch started together run in parallel, off the main
 * thread, while it builds records and waits on the store.
 */
export function nodeCryptoVerifier(nodeCrypto: NodeCrypto): SignatureVerifier {
  type KeyObject = import('node:crypto').KeyObject;
  const bySpki = new WeakMap<Uint8Array, KeyObject | null>();
  const cache = new Map<string, KeyObject | null>();
  const keyOf = (spki: Uint8Array): KeyObject | null => {
    let k = bySpki.get(spki);
    if (k !== undefined) return k;
    const id = toBase64Url(spki);
    k = cache.get(id);
    if (k === undefined) {
      try {
        k = nodeCrypto.createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      } catch {
        k = null;
      }
      if (cache.size >= 1024) cache.clear();
      cache.set(id, k);
    }
    bySpki.set(spki, k);
    return k;
  };
  return {
    verify(alg, spki, message, signature) {
      const key = keyOf(spki);
      if (!key || algOfSpki(spki) !== alg) return Promise.resolve(false);
      return new Promise((resolve) => {
        const done = (err: Error | null, ok: boolean) => resolve(!err && ok === true);
        try {
          if (alg === 'Ed25519') nodeCrypto.verify(null, message, key, signature, done);
          else nodeCrypto.verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature, done);
        } catch {
          resolve(false);
        }
      });
    },
    async checkKey(alg, spki) {
      return algOfSpki(spki) === alg && keyOf(spki) !== null;
    },
  };
}

async function pickDefault(): Promise<SignatureVerifier> {
  try {
    return nodeCryptoVerifier(await import('node:crypto'));
  } catch {
    return webCryptoVerifier();
  }
}

let chosen: Promise<SignatureVerifier> | undefined;
const chosenVerifier = (): Promise<SignatureVerifier> => {
  chosen ??= pickDefault();
  return chosen;
};

/**
 * node:crypto where it exists (Node), else WebCrypto (a browser), chosen once,
 * on first use. Not with a top-level await: this module is also bundled into
 * the console's classic (iife) worker for the single-file page, where a
 * top-level await cannot be compiled (docs/console.md).
 */
export const defaultSignatureVerifier: SignatureVerifier = {
  async verify(alg, spki, message, signature) {
    return (await chosenVerifier()).verify(alg, spki, message, signature);
  },
  async checkKey(alg, spki) {
    return (await chosenVerifier()).checkKey(alg, spki);
  },
};
