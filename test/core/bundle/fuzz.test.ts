/**
 * Random byte mutations of a valid bundle never verify and never throw
 * anything but BundleError — except edits of README.txt's text alone, which
 * is informative (docs/bundle.md §README.txt): those verify, reported.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleError, type BundleTrust } from '../../../src/core/bundle/index.ts';
// Every mutation on the reference path and on the fast paths, with identical verdicts required.
import { verifyBundle } from './all-paths.ts';
import { exportBundle, makeLog, trustFor } from './fixture.ts';

let bundle: Uint8Array;
let trust: BundleTrust;
/** Byte range of README.txt's data: the first member, after its 512-byte header. */
let readme: { start: number; end: number };

beforeAll(async () => {
  const log = makeLog(12);
  bundle = await exportBundle(log, {
    fromTime: '2025-06-01T00:03:00.000Z',
    toTime: '2025-06-01T00:08:00.000Z',
    checkpoints: [6, 12],
    chunkBytes: 900,
  });
  trust = trustFor(log);
  const size = Number.parseInt(new TextDecoder().decode(bundle.subarray(124, 135)), 8);
  expect(new TextDecoder().decode(bundle.subarray(0, 10))).toBe('README.txt');
  readme = { start: 512, end: 512 + size };
});

describe('bundle fuzz', () => {
  it('the unmutated bundle verifies', async () => {
    await expect(verifyBundle(bundle, trust)).resolves.toMatchObject({ ok: true });
  });

  it('mutated bundles are refused with a BundleError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        async (edits) => {
          const b = bundle.slice();
          for (const [pos, x] of edits) {
            const i = pos % b.length;
            b[i] = (b[i] as number) ^ x;
          }
          if (b.every((v, i) => v === bundle[i])) return; // edits cancelled out
          const result = await verifyBundle(b, trust).then(
            (r) => r,
            (e: unknown) => e,
          );
          const onlyReadme = edits.every(([pos]) => {
            const i = pos % b.length;
            return b[i] === bundle[i] || (i >= readme.start && i < readme.end);
          });
          if (onlyReadme) expect(result).toMatchObject({ ok: true, readmeAltered: true });
          else expect(result).toBeInstanceOf(BundleError);
        },
      ),
      { numRuns: 150 },
    );
    // 150 bundles × five verifications (all-paths.ts): minutes on a loaded 2-core machine.
  }, 300_000);

  it('truncations and streams of odd chunk sizes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: bundle.length - 1 }), async (cut) => {
        const err = await verifyBundle(bundle.subarray(0, cut), trust).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(BundleError);
      }),
      { numRuns: 40 },
    );
    // The same bundle streamed in 7-byte chunks verifies.
    const chunks = (async function* () {
      for (let i = 0; i < bundle.length; i += 7) yield bundle.subarray(i, i + 7);
    })();
    await expect(verifyBundle(chunks, trust)).resolves.toMatchObject({ ok: true });
  });
});
