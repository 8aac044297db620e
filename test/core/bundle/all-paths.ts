/**
 * `verifyBundle` run several ways — the reference (strict decodeRecord, one
 * record at a time), the fast record path, and the fast path with records
 * chunks checked out of line and joined at the seams (the in-thread checker:
 * the same code a worker runs; with the byte scanner, and with the record
 * check before it) — with the assertion that all of them reach the
 * same verdict: the same report, or a BundleError with the same code, index,
 * member and message. Tests that import verifyBundle from here check every
 * case on every path (docs/bundle.md §Verifying fast).
 */
import { expect } from 'vitest';
import {
  BundleError,
  type BundleReport,
  type BundleTrust,
  verifyBundle as coreVerify,
  inThreadChunkChecker,
  jsonChunkChecker,
  type VerifyOptions,
} from '../../../src/core/bundle/index.ts';

type Outcome = { ok: true; report: BundleReport } | { ok: false; error: unknown };

type Input = Uint8Array | AsyncIterable<Uint8Array>;

async function outcome(b: Input, t: BundleTrust | undefined, o: VerifyOptions): Promise<Outcome> {
  try {
    return { ok: true, report: await coreVerify(b, t, o) };
  } catch (error) {
    return { ok: false, error };
  }
}

const verdict = (o: Outcome): unknown =>
  o.ok
    ? o.report
    : o.error instanceof BundleError
      ? { code: o.error.code, index: o.error.index, member: o.error.member, message: o.error.message }
      : { notABundleError: String(o.error) };

export const PATHS: Record<string, VerifyOptions> = {
  fast: {},
  'fast, chunks in parallel': { checkChunk: inThreadChunkChecker, maxChunksInFlight: 3 },
  // The chunk check with the record check it had before the byte scanner (record-scan.ts):
  // JSON.parse, re-serialise, compare (decodeRecordFast). Both must give the reference's verdict.
  'fast, chunks in parallel, JSON.parse record check': { checkChunk: jsonChunkChecker, maxChunksInFlight: 3 },
  // As the CLI reads: members in shared memory (what its worker threads read in place).
  'fast, chunks in parallel, shared memory': {
    checkChunk: inThreadChunkChecker,
    maxChunksInFlight: 2,
    allocate: (n) => new Uint8Array(new SharedArrayBuffer(n)),
  },
};

/** verifyBundle's verdict on the reference path, asserted identical on the fast paths. */
export async function verifyBundle(input: Input, t?: BundleTrust): Promise<BundleReport> {
  // A stream is read once and replayed, in the same chunks, to each path.
  const chunks: Uint8Array[] = [];
  if (input instanceof Uint8Array) chunks.push(input);
  else for await (const c of input) chunks.push(c);
  const replay = async function* () {
    yield* chunks;
  };
  const reference = await outcome(replay(), t, { strict: true });
  for (const [name, options] of Object.entries(PATHS))
    expect(verdict(await outcome(replay(), t, options)), `${name} path vs reference`).toStrictEqual(
      verdict(reference),
    );
  if (reference.ok) return reference.report;
  throw reference.error;
}
