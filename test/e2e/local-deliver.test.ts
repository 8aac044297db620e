/**
 * Delivery on the local stack, as `npm start` runs it: seal → detect →
 * deliver on every tick. An event that matches a rule is recorded as an
 * `alert.fire` event in the system log and reaches the local receiver,
 * which verifies its Standard Webhooks signature; later ticks neither
 * record nor deliver it again. (No wall time is asserted: the latency target
 * is measured by the benchmark.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditClient } from '../../src/client/audit-client.ts';
import { SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { decodeRecord } from '../../src/core/record.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { readWholeLog, startTestStack } from './helpers.ts';

const RULES = [
  {
    schema: 'anchorlog.rule/v1',
    id: 'local.export',
    version: 1,
    title: 'Data export',
    severity: 'high',
    owner: 'secops',
    runbook: 'https://runbooks.example/export',
    match: "event.action == 'data.export' && event.metadata.bytes > 1000.0",
    kind: 'match',
  },
  {
    schema: 'anchorlog.rule/v1',
    id: 'local.first-tool',
    version: 1,
    title: 'Tool called by an agent for the first time',
    severity: 'medium',
    owner: 'ai-platform',
    runbook: 'https://runbooks.example/first-tool',
    match: "event.action == 'tool.call' && has(event.target)",
    kind: 'first_seen',
    first_seen: { value: 'event.target.id', key: 'event.actor.id', lookback: '30d' },
  },
];

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ sealIntervalMs: 100, detectionRules: RULES });
});
afterAll(async () => {
  await stack?.stop();
});

describe('local stack: alerts recorded, then delivered to the receiver', () => {
  it('the receiver gets each alert once, signed, citing its checkpoint; the system log records it first', async () => {
    const { info } = stack;
    const client = new AuditClient({ apiUrl: info.apiUrl, apiKey: info.apiKey, logId: info.logId });
    const exported = stack.alerts.next((a) => a.alert.rule.id === 'local.export');
    const firstTool = stack.alerts.next((a) => a.alert.rule.id === 'local.first-tool');
    await client.append({
      occurredAt: new Date().toISOString(),
      actor: { type: 'agent', id: 'agent-7' },
      action: 'tool.call',
      target: { type: 'tool', id: 'web-search' },
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

    const got = await exported;
    expect(got.repeat).toBe(false);
    expect(got.alert).toMatchObject({ logId: info.logId, rule: { id: 'local.export', severity: 'high' } });
    expect(got.alert.trigger).toEqual({ index: receipt.index, receivedAt: receipt.receivedAt });
    expect(got.checkpoint?.size).toBeGreaterThan(receipt.index);
    expect(got.checkpoint?.note).toContain(`anchorlog.local/${info.logId}\n`);
    expect((await firstTool).alert.key).toBe('agent-7');

    // More ticks: nothing recorded or delivered twice.
    await stack.sealNow();
    await stack.sealNow();
    const ids = stack.alerts.received.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(stack.alerts.refused).toBe(0);

    const system = (await readWholeLog(stack.services.logStore, SYSTEM_LOG_ID)).map((r) =>
      decodeRecord(r.bytes),
    );
    const fired = system.filter((r) => r.event.action === 'alert.fire');
    expect(fired.map((r) => r.event.id).sort()).toEqual([...ids].sort());
    expect(fired.every((r) => r.submitter === 'system:detection')).toBe(true);
    // The default classes were declared by the first seal of each log, and the deliver job
    // recorded each declaration once in the system log (docs/classes.md §Versions).
    const declared = system.filter((r) => r.event.action === 'anchorlog.class.declared');
    expect(declared.length).toBeGreaterThanOrEqual(5);
    expect(declared.every((r) => r.submitter === 'system:classes')).toBe(true);
    expect(new Set(declared.map((r) => r.event.id)).size).toBe(declared.length);
    // Recorded before delivered: the record's receivedAt is not after the receiver's acceptance.
    const rec = fired.find((r) => r.event.id === got.id);
    expect(Date.parse(rec?.receivedAt ?? '')).toBeLessThanOrEqual(got.atMs);
  });
});
