/**
 * ArchiveStore in memory (src/ports/archive-store.ts), with the semantics of
 * src/adapters/aws/s3-archive-store.ts on a versioned Object Lock bucket:
 *  - nothing is ever deleted or overwritten: every write adds a version, and
 *    every version is locked (COMPLIANCE, `retentionDays` from the write);
 *  - putImmutable creates a key once; identical bytes again are success
 *    without a new version, different bytes are IMMUTABLE_CONFLICT;
 *  - the checkpoint moves only by compare-and-swap on its ETag (the quoted
 *    MD5 of the object, as S3 gives for a single-part PUT);
 *  - getBounded returns the bytes only up to the bound;
 *  - presignGet gives a URL (S3's query parameters, a `memory:` scheme) that
 *    `resolve` turns back into the bytes of that version until it expires
 *    by the injected clock.
 * UNAVAILABLE and MISCONFIGURED come only from injected faults (`faults`).
 * `versions` lists every version of a key, as ListObjectVersions would.
 */
import { createHash } from 'node:crypto';
import { bytesEqual, utf8 } from '../../core/bytes.ts';
import {
  type ArchivedCheckpoint,
  ArchiveError,
  type ArchiveErrorCode,
  type ArchiveStore,
  type BoundedObject,
  type CheckpointPrecondition,
  checkpointKey,
  type ObjectHead,
  type PutCheckpointResult,
  type PutImmutableResult,
} from '../../ports/archive-store.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import { FaultPlan } from './faults.ts';

export interface ObjectVersion {
  readonly key: string;
  readonly versionId: string;
  readonly etag: string;
  readonly bytes: Uint8Array;
  readonly writtenAt: number;
  readonly retainUntil: Date;
}

export interface MemoryArchiveStoreOptions {
  /** Names the bucket in presigned URLs; default `anchorlog-archive`. */
  readonly bucket?: string;
  /** Default retention of every version (the bucket's Object Lock rule); default 1 day. */
  readonly retentionDays?: number;
  /** Stamps versions and judges URL expiry; default the system clock. */
  readonly clock?: Clock;
}

const DAY_MS = 86_400_000;
/** The longest a SigV4 presigned URL may live; the S3 adapter clamps to the same. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
let versionCounter = 0;

export class MemoryArchiveStore implements ArchiveStore {
  readonly #objects = new Map<string, ObjectVersion[]>();
  readonly #bucket: string;
  readonly #retentionMs: number;
  readonly #clock: Clock;
  readonly faults = new FaultPlan<ArchiveErrorCode>((code, message) => new ArchiveError(code, message));

  constructor(opts: MemoryArchiveStoreOptions = {}) {
    this.#bucket = opts.bucket ?? 'anchorlog-archive';
    this.#retentionMs = (opts.retentionDays ?? 1) * DAY_MS;
    this.#clock = opts.clock ?? systemClock;
  }

  #current(key: string): ObjectVersion | undefined {
    return this.#objects.get(key)?.at(-1);
  }

  #add(key: string, bytes: Uint8Array): ObjectVersion {
    const writtenAt = this.#clock.now();
    const v: ObjectVersion = {
      key,
      versionId: `mem-${String(++versionCounter).padStart(10, '0')}`,
      etag: `"${createHash('md5').update(bytes).digest('hex')}"`,
      bytes: Uint8Array.from(bytes),
      writtenAt,
      retainUntil: new Date(writtenAt + this.#retentionMs),
    };
    const all = this.#objects.get(key);
    if (all) all.push(v);
    else this.#objects.set(key, [v]);
    return v;
  }

  putImmutable(key: string, bytes: Uint8Array): Promise<PutImmutableResult> {
    return this.faults.run('putImmutable', key, () => {
      const existing = this.#current(key);
      if (existing === undefined) {
        this.#add(key, bytes);
        return { created: true };
      }
      if (!bytesEqual(existing.bytes, bytes))
        throw new ArchiveError(
          'IMMUTABLE_CONFLICT',
          `${key} already holds different bytes (${existing.bytes.length} stored, ${bytes.length} new)`,
        );
      return { created: false };
    });
  }

  getCheckpoint(logId: string): Promise<ArchivedCheckpoint | undefined> {
    return this.faults.run('getCheckpoint', checkpointKey(logId), () => {
      const v = this.#current(checkpointKey(logId));
      return v && { text: new TextDecoder().decode(v.bytes), etag: v.etag };
    });
  }

  putCheckpoint(logId: string, text: string, expected: CheckpointPrecondition): Promise<PutCheckpointResult> {
    const key = checkpointKey(logId);
    return this.faults.run('putCheckpoint', key, (): PutCheckpointResult => {
      const cur = this.#current(key);
      const ok = 'ifMatch' in expected ? cur?.etag === expected.ifMatch : cur === undefined;
      if (!ok) return { written: false };
      const v = this.#add(key, utf8(text));
      return { written: true, versionId: v.versionId, etag: v.etag };
    });
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.faults.run('get', key, () => {
      const v = this.#current(key);
      return v && Uint8Array.from(v.bytes);
    });
  }

  head(key: string): Promise<ObjectHead | undefined> {
    return this.faults.run('head', key, () => {
      const v = this.#current(key);
      return (
        v && {
          size: v.bytes.length,
          etag: v.etag,
          versionId: v.versionId,
          lockMode: 'COMPLIANCE',
          retainUntil: new Date(v.retainUntil),
        }
      );
    });
  }

  getBounded(key: string, maxBytes: number): Promise<BoundedObject | undefined> {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
      return Promise.reject(new RangeError('maxBytes must be ≥ 1'));
    return this.faults.run('getBounded', key, () => {
      const v = this.#current(key);
      if (!v) return undefined;
      const size = v.bytes.length;
      return { size, versionId: v.versionId, bytes: size <= maxBytes ? Uint8Array.from(v.bytes) : undefined };
    });
  }

  presignGet(key: string, versionId: string | undefined, expiresInSeconds: number): Promise<string> {
    return this.faults.run('presignGet', key, () => {
      const expiresIn = Math.min(MAX_PRESIGN_SECONDS, Math.max(1, Math.floor(expiresInSeconds)));
      return presignedUrl(this.#bucket, key, this.#clock.now(), expiresIn, versionId);
    });
  }

  /**
   * What a GET of a presigned URL from this store returns: the bytes of the
   * version it names (the current one when it names none), or undefined when
   * the URL has expired, is not this store's, or names nothing stored.
   */
  resolve(url: string): Uint8Array | undefined {
    const p = parsePresigned(url, this.#bucket, this.#clock.now());
    if (!p) return undefined;
    const all = this.#objects.get(p.key) ?? [];
    const v = p.versionId === undefined ? all.at(-1) : all.find((x) => x.versionId === p.versionId);
    return v && Uint8Array.from(v.bytes);
  }

  /** Every version of `key`, oldest first (ListObjectVersions). */
  versions(key: string): ObjectVersion[] {
    return (this.#objects.get(key) ?? []).map((v) => ({ ...v, bytes: Uint8Array.from(v.bytes) }));
  }

  /** Every key under `prefix` that holds a version, sorted. */
  keys(prefix = ''): string[] {
    return [...this.#objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

/**
 * A presigned-GET URL of a memory store: `memory://<bucket>/<key>` with S3's
 * query parameters (X-Amz-Date, X-Amz-Expires, versionId), so code that reads
 * them works alike on both.
 */
export function presignedUrl(
  bucket: string,
  key: string,
  nowMs: number,
  expiresIn: number,
  versionId?: string,
  extra: Readonly<Record<string, string>> = {},
): string {
  const url = new URL(`memory://${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`);
  url.searchParams.set('X-Amz-Date', String(nowMs));
  url.searchParams.set('X-Amz-Expires', String(expiresIn));
  if (versionId !== undefined) url.searchParams.set('versionId', versionId);
  for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
  return url.toString();
}

/** The key and version a URL from presignedUrl names, if it is `bucket`'s and alive at `nowMs`. */
export function parsePresigned(
  url: string,
  bucket: string,
  nowMs: number,
): { key: string; versionId: string | undefined } | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'memory:' || u.host !== bucket) return undefined;
  const signedAt = Number(u.searchParams.get('X-Amz-Date'));
  const expires = Number(u.searchParams.get('X-Amz-Expires'));
  if (!Number.isFinite(signedAt) || !Number.isFinite(expires) || nowMs > signedAt + expires * 1000)
    return undefined;
  const key = u.pathname.slice(1).split('/').map(decodeURIComponent).join('/');
  return { key, versionId: u.searchParams.get('versionId') ?? undefined };
}
