/**
 * Composition root: SDK clients and services built once from the config.
 * Lambdas call this at module scope (so clients are reused across
 * invocations); the local stack calls it with the emulator's endpoint.
 * Nothing below this file constructs an adapter or reads the environment.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoLogStore } from './adapters/aws/dynamo-log-store.ts';
import { DynamoPrincipalStore } from './adapters/aws/dynamo-principal-store.ts';
import { SystemLogAuditSink } from './app/admin-audit.ts';
import { IngestService } from './app/ingest.ts';
import { apiKeyFromHeaders, PrincipalService } from './app/principals.ts';
import type { AppConfig } from './config.ts';
import type { Authenticate } from './http/router.ts';
import { type Clock, systemClock } from './ports/clock.ts';

export interface AwsClients {
  ddb: DynamoDBClient;
  s3: S3Client;
  kms: KMSClient;
}

export function createAwsClients(config: AppConfig): AwsClients {
  const common = {
    region: config.aws.region,
    ...(config.aws.endpoint
      ? {
          endpoint: config.aws.endpoint,
          // The emulator accepts any credentials; never used against real AWS.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
  };
  return {
    ddb: new DynamoDBClient(common),
    s3: new S3Client({ ...common, forcePathStyle: Boolean(config.aws.endpoint) }),
    kms: new KMSClient(common),
  };
}

export interface Services {
  config: AppConfig;
  clients: AwsClients;
  clock: Clock;
  logStore: DynamoLogStore;
  ingest: IngestService;
  principals: PrincipalService;
  authenticate: Authenticate;
}

export function createServices(
  config: AppConfig,
  opts: { clients?: AwsClients; clock?: Clock; onWarning?: (m: string, cause: unknown) => void } = {},
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
  const principals = new PrincipalService({
    store: new DynamoPrincipalStore({ client: clients.ddb, tableName: config.tableName }),
    clock,
    random,
    audit: new SystemLogAuditSink(ingest),
  });
  const authenticate: Authenticate = (req) => principals.authenticate(apiKeyFromHeaders(req.headers));
  return { config, clients, clock, logStore, ingest, principals, authenticate };
}
