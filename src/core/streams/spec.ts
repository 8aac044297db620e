/**
 * Log streams (docs/streams.md): per log, the sealed records delivered to a
 * SIEM or a bucket, at least once, in log order, the leaf index as the cursor.
 * This module parses the operator's definitions (ANCHORLOG_STREAMS, read once
 * by src/config.ts) and holds no secret: a stream that needs a credential
 * names it (`secret`: a Secrets Manager name or ARN), and the value is read at
 * cold start through the SecretSource port, as alert destinations are
 * (src/core/deliver/destinations.ts).
 *
 *   splunk-hec  url (the HEC base, https), secret → the HEC token; index?, sourcetype?, source?, ack?
 *   datadog     url (default the US1 logs intake), secret → the API key; service?, ddtags?
 *   webhook     url (https), secret → `whsec_…` (Standard Webhooks)
 *   s3          bucket, prefix? — NDJSON objects named by leaf range (no secret: the role's grant)
 *
 * Pure: parsing only.
 */
import { AnchorlogError } from '../errors.ts';
import { isValidLogId } from '../record.ts';

export type StreamConfigErrorCode =
  /** The document does not parse or has the wrong shape; the message names the JSON path. */
  | 'INVALID_STREAMS'
  /** A secret value where only a secret's name belongs. */
  | 'SECRET_IN_CONFIG';

export class StreamConfigError extends AnchorlogError<StreamConfigErrorCode> {}

export const STREAM_KINDS = ['splunk-hec', 'datadog', 'webhook', 's3'] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

export const STREAM_NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const MAX_STREAMS = 50;
export const DATADOG_US1_INTAKE = 'https://http-intake.logs.datadoghq.com';
export const HEC_EVENT_PATH = '/services/collector/event';
export const HEC_ACK_PATH = '/services/collector/ack';
export const DATADOG_LOGS_PATH = '/api/v2/logs';

/**
 * Per-request limits, by kind: the receiver's documented ceiling and our
 * default. Datadog's logs intake: at most 1,000 entries and 5 MB uncompressed
 * per request (docs.datadoghq.com, "Send logs"). Splunk HEC: the server's
 * `max_content_length` (Splunk Cloud advises batches of at most 1 MB).
 * Webhooks: receivers commonly cap bodies at 1 MB. S3: an object per chunk.
 */
export const STREAM_LIMITS: Readonly<
  Record<StreamKind, { maxEvents: number; maxBytes: number; defaultEvents: number; defaultBytes: number }>
> = {
  'splunk-hec': {
    maxEvents: 10_000,
    maxBytes: 100 * 1024 * 1024,
    defaultEvents: 500,
    defaultBytes: 1_000_000,
  },
  datadog: { maxEvents: 1000, maxBytes: 5_000_000, defaultEvents: 500, defaultBytes: 4_500_000 },
  webhook: { maxEvents: 10_000, maxBytes: 10 * 1024 * 1024, defaultEvents: 200, defaultBytes: 1_000_000 },
  s3: {
    maxEvents: 100_000,
    maxBytes: 64 * 1024 * 1024,
    defaultEvents: 10_000,
    defaultBytes: 16 * 1024 * 1024,
  },
};

/** Attempts of one chunk before it is dead-lettered (the stream stays blocked on it: docs/streams.md). */
export const DEFAULT_STREAM_MAX_ATTEMPTS = 8;

export interface StreamFilter {
  /** Deliver only records whose action is one of these or starts with `<prefix>.`; empty: every action. */
  readonly includeActions: readonly string[];
  /** Never deliver records whose action is one of these or starts with `<prefix>.` (wins over include). */
  readonly excludeActions: readonly string[];
  /** Dotted paths removed from each delivered document (`event.context`, `submitter`). */
  readonly dropFields: readonly string[];
}

interface StreamBase {
  readonly name: string;
  readonly logId: string;
  readonly filter: StreamFilter;
  readonly maxEvents: number;
  readonly maxBytes: number;
  readonly maxAttempts: number;
}

export type StreamSpec =
  | (StreamBase & {
      readonly kind: 'splunk-hec';
      readonly url: string;
      readonly secret: string;
      readonly index?: string;
      readonly sourcetype: string;
      readonly source?: string;
      /** Indexer acknowledgement: a chunk counts as delivered once HEC says it is indexed. */
      readonly ack: boolean;
    })
  | (StreamBase & {
      readonly kind: 'datadog';
      readonly url: string;
      readonly secret: string;
      readonly service: string;
      readonly ddtags?: string;
    })
  | (StreamBase & { readonly kind: 'webhook'; readonly url: string; readonly secret: string })
  | (StreamBase & { readonly kind: 's3'; readonly bucket: string; readonly prefix: string });

const SECRET_REF_RE = /^[A-Za-z0-9/_+=.@:-]{1,2048}$/;
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_RE = /^[A-Za-z0-9!_.*'()/-]{0,512}$/;
const ACTION_PREFIX_RE = /^[A-Za-z0-9_.:-]{1,128}$/;
const FIELD_PATH_RE = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7}$/;
const SPLUNK_META_RE = /^[A-Za-z0-9_.:-]{1,128}$/;
/** A document without these could not be proved or ordered by its receiver. */
const KEPT_FIELDS = new Set(['logId', 'index', 'leafHash', 'receivedAt']);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function fail(path: string, message: string, code: StreamConfigErrorCode = 'INVALID_STREAMS'): never {
  throw new StreamConfigError(code, `ANCHORLOG_STREAMS${path}: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function only(o: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) fail(`${path}.${k}`, `unknown field; allowed here: ${allowed.join(', ')}`);
}

/** https, or http to a loopback host (the local stack's receivers); no credentials, query or fragment. */
function endpoint(raw: unknown, path: string): string {
  if (typeof raw !== 'string' || raw.length > 2048) fail(path, 'must be a URL of at most 2,048 characters');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return fail(path, 'is not a URL');
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname)))
    fail(path, 'must be https:// (http:// only to 127.0.0.1, [::1] or localhost)');
  if (u.username !== '' || u.password !== '')
    fail(path, 'must not carry credentials (name a secret instead)', 'SECRET_IN_CONFIG');
  if (u.search !== '' || u.hash !== '') fail(path, 'must not have a ?query or #fragment');
  return raw.replace(/\/+$/, '');
}

function secretRef(o: Record<string, unknown>, path: string): string {
  const s = o.secret;
  if (typeof s !== 'string' || !SECRET_REF_RE.test(s))
    fail(`${path}.secret`, 'must name a secret (a Secrets Manager name or ARN)');
  // HEC tokens are GUIDs, Datadog API keys 32 hex digits, webhook secrets whsec_…: values, not names.
  if (
    s.startsWith('whsec_') ||
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s) ||
    /^[0-9a-f]{32}$/i.test(s)
  )
    fail(
      `${path}.secret`,
      'looks like a secret value: put the value in Secrets Manager and name the secret here',
      'SECRET_IN_CONFIG',
    );
  return s;
}

function stringList(raw: unknown, path: string, re: RegExp, what: string): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > 100) fail(path, `must be a list of at most 100 ${what}`);
  return raw.map((v, i) => {
    if (typeof v !== 'string' || !re.test(v)) fail(`${path}[${i}]`, `must be ${what}`);
    return v;
  });
}

function filter(raw: unknown, path: string): StreamFilter {
  if (raw === undefined) return { includeActions: [], excludeActions: [], dropFields: [] };
  if (!isObject(raw)) fail(path, 'must be an object {includeActions?, excludeActions?, dropFields?}');
  only(raw, path, ['includeActions', 'excludeActions', 'dropFields']);
  const dropFields = stringList(raw.dropFields, `${path}.dropFields`, FIELD_PATH_RE, 'a dotted field path');
  for (const [i, f] of dropFields.entries())
    if (KEPT_FIELDS.has(f))
      fail(`${path}.dropFields[${i}]`, `${f} is always delivered (receivers order and prove records by it)`);
  return {
    includeActions: stringList(
      raw.includeActions,
      `${path}.includeActions`,
      ACTION_PREFIX_RE,
      'an action prefix',
    ),
    excludeActions: stringList(
      raw.excludeActions,
      `${path}.excludeActions`,
      ACTION_PREFIX_RE,
      'an action prefix',
    ),
    dropFields,
  };
}

function positiveInt(raw: unknown, path: string, max: number, dflt: number): number {
  if (raw === undefined) return dflt;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > max)
    fail(path, `must be an integer from 1 to ${max}`);
  return raw;
}

function optionalMeta(raw: unknown, path: string): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !SPLUNK_META_RE.test(raw)) fail(path, 'must be 1-128 of [A-Za-z0-9_.:-]');
  return raw;
}

const COMMON = ['name', 'logId', 'kind', 'filter', 'maxEvents', 'maxBytes', 'maxAttempts'];

function stream(raw: unknown, path: string): StreamSpec {
  if (!isObject(raw)) fail(path, 'must be an object');
  for (const k of ['token', 'apiKey', 'api_key', 'signingSecret', 'password'])
    if (k in raw)
      fail(
        `${path}.${k}`,
        'secret values never go in the configuration: use `secret` (a secret name)',
        'SECRET_IN_CONFIG',
      );
  const name = raw.name;
  if (typeof name !== 'string' || !STREAM_NAME_RE.test(name))
    fail(`${path}.name`, 'must match [a-z0-9][a-z0-9-]{0,62}');
  const logId = raw.logId;
  if (typeof logId !== 'string' || !isValidLogId(logId)) fail(`${path}.logId`, 'must be a log id');
  const kind = raw.kind;
  if (typeof kind !== 'string' || !(STREAM_KINDS as readonly string[]).includes(kind))
    fail(`${path}.kind`, `must be one of ${STREAM_KINDS.join(', ')}`);
  const limits = STREAM_LIMITS[kind as StreamKind];
  const base: StreamBase = {
    name,
    logId,
    filter: filter(raw.filter, `${path}.filter`),
    maxEvents: positiveInt(raw.maxEvents, `${path}.maxEvents`, limits.maxEvents, limits.defaultEvents),
    maxBytes: positiveInt(raw.maxBytes, `${path}.maxBytes`, limits.maxBytes, limits.defaultBytes),
    maxAttempts: positiveInt(raw.maxAttempts, `${path}.maxAttempts`, 100, DEFAULT_STREAM_MAX_ATTEMPTS),
  };
  switch (kind as StreamKind) {
    case 'splunk-hec': {
      only(raw, path, [...COMMON, 'url', 'secret', 'index', 'sourcetype', 'source', 'ack']);
      if (raw.ack !== undefined && typeof raw.ack !== 'boolean') fail(`${path}.ack`, 'must be true or false');
      const index = optionalMeta(raw.index, `${path}.index`);
      const source = optionalMeta(raw.source, `${path}.source`);
      return {
        ...base,
        kind: 'splunk-hec',
        url: endpoint(raw.url, `${path}.url`),
        secret: secretRef(raw, path),
        ...(index !== undefined ? { index } : {}),
        sourcetype: optionalMeta(raw.sourcetype, `${path}.sourcetype`) ?? 'anchorlog:record',
        ...(source !== undefined ? { source } : {}),
        ack: raw.ack === true,
      };
    }
    case 'datadog': {
      only(raw, path, [...COMMON, 'url', 'secret', 'service', 'ddtags']);
      if (raw.ddtags !== undefined && (typeof raw.ddtags !== 'string' || !/^[^\s]{1,1024}$/.test(raw.ddtags)))
        fail(`${path}.ddtags`, 'must be comma-separated tags without spaces');
      return {
        ...base,
        kind: 'datadog',
        url: raw.url === undefined ? DATADOG_US1_INTAKE : endpoint(raw.url, `${path}.url`),
        secret: secretRef(raw, path),
        service: optionalMeta(raw.service, `${path}.service`) ?? 'anchorlog',
        ...(typeof raw.ddtags === 'string' ? { ddtags: raw.ddtags } : {}),
      };
    }
    case 'webhook':
      only(raw, path, [...COMMON, 'url', 'secret']);
      return {
        ...base,
        kind: 'webhook',
        url: endpoint(raw.url, `${path}.url`),
        secret: secretRef(raw, path),
      };
    case 's3': {
      only(raw, path, [...COMMON, 'bucket', 'prefix']);
      if (typeof raw.bucket !== 'string' || !BUCKET_RE.test(raw.bucket))
        fail(`${path}.bucket`, 'must be an S3 bucket name');
      const prefix = raw.prefix ?? 'streams/';
      if (typeof prefix !== 'string' || !PREFIX_RE.test(prefix))
        fail(`${path}.prefix`, 'must be an S3 key prefix of safe characters');
      return { ...base, kind: 's3', bucket: raw.bucket, prefix };
    }
  }
}

/**
 * Parses ANCHORLOG_STREAMS: `{"streams": [ {name, logId, kind, …}, … ]}`.
 * Unset or blank: no streams. Stream names are unique across logs (the
 * cursor's key). Throws StreamConfigError naming the offending path.
 */
export function parseStreams(text: string | undefined): StreamSpec[] {
  if (text === undefined || text.trim() === '') return [];
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    fail('', 'is not JSON');
  }
  if (!isObject(doc)) fail('', 'must be a JSON object {"streams": [...]}');
  only(doc, '', ['streams']);
  const list = doc.streams;
  if (!Array.isArray(list)) fail('.streams', 'must be a list');
  if (list.length > MAX_STREAMS) fail('.streams', `at most ${MAX_STREAMS} streams`);
  const out: StreamSpec[] = [];
  for (const [i, raw] of list.entries()) {
    const s = stream(raw, `.streams[${i}]`);
    if (out.some((o) => o.name === s.name)) fail(`.streams[${i}].name`, `${s.name} is configured twice`);
    out.push(s);
  }
  return out;
}

function matches(action: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => action === p || action.startsWith(p.endsWith('.') ? p : `${p}.`));
}

/** Whether a record with this action is delivered by a stream with this filter. */
export function selects(filter: StreamFilter, action: string): boolean {
  if (matches(action, filter.excludeActions)) return false;
  return filter.includeActions.length === 0 || matches(action, filter.includeActions);
}

/** A copy of `doc` without the filter's dropped fields (paths that are absent are ignored). */
export function dropFields<T extends object>(doc: T, paths: readonly string[]): T {
  if (paths.length === 0) return doc;
  const copy = structuredClone(doc) as Record<string, unknown>;
  for (const path of paths) {
    const parts = path.split('.');
    let node: unknown = copy;
    for (const p of parts.slice(0, -1)) {
      node = isObject(node) ? node[p] : undefined;
      if (!isObject(node)) break;
    }
    if (isObject(node)) delete node[parts.at(-1) as string];
  }
  return copy as T;
}
