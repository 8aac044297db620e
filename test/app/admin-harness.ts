/**
 * The admin path as deployed: PrincipalService over a principal store,
 * auditing into the `system` log through SystemLogAuditSink → IngestService →
 * a log store. `store` and `logs` are what the admin role's credentials reach
 * directly (PutItem on `P#*`, the `L#system…` items), so tests use them to
 * play an insider who bypasses the services. `adminEnv` builds it on the
 * in-memory adapters; ./admin-moto.ts on one moto table, for the tests that
 * count DynamoDB requests.
 */
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemoryPrincipalStore } from '../../src/adapters/memory/principal-store.ts';
import { SystemLogAuditReader, SystemLogAuditSink } from '../../src/app/admin-audit.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogAdminService } from '../../src/app/log-admin.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { type BindingFailure, PrincipalService } from '../../src/app/principals.ts';
import { SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { decodeRecord, type LogRecord } from '../../src/core/record.ts';
import type { LogStore } from '../../src/ports/log-store.ts';
import type { PrincipalStore } from '../../src/ports/principal-store.ts';

export interface AdminEnv {
  logs: LogStore;
  store: PrincipalStore;
  ingest: IngestService;
  sink: SystemLogAuditSink;
  auditLog: SystemLogAuditReader;
  principals: PrincipalService;
  logRegistry: LogRegistry;
  logAdmin: LogAdminService;
  /** What PrincipalService reported through onBindingFailure (the alarm hook). */
  bindingFailures: BindingFailure[];
  clock: ManualClock;
  /** Every record of a log, decoded. */
  records(logId?: string): Promise<LogRecord[]>;
  /** Another PrincipalService on the same table: a Lambda container with a cold cache. */
  coldPrincipals(): PrincipalService;
}

/** The admin path on `logs` and `store`. */
export function adminEnvOn(logs: LogStore, store: PrincipalStore): AdminEnv {
  const clock = new ManualClock({ startMs: Date.UTC(2026, 2, 1, 12), stepMs: 1 });
  const ingest = new IngestService({ store: logs, clock, sleep: clock.sleep });
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

/** The admin path on the in-memory adapters. */
export function adminEnv(): AdminEnv {
  return adminEnvOn(new MemoryLogStore(), new MemoryPrincipalStore());
}
