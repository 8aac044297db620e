/**
 * A Web Worker that checks range-bundle records chunks for the verify worker
 * (chunk-pool.ts) with the core's checkRecordsChunk, as the CLI's worker
 * threads do (src/cli/verify-worker.ts). Stateless: the verifier joins the
 * results at the seams, in stream order, and re-checks any chunk whose check
 * fails or never arrives, so these workers can only make verifying faster.
 */
import { type ChunkCheck, type ChunkParams, checkRecordsChunk } from '../../../src/core/bundle/chunk.ts';
import { hashReady } from '../hash-browser.ts';

interface Job {
  readonly id: number;
  readonly data: Uint8Array;
  readonly params: ChunkParams;
}
interface Scope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<Job>) => void) | null;
}
const scope = self as unknown as Scope;

scope.onmessage = (ev) => {
  let result: ChunkCheck;
  try {
    result = checkRecordsChunk(ev.data.data, ev.data.params);
  } catch {
    result = { ok: false, sha256: '' };
  }
  scope.postMessage({ id: ev.data.id, result }, result.ok ? [result.leaves.buffer as ArrayBuffer] : []);
};
// Ready once SHA-256 runs on WebAssembly (or is known not to): chunks are never hashed slower than need be.
void hashReady.then(() => scope.postMessage('ready'));
