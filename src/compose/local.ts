/**
 * What the CDK stack creates in AWS, created in the emulator for the local
 * stack (src/local/stack.ts): the table, the Object Lock archive bucket, the
 * exports bucket, the KMS signing key and the query cursor key secret.
 */

import { randomBytes } from 'node:crypto';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { createArchiveBucket } from '../adapters/aws/s3-archive-store.ts';
import { createIndexBucket } from '../adapters/aws/s3-columnar-index.ts';
import { createExportsBucket } from '../adapters/aws/s3-export-store.ts';
import { putSecret } from '../adapters/aws/secrets-manager-source.ts';
import { ensureTable } from '../adapters/aws/table.ts';
import type { AppConfig } from '../config.ts';
import { type AwsClients, createSecretsManagerClient } from './aws.ts';

export interface ProvisionedStores {
  /** The new P-256 signing key: set it as `config.signingKeyId`. */
  readonly signingKeyId: string;
  /** The cursor key secret (random per call): set it as `config.secrets.queryCursorKey`. */
  readonly cursorKeySecret: string;
}

export async function provisionEmulator(
  config: AppConfig,
  clients: AwsClients,
  opts: { retentionDays: number },
): Promise<ProvisionedStores> {
  await ensureTable(clients.ddb, config.tableName);
  await createArchiveBucket(clients.s3, config.archiveBucket, opts.retentionDays);
  if (config.exportsBucket) await createExportsBucket(clients.s3, config.exportsBucket);
  if (config.indexBucket) await createIndexBucket(clients.s3, config.indexBucket);
  const key = await clients.kms.send(
    new CreateKeyCommand({
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      Description: 'anchorlog local checkpoint signing key',
    }),
  );
  const signingKeyId = key.KeyMetadata?.KeyId;
  if (!signingKeyId) throw new Error('KMS CreateKey returned no key id');
  const cursorKeySecret = await putSecret(
    createSecretsManagerClient(config),
    'anchorlog/query-cursor-key',
    randomBytes(32).toString('base64url'),
  );
  return { signingKeyId, cursorKeySecret };
}

/**
 * Creates (or updates) a secret in the emulator's Secrets Manager and returns
 * its ARN: the local stack's alert receiver secret, read back by the deliver
 * job through the same SecretSource as in AWS.
 */
export async function putLocalSecret(config: AppConfig, name: string, value: string): Promise<string> {
  return putSecret(createSecretsManagerClient(config), name, value);
}

/**
 * The Rekor anchor key in the emulator's KMS (docs/anchoring.md §Rekor): a P-256 signing key of
 * its own, as a deployment would create next to the log signing key. Returns its key ID.
 */
export async function createLocalRekorAnchorKey(clients: AwsClients): Promise<string> {
  const key = await clients.kms.send(
    new CreateKeyCommand({
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      Description: 'anchorlog local Rekor anchor key',
    }),
  );
  const id = key.KeyMetadata?.KeyId;
  if (!id) throw new Error('KMS CreateKey returned no key id');
  return id;
}
