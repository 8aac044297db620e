/**
 * Configuration, read once from the environment into a typed object that is
 * passed in everywhere else (Powertools `envUtils` style). Every setting a
 * Lambda uses is read here and nowhere else: this is the only module in src/
 * and lambdas/ that reads `process.env`, besides the entry points of the CLI
 * and the local stack (test/architecture.test.ts holds that). A missing
 * required key fails loudly at cold start, not on the first request.
 *
 * Secrets (the query cursor key, TSA credentials) are never environment
 * values: the environment names the secret (`*_SECRET`, an ARN), and
 * `loadCursorKey` / `loadTsaCredentials` read it once through a SecretSource
 * at cold start (docs/deploy.md §Secrets). An environment that carries a
 * secret value is refused.
 */

import { DEFAULT_CATALOG_MODE, isCatalogMode, parseCatalogModes } from './app/catalog.ts';
import type { CatalogMode } from './app/ingest.ts';
import { parseSignaturePolicy, type SignaturePolicy } from './app/producer-keys.ts';
import { type ClassDefinition, checkClassSet, DEFAULT_AI_CLASSES } from './core/classes/definition.ts';
import { ClassError } from './core/classes/errors.ts';
import {
  type DeliveryRouting,
  DestinationConfigError,
  endpointUrlProblem,
  parseDeliveryRouting,
} from './core/deliver/destinations.ts';
import { parseWebhookSecrets, type WebhookKey } from './core/deliver/webhook-signature.ts';
import { AnchorlogError } from './core/errors.ts';
import { sha256 } from './core/hash.ts';
import { DEFAULT_SEAL_LAG_THRESHOLD_SECONDS } from './core/health.ts';
import { isValidTsaName, TSA_NAME_RULE } from './core/names.ts';
import { pemToSpki } from './core/note/pem.ts';
import { isValidKeyName } from './core/note/text.ts';
import { type NoteVerifier, p256PublicPoint } from './core/note/verifiers.ts';
import { parseVerifierKey } from './core/note/vkey.ts';
import { KEY_EXPIRY_INTRODUCED_MS } from './core/principal.ts';
import { parseStreams, StreamConfigError, type StreamSpec } from './core/streams/spec.ts';
import { type Cosigner, checkCosigners, parseCosignerKey } from './core/witness/cosignature.ts';
import { SecretError, type SecretSource } from './ports/secret-source.ts';

export interface AwsSettings {
  region: string;
  /** Set for the local stack / tests (moto); unset in Lambda. */
  endpoint?: string;
}

export interface TsaSettings {
  name: string;
  url: string;
  /** PEM bundle of the roots this TSA's tokens must chain to. */
  rootsPem: string;
  /**
   * Value for the Authorization header (commercial TSAs). Only ever from the
   * TSA credentials secret (`loadTsaCredentials`), never from ANCHORLOG_TSAS.
   */
  authorization?: string;
}

/** One C2SP tlog-witness witness the log submits its checkpoints to (docs/witnessing.md). */
export interface WitnessSettings {
  /** Stable short name (same rule as TSA names): archive keys, metrics, state items. */
  name: string;
  /** The witness's submission prefix; `/add-checkpoint` is appended. */
  url: string;
  /** Its cosigner key (vkey `<key name>+<id>+base64(0x04 ‖ Ed25519 key)`), parsed and checked. */
  cosigner: Cosigner;
}

/**
 * A Rekor v2 log the anchor job submits each checkpoint to (docs/anchoring.md §Rekor): set by
 * ANCHORLOG_REKOR_URL, with ANCHORLOG_REKOR_LOG_KEYS (the log's checkpoint vkeys, comma
 * separated: an entry counts only under a checkpoint one of them signed) and
 * ANCHORLOG_REKOR_KEY_ID (the KMS key, ECC_NIST_P256, that signs the entries: the anchor key,
 * never the log signing key). ANCHORLOG_REKOR_NAME names the party (default `rekor`).
 */
export interface RekorSettings {
  name: string;
  /** Base URL; `/api/v2/log/entries` is appended. */
  url: string;
  /** The Rekor log keys, parsed and checked. */
  logKeys: NoteVerifier[];
  /** KMS key ID/ARN/alias of the anchor key. */
  anchorKeyId: string;
}

/** Names (ARNs) of the secrets a function may read; never their values. */
export interface SecretRefs {
  /** ANCHORLOG_QUERY_CURSOR_KEY_SECRET: text of at least 32 characters, the cursor HMAC key. */
  queryCursorKey?: string;
  /** ANCHORLOG_TSA_CREDENTIALS_SECRET: JSON `{ "<tsa name>": "<Authorization header value>" }`. */
  tsaCredentials?: string;
}

/**
 * A retired log signing key (docs/operations.md §Key rotation): never used
 * to sign, only to verify checkpoints it signed before the rotation.
 */
export type RetiredSigningKey =
  /** A KMS key id, key ARN or alias; its public key is fetched with GetPublicKey at cold start. */
  | { readonly kmsKeyId: string }
  /** The public key itself (DER SubjectPublicKeyInfo), e.g. of a key that no longer exists in KMS. */
  | { readonly spki: Uint8Array };

export interface SecurityLakeSettings {
  bucket: string;
  /** Where the writer's progress lives (ANCHORLOG_SECURITY_LAKE_STATE_BUCKET, else the index bucket). */
  stateBucket: string;
  region: string;
  accountId: string;
  sourcePrefix: string;
}

/** ANCHORLOG_SECURITY_LAKE_*: undefined when the bucket is unset (docs/ocsf.md §Security Lake). */
function securityLakeSettings(env: Env, region: string): { securityLake?: SecurityLakeSettings } {
  const bucket = env.ANCHORLOG_SECURITY_LAKE_BUCKET;
  if (!bucket) return {};
  // The writer's progress: its own bucket (the CDK app makes one), else the index bucket.
  const stateBucket = env.ANCHORLOG_SECURITY_LAKE_STATE_BUCKET || env.ANCHORLOG_INDEX_BUCKET;
  if (!stateBucket)
    throw new ConfigError(
      'ANCHORLOG_SECURITY_LAKE_BUCKET needs ANCHORLOG_SECURITY_LAKE_STATE_BUCKET or ANCHORLOG_INDEX_BUCKET (the writer keeps its progress there)',
    );
  const accountId = required(env, 'ANCHORLOG_SECURITY_LAKE_ACCOUNT_ID');
  const sourcePrefix = env.ANCHORLOG_SECURITY_LAKE_SOURCE_PREFIX || 'anchorlog';
  if (!/^[\w\-:.]{1,15}$/.test(sourcePrefix))
    throw new ConfigError(
      `ANCHORLOG_SECURITY_LAKE_SOURCE_PREFIX must be 1-15 of [A-Za-z0-9_-:.], got ${sourcePrefix}`,
    );
  return {
    securityLake: {
      bucket,
      stateBucket,
      region: env.ANCHORLOG_SECURITY_LAKE_REGION || region,
      accountId,
      sourcePrefix,
    },
  };
}

export interface AppConfig {
  aws: AwsSettings;
  tableName: string;
  archiveBucket: string;
  exportsBucket?: string;
  /**
   * ANCHORLOG_INDEX_BUCKET: the columnar query index's bucket (docs/query.md §7).
   * Set: the project function also writes Parquet, and the query function
   * answers filters from it and serves SQL. Unset: the DynamoDB index only.
   */
  indexBucket?: string;
  /**
   * ANCHORLOG_SECURITY_LAKE_BUCKET (+ _ACCOUNT_ID, optional _REGION, _SOURCE_PREFIX,
   * _STATE_BUCKET): the project function also writes OCSF Parquet into these Amazon
   * Security Lake custom sources (docs/ocsf.md §Security Lake).
   */
  securityLake?: SecurityLakeSettings;
  /** KMS key id/ARN used by the sealer (only the seal role may sign with it). */
  signingKeyId?: string;
  /** ANCHORLOG_RETIRED_SIGNING_KEYS: earlier log keys whose checkpoints still verify. */
  retiredSigningKeys: RetiredSigningKey[];
  /** Checkpoint origin is `${originPrefix}/${logId}`. */
  originPrefix: string;
  /**
   * ANCHORLOG_CLASSES (docs/classes.md): event classes the sealer indexes.
   * Unset or empty: none. `default`: the AI-platform set. Otherwise a JSON
   * array of `{ name, version, action, actorType?, targetType? }`.
   */
  classes?: ClassDefinition[];
  limits: { maxBodyBytes: number; maxEventsPerBatch: number };
  /** How requests reach the log (docs/ingest.md §9); absent: DEFAULT_INGEST_SETTINGS. */
  ingest?: IngestSettings;
  /**
   * Maximum API key age per principal kind, in ms (docs/access.md "Key
   * expiry"): ANCHORLOG_ROTATION_DAYS_HUMAN (default 90),
   * …_APPLICATION (default 365), …_AGENT (default 90); 0 turns expiry off for
   * that kind. A key older than this is refused with 401 KEY_EXPIRED until
   * it is rotated. Read by the authorizer (and every function that
   * authenticates), so they must all be given the same values.
   * `countFrom`: ANCHORLOG_ROTATION_COUNT_FROM (an ISO 8601 date or time;
   * default 2026-12-01, when expiry was introduced): a key issued earlier
   * ages from then, so an upgrade never refuses existing keys at once.
   */
  keyMaxAgeMs: { human: number; application: number; agent: number; countFrom: number };
  /**
   * ANCHORLOG_SCIM_OWNED_PRINCIPALS (`flag`, the default, or `disable`): what
   * SCIM deprovisioning of a human (`active: false` or DELETE) does to the
   * agents and applications it owns, in the same request (docs/access.md
   * "Deprovisioning"): `flag` marks them (`principal.flag`, shown in access
   * reviews), `disable` revokes them.
   */
  scimOwnedPrincipals?: 'flag' | 'disable';
  /**
   * The admin plane (docs/deploy.md "Admin plane"). `breakGlass`:
   * ANCHORLOG_BREAK_GLASS_PRINCIPAL names the bootstrap admin, whose key
   * becomes break-glass: every use is recorded (`principal.break_glass.use`)
   * and alerted, and refused unless ANCHORLOG_BREAK_GLASS is `enabled`
   * (default `disabled`). Unset (the local stack): no break-glass.
   * `adminHumansViaIam`: ANCHORLOG_ADMIN_HUMANS_VIA_IAM=true refuses a human
   * principal's API key on the admin API (humans come through the IAM, MFA-
   * required admin API instead); the break-glass key is the exception.
   */
  breakGlass?: { principalId: string; enabled: boolean };
  adminHumansViaIam?: boolean;
  tsas: TsaSettings[];
  /** Minimum number of TSAs that must succeed for an anchor to count. */
  anchorQuorum: number;
  /** ANCHORLOG_WITNESSES: JSON array of {name, url, vkey}; empty when unset. */
  witnesses?: WitnessSettings[];
  /** ANCHORLOG_WITNESS_QUORUM: cosignatures for a checkpoint to count as witnessed (0..n; default min(2, n)). */
  witnessQuorum?: number;
  /** ANCHORLOG_REKOR_*: the Rekor v2 log to submit checkpoints to; absent when ANCHORLOG_REKOR_URL is unset. */
  rekor?: RekorSettings;
  /**
   * ANCHORLOG_HEALTH_SEAL_LAG_SECONDS (integer >= 1, default 300): a log whose
   * oldest unsealed batch has waited this long is recorded as an
   * `anchorlog.health.seal_lag` event (docs/detection.md "Self-monitoring").
   */
  healthSealLagSeconds: number;
  /**
   * ANCHORLOG_QUERY_HOT_DAYS (an integer >= 2) in ms: how long the query
   * projection keeps records (docs/query.md). Unset: the default there. The
   * query and project functions must be given the same value.
   */
  queryHotWindowMs?: number;
  /** The synchronous export path's limits; each unset one is ExportService's default. */
  exportLimits?: {
    /** ANCHORLOG_EXPORT_MAX_RECORDS: largest index interval exported (default 200,000). */
    maxRecords?: number;
    /** ANCHORLOG_EXPORT_URL_TTL_SECONDS: the presigned URL's lifetime (default 3600). */
    urlTtlSeconds?: number;
  };
  secrets?: SecretRefs;
  /**
   * The rules detection runs until the rule store serves them
   * (docs/detection.md; src/compose/detect.ts): built-in packs by name and
   * rule documents, both validated when the detect function starts.
   */
  detection?: DetectionSettings;
  /**
   * ANCHORLOG_ALERT_DESTINATIONS: where alerts are delivered (names → kind,
   * URL or topic, and the *name* of the secret holding a credential) and the
   * routing by severity (src/core/deliver/destinations.ts; docs/deploy.md
   * "Alert destinations"), plus ANCHORLOG_ALERT_TOPIC_ARN, the stack's SNS
   * topic (destination `alerts-topic`, the default route unless the document
   * sets one). Secret values are read by loadAlertDestinations.
   */
  alertRouting?: DeliveryRouting;
  /**
   * ANCHORLOG_STREAMS: log streams to SIEMs and buckets (src/core/streams/spec.ts;
   * docs/streams.md), each naming the *name* of the secret holding its credential.
   */
  streams?: StreamSpec[];
  /**
   * The event catalog's mode per log (docs/events.md §Modes):
   * ANCHORLOG_CATALOG_MODE for every log (default warn) and
   * ANCHORLOG_CATALOG_MODES (`log=mode,…`) per log; and the age past
   * which a producer stream's gap is overdue.
   */
  catalog: { mode: CatalogMode; modes: Map<string, CatalogMode>; gapAgeSeconds: number };
  /**
   * Which events each log requires producer signatures on
   * (ANCHORLOG_SIGNATURE_POLICY, docs/producer-signatures.md §Policy); absent: none.
   */
  signaturePolicy?: Map<string, SignaturePolicy>;
}

export interface DetectionSettings {
  /** ANCHORLOG_DETECTION_PACKS: comma-separated names of built-in rule packs (src/compose/rule-packs.ts). */
  readonly packs: readonly string[];
  /** ANCHORLOG_DETECTION_RULES: a JSON array of rule documents (Lambda's 4 KB of environment bound it). */
  readonly rules: readonly unknown[];
}

export type ConfigErrorCode =
  | 'MISSING_SETTING' // a required environment variable is absent
  | 'INVALID_SETTING' // an environment variable does not parse or is out of range
  | 'SECRET_IN_ENVIRONMENT' // a secret value where only a secret's name belongs
  | 'SECRET_UNREADABLE' // the named secret does not exist or may not be read
  | 'INVALID_SECRET'; // the secret's value is not what it must be

/** The function cannot start: its configuration is wrong. Never retried into success. */
export class ConfigError extends AnchorlogError<ConfigErrorCode> {
  constructor(message: string, code: ConfigErrorCode = 'INVALID_SETTING') {
    super(code, message);
  }
}

type Env = Record<string, string | undefined>;

function required(env: Env, key: string): string {
  const v = env[key];
  if (v === undefined || v === '')
    throw new ConfigError(`missing required environment variable ${key}`, 'MISSING_SETTING');
  return v;
}

/** An optional integer setting: undefined when unset or empty. */
function optionalInt(env: Env, key: string, min: number): number | undefined {
  const raw = env[key];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min)
    throw new ConfigError(`${key} must be an integer >= ${min}, got ${raw}`);
  return n;
}

function int(env: Env, key: string, dflt: number, min: number): number {
  return optionalInt(env, key, min) ?? dflt;
}

const DAY_MS = 86_400_000;

/** An ISO 8601 date or date-time setting, as epoch ms. */
function instant(env: Env, key: string, dflt: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return dflt;
  const ms = /^\d{4}-\d{2}-\d{2}(T[0-9:.]+Z)?$/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new ConfigError(`${key} must be an ISO 8601 date (2026-12-01) or UTC time, got ${raw}`);
  return ms;
}

/** Maximum key age per kind when not configured (docs/access.md "Key expiry"). */
export const DEFAULT_KEY_MAX_AGE_DAYS = { human: 90, application: 365, agent: 90 } as const;

/**
 * The ingest path (docs/ingest.md §9):
 *  - ANCHORLOG_INGEST_MODE: `direct` (default: one commit per request) or
 *    `pending` (accept, then sequence every pending request of a log in one
 *    commit). `direct` stays the default until `pending` measures faster
 *    (docs/ingest.md §9 "Measured": on the emulator it is slower at every
 *    batch size so far);
 *  - ANCHORLOG_INGEST_WAIT_MS (default 5000): how long a request that sends no
 *    `Prefer: wait=N` waits for its receipts before answering 202;
 *  - ANCHORLOG_INGEST_MAX_PENDING (default 5000, >= 1): a log whose sequencer
 *    last saw this many requests pending answers 429 with Retry-After;
 *  - ANCHORLOG_INGEST_PENDING_SHARDS (default 8, 1..256): queue partitions
 *    per log. Every writer of a table must use the same value.
 */
export interface IngestSettings {
  mode: 'pending' | 'direct';
  defaultWaitMs: number;
  maxPendingEntries: number;
  pendingShards: number;
}
export const DEFAULT_INGEST_SETTINGS: IngestSettings = {
  mode: 'direct',
  defaultWaitMs: 5_000,
  maxPendingEntries: 5_000,
  pendingShards: 8,
};

function ingestSettings(env: Env): IngestSettings {
  const mode = env.ANCHORLOG_INGEST_MODE ?? DEFAULT_INGEST_SETTINGS.mode;
  if (mode !== 'pending' && mode !== 'direct')
    throw new ConfigError(`ANCHORLOG_INGEST_MODE must be pending or direct, got ${mode}`);
  const pendingShards = int(env, 'ANCHORLOG_INGEST_PENDING_SHARDS', DEFAULT_INGEST_SETTINGS.pendingShards, 1);
  if (pendingShards > 256) throw new ConfigError('ANCHORLOG_INGEST_PENDING_SHARDS must be at most 256');
  return {
    mode,
    defaultWaitMs: int(env, 'ANCHORLOG_INGEST_WAIT_MS', DEFAULT_INGEST_SETTINGS.defaultWaitMs, 0),
    maxPendingEntries: int(env, 'ANCHORLOG_INGEST_MAX_PENDING', DEFAULT_INGEST_SETTINGS.maxPendingEntries, 1),
    pendingShards,
  };
}

export const DEFAULT_LIMITS = { maxBodyBytes: 2 * 1024 * 1024, maxEventsPerBatch: 1000 };

/** Secret values that older deployments put in the environment, and where they belong now. */
const PLAIN_SECRETS: Record<string, string> = {
  ANCHORLOG_QUERY_CURSOR_KEY: 'ANCHORLOG_QUERY_CURSOR_KEY_SECRET',
};

function tsaList(raw: string | undefined): TsaSettings[] {
  if (raw === undefined || raw === '') return [];
  const shape = 'ANCHORLOG_TSAS must be a JSON array of {name,url,rootsPem}';
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    throw new ConfigError(shape);
  }
  if (!Array.isArray(list)) throw new ConfigError(shape);
  const names = new Set<string>();
  return list.map((t: unknown, i) => {
    const o = (typeof t === 'object' && t !== null ? t : {}) as Record<string, unknown>;
    if ('authorization' in o)
      throw new ConfigError(
        `ANCHORLOG_TSAS[${i}] carries an authorization: TSA credentials go in the secret named by ANCHORLOG_TSA_CREDENTIALS_SECRET`,
        'SECRET_IN_ENVIRONMENT',
      );
    const { name, url, rootsPem } = o;
    if (typeof name !== 'string' || name === '' || typeof url !== 'string' || typeof rootsPem !== 'string')
      throw new ConfigError(`${shape} (entry ${i})`);
    // The one rule every layer applies (core/names.ts): refused here, at cold start, rather than by the anchor job.
    if (!isValidTsaName(name))
      throw new ConfigError(
        `ANCHORLOG_TSAS[${i}].name ${JSON.stringify(name.slice(0, 80))}: ${TSA_NAME_RULE}`,
      );
    if (names.has(name)) throw new ConfigError(`ANCHORLOG_TSAS names ${JSON.stringify(name)} twice`);
    names.add(name);
    return { name, url, rootsPem };
  });
}

function rekorSettings(env: Env, tsas: readonly TsaSettings[]): RekorSettings | undefined {
  const url = env.ANCHORLOG_REKOR_URL;
  const keys = env.ANCHORLOG_REKOR_LOG_KEYS;
  const keyId = env.ANCHORLOG_REKOR_KEY_ID;
  if (!url) {
    if (keys || keyId || env.ANCHORLOG_REKOR_NAME)
      throw new ConfigError('ANCHORLOG_REKOR_LOG_KEYS/_KEY_ID/_NAME are set without ANCHORLOG_REKOR_URL');
    return undefined;
  }
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new ConfigError('ANCHORLOG_REKOR_URL is not an http(s) URL');
  if (!keys) throw new ConfigError("ANCHORLOG_REKOR_URL needs ANCHORLOG_REKOR_LOG_KEYS (the log's vkeys)");
  if (!keyId)
    throw new ConfigError('ANCHORLOG_REKOR_URL needs ANCHORLOG_REKOR_KEY_ID (the anchor key in KMS)');
  const name = env.ANCHORLOG_REKOR_NAME ?? 'rekor';
  if (!isValidTsaName(name))
    throw new ConfigError(`ANCHORLOG_REKOR_NAME ${JSON.stringify(name.slice(0, 80))}: ${TSA_NAME_RULE}`);
  // Its failures share the per-party anchor status items with the TSAs (docs/anchoring.md §Rekor).
  if (tsas.some((t) => t.name === name))
    throw new ConfigError(`ANCHORLOG_REKOR_NAME ${JSON.stringify(name)} is also a TSA name`);
  const logKeys = keys
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '')
    .map((k, i) => {
      try {
        return parseVerifierKey(k);
      } catch (err) {
        throw new ConfigError(
          `ANCHORLOG_REKOR_LOG_KEYS[${i}]: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    });
  if (logKeys.length === 0) throw new ConfigError('ANCHORLOG_REKOR_LOG_KEYS names no key');
  return { name, url, logKeys, anchorKeyId: keyId };
}

function witnessList(raw: string | undefined): WitnessSettings[] {
  if (raw === undefined || raw === '') return [];
  const shape = 'ANCHORLOG_WITNESSES must be a JSON array of {name,url,vkey}';
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    throw new ConfigError(shape);
  }
  if (!Array.isArray(list)) throw new ConfigError(shape);
  const names = new Set<string>();
  const out = list.map((t: unknown, i): WitnessSettings => {
    const o = (typeof t === 'object' && t !== null ? t : {}) as Record<string, unknown>;
    const { name, url, vkey } = o;
    if (typeof name !== 'string' || typeof url !== 'string' || typeof vkey !== 'string')
      throw new ConfigError(`${shape} (entry ${i})`);
    if (!isValidTsaName(name))
      throw new ConfigError(
        `ANCHORLOG_WITNESSES[${i}].name ${JSON.stringify(name.slice(0, 80))}: ${TSA_NAME_RULE}`,
      );
    if (names.has(name)) throw new ConfigError(`ANCHORLOG_WITNESSES names ${JSON.stringify(name)} twice`);
    names.add(name);
    if (!/^https?:\/\/[^\s]+$/.test(url))
      throw new ConfigError(`ANCHORLOG_WITNESSES[${i}].url is not an http(s) URL`);
    let cosigner: Cosigner;
    try {
      cosigner = parseCosignerKey(vkey);
    } catch (err) {
      throw new ConfigError(
        `ANCHORLOG_WITNESSES[${i}].vkey: ${err instanceof Error ? err.message : String(err)} (want a cosignature/v1 vkey, type 0x04)`,
      );
    }
    return { name, url, cosigner };
  });
  try {
    checkCosigners(out.map((w) => w.cosigner));
  } catch (err) {
    throw new ConfigError(`ANCHORLOG_WITNESSES: ${err instanceof Error ? err.message : String(err)}`);
  }
  return out;
}

const KMS_KEY_REF = /^[A-Za-z0-9:/_.-]{1,2048}$/;

/**
 * ANCHORLOG_RETIRED_SIGNING_KEYS: a comma-separated list, each entry a KMS key
 * id, key ARN or alias, or a P-256 public key as a `-----BEGIN PUBLIC KEY-----`
 * PEM block (neither contains a comma).
 */
function retiredKeys(raw: string | undefined): RetiredSigningKey[] {
  if (raw === undefined) return [];
  const out: RetiredSigningKey[] = [];
  for (const [i, entry] of raw
    .split(',')
    .map((e) => e.trim())
    .entries()) {
    if (entry === '') continue;
    if (entry.startsWith('-----BEGIN')) {
      try {
        const spki = pemToSpki(entry);
        p256PublicPoint(spki);
        out.push({ spki });
      } catch {
        throw new ConfigError(
          `ANCHORLOG_RETIRED_SIGNING_KEYS entry ${i} is not a P-256 public key (-----BEGIN PUBLIC KEY----- PEM)`,
        );
      }
    } else if (KMS_KEY_REF.test(entry)) out.push({ kmsKeyId: entry });
    else
      throw new ConfigError(
        `ANCHORLOG_RETIRED_SIGNING_KEYS entry ${i} is neither a KMS key id, ARN or alias nor a PEM public key`,
      );
  }
  return out;
}

function optionalClasses(env: Env): Pick<AppConfig, 'classes'> {
  const classes = classSettings(env.ANCHORLOG_CLASSES);
  return classes === undefined ? {} : { classes };
}

function classSettings(raw: string | undefined): ClassDefinition[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (raw.trim() === 'default') return [...DEFAULT_AI_CLASSES];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError('ANCHORLOG_CLASSES must be "default" or a JSON array of class definitions');
  }
  if (!Array.isArray(parsed) || parsed.some((d) => typeof d !== 'object' || d === null || Array.isArray(d)))
    throw new ConfigError('ANCHORLOG_CLASSES must be "default" or a JSON array of class definitions');
  try {
    return checkClassSet(parsed as ClassDefinition[]);
  } catch (err) {
    if (err instanceof ClassError)
      throw new ConfigError(`ANCHORLOG_CLASSES: ${err.message}`, 'INVALID_SETTING');
    throw err;
  }
}

const PACK_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

function detectionSettings(env: Env): DetectionSettings | undefined {
  const packsRaw = env.ANCHORLOG_DETECTION_PACKS ?? '';
  const rulesRaw = env.ANCHORLOG_DETECTION_RULES ?? '';
  if (packsRaw === '' && rulesRaw === '') return undefined;
  const packs = packsRaw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  for (const p of packs)
    if (!PACK_NAME.test(p))
      throw new ConfigError(
        `ANCHORLOG_DETECTION_PACKS names ${JSON.stringify(p.slice(0, 80))}, not a pack name`,
      );
  let rules: unknown = [];
  if (rulesRaw !== '') {
    try {
      rules = JSON.parse(rulesRaw);
    } catch {
      throw new ConfigError('ANCHORLOG_DETECTION_RULES must be a JSON array of rule documents');
    }
    if (!Array.isArray(rules))
      throw new ConfigError('ANCHORLOG_DETECTION_RULES must be a JSON array of rule documents');
  }
  return { packs, rules: rules as unknown[] };
}

export function loadConfig(env: Env = process.env): AppConfig {
  for (const [plain, ref] of Object.entries(PLAIN_SECRETS))
    if (env[plain] !== undefined)
      throw new ConfigError(
        `${plain} is a secret in the environment and is not read: store it in Secrets Manager and set ${ref} to the secret's ARN`,
        'SECRET_IN_ENVIRONMENT',
      );
  const tsas = tsaList(env.ANCHORLOG_TSAS);
  const witnesses = witnessList(env.ANCHORLOG_WITNESSES);
  const witnessQuorum = optionalInt(env, 'ANCHORLOG_WITNESS_QUORUM', 0) ?? Math.min(2, witnesses.length);
  if (witnessQuorum > witnesses.length)
    throw new ConfigError(
      `ANCHORLOG_WITNESS_QUORUM ${witnessQuorum} exceeds the ${witnesses.length} witness(es) in ANCHORLOG_WITNESSES`,
    );
  const rekor = rekorSettings(env, tsas);
  const hotDays = optionalInt(env, 'ANCHORLOG_QUERY_HOT_DAYS', 2);
  const maxRecords = optionalInt(env, 'ANCHORLOG_EXPORT_MAX_RECORDS', 1);
  const urlTtlSeconds = optionalInt(env, 'ANCHORLOG_EXPORT_URL_TTL_SECONDS', 1);
  const detection = detectionSettings(env);
  let alertRouting: DeliveryRouting | undefined;
  try {
    alertRouting = parseDeliveryRouting(env.ANCHORLOG_ALERT_DESTINATIONS, {
      ...(env.ANCHORLOG_ALERT_TOPIC_ARN ? { topicArn: env.ANCHORLOG_ALERT_TOPIC_ARN } : {}),
    });
  } catch (err) {
    if (err instanceof DestinationConfigError)
      throw new ConfigError(
        err.message,
        err.code === 'SECRET_IN_CONFIG' ? 'SECRET_IN_ENVIRONMENT' : 'INVALID_SETTING',
      );
    throw err;
  }
  const streams = streamSettings(env);
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const secrets: SecretRefs = {
    ...(env.ANCHORLOG_QUERY_CURSOR_KEY_SECRET
      ? { queryCursorKey: env.ANCHORLOG_QUERY_CURSOR_KEY_SECRET }
      : {}),
    ...(env.ANCHORLOG_TSA_CREDENTIALS_SECRET ? { tsaCredentials: env.ANCHORLOG_TSA_CREDENTIALS_SECRET } : {}),
  };
  return {
    aws: { region, ...(env.ANCHORLOG_AWS_ENDPOINT ? { endpoint: env.ANCHORLOG_AWS_ENDPOINT } : {}) },
    tableName: required(env, 'ANCHORLOG_TABLE'),
    archiveBucket: required(env, 'ANCHORLOG_ARCHIVE_BUCKET'),
    ...(env.ANCHORLOG_EXPORTS_BUCKET ? { exportsBucket: env.ANCHORLOG_EXPORTS_BUCKET } : {}),
    ...(env.ANCHORLOG_INDEX_BUCKET ? { indexBucket: env.ANCHORLOG_INDEX_BUCKET } : {}),
    ...securityLakeSettings(env, region),
    ...(env.ANCHORLOG_SIGNING_KEY_ID ? { signingKeyId: env.ANCHORLOG_SIGNING_KEY_ID } : {}),
    retiredSigningKeys: retiredKeys(env.ANCHORLOG_RETIRED_SIGNING_KEYS),
    originPrefix: env.ANCHORLOG_ORIGIN_PREFIX ?? 'anchorlog.local',
    ...optionalClasses(env),
    limits: {
      maxBodyBytes: int(env, 'ANCHORLOG_MAX_BODY_BYTES', DEFAULT_LIMITS.maxBodyBytes, 1024 * 1024),
      maxEventsPerBatch: int(env, 'ANCHORLOG_MAX_EVENTS_PER_BATCH', DEFAULT_LIMITS.maxEventsPerBatch, 1000),
    },
    ingest: ingestSettings(env),
    keyMaxAgeMs: {
      human: int(env, 'ANCHORLOG_ROTATION_DAYS_HUMAN', DEFAULT_KEY_MAX_AGE_DAYS.human, 0) * DAY_MS,
      application:
        int(env, 'ANCHORLOG_ROTATION_DAYS_APPLICATION', DEFAULT_KEY_MAX_AGE_DAYS.application, 0) * DAY_MS,
      agent: int(env, 'ANCHORLOG_ROTATION_DAYS_AGENT', DEFAULT_KEY_MAX_AGE_DAYS.agent, 0) * DAY_MS,
      countFrom: instant(env, 'ANCHORLOG_ROTATION_COUNT_FROM', KEY_EXPIRY_INTRODUCED_MS),
    },
    scimOwnedPrincipals: scimOwnedPolicy(env.ANCHORLOG_SCIM_OWNED_PRINCIPALS),
    ...adminPlane(env),
    tsas,
    anchorQuorum: int(env, 'ANCHORLOG_ANCHOR_QUORUM', Math.min(2, Math.max(1, tsas.length)), 1),
    healthSealLagSeconds: int(
      env,
      'ANCHORLOG_HEALTH_SEAL_LAG_SECONDS',
      DEFAULT_SEAL_LAG_THRESHOLD_SECONDS,
      1,
    ),
    witnesses,
    witnessQuorum,
    ...(rekor ? { rekor } : {}),
    ...(hotDays !== undefined ? { queryHotWindowMs: hotDays * DAY_MS } : {}),
    exportLimits: {
      ...(maxRecords !== undefined ? { maxRecords } : {}),
      ...(urlTtlSeconds !== undefined ? { urlTtlSeconds } : {}),
    },
    secrets,
    ...(detection ? { detection } : {}),
    ...(alertRouting.destinations.size > 0 ? { alertRouting } : {}),
    ...(streams.length > 0 ? { streams } : {}),
    catalog: catalogSettings(env),
    ...signaturePolicySettings(env),
  };
}

/** ANCHORLOG_STREAMS (docs/streams.md); a secret value in it is SECRET_IN_ENVIRONMENT. */
function streamSettings(env: Env): StreamSpec[] {
  try {
    return parseStreams(env.ANCHORLOG_STREAMS);
  } catch (err) {
    if (err instanceof StreamConfigError)
      throw new ConfigError(
        err.message,
        err.code === 'SECRET_IN_CONFIG' ? 'SECRET_IN_ENVIRONMENT' : 'INVALID_SETTING',
      );
    throw err;
  }
}

function signaturePolicySettings(env: Env): Pick<AppConfig, 'signaturePolicy'> {
  try {
    const policy = parseSignaturePolicy(env.ANCHORLOG_SIGNATURE_POLICY);
    return policy.size > 0 ? { signaturePolicy: policy } : {};
  } catch (err) {
    throw new ConfigError(`ANCHORLOG_SIGNATURE_POLICY: ${(err as Error).message}`, 'INVALID_SETTING');
  }
}

function adminPlane(env: Env): Pick<AppConfig, 'breakGlass' | 'adminHumansViaIam'> {
  const id = env.ANCHORLOG_BREAK_GLASS_PRINCIPAL;
  const mode = env.ANCHORLOG_BREAK_GLASS ?? 'disabled';
  if (mode !== 'enabled' && mode !== 'disabled')
    throw new ConfigError('ANCHORLOG_BREAK_GLASS must be enabled or disabled', 'INVALID_SETTING');
  const iam = env.ANCHORLOG_ADMIN_HUMANS_VIA_IAM ?? 'false';
  if (iam !== 'true' && iam !== 'false')
    throw new ConfigError('ANCHORLOG_ADMIN_HUMANS_VIA_IAM must be true or false', 'INVALID_SETTING');
  return {
    ...(id ? { breakGlass: { principalId: id, enabled: mode === 'enabled' } } : {}),
    adminHumansViaIam: iam === 'true',
  };
}

function scimOwnedPolicy(raw: string | undefined): 'flag' | 'disable' {
  if (raw === undefined || raw === '' || raw === 'flag') return 'flag';
  if (raw === 'disable') return 'disable';
  throw new ConfigError('ANCHORLOG_SCIM_OWNED_PRINCIPALS must be flag or disable', 'INVALID_SETTING');
}

function catalogSettings(env: Env): AppConfig['catalog'] {
  const mode = env.ANCHORLOG_CATALOG_MODE ?? DEFAULT_CATALOG_MODE;
  if (!isCatalogMode(mode))
    throw new ConfigError('ANCHORLOG_CATALOG_MODE must be enforce, warn or off', 'INVALID_SETTING');
  try {
    return {
      mode,
      modes: parseCatalogModes(env.ANCHORLOG_CATALOG_MODES),
      // ANCHORLOG_PRODUCER_GAP_AGE_SECONDS: a producer gap older than this is overdue (docs/events.md).
      gapAgeSeconds: int(env, 'ANCHORLOG_PRODUCER_GAP_AGE_SECONDS', 300, 1),
    };
  } catch (err) {
    throw new ConfigError(`ANCHORLOG_CATALOG_MODES: ${(err as Error).message}`, 'INVALID_SETTING');
  }
}

/** Minimum length of the cursor key secret's text (its UTF-8 bytes are the HMAC key). */
export const MIN_CURSOR_KEY_CHARS = 32;

/**
 * Reads secret `id`, named by the environment variable `setting`. A secret that is missing
 * or may not be read is a ConfigError (retrying will not help); a store
 * failure is rethrown as the SecretError UNAVAILABLE it is.
 */
async function readSecret(source: SecretSource, setting: string, id: string): Promise<string> {
  try {
    return await source.readText(id);
  } catch (err) {
    if (err instanceof SecretError && err.code !== 'UNAVAILABLE')
      throw new ConfigError(
        `cannot read the secret ${id} named by ${setting}: ${err.code}`,
        'SECRET_UNREADABLE',
      );
    throw err;
  }
}

/**
 * The query cursor HMAC key (docs/query.md §Cursor): the UTF-8 bytes of the
 * secret named by ANCHORLOG_QUERY_CURSOR_KEY_SECRET. The query function
 * refuses to start without one.
 */
export async function loadCursorKey(config: AppConfig, source: SecretSource): Promise<Uint8Array> {
  const setting = 'ANCHORLOG_QUERY_CURSOR_KEY_SECRET';
  const id = config.secrets?.queryCursorKey;
  if (!id)
    throw new ConfigError(
      `missing required environment variable ${setting} (the secret that signs query cursors)`,
      'MISSING_SETTING',
    );
  const text = await readSecret(source, setting, id);
  if (text.length < MIN_CURSOR_KEY_CHARS)
    throw new ConfigError(
      `the secret named by ${setting} must be at least ${MIN_CURSOR_KEY_CHARS} characters of random text`,
      'INVALID_SECRET',
    );
  return new TextEncoder().encode(text);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_RE = /[\x00-\x1f\x7f]/;

/**
 * `config.tsas` with each TSA's Authorization header value from the secret
 * named by ANCHORLOG_TSA_CREDENTIALS_SECRET: a JSON object from TSA name to
 * header value. Every name must be a configured TSA (a typo would otherwise
 * silently send no credentials). Without the setting, no TSA has credentials.
 */
export async function loadTsaCredentials(config: AppConfig, source: SecretSource): Promise<TsaSettings[]> {
  const setting = 'ANCHORLOG_TSA_CREDENTIALS_SECRET';
  const id = config.secrets?.tsaCredentials;
  if (!id) return config.tsas;
  const text = await readSecret(source, setting, id);
  const invalid = (why: string) => new ConfigError(`the secret named by ${setting} ${why}`, 'INVALID_SECRET');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('is not JSON (want {"<tsa name>": "<Authorization header value>"})');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalid('must be a JSON object {"<tsa name>": "<Authorization header value>"}');
  const byName = new Map(config.tsas.map((t) => [t.name, t]));
  const auth = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed)) {
    if (!byName.has(name))
      throw invalid(`names ${JSON.stringify(name.slice(0, 64))}, which is not in ANCHORLOG_TSAS`);
    if (typeof value !== 'string' || value === '' || value.length > 8192 || CONTROL_RE.test(value))
      throw invalid(`has no usable header value for ${JSON.stringify(name)}`);
    auth.set(name, value);
  }
  return config.tsas.map((t) => {
    const a = auth.get(t.name);
    return a === undefined ? t : { ...t, authorization: a };
  });
}

/** A destination with its credential read from its secret: what a notifier is built from. */
export type AlertDestination =
  | {
      readonly name: string;
      readonly kind: 'webhook';
      readonly url: string;
      readonly keys: readonly WebhookKey[];
    }
  | { readonly name: string; readonly kind: 'slack'; readonly url: string }
  | { readonly name: string; readonly kind: 'pagerduty'; readonly url: string; readonly routingKey: string }
  | { readonly name: string; readonly kind: 'sns'; readonly topicArn: string };

/** A PagerDuty Events API v2 integration (routing) key: 32 letters and digits. */
const ROUTING_KEY_RE = /^[A-Za-z0-9]{32}$/;

/**
 * The configured alert destinations with their credentials, read once at
 * cold start through `source`: each secret named in ANCHORLOG_ALERT_DESTINATIONS
 * once (a webhook's `whsec_` key, or two while rotating; a Slack
 * incoming-webhook URL; a PagerDuty routing key). A secret that is missing or
 * not what its destination needs is a ConfigError naming the destination,
 * never quoting the value: the deliver function does not start half-configured.
 */
export async function loadAlertDestinations(
  config: Pick<AppConfig, 'alertRouting'>,
  source: SecretSource,
): Promise<AlertDestination[]> {
  const setting = 'ANCHORLOG_ALERT_DESTINATIONS';
  const specs = [...(config.alertRouting?.destinations.values() ?? [])];
  const texts = new Map<string, Promise<string>>();
  const secret = (id: string) => {
    let t = texts.get(id);
    if (!t) {
      t = readSecret(source, setting, id);
      texts.set(id, t);
    }
    return t;
  };
  const invalid = (name: string, why: string) =>
    new ConfigError(`the secret of alert destination ${name} (${setting}) ${why}`, 'INVALID_SECRET');
  const out: AlertDestination[] = [];
  for (const d of specs) {
    switch (d.kind) {
      case 'sns':
        out.push(d);
        break;
      case 'webhook': {
        const text = await secret(d.secret);
        let keys: WebhookKey[];
        try {
          keys = parseWebhookSecrets(text);
        } catch (err) {
          throw invalid(
            d.name,
            `is not a webhook signing secret: ${err instanceof Error ? err.message : 'invalid'}`,
          );
        }
        out.push({ name: d.name, kind: 'webhook', url: d.url, keys });
        break;
      }
      case 'slack': {
        const url = (await secret(d.secret)).trim();
        const problem = endpointUrlProblem(url);
        if (problem !== undefined)
          throw invalid(d.name, `must be the Slack incoming-webhook URL: it ${problem}`);
        out.push({ name: d.name, kind: 'slack', url });
        break;
      }
      case 'pagerduty': {
        const routingKey = (await secret(d.secret)).trim();
        if (!ROUTING_KEY_RE.test(routingKey))
          throw invalid(d.name, 'must be a PagerDuty Events API v2 routing key (32 letters and digits)');
        out.push({ name: d.name, kind: 'pagerduty', url: d.url, routingKey });
        break;
      }
    }
  }
  return out;
}

/**
 * The witness service's settings (lambdas/witness.ts; docs/witnessing.md
 * §Running a witness on AWS). A deployment of its own (cdk/witness-stack.ts):
 * none of the log's settings apply.
 */
export interface WitnessServiceConfig {
  aws: AwsSettings;
  /** ANCHORLOG_WITNESS_KEY_NAME: the name on its cosignature lines (a schema-less URL by convention). */
  keyName: string;
  /** ANCHORLOG_WITNESS_TABLE: its state table (WitnessLedgerStore). */
  tableName: string;
  /** ANCHORLOG_WITNESS_SEED_SECRET: the secret its Ed25519 seed is derived from (`loadWitnessSeed`). */
  seedSecret: string;
  /**
   * ANCHORLOG_WITNESS_LOG_KEYS: JSON array of the log keys it witnesses, as vkeys
   * (`<origin>+<key id>+<key>`, the `logKeys` of the log's TRUST.json); each
   * trusts the origin it is named after.
   */
  logs: ReadonlyMap<string, readonly NoteVerifier[]>;
}

export function loadWitnessServiceConfig(env: Env = process.env): WitnessServiceConfig {
  const keyName = required(env, 'ANCHORLOG_WITNESS_KEY_NAME');
  if (!isValidKeyName(keyName))
    throw new ConfigError('ANCHORLOG_WITNESS_KEY_NAME is not a valid note key name (no spaces, no +)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(required(env, 'ANCHORLOG_WITNESS_LOG_KEYS'));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('ANCHORLOG_WITNESS_LOG_KEYS is not JSON (want an array of vkeys)');
  }
  if (!Array.isArray(parsed) || parsed.some((k) => typeof k !== 'string'))
    throw new ConfigError('ANCHORLOG_WITNESS_LOG_KEYS must be a JSON array of vkey strings');
  const logs = new Map<string, NoteVerifier[]>();
  for (const vkey of parsed as string[]) {
    let v: NoteVerifier;
    try {
      v = parseVerifierKey(vkey);
    } catch (err) {
      throw new ConfigError(`ANCHORLOG_WITNESS_LOG_KEYS: ${(err as Error).message}`);
    }
    logs.set(v.name, [...(logs.get(v.name) ?? []), v]);
  }
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  return {
    aws: { region, ...(env.ANCHORLOG_AWS_ENDPOINT ? { endpoint: env.ANCHORLOG_AWS_ENDPOINT } : {}) },
    keyName,
    tableName: required(env, 'ANCHORLOG_WITNESS_TABLE'),
    seedSecret: required(env, 'ANCHORLOG_WITNESS_SEED_SECRET'),
    logs,
  };
}

/** Minimum length of the witness seed secret's text (generated: 64 alphanumerics, ~380 bits). */
export const MIN_WITNESS_SEED_CHARS = 32;

/**
 * The witness's 32-byte Ed25519 seed: SHA-256 of a fixed label and the text
 * of the secret named by ANCHORLOG_WITNESS_SEED_SECRET. The secret is
 * generated by Secrets Manager when the stack is created (the template never
 * holds it). Not KMS: KMS Ed25519 keys (ECC_NIST_EDWARDS25519) cannot be
 * created on the emulator the tests run on (docs/witnessing.md §The key).
 */
export async function loadWitnessSeed(
  config: WitnessServiceConfig,
  source: SecretSource,
): Promise<Uint8Array> {
  const setting = 'ANCHORLOG_WITNESS_SEED_SECRET';
  const text = await readSecret(source, setting, config.seedSecret);
  if (text.length < MIN_WITNESS_SEED_CHARS)
    throw new ConfigError(
      `the secret named by ${setting} must be at least ${MIN_WITNESS_SEED_CHARS} characters of random text`,
      'INVALID_SECRET',
    );
  return witnessSeedFromSecret(text);
}

/** The derivation `loadWitnessSeed` uses (exported for the CLI and tests). */
export function witnessSeedFromSecret(text: string): Uint8Array {
  return sha256(new TextEncoder().encode(`anchorlog witness seed v1\n${text}`));
}
