/**
 * Streams on the local stack, as `npm start` runs them: the demo log's
 * stream `local-hec` delivers its sealed records to the local Splunk HEC
 * stand-in after each projection run, in order, the status endpoint
 * (`npm run demo` reads it) reporting the count and the last leaf index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditClient } from '../../src/client/audit-client.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { startTestStack } from './helpers.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ sealIntervalMs: 0 });
});
afterAll(async () => {
  await stack?.stop();
});

describe('local stack: the demo log streams to the HEC receiver', () => {
  it('every sealed record reaches the receiver once, in order; the status endpoint says so', async () => {
    const { info } = stack;
    const client = new AuditClient({ apiUrl: info.apiUrl, apiKey: info.apiKey, logId: info.logId });
    const receipts = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        client.append({
          occurredAt: new Date().toISOString(),
          actor: { type: 'agent', id: `agent-${i % 3}` },
          action: 'tool.call',
          target: { type: 'tool', id: 'search' },
          outcome: 'success',
        }),
      ),
    );
    await client.close();
    const highest = Math.max(...receipts.map((r) => r.index));
    await stack.sealNow(); // seal → detect → deliver, then project → stream
    const indexes = stack.hec.indexes();
    expect(indexes).toEqual(Array.from({ length: highest + 1 }, (_, i) => i));
    const status = (await (await fetch(`${info.hecReceiverUrl}/anchorlog/status`)).json()) as {
      events: number;
      lastIndex: number;
    };
    expect(status).toMatchObject({ events: highest + 1, lastIndex: highest });
    // Nothing new: another run sends nothing.
    await stack.streamNow();
    expect(stack.hec.indexes()).toHaveLength(highest + 1);
  });
});
