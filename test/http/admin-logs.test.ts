/**
 * `PUT /v1/admin/logs/{logId}` through the real router: creating a log is an
 * admin change and leaves exactly one `log.create` event in the `system` log,
 * recorded before the log exists (issue #11).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import { LogAdminService } from '../../src/app/log-admin.ts';
import type { Principal } from '../../src/core/principal.ts';
import { createRouter } from '../../src/http/router.ts';
import { adminRoutes } from '../../src/http/routes/admin.ts';
import type { HttpRequest } from '../../src/http/types.ts';
import { type AdminEnv, adminEnv } from '../app/admin-harness.ts';

let env: AdminEnv;
let admin: Principal;

beforeAll(async () => {
  env = adminEnv();
  admin = (await env.principals.bootstrapAdmin({ id: 'ops-admin', name: 'Ops', owner: 'secops@example.com' }))
    .principal;
});

const request = (method: string, path: string, principal: Principal = admin): HttpRequest => ({
  method,
  path,
  headers: {},
  query: {},
  pathParams: {},
  body: new Uint8Array(0),
  principal,
  requestId: 'req-logs',
});

const router = () =>
  createRouter(adminRoutes({ principals: env.principals, logAdmin: env.logAdmin }), {
    authenticate: async () => admin,
  });

const mentions = async (logId: string) =>
  (await env.records()).filter((r) => r.event.target?.type === 'log' && r.event.target.id === logId);

describe('PUT /v1/admin/logs/{logId}', () => {
  it('records one log.create event, submitted by the admin', async () => {
    const res = await router()(request('PUT', '/v1/admin/logs/shadow-tenant'));
    expect(res.status).toBe(201);
    expect(await env.logs.logExists('shadow-tenant')).toBe(true);
    // Old code: [] — the system log held only the bootstrap's principal.create.
    const recorded = await mentions('shadow-tenant');
    expect(recorded.map((r) => [r.event.action, r.submitter, r.event.actor.id])).toEqual([
      ['log.create', admin.id, admin.id],
    ]);
    expect(recorded[0]?.event.context).toEqual({ requestId: 'req-logs' });
    expect(recorded[0]?.event).toMatchObject({
      id: 'log/shadow-tenant/create',
      changes: { after: { logId: 'shadow-tenant' } },
    });

    const again = await router()(request('PUT', '/v1/admin/logs/shadow-tenant'));
    expect(again.status).toBe(200);
    expect(await mentions('shadow-tenant')).toHaveLength(1);
  });

  it('needs admin on *, and records nothing when refused', async () => {
    const { principal: logAdmin } = await env.principals.create(admin, {
      name: 'Tenant admin',
      kind: 'human',
      owner: 'o@example.com',
      purpose: 'administers tenant-a',
      scopes: { 'tenant-a': ['admin'] },
    });
    const res = await router()(request('PUT', '/v1/admin/logs/tenant-b', logAdmin));
    expect(res.status).toBe(403);
    expect(await env.logs.logExists('tenant-b')).toBe(false);
    expect(await mentions('tenant-b')).toEqual([]);
  });

  it('audit log unavailable: 503 and no log; a crash after RECORD is completed by the retry, one record', async () => {
    const down = new LogAdminService({
      registry: env.logRegistry,
      logs: env.logs,
      auditLog: env.auditLog,
      clock: env.clock,
      audit: {
        record: async () => {
          throw new AppError('UNAVAILABLE', 'system log down', { retryAfterSeconds: 2 });
        },
      },
    });
    const refused = await createRouter(adminRoutes({ principals: env.principals, logAdmin: down }), {
      authenticate: async () => admin,
    })(request('PUT', '/v1/admin/logs/late-tenant'));
    expect(refused.status).toBe(503);
    expect(await env.logs.logExists('late-tenant')).toBe(false);

    // An earlier attempt recorded the creation and died before creating the log.
    await env.sink.record({
      id: 'log/late-tenant/create',
      occurredAt: '2026-03-01T11:00:00.000Z',
      actor: { type: 'human', id: admin.id, name: admin.name },
      action: 'log.create',
      target: { type: 'log', id: 'late-tenant', name: 'late-tenant' },
      outcome: 'success',
      changes: { before: {}, after: { logId: 'late-tenant' } },
    });
    const retried = await router()(request('PUT', '/v1/admin/logs/late-tenant'));
    expect(retried.status).toBe(201);
    expect(await env.logs.logExists('late-tenant')).toBe(true);
    expect((await mentions('late-tenant')).map((r) => r.event.occurredAt)).toEqual([
      '2026-03-01T11:00:00.000Z',
    ]);
  });
});
