/**
 * Worker thread of `anchorlog verify` (verify-workers.ts): checks records
 * chunks with the pure core (checkRecordsChunk, src/core/bundle/chunk.ts) and
 * posts the result back. It holds no state between chunks: the verifier in the
 * main thread joins results at the seams, in stream order.
 */
import { parentPort } from 'node:worker_threads';
import { type ChunkParams, checkRecordsChunk } from '../core/bundle/chunk.ts';

interface Job {
  readonly id: number;
  readonly data: Uint8Array;
  readonly params: ChunkParams;
}

const port = parentPort;
if (port === null) throw new Error('verify-worker.ts runs only as a worker thread');
port.on('message', (job: Job) => {
  const result = checkRecordsChunk(job.data, job.params);
  // The leaves move back without a copy; the chunk itself was a copy and is dropped here.
  port.postMessage({ id: job.id, result }, result.ok ? [result.leaves.buffer as ArrayBuffer] : []);
});
// Loaded: the pool may now terminate this thread safely.
port.postMessage('ready');
