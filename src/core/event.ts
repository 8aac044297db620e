/**
 * Event v1: what a client submits (docs/formats.md §Events and records).
 *
 * Validation is strict and total: every field is checked, unknown fields are
 * refused (a typo like `outcom` must not be silently stored and then missed by
 * an auditor's filter), and every error names the JSON pointer of the field and
 * says what would be accepted, so the API can answer "event 3, actor.type must
 * be one of …". These rules are part of the record format: records are
 * re-validated by offline verifiers, so they may be loosened but never
 * tightened for v1.
 */
import { AnchorlogError } from './errors.ts';
import { isWellFormedUnicode, type JsonObject, type JsonValue, pointer } from './ijson.ts';

export type EventValidationErrorCode = 'INVALID_EVENT' | 'INVALID_BATCH' | 'BATCH_TOO_LARGE';

export class EventValidationError extends AnchorlogError<EventValidationErrorCode> {
  /** JSON pointer of the offending field, e.g. '/events/3/actor/type'. */
  readonly path: string;
  constructor(code: EventValidationErrorCode, path: string, message: string) {
    super(code, message);
    this.path = path;
  }
}

export const ACTOR_TYPES = ['human', 'agent', 'service', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];
export const OUTCOMES = ['success', 'failure', 'denied'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface Principal {
  type: ActorType;
  id: string;
  name?: string;
}
export interface Actor extends Principal {
  /** The principal this actor acts for, e.g. the human an agent works for. */
  onBehalfOf?: Principal;
}
export interface Target {
  type: string;
  id: string;
  name?: string;
}
export interface Changes {
  before?: JsonValue;
  after?: JsonValue;
}
export interface EventContext {
  requestId?: string;
  sessionId?: string;
  traceId?: string;
  ip?: string;
  userAgent?: string;
}
/**
 * Where an event sits in its producer's stream (docs/events.md §Producer
 * streams): `seq` counts 1, 2, 3, … per `stream`, kept by the producer (the
 * SDK numbers it), so ingest can tell which events never arrived. `epoch`
 * (default 0) is bumped when a producer restarts its counter from 1 without
 * its old state: a higher epoch starts the stream afresh.
 */
export interface ProducerPosition {
  stream: string;
  seq: number;
  epoch?: number;
}
export interface AuditEvent {
  id?: string;
  occurredAt: string;
  actor: Actor;
  action: string;
  target?: Target;
  outcome: Outcome;
  changes?: Changes;
  context?: EventContext;
  metadata?: JsonObject;
  /** The catalog version this event was written against (docs/events.md); absent: the newest. */
  schemaVersion?: number;
  producer?: ProducerPosition;
  /**
   * A detached producer signature over the RFC 8785 bytes of this event
   * without this member (docs/producer-signatures.md). Part of the record, so
   * the chain covers it.
   */
  signature?: EventSignature;
}
/** Producer signature algorithms (src/core/producer-key.ts). */
export const SIGNATURE_ALGS = ['Ed25519', 'ES256'] as const;
/** `keyId`: base64url SHA-256 of the key's SPKI; `sig`: base64url of the 64-byte raw signature. */
export interface EventSignature {
  keyId: string;
  alg: (typeof SIGNATURE_ALGS)[number];
  sig: string;
}
/** Alias of AuditEvent. Prefer AuditEvent: a file that forgets to import `Event` gets the DOM type. */
export type Event = AuditEvent;

/**
 * Maximum lengths in UTF-16 code units (an astral character counts 2). The
 * record size (MAX_RECORD_BYTES in ./record.ts, 65,535 bytes) bounds the rest.
 */
export const EVENT_LIMITS = {
  id: 128,
  principalId: 256,
  name: 256,
  action: 128,
  targetType: 128,
  targetId: 512,
  contextId: 256,
  ip: 64,
  userAgent: 1024,
  /** Producer stream ids: visible ASCII, like client ids. */
  stream: 128,
  /** Largest producer seq and epoch, and catalog version: exact in a double. */
  seq: Number.MAX_SAFE_INTEGER,
  /** Nesting allowed inside metadata and changes.before/after. */
  freeformDepth: 32,
} as const;

export const DEFAULT_MAX_BATCH_EVENTS = 1000;

// lowercase identifier segments joined by dots: tool.call, agent.task.submit
const ACTION_RE = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$/;
// Visible ASCII: client ids are idempotency keys, compared byte-for-byte.
const CLIENT_ID_RE = /^[\x21-\x7e]+$/;
// C0 controls and DEL: never in names or ids (they forge lines in text reports).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_RE = /[\x00-\x1f\x7f]/;
const IPV4_RE = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6_CHARS_RE = /^[0-9A-Fa-f:.]+$/;

function fail(path: string, message: string): never {
  throw new EventValidationError('INVALID_EVENT', path, message);
}

function isPlainObject(v: unknown): v is { [k: string]: unknown } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Checks `v` is an object with only `allowed` keys; returns it typed. */
function object(
  v: unknown,
  path: string,
  name: string,
  allowed: readonly string[],
): { [k: string]: unknown } {
  if (!isPlainObject(v)) fail(path, `${name} must be an object`);
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) {
      fail(pointer(path, k), `unknown field ${JSON.stringify(k)} in ${name}; allowed: ${allowed.join(', ')}`);
    }
  }
  return v;
}

interface StringRule {
  max: number;
  /** Reject C0/DEL control characters (default true). */
  noControls?: boolean;
  pattern?: RegExp;
  patternHint?: string;
}

function string(v: unknown, path: string, name: string, rule: StringRule): string {
  if (typeof v !== 'string') fail(path, `${name} must be a string`);
  if (v.length === 0) fail(path, `${name} must not be empty`);
  if (v.length > rule.max) {
    // Say how we count: 200 emoji are 400 code units, and "400 > 256" must not look like a bug.
    const astral = v.length - [...v].length;
    fail(
      path,
      `${name} must be at most ${rule.max} UTF-16 code units (got ${v.length}${astral > 0 ? `; ${astral} characters outside the BMP count 2 each` : ''})`,
    );
  }
  if (!isWellFormedUnicode(v)) fail(path, `${name} contains a lone surrogate`);
  if ((rule.noControls ?? true) && CONTROL_RE.test(v))
    fail(path, `${name} must not contain control characters`);
  if (rule.pattern && !rule.pattern.test(v))
    fail(path, `${name} ${rule.patternHint ?? 'has an invalid format'}`);
  return v;
}

function oneOf<T extends string>(v: unknown, path: string, name: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    fail(path, `${name} must be one of ${values.join('|')}`);
  }
  return v as T;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const RFC3339_UTC_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/**
 * RFC 3339 §5.6 `date-time` restricted to UTC ('Z', uppercase 'T'), years
 * 1970–9999, 1–9 fraction digits, calendar-checked (incl. leap years). Leap
 * seconds (:60) are refused: no JavaScript clock can produce or order them.
 * Returns epoch milliseconds (fraction truncated), or undefined if invalid.
 */
export function parseUtcTimestamp(s: string): number | undefined {
  if (s.length === 24) return parseFixedUtc(s);
  const m = RFC3339_UTC_RE.exec(s);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (year < 1970 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dim = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day < 1 || day > dim) return undefined;
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

const DIGIT_POSITIONS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];

/**
 * parseUtcTimestamp for the one 24-character form its pattern allows,
 * `YYYY-MM-DDTHH:MM:SS.mmmZ` (every receivedAt, most occurredAt), without the
 * regular expression and its captures: the same checks, the same result. The
 * verifiers run it twice per record. test/core/record-fast.test.ts checks it
 * against the pattern.
 */
function parseFixedUtc(s: string): number | undefined {
  if (
    s.charCodeAt(4) !== 0x2d ||
    s.charCodeAt(7) !== 0x2d ||
    s.charCodeAt(10) !== 0x54 ||
    s.charCodeAt(13) !== 0x3a ||
    s.charCodeAt(16) !== 0x3a ||
    s.charCodeAt(19) !== 0x2e ||
    s.charCodeAt(23) !== 0x5a
  )
    return undefined;
  for (const i of DIGIT_POSITIONS) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  const year = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
  const month = digit(s, 5) * 10 + digit(s, 6);
  const day = digit(s, 8) * 10 + digit(s, 9);
  const hour = digit(s, 11) * 10 + digit(s, 12);
  const minute = digit(s, 14) * 10 + digit(s, 15);
  const second = digit(s, 17) * 10 + digit(s, 18);
  if (year < 1970 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dim = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day < 1 || day > dim) return undefined;
  return Date.UTC(
    year,
    month - 1,
    day,
    hour,
    minute,
    second,
    digit(s, 20) * 100 + digit(s, 21) * 10 + digit(s, 22),
  );
}

function digit(s: string, i: number): number {
  return s.charCodeAt(i) - 0x30;
}

function timestamp(v: unknown, path: string, name: string): string {
  if (typeof v !== 'string' || parseUtcTimestamp(v) === undefined) {
    fail(
      path,
      `${name} must be an RFC 3339 UTC timestamp like 2026-03-01T12:00:00.000Z (a real date, 'Z' zone)`,
    );
  }
  return v;
}

function principal(v: unknown, path: string, name: string, nested: boolean): Actor {
  const o = object(v, path, name, nested ? ['type', 'id', 'name'] : ['type', 'id', 'name', 'onBehalfOf']);
  const out: Actor = {
    type: oneOf(o.type, `${path}/type`, `${name}.type`, ACTOR_TYPES),
    id: string(o.id, `${path}/id`, `${name}.id`, { max: EVENT_LIMITS.principalId }),
  };
  if (o.name !== undefined)
    out.name = string(o.name, `${path}/name`, `${name}.name`, { max: EVENT_LIMITS.name });
  if (!nested && o.onBehalfOf !== undefined) {
    out.onBehalfOf = principal(o.onBehalfOf, `${path}/onBehalfOf`, `${name}.onBehalfOf`, true);
  }
  return out;
}

/** A JSON value free of undefined, functions, non-finite numbers, lone surrogates and class instances. */
function jsonValue(v: unknown, path: string, name: string, depthLeft: number): JsonValue {
  switch (typeof v) {
    case 'string':
      if (!isWellFormedUnicode(v)) fail(path, `${name} contains a lone surrogate`);
      return v;
    case 'number':
      if (!Number.isFinite(v)) fail(path, `${name} must be a finite number`);
      return v;
    case 'boolean':
      return v;
    case 'object':
      if (v === null) return null;
      if (depthLeft <= 0) fail(path, `${name} is nested more than ${EVENT_LIMITS.freeformDepth} levels deep`);
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) jsonValue(v[i], pointer(path, i), name, depthLeft - 1);
        return v as JsonValue[];
      }
      if (!isPlainObject(v)) fail(path, `${name} must contain only JSON values`);
      for (const [k, x] of Object.entries(v)) {
        if (!isWellFormedUnicode(k)) fail(pointer(path, k), `${name} has a key with a lone surrogate`);
        jsonValue(x, pointer(path, k), name, depthLeft - 1);
      }
      return v as JsonObject;
    default:
      return fail(path, `${name} must contain only JSON values (found ${typeof v})`);
  }
}

const EVENT_FIELDS = [
  'id',
  'occurredAt',
  'actor',
  'action',
  'target',
  'outcome',
  'changes',
  'context',
  'metadata',
  'schemaVersion',
  'producer',
  'signature',
] as const;
const CONTEXT_FIELDS = ['requestId', 'sessionId', 'traceId', 'ip', 'userAgent'] as const;

function ip(v: unknown, path: string): string {
  const s = string(v, path, 'context.ip', { max: EVENT_LIMITS.ip });
  const ok = IPV4_RE.test(s) || (IPV6_CHARS_RE.test(s) && s.includes(':') && s.split(':').length <= 9);
  if (!ok) fail(path, 'context.ip must be an IPv4 or IPv6 address');
  return s;
}

/**
 * Validate one Event v1 (docs/formats.md §Events and records). `path` is the event's JSON pointer in the
 * request (e.g. '/events/3'), prefixed to every error path. Returns a fresh
 * object holding only the validated fields; `metadata` and `changes` values are
 * the caller's objects (checked, not copied).
 */
export function validateEvent(value: unknown, path = ''): AuditEvent {
  const o = object(value, path, 'event', EVENT_FIELDS);
  for (const required of ['actor', 'action', 'outcome', 'occurredAt'] as const) {
    if (o[required] === undefined) fail(pointer(path, required), `${required} is required`);
  }
  const event: AuditEvent = {
    occurredAt: timestamp(o.occurredAt, `${path}/occurredAt`, 'occurredAt'),
    actor: principal(o.actor, `${path}/actor`, 'actor', false),
    action: string(o.action, `${path}/action`, 'action', {
      max: EVENT_LIMITS.action,
      pattern: ACTION_RE,
      patternHint: 'must be dot-separated lowercase identifiers, e.g. tool.call or agent.task.submit',
    }),
    outcome: oneOf(o.outcome, `${path}/outcome`, 'outcome', OUTCOMES),
  };
  if (o.id !== undefined) {
    event.id = string(o.id, `${path}/id`, 'id', {
      max: EVENT_LIMITS.id,
      pattern: CLIENT_ID_RE,
      patternHint: 'must be printable ASCII without spaces',
    });
  }
  if (o.target !== undefined) {
    const p = `${path}/target`;
    const t = object(o.target, p, 'target', ['type', 'id', 'name']);
    const target: Target = {
      type: string(t.type, `${p}/type`, 'target.type', { max: EVENT_LIMITS.targetType }),
      id: string(t.id, `${p}/id`, 'target.id', { max: EVENT_LIMITS.targetId }),
    };
    if (t.name !== undefined)
      target.name = string(t.name, `${p}/name`, 'target.name', { max: EVENT_LIMITS.name });
    event.target = target;
  }
  if (o.changes !== undefined) {
    const p = `${path}/changes`;
    const c = object(o.changes, p, 'changes', ['before', 'after']);
    if (c.before === undefined && c.after === undefined) fail(p, 'changes must have before and/or after');
    const changes: Changes = {};
    const depth = EVENT_LIMITS.freeformDepth;
    if (c.before !== undefined) changes.before = jsonValue(c.before, `${p}/before`, 'changes.before', depth);
    if (c.after !== undefined) changes.after = jsonValue(c.after, `${p}/after`, 'changes.after', depth);
    event.changes = changes;
  }
  if (o.context !== undefined) {
    const p = `${path}/context`;
    const c = object(o.context, p, 'context', CONTEXT_FIELDS);
    const context: EventContext = {};
    for (const k of ['requestId', 'sessionId', 'traceId'] as const) {
      if (c[k] !== undefined)
        context[k] = string(c[k], `${p}/${k}`, `context.${k}`, { max: EVENT_LIMITS.contextId });
    }
    if (c.ip !== undefined) context.ip = ip(c.ip, `${p}/ip`);
    if (c.userAgent !== undefined) {
      context.userAgent = string(c.userAgent, `${p}/userAgent`, 'context.userAgent', {
        max: EVENT_LIMITS.userAgent,
      });
    }
    event.context = context;
  }
  if (o.schemaVersion !== undefined)
    event.schemaVersion = positiveInt(o.schemaVersion, pointer(path, 'schemaVersion'), 'schemaVersion', 1);
  if (o.producer !== undefined) {
    const p = pointer(path, 'producer');
    const c = object(o.producer, p, 'producer', ['stream', 'seq', 'epoch']);
    if (c.stream === undefined) fail(pointer(p, 'stream'), 'producer.stream is required');
    if (c.seq === undefined) fail(pointer(p, 'seq'), 'producer.seq is required');
    event.producer = {
      stream: string(c.stream, pointer(p, 'stream'), 'producer.stream', {
        max: EVENT_LIMITS.stream,
        pattern: CLIENT_ID_RE,
        patternHint: 'must be printable ASCII without spaces',
      }),
      seq: positiveInt(c.seq, pointer(p, 'seq'), 'producer.seq', 1),
    };
    if (c.epoch !== undefined)
      event.producer.epoch = positiveInt(c.epoch, pointer(p, 'epoch'), 'producer.epoch', 0);
  }
  if (o.signature !== undefined) event.signature = signature(o.signature, pointer(path, 'signature'));
  if (o.metadata !== undefined) {
    const p = `${path}/metadata`;
    if (!isPlainObject(o.metadata)) fail(p, 'metadata must be an object');
    event.metadata = jsonValue(o.metadata, p, 'metadata', EVENT_LIMITS.freeformDepth) as JsonObject;
  }
  return event;
}

// Unpadded base64url of a SHA-256 digest (43) and of a 64-byte signature (86), with the
// unused low bits of the last character zero: exactly one text per byte string, so a
// signature cannot be re-encoded into a second valid record (docs/producer-signatures.md).
const KEY_ID_TEXT_RE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
const SIG_TEXT_RE = /^[A-Za-z0-9_-]{85}[AQgw]$/;

/** Shape only: whether the signature verifies is ingest's and the verifier's business. */
function signature(v: unknown, path: string): EventSignature {
  const o = object(v, path, 'signature', ['keyId', 'alg', 'sig']);
  for (const k of ['keyId', 'alg', 'sig'] as const)
    if (o[k] === undefined) fail(pointer(path, k), `signature.${k} is required`);
  if (typeof o.keyId !== 'string' || !KEY_ID_TEXT_RE.test(o.keyId))
    fail(
      pointer(path, 'keyId'),
      'signature.keyId must be a key id: 43 base64url characters (SHA-256 of the SPKI)',
    );
  const alg = oneOf(o.alg, pointer(path, 'alg'), 'signature.alg', SIGNATURE_ALGS);
  if (typeof o.sig !== 'string' || !SIG_TEXT_RE.test(o.sig))
    fail(
      pointer(path, 'sig'),
      'signature.sig must be 86 base64url characters (a 64-byte raw signature, unpadded)',
    );
  return { keyId: o.keyId, alg, sig: o.sig };
}

function positiveInt(v: unknown, path: string, name: string, min: 0 | 1): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    fail(path, `${name} must be an integer from ${min} to ${EVENT_LIMITS.seq}`);
  return v;
}

export interface BatchOptions {
  /** Default 1000. */
  maxEvents?: number;
}

/**
 * Validate a POST body `{ "events": [ … ] }` (docs/api.md §Routes). Empty batches and
 * unknown top-level fields are INVALID_BATCH; more than `maxEvents` events is
 * BATCH_TOO_LARGE (checked before any event is validated). The first invalid
 * event throws INVALID_EVENT with its path, e.g. '/events/3/actor/type'.
 */
export function validateBatch(value: unknown, options: BatchOptions = {}): AuditEvent[] {
  const max = options.maxEvents ?? DEFAULT_MAX_BATCH_EVENTS;
  if (!isPlainObject(value))
    throw new EventValidationError('INVALID_BATCH', '', 'body must be an object { "events": [...] }');
  for (const k of Object.keys(value)) {
    if (k !== 'events') {
      throw new EventValidationError(
        'INVALID_BATCH',
        pointer('', k),
        `unknown field ${JSON.stringify(k)}; expected only "events"`,
      );
    }
  }
  const events = value.events;
  if (!Array.isArray(events))
    throw new EventValidationError('INVALID_BATCH', '/events', 'events must be an array');
  if (events.length === 0)
    throw new EventValidationError('INVALID_BATCH', '/events', 'events must not be empty');
  if (events.length > max) {
    throw new EventValidationError(
      'BATCH_TOO_LARGE',
      '/events',
      `at most ${max} events per request (got ${events.length})`,
    );
  }
  return events.map((e, i) => validateEvent(e, pointer('/events', i)));
}
