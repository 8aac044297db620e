/**
 * ColumnarIndexStore in memory (src/ports/columnar-index.ts), with the
 * semantics of src/adapters/aws/s3-columnar-index.ts: objects by key,
 * overwrite allowed, listing in key order, idempotent delete. For tests and
 * the in-process stack. UNAVAILABLE and MISCONFIGURED come only from
 * injected faults (`faults`).
 */
import {
  ColumnarIndexError,
  type ColumnarIndexErrorCode,
  type ColumnarIndexStore,
  type IndexObject,
} from '../../ports/columnar-index.ts';
import { FaultPlan } from './faults.ts';

export class MemoryColumnarIndex implements ColumnarIndexStore {
  readonly #objects = new Map<string, Uint8Array>();
  readonly faults = new FaultPlan<ColumnarIndexErrorCode>(
    (code, message) => new ColumnarIndexError(code, message),
  );

  put(key: string, bytes: Uint8Array): Promise<void> {
    return this.faults.run('put', key, () => {
      this.#objects.set(key, Uint8Array.from(bytes));
    });
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.faults.run('get', key, () => {
      const b = this.#objects.get(key);
      return b && Uint8Array.from(b);
    });
  }

  list(prefix: string): Promise<IndexObject[]> {
    return this.faults.run('list', prefix, () =>
      [...this.#objects]
        .filter(([k]) => k.startsWith(prefix))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, b]) => ({ key, size: b.length })),
    );
  }

  delete(key: string): Promise<void> {
    return this.faults.run('delete', key, () => {
      this.#objects.delete(key);
    });
  }
}
