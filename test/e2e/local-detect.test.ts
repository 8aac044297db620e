/**
 * Detection on the local stack, as `npm start` runs it: the timer seals every
 * log and runs detection right after, so an event that matches a rule is an
 * alert in the outbox a tick or two after the 201 that accepted it, citing
 * the checkpoint that covers it. Delivery runs right after detection and
 * empties the outbox, so the alert is looked for where it ends up: the local
 * receiver (test/e2e/local-deliver.test.ts covers delivery itself). (No wall
 * time is asserted: the latency target is measured by the benchmark.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditClient } from '../../src/client/audit-client.ts';
import type { ReceivedAlert } from '../../src/local/alert-receiver.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { startTestStack } from './helpers.ts';

const EXPORT_RULE = {
  schema: 'anchorlog.rule/v1',
  id: 'local.export',
  version: 1,
  title: 'Data export',
  severity: 'high',
  owner: 'secops',
  runbook: 'https://runbooks.example/export',
  match: "event.action == 'data.export' && event.metadata.bytes > 1000.0",
  kind: 'match',
};

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ sealIntervalMs: 100, detectionRules: [EXPORT_RULE] });
});
afterAll(async () => {
  await stack?.stop();
});

async function until<T>(what: string, get: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('local stack: detection after every seal tick', () => {
  it('an event matching a rule becomes an alert in the outbox, citing its checkpoint', async () => {
    const { info } = stack;
    const client = new AuditClient({ apiUrl: info.apiUrl, apiKey: info.apiKey, logId: info.logId });
    await client.append({
      occurredAt: new Date().toISOString(),
      actor: { type: 'agent', id: 'agent-7' },
      action: 'tool.call',
      outcome: 'success',
    });
    const receipt = await client.append({
      occurredAt: new Date().toISOString(),
      actor: { type: 'agent', id: 'agent-7' },
      action: 'data.export',
      target: { type: 'dataset', id: 'customers' },
      outcome: 'success',
      metadata: { bytes: 5_000_000 },
    });
    await client.close();
    const alert = await until<ReceivedAlert>('the alert', async () =>
      stack.alerts.received.find(
        (r) =>
          r.alert.logId === info.logId &&
          r.alert.rule.id === 'local.export' &&
          r.alert.trigger?.index === receipt.index,
      ),
    );
    expect(alert.alert.rule).toMatchObject({ id: 'local.export', version: 1, severity: 'high' });
    expect(alert.alert.trigger?.receivedAt).toBe(receipt.receivedAt);
    expect(alert.checkpoint?.size).toBeGreaterThan(receipt.index);
    expect(alert.checkpoint?.note).toContain(`anchorlog.local/${info.logId}\n`);
    // Exactly once, however many ticks ran since.
    await stack.sealNow();
    expect(stack.alerts.received.filter((r) => r.id === alert.id)).toHaveLength(1);
  });
});
