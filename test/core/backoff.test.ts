/** The one retry helper (src/core/backoff.ts), with injected sleep and randomness. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay, uniformFromBytes, withBackoff } from '../../src/core/backoff.ts';

const policy = { baseMs: 20, capMs: 1000, maxRetries: 6 };

function recorder() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('backoffDelay: full jitter', () => {
  it('ceilings double from base and stop at cap', () => {
    const almostOne = () => 1 - 2 ** -32;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, policy, almostOne))).toEqual([
      19, 39, 79, 159, 319, 639, 999, 999,
    ]);
    expect(backoffDelay(5, policy, () => 0)).toBe(0);
  });

  it('is uniform below the ceiling: every draw lands in [0, ceiling)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        // A Uniform never returns NaN (fast-check's doubles include it unless told).
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (n, u) => {
          const d = backoffDelay(n, policy, () => u);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThan(Math.min(policy.capMs, policy.baseMs * 2 ** (n - 1)));
          expect(Number.isInteger(d)).toBe(true);
        },
      ),
    );
  });

  it('uniformFromBytes maps four bytes onto [0, 1)', () => {
    expect(uniformFromBytes((n) => new Uint8Array(n))()).toBe(0);
    const top = uniformFromBytes((n) => new Uint8Array(n).fill(0xff))();
    expect(top).toBeLessThan(1);
    expect(top).toBeGreaterThan(0.9999999);
  });
});

describe('Backoff', () => {
  it('waits before each retry and refuses, without waiting, after maxRetries', async () => {
    const r = recorder();
    const b = new Backoff({ baseMs: 100, capMs: 250, maxRetries: 3 }, r.sleep, () => 0.5);
    expect([await b.wait(), await b.wait(), await b.wait(), await b.wait()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(r.waits).toEqual([50, 100, 125]);
    expect(b.retries).toBe(3);
  });
});

describe('withBackoff', () => {
  const retryable = (e: unknown) => e instanceof Error && e.message === 'busy';

  it('retries retryable failures and returns the first success', async () => {
    const r = recorder();
    const seen: number[] = [];
    const out = await withBackoff(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new Error('busy');
        return 'done';
      },
      { policy, retryable, sleep: r.sleep, random: () => 0.5 },
    );
    expect(out).toBe('done');
    expect(seen).toEqual([1, 2, 3]);
    expect(r.waits).toEqual([10, 20]);
  });

  it('gives up after maxRetries retries with the last failure', async () => {
    const r = recorder();
    let calls = 0;
    const last = new Error('busy');
    await expect(
      withBackoff(
        async () => {
          calls++;
          throw calls === policy.maxRetries + 1 ? last : new Error('busy');
        },
        { policy, retryable, sleep: r.sleep, random: () => 0 },
      ),
    ).rejects.toBe(last);
    expect(calls).toBe(policy.maxRetries + 1);
    expect(r.waits).toHaveLength(policy.maxRetries);
  });

  it('rethrows any other failure at once', async () => {
    const r = recorder();
    const fatal = new Error('integrity');
    let calls = 0;
    await expect(
      withBackoff(
        async () => {
          calls++;
          throw fatal;
        },
        { policy, retryable, sleep: r.sleep, random: () => 0 },
      ),
    ).rejects.toBe(fatal);
    expect(calls).toBe(1);
    expect(r.waits).toEqual([]);
  });
});
