/**
 * S3 plumbing shared by the archive and export stores: how an SDK failure is named and
 * classified, and presigned GETs. Each store keeps its own error class (ports own their errors);
 * this module only decides which code a failure gets.
 */
import { GetObjectCommand, type GetObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

export function s3Status(err: unknown): number | undefined {
  return (err as SdkError | null)?.$metadata?.httpStatusCode;
}

export function s3ErrorName(err: unknown): string {
  return err instanceof Error ? err.name : '';
}

/** Failures no retry can fix: the deployment (bucket, policy, lock configuration) is wrong. */
const MISCONFIGURED = new Set(['AccessDenied', 'NoSuchBucket', 'InvalidBucketState', 'InvalidRequest']);

/** `MISCONFIGURED` for a deployment fault, `UNAVAILABLE` (retryable) for anything else. */
export function s3FailureCode(err: unknown): 'MISCONFIGURED' | 'UNAVAILABLE' {
  return MISCONFIGURED.has(s3ErrorName(err)) || s3Status(err) === 403 ? 'MISCONFIGURED' : 'UNAVAILABLE';
}

export function isS3NotFound(err: unknown): boolean {
  const name = s3ErrorName(err);
  return name === 'NoSuchKey' || name === 'NotFound' || s3Status(err) === 404;
}

/** SigV4 presigned URLs live at most seven days. */
const PRESIGN_MAX_SECONDS = 7 * 24 * 3600;

/** A presigned GET, its lifetime clamped to 1 s … 7 days (what SigV4 allows). */
export function presignGetObject(
  s3: S3Client,
  input: GetObjectCommandInput,
  expiresInSeconds: number,
): Promise<string> {
  const expiresIn = Math.min(PRESIGN_MAX_SECONDS, Math.max(1, Math.floor(expiresInSeconds)));
  return getSignedUrl(s3, new GetObjectCommand(input), { expiresIn });
}
