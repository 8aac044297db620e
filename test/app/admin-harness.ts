/**
 * The admin path as deployed: PrincipalService over DynamoPrincipalStore,
 * auditing into the `system` log through SystemLogAuditSink → IngestService →
 * DynamoLogStore, all on one moto table. `store` and `logs` are what the admin
 * role's credentials reach directly (PutItem on `P#*`, the `L#system…` items),
 * so tests use them to play an insider who bypasses the services.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { DynamoPrincipalStore } from '../../src/adapters/aws/dynamo-principal-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { SystemLogAuditReader, SystemLogAuditSink } from '../../src/app/admin-audit.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogAdminService } from '../../src/app/log-admin.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { type BindingFailure, PrincipalService } from '../../src/app/principals.ts';
import { SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { decodeRecord, type LogRecord } from '../../src/core/record.ts';
import { awsClientConfig } from '../support/aws.ts';

export interface AdminEnv {
  ddb: DynamoDBClient;
  table: string;
  logs: DynamoLogStore;
  store: DynamoPrincipalStore;
  ingest: IngestService;
  sink: SystemLogAuditSink;
  auditLog: SystemLogAuditReader;
  principals: PrincipalService;
  logRegistry: LogRegistry;
  logAdmin: LogAdminService;
  /** What PrincipalService reported through onBindingFailure (the alarm hook). */
  bindingFailures: BindingFailure[];
  clock: { t: number; now(): number };
  /** Every record of a log, decoded. */
  records(logId?: string): Promise<LogRecord[]>;
  /** Another PrincipalService on the same table: a Lambda container with a cold cache. */
  coldPrincipals(): PrincipalService;
}

export async function adminEnv(name: string, ddb = new DynamoDBClient(awsClientConfig())): Promise<AdminEnv> {
  const table = `anchorlog-${name}`;
  await ensureTable(ddb, table);
  const clock = { t: Date.UTC(2026, 2, 1, 12), now: () => clock.t++ };
  const logs = new DynamoLogStore({ client: ddb, tableName: table, sleep: async () => {} });
  const store = new DynamoPrincipalStore({ client: ddb, tableName: table });
  const ingest = new IngestService({ store: logs, clock, sleep: async () => {} });
  const logRegistry = new LogRegistry({ store: logs, clock });
  const auditLog = new SystemLogAuditReader(logs);
  const sink = new SystemLogAuditSink(logRegistry, ingest, auditLog);
  const bindingFailures: BindingFailure[] = [];
  const coldPrincipals = () =>
    new PrincipalService({
      store,
      clock,
      random: (n) => crypto.getRandomValues(new Uint8Array(n)),
      audit: sink,
      auditLog,
      onBindingFailure: (f) => bindingFailures.push(f),
    });
  const principals = coldPrincipals();
  const logAdmin = new LogAdminService({ registry: logRegistry, logs, audit: sink, auditLog, clock });
  return {
    ddb,
    table,
    logs,
    store,
    ingest,
    sink,
    auditLog,
    principals,
    logRegistry,
    logAdmin,
    bindingFailures,
    clock,
    coldPrincipals,
    async records(logId = SYSTEM_LOG_ID) {
      const out: LogRecord[] = [];
      for (let seq = 1; ; seq += 100) {
        const page = await logs.readBatches(logId, seq, 100);
        for (const b of page) for (const r of b.records) out.push(decodeRecord(r.bytes));
        if (page.length < 100) return out;
      }
    },
  };
}
