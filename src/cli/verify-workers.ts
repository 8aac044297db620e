/**
 * A pool of worker threads that check records chunks for `anchorlog verify`
 * (docs/bundle.md §Verifying fast). Node-only, so it lives in the CLI; the
 * core sees only a ChunkChecker (src/core/bundle/chunk.ts), which a browser
 * can implement with Web Workers.
 *
 * Workers start on the second chunk (a small bundle never pays for them) and
 * load the TypeScript sources through tsx, as bin/anchorlog.mjs does. A worker
 * that fails to start, crashes or errors makes its chunks resolve `{ ok: false }`,
 * so the verifier re-checks them itself: the pool can only make verification
 * faster, never change a verdict.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  type ChunkCheck,
  type ChunkChecker,
  type ChunkParams,
  checkRecordsChunk,
} from '../core/bundle/chunk.ts';

export interface ChunkPool {
  readonly threads: number;
  readonly check: ChunkChecker;
  /** Starts the workers now and waits until they have loaded (benchmarks: thread start is not timed). */
  warm(): Promise<void>;
  /** Stops the workers; pending checks resolve `{ ok: false }`. */
  close(): Promise<void>;
}

interface Pending {
  readonly resolve: (r: ChunkCheck) => void;
}

const NOT_PROVED = (): ChunkCheck => ({ ok: false, sha256: '' });

/** ESM source of a worker that registers tsx, then loads verify-worker.ts. */
function workerSource(): string {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href;
  const entry = new URL('./verify-worker.ts', import.meta.url).href;
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
}

class Slot {
  readonly pending = new Map<number, Pending>();
  readonly worker: Worker;
  /** Settles when the worker has loaded (its first message) or died: terminating a worker while it loads modules can abort the process. */
  readonly ready: Promise<void>;
  dead = false;
  constructor(source: string) {
    this.worker = new Worker(source, { eval: true });
    let loaded: () => void = () => {};
    this.ready = new Promise<void>((r) => {
      loaded = r;
    });
    this.worker.on('message', (m: { id: number; result: ChunkCheck } | 'ready') => {
      if (m === 'ready') return loaded();
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve(m.result);
    });
    const die = () => {
      this.dead = true;
      loaded();
      for (const p of this.pending.values()) p.resolve(NOT_PROVED());
      this.pending.clear();
    };
    this.worker.on('error', die);
    this.worker.on('exit', die);
  }
}

/** Member buffers in shared memory, for VerifyOptions.allocate: the workers read records chunks in place. */
export const allocateShared = (size: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(size));

/** Default worker threads: the machine's available parallelism, at most 4 (each costs memory, docs/bundle.md §Memory). */
export const defaultThreads = (): number => Math.min(4, availableParallelism());

/** A pool of `size` workers (default: defaultThreads()). */
export function startChunkPool(size = defaultThreads()): ChunkPool {
  const slots: Slot[] = [];
  let nextId = 0;
  let closed = false;
  let calls = 0;
  const start = () => {
    if (slots.length > 0) return;
    const source = workerSource();
    for (let i = 0; i < Math.max(1, size); i++) slots.push(new Slot(source));
  };
  const check: ChunkChecker = (data: Uint8Array, params: ChunkParams) => {
    if (closed) return Promise.resolve(NOT_PROVED());
    // The first chunk is checked here: a bundle of one records chunk (≤ 4 MiB as written)
    // never waits for threads to start. Workers start with the second.
    if (calls++ === 0) return Promise.resolve(checkRecordsChunk(data, params));
    start();
    const live = slots.filter((s) => !s.dead);
    if (live.length === 0) return Promise.resolve(NOT_PROVED());
    // The least busy worker; chunks are joined in order by the verifier whatever finishes first.
    const slot = live.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = nextId++;
    // The verifier keeps `data` to re-check it if needed: shared memory (allocateShared) goes to the
    // worker as it is, without a copy; other bytes as a copy of their own.
    const shared = data.buffer instanceof SharedArrayBuffer;
    const sent = shared ? data : data.slice();
    return new Promise<ChunkCheck>((resolve) => {
      slot.pending.set(id, { resolve });
      slot.worker.postMessage({ id, data: sent, params }, shared ? [] : [sent.buffer as ArrayBuffer]);
    });
  };
  return {
    threads: Math.max(1, size),
    check,
    warm: async () => {
      calls = Math.max(calls, 1);
      start();
      await Promise.all(slots.map((s) => s.ready));
    },
    close: async () => {
      closed = true;
      await Promise.all(
        slots.map(async (s) => {
          await s.ready;
          await s.worker.terminate();
        }),
      );
    },
  };
}
