/**
 * The export environment (./export-harness.ts) on DynamoDB and S3 in moto,
 * anchored by the harness's two OpenSSL TSAs: for the tests about S3 uploads
 * and presigned downloads, DynamoDB items, and TSAs as configuration names them.
 */
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoAnchorStore } from '../../src/adapters/aws/dynamo-anchor-store.ts';
import { dynamoAnchoredSizes } from '../../src/adapters/aws/dynamo-anchored-sizes.ts';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { DynamoSealStateStore } from '../../src/adapters/aws/dynamo-seal-state-store.ts';
import { createArchiveBucket, S3ArchiveStore } from '../../src/adapters/aws/s3-archive-store.ts';
import { createExportsBucket, S3ExportStore } from '../../src/adapters/aws/s3-export-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { HttpTimestamper } from '../../src/adapters/tsa/http-timestamper.ts';
import { awsClientConfig } from '../support/aws.ts';
import { harnessTsas } from '../support/tsa.ts';
import { type ExportEnv, exportEnvOn } from './export-harness.ts';

export interface MotoExportEnv extends ExportEnv {
  ddb: DynamoDBClient;
  s3: S3Client;
  table: string;
  exportsBucket: string;
}

/** A TSA the anchor service asks, as src/config.ts `tsas[]` describes one. */
export interface HarnessTsa {
  name: string;
  url: string;
  rootsPem: string;
}

/**
 * `tsas` replaces the harness's two TSAs (`ecdsa`, `rsa`), e.g. with
 * `loadConfig(...).tsas`; the quorum is then all of them.
 */
export async function exportEnv(
  name: string,
  opts: { tsas?: readonly HarnessTsa[] } = {},
): Promise<MotoExportEnv> {
  const cfg = awsClientConfig();
  const ddb = new DynamoDBClient(cfg);
  const s3 = new S3Client(cfg);
  const table = `anchorlog-${name}`;
  const bucket = `anchorlog-archive-${name}`;
  const exportsBucket = `anchorlog-exports-${name}`;
  await ensureTable(ddb, table);
  await createArchiveBucket(s3, bucket, 1);
  await createExportsBucket(s3, exportsBucket);
  const tsa = harnessTsas();
  const tsaRootsPem = [
    readFileSync(tsa.ecdsa.rootCertPath, 'utf8'),
    readFileSync(tsa.rsa.rootCertPath, 'utf8'),
  ];
  const tsas = opts.tsas ?? [
    { name: 'ecdsa', url: tsa.ecdsa.url, rootsPem: tsaRootsPem[0] as string },
    { name: 'rsa', url: tsa.rsa.url, rootsPem: tsaRootsPem[1] as string },
  ];
  const env = exportEnvOn({
    logs: new DynamoLogStore({ client: ddb, tableName: table, sleep: async () => {} }),
    archive: new S3ArchiveStore({ client: s3, bucket }),
    state: new DynamoSealStateStore({ client: ddb, tableName: table }),
    anchors: new DynamoAnchorStore({ client: ddb, tableName: table }),
    anchoredSizes: dynamoAnchoredSizes({ client: ddb, tableName: table }),
    store: new S3ExportStore({ client: s3, bucket: exportsBucket }),
    timestampers: tsas.map((t) => new HttpTimestamper(t)),
    tsaRootsPem,
  });
  return { ...env, ddb, s3, table, exportsBucket };
}
