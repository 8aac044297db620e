/**
 * ExportStore port: where finished evidence bundles go (the exports bucket)
 * and how an auditor downloads them. Implemented on S3 by
 * src/adapters/aws/s3-export-store.ts (multipart upload, presigned GET).
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */
import { AnchorlogError } from '../core/errors.ts';

/**
 * UNAVAILABLE: transient (network, throttling, 5xx); the upload was aborted,
 * a retry of the whole export is safe. MISCONFIGURED: missing bucket, access
 * denied: needs an operator.
 */
export type ExportStoreErrorCode = 'UNAVAILABLE' | 'MISCONFIGURED';
export class ExportStoreError extends AnchorlogError<ExportStoreErrorCode> {}

export interface ExportUpload {
  /** Appends bytes. MAY buffer; MUST keep memory bounded (a few part sizes at most). */
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the object visible at its key. MUST be durable once it resolves. */
  complete(): Promise<{ bytes: number }>;
  /** Discards everything written. MUST leave no object (and no pending multipart upload) behind. Idempotent. */
  abort(): Promise<void>;
}

export interface ExportStore {
  /** Starts writing the object at `key` (nothing is visible before `complete`). */
  open(key: string, contentType: string): Promise<ExportUpload>;
  /** A URL that lets anyone holding it GET `key` for `expiresInSeconds`. */
  downloadUrl(key: string, expiresInSeconds: number): Promise<string>;
}

/**
 * Checkpoint sizes of a log in [min, max] that hold at least one granted
 * RFC 3161 token, ascending, at most `limit` of them.
 */
export type AnchoredSizeLister = (
  logId: string,
  min: number,
  max: number,
  limit: number,
) => Promise<readonly number[]>;

/** `exports/<logId>/<exportId>.tar` */
export function exportKey(logId: string, exportId: string): string {
  return `exports/${logId}/${exportId}.tar`;
}
