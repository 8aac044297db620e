// src/core/producer.ts: gaps, late fills, duplicates, reordering, resets and the gap bound; the
// fold of any interleaving of a stream's batches equals the sequential fold and a set model.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkStreamState,
  foldStream,
  isSilent,
  missingCount,
  overdueGaps,
  type Position,
  type StreamState,
} from '../../src/core/producer.ts';

const at = (seq: number, t = 1000, epoch?: number): Position => ({
  seq,
  at: t,
  ...(epoch !== undefined ? { epoch } : {}),
});
const fold = (seqs: number[], s?: StreamState, maxGaps?: number) =>
  foldStream(
    s,
    'st',
    seqs.map((q) => at(q)),
    maxGaps,
  );
/** Without the time each gap was first noticed (order-dependent by design). */
const shape = (s: StreamState) => ({ ...s, gaps: s.gaps.map(({ from, to }) => ({ from, to })) });

describe('a stream', () => {
  it('in order: contiguous follows, no gaps', () => {
    const s = fold([1, 2, 3]);
    expect([s.contiguous, s.highest, s.gaps, s.duplicates]).toEqual([3, 3, [], 0]);
  });

  it('a skipped seq opens a gap; a late event fills it', () => {
    const s = fold([1, 2, 5, 6]);
    expect(s.contiguous).toBe(2);
    expect(s.gaps).toEqual([{ from: 3, to: 4, since: 1000 }]);
    expect(missingCount(s)).toBe(2);
    const t = foldStream(s, 'st', [at(4, 2000)]);
    expect(t.gaps).toEqual([{ from: 3, to: 3, since: 1000 }]);
    expect(foldStream(t, 'st', [at(3, 3000)]).contiguous).toBe(6);
  });

  it('a late event in the middle of a gap splits it', () => {
    const s = fold([1, 10, 5]);
    expect(s.gaps.map((g) => [g.from, g.to])).toEqual([
      [2, 4],
      [6, 9],
    ]);
    checkStreamState(s);
  });

  it('counts duplicates (below the mark, or already seen past a gap)', () => {
    const s = fold([1, 2, 2, 5, 5, 1]);
    expect(s.duplicates).toBe(3);
    expect(s.events).toBe(6);
  });

  it('a new epoch resets the stream; what was missing is abandoned; the old epoch is stale after', () => {
    const s = fold([1, 2, 5]);
    const r = foldStream(s, 'st', [at(1, 2000, 1), at(2, 2000, 1), at(6, 2000, 0)]);
    expect([r.epoch, r.contiguous, r.highest, r.resets, r.abandoned, r.stale]).toEqual([1, 2, 2, 1, 2, 1]);
    expect(r.gaps).toEqual([]);
  });

  it('past the gap bound the oldest gap is abandoned and the mark moves past it', () => {
    const s = fold([1, 3, 5, 7, 9], undefined, 2); // gaps 2, 4, 6, 8 → bound 2
    expect(s.gaps.map((g) => g.from)).toEqual([6, 8]);
    expect([s.abandoned, s.gapsAbandoned, s.contiguous]).toEqual([2, 2, 5]);
    expect(fold([2], s, 2).duplicates).toBe(1); // a late abandoned seq
    checkStreamState(s, 2);
  });

  it('reports gaps older than an age, and silence past the declared heartbeat', () => {
    const s = foldStream(undefined, 'st', [
      at(1, 0),
      at(3, 1000),
      { seq: 4, at: 2000, heartbeatIntervalSeconds: 60 },
    ]);
    expect(overdueGaps(s, 1000 + 299_999, 300_000)).toEqual([]);
    expect(overdueGaps(s, 1000 + 300_000, 300_000)).toHaveLength(1);
    expect(s.heartbeatIntervalSeconds).toBe(60);
    expect(isSilent(s, 2000 + 60_000)).toBe(false);
    expect(isSilent(s, 2000 + 60_001)).toBe(true);
    expect(isSilent(fold([1]), 1e12)).toBe(false); // no heartbeat declared: never "silent"
  });
});

/** The set model: what the state must say, from the multiset of seqs alone. */
function model(seqs: number[]) {
  const seen = new Set(seqs);
  const highest = Math.max(0, ...seqs);
  let contiguous = 0;
  while (seen.has(contiguous + 1)) contiguous++;
  const gaps: { from: number; to: number }[] = [];
  for (let q = contiguous + 1; q <= highest; q++) {
    if (seen.has(q)) continue;
    const last = gaps[gaps.length - 1];
    if (last && last.to === q - 1) last.to = q;
    else gaps.push({ from: q, to: q });
  }
  return { contiguous, highest, gaps, duplicates: seqs.length - seen.size, events: seqs.length };
}

describe('property: order does not matter within an epoch', () => {
  // Seqs 1..60 with drops and duplicates, cut into batches; batches commit in any order
  // (concurrent appends for one stream) and each batch folds in index order.
  it('any interleaving of batches gives the state of the sequential fold, and of the set model', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 120 }),
        fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 40 }),
        fc.func(fc.integer()),
        (seqs, cuts, key) => {
          const batches: number[][] = [];
          let i = 0;
          for (const c of cuts) {
            if (i >= seqs.length) break;
            batches.push(seqs.slice(i, i + c));
            i += c;
          }
          if (i < seqs.length) batches.push(seqs.slice(i));
          const sequential = batches.reduce<StreamState | undefined>((s, b) => fold(b, s), undefined);
          const order = batches.map((b, k) => ({ b, k: key(k) })).sort((x, y) => x.k - y.k);
          const interleaved = order.reduce<StreamState | undefined>((s, { b }) => fold(b, s), undefined);
          if (!sequential || !interleaved) throw new Error('empty');
          checkStreamState(sequential);
          checkStreamState(interleaved);
          expect(shape(interleaved)).toEqual(shape(sequential));
          expect(shape(sequential)).toMatchObject(model(seqs));
        },
      ),
      { numRuns: 300 },
    );
  });
});
