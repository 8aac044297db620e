/**
 * ColumnarIndexStore on S3 (src/ports/columnar-index.ts): plain PutObject,
 * GetObject, ListObjectsV2 (every page) and DeleteObject under the index
 * bucket. The bucket holds derived data only — no Object Lock, no
 * versioning needed — and the query and project functions are its only
 * readers and writers; the archive bucket (Object Lock) is never used for it,
 * since compaction deletes objects.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ColumnarIndexError, type ColumnarIndexStore, type IndexObject } from '../../ports/columnar-index.ts';
import { isS3NotFound, s3ErrorName, s3FailureCode } from './s3-objects.ts';

function classify(err: unknown, what: string): ColumnarIndexError {
  return new ColumnarIndexError(s3FailureCode(err), `S3 ${what} failed: ${s3ErrorName(err) || 'error'}`, {
    cause: err,
  });
}

export class S3ColumnarIndex implements ColumnarIndexStore {
  readonly #s3: S3Client;
  readonly #bucket: string;

  constructor(opts: { client: S3Client; bucket: string }) {
    this.#s3 = opts.client;
    this.#bucket = opts.bucket;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.#s3.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Body: bytes,
          ContentType: key.endsWith('.parquet') ? 'application/vnd.apache.parquet' : 'application/json',
        }),
      );
    } catch (err) {
      throw classify(err, 'PutObject');
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

  async list(prefix: string): Promise<IndexObject[]> {
    const out: IndexObject[] = [];
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.#s3.send(
          new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, ContinuationToken: token }),
        );
      } catch (err) {
        throw classify(err, 'ListObjectsV2');
      }
      for (const o of page.Contents ?? [])
        if (o.Key !== undefined) out.push({ key: o.Key, size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    // S3 lists in UTF-8 byte order; keys here are ASCII, so that is string order too.
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#s3.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
    } catch (err) {
      if (isS3NotFound(err)) return;
      throw classify(err, 'DeleteObject');
    }
  }
}

/** Creates the index bucket if it does not exist (local stack and tests; the CDK app owns it in AWS). */
export async function createIndexBucket(s3: S3Client, name: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
  } catch (err) {
    const n = err instanceof Error ? err.name : '';
    if (n !== 'BucketAlreadyOwnedByYou' && n !== 'BucketAlreadyExists') throw err;
  }
}
