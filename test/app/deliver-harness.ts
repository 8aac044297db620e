/**
 * Delivery as deployed, minus the network: the `system` log on the emulator
 * (DynamoLogStore → IngestService → SystemLogAuditSink, as the admin path
 * records), detection's outbox (in memory or DynamoDB), the delivery store
 * (in memory or DynamoDB), and scripted notifiers that record every attempt.
 * A fake clock; sleeping advances it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDeliveryStore } from '../../src/adapters/aws/dynamo-delivery-store.ts';
import { DynamoDetectionStateStore } from '../../src/adapters/aws/dynamo-detection-state.ts';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { MemoryDeliveryStore } from '../../src/adapters/memory/delivery-store.ts';
import { MemoryDetectionStateStore } from '../../src/adapters/memory/detection-state.ts';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { SystemLogAuditReader, SystemLogAuditSink } from '../../src/app/admin-audit.ts';
import { DeliveryService, type DeliveryServiceOptions } from '../../src/app/deliver.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { type DeliveryRouting, parseDeliveryRouting } from '../../src/core/deliver/destinations.ts';
import type { AttemptResult } from '../../src/core/deliver/progress.ts';
import type { AlertDocument, OutboxEntry } from '../../src/core/detect/alert.ts';
import { SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { decodeRecord, type LogRecord } from '../../src/core/record.ts';
import type { DeliveryStore } from '../../src/ports/delivery-store.ts';
import type { CheckpointRef, DetectionStateStore } from '../../src/ports/detection-state.ts';
import { ALERT } from '../core/deliver/alerts.ts';
import { awsClientConfig } from '../support/aws.ts';

export const T0 = Date.parse('2026-03-01T12:00:00.000Z');

/** A notifier whose answers a test scripts; it records every attempt (the memory adapter). */
import { MemoryNotifier as ScriptedNotifier } from '../../src/adapters/memory/notifier.ts';

export { ScriptedNotifier };

export const failing = (status = 500, retryable = true): AttemptResult => ({
  ok: false,
  code: 'HTTP_STATUS',
  message: `answered ${status}`,
  status,
  retryable,
});

export interface DeliverEnv {
  clock: { t: number; now(): number };
  sleep: (ms: number) => Promise<void>;
  outbox: DetectionStateStore;
  store: DeliveryStore;
  sink: SystemLogAuditSink;
  metrics: MemoryMetricsSink;
  notifiers: Map<string, ScriptedNotifier>;
  routing: DeliveryRouting;
  /** A service over this env (options override). */
  service(extra?: Partial<DeliveryServiceOptions>): DeliveryService;
  /** Commits `entries` to a log's outbox as one detection commit. */
  enqueue(logId: string, entries: readonly OutboxEntry[], checkpoint?: CheckpointRef): Promise<void>;
  /** Records of the system log, decoded. */
  systemLog(): Promise<LogRecord[]>;
  /** Outbox entries not acknowledged. */
  pendingOutbox(logId: string): Promise<string[]>;
}

let tables = 0;

/**
 * `kind`: 'memory' keeps the outbox and delivery state in memory, 'dynamo'
 * puts both on the emulator too. The system log is always on the emulator.
 */
export async function deliverEnv(
  kind: 'memory' | 'dynamo' = 'memory',
  names = ['hook', 'pager', 'topic'],
): Promise<DeliverEnv> {
  const ddb = new DynamoDBClient(awsClientConfig());
  const table = `anchorlog-deliver-${++tables}`;
  await ensureTable(ddb, table);
  const clock = { t: T0, now: () => clock.t };
  const sleep = async (ms: number) => {
    clock.t += ms;
  };
  const logs = new DynamoLogStore({ client: ddb, tableName: table, sleep: async () => {} });
  const ingest = new IngestService({ store: logs, clock, sleep: async () => {} });
  const registry = new LogRegistry({ store: logs, clock });
  const sink = new SystemLogAuditSink(registry, ingest, new SystemLogAuditReader(logs));
  const outbox =
    kind === 'memory'
      ? new MemoryDetectionStateStore()
      : new DynamoDetectionStateStore({ client: ddb, tableName: table, clock });
  const store =
    kind === 'memory'
      ? new MemoryDeliveryStore()
      : new DynamoDeliveryStore({ client: ddb, tableName: table });
  const metrics = new MemoryMetricsSink();
  const notifiers = new Map(names.map((n) => [n, new ScriptedNotifier(n)]));
  const routing = parseDeliveryRouting(
    JSON.stringify({
      destinations: names.map((name) => ({
        name,
        kind: 'sns',
        topicArn: `arn:aws:sns:us-east-1:123456789012:${name}`,
      })),
      bySeverity: { critical: names.slice(0, 2) },
      default: names.slice(0, 1),
    }),
  );
  let u = 0;
  const env: DeliverEnv = {
    clock,
    sleep,
    outbox,
    store,
    sink,
    metrics,
    notifiers,
    routing,
    service: (extra = {}) =>
      new DeliveryService({
        outbox,
        store,
        audit: sink,
        routing,
        notifiers,
        clock,
        sleep,
        random: () => {
          u = (u * 7 + 3) % 10;
          return u / 10;
        },
        metrics,
        ...extra,
      }),
    async enqueue(logId, entries, checkpoint) {
      const cur = await outbox.readCursor(logId);
      const v = cur?.version ?? 0;
      const ok = await outbox.commit({
        logId,
        expectedVersion: v,
        cursor: { logId, nextIndex: (cur?.nextIndex ?? 0) + 1, watermarkMs: clock.t, version: v + 1 },
        puts: new Map(),
        outbox: entries,
        ...(checkpoint ? { checkpoint } : {}),
      });
      if (!ok) throw new Error('enqueue lost its compare-and-swap');
    },
    async systemLog() {
      const out: LogRecord[] = [];
      for (let seq = 1; ; seq += 100) {
        const page = await logs.readBatches(SYSTEM_LOG_ID, seq, 100);
        for (const b of page) for (const r of b.records) out.push(decodeRecord(r.bytes));
        if (page.length < 100) return out;
      }
    },
    async pendingOutbox(logId) {
      const page = await outbox.readOutbox(logId, { limit: 1000 });
      return page.records.map((r) => r.entry.id);
    },
  };
  return env;
}

/** An alert of log `logId`, number `n`, with these destinations (none: routed by severity). */
export function alertOf(logId: string, n: number, over: Partial<AlertDocument> = {}): AlertDocument {
  return {
    ...ALERT,
    id: `alr_${n.toString(16).padStart(32, '0')}`,
    logId,
    trigger: { index: n, receivedAt: new Date(T0 + n).toISOString() },
    firedAt: new Date(T0 + n).toISOString(),
    destinations: [],
    ...over,
  };
}

export const fire = (a: AlertDocument): OutboxEntry => ({ type: 'alert', id: a.id, alert: a });
export const suppressed = (a: AlertDocument): OutboxEntry => ({
  type: 'suppressed',
  id: a.id,
  alert: { ...a, suppressed: { reason: 'CHG-1', from: a.firedAt, to: a.firedAt } },
});
export const occurrence = (a: AlertDocument, index: number): OutboxEntry => ({
  type: 'occurrence',
  id: `${a.id}#${index}`,
  alertId: a.id,
  logId: a.logId,
  ruleId: a.rule.id,
  index,
  receivedAt: new Date(T0 + index).toISOString(),
});

export const CHECKPOINT: CheckpointRef = {
  size: 4096,
  checkpoint: 'anchorlog.local/acme\n4096\nAAAA\n\n— x y\n',
};
