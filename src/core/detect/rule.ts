/**
 * Rule documents, format `anchorlog.rule/v1` (docs/detection.md "Rule
 * documents"): parsing and validation of untrusted input.
 *
 * Strict and total like Event v1 (src/core/event.ts): every field is checked,
 * unknown fields are refused (a typo such as `treshold` must not silently
 * turn an aggregation off), and every error is a RuleError with the JSON
 * pointer of the field. Input may be text (strict I-JSON, parsed by our own
 * parser: duplicate keys and lone surrogates are refused, which JSON.parse
 * accepts) or an already parsed value (the CLI's YAML path). Whatever the
 * input, the only exception is a RuleError.
 *
 * Expressions are checked here only as strings; compileRule (./compile.ts)
 * compiles them and reports positions inside them.
 */
import { EVENT_LIMITS, parseUtcTimestamp } from '../event.ts';
import { CanonicalJsonError, isWellFormedUnicode, parseJson, pointer, utf8Length } from '../ijson.ts';
import { isValidLogId } from '../names.ts';
import { parseDuration } from './duration.ts';
import { positionOf, RuleError } from './errors.ts';

export const RULE_SCHEMA = 'anchorlog.rule/v1';
export const MAX_RULE_DOCUMENT_BYTES = 64 * 1024;
/** JSON nesting of a rule document: the deepest legal one is 3 levels (`/suppress/0/from`). */
const MAX_DOCUMENT_DEPTH = 16;

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const RULE_KINDS = ['match', 'threshold', 'first_seen', 'absence', 'requires'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export const AGGREGATES = ['count', 'sum', 'distinct'] as const;
export type Aggregate = (typeof AGGREGATES)[number];
export const WINDOW_TYPES = ['sliding', 'tumbling'] as const;
export type WindowType = (typeof WINDOW_TYPES)[number];
export const THRESHOLD_OPS = ['>', '>='] as const;
export type ThresholdOp = (typeof THRESHOLD_OPS)[number];

const RULE_ID_RE = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const DESTINATION_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const LABEL_KEY_RE = /^[a-z0-9][a-z0-9._/-]{0,62}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_RE = /[\x00-\x1f\x7f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: descriptions may hold newlines and tabs, nothing else
const CONTROL_NO_NL_RE = /[\x00-\x08\x0b-\x1f\x7f]/;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Ranges of durations and counts (docs/detection.md). */
export const RULE_LIMITS = {
  titleChars: 200,
  descriptionChars: 4000,
  ownerChars: 128,
  runbookChars: 2048,
  logs: 100,
  destinations: 10,
  labels: 20,
  labelValueChars: 256,
  suppressWindows: 50,
  suppressReasonChars: 256,
  windowMs: { min: 1000, max: 7 * DAY },
  lookbackMs: { min: HOUR, max: 400 * DAY },
  learnMs: { min: MINUTE, max: 400 * DAY },
  absenceForMs: { min: MINUTE, max: 30 * DAY },
  expectKeys: 1000,
  expectKeyChars: 512,
  dedupWindowMs: { min: 1000, max: 30 * DAY },
  distinctMax: 10_000,
  baselineWindows: { min: 2, max: 168 },
  baselineFactorMax: 1000,
  withinMs: { min: MINUTE, max: 400 * DAY },
} as const;

export interface ThresholdSpec {
  readonly aggregate: Aggregate;
  /** CEL; required for sum and distinct. */
  readonly field?: string;
  /** CEL; absent: one group. */
  readonly groupBy?: string;
  readonly window: string;
  readonly windowType: WindowType;
  readonly op: ThresholdOp;
  readonly value: number;
  /**
   * Compare with the group's own history too: the aggregate must also exceed
   * `factor` times the mean of the group's previous `windows` windows (empty
   * windows count as 0); `value` is then the floor. Tumbling windows, count
   * and sum only. No alert until the group has that much history.
   */
  readonly baseline?: BaselineSpec;
}
export interface BaselineSpec {
  readonly windows: number;
  readonly factor: number;
}
/**
 * A record matching the rule needs an earlier record matching `precursor`
 * with the same key within `within` (an approval before a spend, a change
 * ticket before a grant); without one it is an alert.
 */
export interface RequiresSpec {
  readonly precursor: string;
  /** CEL on the rule's records; absent: one key. */
  readonly key?: string;
  /** CEL on precursor records; absent: `key`. */
  readonly precursorKey?: string;
  readonly within: string;
}
export interface FirstSeenSpec {
  readonly value: string;
  readonly key?: string;
  readonly lookback: string;
  readonly learn?: string;
}
export interface AbsenceSpec {
  readonly for: string;
  readonly key?: string;
  readonly expect?: readonly string[];
}
export interface DedupSpec {
  readonly window: string;
  readonly key?: string;
}
export interface SuppressWindow {
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

/** A validated rule document, as stored and as recorded in the `system` log. */
export interface RuleDocument {
  readonly schema: typeof RULE_SCHEMA;
  readonly id: string;
  readonly version: number;
  readonly title: string;
  readonly description?: string;
  readonly severity: Severity;
  readonly owner: string;
  readonly runbook: string;
  readonly enabled: boolean;
  readonly logs: readonly string[];
  readonly match: string;
  readonly kind: RuleKind;
  readonly threshold?: ThresholdSpec;
  readonly first_seen?: FirstSeenSpec;
  readonly absence?: AbsenceSpec;
  readonly requires?: RequiresSpec;
  readonly dedup?: DedupSpec;
  readonly suppress?: readonly SuppressWindow[];
  readonly destinations?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
}

const TOP_FIELDS = [
  'schema',
  'id',
  'version',
  'title',
  'description',
  'severity',
  'owner',
  'runbook',
  'enabled',
  'logs',
  'match',
  'kind',
  'threshold',
  'first_seen',
  'absence',
  'requires',
  'dedup',
  'suppress',
  'destinations',
  'labels',
] as const;

type Obj = { [k: string]: unknown };

function fail(
  code: 'INVALID_FIELD' | 'MISSING_FIELD' | 'UNKNOWN_FIELD',
  path: string,
  message: string,
): never {
  throw new RuleError(code, path, message);
}

function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function object(v: unknown, path: string, allowed: readonly string[], required: readonly string[]): Obj {
  if (!isPlainObject(v)) fail('INVALID_FIELD', path, 'must be an object');
  for (const k of Object.keys(v))
    if (!allowed.includes(k))
      fail(
        'UNKNOWN_FIELD',
        pointer(path, k),
        `unknown field ${JSON.stringify(k)}; allowed: ${allowed.join(', ')}`,
      );
  for (const k of required)
    if (v[k] === undefined) fail('MISSING_FIELD', pointer(path, k), `${k} is required`);
  return v;
}

function text(
  v: unknown,
  path: string,
  max: number,
  opts: { multiline?: boolean; pattern?: RegExp; hint?: string } = {},
): string {
  if (typeof v !== 'string') fail('INVALID_FIELD', path, 'must be a string');
  if (v.length === 0) fail('INVALID_FIELD', path, 'must not be empty');
  if (v.length > max) fail('INVALID_FIELD', path, `must be at most ${max} characters (got ${v.length})`);
  if (!isWellFormedUnicode(v)) fail('INVALID_FIELD', path, 'contains a lone surrogate');
  if ((opts.multiline ? CONTROL_NO_NL_RE : CONTROL_RE).test(v))
    fail('INVALID_FIELD', path, 'must not contain control characters');
  if (opts.pattern && !opts.pattern.test(v))
    fail('INVALID_FIELD', path, opts.hint ?? 'has an invalid format');
  return v;
}

/** An expression field: a string, not checked further here (compileRule does). */
function expression(v: unknown, path: string): string {
  if (typeof v !== 'string') fail('INVALID_FIELD', path, 'must be a CEL expression (a string)');
  if (!isWellFormedUnicode(v)) fail('INVALID_FIELD', path, 'contains a lone surrogate');
  return v;
}

function oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
    fail('INVALID_FIELD', path, `must be one of ${values.join(' | ')}`);
  return v as T;
}

function duration(v: unknown, path: string, range: { min: number; max: number }): string {
  const ms = parseDuration(v);
  if (ms === undefined)
    fail(
      'INVALID_FIELD',
      path,
      'must be a duration: a positive integer and one unit s, m, h or d (e.g. 15m)',
    );
  if (ms < range.min || ms > range.max)
    fail('INVALID_FIELD', path, `must be between ${range.min / 1000} s and ${range.max / DAY} days`);
  return v as string;
}

function list<T>(
  v: unknown,
  path: string,
  max: number,
  item: (x: unknown, p: string) => T,
  unique = true,
): T[] {
  if (!Array.isArray(v)) fail('INVALID_FIELD', path, 'must be a list');
  if (v.length > max) fail('INVALID_FIELD', path, `must have at most ${max} entries (got ${v.length})`);
  const out = v.map((x, i) => item(x, pointer(path, i)));
  if (unique) {
    const seen = new Set<string>();
    out.forEach((x, i) => {
      const k = JSON.stringify(x);
      if (seen.has(k)) fail('INVALID_FIELD', pointer(path, i), 'is listed twice');
      seen.add(k);
    });
  }
  return out;
}

function threshold(v: unknown, path: string): ThresholdSpec {
  const o = object(
    v,
    path,
    ['aggregate', 'field', 'groupBy', 'window', 'windowType', 'op', 'value', 'baseline'],
    ['aggregate', 'window', 'windowType', 'op', 'value'],
  );
  const aggregate = oneOf(o.aggregate, pointer(path, 'aggregate'), AGGREGATES);
  if (aggregate !== 'count' && o.field === undefined)
    fail('MISSING_FIELD', pointer(path, 'field'), `field is required for aggregate ${aggregate}`);
  if (aggregate === 'count' && o.field !== undefined)
    fail('INVALID_FIELD', pointer(path, 'field'), 'count counts records; field applies to sum and distinct');
  const value = o.value;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    fail('INVALID_FIELD', pointer(path, 'value'), 'must be a finite number ≥ 0');
  if (aggregate === 'distinct' && (!Number.isInteger(value) || value > RULE_LIMITS.distinctMax))
    fail(
      'INVALID_FIELD',
      pointer(path, 'value'),
      `a distinct threshold must be an integer ≤ ${RULE_LIMITS.distinctMax}`,
    );
  let baseline: BaselineSpec | undefined;
  if (o.baseline !== undefined) {
    const p = pointer(path, 'baseline');
    const b = object(o.baseline, p, ['windows', 'factor'], ['windows', 'factor']);
    const w = b.windows;
    const lim = RULE_LIMITS.baselineWindows;
    if (typeof w !== 'number' || !Number.isInteger(w) || w < lim.min || w > lim.max)
      fail('INVALID_FIELD', pointer(p, 'windows'), `must be an integer from ${lim.min} to ${lim.max}`);
    const f = b.factor;
    if (typeof f !== 'number' || !Number.isFinite(f) || f <= 1 || f > RULE_LIMITS.baselineFactorMax)
      fail(
        'INVALID_FIELD',
        pointer(p, 'factor'),
        `must be a number above 1 and at most ${RULE_LIMITS.baselineFactorMax}`,
      );
    if (o.windowType !== 'tumbling')
      fail('INVALID_FIELD', p, 'a baseline compares whole windows: it needs windowType tumbling');
    if (aggregate === 'distinct')
      fail('INVALID_FIELD', p, 'a baseline applies to count and sum (distinct values are capped per window)');
    baseline = { windows: w, factor: f };
  }
  return {
    aggregate,
    ...(baseline !== undefined ? { baseline } : {}),
    ...(o.field !== undefined ? { field: expression(o.field, pointer(path, 'field')) } : {}),
    ...(o.groupBy !== undefined ? { groupBy: expression(o.groupBy, pointer(path, 'groupBy')) } : {}),
    window: duration(o.window, pointer(path, 'window'), RULE_LIMITS.windowMs),
    windowType: oneOf(o.windowType, pointer(path, 'windowType'), WINDOW_TYPES),
    op: oneOf(o.op, pointer(path, 'op'), THRESHOLD_OPS),
    value,
  };
}

function firstSeen(v: unknown, path: string): FirstSeenSpec {
  const o = object(v, path, ['value', 'key', 'lookback', 'learn'], ['value', 'lookback']);
  return {
    value: expression(o.value, pointer(path, 'value')),
    ...(o.key !== undefined ? { key: expression(o.key, pointer(path, 'key')) } : {}),
    lookback: duration(o.lookback, pointer(path, 'lookback'), RULE_LIMITS.lookbackMs),
    ...(o.learn !== undefined
      ? { learn: duration(o.learn, pointer(path, 'learn'), RULE_LIMITS.learnMs) }
      : {}),
  };
}

function absence(v: unknown, path: string): AbsenceSpec {
  const o = object(v, path, ['for', 'key', 'expect'], ['for']);
  if (o.expect !== undefined && o.key === undefined)
    fail('INVALID_FIELD', pointer(path, 'expect'), 'expect lists keys, so it needs key');
  return {
    for: duration(o.for, pointer(path, 'for'), RULE_LIMITS.absenceForMs),
    ...(o.key !== undefined ? { key: expression(o.key, pointer(path, 'key')) } : {}),
    ...(o.expect !== undefined
      ? {
          expect: list(o.expect, pointer(path, 'expect'), RULE_LIMITS.expectKeys, (x, p) =>
            text(x, p, RULE_LIMITS.expectKeyChars),
          ),
        }
      : {}),
  };
}

function requires(v: unknown, path: string): RequiresSpec {
  const o = object(v, path, ['precursor', 'key', 'precursorKey', 'within'], ['precursor', 'within']);
  if (o.precursorKey !== undefined && o.key === undefined)
    fail('INVALID_FIELD', pointer(path, 'precursorKey'), 'precursorKey pairs with key');
  return {
    precursor: expression(o.precursor, pointer(path, 'precursor')),
    ...(o.key !== undefined ? { key: expression(o.key, pointer(path, 'key')) } : {}),
    ...(o.precursorKey !== undefined
      ? { precursorKey: expression(o.precursorKey, pointer(path, 'precursorKey')) }
      : {}),
    within: duration(o.within, pointer(path, 'within'), RULE_LIMITS.withinMs),
  };
}

function suppressWindow(v: unknown, path: string): SuppressWindow {
  const o = object(v, path, ['from', 'to', 'reason'], ['from', 'to', 'reason']);
  const at = (x: unknown, p: string): string => {
    if (typeof x !== 'string' || parseUtcTimestamp(x) === undefined)
      fail('INVALID_FIELD', p, 'must be an RFC 3339 UTC timestamp like 2026-03-01T12:00:00.000Z');
    return x;
  };
  const from = at(o.from, pointer(path, 'from'));
  const to = at(o.to, pointer(path, 'to'));
  if ((parseUtcTimestamp(to) as number) <= (parseUtcTimestamp(from) as number))
    fail('INVALID_FIELD', pointer(path, 'to'), 'must be after from');
  return { from, to, reason: text(o.reason, pointer(path, 'reason'), RULE_LIMITS.suppressReasonChars) };
}

/**
 * Validates a rule document. `input` is the document's text or bytes (strict
 * I-JSON), or an already parsed value. Throws RuleError only.
 */
export function parseRuleDocument(input: string | Uint8Array | unknown): RuleDocument {
  let value: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const size = typeof input === 'string' ? utf8Length(input) : input.length;
    if (size > MAX_RULE_DOCUMENT_BYTES)
      throw new RuleError(
        'DOCUMENT_TOO_LARGE',
        '',
        `rule document is ${size} bytes; at most ${MAX_RULE_DOCUMENT_BYTES}`,
      );
    try {
      value = parseJson(input, { maxBytes: MAX_RULE_DOCUMENT_BYTES, maxDepth: MAX_DOCUMENT_DEPTH });
    } catch (err) {
      if (!(err instanceof CanonicalJsonError)) throw err;
      // Bytes input reports byte offsets; the position is exact for ASCII documents.
      const textForm = typeof input === 'string' ? input : new TextDecoder().decode(input);
      const position = err.offset === undefined ? undefined : positionOf(textForm, err.offset);
      throw new RuleError('INVALID_JSON', err.path, `not a valid rule document: ${err.message}`, position, {
        cause: err,
      });
    }
  }
  return validate(value);
}

function validate(value: unknown): RuleDocument {
  const o = object(value, '', TOP_FIELDS, [
    'schema',
    'id',
    'version',
    'title',
    'severity',
    'owner',
    'runbook',
    'match',
    'kind',
  ]);
  if (o.schema !== RULE_SCHEMA) fail('INVALID_FIELD', '/schema', `must be ${JSON.stringify(RULE_SCHEMA)}`);
  const id = text(o.id, '/id', 128, { pattern: RULE_ID_RE, hint: 'must match [a-z0-9][a-z0-9._-]{0,127}' });
  const version = o.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1 || version > 2 ** 31 - 1)
    fail('INVALID_FIELD', '/version', 'must be an integer from 1 to 2147483647');
  const runbook = text(o.runbook, '/runbook', RULE_LIMITS.runbookChars);
  if (!isHttpsUrl(runbook)) fail('INVALID_FIELD', '/runbook', 'must be an https:// URL');
  if (o.enabled !== undefined && typeof o.enabled !== 'boolean')
    fail('INVALID_FIELD', '/enabled', 'must be true or false');
  const kind = oneOf(o.kind, '/kind', RULE_KINDS);
  for (const k of ['threshold', 'first_seen', 'absence', 'requires'] as const) {
    if (k === kind && o[k] === undefined) fail('MISSING_FIELD', `/${k}`, `kind ${kind} needs a ${k} block`);
    if (k !== kind && o[k] !== undefined)
      fail('INVALID_FIELD', `/${k}`, `a ${k} block belongs to kind ${k}, not ${kind}`);
  }
  if (kind === 'absence' && o.dedup !== undefined)
    fail('INVALID_FIELD', '/dedup', 'an absence fires once per silence; dedup does not apply to it');
  const logs =
    o.logs === undefined
      ? ['*']
      : list(o.logs, '/logs', RULE_LIMITS.logs, (x, p) => {
          if (x !== '*' && !isValidLogId(x)) fail('INVALID_FIELD', p, 'must be a log id or "*"');
          return x as string;
        });
  if (Array.isArray(o.logs) && o.logs.length === 0)
    fail('INVALID_FIELD', '/logs', 'must name at least one log or "*"');
  const doc: RuleDocument = {
    schema: RULE_SCHEMA,
    id,
    version,
    title: text(o.title, '/title', RULE_LIMITS.titleChars),
    ...(o.description !== undefined
      ? {
          description: text(o.description, '/description', RULE_LIMITS.descriptionChars, { multiline: true }),
        }
      : {}),
    severity: oneOf(o.severity, '/severity', SEVERITIES),
    owner: text(o.owner, '/owner', RULE_LIMITS.ownerChars),
    runbook,
    enabled: o.enabled ?? true,
    logs,
    match: expression(o.match, '/match'),
    kind,
    ...(kind === 'threshold' ? { threshold: threshold(o.threshold, '/threshold') } : {}),
    ...(kind === 'first_seen' ? { first_seen: firstSeen(o.first_seen, '/first_seen') } : {}),
    ...(kind === 'absence' ? { absence: absence(o.absence, '/absence') } : {}),
    ...(kind === 'requires' ? { requires: requires(o.requires, '/requires') } : {}),
    ...(o.dedup !== undefined ? { dedup: dedup(o.dedup, '/dedup') } : {}),
    ...(o.suppress !== undefined
      ? { suppress: list(o.suppress, '/suppress', RULE_LIMITS.suppressWindows, suppressWindow) }
      : {}),
    ...(o.destinations !== undefined
      ? {
          destinations: list(o.destinations, '/destinations', RULE_LIMITS.destinations, (x, p) =>
            text(x, p, 63, { pattern: DESTINATION_RE, hint: 'must match [a-z0-9][a-z0-9-]{0,62}' }),
          ),
        }
      : {}),
    ...(o.labels !== undefined ? { labels: labels(o.labels, '/labels') } : {}),
  };
  return doc;
}

function dedup(v: unknown, path: string): DedupSpec {
  const o = object(v, path, ['window', 'key'], ['window']);
  return {
    window: duration(o.window, pointer(path, 'window'), RULE_LIMITS.dedupWindowMs),
    ...(o.key !== undefined ? { key: expression(o.key, pointer(path, 'key')) } : {}),
  };
}

function labels(v: unknown, path: string): Record<string, string> {
  if (!isPlainObject(v)) fail('INVALID_FIELD', path, 'must be an object of strings');
  const entries = Object.entries(v);
  if (entries.length > RULE_LIMITS.labels)
    fail('INVALID_FIELD', path, `must have at most ${RULE_LIMITS.labels} entries`);
  const out: Record<string, string> = {};
  for (const [k, x] of entries) {
    const p = pointer(path, k);
    if (!LABEL_KEY_RE.test(k)) fail('INVALID_FIELD', p, 'label names must match [a-z0-9][a-z0-9._/-]{0,62}');
    out[k] = text(x, p, RULE_LIMITS.labelValueChars);
  }
  return out;
}

function isHttpsUrl(s: string): boolean {
  if (!s.startsWith('https://')) return false;
  try {
    return new URL(s).protocol === 'https:';
  } catch {
    return false;
  }
}

/** Record-level name limits rules compare against (so a key can always hold an actor id). */
export const KEY_MAX_CHARS = Math.max(1024, EVENT_LIMITS.targetId * 2);
