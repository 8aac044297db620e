/** The per-destination delivery state machine (src/core/deliver/progress.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AttemptResult,
  afterAttempt,
  DEFAULT_DELIVERY_RETRY,
  type DestinationProgress,
  dueDestinations,
  isTerminal,
  newProgress,
} from '../../../src/core/deliver/progress.ts';

const policy = { maxAttempts: 4, baseMs: 1000, capMs: 8000 };
const fail = (retryable: boolean, extra: Partial<AttemptResult> = {}): AttemptResult =>
  ({
    ok: false,
    code: 'HTTP_STATUS',
    message: 'HTTP 500',
    status: 500,
    retryable,
    ...extra,
  }) as AttemptResult;
const pending: DestinationProgress = { state: 'pending', attempts: 0, nextAtMs: 0 };

describe('afterAttempt', () => {
  it('success delivers; a permanent failure is dead at once', () => {
    expect(afterAttempt(pending, { ok: true, status: 200 }, 5, policy, () => 0.5)).toEqual({
      state: 'delivered',
      attempts: 1,
      atMs: 5,
    });
    expect(afterAttempt(pending, fail(false, { status: 404 }), 5, policy, () => 0.5)).toMatchObject({
      state: 'dead',
      attempts: 1,
      lastError: { code: 'HTTP_STATUS', status: 404 },
    });
  });

  it('a retryable failure waits the core backoff (at least Retry-After, capped), then dies after maxAttempts', () => {
    let d = afterAttempt(pending, fail(true), 0, policy, () => 0.5);
    expect(d).toMatchObject({ state: 'pending', attempts: 1, nextAtMs: 500 });
    d = afterAttempt(d, fail(true, { retryAfterMs: 3000 }), 1000, policy, () => 0.5);
    expect(d).toMatchObject({ state: 'pending', attempts: 2, nextAtMs: 4000 });
    d = afterAttempt(d, fail(true, { retryAfterMs: 3_600_000 }), 4000, policy, () => 0);
    expect(d).toMatchObject({ state: 'pending', attempts: 3, nextAtMs: 12_000 });
    d = afterAttempt(d, fail(true), 12_000, policy, () => 0.5);
    expect(d).toMatchObject({ state: 'dead', attempts: 4 });
  });

  it('terminal states never change', () => {
    const done: DestinationProgress = { state: 'delivered', attempts: 1, atMs: 1 };
    expect(afterAttempt(done, fail(true), 9, policy, Math.random)).toBe(done);
  });

  it('property: any sequence of outcomes ends within maxAttempts, and waits stay under the cap', () => {
    const outcome = fc.oneof(
      fc.constant<AttemptResult>({ ok: true }),
      fc.boolean().map((r) => fail(r)),
      fc.nat({ max: 10 ** 8 }).map((ms) => fail(true, { retryAfterMs: ms })),
    );
    fc.assert(
      fc.property(
        fc.array(outcome, { minLength: 20, maxLength: 20 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (outs, u) => {
          let d: DestinationProgress = pending;
          let now = 0;
          let n = 0;
          for (const o of outs) {
            if (d.state !== 'pending') break;
            now = d.nextAtMs;
            d = afterAttempt(d, o, now, DEFAULT_DELIVERY_RETRY, () => u);
            n++;
            if (d.state === 'pending')
              expect(d.nextAtMs - now).toBeLessThanOrEqual(DEFAULT_DELIVERY_RETRY.capMs);
          }
          expect(d.state).not.toBe('pending');
          expect(n).toBeLessThanOrEqual(DEFAULT_DELIVERY_RETRY.maxAttempts);
          expect(d.attempts).toBe(n);
        },
      ),
    );
  });
});

describe('entry progress', () => {
  it('is terminal when every destination is, due by time, in configured order', () => {
    const p = newProgress('alr_x', ['b', 'a'], 100);
    expect(isTerminal(p)).toBe(false);
    expect(dueDestinations(p, 100)).toEqual(['b', 'a']);
    const later = {
      ...p,
      destinations: {
        b: { state: 'pending', attempts: 1, nextAtMs: 200 } as const,
        a: { state: 'delivered', attempts: 1, atMs: 100 } as const,
      },
    };
    expect(dueDestinations(later, 150)).toEqual([]);
    expect(dueDestinations(later, 200)).toEqual(['b']);
    expect(isTerminal(newProgress('occ', [], 0))).toBe(true);
  });
});
