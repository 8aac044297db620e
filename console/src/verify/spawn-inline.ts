/**
 * Starts the verify worker from code embedded in the page (the single-file
 * build an auditor opens from disk, where a page cannot load a worker file).
 */
import VerifyWorker from './worker.ts?worker&inline';

export const spawnVerifyWorker = (): Worker => new VerifyWorker({ name: 'anchorlog-verify' });
