import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuditEvent,
  EventValidationError,
  type EventValidationErrorCode,
  parseUtcTimestamp,
  validateBatch,
  validateEvent,
} from '../../src/core/event.ts';
import { parseJson } from '../../src/core/ijson.ts';

const minimal = (): Record<string, unknown> => ({
  occurredAt: '2026-03-01T12:00:00.000Z',
  actor: { type: 'agent', id: 'agent-1' },
  action: 'tool.call',
  outcome: 'success',
});

const full = (): Record<string, unknown> => ({
  id: 'evt-01HZX3',
  occurredAt: '2026-03-01T12:00:00.123456Z',
  actor: {
    type: 'agent',
    id: 'agent-1',
    name: 'Planner',
    onBehalfOf: { type: 'human', id: 'u-7', name: 'Ada' },
  },
  action: 'agent.task.submit',
  target: { type: 'tool', id: 'search', name: 'Web search' },
  outcome: 'denied',
  changes: { before: { role: 'viewer' }, after: { role: 'admin' } },
  context: {
    requestId: 'req-1',
    sessionId: 's-1',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    ip: '2001:db8::1',
    userAgent: 'sdk/1.0 (linux)',
  },
  metadata: { tokens: 12, tags: ['a'], nested: { x: null } },
});

function failure(f: () => unknown): EventValidationError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EventValidationError);
    return e as EventValidationError;
  }
  throw new Error('expected an EventValidationError');
}

function expectInvalid(
  mutate: (e: Record<string, unknown>) => void,
  path: string,
  code: EventValidationErrorCode = 'INVALID_EVENT',
) {
  const e = full();
  mutate(e);
  const err = failure(() => validateEvent(e, '/events/3'));
  expect(err.code).toBe(code);
  expect(err.path).toBe(`/events/3${path}`);
}

describe('validateEvent: valid events', () => {
  it('accepts the minimal event', () => {
    expect(validateEvent(minimal(), '')).toEqual(minimal());
  });
  it('accepts the full event and returns exactly its fields', () => {
    const v: AuditEvent = validateEvent(full(), '/events/0');
    expect(v).toEqual(full());
  });
  it('accepts events parsed by the strict parser', () => {
    const text = JSON.stringify(full());
    expect(validateEvent(parseJson(text), '')).toEqual(full());
  });
  it.each(['login', 'a.b', 'config.update', 'access.grant', 'tool_v2.call_x'])('action %s', (action) => {
    expect(validateEvent({ ...minimal(), action }).action).toBe(action);
  });
  it.each(['192.0.2.1', '0.0.0.0', '255.255.255.255', '::1', '2001:db8::ff00:42:8329', '::ffff:192.0.2.1'])(
    'ip %s',
    (ip) => {
      expect(validateEvent({ ...minimal(), context: { ip } }).context?.ip).toBe(ip);
    },
  );
  it('the returned event does not share the top-level object', () => {
    const input = minimal();
    const out = validateEvent(input);
    (input.actor as Record<string, unknown>).id = 'changed';
    expect(out.actor.id).toBe('agent-1');
  });
});

describe('validateEvent: each rule, with its path', () => {
  it.each<[string, (e: Record<string, unknown>) => void, string]>([
    ['not an object', (e) => Object.assign(e, { actor: 'x' }), '/actor'],
    ['unknown top-level field', (e) => Object.assign(e, { outcom: 'success' }), '/outcom'],
    ['missing actor', (e) => delete e.actor, '/actor'],
    ['missing action', (e) => delete e.action, '/action'],
    ['missing outcome', (e) => delete e.outcome, '/outcome'],
    ['missing occurredAt', (e) => delete e.occurredAt, '/occurredAt'],
    ['actor.type', (e) => Object.assign(e.actor as object, { type: 'robot' }), '/actor/type'],
    ['actor.id missing', (e) => delete (e.actor as Record<string, unknown>).id, '/actor/id'],
    ['actor.id empty', (e) => Object.assign(e.actor as object, { id: '' }), '/actor/id'],
    ['actor.id too long', (e) => Object.assign(e.actor as object, { id: 'x'.repeat(257) }), '/actor/id'],
    ['actor.id control', (e) => Object.assign(e.actor as object, { id: 'a\nb' }), '/actor/id'],
    ['actor.id number', (e) => Object.assign(e.actor as object, { id: 7 }), '/actor/id'],
    [
      'actor.name lone surrogate',
      (e) => Object.assign(e.actor as object, { name: 'a\uD800' }),
      '/actor/name',
    ],
    ['actor unknown field', (e) => Object.assign(e.actor as object, { role: 'x' }), '/actor/role'],
    [
      'onBehalfOf.type',
      (e) => Object.assign(e.actor as object, { onBehalfOf: { type: 'x', id: 'y' } }),
      '/actor/onBehalfOf/type',
    ],
    [
      'nested onBehalfOf',
      (e) =>
        Object.assign(e.actor as object, {
          onBehalfOf: { type: 'human', id: 'y', onBehalfOf: { type: 'human', id: 'z' } },
        }),
      '/actor/onBehalfOf/onBehalfOf',
    ],
    ['action uppercase', (e) => Object.assign(e, { action: 'Tool.call' }), '/action'],
    ['action empty segment', (e) => Object.assign(e, { action: 'tool..call' }), '/action'],
    ['action trailing dot', (e) => Object.assign(e, { action: 'tool.' }), '/action'],
    ['action digit start', (e) => Object.assign(e, { action: '1tool' }), '/action'],
    ['action spaces', (e) => Object.assign(e, { action: 'tool call' }), '/action'],
    ['action too long', (e) => Object.assign(e, { action: `a.${'b'.repeat(127)}` }), '/action'],
    ['outcome', (e) => Object.assign(e, { outcome: 'ok' }), '/outcome'],
    ['outcome case', (e) => Object.assign(e, { outcome: 'Success' }), '/outcome'],
    ['id spaces', (e) => Object.assign(e, { id: 'a b' }), '/id'],
    ['id too long', (e) => Object.assign(e, { id: 'x'.repeat(129) }), '/id'],
    ['id non-ASCII', (e) => Object.assign(e, { id: 'é' }), '/id'],
    ['target not object', (e) => Object.assign(e, { target: [] }), '/target'],
    ['target.type missing', (e) => Object.assign(e, { target: { id: 'x' } }), '/target/type'],
    ['target.id missing', (e) => Object.assign(e, { target: { type: 'x' } }), '/target/id'],
    ['target unknown', (e) => Object.assign(e, { target: { type: 'x', id: 'y', z: 1 } }), '/target/z'],
    ['changes empty', (e) => Object.assign(e, { changes: {} }), '/changes'],
    ['changes unknown', (e) => Object.assign(e, { changes: { before: 1, during: 2 } }), '/changes/during'],
    ['changes NaN', (e) => Object.assign(e, { changes: { after: { n: Number.NaN } } }), '/changes/after/n'],
    ['context unknown', (e) => Object.assign(e, { context: { requestID: 'x' } }), '/context/requestID'],
    ['context.ip garbage', (e) => Object.assign(e, { context: { ip: 'localhost' } }), '/context/ip'],
    ['context.ip bad v4', (e) => Object.assign(e, { context: { ip: '256.1.1.1' } }), '/context/ip'],
    [
      'context.userAgent long',
      (e) => Object.assign(e, { context: { userAgent: 'x'.repeat(1025) } }),
      '/context/userAgent',
    ],
    ['metadata array', (e) => Object.assign(e, { metadata: [] }), '/metadata'],
    [
      'metadata undefined value',
      (e) => Object.assign(e, { metadata: { a: [1, undefined] } }),
      '/metadata/a/1',
    ],
    ['metadata function', (e) => Object.assign(e, { metadata: { f: () => 1 } }), '/metadata/f'],
    ['metadata Date', (e) => Object.assign(e, { metadata: { d: new Date(0) } }), '/metadata/d'],
    [
      'metadata Infinity',
      (e) => Object.assign(e, { metadata: { x: Number.POSITIVE_INFINITY } }),
      '/metadata/x',
    ],
    [
      'metadata key with slash',
      (e) => Object.assign(e, { metadata: { 'a/b': { c: 1n } } }),
      '/metadata/a~1b/c',
    ],
    ['occurredAt not a string', (e) => Object.assign(e, { occurredAt: 1700000000000 }), '/occurredAt'],
    ['occurredAt no zone', (e) => Object.assign(e, { occurredAt: '2026-03-01T12:00:00' }), '/occurredAt'],
    [
      'occurredAt offset',
      (e) => Object.assign(e, { occurredAt: '2026-03-01T12:00:00+01:00' }),
      '/occurredAt',
    ],
  ])('%s', (_label, mutate, path) => expectInvalid(mutate, path));

  it('metadata nested too deep', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { d: deep };
    const err = failure(() => validateEvent({ ...minimal(), metadata: deep }));
    expect(err.code).toBe('INVALID_EVENT');
    expect(err.path.startsWith('/metadata/d/d')).toBe(true);
  });

  it.each([null, undefined, 1, 'event', [], new Date(0)])('rejects non-object event %p', (v) => {
    expect(failure(() => validateEvent(v, '/events/0')).path).toBe('/events/0');
  });

  it('counts string limits in UTF-16 code units and says so: 128 emoji fill actor.id, 129 do not', () => {
    expect(
      validateEvent({ ...minimal(), actor: { type: 'agent', id: '😀'.repeat(128) } }).actor.id,
    ).toHaveLength(256);
    const e = failure(() => validateEvent({ ...minimal(), actor: { type: 'agent', id: '😀'.repeat(129) } }));
    expect(e.path).toBe('/actor/id');
    expect(e.message).toContain('at most 256 UTF-16 code units (got 258; 129 characters outside the BMP');
  });

  it('says what is allowed', () => {
    const e = failure(() => validateEvent({ ...minimal(), actor: { type: 'robot', id: 'x' } }, '/events/3'));
    expect(e.message).toContain('human|agent|service|system');
  });
});

describe('parseUtcTimestamp (RFC 3339 §5.6, UTC only)', () => {
  it.each([
    ['2026-03-01T12:00:00Z', Date.UTC(2026, 2, 1, 12)],
    ['2026-03-01T12:00:00.5Z', Date.UTC(2026, 2, 1, 12, 0, 0, 500)],
    ['2026-03-01T12:00:00.123456789Z', Date.UTC(2026, 2, 1, 12, 0, 0, 123)],
    ['2024-02-29T23:59:59.999Z', Date.UTC(2024, 1, 29, 23, 59, 59, 999)],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)],
    ['1970-01-01T00:00:00Z', 0],
    ['9999-12-31T23:59:59.999Z', 253402300799999],
  ])('%s', (s, ms) => expect(parseUtcTimestamp(s)).toBe(ms));

  it.each([
    '2026-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-01T00:00:00Z',
    '2026-01-00T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T23:60:00Z',
    '2016-12-31T23:59:60Z',
    '2026-01-01t00:00:00Z',
    '2026-01-01T00:00:00z',
    '2026-01-01 00:00:00Z',
    '2026-01-01T00:00:00.Z',
    '2026-01-01T00:00:00.1234567890Z',
    '2026-01-01T00:00Z',
    '26-01-01T00:00:00Z',
    '1969-12-31T23:59:59Z',
    '+02026-01-01T00:00:00Z',
    '2026-1-01T00:00:00Z',
    '２０２６-01-01T00:00:00Z',
    '',
  ])('rejects %j', (s) => expect(parseUtcTimestamp(s)).toBeUndefined());

  it('agrees with Date on every valid instant (property)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(0), max: new Date(253402300799999), noInvalidDate: true }), (d) => {
        expect(parseUtcTimestamp(d.toISOString())).toBe(d.getTime());
      }),
    );
  });
});

describe('validateBatch', () => {
  it('returns the validated events in order', () => {
    const events = [minimal(), full()];
    expect(validateBatch({ events })).toEqual(events);
  });

  it('points at the failing event and field', () => {
    const events = [minimal(), minimal(), minimal(), { ...minimal(), actor: { type: 'robot', id: 'x' } }];
    const e = failure(() => validateBatch({ events }));
    expect(e.code).toBe('INVALID_EVENT');
    expect(e.path).toBe('/events/3/actor/type');
  });

  it.each<[unknown, string]>([
    [null, ''],
    [[], ''],
    ['events', ''],
    [{}, '/events'],
    [{ events: {} }, '/events'],
    [{ events: [] }, '/events'],
    [{ events: [{}], extra: 1 }, '/extra'],
  ])('INVALID_BATCH for %j', (body, path) => {
    const e = failure(() => validateBatch(body));
    expect(e.code).toBe('INVALID_BATCH');
    expect(e.path).toBe(path);
  });

  it('BATCH_TOO_LARGE above the default 1000 and a configured max', () => {
    const events = Array.from({ length: 1001 }, minimal);
    expect(failure(() => validateBatch({ events })).code).toBe('BATCH_TOO_LARGE');
    expect(validateBatch({ events: events.slice(0, 1000) })).toHaveLength(1000);
    expect(failure(() => validateBatch({ events: events.slice(0, 3) }, { maxEvents: 2 })).code).toBe(
      'BATCH_TOO_LARGE',
    );
  });

  it('never throws anything but EventValidationError on arbitrary JSON (fuzz)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (v) => {
        try {
          validateBatch({ events: [v] });
        } catch (e) {
          expect(e).toBeInstanceOf(EventValidationError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
