/**
 * The accept-then-sequence ingest path (ANCHORLOG_INGEST_MODE=pending,
 * docs/ingest.md §9) end to end over real HTTP on the local stack: many
 * concurrent writers, a writer that does not wait (202, then receipts by id),
 * and garbage on the receipts route. The default path (`direct`) is covered
 * by ingest-http.test.ts; this file keeps the pending path exercised through
 * the real router and moto while it is opt-in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditClient, type Receipt } from '../../src/client/audit-client.ts';
import { DEFAULT_INGEST_SETTINGS } from '../../src/config.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { leafHash, verifyChain, ZERO_HASH } from '../../src/core/record.ts';
import { demoEvents } from '../../src/local/demo-events.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { readWholeLog, startTestStack } from './helpers.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ ingest: { ...DEFAULT_INGEST_SETTINGS, mode: 'pending' } });
});
afterAll(async () => {
  await stack?.stop();
});

const event = (id: string) => ({
  id,
  actor: { type: 'agent', id: 'agent-1' },
  action: 'tool.call',
  outcome: 'success',
  occurredAt: '2026-03-01T12:00:00.000Z',
});

function call(path: string, init: RequestInit = {}) {
  return fetch(`${stack.info.apiUrl}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${stack.info.apiKey}`,
      'content-type': 'application/json',
      ...(init.headers as Record<string, string> | undefined),
    },
  });
}

describe('ingest over HTTP, pending path', () => {
  it('16 concurrent clients × 200 events in batches of 10: unique receipts, contiguous indexes, intact chain, nothing lost', async () => {
    const before = await stack.services.logStore.readTip(stack.info.logId);
    const clients = Array.from(
      { length: 16 },
      () =>
        new AuditClient({
          apiUrl: stack.info.apiUrl,
          apiKey: stack.info.apiKey,
          logId: stack.info.logId,
          maxBatchEvents: 10,
          maxInFlightBatches: 1,
          maxAttempts: 20,
        }),
    );
    const sent = clients.map((_, c) =>
      demoEvents({ count: 200, startMs: Date.UTC(2026, 2, 1) + c, seed: c + 100 }),
    );
    const receipts = await Promise.all(
      clients.map((cl, c) => Promise.all((sent[c] ?? []).map((e) => cl.append(e)))),
    );
    await Promise.all(clients.map((c) => c.close()));

    const all = receipts.flat();
    expect(all).toHaveLength(3_200);
    const indexes = all.map((r) => r.index).sort((a, b) => a - b);
    expect(new Set(indexes).size).toBe(3_200);
    expect(indexes[0]).toBe(before.nextIndex);
    expect(indexes[indexes.length - 1]).toBe(before.nextIndex + 3_199);

    const stored = await readWholeLog(stack.services.logStore, stack.info.logId);
    expect(stored.length).toBe(before.nextIndex + 3_200);
    expect(
      verifyChain(
        stored.map((s) => s.bytes),
        ZERO_HASH,
      ).count,
    ).toBe(stored.length);
    for (const r of all) {
      expect(toBase64(leafHash(stored[r.index]?.bytes ?? new Uint8Array()))).toBe(r.leafHash);
    }
    // Each client's events landed in the order it sent them.
    for (const rs of receipts)
      for (let i = 1; i < rs.length; i++)
        expect((rs[i] as Receipt).index).toBeGreaterThan((rs[i - 1] as Receipt).index);
  }, 300_000);

  it('Prefer: wait=0 answers 202 with an accept id, and the receipts route later names where the events landed', async () => {
    const res = await call(`/v1/logs/${stack.info.logId}/events`, {
      method: 'POST',
      headers: { prefer: 'wait=0', 'idempotency-key': 'pending-e2e-1' },
      body: JSON.stringify({ events: [event('p-1'), event('p-2')] }),
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { accepted: { id: string; count: number } };
    expect(body.accepted.count).toBe(2);
    expect(res.headers.get('location')).toBe(`/v1/logs/${stack.info.logId}/receipts?ids=${body.accepted.id}`);

    // Nobody else writes this log now, so a waiting request sequences the pending entry with its own.
    const nudge = await call(`/v1/logs/${stack.info.logId}/events`, {
      method: 'POST',
      body: JSON.stringify({ events: [event('p-3')] }),
    });
    expect(nudge.status).toBe(201);

    const looked = await call(res.headers.get('location') as string);
    expect(looked.status).toBe(200);
    const answer = (await looked.json()) as { receipts: Record<string, Receipt[]>; pending: string[] };
    expect(answer.pending).toEqual([]);
    const got = answer.receipts[body.accepted.id] ?? [];
    expect(got).toHaveLength(2);
    const stored = await readWholeLog(stack.services.logStore, stack.info.logId);
    for (const r of got)
      expect(toBase64(leafHash(stored[r.index]?.bytes ?? new Uint8Array()))).toBe(r.leafHash);

    // A retry of the accepted request replays its receipts and stores nothing new.
    const retry = await call(`/v1/logs/${stack.info.logId}/events`, {
      method: 'POST',
      headers: { 'idempotency-key': 'pending-e2e-1' },
      body: JSON.stringify({ events: [event('p-1'), event('p-2')] }),
    });
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as { receipts: Receipt[] }).receipts.map((r) => r.index)).toEqual(
      got.map((r) => r.index),
    );
    expect((await readWholeLog(stack.services.logStore, stack.info.logId)).length).toBe(stored.length);
  }, 60_000);

  it('garbage on the receipts route is a 400 naming the parameter', async () => {
    for (const q of ['', '?ids=', '?ids=a%20b', `?ids=${'x'.repeat(65)}`, '?ids=a&limit=3']) {
      const res = await call(`/v1/logs/${stack.info.logId}/receipts${q}`);
      expect(res.status, q).toBe(400);
      const body = (await res.json()) as { error: { code: string; path?: string } };
      expect(body.error.code).toBe('BAD_REQUEST');
      expect(body.error.path).toMatch(/^\/query\//);
    }
  });
});
