/**
 * A clock the test sets by hand (the Clock port, src/ports/clock.ts). Time
 * moves only when told: `set`, `advance`, an optional step after every read
 * (so successive reads differ, as two requests a millisecond apart would),
 * and `sleep`, which advances the clock instead of waiting, so backoff and
 * lease logic runs in no wall time.
 */
import type { Clock } from '../../ports/clock.ts';

export interface ManualClockOptions {
  /** Epoch ms of the first read; default 2026-03-01T12:00:00Z. */
  readonly startMs?: number;
  /** Milliseconds added after every read (default 0: frozen between changes). */
  readonly stepMs?: number;
}

export const MANUAL_CLOCK_START_MS = Date.UTC(2026, 2, 1, 12);

export class ManualClock implements Clock {
  #t: number;
  /** Milliseconds added after every `now()`; may be changed at any time. */
  stepMs: number;

  constructor(opts: ManualClockOptions = {}) {
    this.#t = opts.startMs ?? MANUAL_CLOCK_START_MS;
    this.stepMs = opts.stepMs ?? 0;
    if (!Number.isSafeInteger(this.#t)) throw new RangeError('startMs must be a safe integer');
  }

  now(): number {
    const t = this.#t;
    this.#t += this.stepMs;
    return t;
  }

  /** The current time without counting as a read (no step). */
  peek(): number {
    return this.#t;
  }

  /** The current time, read (without a step) and set as a property: `clock.t += 60_000`. */
  get t(): number {
    return this.#t;
  }

  set t(ms: number) {
    this.set(ms);
  }

  /** Jumps to `ms`; a clock may be set back, as a misbehaving host's is (MAX_CLOCK_SKEW_MS). */
  set(ms: number): void {
    if (!Number.isSafeInteger(ms)) throw new RangeError('time must be a safe integer of ms');
    this.#t = ms;
  }

  advance(ms: number): void {
    this.set(this.#t + ms);
  }

  /** A Sleep (src/core/backoff.ts) that advances this clock and returns at once. */
  readonly sleep = (ms: number): Promise<void> => {
    this.advance(Math.max(0, Math.ceil(ms)));
    return Promise.resolve();
  };
}
