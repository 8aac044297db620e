/**
 * `anchorlog signing-keys …` and `anchorlog logs policy …` against a real
 * HTTP server running the admin routes on the in-memory admin path (the
 * system log is a real log here): each change is a system-log record with
 * before/after, `set` changes only what its flags name, and a refused
 * request exits 1 with the API's code.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLogPolicyStore } from '../../src/adapters/memory/log-policy-store.ts';
import { MemoryProducerKeyStore } from '../../src/adapters/memory/producer-key-store.ts';
import { LogPolicyService } from '../../src/app/log-policy.ts';
import { apiKeyFromHeaders } from '../../src/app/principals.ts';
import { ProducerKeyService } from '../../src/app/producer-keys.ts';
import { logPolicyCommands } from '../../src/cli/log-policy.ts';
import { runMain } from '../../src/cli/main.ts';
import { signingKeysCommands } from '../../src/cli/signing-keys.ts';
import { adminApi } from '../../src/compose/principals.ts';
import { createRouter } from '../../src/http/router.ts';
import { type LocalHttpServer, startHttpServer } from '../../src/local/http-server.ts';
import { type RolesEnv, rolesEnv } from '../app/roles-support.ts';
import { captureIo } from './support.ts';

const STACK = /^\s+at .+[(:]\d+/m;
let server: LocalHttpServer;
let env: RolesEnv & { producerKeys: ProducerKeyService; logPolicy: LogPolicyService };

beforeAll(async () => {
  server = await startHttpServer(
    (req) =>
      createRouter(
        adminApi({
          principals: env.access,
          logAdmin: env.logAdmin,
          rules: undefined as never,
          alerts: undefined as never,
          roles: env.roles,
          producerKeys: env.producerKeys,
          logPolicy: env.logPolicy,
        }),
        { authenticate: (r) => env.access.authenticate(apiKeyFromHeaders(r.headers)) },
      )(req),
    { host: '127.0.0.1', port: 0, maxBodyBytes: 1024 * 1024 },
  );
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  const base = await rolesEnv();
  const producerKeys = new ProducerKeyService({
    store: new MemoryProducerKeyStore(),
    audit: base.sink,
    auditLog: base.auditLog,
    clock: base.clock,
    principals: base.access,
  });
  const logPolicy = new LogPolicyService({
    store: new MemoryLogPolicyStore(),
    audit: base.sink,
    auditLog: base.auditLog,
    logs: base.logs,
    clock: base.clock,
    defaults: { catalogMode: 'warn', catalogModes: new Map(), signatures: new Map() },
  });
  env = { ...base, producerKeys, logPolicy };
  await env.logAdmin.createLog(env.admin, 'payments');
});

const enc = (s: string) => new TextEncoder().encode(s);

async function cli(argv: readonly string[], files: Record<string, string> = {}) {
  const io = captureIo(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, enc(v)])));
  const deps = () => ({ env: {} });
  const code = await runMain([...argv], io, [...signingKeysCommands(deps), ...logPolicyCommands(deps)]);
  expect(io.err()).not.toMatch(STACK);
  return { code, out: io.out(), err: io.err() };
}
const api = () => ['--api', server.url, '--key', env.adminKey];
const systemRecords = async (action: string) =>
  (await env.records()).filter((r) => r.event.action === action).map((r) => r.event);

describe('signing-keys', () => {
  it('registers (PEM and JWK), lists and revokes, each change a system-log record', async () => {
    const ed = generateKeyPairSync('ed25519').publicKey;
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const files = {
      'ed.pem': ed.export({ format: 'pem', type: 'spki' }).toString(),
      'p256.jwk': JSON.stringify(p256.export({ format: 'jwk' })),
    };
    const r1 = await cli(
      ['signing-keys', 'register', 'ops-admin', '--public-key', 'ed.pem', ...api()],
      files,
    );
    expect(r1.err).toBe('');
    expect(r1.code).toBe(0);
    expect(r1.out).toMatch(/^registered; recorded in the system log\nKEY ID/);
    expect(r1.out).toContain('Ed25519');
    const r2 = await cli(
      ['signing-keys', 'register', 'ops-admin', '--public-key', 'p256.jwk', '--json', ...api()],
      files,
    );
    expect(r2.code).toBe(0);
    const p256Key = JSON.parse(r2.out).key as { keyId: string; alg: string };
    expect(p256Key.alg).toBe('ES256');
    // Again: a no-op, nothing recorded.
    const again = await cli(
      ['signing-keys', 'register', 'ops-admin', '--public-key', 'ed.pem', ...api()],
      files,
    );
    expect(again.out).toMatch(/^already registered/);
    expect(await systemRecords('producer_key.register')).toHaveLength(2);

    const list = await cli(['signing-keys', 'list', 'ops-admin', ...api()]);
    expect(list.code).toBe(0);
    expect(list.out.trim().split('\n')).toHaveLength(3);
    expect(list.out).toContain(`${p256Key.keyId}\tES256\tactive`);

    const rev = await cli(['signing-keys', 'revoke', 'ops-admin', '--key-id', p256Key.keyId, ...api()]);
    expect(rev.code).toBe(0);
    expect(rev.out).toMatch(/^revoked; recorded in the system log/);
    const [revoked] = await systemRecords('producer_key.revoke');
    expect(revoked?.changes?.before).toMatchObject({ keyId: p256Key.keyId, version: 1 });
    expect(revoked?.changes?.after).toMatchObject({ keyId: p256Key.keyId, version: 2 });
    expect((await cli(['signing-keys', 'list', 'ops-admin', ...api()])).out).toContain(
      `${p256Key.keyId}\tES256\trevoked`,
    );
  });

  it('a refused request exits 1 with the API code; an unreadable or bad key file too', async () => {
    const unknown = await cli(['signing-keys', 'revoke', 'ops-admin', '--key-id', 'nope', ...api()]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('NOT_FOUND');
    const bad = await cli(['signing-keys', 'register', 'ops-admin', '--public-key', 'k.pem', ...api()], {
      'k.pem': 'not a key',
    });
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('BAD_REQUEST');
    const missing = await cli([
      'signing-keys',
      'register',
      'ops-admin',
      '--public-key',
      '/nonexistent/k.pem',
      ...api(),
    ]);
    expect(missing.code).toBe(2);
    expect(await systemRecords('producer_key.register')).toHaveLength(0);
  });
});

describe('logs policy', () => {
  it('get shows the defaults; set changes only what its flags name, each change recorded', async () => {
    const g = await cli(['logs', 'policy', 'get', 'payments', ...api()]);
    expect(g.code).toBe(0);
    expect(g.out).toContain('catalog mode:        warn (deployment default; default warn)');
    expect(g.out).toContain('never set');

    const s1 = await cli(['logs', 'policy', 'set', 'payments', '--catalog-mode', 'enforce', ...api()]);
    expect(s1.code).toBe(0);
    expect(s1.out).toMatch(
      /^changed; recorded in the system log\nlog payments\ncatalog mode: +enforce \(set for this log/,
    );
    const s2 = await cli([
      'logs',
      'policy',
      'set',
      'payments',
      '--sign-principal',
      'app-1',
      '--sign-actor',
      'agent',
      '--json',
      ...api(),
    ]);
    expect(s2.code).toBe(0);
    const body = JSON.parse(s2.out);
    expect(body.changed).toBe(true);
    // The catalog mode set before is kept.
    expect(body.policy.effective).toEqual({
      catalogMode: 'enforce',
      signatures: { principals: ['app-1'], actorTypes: ['agent'] },
    });
    const same = await cli(['logs', 'policy', 'set', 'payments', '--catalog-mode', 'enforce', ...api()]);
    expect(same.out).toMatch(/^unchanged/);
    const back = await cli([
      'logs',
      'policy',
      'set',
      'payments',
      '--catalog-mode',
      'default',
      '--signatures',
      'none',
      '--json',
      ...api(),
    ]);
    expect(JSON.parse(back.out).policy.stored).toMatchObject({
      signatures: { principals: [], actorTypes: [] },
      version: 3,
    });
    expect(JSON.parse(back.out).policy.stored.catalogMode).toBeUndefined();

    const recorded = await systemRecords('log.policy.set');
    expect(
      recorded.map((e) => [
        e.id,
        (e.changes?.before as { version?: number } | undefined)?.version,
        (e.changes?.after as { version?: number } | undefined)?.version,
      ]),
    ).toEqual([
      ['log-policy/payments/v1', undefined, 1],
      ['log-policy/payments/v2', 1, 2],
      ['log-policy/payments/v3', 2, 3],
    ]);
  });

  it('refusals: nothing to change is a usage error; an unknown log exits 1 with NOT_FOUND', async () => {
    const none = await cli(['logs', 'policy', 'set', 'payments', ...api()]);
    expect(none.code).toBe(2);
    const both = await cli([
      'logs',
      'policy',
      'set',
      'payments',
      '--signatures',
      'none',
      '--sign-actor',
      'agent',
      ...api(),
    ]);
    expect(both.code).toBe(2);
    expect(both.err).toContain('--signatures cannot be given with');
    const unknown = await cli(['logs', 'policy', 'get', 'nope', ...api()]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('NOT_FOUND');
    expect(await systemRecords('log.policy.set')).toHaveLength(0);
  });
});
