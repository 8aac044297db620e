/**
 * The fast verification paths against the reference on generated tampers of
 * a range bundle of many small records chunks, where the parallel path joins
 * chunks at their seams (docs/bundle.md §Verifying fast). Every case goes
 * through all-paths.ts: the reference, the fast record path, and the fast path
 * with chunks checked out of line must reach the same report or the same
 * error code, record, member and message.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleError, type BundleTrust } from '../../../src/core/bundle/index.ts';
import { toBase64 } from '../../../src/core/bytes.ts';
import { canonicalBytes } from '../../../src/core/canonical.ts';
import { leafHash } from '../../../src/core/record.ts';
import { verifyBundle } from './all-paths.ts';
import {
  exportBundle,
  lines,
  type Member,
  MINUTE,
  makeLog,
  members,
  repack,
  setLines,
  type TestLog,
  trustFor,
} from './fixture.ts';

let log: TestLog;
let bundle: Uint8Array;
let trust: BundleTrust;
let chunkCount: number;

beforeAll(async () => {
  log = makeLog(80);
  // Small chunks: ~3 records each, so most tampers land near a seam.
  bundle = await exportBundle(log, {
    fromTime: log.receivedAt[5] as string,
    toTime: log.receivedAt[75] as string,
    chunkBytes: 1200,
  });
  trust = trustFor(log);
  chunkCount = (await members(bundle)).filter((m) => m.path.startsWith('records/')).length;
});

type Op =
  | { kind: 'delete' | 'duplicate' | 'swap-next'; at: number }
  | { kind: 'move'; at: number; to: number }
  | {
      kind: 'edit';
      at: number;
      field: 'outcome' | 'index' | 'prev' | 'logId' | 'receivedAt';
      delta: number;
      rechain: boolean;
    }
  | { kind: 'noncanonical'; at: number; how: number }
  | { kind: 'garbage-chunk'; chunk: number; byte: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('delete' as const, 'duplicate' as const, 'swap-next' as const),
    at: fc.nat(),
  }),
  fc.record({ kind: fc.constant('move' as const), at: fc.nat(), to: fc.nat() }),
  fc.record({
    kind: fc.constant('edit' as const),
    at: fc.nat(),
    field: fc.constantFrom(
      'outcome' as const,
      'index' as const,
      'prev' as const,
      'logId' as const,
      'receivedAt' as const,
    ),
    delta: fc.integer({ min: -3, max: 3 }),
    rechain: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('noncanonical' as const), at: fc.nat(), how: fc.nat() }),
  fc.record({
    kind: fc.constant('garbage-chunk' as const),
    chunk: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
);

const NONCANONICAL: ReadonlyArray<(t: string) => string> = [
  (t) => t.replace('":', '": '),
  (t) => t.replace('"outcome":"success"', '"outcome":"denied","outcome":"success"'),
  (t) => t.replace('"v":1', '"v":1.0'),
  (t) => t.replace('"index":', '"index":0'),
  (t) => t.replace('"svc-ingest"', '"svc-ingest\\ud800"'),
  (t) => t.replace('"tool.call"', '"tool\\u002ecall"'),
  (t) => `${t} `,
];

/** Applies an operation to the records of the range, keeping each chunk's line count where it can. */
function apply(ms: Member[], o: Op): void {
  const chunks = ms.filter((m) => m.path.startsWith('records/'));
  if (o.kind === 'garbage-chunk') {
    const c = chunks[o.chunk % chunks.length] as Member;
    const d = c.data.slice();
    d[(o.byte * 7919) % d.length] = o.byte;
    c.data = d;
    return;
  }
  const counts = chunks.map((c) => lines(c).length);
  const all = chunks.flatMap((c) => lines(c));
  const i = (n: number) => n % all.length;
  switch (o.kind) {
    case 'delete':
      all.splice(i(o.at), 1);
      break;
    case 'duplicate':
      all.splice(i(o.at), 0, all[i(o.at)] as string);
      break;
    case 'swap-next': {
      const a = i(o.at);
      const b = (a + 1) % all.length;
      [all[a], all[b]] = [all[b] as string, all[a] as string];
      break;
    }
    case 'move': {
      const [x] = all.splice(i(o.at), 1);
      all.splice(o.to % (all.length + 1), 0, x as string);
      break;
    }
    case 'edit': {
      const a = i(o.at);
      // An earlier tamper may have left this line unparseable (noncanonical bytes): it is
      // tampered already, and editing it is not a second tamper.
      let parsed: unknown;
      try {
        parsed = JSON.parse(all[a] as string);
      } catch {
        break;
      }
      const r = parsed as Record<string, unknown> & { event: { outcome: string } };
      if (o.field === 'outcome') r.event.outcome = r.event.outcome === 'success' ? 'failure' : 'success';
      if (o.field === 'index') r.index = (r.index as number) + (o.delta || 1);
      if (o.field === 'prev') r.prev = toBase64(new Uint8Array(32).fill(o.delta + 7));
      if (o.field === 'logId') r.logId = 'tenant-x';
      if (o.field === 'receivedAt')
        r.receivedAt = new Date(Date.parse(r.receivedAt as string) + o.delta * MINUTE).toISOString();
      try {
        all[a] = new TextDecoder().decode(canonicalBytes(r));
      } catch {
        break; // an earlier tamper left a value JCS refuses (a lone surrogate): tampered already
      }
      if (o.rechain)
        // Re-chain every later record, so the per-record checks pass and only the range proof can fail.
        for (let k = a + 1; k < all.length; k++) {
          let q: Record<string, unknown>;
          try {
            q = JSON.parse(all[k] as string) as Record<string, unknown>;
          } catch {
            break; // an unparseable line (an earlier tamper) ends the re-chaining
          }
          q.prev = toBase64(leafHash(new TextEncoder().encode(all[k - 1] as string)));
          all[k] = new TextDecoder().decode(canonicalBytes(q));
        }
      break;
    }
    case 'noncanonical': {
      const a = i(o.at);
      all[a] = (NONCANONICAL[o.how % NONCANONICAL.length] as (t: string) => string)(all[a] as string);
      break;
    }
  }
  // Regroup into the chunks: the same counts, the last chunk taking the difference (never below one line).
  let at = 0;
  chunks.forEach((c, k) => {
    const n =
      k === chunks.length - 1
        ? all.length - at
        : Math.min(counts[k] as number, all.length - at - (chunks.length - 1 - k));
    setLines(c, all.slice(at, at + Math.max(1, n)));
    at += Math.max(1, n);
  });
}

describe('fast paths vs the reference on generated tampers of a many-chunk bundle', () => {
  it('the bundle has many records chunks and verifies on every path', async () => {
    expect(chunkCount).toBeGreaterThan(10);
    await expect(verifyBundle(bundle, trust)).resolves.toMatchObject({ ok: true, records: { count: 70 } });
  });

  it('one or two tampers, with and without SHA256SUMS/manifest fixed up', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 2 }), fc.boolean(), async (ops, fix) => {
        const ms = await members(bundle);
        // Byte garbage last: the line edits read the chunks as text.
        for (const o of [...ops].sort(
          (x, y) => Number(x.kind === 'garbage-chunk') - Number(y.kind === 'garbage-chunk'),
        ))
          apply(ms, o);
        // all-paths.ts asserts the three verdicts are identical; a tamper may also be harmless (e.g. a swap undone).
        const r = await verifyBundle(repack(ms, { fix }), trust).catch((e: unknown) => e);
        if (!(r instanceof BundleError)) expect(r).toMatchObject({ ok: true });
      }),
      { numRuns: 120 },
    );
    // 120 bundles × five verifications (all-paths.ts): minutes on a loaded 2-core machine.
  }, 300_000);

  it('a time-stamp older than a record in a middle chunk (TIMESTAMP_BEFORE_RECORDS at that record)', async () => {
    // Records from 20 minutes ago, one a minute: those of the last ~19 minutes postdate nothing yet,
    // but the TSA stamps now; records after now + 61 s cannot have been in a checkpoint it stamped.
    const start = Date.now() - 20 * MINUTE;
    const future = makeLog(40, { startMs: start });
    const b = await exportBundle(future, {
      fromTime: future.receivedAt[2] as string,
      toTime: future.receivedAt[38] as string,
      chunkBytes: 1200,
    });
    const e = await verifyBundle(b, trustFor(future)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BundleError);
    expect((e as BundleError).code).toBe('TIMESTAMP_BEFORE_RECORDS');
    expect((e as BundleError).index).toBeGreaterThan(20);
  });
});
