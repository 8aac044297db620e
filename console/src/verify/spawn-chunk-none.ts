/**
 * The single-file page checks records chunks in its one verify worker: it
 * runs from a blob: URL on a file:// page, where nested workers would need
 * their code inlined twice over for a speed-up the auditor can do without.
 */
export const spawnChunkWorker: (() => Worker) | undefined = undefined;
