/**
 * ExportStore in memory (src/ports/export-store.ts), with the semantics of
 * src/adapters/aws/s3-export-store.ts: an upload is invisible until
 * `complete`, leaves nothing behind after `abort` (idempotent), and refuses
 * writes once finished; `downloadUrl` gives a URL (S3's query parameters, a
 * `memory:` scheme) that `resolve` turns into the object's bytes until it
 * expires by the injected clock. An upload holds its bytes in memory, as the
 * object itself is held: this store is for tests and the local stack.
 * UNAVAILABLE and MISCONFIGURED come only from injected faults (`faults`).
 */
import { concatBytes } from '../../core/bytes.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import {
  type ExportStore,
  ExportStoreError,
  type ExportStoreErrorCode,
  type ExportUpload,
} from '../../ports/export-store.ts';
import { parsePresigned, presignedUrl } from './archive-store.ts';
import { FaultPlan } from './faults.ts';

export interface StoredExport {
  readonly bytes: Uint8Array;
  readonly contentType: string;
}

const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export class MemoryExportStore implements ExportStore {
  readonly #objects = new Map<string, StoredExport>();
  readonly #bucket: string;
  readonly #clock: Clock;
  #open = 0;
  readonly faults = new FaultPlan<ExportStoreErrorCode>(
    (code, message) => new ExportStoreError(code, message),
  );

  constructor(opts: { bucket?: string; clock?: Clock } = {}) {
    this.#bucket = opts.bucket ?? 'anchorlog-exports';
    this.#clock = opts.clock ?? systemClock;
  }

  open(key: string, contentType: string): Promise<ExportUpload> {
    return this.faults.run('open', key, () => {
      const chunks: Uint8Array[] = [];
      let total = 0;
      let done = false;
      this.#open++;
      const finish = () => {
        if (!done) this.#open--;
        done = true;
        chunks.length = 0;
      };
      const upload: ExportUpload = {
        write: (chunk) =>
          this.faults.run('write', key, () => {
            if (done) throw new ExportStoreError('UNAVAILABLE', 'write after complete/abort');
            chunks.push(Uint8Array.from(chunk));
            total += chunk.length;
          }),
        complete: () =>
          this.faults.run('complete', key, () => {
            if (done) throw new ExportStoreError('UNAVAILABLE', 'complete after complete/abort');
            this.#objects.set(key, { bytes: concatBytes(...chunks), contentType });
            finish();
            return { bytes: total };
          }),
        abort: () => this.faults.run('abort', key, finish),
      };
      return upload;
    });
  }

  downloadUrl(key: string, expiresInSeconds: number): Promise<string> {
    return this.faults.run('downloadUrl', key, () => {
      const expiresIn = Math.min(MAX_PRESIGN_SECONDS, Math.max(1, Math.floor(expiresInSeconds)));
      return presignedUrl(this.#bucket, key, this.#clock.now(), expiresIn, undefined, {
        'response-content-disposition': `attachment; filename="${key.split('/').pop() ?? 'bundle.tar'}"`,
      });
    });
  }

  /** The bytes a GET of `url` (from downloadUrl) returns, or undefined (expired, foreign, nothing there). */
  resolve(url: string): Uint8Array | undefined {
    const p = parsePresigned(url, this.#bucket, this.#clock.now());
    const o = p && this.#objects.get(p.key);
    return o && Uint8Array.from(o.bytes);
  }

  /** The finished object at `key` (tests). */
  get(key: string): StoredExport | undefined {
    const o = this.#objects.get(key);
    return o && { bytes: Uint8Array.from(o.bytes), contentType: o.contentType };
  }

  /** Keys of finished objects, sorted. */
  keys(): string[] {
    return [...this.#objects.keys()].sort();
  }

  /** Uploads opened and neither completed nor aborted (a leak, like a pending multipart upload). */
  get openUploads(): number {
    return this.#open;
  }
}
