/**
 * Starts the verify worker as its own file (the served console): with a strict
 * Content-Security-Policy a worker must be a same-origin script, not a blob.
 * The single-file build swaps this module for spawn-inline.ts (vite.config.ts).
 */
export const spawnVerifyWorker = (): Worker =>
  new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'anchorlog-verify' });
