/** Time as a port, so use cases never read the wall clock directly and tests inject it. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Real waiting, for the retry loops of src/core/backoff.ts (tests inject a sleep that returns at once). */
export const systemSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How far a record's receivedAt may be ahead of the clock of the component
 * that checks it (ingest continuing the chain, the sealer signing it).
 * Nothing else bounds receivedAt, and bundle completeness is keyed on it
 * (docs/bundle.md), so without a bound one write of a future time would move
 * honest records out of the range they arrived in (issue #11).
 *
 * The bound only has to absorb disagreement between two hosts' clocks, never
 * latency: a record is always checked after it was stamped, which only makes
 * it older. Lambda hosts keep time with the Amazon Time Sync Service, whose
 * error is well under a second, so five minutes is a wide margin for a
 * misbehaving host while keeping what an insider can shift small: an honest
 * record's receivedAt is never more than this after it really arrived. It is
 * the tolerance Kerberos uses for the same purpose. docs/operations.md
 * §Clock skew says what happens beyond it.
 */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
