/**
 * `GET /v1/logs/{logId}/health` on moto, through the read function's route
 * table as deployed (src/compose/read.ts): a sealed log with a later unsealed
 * batch (checkpoint age and seal lag over the threshold), a halted log, a
 * created log with nothing in it; then garbage — bad log ids, unknown logs,
 * missing and wrong keys, stray query parameters and methods — each a 4xx
 * with its code, never a 5xx.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoSealStateStore } from '../../src/adapters/aws/dynamo-seal-state-store.ts';
import { createArchiveBucket } from '../../src/adapters/aws/s3-archive-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { readApi } from '../../src/compose/read.ts';
import { sealJob } from '../../src/compose/seal.ts';
import { createServices } from '../../src/compose/services.ts';
import { loadConfig } from '../../src/config.ts';
import { fromUtf8, utf8 } from '../../src/core/bytes.ts';
import { SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { createRouter } from '../../src/http/router.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { scheduledJob } from '../../src/jobs/scheduled-job.ts';
import { awsClientConfig, motoEndpoint } from '../support/aws.ts';

const TABLE = 'anchorlog-log-health';
const BUCKET = 'anchorlog-archive-log-health';
const T0 = Date.UTC(2026, 2, 1, 12);
const context = { getRemainingTimeInMillis: () => 120_000 };

let dispatch: (req: HttpRequest) => Promise<HttpResponse>;
let readerKey: string;
let otherLogKey: string;

function request(path: string, opts: { key?: string | null; method?: string } = {}): Promise<HttpResponse> {
  const url = new URL(path, 'http://x');
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => {
    query[k] = v;
  });
  const key = opts.key === undefined ? readerKey : opts.key;
  return dispatch({
    method: opts.method ?? 'GET',
    path: path.split('?')[0] as string,
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
    query,
    pathParams: {},
    body: new Uint8Array(0),
    requestId: 'req-health',
  });
}

const body = (r: HttpResponse) => JSON.parse(typeof r.body === 'string' ? r.body : fromUtf8(r.body));

const event = (at: string) =>
  utf8(
    JSON.stringify({
      events: [
        { occurredAt: at, actor: { type: 'agent', id: 'a' }, action: 'tool.call', outcome: 'success' },
      ],
    }),
  );

beforeAll(async () => {
  const ddb = new DynamoDBClient(awsClientConfig());
  await ensureTable(ddb, TABLE);
  await createArchiveBucket(new S3Client(awsClientConfig()), BUCKET, 1);
  const key = await new KMSClient(awsClientConfig()).send(
    new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }),
  );
  const env = {
    ANCHORLOG_TABLE: TABLE,
    ANCHORLOG_ARCHIVE_BUCKET: BUCKET,
    ANCHORLOG_SIGNING_KEY_ID: key.KeyMetadata?.KeyId ?? '',
    ANCHORLOG_AWS_ENDPOINT: motoEndpoint(),
    AWS_REGION: 'us-east-1',
    ANCHORLOG_HEALTH_SEAL_LAG_SECONDS: '60',
  };
  const clock = new ManualClock({ startMs: T0 });
  const services = createServices(loadConfig(env), { clock });
  await services.logRegistry.createLog(SYSTEM_LOG_ID);
  for (const logId of ['fine', 'stuck', 'empty']) await services.logRegistry.createLog(logId);
  const admin = await services.principals.bootstrapAdmin({ id: 'health-admin', name: 'Admin', owner: 'ops' });
  const mk = async (id: string, logs: string[]) =>
    (
      await services.principals.create(admin.principal, {
        id,
        name: id,
        kind: 'application',
        owner: 'health-admin',
        purpose: 'log health tests',
        scopes: Object.fromEntries(logs.map((l) => [l, ['proofs:read']])),
      })
    ).apiKey as string;
  readerKey = await mk('health-reader', ['fine', 'stuck', 'empty', 'nowhere']);
  otherLogKey = await mk('other-reader', ['empty']);

  for (const logId of ['fine', 'stuck'])
    await services.ingest.append({ logId, submitter: 'svc', body: event('2026-03-01T12:00:00Z') });
  // `fine` sealed at T0: one record under its checkpoint.
  await scheduledJob(sealJob(services, { metrics: new MemoryMetricsSink() }), () => {})(
    { logIds: ['fine'] },
    context,
  );
  // A second batch 5 s later stays unsealed; then 65 s pass.
  clock.advance(5_000);
  await services.ingest.append({ logId: 'fine', submitter: 'svc', body: event('2026-03-01T12:00:05Z') });
  clock.advance(65_000);
  // An integrity halt, as the sealer records one (src/app/seal.ts).
  await new DynamoSealStateStore({ client: ddb, tableName: TABLE }).halt(
    'stuck',
    'FORK: the archive holds a checkpoint this state does not extend',
    T0,
  );
  dispatch = createRouter(readApi(services), { authenticate: services.authenticate });
});

describe('GET /v1/logs/{logId}/health', () => {
  it('reports the sealed size, the checkpoint age and a seal lag over the threshold', async () => {
    const res = await request('/v1/logs/fine/health');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(body(res)).toEqual({
      logId: 'fine',
      observedAt: new Date(T0 + 70_000).toISOString(),
      sealedSize: 1,
      sealedAt: new Date(T0).toISOString(),
      checkpointAgeSeconds: 70,
      published: true,
      sealLag: {
        seconds: 65,
        thresholdSeconds: 60,
        over: true,
        oldestUnsealed: { seq: 2, receivedAt: new Date(T0 + 5_000).toISOString() },
      },
      halted: null,
    });
  });

  it('reports a halted log with its halt code and message', async () => {
    const h = body(await request('/v1/logs/stuck/health'));
    expect(h.halted).toEqual({
      code: 'FORK',
      message: 'FORK: the archive holds a checkpoint this state does not extend',
    });
    expect(h.sealedSize).toBe(0);
    expect(h.sealedAt).toBeNull();
    expect(h.sealLag).toMatchObject({ seconds: 70, over: true, oldestUnsealed: { seq: 1 } });
  });

  it('reports a created log with nothing in it as size 0, no lag, not halted', async () => {
    expect(body(await request('/v1/logs/empty/health'))).toMatchObject({
      sealedSize: 0,
      sealedAt: null,
      checkpointAgeSeconds: null,
      sealLag: { seconds: 0, over: false, oldestUnsealed: null },
      halted: null,
    });
  });

  it('answers garbage with a 4xx and its code, never a 5xx', async () => {
    const cases: [string, { key?: string | null; method?: string }, number, string][] = [
      ['/v1/logs/nowhere/health', {}, 404, 'NOT_FOUND'],
      ['/v1/logs/a%23b/health', {}, 400, 'BAD_REQUEST'],
      ['/v1/logs/..%2F..%2Fsystem/health', {}, 400, 'BAD_REQUEST'],
      [`/v1/logs/${'x'.repeat(300)}/health`, {}, 400, 'BAD_REQUEST'],
      ['/v1/logs/%00/health', {}, 400, 'BAD_REQUEST'],
      ['/v1/logs/fine/health', { key: null }, 401, 'UNAUTHENTICATED'],
      ['/v1/logs/fine/health', { key: 'al_garbage' }, 401, 'UNAUTHENTICATED'],
      ['/v1/logs/fine/health', { key: otherLogKey }, 403, 'FORBIDDEN'],
      ['/v1/logs/system/health', {}, 403, 'FORBIDDEN'],
    ];
    for (const [path, opts, status, code] of cases) {
      const res = await request(path, opts);
      expect([path, res.status, body(res).error?.code]).toEqual([path, status, code]);
    }
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await request('/v1/logs/fine/health', { method });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    // Query parameters mean nothing here: ignored, whatever they hold.
    expect((await request('/v1/logs/fine/health?size=-1&x=%FF%FE')).status).toBe(200);
  });
});
