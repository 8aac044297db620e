/**
 * Roles and principals as deployed, on one moto table: RoleService over
 * DynamoRoleStore and PrincipalService over DynamoPrincipalStore (with the
 * roles, key expiry and last-use settings), both recording into the `system`
 * log through SystemLogAuditSink → IngestService → DynamoLogStore, with a
 * bootstrapped human admin. `ddb` and `table` are what the admin role's
 * credentials reach directly (an insider writing `G#` items); `roleStore` and
 * `sink` are wrapped so tests can crash any step of a change.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { DynamoPrincipalStore } from '../../src/adapters/aws/dynamo-principal-store.ts';
import { DynamoRoleStore } from '../../src/adapters/aws/dynamo-role-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { SystemLogAuditReader, SystemLogAuditSink } from '../../src/app/admin-audit.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { type AdminAuditEvent, PrincipalService } from '../../src/app/principals.ts';
import { RoleService, type UnboundRole } from '../../src/app/roles.ts';
import { type KeyAgeLimits, type Principal, SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { decodeRecord, type LogRecord } from '../../src/core/record.ts';
import type { AuditPosition, PrincipalStore } from '../../src/ports/principal-store.ts';
import type { PendingRoleChange, RoleStore, RoleVersion } from '../../src/ports/role-store.ts';
import { awsClientConfig } from '../support/aws.ts';

/** A step of a role change a test can crash, before or after it takes effect. */
export type Step = 'stage' | 'record' | 'promote';
export interface Crash {
  step: Step;
  when: 'before' | 'after';
}

/** The role store with a crash seam on stage and promote. */
class CrashingRoleStore implements RoleStore {
  crash: Crash | undefined;
  constructor(readonly inner: RoleStore) {}
  get(id: string) {
    return this.inner.get(id);
  }
  async #maybe(step: Step, f: () => Promise<void>): Promise<void> {
    const c = this.crash;
    if (c?.step !== step) return f();
    this.crash = undefined;
    if (c.when === 'before') throw new Error(`crash before ${step}`);
    await f();
    throw new Error(`crash after ${step}`);
  }
  stage(change: PendingRoleChange) {
    return this.#maybe('stage', () => this.inner.stage(change));
  }
  promote(version: RoleVersion) {
    return this.#maybe('promote', () => this.inner.promote(version));
  }
  getVersion(id: string, v: number) {
    return this.inner.getVersion(id, v);
  }
  history(id: string, opts: { cursor?: string; limit: number }) {
    return this.inner.history(id, opts);
  }
  list(opts: { cursor?: string; limit: number }) {
    return this.inner.list(opts);
  }
}

/** The principal store, counting last-use writes (attempts and the ones that wrote). */
export class CountingPrincipalStore implements PrincipalStore {
  useAttempts = 0;
  useWrites = 0;
  constructor(readonly inner: PrincipalStore) {}
  get(id: string) {
    return this.inner.get(id);
  }
  put(...args: Parameters<PrincipalStore['put']>) {
    return this.inner.put(...args);
  }
  list(opts: { cursor?: string; limit: number }) {
    return this.inner.list(opts);
  }
  async recordUse(id: string, at: string, ifLastBefore: string) {
    this.useAttempts++;
    const wrote = await this.inner.recordUse(id, at, ifLastBefore);
    if (wrote) this.useWrites++;
    return wrote;
  }
  lastUsed(ids: readonly string[]) {
    return this.inner.lastUsed(ids);
  }
}

export interface RolesOnMoto {
  ddb: DynamoDBClient;
  table: string;
  clock: { t: number; now(): number };
  roleStore: CrashingRoleStore;
  principalStore: CountingPrincipalStore;
  sink: SystemLogAuditSink & { crash?: 'before' | 'after' };
  auditLog: SystemLogAuditReader;
  roles: RoleService;
  principals: PrincipalService;
  admin: Principal;
  adminKey: string;
  unbound: UnboundRole[];
  keyMaxAgeMs: KeyAgeLimits;
  /** Another PrincipalService on the same table (a second Lambda container, cold caches). */
  container(): PrincipalService;
  records(): Promise<LogRecord[]>;
}

const DAY = 86_400_000;

export async function rolesOnMoto(name: string, opts: { startMs?: number } = {}): Promise<RolesOnMoto> {
  const ddb = new DynamoDBClient(awsClientConfig());
  const table = `anchorlog-${name}`;
  await ensureTable(ddb, table);
  const clock = {
    t: opts.startMs ?? Date.now(),
    now() {
      this.t += 1;
      return this.t;
    },
  };
  const logs = new DynamoLogStore({ client: ddb, tableName: table, sleep: async () => {} });
  const ingest = new IngestService({ store: logs, clock, sleep: async () => {} });
  const registry = new LogRegistry({ store: logs, clock });
  const auditLog = new SystemLogAuditReader(logs);
  const inner = new SystemLogAuditSink(registry, ingest, auditLog);
  const sink = inner as SystemLogAuditSink & { crash?: 'before' | 'after' };
  const record = inner.record.bind(inner);
  sink.record = async (e: AdminAuditEvent): Promise<AuditPosition> => {
    const c = sink.crash;
    if (c && e.target.type === 'role') {
      sink.crash = undefined;
      if (c === 'before') throw new Error('crash before record');
      await record(e);
      throw new Error('crash after record');
    }
    return record(e);
  };
  await registry.createLog(SYSTEM_LOG_ID);
  const roleStore = new CrashingRoleStore(new DynamoRoleStore({ client: ddb, tableName: table }));
  const unbound: UnboundRole[] = [];
  const roles = new RoleService({
    store: roleStore,
    audit: sink,
    auditLog,
    clock,
    onBindingFailure: (f) => unbound.push(f),
  });
  const principalStore = new CountingPrincipalStore(
    new DynamoPrincipalStore({ client: ddb, tableName: table }),
  );
  const keyMaxAgeMs: KeyAgeLimits = { human: 90 * DAY, application: 365 * DAY, agent: 30 * DAY };
  const container = () =>
    new PrincipalService({
      store: principalStore,
      clock,
      random: (n) => crypto.getRandomValues(new Uint8Array(n)),
      audit: sink,
      auditLog,
      roles,
      keyMaxAgeMs,
    });
  const principals = container();
  const boot = await principals.bootstrapAdmin({ id: 'ops-admin', name: 'Ops', owner: 'secops' });
  if (!boot.apiKey) throw new Error('bootstrap showed no key');
  return {
    ddb,
    table,
    clock,
    roleStore,
    principalStore,
    sink,
    auditLog,
    roles,
    principals,
    admin: await principals.authenticate(boot.apiKey),
    adminKey: boot.apiKey,
    unbound,
    keyMaxAgeMs,
    container,
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
