/**
 * Ingest end to end over real HTTP against the local stack (real router,
 * real services, moto DynamoDB): concurrency, idempotent retries, and every
 * kind of bad input — each must get the right 4xx and leave nothing stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditClient, type Receipt } from '../../src/client/audit-client.ts';
import { fromBase64, toBase64 } from '../../src/core/bytes.ts';
import { leafHash, verifyChain, ZERO_HASH } from '../../src/core/record.ts';
import { demoEvents } from '../../src/local/demo-events.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { readWholeLog, startTestStack } from './helpers.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const event = (over: Record<string, unknown> = {}) => ({
  actor: { type: 'agent', id: 'agent-1' },
  action: 'tool.call',
  outcome: 'success',
  occurredAt: '2026-03-01T12:00:00.000Z',
  ...over,
});

async function post(
  body: string | Uint8Array,
  opts: { key?: string | null; logId?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  const key = opts.key === undefined ? stack.info.apiKey : opts.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${stack.info.apiUrl}/v1/logs/${opts.logId ?? stack.info.logId}/events`, {
    method: 'POST',
    headers,
    body: body as BodyInit,
  });
  const text = await res.text();
  let json: { error?: { code: string; message: string; path?: string }; receipts?: Receipt[] } = {};
  try {
    json = JSON.parse(text);
  } catch {
    // left empty: the assertion on json.error will say so
  }
  return { status: res.status, json, headers: res.headers };
}

const tip = () => stack.services.logStore.readTip(stack.info.logId);

describe('ingest over HTTP', () => {
  it('16 concurrent clients × 2,000 events: unique receipts, contiguous indexes, intact chain, nothing lost', async () => {
    const before = await tip();
    const clients = Array.from(
      { length: 16 },
      () =>
        new AuditClient({
          apiUrl: stack.info.apiUrl,
          apiKey: stack.info.apiKey,
          logId: stack.info.logId,
          maxBatchEvents: 100,
          maxInFlightBatches: 1,
          maxAttempts: 20,
        }),
    );
    const sent = clients.map((_, c) =>
      demoEvents({ count: 2000, startMs: Date.UTC(2026, 2, 1) + c, seed: c + 1 }),
    );
    const receipts = await Promise.all(
      clients.map((cl, c) => Promise.all((sent[c] ?? []).map((e) => cl.append(e)))),
    );
    await Promise.all(clients.map((c) => c.close()));

    const all = receipts.flat();
    expect(all).toHaveLength(32_000);
    const indexes = all.map((r) => r.index).sort((a, b) => a - b);
    expect(new Set(indexes).size).toBe(32_000);
    expect(indexes[0]).toBe(before.nextIndex);
    expect(indexes[indexes.length - 1]).toBe(before.nextIndex + 31_999);

    const stored = await readWholeLog(stack.services.logStore, stack.info.logId);
    expect(stored.length).toBe(before.nextIndex + 32_000);
    const chain = verifyChain(
      stored.map((s) => s.bytes),
      ZERO_HASH,
    );
    expect(chain.count).toBe(stored.length);
    // Every receipt names exactly the stored record at its index, and each client's events landed in order.
    for (const r of all) {
      const s = stored[r.index];
      expect(s?.index).toBe(r.index);
      expect(toBase64(leafHash(s?.bytes ?? new Uint8Array()))).toBe(r.leafHash);
    }
    for (const rs of receipts) {
      for (let i = 1; i < rs.length; i++)
        expect((rs[i] as Receipt).index).toBeGreaterThan((rs[i - 1] as Receipt).index);
    }
    // Stored events are exactly the sent events (no loss, no duplicates), as a multiset of canonical texts.
    const dec = new TextDecoder();
    const storedEvents = stored
      .slice(before.nextIndex)
      .map((s) => JSON.stringify(JSON.parse(dec.decode(s.bytes)).event));
    expect(new Set(storedEvents).size).toBe(32_000);
    expect(fromBase64((all[0] as Receipt).prev)).toHaveLength(32);
  }, 600_000);

  it('a retried request with the same Idempotency-Key returns the original receipts and stores nothing new', async () => {
    const body = JSON.stringify({ events: [event(), event({ action: 'config.update' })] });
    const first = await post(body, { headers: { 'idempotency-key': 'retry-1' } });
    expect(first.status).toBe(201);
    const t = await tip();
    const again = await post(body, { headers: { 'idempotency-key': 'retry-1' } });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.receipts).toEqual(first.json.receipts);
    expect(await tip()).toEqual(t);
    const other = await post(JSON.stringify({ events: [event()] }), {
      headers: { 'idempotency-key': 'retry-1' },
    });
    expect(other.status).toBe(409);
    expect(other.json.error?.code).toBe('CONFLICT');
  });

  it('event ids make a plain retry safe', async () => {
    const body = JSON.stringify({ events: [event({ id: 'evt-a-1' }), event({ id: 'evt-a-2' })] });
    const first = await post(body);
    expect(first.status).toBe(201);
    const t = await tip();
    const again = await post(body);
    expect(again.status).toBe(200);
    expect(again.json.receipts).toEqual(first.json.receipts);
    expect(await tip()).toEqual(t);
  });

  const deep = (n: number): string => (n === 0 ? '1' : `{"a":${deep(n - 1)}}`);
  const bad: Array<[string, () => Parameters<typeof post>, number, string]> = [
    ['malformed JSON', () => ['{"events": [', {}], 400, 'BAD_REQUEST'],
    ['not an object', () => ['[1,2,3]', {}], 400, 'BAD_REQUEST'],
    ['empty batch', () => [JSON.stringify({ events: [] }), {}], 400, 'BAD_REQUEST'],
    ['wrong type', () => [JSON.stringify({ events: [event({ outcome: 42 })] }), {}], 400, 'BAD_REQUEST'],
    [
      'missing actor',
      () => [
        JSON.stringify({
          events: [{ action: 'a.b', outcome: 'success', occurredAt: '2026-01-01T00:00:00Z' }],
        }),
        {},
      ],
      400,
      'BAD_REQUEST',
    ],
    [
      'bad timestamp',
      () => [JSON.stringify({ events: [event({ occurredAt: '2026-02-30T00:00:00Z' })] }), {}],
      400,
      'BAD_REQUEST',
    ],
    [
      'duplicate keys',
      () => [
        '{"events":[{"actor":{"type":"agent","id":"a"},"action":"x.y","action":"z.w","outcome":"success","occurredAt":"2026-03-01T12:00:00.000Z"}]}',
        {},
      ],
      400,
      'BAD_REQUEST',
    ],
    [
      'lone surrogate',
      () => [`{"events":[${JSON.stringify(event()).slice(0, -1)},"metadata":{"s":"\\ud800"}}]}`, {}],
      400,
      'BAD_REQUEST',
    ],
    [
      'huge number',
      () => [`{"events":[${JSON.stringify(event()).slice(0, -1)},"metadata":{"n":1e400}}]}`, {}],
      400,
      'BAD_REQUEST',
    ],
    [
      'deep nesting',
      () => [`{"events":[${JSON.stringify(event()).slice(0, -1)},"metadata":${deep(200)}}]}`, {}],
      400,
      'BAD_REQUEST',
    ],
    [
      'invalid UTF-8',
      () => [
        new Uint8Array([
          ...new TextEncoder().encode('{"events":[{"actor":{"type":"agent","id":"'),
          0xff,
          0xfe,
          ...new TextEncoder().encode('"}}]}'),
        ]),
        {},
      ],
      400,
      'BAD_REQUEST',
    ],
    [
      'oversized event (> 64 KiB record)',
      () => [JSON.stringify({ events: [event({ metadata: { blob: 'x'.repeat(70_000) } })] }), {}],
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'oversized body',
      () => [JSON.stringify({ events: [event({ metadata: { blob: 'x'.repeat(3 * 1024 * 1024) } })] }), {}],
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'too many events',
      () => [JSON.stringify({ events: Array.from({ length: 1001 }, () => event()) }), {}],
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'wrong content type',
      () => [JSON.stringify({ events: [event()] }), { headers: { 'content-type': 'text/plain' } }],
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'unknown log',
      () => [JSON.stringify({ events: [event()] }), { logId: 'no-such-log', key: stack.info.adminKey }],
      404,
      'NOT_FOUND',
    ],
    ['invalid log id', () => [JSON.stringify({ events: [event()] }), { logId: 'UPPER' }], 400, 'BAD_REQUEST'],
    ['missing key', () => [JSON.stringify({ events: [event()] }), { key: null }], 401, 'UNAUTHENTICATED'],
    [
      'garbage key',
      () => [JSON.stringify({ events: [event()] }), { key: 'alk_nope' }],
      401,
      'UNAUTHENTICATED',
    ],
    [
      'wrong secret',
      () => [JSON.stringify({ events: [event()] }), { key: `${stack.info.apiKey.slice(0, -4)}AAAA` }],
      401,
      'UNAUTHENTICATED',
    ],
    [
      'wrong scope (other log)',
      () => [JSON.stringify({ events: [event()] }), { logId: 'system' }],
      403,
      'FORBIDDEN',
    ],
    [
      'bad Idempotency-Key',
      () => [JSON.stringify({ events: [event()] }), { headers: { 'idempotency-key': 'has space' } }],
      400,
      'BAD_REQUEST',
    ],
  ];
  it.each(bad)('%s → the right 4xx, nothing stored', async (_name, args, status, code) => {
    const before = await tip();
    const r = await post(...args());
    expect(r.status).toBe(status);
    expect(r.json.error?.code).toBe(code);
    expect(r.json.error?.message).toMatch(/\w/);
    expect(await tip()).toEqual(before);
  });

  it('names the event position and field path of a validation error', async () => {
    const r = await post(
      JSON.stringify({ events: [event(), event(), event({ actor: { type: 'robot', id: 'x' } })] }),
    );
    expect(r.status).toBe(400);
    expect(r.json.error?.path).toBe('/events/2/actor/type');
  });

  it('a revoked key stops working on the next request; a rotated key replaces the old one at once', async () => {
    const adminHeaders = {
      authorization: `Bearer ${stack.info.adminKey}`,
      'content-type': 'application/json',
    };
    const created = await fetch(`${stack.info.apiUrl}/v1/admin/principals`, {
      method: 'POST',
      headers: adminHeaders,
      body: JSON.stringify({
        name: 'Temp agent',
        kind: 'agent',
        owner: 'local-admin',
        purpose: 'test revocation',
        scopes: { [stack.info.logId]: ['events:write'] },
      }),
    });
    expect(created.status).toBe(201);
    const { principal, apiKey } = (await created.json()) as { principal: { id: string }; apiKey: string };
    expect((await post(JSON.stringify({ events: [event()] }), { key: apiKey })).status).toBe(201);
    const rotated = await fetch(`${stack.info.apiUrl}/v1/admin/principals/${principal.id}/rotate`, {
      method: 'POST',
      headers: adminHeaders,
    });
    const newKey = ((await rotated.json()) as { apiKey: string }).apiKey;
    expect((await post(JSON.stringify({ events: [event()] }), { key: apiKey })).status).toBe(401);
    expect((await post(JSON.stringify({ events: [event()] }), { key: newKey })).status).toBe(201);
    const revoked = await fetch(`${stack.info.apiUrl}/v1/admin/principals/${principal.id}/revoke`, {
      method: 'POST',
      headers: adminHeaders,
    });
    expect(revoked.status).toBe(200);
    expect((await post(JSON.stringify({ events: [event()] }), { key: newKey })).status).toBe(401);
    // Each admin change is itself an event in the system log, submitted by the admin.
    const system = await readWholeLog(stack.services.logStore, 'system');
    const actions = system.map(
      (s) =>
        JSON.parse(new TextDecoder().decode(s.bytes)) as {
          submitter: string;
          event: { action: string; target: { id: string } };
        },
    );
    const mine = actions.filter((a) => a.event.target.id === principal.id).map((a) => a.event.action);
    expect(mine).toEqual(['principal.create', 'principal.rotate', 'principal.revoke']);
    expect(actions.every((a) => a.submitter === 'local-admin' || a.submitter === 'system:bootstrap')).toBe(
      true,
    );
  });
});
