// Event v1's optional producer position and catalog version (src/core/event.ts): checked like
// every other field, each error naming its JSON pointer.
import { describe, expect, it } from 'vitest';
import { EventValidationError, validateEvent } from '../../src/core/event.ts';

const base = {
  occurredAt: '2026-03-01T12:00:00.000Z',
  actor: { type: 'agent', id: 'a' },
  action: 'tool.call',
  outcome: 'success',
};

function pathOf(extra: Record<string, unknown>): string | undefined {
  try {
    validateEvent({ ...base, ...extra }, '/events/2');
  } catch (e) {
    if (e instanceof EventValidationError) return e.path;
    throw e;
  }
  return undefined;
}

describe('Event v1: producer and schemaVersion', () => {
  it('accepts a position, with or without an epoch, and a catalog version', () => {
    const e = validateEvent({
      ...base,
      producer: { stream: 'svc/host-1', seq: 1, epoch: 0 },
      schemaVersion: 2,
    });
    expect(e.producer).toEqual({ stream: 'svc/host-1', seq: 1, epoch: 0 });
    expect(e.schemaVersion).toBe(2);
    expect(
      validateEvent({ ...base, producer: { stream: 's', seq: Number.MAX_SAFE_INTEGER } }).producer?.epoch,
    ).toBeUndefined();
  });

  it.each([
    [{ producer: 'x' }, '/events/2/producer'],
    [{ producer: { seq: 1 } }, '/events/2/producer/stream'],
    [{ producer: { stream: 's' } }, '/events/2/producer/seq'],
    [{ producer: { stream: 's', seq: 0 } }, '/events/2/producer/seq'],
    [{ producer: { stream: 's', seq: 1.5 } }, '/events/2/producer/seq'],
    [{ producer: { stream: 's', seq: 2 ** 53 } }, '/events/2/producer/seq'],
    [{ producer: { stream: 's', seq: '1' } }, '/events/2/producer/seq'],
    [{ producer: { stream: 's', seq: 1, epoch: -1 } }, '/events/2/producer/epoch'],
    [{ producer: { stream: 'has space', seq: 1 } }, '/events/2/producer/stream'],
    [{ producer: { stream: 'x'.repeat(129), seq: 1 } }, '/events/2/producer/stream'],
    [{ producer: { stream: 's', seq: 1, extra: 1 } }, '/events/2/producer/extra'],
    [{ schemaVersion: 0 }, '/events/2/schemaVersion'],
    [{ schemaVersion: 'v1' }, '/events/2/schemaVersion'],
  ])('refuses %j at %s', (extra, path) => {
    expect(pathOf(extra)).toBe(path);
  });
});
