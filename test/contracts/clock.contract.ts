/**
 * The Clock contract (src/ports/clock.ts): run against the manual clock of
 * the memory adapters and the system clock the deployment uses.
 */
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/ports/clock.ts';

export function clockContract(name: string, make: () => Clock): void {
  describe(`Clock contract: ${name}`, () => {
    it('tells epoch milliseconds as a safe integer, and never runs backwards by itself', () => {
      const clock = make();
      let last = clock.now();
      expect(Number.isSafeInteger(last)).toBe(true);
      // Within what a record's receivedAt may be (src/core/record.ts MAX_RECEIVED_AT_MS).
      expect(last).toBeGreaterThan(Date.UTC(2000, 0, 1));
      expect(last).toBeLessThan(Date.UTC(9999, 0, 1));
      for (let i = 0; i < 1000; i++) {
        const t = clock.now();
        expect(t).toBeGreaterThanOrEqual(last);
        last = t;
      }
    });
  });
}
