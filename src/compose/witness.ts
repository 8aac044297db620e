/**
 * Wiring of the witness service on AWS (lambdas/witness.ts): its DynamoDB
 * state table and its seed from Secrets Manager, read once per container.
 * Tests call it with the emulator's endpoint in the config.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoWitnessLedgerStore } from '../adapters/aws/dynamo-witness-ledger-store.ts';
import { SecretsManagerSource } from '../adapters/aws/secrets-manager-source.ts';
import { ensureTable } from '../adapters/aws/table.ts';
import { WitnessService } from '../app/witness-service.ts';
import { loadWitnessSeed, type WitnessServiceConfig } from '../config.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { WitnessLedgerStore } from '../ports/witness-ledger-store.ts';

export async function witnessServiceOnAws(
  config: WitnessServiceConfig,
  opts: { clock?: Clock } = {},
): Promise<WitnessService> {
  const settings = {
    region: config.aws.region,
    ...(config.aws.endpoint
      ? {
          endpoint: config.aws.endpoint,
          // The emulator accepts any credentials; never used against real AWS.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
  };
  const secretKey = await loadWitnessSeed(
    config,
    new SecretsManagerSource({ client: new SecretsManagerClient(settings) }),
  );
  return new WitnessService({
    keyName: config.keyName,
    secretKey,
    logs: config.logs,
    store: new DynamoWitnessLedgerStore({
      client: new DynamoDBClient(settings),
      tableName: config.tableName,
    }),
    clock: opts.clock ?? systemClock,
  });
}

/**
 * A witness state store on DynamoDB table `tableName`, created if missing (the local stack's
 * witnesses on the emulator: the store and the HTTP handling the Lambda witness runs).
 */
export async function witnessLedgerOnTable(
  ddb: DynamoDBClient,
  tableName: string,
): Promise<WitnessLedgerStore> {
  await ensureTable(ddb, tableName);
  return new DynamoWitnessLedgerStore({ client: ddb, tableName });
}
