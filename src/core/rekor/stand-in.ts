/**
 * A Rekor v2 log in process, for the local stack and tests (docs/anchoring.md §Rekor): accepts
 * rekor-tiles `CreateEntryRequest`s for `hashedrekord` v0.0.2 with an ECDSA P-256 public key,
 * checks the signature over the digest as rekor-tiles does, appends the canonicalized body as an
 * RFC 6962 leaf of an in-memory tree, signs a C2SP checkpoint of the new tree (the origin is
 * the key name, as a Rekor v2 log's) and answers the TransparencyLogEntry rekor-tiles would:
 * logIndex, logId, kindVersion, integratedTime 0, no promise, the inclusion proof with the
 * checkpoint, and the canonicalized body. Real crypto throughout, so what verifies against it
 * exercises the same bytes a real Rekor v2 log produces (test/core/rekor/real-entries.test.ts
 * checks the body form against a production entry). Not a Rekor: no tiles, no persistence, no
 * deduplication, no certificates, one signer.
 *
 * The leaves and checkpoint are serialised (`#queue`) so concurrent requests get distinct
 * indexes and a proof to a checkpoint that contains them.
 */
import { concatBytes, EncodingError, fromBase64, utf8 } from '../bytes.ts';
import { sha256 } from '../hash.ts';
import { CanonicalJsonError, type JsonObject, type JsonValue, parseJson } from '../ijson.ts';
import { hashLeaf } from '../merkle/hasher.ts';
import { inclusionProof } from '../merkle/proof-from-leaves.ts';
import { rootOf } from '../merkle/root.ts';
import { formatCheckpoint } from '../note/checkpoint.ts';
import { ed25519KeyFromSpki, isEd25519Spki } from '../note/der.ts';
import { type NoteSigningKey, signNote } from '../note/sign.ts';
import { SIG_TYPE_ED25519 } from '../note/verifiers.ts';
import {
  encodeRekorEntry,
  hashedRekordBody,
  MAX_REKOR_ENTRY_BYTES,
  REKOR_KEY_DETAILS,
  type RekorEntry,
  verifyDigestSignature,
} from './entry.ts';

/** Why the stand-in refused a request: rekor-tiles answers these 400 InvalidArgument. */
export class RekorRequestError extends Error {}

/** The decoded fields of a hashedrekord v0.0.2 request with a public key. */
export interface HashedRekordRequest {
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
  readonly spki: Uint8Array;
}

function field(o: JsonValue | undefined, key: string): JsonValue | undefined {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new RekorRequestError('not an object');
  return (o as JsonObject)[key];
}

function b64(v: JsonValue | undefined, what: string): Uint8Array {
  if (typeof v !== 'string') throw new RekorRequestError(`${what} missing`);
  try {
    return fromBase64(v);
  } catch (e) {
    if (e instanceof EncodingError) throw new RekorRequestError(`${what} is not base64`);
    throw e;
  }
}

/** Reads a CreateEntryRequest body (JSON) as rekor-tiles does for the one shape we accept. */
export function parseCreateEntryRequest(body: Uint8Array): HashedRekordRequest {
  let json: JsonValue;
  try {
    json = parseJson(body, { maxBytes: MAX_REKOR_ENTRY_BYTES, maxDepth: 8 });
  } catch (e) {
    if (e instanceof CanonicalJsonError) throw new RekorRequestError('invalid JSON');
    throw e;
  }
  const hr = field(json, 'hashedRekordRequestV002');
  if (hr === undefined) throw new RekorRequestError('invalid type, must be hashedrekord');
  const sig = field(hr, 'signature');
  const ver = field(sig, 'verifier');
  if (field(ver, 'keyDetails') !== REKOR_KEY_DETAILS)
    throw new RekorRequestError(`unsupported key details (this stand-in takes ${REKOR_KEY_DETAILS})`);
  const out = {
    digest: b64(field(hr, 'digest'), 'digest'),
    signature: b64(field(sig, 'content'), 'signature'),
    spki: b64(field(field(ver, 'publicKey'), 'rawBytes'), 'public key'),
  };
  if (out.digest.length !== 32) throw new RekorRequestError('digest length does not match SHA-256');
  if (out.signature.length === 0) throw new RekorRequestError('missing signature');
  if (!verifyDigestSignature(out.digest, out.signature, out.spki))
    throw new RekorRequestError('verifying signature failed');
  return out;
}

export class RekorStandInLog {
  /** The log's origin and checkpoint key name. */
  readonly origin: string;
  readonly #signer: NoteSigningKey;
  readonly #leaves: Uint8Array[] = [];
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * logId.keyId as Rekor v2 sets it: the full SHA-256 whose first 4 bytes are the checkpoint
   * key ID (Ed25519: of name ‖ 0x0A ‖ 0x01 ‖ key; ECDSA: of the SPKI).
   */
  readonly #logId: Uint8Array;

  constructor(signer: NoteSigningKey) {
    this.origin = signer.keyName;
    this.#signer = signer;
    const spki = signer.publicKeySpki;
    this.#logId = isEd25519Spki(spki)
      ? sha256(
          concatBytes(utf8(signer.keyName), Uint8Array.of(0x0a, SIG_TYPE_ED25519), ed25519KeyFromSpki(spki)),
        )
      : sha256(spki);
  }

  get size(): number {
    return this.#leaves.length;
  }

  /** Appends the entry for `request` and resolves the TransparencyLogEntry (protojson bytes). */
  add(request: HashedRekordRequest): Promise<Uint8Array> {
    const run = this.#queue.then(() => this.#add(request));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #add(r: HashedRekordRequest): Promise<Uint8Array> {
    const body = hashedRekordBody(r.digest, r.signature, r.spki);
    const index = this.#leaves.length;
    this.#leaves.push(hashLeaf(body));
    const size = this.#leaves.length;
    const rootHash = rootOf(this.#leaves);
    const checkpoint = await signNote(formatCheckpoint({ origin: this.origin, size, rootHash }), [
      this.#signer,
    ]);
    const entry: RekorEntry = {
      logIndex: index,
      logKeyId: this.#logId,
      kind: 'hashedrekord',
      version: '0.0.2',
      integratedTime: 0,
      inclusionProof: {
        logIndex: index,
        rootHash,
        treeSize: size,
        hashes: inclusionProof(this.#leaves, index, size),
        checkpoint,
      },
      canonicalizedBody: body,
    };
    return encodeRekorEntry(entry);
  }
}
