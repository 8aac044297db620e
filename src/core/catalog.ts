/**
 * The event catalog (docs/events.md): one versioned document per action, whose
 * `eventSchema` (JSON Schema 2020-12) says what an event with that action must
 * carry beyond Event v1 (src/core/event.ts), e.g. `tool.call` needs
 * `metadata.tool`, `metadata.server`, `metadata.argumentsDigest`.
 *
 * Catalog documents come from admins (the admin API) as well as from the
 * repository (catalog/*.json), so they are untrusted input to a validator that
 * runs on the ingest hot path. What a document may contain is therefore an
 * allow-list, checked BEFORE ajv ever sees it (each refusal has a stable code):
 *  - size ≤ MAX_DOCUMENT_BYTES, schema nesting ≤ MAX_SCHEMA_DEPTH, schema
 *    nodes ≤ MAX_SCHEMA_NODES: compile time and validator size stay bounded;
 *  - only the keywords in SCHEMA_KEYWORDS (no `$id`, `$anchor`, `$dynamicRef`,
 *    `uniqueItems` — quadratic in the array length —, no unknown keywords);
 *  - `$ref` only to `#/$defs/...` inside the same schema: nothing is ever
 *    fetched, and no schema can name another document;
 *  - `pattern`/`patternProperties` keys ≤ 256 characters, compiled with the
 *    `u` flag, with no backreferences, no lookaround and no quantified group
 *    that itself contains a quantifier or an alternation (star height ≤ 1):
 *    the shapes that backtrack exponentially are refused, the rest match in
 *    polynomial time over strings that the record size already bounds;
 *  - `format` only from FORMATS (ours, not ajv-formats' regexes).
 * ajv runs in strict mode on top (unknown keywords, ambiguous types refused),
 * with `allErrors` so a `warn` receipt lists every problem, and no `$data`,
 * no `loadSchema`.
 *
 * Compiled validators are cached by the SHA-256 of the schema's canonical
 * bytes (bounded LRU, CACHE_MAX): a catalog reloaded with the same documents
 * (every cold start, every catalog refresh) compiles nothing again.
 *
 * Versions: every version of an action stays in the catalog. An event names
 * the version it was written against in `schemaVersion` (Event v1, optional);
 * without it the newest version applies. So producers move from v1 to v2 one
 * at a time while both are accepted, and an auditor re-validates an old record
 * against the version it was accepted under.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { toHex } from './bytes.ts';
import { canonicalBytes } from './canonical.ts';
import { AnchorlogError } from './errors.ts';
import { type AuditEvent, EventValidationError, parseUtcTimestamp, validateEvent } from './event.ts';
import { sha256 } from './hash.ts';
import { type JsonObject, type JsonValue, pointer } from './ijson.ts';

export type CatalogErrorCode =
  | 'INVALID_DOCUMENT'
  | 'DOCUMENT_TOO_LARGE'
  | 'SCHEMA_TOO_DEEP'
  | 'SCHEMA_TOO_COMPLEX'
  | 'FORBIDDEN_KEYWORD'
  | 'REMOTE_REF'
  | 'UNSAFE_PATTERN'
  | 'UNKNOWN_FORMAT'
  | 'SCHEMA_COMPILE'
  | 'EXAMPLE_INVALID'
  | 'DUPLICATE_VERSION';

export class CatalogError extends AnchorlogError<CatalogErrorCode> {
  /** JSON pointer into the catalog document. */
  readonly path: string;
  constructor(code: CatalogErrorCode, path: string, message: string) {
    super(code, message);
    this.path = path;
  }
}

export const CATALOG_SCHEMA_ID = 'anchorlog.catalog/v1';
export const JSON_SCHEMA_2020 = 'https://json-schema.org/draft/2020-12/schema';
export const MAX_DOCUMENT_BYTES = 64 * 1024;
export const MAX_SCHEMA_DEPTH = 16;
export const MAX_SCHEMA_NODES = 1000;
export const MAX_PATTERN_LENGTH = 256;
export const MAX_EXAMPLES = 8;
/** Problems reported per event (warn receipts stay small). */
export const MAX_PROBLEMS_PER_EVENT = 10;
const CACHE_MAX = 512;

/** OCSF mapping of an action (https://schema.ocsf.io): class, activity and profiles. */
export interface OcsfMapping {
  readonly category: string;
  readonly class: string;
  readonly classUid: number;
  readonly activity: string;
  readonly activityId: number;
  readonly profiles?: readonly string[];
}

export interface CatalogEntry {
  readonly schema: typeof CATALOG_SCHEMA_ID;
  readonly action: string;
  readonly version: number;
  readonly title: string;
  readonly description: string;
  readonly ocsf: OcsfMapping;
  /** JSON Schema 2020-12 over the whole event (as Event v1 validated it). */
  readonly eventSchema: JsonObject;
  /** Events that validate: documentation, and proof at load time that the schema can be met. */
  readonly examples: readonly JsonObject[];
  readonly deprecated?: boolean;
}

/** One way an event fails the catalog. `path` is a JSON pointer into the request, e.g. /events/3/metadata/tool. */
export interface CatalogProblem {
  readonly path: string;
  /** `UNKNOWN_ACTION`, `UNKNOWN_VERSION`, or the JSON Schema keyword that failed (`required`, `type`, …). */
  readonly code: string;
  readonly message: string;
}

// --- the document allow-list ---

/** Keywords whose value is a schema. */
const SUBSCHEMA = new Set([
  'items',
  'additionalProperties',
  'not',
  'if',
  'then',
  'else',
  'propertyNames',
  'contains',
]);
/** Keywords whose value is an array of schemas. */
const SUBSCHEMA_ARRAY = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
/** Keywords whose value maps names to schemas. */
const SUBSCHEMA_MAP = new Set(['properties', 'patternProperties', '$defs']);
/** Keywords whose value is data or a scalar (not walked as a schema). */
const LEAF = new Set([
  '$schema',
  '$comment',
  '$ref',
  'title',
  'description',
  'examples',
  'default',
  'deprecated',
  'type',
  'enum',
  'const',
  'required',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minContains',
  'maxContains',
  'dependentRequired',
]);
export const SCHEMA_KEYWORDS: readonly string[] = [
  ...SUBSCHEMA,
  ...SUBSCHEMA_ARRAY,
  ...SUBSCHEMA_MAP,
  ...LEAF,
];

/** Formats a schema may use, implemented here (no format regexes from elsewhere on the hot path). */
const FORMATS: Record<string, (s: string) => boolean> = {
  'date-time': (s) => parseUtcTimestamp(s) !== undefined,
  // A lowercase hex SHA-256 with its algorithm, as `argumentsDigest` carries it.
  'sha256-digest': (s) => /^sha256:[0-9a-f]{64}$/.test(s),
  uri: (s) => {
    try {
      return s.length <= 2048 && new URL(s).protocol.length > 1;
    } catch {
      return false;
    }
  },
};

function fail(code: CatalogErrorCode, path: string, message: string): never {
  throw new CatalogError(code, path, message);
}

function isObject(v: unknown): v is { [k: string]: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Refuses regular expressions that can backtrack exponentially: backreferences,
 * lookaround, and a quantified group containing a quantifier or alternation
 * (`(a+)+`, `(a|a)*`, `(\w+\s?)*`). Conservative by design: a refused safe
 * pattern can be rewritten, an accepted unsafe one stalls ingest.
 */
export function unsafePatternReason(source: string): string | undefined {
  if (source.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    new RegExp(source, 'u');
  } catch (e) {
    return `not a valid regular expression: ${(e as Error).message}`;
  }
  // Per open group: does it contain a quantifier or an alternation?
  const stack: { risky: boolean }[] = [{ risky: false }];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    const top = stack[stack.length - 1] as { risky: boolean };
    if (c === '\\') {
      const n = source[i + 1] ?? '';
      if (/[1-9k]/.test(n)) return 'backreferences are not allowed';
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      continue;
    }
    if (c === '(') {
      if (
        source.startsWith('(?=', i) ||
        source.startsWith('(?!', i) ||
        source.startsWith('(?<=', i) ||
        source.startsWith('(?<!', i)
      )
        return 'lookaround is not allowed';
      stack.push({ risky: false });
      continue;
    }
    if (c === '|') {
      top.risky = true;
      continue;
    }
    const quantifier = c === '*' || c === '+' || c === '?' || c === '{';
    if (c === ')') {
      const group = stack.pop() as { risky: boolean };
      const next = source[i + 1] ?? '';
      const quantified = next === '*' || next === '+' || next === '{' || next === '?';
      if (quantified && group.risky && next !== '?')
        return 'a repeated group contains a quantifier or an alternation (exponential backtracking)';
      const parent = stack[stack.length - 1] as { risky: boolean };
      if (group.risky || quantified) parent.risky = true;
      continue;
    }
    if (quantifier) top.risky = true;
  }
  return undefined;
}

interface WalkState {
  nodes: number;
}

/** Checks one schema node against the allow-list; `path` points into the document. */
function walkSchema(v: unknown, path: string, depth: number, st: WalkState): void {
  if (depth > MAX_SCHEMA_DEPTH)
    fail('SCHEMA_TOO_DEEP', path, `schemas nest at most ${MAX_SCHEMA_DEPTH} levels`);
  if (++st.nodes > MAX_SCHEMA_NODES)
    fail('SCHEMA_TOO_COMPLEX', path, `a schema has at most ${MAX_SCHEMA_NODES} subschemas`);
  if (typeof v === 'boolean') return;
  if (!isObject(v)) fail('INVALID_DOCUMENT', path, 'a schema must be an object or a boolean');
  for (const [k, x] of Object.entries(v)) {
    const p = pointer(path, k);
    if (SUBSCHEMA.has(k)) walkSchema(x, p, depth + 1, st);
    else if (SUBSCHEMA_ARRAY.has(k)) {
      if (!Array.isArray(x)) fail('INVALID_DOCUMENT', p, `${k} must be an array of schemas`);
      for (let i = 0; i < x.length; i++) walkSchema(x[i], pointer(p, i), depth + 1, st);
    } else if (SUBSCHEMA_MAP.has(k)) {
      if (!isObject(x)) fail('INVALID_DOCUMENT', p, `${k} must be an object of schemas`);
      for (const [name, s] of Object.entries(x)) {
        if (k === 'patternProperties') {
          const why = unsafePatternReason(name);
          if (why) fail('UNSAFE_PATTERN', pointer(p, name), `pattern refused: ${why}`);
        }
        walkSchema(s, pointer(p, name), depth + 1, st);
      }
    } else if (LEAF.has(k)) {
      if (k === '$ref') {
        if (typeof x !== 'string' || !/^#\/\$defs\/[A-Za-z0-9_.-]+$/.test(x))
          fail('REMOTE_REF', p, '$ref may only point into this schema: #/$defs/<name>');
      } else if (k === 'pattern') {
        if (typeof x !== 'string') fail('INVALID_DOCUMENT', p, 'pattern must be a string');
        const why = unsafePatternReason(x);
        if (why) fail('UNSAFE_PATTERN', p, `pattern refused: ${why}`);
      } else if (k === 'format') {
        if (typeof x !== 'string' || !(x in FORMATS))
          fail('UNKNOWN_FORMAT', p, `format must be one of ${Object.keys(FORMATS).join(', ')}`);
      } else if (k === '$schema') {
        if (path !== '/eventSchema' || x !== JSON_SCHEMA_2020)
          fail('INVALID_DOCUMENT', p, `$schema must be ${JSON_SCHEMA_2020}, at the top only`);
      }
    } else {
      fail(
        'FORBIDDEN_KEYWORD',
        p,
        k === '$id' || k === '$anchor' || k === '$dynamicRef' || k === '$dynamicAnchor'
          ? `${k} is not allowed: a catalog schema stands alone and references only its own $defs`
          : k === 'uniqueItems'
            ? 'uniqueItems is not allowed (its cost is quadratic in the array length)'
            : `keyword ${JSON.stringify(k)} is not allowed; allowed: ${SCHEMA_KEYWORDS.join(', ')}`,
      );
    }
  }
}

const ACTION_RE = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$/;

function str(o: { [k: string]: unknown }, k: string, max: number): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    fail('INVALID_DOCUMENT', `/${k}`, `${k} must be a non-empty string of at most ${max} characters`);
  return v;
}

function int(o: { [k: string]: unknown }, k: string, p: string, min: number, max: number): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    fail('INVALID_DOCUMENT', p, `${k} must be an integer from ${min} to ${max}`);
  return v;
}

const DOC_FIELDS = [
  'schema',
  'action',
  'version',
  'title',
  'description',
  'ocsf',
  'eventSchema',
  'examples',
  'deprecated',
];
const OCSF_FIELDS = ['category', 'class', 'classUid', 'activity', 'activityId', 'profiles'];

/**
 * Checks an untrusted catalog document and compiles its schema (so a document
 * that ajv would refuse, or whose examples fail it, is refused here, with a
 * code). Returns the entry, ready for a Catalog.
 */
export function parseCatalogDocument(value: unknown): CatalogEntry {
  if (!isObject(value)) fail('INVALID_DOCUMENT', '', 'a catalog document must be an object');
  let size: number;
  try {
    size = canonicalBytes(value as JsonValue).length;
  } catch (e) {
    return fail('INVALID_DOCUMENT', '', `not a JSON value: ${(e as Error).message}`);
  }
  if (size > MAX_DOCUMENT_BYTES)
    fail('DOCUMENT_TOO_LARGE', '', `a catalog document is at most ${MAX_DOCUMENT_BYTES} bytes (got ${size})`);
  for (const k of Object.keys(value))
    if (!DOC_FIELDS.includes(k))
      fail('INVALID_DOCUMENT', pointer('', k), `unknown field ${JSON.stringify(k)}`);
  if (value.schema !== CATALOG_SCHEMA_ID)
    fail('INVALID_DOCUMENT', '/schema', `schema must be ${CATALOG_SCHEMA_ID}`);
  const action = str(value, 'action', 128);
  if (!ACTION_RE.test(action))
    fail('INVALID_DOCUMENT', '/action', 'action must be dot-separated lowercase identifiers');
  const version = int(value, 'version', '/version', 1, 1_000_000);
  const title = str(value, 'title', 200);
  const description = str(value, 'description', 4000);
  const o = value.ocsf;
  if (!isObject(o)) fail('INVALID_DOCUMENT', '/ocsf', 'ocsf must be an object');
  for (const k of Object.keys(o))
    if (!OCSF_FIELDS.includes(k))
      fail('INVALID_DOCUMENT', pointer('/ocsf', k), `unknown field ${JSON.stringify(k)}`);
  const ocsf: OcsfMapping = {
    category: str(o, 'category', 100),
    class: str(o, 'class', 100),
    classUid: int(o, 'classUid', '/ocsf/classUid', 0, 999_999),
    activity: str(o, 'activity', 100),
    activityId: int(o, 'activityId', '/ocsf/activityId', 0, 99),
    ...(o.profiles !== undefined ? { profiles: profiles(o.profiles) } : {}),
  };
  if (value.deprecated !== undefined && typeof value.deprecated !== 'boolean')
    fail('INVALID_DOCUMENT', '/deprecated', 'deprecated must be a boolean');
  const schema = value.eventSchema;
  if (!isObject(schema)) fail('INVALID_DOCUMENT', '/eventSchema', 'eventSchema must be a JSON Schema object');
  if (schema.$schema !== JSON_SCHEMA_2020)
    fail('INVALID_DOCUMENT', '/eventSchema/$schema', `eventSchema.$schema must be ${JSON_SCHEMA_2020}`);
  walkSchema(schema, '/eventSchema', 0, { nodes: 0 });
  const validate = compile(schema as JsonObject);
  const examples = value.examples;
  if (!Array.isArray(examples) || examples.length === 0 || examples.length > MAX_EXAMPLES)
    fail('INVALID_DOCUMENT', '/examples', `examples must hold 1 to ${MAX_EXAMPLES} events`);
  examples.forEach((ex, i) => {
    const p = pointer('/examples', i);
    try {
      validateEvent(ex, p);
    } catch (e) {
      if (e instanceof EventValidationError) fail('EXAMPLE_INVALID', e.path, e.message);
      throw e;
    }
    if ((ex as { action?: unknown }).action !== action)
      fail('EXAMPLE_INVALID', `${p}/action`, `must be ${action}`);
    const problems = schemaProblems(validate, ex, p);
    if (problems.length > 0)
      fail('EXAMPLE_INVALID', (problems[0] as CatalogProblem).path, (problems[0] as CatalogProblem).message);
  });
  return {
    schema: CATALOG_SCHEMA_ID,
    action,
    version,
    title,
    description,
    ocsf,
    eventSchema: schema as JsonObject,
    examples: examples as JsonObject[],
    ...(value.deprecated !== undefined ? { deprecated: value.deprecated as boolean } : {}),
  };
}

function profiles(v: unknown): string[] {
  if (!Array.isArray(v) || v.length > 8 || !v.every((p) => typeof p === 'string' && /^[a-z_]{1,64}$/.test(p)))
    fail(
      'INVALID_DOCUMENT',
      '/ocsf/profiles',
      'profiles must be at most 8 OCSF profile names (e.g. ai_operation)',
    );
  return v as string[];
}

// --- compilation and its cache ---

let ajv: Ajv2020 | undefined;
const cache = new Map<string, ValidateFunction>();

function ajvInstance(): Ajv2020 {
  if (!ajv) {
    ajv = new Ajv2020({
      strict: true,
      // `required: ["target"]` without restating target's shape is fine: Event v1 checked it.
      strictRequired: false,
      allErrors: true,
      // Regexes are compiled with the `u` flag (the same one unsafePatternReason checks).
      unicodeRegExp: true,
      // Never resolve anything outside the schema; `$data` references off.
      $data: false,
      validateSchema: true,
      addUsedSchema: false,
      formats: FORMATS,
      code: { optimize: true },
    });
  }
  return ajv;
}

/** The compiled validator of `schema` (cached by content). SCHEMA_COMPILE if ajv refuses it. */
export function compile(schema: JsonObject): ValidateFunction {
  const key = toHex(sha256(canonicalBytes(schema)));
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // LRU: move to the back
    cache.set(key, hit);
    return hit;
  }
  let fn: ValidateFunction;
  try {
    fn = ajvInstance().compile(schema);
  } catch (e) {
    return fail('SCHEMA_COMPILE', '/eventSchema', `JSON Schema refused: ${(e as Error).message}`);
  }
  cache.set(key, fn);
  if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value as string);
  return fn;
}

/** Validators compiled so far (the cache's size), for tests and the benchmark. */
export function compiledValidators(): number {
  return cache.size;
}

function schemaProblems(validate: ValidateFunction, event: unknown, base: string): CatalogProblem[] {
  if (validate(event)) return [];
  return (validate.errors ?? []).slice(0, MAX_PROBLEMS_PER_EVENT).map((e) => problemOf(e, base));
}

function problemOf(e: ErrorObject, base: string): CatalogProblem {
  let path = base + e.instancePath;
  const params = e.params as { missingProperty?: string; additionalProperty?: string };
  if (e.keyword === 'required' && params.missingProperty !== undefined)
    path = pointer(path, params.missingProperty);
  if (e.keyword === 'additionalProperties' && params.additionalProperty !== undefined)
    path = pointer(path, params.additionalProperty);
  const field = path.slice(base.length) || '/';
  const message = e.keyword === 'required' ? `${field} is required` : `${field} ${e.message ?? 'is invalid'}`;
  return { path, code: e.keyword, message };
}

/** A set of catalog entries, every version of every action. Immutable. */
export class Catalog {
  readonly #byAction = new Map<string, CatalogEntry[]>();
  readonly #validators = new Map<CatalogEntry, ValidateFunction>();

  constructor(entries: readonly CatalogEntry[]) {
    for (const e of entries) {
      const list = this.#byAction.get(e.action) ?? [];
      if (list.some((x) => x.version === e.version))
        fail('DUPLICATE_VERSION', '/version', `${e.action} v${e.version} appears twice`);
      list.push(e);
      list.sort((a, b) => a.version - b.version);
      this.#byAction.set(e.action, list);
      this.#validators.set(e, compile(e.eventSchema));
    }
  }

  /** Parses and checks untrusted documents (throws CatalogError with the document's index in the path). */
  static fromDocuments(docs: readonly unknown[]): Catalog {
    return new Catalog(
      docs.map((d, i) => {
        try {
          return parseCatalogDocument(d);
        } catch (e) {
          if (e instanceof CatalogError) throw new CatalogError(e.code, `/${i}${e.path}`, e.message);
          throw e;
        }
      }),
    );
  }

  /** Every entry, by action then version. */
  entries(): CatalogEntry[] {
    return [...this.#byAction.keys()].sort().flatMap((a) => this.#byAction.get(a) as CatalogEntry[]);
  }

  actions(): string[] {
    return [...this.#byAction.keys()].sort();
  }

  /** Every version of `action`, oldest first. */
  versions(action: string): readonly CatalogEntry[] {
    return this.#byAction.get(action) ?? [];
  }

  /** `version` of `action`, or its newest when `version` is undefined. */
  entry(action: string, version?: number): CatalogEntry | undefined {
    const list = this.#byAction.get(action);
    if (!list) return undefined;
    return version === undefined ? list[list.length - 1] : list.find((e) => e.version === version);
  }

  /**
   * What is wrong with `event` (already valid Event v1) under this catalog;
   * empty when nothing is. `path` is the event's pointer in the request.
   */
  check(event: AuditEvent, path = ''): CatalogProblem[] {
    const list = this.#byAction.get(event.action);
    if (!list)
      return [
        {
          path: `${path}/action`,
          code: 'UNKNOWN_ACTION',
          message: `action ${JSON.stringify(event.action)} is not in the event catalog (GET /v1/catalog)`,
        },
      ];
    const entry = this.entry(event.action, event.schemaVersion);
    if (!entry)
      return [
        {
          path: `${path}/schemaVersion`,
          code: 'UNKNOWN_VERSION',
          message: `${event.action} has no catalog version ${event.schemaVersion} (versions: ${list.map((e) => e.version).join(', ')})`,
        },
      ];
    return schemaProblems(this.#validators.get(entry) as ValidateFunction, event, path);
  }
}
