/**
 * Composition root: SDK clients and services built once from the config.
 * Lambdas call this at module scope (so clients are reused across
 * invocations); the local stack calls it with the emulator's endpoint.
 * Nothing below this file constructs an adapter or reads the environment.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoLogStore } from './adapters/aws/dynamo-log-store.ts';
import { DynamoPrincipalStore } from './adapters/aws/dynamo-principal-store.ts';
import { KmsNoteSigner, kmsPublicKey } from './adapters/aws/kms-signer.ts';
import { S3ArchiveStore } from './adapters/aws/s3-archive-store.ts';
import { SecretsManagerSource } from './adapters/aws/secrets-manager-source.ts';
import { SystemLogAuditReader, SystemLogAuditSink } from './app/admin-audit.ts';
import { IngestService } from './app/ingest.ts';
import { LogAdminService } from './app/log-admin.ts';
import { LogRegistry } from './app/log-registry.ts';
import { apiKeyFromHeaders, type BindingFailure, PrincipalService } from './app/principals.ts';
import { ProofService } from './app/proofs.ts';
import { type AppConfig, ConfigError } from './config.ts';
import type { Authenticate } from './http/router.ts';
import { type Clock, systemClock } from './ports/clock.ts';
import type { SecretSource } from './ports/secret-source.ts';

export interface AwsClients {
  ddb: DynamoDBClient;
  s3: S3Client;
  kms: KMSClient;
}

/** Client settings shared by every SDK client: the region, and the emulator's endpoint locally. */
function clientSettings(config: AppConfig) {
  return {
    region: config.aws.region,
    ...(config.aws.endpoint
      ? {
          endpoint: config.aws.endpoint,
          // The emulator accepts any credentials; never used against real AWS.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
  };
}

export function createAwsClients(config: AppConfig): AwsClients {
  const common = clientSettings(config);
  return {
    ddb: new DynamoDBClient(common),
    s3: new S3Client({ ...common, forcePathStyle: Boolean(config.aws.endpoint) }),
    kms: new KMSClient(common),
  };
}

/**
 * The secret source of a function that reads secrets (query: the cursor key;
 * anchor: TSA credentials). Called once at cold start, by the functions that
 * need it only, so no other function constructs a Secrets Manager client.
 */
export function createSecretSource(config: AppConfig): SecretSource {
  return new SecretsManagerSource({ client: new SecretsManagerClient(clientSettings(config)) });
}

/**
 * Public keys (DER SPKI) of the retired log keys (ANCHORLOG_RETIRED_SIGNING_KEYS):
 * PEMs as configured, KMS keys through GetPublicKey. Read once at cold start
 * by the seal and anchor functions, which accept checkpoints they signed.
 */
export async function loadRetiredPublicKeys(config: AppConfig, kms: KMSClient): Promise<Uint8Array[]> {
  return Promise.all(
    config.retiredSigningKeys.map((k) => ('spki' in k ? k.spki : kmsPublicKey(kms, k.kmsKeyId))),
  );
}

/** The log key's public key, then the retired ones: every key an archived checkpoint may be signed by. */
export async function loadLogPublicKeys(config: AppConfig, kms: KMSClient): Promise<Uint8Array[]> {
  if (!config.signingKeyId)
    throw new ConfigError(
      'missing required environment variable ANCHORLOG_SIGNING_KEY_ID',
      'MISSING_SETTING',
    );
  return [await kmsPublicKey(kms, config.signingKeyId), ...(await loadRetiredPublicKeys(config, kms))];
}

export interface Services {
  config: AppConfig;
  clients: AwsClients;
  clock: Clock;
  logStore: DynamoLogStore;
  ingest: IngestService;
  /** Writes log metadata and the registry: the admin paths only (LogAdminService, the audit sink). */
  logRegistry: LogRegistry;
  principals: PrincipalService;
  /** Creates logs through the admin API, recording `log.create` first. */
  logAdmin: LogAdminService;
  authenticate: Authenticate;
}

/**
 * A principal item that its system-log record does not back: someone wrote
 * `P#<id>` outside PrincipalService. One ERROR line per refused request, with
 * a fixed message to alarm on (docs/operations.md).
 */
function logBindingFailure(f: BindingFailure): void {
  console.error(
    JSON.stringify({ level: 'ERROR', message: 'principal not bound to its system-log record', ...f }),
  );
}

export function createServices(
  config: AppConfig,
  opts: {
    clients?: AwsClients;
    clock?: Clock;
    onWarning?: (m: string, cause: unknown) => void;
    onBindingFailure?: (failure: BindingFailure) => void;
  } = {},
): Services {
  const clients = opts.clients ?? createAwsClients(config);
  const clock = opts.clock ?? systemClock;
  const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  const logStore = new DynamoLogStore({ client: clients.ddb, tableName: config.tableName });
  const ingest = new IngestService({
    store: logStore,
    clock,
    random,
    limits: config.limits,
    ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
  });
  const logRegistry = new LogRegistry({ store: logStore, clock });
  const auditLog = new SystemLogAuditReader(logStore);
  const audit = new SystemLogAuditSink(logRegistry, ingest, auditLog);
  const principals = new PrincipalService({
    store: new DynamoPrincipalStore({ client: clients.ddb, tableName: config.tableName }),
    clock,
    random,
    audit,
    auditLog,
    onBindingFailure: opts.onBindingFailure ?? logBindingFailure,
  });
  const logAdmin = new LogAdminService({ registry: logRegistry, logs: logStore, audit, auditLog, clock });
  const authenticate: Authenticate = (req) => principals.authenticate(apiKeyFromHeaders(req.headers));
  return { config, clients, clock, logStore, ingest, logRegistry, principals, logAdmin, authenticate };
}

/**
 * The read side (checkpoint, tiles, proofs, keys) over the archive bucket.
 * The public key is fetched from KMS (GetPublicKey only; the read role never
 * signs) on the first /v1/keys, so `config.signingKeyId` may be set after
 * this call (the local stack creates its key later).
 */
export function createProofService(services: Pick<Services, 'config' | 'clients'>): ProofService {
  const { config, clients } = services;
  return new ProofService({
    archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
    originPrefix: config.originPrefix,
    publicKeys: async () => {
      if (!config.signingKeyId) throw new Error('ANCHORLOG_SIGNING_KEY_ID is not configured');
      const k = await KmsNoteSigner.create({
        client: clients.kms,
        kmsKeyId: config.signingKeyId,
        keyName: config.originPrefix,
      });
      return [k.publicKeySpki];
    },
  });
}
