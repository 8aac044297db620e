/**
 * ColumnarIndexStore port: where the columnar query index lives
 * (docs/query.md §7, "Columnar index"): Parquet objects under a non-locked
 * prefix (`index/`) of the index bucket, plus one small progress object per
 * log. The index is derived data — it can be deleted and rebuilt from the
 * archive's entry bundles at any time — so, unlike the archive, objects here
 * MAY be overwritten and deleted.
 *
 * Implemented by src/adapters/aws/s3-columnar-index.ts and
 * src/adapters/memory/columnar-index.ts. Every method MUST reject only with a
 * ColumnarIndexError (below) for a store failure.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */
import { AnchorlogError } from '../core/errors.ts';

/**
 *  - UNAVAILABLE: transient (network, throttling, 5xx, timeouts); a write MAY
 *    have happened. A retry is safe: every write here is idempotent.
 *  - MISCONFIGURED: missing bucket, access denied; needs an operator.
 */
export type ColumnarIndexErrorCode = 'UNAVAILABLE' | 'MISCONFIGURED';
export class ColumnarIndexError extends AnchorlogError<ColumnarIndexErrorCode> {}

export interface IndexObject {
  readonly key: string;
  readonly size: number;
}

export interface ColumnarIndexStore {
  /** Writes (or replaces) the object at `key`. MUST be durable once it resolves. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The bytes at `key`, or undefined when there is no object. */
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * Every object whose key starts with `prefix`, in ascending key order
   * (all pages). A put that resolved before the call MUST be listed; a
   * delete that resolved before the call MUST NOT be (S3 is strongly
   * consistent for both since 2020).
   */
  list(prefix: string): Promise<IndexObject[]>;
  /** Removes the object at `key`; no object there is success (idempotent). */
  delete(key: string): Promise<void>;
}
