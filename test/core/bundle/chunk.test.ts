/**
 * The chunk check's shortcut for the time-stamp plausibility rule
 * (plausibleText, src/core/bundle/chunk.ts): comparing formatted text must
 * decide `plausibleMs < Date.parse(receivedAt)` exactly as the sequential
 * verifier does, for every receivedAt a record can carry and every
 * plausibleMs a verified time-stamp can yield — fractions, negatives, NaN and
 * instants past the last one included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plausibleText } from '../../../src/core/bundle/chunk.ts';
import { formatReceivedAt, MAX_EPOCH_MS } from '../../../src/core/record.ts';

/** Any receivedAt a record can carry: checkRecord allows years 1970–9999. */
const receivedAtMs = fc.integer({ min: 0, max: MAX_EPOCH_MS });
const plausibleMs = fc.oneof(
  fc.integer({ min: -10, max: MAX_EPOCH_MS + 10 }),
  fc.double({ min: -1e3, max: MAX_EPOCH_MS + 1e3, noNaN: false }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, MAX_EPOCH_MS, -0),
);

describe('plausibleText', () => {
  it('orders like Date.parse for every record time and every plausible time', () => {
    fc.assert(
      fc.property(receivedAtMs, plausibleMs, (at, p) => {
        const receivedAt = formatReceivedAt(at);
        expect(plausibleText(p) < receivedAt).toBe(p < Date.parse(receivedAt));
      }),
      { numRuns: 20_000 },
    );
  });

  it('is exact at the millisecond boundaries around a record', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_EPOCH_MS - 1 }),
        fc.constantFrom(-1, -0.5, 0, 0.5, 1),
        (at, d) => {
          const receivedAt = formatReceivedAt(at);
          expect(plausibleText(at + d) < receivedAt).toBe(at + d < at);
        },
      ),
    );
  });
});
