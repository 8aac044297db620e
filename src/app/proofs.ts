/**
 * Read side of the log (docs/api.md §Routes): the latest checkpoint, tlog-tiles, and
 * inclusion/consistency proofs, served from the WORM archive only — stored
 * tiles and the checkpoint object, never the log store's records. A proof
 * costs one checkpoint read plus O(log n) tile reads (about two tiles per
 * tile level, i.e. per 8 tree levels), cached for the request
 * (src/core/merkle/tile-nodes.ts).
 *
 * Every index, size and path here comes from a URL. Anything a client can get
 * wrong is an AppError BAD_REQUEST naming the parameter, or NOT_FOUND; a 5xx
 * means the archive failed (UNAVAILABLE) or contradicts itself (INTEGRITY).
 *
 * Archive objects past the published checkpoint (tiles a sealer wrote before
 * its CAS) are never served: every tile and proof is bounded by the size of
 * the checkpoint object read for the request.
 */
import { toBase64, toHex } from '../core/bytes.ts';
import { decodeEntryBundle, encodeEntryBundle } from '../core/merkle/entry-bundle.ts';
import { MerkleError } from '../core/merkle/errors.ts';
import { HASH_SIZE } from '../core/merkle/hasher.ts';
import { consistencyProofFromOracle, inclusionProofFromOracle } from '../core/merkle/proof-nodes.ts';
import { nodesAtTileLevel } from '../core/merkle/tile-layout.ts';
import { tileNodeOracle } from '../core/merkle/tile-nodes.ts';
import {
  entryBundlePath,
  type ParsedTilePath,
  parseTilePath,
  TILE_WIDTH,
  tilePath,
} from '../core/merkle/tile-path.ts';
import { isValidLogId, LOG_ID_PATTERN } from '../core/names.ts';
import { type Checkpoint, parseCheckpoint } from '../core/note/checkpoint.ts';
import { spkiToPem } from '../core/note/pem.ts';
import { parseNote } from '../core/note/signed-note.ts';
import { ecdsaKeyId } from '../core/note/verifiers.ts';
import { vkeyFromSpki } from '../core/note/vkey.ts';
import { type Cosigner, verifyCosignature } from '../core/witness/cosignature.ts';
import { type ArchiveStore, archiveKey, checkpointKey } from '../ports/archive-store.ts';
import { AppError } from './errors.ts';
import { fromPortError, RETRY_AFTER_SECONDS } from './port-errors.ts';
import { cosignatureKey } from './witness.ts';

/**
 * Largest entry bundle answered in the response body. The API Lambda's
 * response is at most 6 MB after base64 (≈ 4.4 MiB of bytes), while a full
 * bundle may hold 256 records of up to 65,535 bytes (≈ 16.8 MB). Bundles of
 * typical audit records (≈ 600 B each, ≈ 150 KB a bundle) stay well below
 * 1 MiB and keep the one-request path; larger ones are a redirect to S3.
 */
export const ENTRY_BUNDLE_INLINE_MAX = 1024 * 1024;
/** Lifetime of the presigned URL an entry-bundle redirect points at. */
export const ENTRY_BUNDLE_URL_SECONDS = 300;

export interface ProofServiceOptions {
  /** Reads and presigned reads only: the read side never writes. */
  readonly archive: Pick<ArchiveStore, 'get' | 'getBounded' | 'presignGet'>;
  /** Entry bundles larger than this are a redirect (default ENTRY_BUNDLE_INLINE_MAX). */
  readonly entryBundleInlineMax?: number;
  /** Checkpoint origin (and key name) of log L is `${originPrefix}/${L}`. */
  readonly originPrefix: string;
  /**
   * DER SubjectPublicKeyInfo of the log signing key(s), current key first
   * (e.g. KMS GetPublicKey). Called on the first keys() and memoised once it
   * succeeds.
   */
  readonly publicKeys: () => Promise<readonly Uint8Array[]>;
  /**
   * The configured witnesses (docs/witnessing.md): `witnessedCheckpoint`
   * appends the archived cosignature of each, when it verifies.
   */
  readonly witnesses?: readonly { readonly name: string; readonly cosigner: Cosigner }[];
}

export interface InclusionProofResult {
  readonly index: number;
  readonly size: number;
  /** RFC 9162 §2.1.3 order, base64. */
  readonly hashes: string[];
}

export interface ConsistencyProofResult {
  readonly from: number;
  readonly to: number;
  /** RFC 9162 §2.1.4 order, base64. */
  readonly hashes: string[];
}

export interface TileResult {
  readonly bytes: Uint8Array;
  readonly kind: 'hash' | 'entries';
  /** True for a full (256-wide) tile: its bytes can never change. */
  readonly full: boolean;
}

/** An entry bundle too large for the response body: where to GET exactly the archived version. */
export interface TileRedirect {
  readonly kind: 'entries';
  readonly full: boolean;
  /** Its size, bytes. */
  readonly size: number;
  /** A presigned S3 GET of that object version; grants nothing else. */
  readonly url: string;
  readonly expiresInSeconds: number;
}

/**
 * One log signing key as GET /v1/keys publishes it. Deliberately names no
 * log: the endpoint is public, and a list of logs would enumerate tenants.
 */
export interface LogKeyInfo {
  /** The key name pattern: `${originPrefix}/{logId}` (the key name is the origin, docs/formats.md). */
  readonly name: string;
  /** 4-byte key ID, hex: SHA-256(SPKI)[:4], independent of the name. */
  readonly keyId: string;
  readonly type: 'ecdsa-p256-sha256';
  /** `vkey` with `{logId}` still to substitute; the key ID and key part are final. */
  readonly vkeyTemplate: string;
  /** The key as PEM SubjectPublicKeyInfo, for `openssl dgst -sha256 -verify`. */
  readonly pem: string;
  /** The vkey of the log asked for (`keys(logId)`): the template with the id substituted. */
  readonly vkey?: string;
}

interface Head {
  readonly text: string;
  readonly checkpoint: Checkpoint;
}

const LOG_ID_PLACEHOLDER = '{logId}';

function badParam(name: string, message: string): AppError {
  return new AppError('BAD_REQUEST', message, { path: `/query/${name}` });
}

/** Archive failures are the server's, never the client's. */
function fromArchive(err: unknown, what: string): AppError {
  const mapped = fromPortError(err, `archive read of ${what}`);
  if (mapped) return mapped;
  if (err instanceof MerkleError)
    return new AppError('INTEGRITY', `stored ${what} is malformed: ${err.message}`, { cause: err });
  return new AppError('UNAVAILABLE', `archive read of ${what} failed; retry`, {
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    cause: err,
  });
}

export class ProofService {
  readonly #o: ProofServiceOptions;
  #keys: Promise<readonly Uint8Array[]> | undefined;

  constructor(options: ProofServiceOptions) {
    this.#o = options;
  }

  origin(logId: string): string {
    return `${this.#o.originPrefix}/${logId}`;
  }

  /** The latest signed checkpoint text. NOT_FOUND for an unknown or never sealed log. */
  async latestCheckpoint(logId: string): Promise<string> {
    return (await this.#head(logId)).text;
  }

  /**
   * The latest checkpoint with the witnesses' cosignature lines appended
   * (GET /v1/logs/{log}/checkpoint; docs/witnessing.md §Serving). Each line
   * is the one archived at `anchors/<size>/<witness>.cosig` by the anchor
   * job, appended only when it verifies under the configured witness key
   * over this checkpoint's text, so a stale or damaged object is never
   * served. The result is still a valid signed note: a parser that knows
   * only the log key ignores the extra lines (signed-note: unknown keys'
   * signatures are ignored).
   */
  async witnessedCheckpoint(logId: string): Promise<string> {
    const { text, checkpoint } = await this.#head(logId);
    const witnesses = this.#o.witnesses ?? [];
    if (witnesses.length === 0) return text;
    const noteText = parseNote(text).text;
    const lines = await Promise.all(
      witnesses.map(async (w) => {
        const bytes = await this.#get(cosignatureKey(logId, checkpoint.size, w.name), 'cosignature');
        if (bytes === undefined) return '';
        let line: string;
        try {
          line = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
          const sigs = parseNote(`${noteText}\n${line}`).signatures;
          const sig = sigs.length === 1 ? sigs[0] : undefined;
          if (!sig || verifyCosignature(w.cosigner, noteText, sig) === undefined) return '';
        } catch {
          return '';
        }
        return line;
      }),
    );
    return `${text}${lines.join('')}`;
  }

  /**
   * A tile or entry bundle by its tlog-tiles path (`tile/…`, canonical form
   * only). Only tiles inside the current tree are served. A partial tile of
   * an earlier tree size that the sealer never stored is cut from the wider
   * tile of the current tree (a partial tile is a prefix of the full one).
   */
  async tile(logId: string, path: string): Promise<TileResult> {
    const r = await this.tileOrRedirect(logId, path, Number.POSITIVE_INFINITY);
    if ('url' in r) throw new AppError('INTERNAL', `${path} was not read inline`);
    return r;
  }

  /**
   * As `tile`, but an entry bundle larger than `inlineMax` (default: the
   * service's entryBundleInlineMax) is answered with a presigned URL of the
   * exact archived object version instead of its bytes. A partial bundle
   * that must be cut from a wider one is always cut here; if the cut is still
   * larger than `inlineMax` it is NOT_FOUND, naming the stored width whose
   * first entries it is (tlog-tiles clients fall back to a wider tile).
   */
  async tileOrRedirect(
    logId: string,
    path: string,
    inlineMax: number = this.#o.entryBundleInlineMax ?? ENTRY_BUNDLE_INLINE_MAX,
  ): Promise<TileResult | TileRedirect> {
    let t: ParsedTilePath;
    try {
      t = parseTilePath(path);
    } catch (cause) {
      throw new AppError('BAD_REQUEST', 'not a canonical tlog-tiles path', { path: '/path', cause });
    }
    const { checkpoint } = await this.#head(logId);
    const have = nodesAtTileLevel(checkpoint.size, t.level);
    const start = t.index * TILE_WIDTH;
    if (start + t.width > have)
      throw new AppError('NOT_FOUND', `${path} is not in the tree of size ${checkpoint.size}`);
    const stored = Math.min(TILE_WIDTH, have - start);
    const keyFor = (w: number) =>
      archiveKey(logId, t.kind === 'entries' ? entryBundlePath(t.index, w) : tilePath(t.level, t.index, w));
    const full = t.width === TILE_WIDTH;
    let bytes: Uint8Array | undefined;
    if (t.kind === 'entries' && Number.isFinite(inlineMax)) {
      const key = keyFor(t.width);
      const found = await this.#guard(() => this.#o.archive.getBounded(key, inlineMax), path);
      if (found?.bytes) bytes = found.bytes;
      else if (found) {
        const url = await this.#guard(
          () => this.#o.archive.presignGet(key, found.versionId, ENTRY_BUNDLE_URL_SECONDS),
          path,
        );
        return { kind: 'entries', full, size: found.size, url, expiresInSeconds: ENTRY_BUNDLE_URL_SECONDS };
      }
    } else bytes = await this.#get(keyFor(t.width), path);
    if (bytes === undefined && t.width < stored) {
      const wider = await this.#get(keyFor(stored), path);
      if (wider !== undefined) bytes = this.#prefix(t, wider, stored, path);
      if (bytes !== undefined && bytes.length > inlineMax)
        throw new AppError(
          'NOT_FOUND',
          `${path} is not stored, and cut from ${entryBundlePath(t.index, stored)} it is ${bytes.length} bytes, ` +
            `more than the ${inlineMax} served inline: read ${entryBundlePath(t.index, stored)} (its first ${t.width} entries are these)`,
        );
    }
    if (bytes === undefined) throw new AppError('INTEGRITY', `${path} is missing from the archive`);
    return { bytes, kind: t.kind, full };
  }

  /** Inclusion proof of leaf `index` in the tree of `size` (default: the latest checkpoint's). */
  async inclusionProof(logId: string, index: number, size?: number): Promise<InclusionProofResult> {
    const { checkpoint } = await this.#head(logId);
    const n = this.#sizeParam('size', size, checkpoint.size);
    if (n === 0) throw badParam('size', 'size must be at least 1');
    if (!Number.isSafeInteger(index) || index < 0)
      throw badParam('index', 'index must be a non-negative integer');
    if (index >= n) throw badParam('index', `index ${index} is not below the tree size ${n}`);
    const oracle = this.#oracle(logId, n, checkpoint.size);
    const proof = await this.#guard(() => inclusionProofFromOracle(index, n, oracle));
    return { index, size: n, hashes: proof.map(toBase64) };
  }

  /** Consistency proof from tree size `from` to `to` (default: the latest checkpoint's). */
  async consistencyProof(logId: string, from: number, to?: number): Promise<ConsistencyProofResult> {
    const { checkpoint } = await this.#head(logId);
    const n = this.#sizeParam('to', to, checkpoint.size);
    if (!Number.isSafeInteger(from) || from < 1)
      throw badParam('from', 'from must be a positive integer (a proof from the empty tree proves nothing)');
    if (from > n) throw badParam('from', `from ${from} is greater than to ${n}`);
    const oracle = this.#oracle(logId, n, checkpoint.size);
    const proof = await this.#guard(() => consistencyProofFromOracle(from, n, oracle));
    return { from, to: n, hashes: proof.map(toBase64) };
  }

  /**
   * The log signing key(s) as vkey templates and PEM, and with `logId` the
   * vkey of that log. Derived from the key and the id alone — no registry or
   * archive read — so the answer is the same whether or not the log exists.
   */
  async keys(logId?: string): Promise<{ keys: LogKeyInfo[] }> {
    if (logId !== undefined && !isValidLogId(logId))
      throw badParam('log', `log must match ${LOG_ID_PATTERN}`);
    const spkis = await this.#publicKeys();
    return {
      keys: spkis.map((spki) => {
        const k = this.#template(spki);
        // Computed for the log's own name, not substituted: the same for a 0x02 key, and right
        // for a 0x01 (Ed25519) key, whose key ID depends on the name.
        return logId === undefined ? k : { ...k, vkey: vkeyFromSpki(this.origin(logId), spki) };
      }),
    };
  }

  #template(spki: Uint8Array): LogKeyInfo {
    // The vkey's name is the origin; everything after it (key ID, key) is the same for every log.
    const sample = 'x';
    const tail = vkeyFromSpki(this.origin(sample), spki).slice(this.origin(sample).length);
    return {
      name: this.origin(LOG_ID_PLACEHOLDER),
      keyId: toHex(ecdsaKeyId(spki)),
      type: 'ecdsa-p256-sha256',
      vkeyTemplate: `${this.origin(LOG_ID_PLACEHOLDER)}${tail}`,
      pem: spkiToPem(spki),
    };
  }

  async #publicKeys(): Promise<readonly Uint8Array[]> {
    if (this.#keys === undefined) {
      const p = this.#o.publicKeys();
      this.#keys = p;
      // A failed fetch (KMS throttled) must not be remembered.
      p.catch(() => {
        if (this.#keys === p) this.#keys = undefined;
      });
    }
    try {
      return await this.#keys;
    } catch (cause) {
      throw new AppError('UNAVAILABLE', 'the log signing key is unavailable; retry', {
        retryAfterSeconds: 1,
        cause,
      });
    }
  }

  /** A requested tree size, bounded by the published one. */
  #sizeParam(name: string, value: number | undefined, published: number): number {
    if (value === undefined) return published;
    if (!Number.isSafeInteger(value) || value < 0)
      throw badParam(name, `${name} must be a non-negative integer`);
    if (value > published)
      throw badParam(name, `${name} ${value} is beyond the latest checkpoint size ${published}`);
    return value;
  }

  /** The checkpoint object: parsed (not verified: it is our own, and clients verify). */
  async #head(logId: string): Promise<Head> {
    const bytes = await this.#get(checkpointKey(logId), 'checkpoint');
    if (bytes === undefined)
      throw new AppError('NOT_FOUND', `log ${logId} has no checkpoint (unknown or not yet sealed)`);
    try {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      const checkpoint = parseCheckpoint(parseNote(text).text);
      if (checkpoint.origin !== this.origin(logId))
        throw new AppError('INTEGRITY', `checkpoint of log ${logId} names origin ${checkpoint.origin}`);
      return { text, checkpoint };
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError('INTEGRITY', `stored checkpoint of log ${logId} does not parse`, { cause: err });
    }
  }

  async #get(key: string, what: string): Promise<Uint8Array | undefined> {
    try {
      return await this.#o.archive.get(key);
    } catch (err) {
      throw fromArchive(err, what);
    }
  }

  async #guard<T>(fn: () => Promise<T>, what = 'tile'): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw fromArchive(err, what);
    }
  }

  /** The first `t.width` hashes/entries of the tile stored at width `stored`. */
  #prefix(t: ParsedTilePath, wider: Uint8Array, stored: number, path: string): Uint8Array {
    try {
      if (t.kind === 'entries') return encodeEntryBundle(decodeEntryBundle(wider, stored).slice(0, t.width));
      if (wider.length !== stored * HASH_SIZE) throw new MerkleError('BAD_TILE', 'wrong tile length');
      return wider.slice(0, t.width * HASH_SIZE);
    } catch (err) {
      throw fromArchive(err, path);
    }
  }

  /**
   * Node oracle for the tree of `size`, reading each tile at the width it has
   * in the published tree (`published`): that object always exists (full
   * tiles and the current partials), whereas a partial at an arbitrary older
   * size may never have been stored. Its first `width` hashes are the tile at
   * `size`. One read per tile per request.
   */
  #oracle(logId: string, size: number, published: number) {
    const cache = new Map<string, Promise<Uint8Array>>();
    return tileNodeOracle(size, (level, index, width) => {
      const stored = Math.min(TILE_WIDTH, nodesAtTileLevel(published, level) - index * TILE_WIDTH);
      const path = tilePath(level, index, stored);
      let p = cache.get(path);
      if (p === undefined) {
        p = this.#get(archiveKey(logId, path), path).then((body) => {
          if (body === undefined) throw new AppError('INTEGRITY', `${path} is missing from the archive`);
          if (body.length !== stored * HASH_SIZE)
            throw new AppError('INTEGRITY', `${path} has ${body.length} bytes, want ${stored * HASH_SIZE}`);
          return body;
        });
        cache.set(path, p);
      }
      return p.then((body) => body.subarray(0, width * HASH_SIZE));
    });
  }
}
