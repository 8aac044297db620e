/**
 * Rule management as deployed, on one moto table: RuleService over
 * DynamoRuleStore, recording into the `system` log through
 * SystemLogAuditSink → IngestService → DynamoLogStore, with a bootstrapped
 * admin (PrincipalService over DynamoPrincipalStore) to act as. `ddb` and
 * `table` are what the admin role's credentials reach directly, so tests use
 * them to play an insider who writes `R#` items around the service.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { DynamoPrincipalStore } from '../../src/adapters/aws/dynamo-principal-store.ts';
import { DynamoRuleStore } from '../../src/adapters/aws/dynamo-rule-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { SystemLogAuditReader, SystemLogAuditSink } from '../../src/app/admin-audit.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { PrincipalService } from '../../src/app/principals.ts';
import { RuleService } from '../../src/app/rules.ts';
import { type Principal, SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { decodeRecord, type LogRecord } from '../../src/core/record.ts';
import { awsClientConfig } from '../support/aws.ts';

export interface RulesOnMoto {
  ddb: DynamoDBClient;
  table: string;
  logs: DynamoLogStore;
  store: DynamoRuleStore;
  sink: SystemLogAuditSink;
  auditLog: SystemLogAuditReader;
  clock: { t: number; now(): number };
  principals: PrincipalService;
  admin: Principal;
  rules: RuleService;
  /** Every record of the system log, decoded. */
  records(): Promise<LogRecord[]>;
}

export async function rulesOnMoto(name: string): Promise<RulesOnMoto> {
  const ddb = new DynamoDBClient(awsClientConfig());
  const table = `anchorlog-${name}`;
  await ensureTable(ddb, table);
  const clock = {
    t: Date.now(),
    now() {
      this.t += 1;
      return this.t;
    },
  };
  const logs = new DynamoLogStore({ client: ddb, tableName: table, sleep: async () => {} });
  const ingest = new IngestService({ store: logs, clock, sleep: async () => {} });
  const registry = new LogRegistry({ store: logs, clock });
  const auditLog = new SystemLogAuditReader(logs);
  const sink = new SystemLogAuditSink(registry, ingest, auditLog);
  await registry.createLog(SYSTEM_LOG_ID);
  const principals = new PrincipalService({
    store: new DynamoPrincipalStore({ client: ddb, tableName: table }),
    clock,
    random: (n) => crypto.getRandomValues(new Uint8Array(n)),
    audit: sink,
    auditLog,
  });
  const { principal: admin } = await principals.bootstrapAdmin({
    id: 'ops-admin',
    name: 'Ops',
    owner: 'secops@example.com',
  });
  const store = new DynamoRuleStore({ client: ddb, tableName: table });
  const rules = new RuleService({ store, audit: sink, auditLog, clock });
  return {
    ddb,
    table,
    logs,
    store,
    sink,
    auditLog,
    clock,
    principals,
    admin,
    rules,
    async records() {
      const out: LogRecord[] = [];
      for (let seq = 1; ; seq += 100) {
        const page = await logs.readBatches(SYSTEM_LOG_ID, seq, 100);
        for (const b of page) for (const r of b.records) out.push(decodeRecord(r.bytes));
        if (page.length < 100) return out;
      }
    },
  };
}
