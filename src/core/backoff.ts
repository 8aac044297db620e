/**
 * The one retry policy: capped exponential backoff with full jitter (AWS
 * Architecture Blog, "Exponential Backoff And Jitter"). Before retry n
 * (1-based) wait a uniform random time in [0, min(cap, base · 2^(n−1))):
 * contenders that failed together spread out instead of colliding again in
 * lockstep, and the expected wait still doubles.
 *
 * Pure: sleeping and randomness are injected (src/ports/clock.ts has the real
 * sleep), so tests neither wait nor depend on chance. Every retry loop in the
 * app and the adapters goes through here.
 */

export interface BackoffPolicy {
  /** Ceiling of the first wait, ms. */
  readonly baseMs: number;
  /** Largest ceiling, ms. */
  readonly capMs: number;
  /** Retries after the first attempt: at most maxRetries + 1 attempts in all. */
  readonly maxRetries: number;
}

/** Uniform in [0, 1). */
export type Uniform = () => number;

export type Sleep = (ms: number) => Promise<void>;

/** The wait before retry `retry` (1-based), in whole ms. */
export function backoffDelay(
  retry: number,
  policy: Pick<BackoffPolicy, 'baseMs' | 'capMs'>,
  random: Uniform,
): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}

/** A Uniform from a byte source (e.g. crypto.getRandomValues): four bytes per draw. */
export function uniformFromBytes(random: (n: number) => Uint8Array): Uniform {
  return () => {
    const b = random(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0) / 2 ** 32;
  };
}

/**
 * Retries of one operation, for loops that are not a plain "call until it
 * stops throwing" (a batch call that returns what it did not process, a
 * commit that lost a race): `await backoff.wait()` before each retry; it
 * resolves false, without waiting, once maxRetries retries have been taken.
 */
export class Backoff {
  readonly #policy: BackoffPolicy;
  readonly #sleep: Sleep;
  readonly #random: Uniform;
  #retries = 0;

  constructor(policy: BackoffPolicy, sleep: Sleep, random: Uniform) {
    this.#policy = policy;
    this.#sleep = sleep;
    this.#random = random;
  }

  /** Retries taken so far. */
  get retries(): number {
    return this.#retries;
  }

  async wait(): Promise<boolean> {
    if (this.#retries >= this.#policy.maxRetries) return false;
    this.#retries++;
    await this.#sleep(backoffDelay(this.#retries, this.#policy, this.#random));
    return true;
  }
}

export interface RetryOptions {
  readonly policy: BackoffPolicy;
  /** Whether a failure may be retried; any other failure is rethrown at once. */
  readonly retryable: (err: unknown) => boolean;
  readonly sleep: Sleep;
  readonly random: Uniform;
}

/**
 * Calls `fn` until it resolves; after a retryable failure waits (full
 * jitter) and calls it again, at most policy.maxRetries times, then rethrows
 * the last failure. `fn` gets the attempt number (1-based); only idempotent
 * operations belong here.
 */
export async function withBackoff<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const backoff = new Backoff(opts.policy, opts.sleep, opts.random);
  for (;;) {
    try {
      return await fn(backoff.retries + 1);
    } catch (err) {
      if (!opts.retryable(err) || !(await backoff.wait())) throw err;
    }
  }
}
