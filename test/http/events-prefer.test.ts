/** `Prefer: wait=N` parsing for POST events (docs/ingest.md §9). */
import { describe, expect, it } from 'vitest';
import { preferWaitMs } from '../../src/http/routes/events.ts';

describe('preferWaitMs', () => {
  it('reads wait=N in seconds, capped at 20, among other preferences', () => {
    expect(preferWaitMs(undefined)).toBeUndefined();
    expect(preferWaitMs('return=minimal')).toBeUndefined();
    expect(preferWaitMs('wait=0')).toBe(0);
    expect(preferWaitMs('respond-async, wait=7')).toBe(7_000);
    expect(preferWaitMs('WAIT = "3"')).toBe(3_000);
    expect(preferWaitMs('wait=600')).toBe(20_000);
    expect(preferWaitMs('wait=-1')).toBeUndefined();
    expect(preferWaitMs('wait=1.5')).toBeUndefined();
  });
});
