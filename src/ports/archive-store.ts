/**
 * ArchiveStore port: the WORM record of truth (DESIGN §3 "Retention"). One
 * bucket, S3 Object Lock in COMPLIANCE mode, versioning on. Per log, under
 * `logs/<logId>/`:
 *
 *   tile/<L>/<N>[.p/<W>]        hash tiles           (putImmutable)
 *   tile/entries/<N>[.p/<W>]    entry bundles        (putImmutable)
 *   checkpoint                  latest signed note   (putCheckpoint, versioned)
 *
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
   * Writes the signed checkpoint text to `logs/<logId>/checkpoint` as a new
   * object version. Every version is retained by Object Lock, so the history
   * of published checkpoints stays in the archive.
   */
  putCheckpoint(logId: string, text: string): Promise<{ versionId: string | undefined }>;

  /** The bytes at `key` (current version), or undefined when there is no object. */
  get(key: string): Promise<Uint8Array | undefined>;

  /** Metadata of the current version at `key`, or undefined when there is none. */
  head(key: string): Promise<ObjectHead | undefined>;
}

/** `logs/<logId>/<path>`: where a log's tiles (path from src/core/merkle tile-path) live. */
export function archiveKey(logId: string, path: string): string {
  return `logs/${logId}/${path}`;
}

export function checkpointKey(logId: string): string {
  return archiveKey(logId, 'checkpoint');
}
