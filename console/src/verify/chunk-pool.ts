/**
 * A pool of Web Workers (chunk-worker.ts) that check records chunks while the
 * verify worker reads on: the browser's side of the core's ChunkChecker
 * (src/core/bundle/chunk.ts), as src/cli/verify-workers.ts is the CLI's.
 * Workers are started, and their script loaded, before the page says it is
 * ready: nothing is fetched once the page has loaded (docs/console.md). A
 * worker that errors makes its pending chunks `{ ok: false }`, which the
 * verifier re-checks itself: the pool never changes a verdict.
 */
import type { ChunkCheck, ChunkChecker, ChunkParams } from '../../../src/core/bundle/chunk.ts';

const NOT_PROVED = (): ChunkCheck => ({ ok: false, sha256: '' });

class Slot {
  readonly pending = new Map<number, (r: ChunkCheck) => void>();
  readonly ready: Promise<void>;
  dead = false;
  constructor(readonly worker: Worker) {
    let loaded: () => void = () => {};
    this.ready = new Promise((r) => {
      loaded = r;
    });
    worker.onmessage = (ev: MessageEvent<'ready' | { id: number; result: ChunkCheck }>) => {
      if (ev.data === 'ready') return loaded();
      const done = this.pending.get(ev.data.id);
      this.pending.delete(ev.data.id);
      done?.(ev.data.result);
    };
    worker.onerror = () => {
      this.dead = true;
      loaded();
      for (const done of this.pending.values()) done(NOT_PROVED());
      this.pending.clear();
    };
  }
}

export interface ChunkPool {
  readonly threads: number;
  readonly check: ChunkChecker;
  /** Resolves when every worker has loaded (or died). */
  readonly ready: Promise<void>;
  /** Chunks the workers proved (`ok: true`) since the pool started. */
  proved(): number;
}

export function startChunkPool(spawn: () => Worker, size: number): ChunkPool {
  const slots = Array.from({ length: Math.max(1, size) }, () => new Slot(spawn()));
  let nextId = 0;
  let proved = 0;
  const check: ChunkChecker = (data: Uint8Array, params: ChunkParams) => {
    const live = slots.filter((s) => !s.dead);
    if (live.length === 0) return Promise.resolve(NOT_PROVED());
    const slot = live.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = nextId++;
    // The verifier keeps `data` until the result is joined: the worker gets a copy of its own.
    const copy = data.slice();
    return new Promise<ChunkCheck>((resolve) => {
      slot.pending.set(id, (r) => {
        if (r.ok) proved++;
        resolve(r);
      });
      slot.worker.postMessage({ id, data: copy, params }, [copy.buffer]);
    });
  };
  return {
    threads: slots.length,
    check,
    ready: Promise.all(slots.map((s) => s.ready)).then(() => {}),
    proved: () => proved,
  };
}
