/**
 * The SDK clients, made once per container from the config (module scope in
 * the Lambdas, so every invocation reuses them), and the cold-start reads
 * that go through them: secrets and public keys.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { kmsPublicKey } from '../adapters/aws/kms-signer.ts';
import { SecretsManagerSource } from '../adapters/aws/secrets-manager-source.ts';
import { type AppConfig, ConfigError } from '../config.ts';
import type { SecretSource } from '../ports/secret-source.ts';

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
 * A Secrets Manager client: only for the functions that read a secret at
 * cold start (query: the cursor key; anchor: TSA credentials) and for the
 * local stack, which stores the cursor key in the emulator.
 */
export function createSecretsManagerClient(config: AppConfig): SecretsManagerClient {
  return new SecretsManagerClient(clientSettings(config));
}

/** An SNS client: only for the deliver function, when a destination is an SNS topic. */
export function createSnsClient(config: AppConfig): SNSClient {
  return new SNSClient(clientSettings(config));
}

/** The secret source of a function that reads secrets; called once, at cold start. */
export function createSecretSource(config: AppConfig): SecretSource {
  return new SecretsManagerSource({ client: createSecretsManagerClient(config) });
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

/** The log key id, or the ConfigError a function that needs it cannot start without. */
export function requireSigningKeyId(config: AppConfig): string {
  if (!config.signingKeyId)
    throw new ConfigError(
      'missing required environment variable ANCHORLOG_SIGNING_KEY_ID',
      'MISSING_SETTING',
    );
  return config.signingKeyId;
}

/** The log key's public key, then the retired ones: every key an archived checkpoint may be signed by. */
export async function loadLogPublicKeys(config: AppConfig, kms: KMSClient): Promise<Uint8Array[]> {
  const keyId = requireSigningKeyId(config);
  return [await kmsPublicKey(kms, keyId), ...(await loadRetiredPublicKeys(config, kms))];
}
