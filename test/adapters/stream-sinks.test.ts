/**
 * Each stream destination's wire format, checked by a receiver that parses
 * what the real one would (docs/streams.md "Wire formats"):
 *  - Datadog logs intake v2: POST /api/v2/logs, DD-API-KEY, a JSON array of at
 *    most 1,000 log objects and 5 MB uncompressed (docs.datadoghq.com "Send
 *    logs"), answered 202;
 *  - Standard Webhooks: webhook-id / webhook-timestamp / webhook-signature
 *    verified here with an implementation written from the spec on
 *    node:crypto (not the code under test), the id stable across retries;
 *  - S3: NDJSON objects named by leaf range, on the emulator (moto); a repeat
 *    of a chunk rewrites the same key with the same bytes.
 * The Splunk HEC format is checked by the local HEC receiver (test/app/streams.test.ts).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStreamStore } from '../../src/adapters/memory/stream-store.ts';
import { HttpStreamSink } from '../../src/adapters/streams/http-stream-sink.ts';
import { S3StreamSink } from '../../src/adapters/streams/s3-stream-sink.ts';
import { DAY_MS } from '../../src/app/query-projector.ts';
import { StreamService } from '../../src/app/streams.ts';
import { parseWebhookSecrets } from '../../src/core/deliver/webhook-signature.ts';
import { parseStreams, type StreamSpec } from '../../src/core/streams/spec.ts';
import type { StreamSink } from '../../src/ports/stream-sink.ts';
import { grow, type MemoryQEnv, prng, queryEnv } from '../app/query-harness.ts';
import { awsClientConfig } from '../support/aws.ts';

const LOG = 'wire';
const FAR = Number.MAX_SAFE_INTEGER;

interface Got {
  headers: IncomingHttpHeaders;
  body: Buffer;
  path: string;
}

/** A receiver that records requests and answers with `answer` (status + body). */
async function receiver(answer: (g: Got, n: number) => { status: number; body: string }) {
  const got: Got[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const g = { headers: req.headers, body: Buffer.concat(chunks), path: req.url ?? '' };
      got.push(g);
      const a = answer(g, got.length);
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, got, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let env: MemoryQEnv;
beforeEach(async () => {
  env = queryEnv();
  await env.logRegistry.createLog(LOG);
});

async function sealAll(): Promise<number> {
  const s = env.sealer();
  for (let i = 0; i < 50; i++) if (!(await s.sealLog(LOG)).more) break;
  return (await env.sealState.read(LOG))?.size ?? 0;
}

function serviceFor(spec: StreamSpec, sink: StreamSink): StreamService {
  return new StreamService({
    logs: env.logs,
    sealState: env.sealState,
    store: new MemoryStreamStore(),
    streams: [spec],
    sinks: new Map([[spec.name, sink]]),
    clock: env.clock,
    sleep: env.clock.sleep,
    random: prng(3),
  });
}

const spec = (s: Record<string, unknown>) => parseStreams(JSON.stringify({ streams: [s] }))[0] as StreamSpec;

describe('Datadog logs intake', () => {
  let rx: Awaited<ReturnType<typeof receiver>>;
  const apiKey = randomBytes(16).toString('hex');
  afterEach(() => rx.close());

  it('POSTs JSON arrays of ≤ 1,000 logs and ≤ maxBytes to /api/v2/logs with DD-API-KEY; 202 is success', async () => {
    rx = await receiver((g) => {
      // What the intake checks: the key, JSON, an array within its limits.
      if (g.path !== '/api/v2/logs') return { status: 404, body: '{}' };
      if (g.headers['dd-api-key'] !== apiKey) return { status: 403, body: '{"errors":["Forbidden"]}' };
      if (g.body.length > 5_000_000) return { status: 413, body: '{}' };
      const logs = JSON.parse(g.body.toString('utf8')) as unknown;
      if (!Array.isArray(logs) || logs.length > 1000) return { status: 400, body: '{}' };
      return { status: 202, body: '{}' };
    });
    await grow(env, LOG, { batches: 120, maxPer: 20, maxGapMs: DAY_MS, seed: 4 });
    const sealed = await sealAll();
    expect(sealed).toBeGreaterThan(1000);
    const s = spec({
      name: 'dd',
      logId: LOG,
      kind: 'datadog',
      url: rx.url,
      secret: 'dd-key',
      maxEvents: 1000,
      ddtags: 'env:test,team:sec',
    });
    const sink = new HttpStreamSink({ name: 'dd', kind: 'datadog', url: rx.url, apiKey, clock: env.clock });
    const o = await serviceFor(s, sink).run('dd', FAR);
    expect(o).toMatchObject({ status: 'delivered', nextIndex: sealed, delivered: sealed });
    const arrays = rx.got.map((g) => JSON.parse(g.body.toString('utf8')) as Array<Record<string, unknown>>);
    expect(arrays.length).toBeGreaterThanOrEqual(2);
    expect(arrays.every((a) => a.length <= 1000)).toBe(true);
    expect(rx.got.every((g) => g.headers['content-type'] === 'application/json')).toBe(true);
    const logs = arrays.flat();
    expect(logs.map((l) => (l.anchorlog as { index: number }).index)).toEqual(
      Array.from({ length: sealed }, (_, i) => i),
    );
    const first = logs[0] as Record<string, unknown>;
    expect(first).toMatchObject({ ddsource: 'anchorlog', service: 'anchorlog', ddtags: 'env:test,team:sec' });
    expect(typeof first.message).toBe('string');
    expect(first.date).toBe((first.anchorlog as { receivedAt: string }).receivedAt);
  });

  it('splits by bytes: no request over maxBytes', async () => {
    rx = await receiver(() => ({ status: 202, body: '{}' }));
    await grow(env, LOG, { batches: 20, maxPer: 10, maxGapMs: DAY_MS, seed: 5 });
    const sealed = await sealAll();
    const s = spec({ name: 'dd', logId: LOG, kind: 'datadog', url: rx.url, secret: 'k', maxBytes: 8_000 });
    const sink = new HttpStreamSink({ name: 'dd', kind: 'datadog', url: rx.url, apiKey, clock: env.clock });
    await serviceFor(s, sink).run('dd', FAR);
    expect(rx.got.length).toBeGreaterThan(3);
    expect(rx.got.every((g) => g.body.length <= 8_000)).toBe(true);
    expect(rx.got.flatMap((g) => JSON.parse(g.body.toString('utf8')) as unknown[]).length).toBe(sealed);
  });

  it('a wrong key (403) is permanent: dead-lettered at once, the key never in the message', async () => {
    rx = await receiver(() => ({ status: 403, body: '{"errors":["Forbidden"]}' }));
    await grow(env, LOG, { batches: 2, maxPer: 2, maxGapMs: DAY_MS, seed: 6 });
    await sealAll();
    const s = spec({ name: 'dd', logId: LOG, kind: 'datadog', url: rx.url, secret: 'k' });
    const sink = new HttpStreamSink({ name: 'dd', kind: 'datadog', url: rx.url, apiKey, clock: env.clock });
    const o = await serviceFor(s, sink).run('dd', FAR);
    expect(o).toMatchObject({ status: 'blocked', deadLettered: 1, lastError: { status: 403 } });
    expect(rx.got).toHaveLength(1);
    expect(JSON.stringify(o)).not.toContain(apiKey);
  });
});

/**
 * Standard Webhooks verification, written from the spec (standardwebhooks.com,
 * "Verifying webhook authenticity"): key = base64-decode(secret without
 * `whsec_`); signed content = `${id}.${timestamp}.${body}`; the header is a
 * space-separated list of `v1,<base64 HMAC-SHA256>`; compare in constant time.
 */
function verifyStandardWebhook(
  secret: string,
  h: IncomingHttpHeaders,
  body: Buffer,
  nowSec: number,
): boolean {
  const id = h['webhook-id'];
  const ts = h['webhook-timestamp'];
  const sigs = h['webhook-signature'];
  if (typeof id !== 'string' || typeof ts !== 'string' || typeof sigs !== 'string') return false;
  if (Math.abs(nowSec - Number(ts)) > 300) return false;
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key)
    .update(Buffer.concat([Buffer.from(`${id}.${ts}.`), body]))
    .digest();
  return sigs.split(' ').some((s) => {
    const [v, sig] = s.split(',');
    if (v !== 'v1' || sig === undefined) return false;
    const given = Buffer.from(sig, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

describe('Standard Webhooks', () => {
  let rx: Awaited<ReturnType<typeof receiver>>;
  afterEach(() => rx.close());

  it('signs every request; the signature verifies independently; the id and body are stable across a retry', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    rx = await receiver((g, n) =>
      n === 1
        ? { status: 500, body: '' }
        : verifyStandardWebhook(secret, g.headers, g.body, Math.floor(env.clock.t / 1000))
          ? { status: 204, body: '' }
          : { status: 401, body: '' },
    );
    await grow(env, LOG, { batches: 10, maxPer: 5, maxGapMs: DAY_MS, seed: 7 });
    const sealed = await sealAll();
    const s = spec({
      name: 'hook',
      logId: LOG,
      kind: 'webhook',
      url: `${rx.url}/anchorlog`,
      secret: 'hook',
      maxEvents: 10,
    });
    const sink = new HttpStreamSink({
      name: 'hook',
      kind: 'webhook',
      url: `${rx.url}/anchorlog`,
      keys: parseWebhookSecrets(secret),
      clock: env.clock,
    });
    const o = await serviceFor(s, sink).run('hook', FAR);
    expect(o).toMatchObject({ status: 'delivered', nextIndex: sealed });
    for (const g of rx.got)
      expect(verifyStandardWebhook(secret, g.headers, g.body, Math.floor(env.clock.t / 1000))).toBe(true);
    // A tampered body does not verify.
    const g0 = rx.got[1] as Got;
    expect(
      verifyStandardWebhook(
        secret,
        g0.headers,
        Buffer.concat([g0.body, Buffer.from(' ')]),
        Math.floor(env.clock.t / 1000),
      ),
    ).toBe(false);
    // The retry of the first chunk: same id, same body.
    expect(rx.got[1]?.headers['webhook-id']).toBe(rx.got[0]?.headers['webhook-id']);
    expect(rx.got[1]?.body.equals(rx.got[0]?.body as Buffer)).toBe(true);
    expect(rx.got[0]?.headers['webhook-id']).not.toContain('.');
    const payloads = rx.got.slice(1).map(
      (g) =>
        JSON.parse(g.body.toString('utf8')) as {
          type: string;
          data: { fromIndex: number; toIndex: number; records: Array<{ index: number }> };
        },
    );
    expect(payloads.every((p) => p.type === 'anchorlog.records')).toBe(true);
    expect(payloads.flatMap((p) => p.data.records.map((r) => r.index))).toEqual(
      Array.from({ length: sealed }, (_, i) => i),
    );
    for (const p of payloads) expect(p.data.records.map((r) => r.index)[0]).toBe(p.data.fromIndex);
  });
});

describe('S3 (moto)', () => {
  it('one NDJSON object per chunk, keyed by leaf range in log order; a repeat rewrites the same key', async () => {
    const client = new S3Client(awsClientConfig());
    const bucket = `streams-${Math.random().toString(36).slice(2, 10)}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await grow(env, LOG, { batches: 15, maxPer: 6, maxGapMs: DAY_MS, seed: 8 });
    const sealed = await sealAll();
    const s = spec({ name: 'lake', logId: LOG, kind: 's3', bucket, prefix: 'audit/', maxEvents: 20 });
    const sink = new S3StreamSink({ name: 'lake', client, bucket, prefix: 'audit/' });
    const o = await serviceFor(s, sink).run('lake', FAR);
    expect(o).toMatchObject({ status: 'delivered', nextIndex: sealed });
    const list = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'audit/lake/wire/' }));
    const keys = (list.Contents ?? []).map((c) => c.Key as string);
    expect(keys.length).toBe(Math.ceil(sealed / 20));
    expect(keys).toEqual([...keys].sort());
    const indexes: number[] = [];
    for (const key of keys) {
      const text = await (
        await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      ).Body?.transformToString();
      for (const line of (text ?? '').split('\n').filter(Boolean))
        indexes.push((JSON.parse(line) as { index: number }).index);
    }
    expect(indexes).toEqual(Array.from({ length: sealed }, (_, i) => i));
    // A second service from a fresh cursor (a lost cursor write, say) rewrites the same keys.
    await serviceFor(s, sink).run('lake', FAR);
    const again = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'audit/lake/wire/' }));
    expect((again.Contents ?? []).map((c) => c.Key)).toEqual(keys);
  });

  it('a missing bucket is permanent: dead-lettered at once', async () => {
    const client = new S3Client(awsClientConfig());
    await grow(env, LOG, { batches: 2, maxPer: 2, maxGapMs: DAY_MS, seed: 9 });
    await sealAll();
    const s = spec({ name: 'lake', logId: LOG, kind: 's3', bucket: 'no-such-bucket-here' });
    const o = await serviceFor(
      s,
      new S3StreamSink({ name: 'lake', client, bucket: 'no-such-bucket-here', prefix: 'x/' }),
    ).run('lake', FAR);
    expect(o).toMatchObject({ status: 'blocked', deadLettered: 1 });
  });
});
