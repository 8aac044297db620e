/**
 * Configuration, read once from the environment into a typed object that is
 * passed in everywhere else (Powertools `envUtils` style). This is the only
 * module that reads `process.env` outside the CLI entry and the local stack.
 * A missing required key fails loudly at cold start, not on the first request.
 */
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
  /** Optional value for the Authorization header (commercial TSAs). */
  authorization?: string;
}

export interface AppConfig {
  aws: AwsSettings;
  tableName: string;
  archiveBucket: string;
  exportsBucket?: string;
  /** KMS key id/ARN used by the sealer (only the seal role may sign with it). */
  signingKeyId?: string;
  /** Checkpoint origin is `${originPrefix}/${logId}`. */
  originPrefix: string;
  limits: { maxBodyBytes: number; maxEventsPerBatch: number };
  tsas: TsaSettings[];
  /** Minimum number of TSAs that must succeed for an anchor to count. */
  anchorQuorum: number;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function required(env: Env, key: string): string {
  const v = env[key];
  if (v === undefined || v === '') throw new ConfigError(`missing required environment variable ${key}`);
  return v;
}

function int(env: Env, key: string, dflt: number, min: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min)
    throw new ConfigError(`${key} must be an integer >= ${min}, got ${raw}`);
  return n;
}

export const DEFAULT_LIMITS = { maxBodyBytes: 2 * 1024 * 1024, maxEventsPerBatch: 1000 };

export function loadConfig(env: Env = process.env): AppConfig {
  let tsas: TsaSettings[] = [];
  if (env.ANCHORLOG_TSAS) {
    try {
      tsas = JSON.parse(env.ANCHORLOG_TSAS) as TsaSettings[];
    } catch {
      throw new ConfigError('ANCHORLOG_TSAS must be a JSON array of {name,url,rootsPem,authorization?}');
    }
    if (!Array.isArray(tsas)) throw new ConfigError('ANCHORLOG_TSAS must be a JSON array');
  }
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  return {
    aws: { region, ...(env.ANCHORLOG_AWS_ENDPOINT ? { endpoint: env.ANCHORLOG_AWS_ENDPOINT } : {}) },
    tableName: required(env, 'ANCHORLOG_TABLE'),
    archiveBucket: required(env, 'ANCHORLOG_ARCHIVE_BUCKET'),
    ...(env.ANCHORLOG_EXPORTS_BUCKET ? { exportsBucket: env.ANCHORLOG_EXPORTS_BUCKET } : {}),
    ...(env.ANCHORLOG_SIGNING_KEY_ID ? { signingKeyId: env.ANCHORLOG_SIGNING_KEY_ID } : {}),
    originPrefix: env.ANCHORLOG_ORIGIN_PREFIX ?? 'anchorlog.local',
    limits: {
      maxBodyBytes: int(env, 'ANCHORLOG_MAX_BODY_BYTES', DEFAULT_LIMITS.maxBodyBytes, 1024 * 1024),
      maxEventsPerBatch: int(env, 'ANCHORLOG_MAX_EVENTS_PER_BATCH', DEFAULT_LIMITS.maxEventsPerBatch, 1000),
    },
    tsas,
    anchorQuorum: int(env, 'ANCHORLOG_ANCHOR_QUORUM', Math.min(2, Math.max(1, tsas.length)), 1),
  };
}
