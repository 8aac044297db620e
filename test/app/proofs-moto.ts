/**
 * The read side of ./proofs-fixture.ts on DynamoDB and S3 in moto, for the
 * tests about what only S3 does (presigned URLs of archived versions).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { DynamoPrincipalStore } from '../../src/adapters/aws/dynamo-principal-store.ts';
import { DynamoSealStateStore } from '../../src/adapters/aws/dynamo-seal-state-store.ts';
import { createArchiveBucket, S3ArchiveStore } from '../../src/adapters/aws/s3-archive-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { awsClientConfig } from '../support/aws.ts';
import { type ReadEnv, readEnvOn } from './proofs-fixture.ts';

export async function readEnvOnMoto(name: string): Promise<ReadEnv> {
  const cfg = awsClientConfig();
  const ddb = new DynamoDBClient(cfg);
  const s3 = new S3Client(cfg);
  const table = `anchorlog-${name}`;
  const bucket = `anchorlog-archive-${name}`;
  await ensureTable(ddb, table);
  await createArchiveBucket(s3, bucket, 1);
  return readEnvOn({
    logs: new DynamoLogStore({ client: ddb, tableName: table, sleep: async () => {} }),
    state: new DynamoSealStateStore({ client: ddb, tableName: table }),
    archive: new S3ArchiveStore({ client: s3, bucket }),
    principals: new DynamoPrincipalStore({ client: ddb, tableName: table }),
  });
}
