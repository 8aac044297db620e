/**
 * The verify page's Web Worker: runs the core's verifyBundle — the very
 * function `anchorlog verify` runs — over the chosen file, streamed from disk
 * (memory bounded as in the CLI, docs/bundle.md §Memory), reporting progress
 * as bytes are consumed. The verdict comes from the CLI's own rules
 * (src/cli/bundle-verdict.ts, src/cli/verdict.ts) with nothing accepted, so
 * the page's exit meaning is `anchorlog verify --trust TRUST.json`'s.
 *
 * Nothing here touches the network: the file is the user's, read locally.
 */
import { bundleShortfalls } from '../../../src/cli/bundle-verdict.ts';
import { classAnswerVerdict, looksLikeClassAnswer } from '../../../src/cli/class-verdict.ts';
import { UsageError } from '../../../src/cli/errors.ts';
import { parseTrustFile } from '../../../src/cli/trust-file.ts';
import { verdictOf } from '../../../src/cli/verdict.ts';
import {
  BundleError,
  type BundleReport,
  type BundleTrust,
  verifyBundle,
} from '../../../src/core/bundle/index.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { MAX_CLASS_ANSWER_BYTES } from '../../../src/core/classes/answer-doc.ts';
import { hashEngine, hashReady } from '../hash-browser.ts';
import { startChunkPool } from './chunk-pool.ts';
import { Evidence } from './evidence.ts';
import type { Reply, Request } from './protocol.ts';
import { spawnChunkWorker } from './spawn-chunk.ts';

interface WorkerScope {
  postMessage(message: Reply): void;
  onmessage: ((ev: MessageEvent<Request>) => void) | null;
}
const scope = self as unknown as WorkerScope;

let evidence: Evidence | undefined;

// Range-bundle records chunks are checked by a pool of workers while this one reads on
// (docs/bundle.md §Verifying fast): as many as the machine has cores, at most 4, as the CLI.
const cores =
  (globalThis.navigator as { hardwareConcurrency?: number } | undefined)?.hardwareConcurrency ?? 1;
const pool = spawnChunkWorker ? startChunkPool(spawnChunkWorker, Math.min(4, Math.max(1, cores))) : undefined;

/** The file as a stream of chunks, reporting how far the verifier has read. */
async function* chunks(blob: Blob, onRead?: (read: number) => void): AsyncGenerator<Uint8Array> {
  const reader = blob.stream().getReader();
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.length;
      onRead?.(read);
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

function trustOf(text: string | null, name: string): BundleTrust {
  if (text === null) return {};
  const file = parseTrustFile(utf8(text), name);
  return {
    ...(file.logKeys ? { logKeys: file.logKeys } : {}),
    ...(file.origins ? { origins: file.origins } : {}),
    ...(file.tsaRoots ? { tsaRoots: file.tsaRoots } : {}),
    ...(file.tsaQuorum !== undefined ? { tsaQuorum: file.tsaQuorum } : {}),
  };
}

/** The CLI's failure mapping (src/cli/command.ts, src/cli/verify.ts): usage → 2, anything else → 1 with its code. */
function failure(e: unknown): Reply {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof UsageError)
    return { type: 'failed', exitCode: 2, code: e.code, message, index: null, member: null };
  if (e instanceof BundleError && e.code === 'INVALID_TRUST')
    return { type: 'failed', exitCode: 2, code: 'BAD_FILE', message, index: null, member: null };
  const own = (e as { code?: unknown } | null)?.code;
  const b = e instanceof BundleError ? e : undefined;
  return {
    type: 'failed',
    exitCode: 1,
    code: typeof own === 'string' ? own : 'INTERNAL_ERROR',
    message,
    index: b?.index ?? null,
    member: b?.member ?? null,
  };
}

/**
 * A class answer (docs/bundle.md §Class answers): read whole (at most its
 * format's limit plus one byte, as the CLI reads it, so an oversized file is
 * refused by the parser and never loaded whole), then the CLI's own
 * verification and verdict (src/cli/class-verdict.ts).
 */
async function verifyClassAnswer(req: Extract<Request, { type: 'verify' }>): Promise<Reply> {
  const started = performance.now();
  try {
    const bytes = new Uint8Array(await req.bundle.slice(0, MAX_CLASS_ANSWER_BYTES + 1).arrayBuffer());
    scope.postMessage({ type: 'progress', read: req.bundle.size, total: req.bundle.size });
    const trust = req.trust === null ? {} : parseTrustFile(utf8(req.trust), req.trustName);
    const { report, verdict } = await classAnswerVerdict(bytes, trust);
    return { type: 'class-verified', report, verdict, millis: performance.now() - started };
  } catch (e) {
    return failure(e);
  }
}

async function verify(req: Extract<Request, { type: 'verify' }>): Promise<Reply> {
  evidence = undefined;
  if (looksLikeClassAnswer(new Uint8Array(await req.bundle.slice(0, 64).arrayBuffer())))
    return verifyClassAnswer(req);
  const total = req.bundle.size;
  const step = Math.max(1, Math.floor(total / 200));
  let reported = 0;
  const started = performance.now();
  const provedBefore = pool?.proved() ?? 0;
  let report: BundleReport;
  try {
    const trust = trustOf(req.trust, req.trustName);
    report = await verifyBundle(
      chunks(req.bundle, (read) => {
        if (read - reported < step && read < total) return;
        reported = read;
        scope.postMessage({ type: 'progress', read, total });
      }),
      trust,
      // One chunk queued per worker beyond those being checked, as the CLI (docs/bundle.md §Memory).
      pool ? { checkChunk: pool.check, maxChunksInFlight: pool.threads + 1 } : {},
    );
  } catch (e) {
    return failure(e);
  }
  const millis = performance.now() - started;
  const verdict = verdictOf(bundleShortfalls(report), { untrusted: false, incomplete: false });
  // A second pass, over a file already proved: the records for the table, histograms and proofs.
  evidence = await Evidence.read(chunks(req.bundle), report);
  return {
    type: 'verified',
    report,
    verdict,
    histograms: evidence.histograms(),
    records: evidence.rows.length,
    millis,
    pooledChunks: (pool?.proved() ?? 0) - provedBefore,
    hash: hashEngine(),
  };
}

function answer(req: Request): Promise<Reply> | Reply {
  switch (req.type) {
    case 'verify':
      return verify(req);
    case 'search': {
      const r = evidence?.search(req.query, req.offset, req.limit) ?? { rows: [], total: 0 };
      return { type: 'rows', rows: r.rows, total: r.total, offset: req.offset };
    }
    case 'record':
      try {
        return { type: 'proof', proof: evidence?.proof(req.index) ?? null };
      } catch (e) {
        return { type: 'proof', proof: null, error: e instanceof Error ? e.message : String(e) };
      }
  }
}

scope.onmessage = (ev) => {
  void Promise.resolve(answer(ev.data)).then((r) => scope.postMessage(r));
};
// Ready once the chunk workers have loaded (no script is fetched after the page is ready) and
// this worker's SHA-256 runs on WebAssembly (src/hash-browser.ts).
void Promise.all([pool?.ready, hashReady]).then(() => scope.postMessage({ type: 'ready' }));
