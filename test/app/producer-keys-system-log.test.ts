/**
 * Producer keys through the deployed admin path (test/app/admin-harness.ts:
 * PrincipalService and ProducerKeyService auditing into the real `system`
 * log through SystemLogAuditSink → IngestService): every key change lands in
 * the system log as a valid record, and the offline key directory built from
 * those records alone (src/core/bundle/producer-signatures.ts) is exactly
 * what the store holds — the auditor's source of key → principal is the
 * signed system log. A retry after a lost store write completes the change
 * without a second record.
 */
import { generateKeyPairSync } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryProducerKeyStore } from '../../src/adapters/memory/producer-key-store.ts';
import { ProducerKeyService } from '../../src/app/producer-keys.ts';
import { producerKeysFromSystemRecords } from '../../src/core/bundle/producer-signatures.ts';
import type { Principal } from '../../src/core/principal.ts';
import { keyRecordOf } from '../../src/ports/producer-key-store.ts';
import { type AdminEnv, adminEnv } from './admin-harness.ts';

let env: AdminEnv;
let admin: Principal;
let keys: MemoryProducerKeyStore;
let svc: ProducerKeyService;

beforeEach(async () => {
  env = adminEnv();
  admin = (await env.principals.bootstrapAdmin({ id: 'ops-admin', name: 'Ops', owner: 'secops@example.com' }))
    .principal;
  await env.principals.create(admin, {
    id: 'app-1',
    name: 'app-1',
    kind: 'application',
    owner: 'ops-admin',
    purpose: 'test producer',
    scopes: { 'tenant-a': ['events:write'] },
  });
  keys = new MemoryProducerKeyStore();
  svc = new ProducerKeyService({
    store: keys,
    audit: env.sink,
    auditLog: env.auditLog,
    clock: env.clock,
    principals: env.principals,
  });
});

const pem = (kind: 'ed25519' | 'p256') =>
  (kind === 'ed25519'
    ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  ).publicKey
    .export({ format: 'pem', type: 'spki' })
    .toString();

describe('producer keys in the system log', () => {
  it('register, rotate and revoke: the directory from the system log equals the store', async () => {
    const a = await svc.register(admin, 'app-1', { publicKey: pem('ed25519') }, { requestId: 'r1' });
    const b = await svc.register(admin, 'app-1', { publicKey: pem('p256') });
    await svc.revoke(admin, 'app-1', a.key.keyId, {
      at: new Date(env.clock.now() + 3_600_000).toISOString(),
    });
    await svc.revoke(admin, 'app-1', a.key.keyId, {});
    const records = await env.records('system');
    const keyRecords = records.filter((r) => r.event.action.startsWith('producer_key.'));
    expect(keyRecords.map((r) => r.event.action)).toEqual([
      'producer_key.register',
      'producer_key.register',
      'producer_key.revoke',
      'producer_key.revoke',
    ]);
    expect(keyRecords.every((r) => r.submitter === 'ops-admin')).toBe(true);
    const directory = await producerKeysFromSystemRecords(records);
    const stored = (await keys.list('app-1')).map(keyRecordOf);
    expect([...directory.values()].sort((x, y) => (x.keyId < y.keyId ? -1 : 1))).toEqual(stored);
    expect(directory.get(a.key.keyId)?.version).toBe(3);
    expect(directory.get(b.key.keyId)?.version).toBe(1);
  });

  it('a key for a principal that does not exist is refused; nothing is recorded', async () => {
    const before = (await env.records('system')).length;
    await expect(svc.register(admin, 'ghost', { publicKey: pem('ed25519') })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await env.records('system')).length).toBe(before);
  });

  it('a lost store write is completed by the retry, with one record', async () => {
    const publicKey = pem('ed25519');
    keys.faults.fail({ op: 'put', code: 'UNAVAILABLE' });
    await expect(svc.register(admin, 'app-1', { publicKey })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const r = await svc.register(admin, 'app-1', { publicKey });
    expect(r.created).toBe(false);
    const registrations = (await env.records('system')).filter(
      (x) => x.event.action === 'producer_key.register',
    );
    expect(registrations).toHaveLength(1);
    expect(await keys.get('app-1', r.key.keyId)).toMatchObject({ version: 1 });
  });
});
