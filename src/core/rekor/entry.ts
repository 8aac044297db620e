/**
 * Rekor v2 (sigstore/rekor-tiles) `hashedrekord` v0.0.2 entries and the TransparencyLogEntry a
 * log returns for them (docs/anchoring.md §Rekor), read and checked offline. Pure: no network.
 *
 * The shapes are the rekor-tiles API (api/proto/rekor/v2/{hashedrekord,entry,verifier}.proto,
 * CreateEntry → dev.sigstore.rekor.v1.TransparencyLogEntry) in protojson form: int64 as decimal
 * strings, bytes as standard base64. The log's leaf is the RFC 6962 leaf hash of the entry body
 * `canonicalizedBody`, which is the RFC 8785 (JCS) form of the protojson `Entry`
 * (rekor-tiles pkg/types/hashedrekord.ToEntryHash): for the only key type anchorlog submits,
 * ECDSA P-256 with SHA-256, exactly the bytes `hashedRekordBody` builds.
 *
 * What a verified entry proves: a Rekor log with a pinned key committed, in a tree whose head
 * it signed, to an entry saying "this key signed data with this SHA-256". With the digest =
 * SHA-256 of one of our signed checkpoint files and the key = our pinned anchor key, the log
 * publicly recorded that checkpoint (docs/anchoring.md §Rekor says what that does and does not add).
 */
import { p256 } from '@noble/curves/nist.js';
import { bytesEqual, EncodingError, fromBase64, toBase64, utf8 } from '../bytes.ts';
import { canonicalBytes } from '../canonical.ts';
import { CanonicalJsonError, type JsonObject, type JsonValue, parseJson } from '../ijson.ts';
import { MerkleError } from '../merkle/errors.ts';
import { hashLeaf } from '../merkle/hasher.ts';
import { verifyInclusion } from '../merkle/verify.ts';
import { ecdsaDerToCompact, p256PointFromSpki } from '../note/der.ts';
import { NoteError } from '../note/errors.ts';
import type { NoteVerifier } from '../note/verifiers.ts';
import { verifyLogCheckpoint } from '../note/verify.ts';
import { RekorError } from './errors.ts';

/** The key details anchorlog submits with (sigstore common.v1 PublicKeyDetails). */
export const REKOR_KEY_DETAILS = 'PKIX_ECDSA_P256_SHA_256';
/** A TransparencyLogEntry larger than this is refused unread (ours are about 2–3 KiB). */
export const MAX_REKOR_ENTRY_BYTES = 64 * 1024;
/** Proof hashes: a tree of 2^63 leaves needs 63; more is not a proof. */
const MAX_PROOF_HASHES = 63;

/** The `CreateEntryRequest` body (JSON) for a hashedrekord v0.0.2 over `digest`. */
export function hashedRekordRequest(digest: Uint8Array, signature: Uint8Array, spki: Uint8Array): JsonObject {
  return {
    hashedRekordRequestV002: {
      digest: toBase64(digest),
      signature: {
        content: toBase64(signature),
        verifier: { publicKey: { rawBytes: toBase64(spki) }, keyDetails: REKOR_KEY_DETAILS },
      },
    },
  };
}

/**
 * The canonicalized body a Rekor v2 log stores for a hashedrekord v0.0.2 request with a
 * P-256 public key: JCS of the protojson `Entry` (kind, apiVersion, spec.hashedRekordV002
 * {data {algorithm SHA2_256, digest}, signature {content, verifier {keyDetails, publicKey}}}).
 */
export function hashedRekordBody(digest: Uint8Array, signature: Uint8Array, spki: Uint8Array): Uint8Array {
  return canonicalBytes({
    apiVersion: '0.0.2',
    kind: 'hashedrekord',
    spec: {
      hashedRekordV002: {
        data: { algorithm: 'SHA2_256', digest: toBase64(digest) },
        signature: {
          content: toBase64(signature),
          verifier: { keyDetails: REKOR_KEY_DETAILS, publicKey: { rawBytes: toBase64(spki) } },
        },
      },
    },
  });
}

/** A TransparencyLogEntry as read (what `parseRekorEntry` accepts), its bytes decoded. */
export interface RekorEntry {
  readonly logIndex: number;
  /** logId.keyId: informative (the checkpoint's signature identifies the log). */
  readonly logKeyId: Uint8Array;
  readonly kind: string;
  readonly version: string;
  /** Seconds; 0 when the log gives none (Rekor v2 does not: time comes from witnessed checkpoints). */
  readonly integratedTime: number;
  readonly inclusionProof: {
    readonly logIndex: number;
    readonly rootHash: Uint8Array;
    readonly treeSize: number;
    readonly hashes: readonly Uint8Array[];
    /** The log's signed checkpoint (C2SP signed note) the proof is to. */
    readonly checkpoint: string;
  };
  readonly canonicalizedBody: Uint8Array;
}

/** The hashedrekord v0.0.2 body, decoded. */
export interface HashedRekordBody {
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
  readonly spki: Uint8Array;
}

function malformed(message: string, cause?: unknown): never {
  throw new RekorError('REKOR_MALFORMED_ENTRY', message, cause === undefined ? undefined : { cause });
}

function object(v: JsonValue | undefined, where: string, allowed: readonly string[]): JsonObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) malformed(`${where} must be an object`);
  for (const k of Object.keys(v)) if (!allowed.includes(k)) malformed(`${where}.${k} is not expected`);
  return v;
}

function string(v: JsonValue | undefined, where: string, max = MAX_REKOR_ENTRY_BYTES): string {
  if (typeof v !== 'string' || v.length > max) malformed(`${where} must be a string`);
  return v;
}

function b64(v: JsonValue | undefined, where: string): Uint8Array {
  try {
    return fromBase64(string(v, where));
  } catch (e) {
    if (e instanceof EncodingError) malformed(`${where} is not base64`, e);
    throw e;
  }
}

/** protojson int64: a decimal string (numbers accepted too); within 0..2^53-1. */
function int64(v: JsonValue | undefined, where: string, absent?: number): number {
  if (v === undefined && absent !== undefined) return absent;
  const n = typeof v === 'string' && /^(0|[1-9][0-9]{0,15})$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) malformed(`${where} must be an int64 ≥ 0`);
  return n;
}

/**
 * Reads a TransparencyLogEntry (protojson, as rekor-tiles' CreateEntry returns it). Strict:
 * unknown members are refused (the server is strict too), sizes are bounded. Only RekorError.
 */
export function parseRekorEntry(bytes: Uint8Array): RekorEntry {
  if (bytes.length > MAX_REKOR_ENTRY_BYTES) malformed(`larger than ${MAX_REKOR_ENTRY_BYTES} bytes`);
  let json: JsonValue;
  try {
    json = parseJson(bytes, { maxBytes: MAX_REKOR_ENTRY_BYTES, maxDepth: 8 });
  } catch (e) {
    if (e instanceof CanonicalJsonError) malformed(`not JSON: ${e.message}`, e);
    throw e;
  }
  const o = object(json, 'entry', [
    'logIndex',
    'logId',
    'kindVersion',
    'integratedTime',
    'inclusionPromise',
    'inclusionProof',
    'canonicalizedBody',
  ]);
  // Rekor v2 gives no promise (SET); a v1-style promise would mean another protocol.
  if (o.inclusionPromise !== undefined && o.inclusionPromise !== null)
    malformed('entry.inclusionPromise: a Rekor v2 entry carries no promise');
  const logId = object(o.logId, 'entry.logId', ['keyId']);
  const kv = object(o.kindVersion, 'entry.kindVersion', ['kind', 'version']);
  const p = object(o.inclusionProof, 'entry.inclusionProof', [
    'logIndex',
    'rootHash',
    'treeSize',
    'hashes',
    'checkpoint',
  ]);
  if (!Array.isArray(p.hashes) || p.hashes.length > MAX_PROOF_HASHES)
    malformed(`entry.inclusionProof.hashes must be an array of at most ${MAX_PROOF_HASHES}`);
  const cp = object(p.checkpoint, 'entry.inclusionProof.checkpoint', ['envelope']);
  return {
    logIndex: int64(o.logIndex, 'entry.logIndex', 0),
    logKeyId: b64(logId.keyId, 'entry.logId.keyId'),
    kind: string(kv.kind, 'entry.kindVersion.kind', 64),
    version: string(kv.version, 'entry.kindVersion.version', 64),
    integratedTime: int64(o.integratedTime, 'entry.integratedTime', 0),
    inclusionProof: {
      logIndex: int64(p.logIndex, 'entry.inclusionProof.logIndex', 0),
      rootHash: b64(p.rootHash, 'entry.inclusionProof.rootHash'),
      treeSize: int64(p.treeSize, 'entry.inclusionProof.treeSize'),
      hashes: p.hashes.map((h, i) => b64(h, `entry.inclusionProof.hashes[${i}]`)),
      checkpoint: string(cp.envelope, 'entry.inclusionProof.checkpoint.envelope', 16 * 1024),
    },
    canonicalizedBody: b64(o.canonicalizedBody, 'entry.canonicalizedBody'),
  };
}

/**
 * Decodes a hashedrekord v0.0.2 body with a P-256 public key, and requires it to be exactly
 * the canonical body of its own fields (so no other member, order or spelling hides in it).
 */
export function parseHashedRekordBody(body: Uint8Array): HashedRekordBody {
  let json: JsonValue;
  try {
    json = parseJson(body, { maxBytes: MAX_REKOR_ENTRY_BYTES, maxDepth: 8 });
  } catch (e) {
    if (e instanceof CanonicalJsonError) malformed('the body is not JSON', e);
    throw e;
  }
  const o = object(json, 'body', ['apiVersion', 'kind', 'spec']);
  if (o.kind !== 'hashedrekord' || o.apiVersion !== '0.0.2')
    malformed('the body is not a hashedrekord v0.0.2');
  const spec = object(o.spec, 'body.spec', ['hashedRekordV002']);
  const hr = object(spec.hashedRekordV002, 'body.spec.hashedRekordV002', ['data', 'signature']);
  const data = object(hr.data, 'body…data', ['algorithm', 'digest']);
  if (data.algorithm !== 'SHA2_256') malformed('body…data.algorithm must be SHA2_256');
  const sig = object(hr.signature, 'body…signature', ['content', 'verifier']);
  const ver = object(sig.verifier, 'body…verifier', ['keyDetails', 'publicKey']);
  if (ver.keyDetails !== REKOR_KEY_DETAILS)
    malformed(`body…verifier.keyDetails must be ${REKOR_KEY_DETAILS}`);
  const pk = object(ver.publicKey, 'body…verifier.publicKey', ['rawBytes']);
  const out = {
    digest: b64(data.digest, 'body…data.digest'),
    signature: b64(sig.content, 'body…signature.content'),
    spki: b64(pk.rawBytes, 'body…publicKey.rawBytes'),
  };
  if (out.digest.length !== 32) malformed('body…data.digest is not 32 bytes');
  if (!bytesEqual(hashedRekordBody(out.digest, out.signature, out.spki), body))
    malformed('the body is not in canonical (RFC 8785) form');
  return out;
}

/** True iff `signature` (DER ECDSA) verifies over the SHA-256 `digest` with P-256 `spki`. Never throws. */
export function verifyDigestSignature(digest: Uint8Array, signature: Uint8Array, spki: Uint8Array): boolean {
  try {
    const point = p256PointFromSpki(spki);
    const compact = ecdsaDerToCompact(signature, 32);
    // The digest is the message hash: no prehash. Either S form, as KMS emits both.
    return p256.verify(compact, digest, point, { prehash: false, lowS: false, format: 'compact' });
  } catch {
    // A malformed key or DER signature, or r/s out of range: simply not a valid signature.
    return false;
  }
}

export interface RekorTrust {
  /** The Rekor logs' checkpoint keys (vkeys; a Rekor v2 key is named after its origin). */
  readonly logKeys: readonly NoteVerifier[];
  /** DER SPKI of the anchor keys entries must be signed with (P-256). */
  readonly anchorKeys: readonly Uint8Array[];
}

export interface VerifiedRekorEntry {
  readonly logIndex: number;
  readonly treeSize: number;
  /** The Rekor log's origin (checkpoint origin line), e.g. `log2025-1.rekor.sigstore.dev`. */
  readonly origin: string;
  /** The pinned log key that signed the checkpoint. */
  readonly logKey: NoteVerifier;
  /** The body's anchor key (one of `trust.anchorKeys`). */
  readonly anchorKey: Uint8Array;
  readonly integratedTime: number;
}

/**
 * Checks every binding of `entry` (docs/anchoring.md §Rekor, in this order):
 *  1. it is a hashedrekord v0.0.2 whose body is canonical (REKOR_MALFORMED_ENTRY);
 *  2. the body's digest is `digest` (REKOR_DIGEST_MISMATCH);
 *  3. the body's key is a pinned anchor key (REKOR_KEY_MISMATCH);
 *  4. the body's signature verifies over the digest (REKOR_SIGNATURE_INVALID);
 *  5. RFC 6962 inclusion of SHA-256(0x00 ‖ body) at logIndex under rootHash, treeSize
 *     (REKOR_INCLUSION_PROOF_INVALID);
 *  6. the checkpoint is signed by a pinned Rekor key named as its origin (REKOR_CHECKPOINT_UNTRUSTED);
 *  7. and it is the tree of the proof: same size and root (REKOR_CHECKPOINT_MISMATCH).
 */
export function verifyRekorEntry(
  entry: RekorEntry,
  digest: Uint8Array,
  trust: RekorTrust,
): VerifiedRekorEntry {
  if (entry.kind !== 'hashedrekord' || entry.version !== '0.0.2')
    malformed(`kind ${entry.kind} ${entry.version}: only hashedrekord 0.0.2 is accepted`);
  const body = parseHashedRekordBody(entry.canonicalizedBody);
  if (!bytesEqual(body.digest, digest))
    throw new RekorError('REKOR_DIGEST_MISMATCH', 'the entry records another digest than this checkpoint’s');
  const anchorKey = trust.anchorKeys.find((k) => bytesEqual(k, body.spki));
  if (!anchorKey)
    throw new RekorError('REKOR_KEY_MISMATCH', 'the entry is signed by a key that is not pinned');
  if (!verifyDigestSignature(body.digest, body.signature, body.spki))
    throw new RekorError('REKOR_SIGNATURE_INVALID', 'the entry’s signature does not verify over its digest');
  const included = verifyRekorInclusion(entry, trust.logKeys);
  return { ...included, anchorKey, integratedTime: entry.integratedTime };
}

/**
 * Steps 5–7 of `verifyRekorEntry`, for an entry of any kind: its body is leaf `logIndex` of the
 * tree the proof names, and that tree's head is signed by a pinned Rekor key named as its origin.
 */
export function verifyRekorInclusion(
  entry: RekorEntry,
  logKeys: readonly NoteVerifier[],
): { logIndex: number; treeSize: number; origin: string; logKey: NoteVerifier } {
  const p = entry.inclusionProof;
  if (p.logIndex !== entry.logIndex)
    malformed(`inclusionProof.logIndex ${p.logIndex} is not the entry's ${entry.logIndex}`);
  try {
    verifyInclusion(hashLeaf(entry.canonicalizedBody), p.logIndex, p.treeSize, p.hashes, p.rootHash);
  } catch (e) {
    if (e instanceof MerkleError)
      throw new RekorError('REKOR_INCLUSION_PROOF_INVALID', `inclusion proof: ${e.message}`, { cause: e });
    throw e;
  }
  let cp: ReturnType<typeof verifyLogCheckpoint>;
  try {
    cp = verifyLogCheckpoint(p.checkpoint, logKeys);
  } catch (e) {
    if (e instanceof NoteError)
      throw new RekorError('REKOR_CHECKPOINT_UNTRUSTED', `Rekor checkpoint: ${e.code}: ${e.message}`, {
        cause: e,
      });
    throw e;
  }
  if (cp.size !== p.treeSize || !bytesEqual(cp.rootHash, p.rootHash))
    throw new RekorError(
      'REKOR_CHECKPOINT_MISMATCH',
      `the signed checkpoint (size ${cp.size}) is not the proof's tree (size ${p.treeSize})`,
    );
  return {
    logIndex: entry.logIndex,
    treeSize: p.treeSize,
    origin: cp.origin,
    logKey: cp.verifiedBy[0] as NoteVerifier,
  };
}

/** Serialises an entry the way rekor-tiles does (protojson, int64 as strings, EmitUnpopulated). */
export function encodeRekorEntry(e: RekorEntry): Uint8Array {
  return utf8(
    JSON.stringify({
      logIndex: String(e.logIndex),
      logId: { keyId: toBase64(e.logKeyId) },
      kindVersion: { kind: e.kind, version: e.version },
      integratedTime: String(e.integratedTime),
      inclusionPromise: null,
      inclusionProof: {
        logIndex: String(e.inclusionProof.logIndex),
        rootHash: toBase64(e.inclusionProof.rootHash),
        treeSize: String(e.inclusionProof.treeSize),
        hashes: e.inclusionProof.hashes.map(toBase64),
        checkpoint: { envelope: e.inclusionProof.checkpoint },
      },
      canonicalizedBody: toBase64(e.canonicalizedBody),
    }),
  );
}
