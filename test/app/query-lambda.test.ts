// lambdas/query.ts as Lambda runs it: the cursor key comes from the secret
// named by ANCHORLOG_QUERY_CURSOR_KEY_SECRET (Secrets Manager on moto), read
// at cold start; without it, or with a key in the environment, the module
// does not load. Answers come from the columnar index (ANCHORLOG_INDEX_BUCKET,
// S3 on moto), which the test builds by sealing the log and projecting it.
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createIndexBucket, S3ColumnarIndex } from '../../src/adapters/aws/s3-columnar-index.ts';
import { putSecret } from '../../src/adapters/aws/secrets-manager-source.ts';
import { ColumnarIndexer } from '../../src/app/columnar-indexer.ts';
import type { ConfigError } from '../../src/config.ts';
import type { ApiEvent } from '../../src/http/lambda-adapter.ts';
import { awsClientConfig, motoEndpoint } from '../support/aws.ts';
import { principal } from './proofs-fixture.ts';
import { grow, type QEnv } from './query-harness.ts';
import { queryEnvOnMoto } from './query-moto.ts';

const LOG = 'lq';
const INDEX_BUCKET = 'anchorlog-index-lambda-q';
let env: QEnv & { table: string };
let keyArn: string;
const saved = { ...process.env };

function event(query: Record<string, string>): ApiEvent {
  return {
    version: '2.0',
    routeKey: 'GET /v1/logs/{logId}/events',
    rawPath: `/v1/logs/${LOG}/events`,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: {},
    queryStringParameters: query,
    isBase64Encoded: false,
    requestContext: {
      requestId: 'req-lambda-q',
      http: { method: 'GET', path: `/v1/logs/${LOG}/events` },
      authorizer: { lambda: { principal: JSON.stringify(principal({ [LOG]: ['events:read'] })) } },
    },
  } as unknown as ApiEvent;
}

async function load(extra: Record<string, string>) {
  vi.resetModules();
  process.env = {
    ...saved,
    ANCHORLOG_TABLE: env.table,
    ANCHORLOG_ARCHIVE_BUCKET: 'anchorlog-archive-lambda-q',
    ANCHORLOG_INDEX_BUCKET: INDEX_BUCKET,
    ANCHORLOG_AWS_ENDPOINT: motoEndpoint(),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    ...extra,
  };
  return import('../../lambdas/query.ts');
}

beforeAll(async () => {
  env = await queryEnvOnMoto('lambda-q');
  await env.logRegistry.createLog(LOG);
  await grow(env, LOG, { batches: 4, maxPer: 5, maxGapMs: 60_000, seed: 5 });
  const s3 = new S3Client(awsClientConfig());
  await createIndexBucket(s3, INDEX_BUCKET);
  const indexer = new ColumnarIndexer({
    archive: env.archive,
    sealState: env.sealState,
    index: new S3ColumnarIndex({ client: s3, bucket: INDEX_BUCKET }),
    clock: env.clock,
  });
  const sealer = env.sealer();
  for (let i = 0; i < 50 && (await sealer.sealLog(LOG)).more; i++);
  await indexer.project(LOG);
  keyArn = await putSecret(
    new SecretsManagerClient(awsClientConfig()),
    'anchorlog/query-cursor-key',
    'R8kq2Vn5Xz1Lc7Pw4Hs9Dm3Tb6Gy0Jf2Ua5Oe8Ni1',
  );
});

afterEach(() => {
  process.env = { ...saved };
});

describe('lambdas/query cold start', () => {
  it('does not start without ANCHORLOG_QUERY_CURSOR_KEY_SECRET', async () => {
    const err = await load({}).catch((e: unknown) => e);
    // resetModules gives each load its own copy of src/config.ts: compare by name, not class.
    expect((err as Error).name).toBe('ConfigError');
    expect((err as ConfigError).code).toBe('MISSING_SETTING');
  });

  it('does not start with the key in a plain environment variable, even next to the secret', async () => {
    const err = await load({
      ANCHORLOG_QUERY_CURSOR_KEY: 'Zq3v8Hn2Wc7Lp4Tx9Bd6Fs1Km5Rj0Ya8Ue3Ni7Og2',
      ANCHORLOG_QUERY_CURSOR_KEY_SECRET: keyArn,
    }).catch((e: unknown) => e);
    expect((err as ConfigError).code).toBe('SECRET_IN_ENVIRONMENT');
  });

  it('does not start when the named secret does not exist', async () => {
    const err = await load({ ANCHORLOG_QUERY_CURSOR_KEY_SECRET: `${keyArn}-gone` }).catch((e: unknown) => e);
    expect((err as ConfigError).code).toBe('SECRET_UNREADABLE');
  });

  it('with the secret: pages with cursors it signed and refuses one it did not', async () => {
    const { handler } = await load({ ANCHORLOG_QUERY_CURSOR_KEY_SECRET: keyArn });
    const first = await handler(event({ limit: '3' }));
    expect(first.statusCode).toBe(200);
    const cursor = JSON.parse(first.body ?? '{}').cursor as string;
    expect(cursor).toMatch(/\./);
    expect((await handler(event({ limit: '3', cursor }))).statusCode).toBe(200);
    const [payload] = cursor.split('.');
    const forged = await handler(event({ limit: '3', cursor: `${payload}.AAAAAAAAAAAAAAAAAAAAAA` }));
    expect(forged.statusCode).toBe(400);
    expect(JSON.parse(forged.body ?? '{}').error).toMatchObject({
      code: 'BAD_REQUEST',
      path: '/query/cursor',
    });
  });
});
