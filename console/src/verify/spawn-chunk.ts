/**
 * Chunk workers for the served console: one file each, same origin (the
 * Content-Security-Policy's worker-src 'self'). The single-file build swaps
 * this module for spawn-chunk-none.ts (console/vite.config.ts).
 */
export const spawnChunkWorker: (() => Worker) | undefined = () =>
  new Worker(new URL('./chunk-worker.ts', import.meta.url), { type: 'module', name: 'anchorlog-chunks' });
