// lambdas/witness.ts as Lambda runs it, on the emulator: its settings from the environment,
// its seed from Secrets Manager, its state in DynamoDB; requests as function URL events.
// Then the log's witness client against the same service over HTTP (the node:http face with
// the DynamoDB store), through a crash between the witness's persist and its reply.
import { createServer } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoWitnessLedgerStore } from '../../src/adapters/aws/dynamo-witness-ledger-store.ts';
import { putSecret } from '../../src/adapters/aws/secrets-manager-source.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { MemoryArchiveStore } from '../../src/adapters/memory/archive-store.ts';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { MemoryWitnessStateStore } from '../../src/adapters/memory/witness-state.ts';
import { HttpWitness } from '../../src/adapters/witness/http-witness.ts';
import { WitnessService as LogWitnessing } from '../../src/app/witness.ts';
import { type ConfigError, loadWitnessServiceConfig, witnessSeedFromSecret } from '../../src/config.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { formatVerifierKey } from '../../src/core/note/vkey.ts';
import {
  cosignerFromSecret,
  parseCosignerKey,
  verifyCosignature,
} from '../../src/core/witness/cosignature.ts';
import {
  formatAddCheckpointRequest,
  MAX_ADD_CHECKPOINT_BYTES,
  parseCosignatureResponse,
} from '../../src/core/witness/protocol.ts';
import { originHash } from '../../src/core/witness/witness.ts';
import { startLocalWitness } from '../../src/local/witness.ts';
import { systemClock } from '../../src/ports/clock.ts';
import { testLog } from '../core/witness/support.ts';
import { awsClientConfig, motoEndpoint } from '../support/aws.ts';

const TABLE = 'anchorlog-witness-lambda';
const SEED_TEXT = 'Wq7Lp2Xz9Vn4Kc1Hs8Dm5Tb3Gy6Jf0Ua2Oe7Ni4Rr1';
const KEY_NAME = 'witness.lambda.test';
const log = testLog('witness-lambda.test/prod');
const stranger = testLog('witness-lambda.test/prod'); // same origin, another key
const saved = { ...process.env };
let seedArn: string;
let shortArn: string;
const servers: { close(): Promise<void> }[] = [];

type Handler = (e: LambdaFunctionURLEvent) => Promise<LambdaFunctionURLResult>;
type Result = { statusCode: number; headers: Record<string, string>; body: string };

function event(method: string, path: string, body?: string, base64 = false): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: {},
    isBase64Encoded: base64,
    ...(body !== undefined ? { body: base64 ? Buffer.from(body).toString('base64') : body } : {}),
    requestContext: { requestId: 'req-witness', http: { method, path } },
  } as unknown as LambdaFunctionURLEvent;
}

async function load(extra: Record<string, string> = {}): Promise<Handler> {
  vi.resetModules();
  process.env = {
    ...saved,
    ANCHORLOG_AWS_ENDPOINT: motoEndpoint(),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    ANCHORLOG_WITNESS_KEY_NAME: KEY_NAME,
    ANCHORLOG_WITNESS_TABLE: TABLE,
    ANCHORLOG_WITNESS_SEED_SECRET: seedArn,
    ANCHORLOG_WITNESS_LOG_KEYS: JSON.stringify([formatVerifierKey(log.verifier)]),
    ...extra,
  };
  return (await import('../../lambdas/witness.ts')).handler as Handler;
}

const call = async (h: Handler, e: LambdaFunctionURLEvent) => (await h(e)) as Result;
const add = (h: Handler, oldSize: number, proof: Uint8Array[], checkpoint: string) =>
  call(h, event('POST', '/add-checkpoint', formatAddCheckpointRequest({ oldSize, proof, checkpoint })));
const noteText = (cp: string) => cp.slice(0, cp.indexOf('\n\n') + 1);

beforeAll(async () => {
  const sm = new SecretsManagerClient(awsClientConfig());
  seedArn = await putSecret(sm, 'anchorlog/witness-seed', SEED_TEXT);
  shortArn = await putSecret(sm, 'anchorlog/witness-seed-short', 'too-short');
  await ensureTable(new DynamoDBClient(awsClientConfig()), TABLE);
});
afterEach(() => {
  process.env = { ...saved };
});
afterAll(() => Promise.all(servers.map((s) => s.close())));

describe('lambdas/witness cold start', () => {
  it('does not start without its settings, with a short seed or a bad log key', async () => {
    const missing = await load({ ANCHORLOG_WITNESS_TABLE: '' }).catch((e: unknown) => e);
    expect((missing as Error).name).toBe('ConfigError');
    expect((missing as ConfigError).code).toBe('MISSING_SETTING');
    const short = await load({ ANCHORLOG_WITNESS_SEED_SECRET: shortArn }).catch((e: unknown) => e);
    expect((short as ConfigError).code).toBe('INVALID_SECRET');
    const bad = await load({ ANCHORLOG_WITNESS_LOG_KEYS: '["nope"]' }).catch((e: unknown) => e);
    expect((bad as ConfigError).code).toBe('INVALID_SETTING');
    const gone = await load({ ANCHORLOG_WITNESS_SEED_SECRET: 'anchorlog/none' }).catch((e: unknown) => e);
    expect((gone as ConfigError).code).toBe('SECRET_UNREADABLE');
  });

  it('the config trusts each log key for the origin it is named after', () => {
    const c = loadWitnessServiceConfig({
      ANCHORLOG_WITNESS_KEY_NAME: KEY_NAME,
      ANCHORLOG_WITNESS_TABLE: TABLE,
      ANCHORLOG_WITNESS_SEED_SECRET: 'arn',
      ANCHORLOG_WITNESS_LOG_KEYS: JSON.stringify([formatVerifierKey(log.verifier)]),
    });
    expect([...c.logs.keys()]).toEqual([log.origin]);
  });
});

describe('lambdas/witness on DynamoDB', () => {
  it('publishes the vkey its seed gives, and keeps it across cold starts', async () => {
    const h = await load();
    const r = await call(h, event('GET', '/vkey'));
    expect(r.statusCode).toBe(200);
    const expected = cosignerFromSecret(KEY_NAME, witnessSeedFromSecret(SEED_TEXT));
    expect(parseCosignerKey(r.body.trim()).publicKey).toEqual(expected.publicKey);
    expect((await call(await load(), event('GET', '/vkey'))).body).toBe(r.body);
  });

  it('cosigns, persists before it answers (a new container sees the size), answers 409 as text/x.tlog.size, serves the monitoring view', async () => {
    const h = await load();
    log.append(4, 'a');
    const cp4 = await log.checkpoint();
    const r = await add(h, 0, [], cp4);
    expect(r.statusCode).toBe(200);
    const vkey = (await call(h, event('GET', '/vkey'))).body.trim();
    const [line] = parseCosignatureResponse(noteText(cp4), r.body);
    if (!line) throw new Error('no line');
    expect(verifyCosignature(parseCosignerKey(vkey), noteText(cp4), line)).toBeGreaterThan(0);

    const cold = await load();
    const c = await add(cold, 0, [], cp4);
    expect(c).toMatchObject({ statusCode: 409, body: '4\n' });
    expect(c.headers['content-type']).toBe('text/x.tlog.size');

    log.append(3, 'b');
    const cp7 = await log.checkpoint();
    // A body sent base64-encoded (function URLs do so for binary content types) is read the same.
    const b = await call(
      cold,
      event(
        'POST',
        '/add-checkpoint',
        formatAddCheckpointRequest({ oldSize: 4, proof: log.proof(4, 7), checkpoint: cp7 }),
        true,
      ),
    );
    expect(b.statusCode).toBe(200);
    const m = await call(cold, event('GET', `/${originHash(log.origin)}/checkpoint`));
    expect(m).toMatchObject({ statusCode: 200, body: `${cp7}${b.body}` });
  });

  it('refuses with the protocol’s statuses, and writes nothing', async () => {
    const h = await load();
    const store = new DynamoWitnessLedgerStore({
      client: new DynamoDBClient(awsClientConfig()),
      tableName: TABLE,
    });
    const before = await store.get(originHash(log.origin));
    const other = testLog('witness-lambda.test/unknown');
    other.append(2);
    expect((await add(h, 0, [], await other.checkpoint())).statusCode).toBe(404);
    stranger.leaves = log.leaves.slice();
    stranger.append(5, 'x');
    const size = stranger.leaves.length;
    expect((await add(h, before?.size ?? 0, [], await stranger.checkpoint())).statusCode).toBe(403);
    expect((await call(h, event('POST', '/add-checkpoint', 'garbage'))).statusCode).toBe(400);
    expect(
      (await call(h, event('POST', '/add-checkpoint', 'x'.repeat(MAX_ADD_CHECKPOINT_BYTES + 1)))).statusCode,
    ).toBe(400);
    expect((await call(h, event('GET', '/add-checkpoint'))).statusCode).toBe(405);
    expect((await call(h, event('GET', '/elsewhere'))).statusCode).toBe(404);
    expect((await call(h, event('GET', `/${'0'.repeat(64)}/checkpoint`))).statusCode).toBe(404);
    // old size above the checkpoint's
    expect((await add(h, size + 10, [], await log.checkpoint())).statusCode).toBe(400);
    expect(await store.get(originHash(log.origin))).toEqual(before);
  });

  it('two concurrent conflicting checkpoints (a split view): exactly one is cosigned', async () => {
    const l = testLog('witness-lambda.test/race');
    const keys = { ANCHORLOG_WITNESS_LOG_KEYS: JSON.stringify([formatVerifierKey(l.verifier)]) };
    // Two containers of the function, one request each.
    const [a, b] = [await load(keys), await load(keys)];
    l.append(3, 'base');
    expect((await add(a, 0, [], await l.checkpoint())).statusCode).toBe(200);
    const fork = testLog(l.origin, l.signer);
    fork.leaves = l.leaves.slice();
    l.append(4, 'left');
    fork.append(4, 'right');
    const [left, right] = [await l.checkpoint(), await fork.checkpoint()];
    const answers = await Promise.all([add(a, 3, l.proof(3, 7), left), add(b, 3, fork.proof(3, 7), right)]);
    expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const loser = answers[0]?.statusCode === 200 ? right : left;
    expect((await add(b, 7, [], loser)).statusCode).toBe(422);
  });
});

describe('the log’s witness client against the witness on DynamoDB over HTTP', () => {
  it('a crash between the witness’s persist and its reply: the next run resends from its size, one root per size', async () => {
    const l = testLog('witness-lambda.test/crash');
    const store = new DynamoWitnessLedgerStore({
      client: new DynamoDBClient(awsClientConfig()),
      tableName: TABLE,
    });
    let crash = false;
    const w = await startLocalWitness({
      keyName: KEY_NAME,
      secretKey: witnessSeedFromSecret(SEED_TEXT),
      logs: new Map([[l.origin, [l.verifier]]]),
      store,
      fault: () => (crash ? 'crash-after-persist' : undefined),
    });
    servers.push(w);
    const archive = new MemoryArchiveStore();
    const svc = new LogWitnessing({
      archive,
      originPrefix: 'witness-lambda.test',
      logPublicKeys: [l.signer.publicKeySpki],
      witnesses: [new HttpWitness({ name: 'aws', url: w.url, cosigner: w.cosigner, timeoutMs: 5000 })],
      quorum: 1,
      state: new MemoryWitnessStateStore(),
      consistencyProof: async (_id, from, to) => l.proof(from, to),
      clock: new ManualClock({ startMs: systemClock.now() }),
      random: (n) => new Uint8Array(n),
      metrics: new MemoryMetricsSink(),
      retry: { attempts: 1 },
    });
    l.append(5);
    let put = await archive.putCheckpoint('crash', await l.checkpoint(), { ifNoneMatch: '*' });
    expect((await svc.witnessLog('crash')).status).toBe('witnessed');
    l.append(5);
    if (!put.written) throw new Error('not published');
    put = await archive.putCheckpoint('crash', await l.checkpoint(), { ifMatch: put.etag });
    crash = true;
    const lost = await svc.witnessLog('crash');
    expect(lost.witnesses[0]).toMatchObject({ result: 'failed', failure: { code: 'WITNESS_UNREACHABLE' } });
    const persisted = await store.get(originHash(l.origin));
    expect(persisted?.size).toBe(10);
    crash = false;
    const next = await svc.witnessLog('crash');
    expect(next.witnesses[0]).toMatchObject({ result: 'cosigned', witnessSize: 10, requests: 2 });
    const after = await store.get(originHash(l.origin));
    expect(after?.size).toBe(10);
    expect(toBase64(after?.rootHash ?? new Uint8Array())).toBe(
      toBase64(persisted?.rootHash ?? new Uint8Array(1)),
    );
  });
});

describe('the log’s HttpWitness against the Lambda handler', () => {
  it('speaks the protocol through the function URL mapping: cosigned, then 409 parsed as a conflict', async () => {
    const l = testLog('witness-lambda.test/url');
    const h = await load({ ANCHORLOG_WITNESS_LOG_KEYS: JSON.stringify([formatVerifierKey(l.verifier)]) });
    // What a function URL does: the request as a payload 2.0 event (the body base64-encoded, as
    // for any content type it does not treat as text), the result back as the HTTP response.
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const e = event(req.method ?? 'GET', new URL(req.url ?? '/', 'http://x').pathname);
        const out = await call(h, {
          ...e,
          body: Buffer.concat(chunks).toString('base64'),
          isBase64Encoded: true,
        });
        res.writeHead(out.statusCode, out.headers);
        res.end(out.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    servers.push({
      close: () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    });
    const addr = server.address();
    if (!addr || typeof addr !== 'object') throw new Error('no address');
    const cosigner = cosignerFromSecret(KEY_NAME, witnessSeedFromSecret(SEED_TEXT));
    const client = new HttpWitness({ name: 'lambda', url: `http://127.0.0.1:${addr.port}`, cosigner });
    l.append(3);
    const cp = await l.checkpoint();
    const got = await client.addCheckpoint({ oldSize: 0, proof: [], checkpoint: cp });
    if (got.kind !== 'cosigned') throw new Error(got.kind);
    const line = got.signatures.find((sig) => verifyCosignature(cosigner, noteText(cp), sig) !== undefined);
    expect(line).toBeDefined();
    expect(await client.addCheckpoint({ oldSize: 0, proof: [], checkpoint: cp })).toEqual({
      kind: 'conflict',
      size: 3,
    });
  });
});
