/**
 * AuditClient and the two receipt modes (docs/ingest.md §9): a 202 is
 * followed by receipt lookups (never by re-sending the batch), and
 * `waitSeconds` is sent as `Prefer: wait=N`.
 */
import { describe, expect, it } from 'vitest';
import { AuditClient } from '../../src/client/audit-client.ts';

const receipt = (index: number) => ({
  index,
  leafHash: `h${index}`,
  prev: `p${index}`,
  receivedAt: '2026-03-01T12:00:00.000Z',
});
const event = (n: number) => ({
  occurredAt: '2026-03-01T11:59:00.000Z',
  actor: { type: 'agent', id: 'a' },
  action: 'tool.call',
  target: { type: 'tool', id: 't' },
  outcome: 'success',
  metadata: { n },
});

function fakeApi(opts: { pendingLooks: number; unknown?: boolean }) {
  const calls: Array<{ method: string; url: string; prefer: string | null }> = [];
  let looks = 0;
  const fetchFn = (async (url: string, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    calls.push({ method: init?.method ?? 'GET', url, prefer: headers.get('prefer') });
    if ((init?.method ?? 'GET') === 'POST') {
      const n = (JSON.parse(String(init?.body)) as { events: unknown[] }).events.length;
      return new Response(JSON.stringify({ accepted: { id: 'acc-1', count: n } }), { status: 202 });
    }
    if (opts.unknown)
      return new Response(JSON.stringify({ receipts: {}, pending: [], unknown: ['acc-1'] }), { status: 200 });
    if (looks++ < opts.pendingLooks)
      return new Response(JSON.stringify({ receipts: {}, pending: ['acc-1'] }), { status: 200 });
    return new Response(JSON.stringify({ receipts: { 'acc-1': [receipt(0), receipt(1)] }, pending: [] }), {
      status: 200,
    });
  }) as typeof fetch;
  return { calls, fetchFn };
}

describe('AuditClient receipt modes', () => {
  it('after a 202 it polls GET …/receipts and resolves each append with its receipt; the batch is sent once', async () => {
    const api = fakeApi({ pendingLooks: 2 });
    const client = new AuditClient({
      apiUrl: 'http://api',
      apiKey: 'k',
      logId: 'demo',
      maxBatchEvents: 2,
      flushIntervalMs: 1,
      waitSeconds: 0,
      receiptPollMs: 1,
      fetch: api.fetchFn,
      sleep: async () => {},
    });
    const got = await Promise.all([client.append(event(1)), client.append(event(2))]);
    await client.close();
    expect(got.map((r) => r.index)).toEqual([0, 1]);
    const posts = api.calls.filter((c) => c.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]?.prefer).toBe('wait=0');
    expect(api.calls.filter((c) => c.method === 'GET').map((c) => c.url)).toEqual(
      Array(3).fill('http://api/v1/logs/demo/receipts?ids=acc-1'),
    );
    expect(client.stats.accepted).toBe(1);
  });

  it('receipts(ids) answers what is sequenced and what is pending', async () => {
    const api = fakeApi({ pendingLooks: 1 });
    const client = new AuditClient({ apiUrl: 'http://api', apiKey: 'k', logId: 'demo', fetch: api.fetchFn });
    expect(await client.receipts(['acc-1'])).toEqual({ receipts: {}, pending: ['acc-1'] });
    expect((await client.receipts(['acc-1'])).receipts['acc-1']).toHaveLength(2);
    await client.close();
  });

  it('an id the log calls unknown fails the appends at once (RECEIPT_UNKNOWN), without polling on', async () => {
    const api = fakeApi({ pendingLooks: 0, unknown: true });
    const client = new AuditClient({
      apiUrl: 'http://api',
      apiKey: 'k',
      logId: 'demo',
      maxBatchEvents: 1,
      flushIntervalMs: 1,
      waitSeconds: 0,
      receiptPollMs: 1,
      fetch: api.fetchFn,
      sleep: async () => {},
    });
    await expect(client.append(event(1))).rejects.toMatchObject({ code: 'RECEIPT_UNKNOWN' });
    await client.close().catch(() => {});
    expect(api.calls.filter((c) => c.method === 'GET')).toHaveLength(1);
  });
});
