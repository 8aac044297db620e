/**
 * The query tests' environment (./query-harness.ts) on DynamoDB and S3 in
 * moto, for the Lambda handler's test, which reads its table from config.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { DynamoQueryIndex } from '../../src/adapters/aws/dynamo-query-index.ts';
import { DynamoSealStateStore } from '../../src/adapters/aws/dynamo-seal-state-store.ts';
import { createArchiveBucket, S3ArchiveStore } from '../../src/adapters/aws/s3-archive-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { awsClientConfig } from '../support/aws.ts';
import { type QEnv, queryEnvOn } from './query-harness.ts';

export async function queryEnvOnMoto(name: string): Promise<QEnv & { table: string }> {
  const cfg = awsClientConfig();
  const ddb = new DynamoDBClient(cfg);
  const s3 = new S3Client(cfg);
  const table = `anchorlog-${name}`;
  const bucket = `anchorlog-archive-${name}`;
  await ensureTable(ddb, table);
  await createArchiveBucket(s3, bucket, 400);
  return {
    ...queryEnvOn({
      logs: new DynamoLogStore({ client: ddb, tableName: table, sleep: async () => {} }),
      index: new DynamoQueryIndex({ client: ddb, tableName: table, sleep: async () => {} }),
      archive: new S3ArchiveStore({ client: s3, bucket }),
      sealState: new DynamoSealStateStore({ client: ddb, tableName: table }),
    }),
    table,
  };
}
