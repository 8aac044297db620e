/**
 * AuditClient against a small real HTTP server that plays the API's failure
 * modes: retries keep the batch's Idempotency-Key, Retry-After is honoured,
 * 4xx fail fast, and a slow server applies backpressure to producers.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditClient, AuditClientError } from '../../src/client/audit-client.ts';

interface Seen {
  key: string | undefined;
  events: number;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function serve(
  reply: (
    n: number,
    req: IncomingMessage,
    body: { events: unknown[] },
  ) =>
    | { status: number; headers?: Record<string, string>; body?: unknown }
    | Promise<{ status: number; headers?: Record<string, string>; body?: unknown }>,
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  let next = 0;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: unknown[] };
      seen.push({ key: req.headers['idempotency-key'] as string | undefined, events: body.events.length });
      const r = await reply(next++, req, body);
      res
        .writeHead(r.status, { 'content-type': 'application/json', ...r.headers })
        .end(JSON.stringify(r.body ?? {}));
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('no port');
  return { url: `http://127.0.0.1:${addr.port}`, seen };
}

const receipts = (n: number, base = 0) =>
  Array.from({ length: n }, (_, i) => ({ index: base + i, leafHash: 'h', prev: 'p', receivedAt: 't' }));

describe('AuditClient', () => {
  it('retries 503 / 429 / transport failures with the same Idempotency-Key and honours Retry-After', async () => {
    const sleeps: number[] = [];
    const { url, seen } = await serve((n, _req, body) => {
      if (n === 0)
        return {
          status: 503,
          headers: { 'retry-after': '2' },
          body: { error: { code: 'UNAVAILABLE', message: 'x' } },
        };
      if (n === 1) return { status: 429, body: { error: { code: 'THROTTLED', message: 'x' } } };
      return { status: 201, body: { receipts: receipts(body.events.length) } };
    });
    const client = new AuditClient({
      apiUrl: url,
      apiKey: 'k',
      logId: 'demo',
      sleep: async (ms) => void sleeps.push(ms),
    });
    const got = await Promise.all([client.append({ a: 1 }), client.append({ a: 2 })]);
    await client.close();
    expect(got.map((r) => r.index)).toEqual([0, 1]);
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.key)).size).toBe(1);
    expect(seen[0]?.key).toMatch(/^[0-9a-f]{32}$/);
    expect(sleeps[0]).toBeGreaterThanOrEqual(2000);
    expect(client.stats.retries).toBe(2);
  });

  it('fails fast on a 4xx, with the server error code', async () => {
    const { url, seen } = await serve(() => ({
      status: 400,
      body: { error: { code: 'BAD_REQUEST', message: 'actor.type must be …' } },
    }));
    const client = new AuditClient({ apiUrl: url, apiKey: 'k', logId: 'demo', sleep: async () => {} });
    await expect(client.append({})).rejects.toMatchObject({ code: 'BAD_REQUEST', status: 400 });
    expect(seen).toHaveLength(1);
  });

  it('gives up after maxAttempts and rejects every event of the batch', async () => {
    const { url, seen } = await serve(() => ({ status: 500, body: {} }));
    const client = new AuditClient({
      apiUrl: url,
      apiKey: 'k',
      logId: 'demo',
      maxAttempts: 3,
      sleep: async () => {},
    });
    const results = await Promise.allSettled([client.append({}), client.append({})]);
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof AuditClientError)).toBe(true);
    expect(seen).toHaveLength(3);
  });

  it('batches up to maxBatchEvents and never sends an empty batch', async () => {
    let base = 0;
    const { url, seen } = await serve((_n, _req, body) => {
      const r = receipts(body.events.length, base);
      base += body.events.length;
      return { status: 201, body: { receipts: r } };
    });
    const client = new AuditClient({
      apiUrl: url,
      apiKey: 'k',
      logId: 'demo',
      maxBatchEvents: 10,
      maxInFlightBatches: 2,
    });
    const got = await Promise.all(Array.from({ length: 95 }, (_, i) => client.append({ i })));
    await client.close();
    expect(seen.every((s) => s.events >= 1 && s.events <= 10)).toBe(true);
    expect(seen.reduce((n, s) => n + s.events, 0)).toBe(95);
    expect(new Set(got.map((r) => r.index)).size).toBe(95);
  });

  it('applies backpressure: producers wait while maxQueuedEvents are pending', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { url } = await serve(async (_n, _req, body) => {
      await gate;
      return { status: 201, body: { receipts: receipts(body.events.length) } };
    });
    const client = new AuditClient({
      apiUrl: url,
      apiKey: 'k',
      logId: 'demo',
      maxBatchEvents: 5,
      maxQueuedEvents: 10,
      flushIntervalMs: 1,
    });
    let accepted = 0;
    const producers = Array.from({ length: 30 }, (_, i) => client.append({ i }).then(() => accepted++));
    await new Promise((r) => setTimeout(r, 200));
    // Nothing can complete while the server holds every request; at most
    // maxQueuedEvents are queued, the rest of the producers are still waiting.
    expect(accepted).toBe(0);
    expect((client as unknown as { queued: number }).queued).toBeLessThanOrEqual(10);
    release();
    await Promise.all(producers);
    await client.close();
    expect(accepted).toBe(30);
  });
});
