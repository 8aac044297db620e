/**
 * The `system` log is reserved for the admin path (issue #11): no principal
 * may hold or use `events:write` on it, so nobody can squat the predictable
 * ids of admin audit events (`principal/<id>/v<n>`), and a revocation always
 * takes effect, even on top of a change that cannot be recorded.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import { AuthenticationError } from '../../src/app/principals.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { type Principal, SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { createRouter } from '../../src/http/router.ts';
import { eventWriteRoutes } from '../../src/http/routes/events.ts';
import { type AdminEnv, adminEnv } from './admin-harness.ts';

let env: AdminEnv;
let admin: Principal;

beforeAll(async () => {
  env = adminEnv();
  admin = (await env.principals.bootstrapAdmin({ id: 'ops-admin', name: 'Ops', owner: 'secops@example.com' }))
    .principal;
});

const ev = (id: string, actor: string, action = 'idp.sync') => ({
  id,
  occurredAt: '2026-03-01T12:00:00.000Z',
  actor: { type: 'service', id: actor },
  action,
  outcome: 'success',
});

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) =>
      e instanceof AuthenticationError ? `${e.code}:${e.reason}` : e instanceof AppError ? e.code : String(e),
  );

const app = (id: string, scopes: Record<string, string[]>) => ({
  id,
  name: id,
  kind: 'application',
  owner: 'ops-admin',
  purpose: 'test principal',
  scopes,
});

describe('nobody may write the system log except the admin path', () => {
  it('a principal cannot be granted events:write on system', async () => {
    // Old code: 'ok' (the grant was accepted).
    expect(
      await outcome(env.principals.create(admin, app('siem-forwarder', { system: ['events:write'] }))),
    ).toBe('BAD_REQUEST');
    const reader = await env.principals.create(admin, app('siem-reader', { system: ['events:read'] }));
    expect(
      await outcome(
        env.principals.update(admin, reader.principal.id, {
          scopes: { system: ['events:write', 'events:read'] },
        }),
      ),
    ).toBe('BAD_REQUEST');
  });

  it('ingest refuses an append to system, whoever the submitter', async () => {
    const before = (await env.records()).length;
    const r = await outcome(
      env.ingest.append({
        logId: SYSTEM_LOG_ID,
        submitter: admin.id,
        body: utf8(JSON.stringify({ events: [ev('principal/ci-deployer/v2', 'idp')] })),
      }),
    );
    // Old code: 'ok'.
    expect(r).toBe('FORBIDDEN');
    expect((await env.records()).length).toBe(before);
  });

  it('POST /v1/logs/system/events is 403 even for a global admin', async () => {
    const router = createRouter(eventWriteRoutes({ ingest: env.ingest, principals: env.principals }), {
      authenticate: async () => admin,
    });
    const res = await router({
      method: 'POST',
      path: `/v1/logs/${SYSTEM_LOG_ID}/events`,
      headers: { 'content-type': 'application/json' },
      query: {},
      pathParams: {},
      body: utf8(JSON.stringify({ events: [ev('forged-1', 'idp', 'principal.create')] })),
      principal: admin,
      requestId: 'req-forge',
    });
    // Old code: 201.
    expect(res.status).toBe(403);
  });
});

describe('a revocation always takes effect', () => {
  it('on top of a staged rotation whose audit event id was squatted', async () => {
    const victim = await env.principals.create(admin, app('ci-deployer', { 'tenant-a': ['events:write'] }));
    // An insider on the admin path records a look-alike event under the id of ci-deployer's next change.
    await env.sink.record({
      id: 'principal/ci-deployer/v2',
      occurredAt: '2026-03-01T12:00:00.000Z',
      actor: { type: 'service', id: 'idp' },
      action: 'principal.update',
      target: { type: 'principal', id: 'ci-deployer', name: 'ci-deployer' },
      outcome: 'success',
      changes: { before: {}, after: { note: 'squatted' } },
    });
    // The key leaks; the rotation cannot be recorded and stays staged…
    expect(await outcome(env.principals.rotate(admin, 'ci-deployer'))).toBe('INTEGRITY');
    // …and the revocation still wins. Old code: revoke threw INTEGRITY without staging anything.
    const revoked = await env.principals.revoke(admin, 'ci-deployer').catch((e: unknown) => e);
    expect(await outcome(env.principals.authenticate(`Bearer ${victim.apiKey}`))).toMatch(/^UNAUTHENTICATED/);
    expect(revoked).toMatchObject({ status: 'revoked', version: 3, keyId: victim.principal.keyId });
    const trail = (await env.records()).filter((r) => r.event.target?.id === 'ci-deployer');
    expect(trail.map((r) => [r.event.id, r.event.action, r.event.metadata?.supersedes])).toEqual([
      ['principal/ci-deployer/v1', 'principal.create', undefined],
      ['principal/ci-deployer/v2', 'principal.update', undefined], // the squatted look-alike
      ['principal/ci-deployer/v3', 'principal.revoke', 'principal/ci-deployer/v2'],
    ]);
    expect(await env.principals.recoverPending()).toEqual({ completed: 0, failed: 0 });
  });
});
