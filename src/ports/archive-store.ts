/**
 * ArchiveStore port: the WORM record of truth (docs/operations.md §Retention). One
 * bucket, S3 Object Lock in COMPLIANCE mode, versioning on. Per log, under
 * `logs/<logId>/`:
 *
 *   tile/<L>/<N>[.p/<W>]        hash tiles           (putImmutable)
 *   tile/entries/<N>[.p/<W>]    entry bundles        (putImmutable)
 *   checkpoint                  latest signed note   (putCheckpoint: compare-and-swap, versioned)
 *   anchors/<size>/…            RFC 3161 evidence    (putImmutable, src/app/anchor.ts)
 *
 * Every write is conditional (`If-None-Match: *` or `If-Match`), so no writer
 * can replace what another published without first reading it; the deployed
 * bucket policy refuses unconditional PutObject under `logs/`.
 * Implemented by src/adapters/aws/s3-archive-store.ts.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */
import { AnchorlogError } from '../core/errors.ts';

export type ArchiveErrorCode =
  /**
   * Fatal. An immutable key already holds different bytes: the archive and the
   * writer disagree about history. Never retry; stop and alarm.
   */
  | 'IMMUTABLE_CONFLICT'
  /** Retryable: network, throttling, 5xx, timeouts. A retry is safe. */
  | 'UNAVAILABLE'
  /** Not retryable without an operator: access denied, missing bucket, bad lock config. */
  | 'MISCONFIGURED';

export class ArchiveError extends AnchorlogError<ArchiveErrorCode> {}

export interface ObjectHead {
  readonly size: number;
  readonly etag: string | undefined;
  readonly versionId: string | undefined;
  /** Object Lock mode of this version ('COMPLIANCE' for everything we write). */
  readonly lockMode: string | undefined;
  readonly retainUntil: Date | undefined;
}

/** The archive's current checkpoint object. */
export interface ArchivedCheckpoint {
  /** The signed note as stored (UTF-8). Not verified here: callers verify it with the log key. */
  readonly text: string;
  /** ETag of this version: the `ifMatch` that replaces exactly it. */
  readonly etag: string;
}

/** What the writer believes the current checkpoint is. */
export type CheckpointPrecondition =
  /** There is none yet: the log's first checkpoint. */
  | { readonly ifNoneMatch: '*' }
  /** It is the version with this ETag (the one the writer read and verified). */
  | { readonly ifMatch: string };

export type PutCheckpointResult =
  | {
      readonly written: true;
      readonly versionId: string | undefined;
      /** ETag of the version just written: the `ifMatch` of the next write. */
      readonly etag: string;
    }
  /** The precondition failed; nothing was written. */
  | { readonly written: false };

/** What getBounded found at a key. */
export interface BoundedObject {
  /** Size of the whole object, bytes. */
  readonly size: number;
  /** The version read (undefined only on a bucket without versioning). */
  readonly versionId: string | undefined;
  /** The whole object when size ≤ the bound; undefined when it is larger. */
  readonly bytes: Uint8Array | undefined;
}

export interface PutImmutableResult {
  /** true when this call created the object; false when identical bytes were already there. */
  readonly created: boolean;
}

export interface ArchiveStore {
  /**
   * Writes `bytes` at `key` only if no object exists there (S3 `If-None-Match: *`).
   * If one exists it MUST be re-read: identical bytes are success (a retried or
   * recovered seal rewrites the same deterministic tiles); different bytes MUST
   * reject with ArchiveError('IMMUTABLE_CONFLICT') and MUST NOT overwrite.
   * The write MUST be durable once the promise resolves.
   */
  putImmutable(key: string, bytes: Uint8Array): Promise<PutImmutableResult>;

  /**
   * The current version of `logs/<logId>/checkpoint` with its ETag, or
   * undefined when the log has no checkpoint. The ETag is what a later
   * putCheckpoint names to replace exactly this version.
   */
  getCheckpoint(logId: string): Promise<ArchivedCheckpoint | undefined>;

  /**
   * Compare-and-swap of the signed checkpoint text at `logs/<logId>/checkpoint`:
   * writes a new object version only if the current one is what `expected`
   * says (S3 `If-None-Match: *` for the first checkpoint, `If-Match: <etag>`
   * after). Every version is retained by Object Lock, so the history of
   * published checkpoints stays in the archive.
   *
   * When the precondition fails it MUST write nothing and resolve
   * `{ written: false }`: someone published since the caller read the
   * checkpoint. The caller re-reads and decides; it MUST NOT replace a newer
   * checkpoint with an older one. The write MUST be durable once it resolves
   * `{ written: true }`. Unconditional writes are not offered (the bucket
   * policy refuses them under `logs/`).
   */
  putCheckpoint(logId: string, text: string, expected: CheckpointPrecondition): Promise<PutCheckpointResult>;

  /** The bytes at `key` (current version), or undefined when there is no object. */
  get(key: string): Promise<Uint8Array | undefined>;

  /** Metadata of the current version at `key`, or undefined when there is none. */
  head(key: string): Promise<ObjectHead | undefined>;

  /**
   * The current version at `key`: its bytes when it holds at most `maxBytes`,
   * else only its size and version, in one request; undefined when there is
   * no object. For objects that may be too large to pass through a Lambda
   * response (entry bundles, docs/formats.md §Tiles).
   */
  getBounded(key: string, maxBytes: number): Promise<BoundedObject | undefined>;

  /**
   * A URL that lets whoever holds it GET version `versionId` of `key` (the
   * current version when undefined) until it expires, signed with this
   * store's credentials. It grants nothing else; it MUST NOT outlive
   * `expiresInSeconds`.
   */
  presignGet(key: string, versionId: string | undefined, expiresInSeconds: number): Promise<string>;
}

/** `logs/<logId>/<path>`: where a log's tiles (path from src/core/merkle tile-path) live. */
export function archiveKey(logId: string, path: string): string {
  return `logs/${logId}/${path}`;
}

export function checkpointKey(logId: string): string {
  return archiveKey(logId, 'checkpoint');
}
