/**
 * Detection on the local stack, as `npm start` runs it: the timer seals every
 * log and runs detection right after, so an event that matches a rule is an
 * alert in the outbox a tick or two after the 201 that accepted it, citing
 * the checkpoint that covers it. (No wall time is asserted: the latency
 * target is measured by the benchmark.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDetectionStateStore } from '../../src/adapters/aws/dynamo-detection-state.ts';
import { AuditClient } from '../../src/client/audit-client.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import type { OutboxRecord } from '../../src/ports/detection-state.ts';
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
    const { info, services } = stack;
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
    const store = new DynamoDetectionStateStore({ client: services.clients.ddb, tableName: info.tableName });
    const alert = await until<OutboxRecord>('the alert', async () =>
      (await store.readOutbox(info.logId)).records.find(
        (r) => r.entry.type === 'alert' && r.entry.alert.trigger?.index === receipt.index,
      ),
    );
    if (alert.entry.type !== 'alert') throw new Error('alert');
    expect(alert.entry.alert.rule).toMatchObject({ id: 'local.export', version: 1, severity: 'high' });
    expect(alert.entry.alert.trigger?.receivedAt).toBe(receipt.receivedAt);
    expect(alert.checkpoint?.size).toBeGreaterThan(receipt.index);
    expect(alert.checkpoint?.checkpoint).toContain(`anchorlog.local/${info.logId}\n`);
    // Exactly once, however many ticks ran since.
    await stack.sealNow();
    const all = (await store.readOutbox(info.logId, { limit: 1000 })).records;
    expect(all.filter((r) => r.entry.id === alert.entry.id)).toHaveLength(1);
  });
});
