/**
 * ArchiveStore on S3 with Object Lock (COMPLIANCE) and versioning.
 *
 * Immutable writes follow tessera's `setObjectIfNoneMatch`
 * (transparency-dev/tessera storage/aws/aws.go): PutObject with
 * `If-None-Match: *`; on 412 PreconditionFailed the object is re-read and the
 * write counts as done only when the stored bytes are identical. In a versioned
 * Object Lock bucket an unconditional PUT would silently add a second version
 * (a fork nobody can delete); the condition makes that impossible.
 *
 * moto 5.2.1 honours `If-None-Match: *` on PutObject (412, tested in
 * test/adapters/s3-archive-store.test.ts), so no fallback (HEAD-then-PUT, which
 * races) is needed and none is implemented.
 *
 * The checkpoint object is the one key that changes; it is written by
 * compare-and-swap (`If-None-Match: *` for the first version, `If-Match:
 * <etag>` after; moto 5.2.1 honours both on PutObject), so a sealer can only
 * replace the version it read and verified, never a newer one it has not seen.
 *
 * One gap, by design outside this adapter: S3 evaluates `If-None-Match` against
 * the *current* version, so after a delete marker a PUT succeeds and the key
 * gets a second version. Only a principal with s3:DeleteObject can create a
 * delete marker; no role has it (docs/architecture.md §Write-once archive).
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bytesEqual } from '../../core/bytes.ts';
import {
  type ArchivedCheckpoint,
  ArchiveError,
  type ArchiveStore,
  type BoundedObject,
  type CheckpointPrecondition,
  checkpointKey,
  type ObjectHead,
  type PutCheckpointResult,
  type PutImmutableResult,
} from '../../ports/archive-store.ts';
import { isS3NotFound, presignGetObject, s3ErrorName, s3FailureCode, s3Status } from './s3-objects.ts';

/** Everything that is not one of the expected outcomes becomes a typed error. */
function classify(err: unknown, what: string): ArchiveError {
  if (err instanceof ArchiveError) return err;
  return new ArchiveError(s3FailureCode(err), `S3 ${what} failed: ${s3ErrorName(err) || 'error'}`, {
    cause: err,
  });
}

export interface S3ArchiveStoreOptions {
  /** Created once at module scope by the caller and injected. */
  readonly client: S3Client;
  readonly bucket: string;
}

export class S3ArchiveStore implements ArchiveStore {
  readonly #s3: S3Client;
  readonly #bucket: string;

  constructor(opts: S3ArchiveStoreOptions) {
    this.#s3 = opts.client;
    this.#bucket = opts.bucket;
  }

  async putImmutable(key: string, bytes: Uint8Array): Promise<PutImmutableResult> {
    try {
      await this.#s3.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Body: bytes,
          ContentType: 'application/octet-stream',
          IfNoneMatch: '*',
        }),
      );
      return { created: true };
    } catch (err) {
      // 412: an object exists. 409 ConditionalRequestConflict: a concurrent
      // conditional write to the same key is in flight. Either way, what is
      // stored now decides.
      const s = s3Status(err);
      if (s !== 412 && s !== 409 && s3ErrorName(err) !== 'PreconditionFailed')
        throw classify(err, 'PutObject');
    }
    const existing = await this.get(key);
    if (existing === undefined) {
      // 409 with nothing stored yet (the other writer has not finished): retry later.
      throw new ArchiveError('UNAVAILABLE', `conditional write to ${key} raced; retry`);
    }
    if (!bytesEqual(existing, bytes)) {
      throw new ArchiveError(
        'IMMUTABLE_CONFLICT',
        `${key} already holds different bytes (${existing.length} stored, ${bytes.length} new)`,
      );
    }
    return { created: false };
  }

  async getCheckpoint(logId: string): Promise<ArchivedCheckpoint | undefined> {
    try {
      const out = await this.#s3.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: checkpointKey(logId) }),
      );
      const text = out.Body ? await out.Body.transformToString('utf-8') : '';
      if (out.ETag === undefined)
        throw new ArchiveError('UNAVAILABLE', 'GetObject (checkpoint) returned no ETag');
      return { text, etag: out.ETag };
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      throw classify(err, 'GetObject (checkpoint)');
    }
  }

  async putCheckpoint(
    logId: string,
    text: string,
    expected: CheckpointPrecondition,
  ): Promise<PutCheckpointResult> {
    try {
      const out = await this.#s3.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: checkpointKey(logId),
          Body: new TextEncoder().encode(text),
          ContentType: 'text/plain; charset=utf-8',
          ...('ifMatch' in expected ? { IfMatch: expected.ifMatch } : { IfNoneMatch: '*' }),
        }),
      );
      if (out.ETag === undefined)
        throw new ArchiveError('UNAVAILABLE', 'PutObject (checkpoint) returned no ETag');
      return { written: true, versionId: out.VersionId, etag: out.ETag };
    } catch (err) {
      // 412: the current version is not the expected one. 404 (If-Match with
      // no object at all) says the same. 409 ConditionalRequestConflict: a
      // concurrent conditional write to the key is in flight. In every case
      // nothing of ours was written, and the caller re-reads to decide.
      const s = s3Status(err);
      if (s === 412 || s === 409 || s3ErrorName(err) === 'PreconditionFailed' || isS3NotFound(err))
        return { written: false };
      throw classify(err, 'PutObject (checkpoint)');
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      if (!out.Body) return new Uint8Array(0);
      return await out.Body.transformToByteArray();
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      throw classify(err, 'GetObject');
    }
  }

  /**
   * One ranged GET (`bytes=0-<maxBytes-1>`): S3 answers with at most that
   * much and `Content-Range: bytes 0-<n>/<size>`, so the size is known without
   * a HEAD and a small object arrives whole. A zero-byte object answers 416
   * to any range.
   */
  async getBounded(key: string, maxBytes: number): Promise<BoundedObject | undefined> {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError('maxBytes must be ≥ 1');
    try {
      const out = await this.#s3.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: key, Range: `bytes=0-${maxBytes - 1}` }),
      );
      const total = /\/(\d+)$/.exec(out.ContentRange ?? '')?.[1];
      const bytes = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
      // No Content-Range: the server ignored the range and sent the whole object.
      const size = total === undefined ? bytes.length : Number(total);
      return { size, versionId: out.VersionId, bytes: size <= maxBytes ? bytes : undefined };
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      if (s3Status(err) === 416 || s3ErrorName(err) === 'InvalidRange') {
        const h = await this.head(key);
        if (h === undefined) return undefined;
        if (h.size === 0) return { size: 0, versionId: h.versionId, bytes: new Uint8Array(0) };
      }
      throw classify(err, 'GetObject (range)');
    }
  }

  async presignGet(key: string, versionId: string | undefined, expiresInSeconds: number): Promise<string> {
    try {
      return await presignGetObject(
        this.#s3,
        { Bucket: this.#bucket, Key: key, ...(versionId === undefined ? {} : { VersionId: versionId }) },
        expiresInSeconds,
      );
    } catch (err) {
      throw classify(err, 'presign');
    }
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    try {
      const out = await this.#s3.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }));
      return {
        size: out.ContentLength ?? 0,
        etag: out.ETag,
        versionId: out.VersionId,
        lockMode: out.ObjectLockMode,
        retainUntil: out.ObjectLockRetainUntilDate,
      };
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      throw classify(err, 'HeadObject');
    }
  }
}

/**
 * Creates the archive bucket: Object Lock enabled at creation (it cannot be
 * turned on later without support), versioning on (Object Lock requires it),
 * and a default retention of `retentionDays` in COMPLIANCE mode, so every
 * object version written without an explicit lock is locked anyway.
 *
 * In COMPLIANCE mode real S3 lets nobody, root included, delete a locked
 * version or shorten its retention. moto does not enforce the second part: it
 * lets COMPLIANCE retention be shortened. Tests here can therefore show that
 * deletes are refused, but not that retention cannot be cut; that guarantee
 * rests on S3 itself (and on the CDK stack's bucket policy).
 *
 * Idempotent: an existing bucket owned by the caller is reconfigured, not an error.
 */
export async function createArchiveBucket(s3: S3Client, name: string, retentionDays: number): Promise<void> {
  if (!Number.isInteger(retentionDays) || retentionDays < 1)
    throw new RangeError('retentionDays must be a positive integer');
  try {
    await s3.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
  } catch (err) {
    if (s3ErrorName(err) !== 'BucketAlreadyOwnedByYou') throw classify(err, 'CreateBucket');
  }
  try {
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: name,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: retentionDays } },
        },
      }),
    );
  } catch (err) {
    throw classify(err, 'configure Object Lock');
  }
}
