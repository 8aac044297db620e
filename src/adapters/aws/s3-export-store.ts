/**
 * ExportStore on S3: bundles stream into the exports bucket by multipart
 * upload (parts of `partBytes`, default 8 MiB; S3's minimum is 5 MiB for all
 * parts but the last), so memory stays at one part whatever the bundle size.
 * A bundle smaller than one part is a single PutObject. Any failure aborts
 * the multipart upload (no orphaned parts, nothing visible at the key).
 * Downloads are presigned GETs (SigV4 query auth; at most 7 days).
 *
 * The exports bucket holds copies: the evidence is the archive, and a bundle
 * can be exported again. It should carry a lifecycle rule expiring
 * `exports/` (e.g. 7 days) and AbortIncompleteMultipartUpload (1 day).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { type ExportStore, ExportStoreError, type ExportUpload } from '../../ports/export-store.ts';
import { presignGetObject, s3ErrorName, s3FailureCode } from './s3-objects.ts';

const MiB = 1024 * 1024;
const MIN_PART = 5 * MiB;
const MAX_PARTS = 10_000;

function classify(err: unknown, what: string): ExportStoreError {
  if (err instanceof ExportStoreError) return err;
  return new ExportStoreError(s3FailureCode(err), `S3 ${what} failed: ${s3ErrorName(err) || 'error'}`, {
    cause: err,
  });
}

export class S3ExportStore implements ExportStore {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #partBytes: number;

  constructor(opts: { client: S3Client; bucket: string; partBytes?: number }) {
    this.#s3 = opts.client;
    this.#bucket = opts.bucket;
    this.#partBytes = Math.max(MIN_PART, opts.partBytes ?? 8 * MiB);
  }

  async open(key: string, contentType: string): Promise<ExportUpload> {
    const s3 = this.#s3;
    const Bucket = this.#bucket;
    const partBytes = this.#partBytes;
    let buf = new Uint8Array(partBytes);
    let fill = 0;
    let total = 0;
    let uploadId: string | undefined;
    const parts: { ETag: string; PartNumber: number }[] = [];
    let done = false;

    const flushPart = async (): Promise<void> => {
      if (uploadId === undefined) {
        try {
          const out = await s3.send(
            new CreateMultipartUploadCommand({ Bucket, Key: key, ContentType: contentType }),
          );
          uploadId = out.UploadId;
        } catch (err) {
          throw classify(err, 'CreateMultipartUpload');
        }
        if (!uploadId)
          throw new ExportStoreError('UNAVAILABLE', 'S3 CreateMultipartUpload returned no UploadId');
      }
      if (parts.length >= MAX_PARTS) throw new ExportStoreError('UNAVAILABLE', 'export exceeds 10,000 parts');
      const PartNumber = parts.length + 1;
      try {
        const out = await s3.send(
          new UploadPartCommand({
            Bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber,
            Body: buf.subarray(0, fill),
          }),
        );
        if (!out.ETag)
          throw new ExportStoreError('UNAVAILABLE', `S3 UploadPart ${PartNumber} returned no ETag`);
        parts.push({ ETag: out.ETag, PartNumber });
      } catch (err) {
        throw classify(err, `UploadPart ${PartNumber}`);
      }
      // A fresh buffer: the SDK may still hold the previous one.
      buf = new Uint8Array(partBytes);
      fill = 0;
    };

    return {
      async write(chunk) {
        if (done) throw new ExportStoreError('UNAVAILABLE', 'write after complete/abort');
        let off = 0;
        while (off < chunk.length) {
          const n = Math.min(chunk.length - off, partBytes - fill);
          buf.set(chunk.subarray(off, off + n), fill);
          fill += n;
          off += n;
          total += n;
          if (fill === partBytes) await flushPart();
        }
      },
      async complete() {
        if (done) throw new ExportStoreError('UNAVAILABLE', 'complete after complete/abort');
        if (uploadId === undefined) {
          try {
            await s3.send(
              new PutObjectCommand({
                Bucket,
                Key: key,
                ContentType: contentType,
                Body: buf.subarray(0, fill),
              }),
            );
          } catch (err) {
            throw classify(err, 'PutObject');
          }
        } else {
          if (fill > 0) await flushPart();
          try {
            await s3.send(
              new CompleteMultipartUploadCommand({
                Bucket,
                Key: key,
                UploadId: uploadId,
                MultipartUpload: { Parts: parts },
              }),
            );
          } catch (err) {
            throw classify(err, 'CompleteMultipartUpload');
          }
        }
        done = true;
        return { bytes: total };
      },
      async abort() {
        done = true;
        if (uploadId === undefined) return;
        const id = uploadId;
        uploadId = undefined;
        try {
          await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: id }));
        } catch (err) {
          throw classify(err, 'AbortMultipartUpload');
        }
      },
    };
  }

  async downloadUrl(key: string, expiresInSeconds: number): Promise<string> {
    try {
      return await presignGetObject(
        this.#s3,
        {
          Bucket: this.#bucket,
          Key: key,
          ResponseContentDisposition: `attachment; filename="${key.split('/').pop() ?? 'bundle.tar'}"`,
        },
        expiresInSeconds,
      );
    } catch (err) {
      throw classify(err, 'presign');
    }
  }
}

/** Creates the exports bucket if missing (local stack and tests; CDK in the cloud). */
export async function createExportsBucket(s3: S3Client, name: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
  } catch (err) {
    const n = err instanceof Error ? err.name : '';
    if (n !== 'BucketAlreadyOwnedByYou' && n !== 'BucketAlreadyExists') throw err;
  }
}
