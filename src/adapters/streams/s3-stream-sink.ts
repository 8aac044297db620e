/**
 * The S3 stream sink (src/ports/stream-sink.ts): each chunk is one NDJSON
 * object, `<prefix><stream>/<logId>/<from>-<to>.ndjson` (zero-padded leaf
 * indexes, so keys list in log order). A repeat of a chunk after a crash
 * writes the same key with the same bytes: at-least-once delivery becomes
 * exactly-once storage. Athena, Glue or a SIEM's S3 input read the prefix.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AttemptResult } from '../../core/deliver/progress.ts';
import { s3ChunkKey } from '../../core/streams/payloads.ts';
import type { StreamSend, StreamSink } from '../../ports/stream-sink.ts';

export interface S3StreamSinkOptions {
  readonly name: string;
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
}

export class S3StreamSink implements StreamSink {
  readonly name: string;
  readonly kind = 's3' as const;
  readonly #o: S3StreamSinkOptions;

  constructor(o: S3StreamSinkOptions) {
    this.#o = o;
    this.name = o.name;
  }

  async send(s: StreamSend): Promise<AttemptResult> {
    const key = s3ChunkKey(this.#o.prefix, s.chunk);
    try {
      await this.#o.client.send(
        new PutObjectCommand({
          Bucket: this.#o.bucket,
          Key: key,
          Body: s.body,
          ContentType: 'application/x-ndjson',
        }),
      );
      return { ok: true };
    } catch (err) {
      const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode;
      // Access and missing-bucket errors are configuration: permanent. Throttling and 5xx: retried.
      const permanent =
        e.name === 'AccessDenied' || e.name === 'NoSuchBucket' || status === 403 || status === 404;
      return {
        ok: false,
        code: 'HTTP_STATUS',
        message: `s3 stream ${this.name} (bucket ${this.#o.bucket}): ${e.name ?? 'error'}${e.message ? ` (${e.message.slice(0, 200)})` : ''}`,
        ...(status !== undefined ? { status } : {}),
        retryable: !permanent,
      };
    }
  }
}
