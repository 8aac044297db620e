// lambdas/recover.ts as EventBridge Scheduler runs it, on moto: a principal
// change that a crash left staged (STAGE done, RECORD and PROMOTE not) is
// completed by the scheduled job, with its one record in the `system` log,
// without anyone touching that principal again (src/app/principals.ts,
// `recoverPending`, "run it on a schedule"). Before, nothing ran it: the
// change stayed staged until the next admin change of that principal.
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import { type AdminAuditEvent, PrincipalService } from '../../src/app/principals.ts';
import { type Principal, SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { ScheduledJobError } from '../../src/jobs/scheduled-job.ts';
import { motoEndpoint } from '../support/aws.ts';
import type { AdminEnv } from './admin-harness.ts';
import { adminEnvOnMoto } from './admin-moto.ts';

let env: AdminEnv & { table: string };
let admin: Principal;
type Handler = typeof import('../../lambdas/recover.ts')['handler'];
let handler: Handler;
const context = { getRemainingTimeInMillis: () => 60_000 };
const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.scheduler', detail: {} };

/** The admin function dying right after STAGE: its audit sink never returns. */
function crashingPrincipals(): PrincipalService {
  return new PrincipalService({
    store: env.store,
    clock: env.clock,
    random: (n) => crypto.getRandomValues(new Uint8Array(n)),
    audit: {
      record: async () => {
        throw new AppError('UNAVAILABLE', 'the function died before RECORD');
      },
    },
    auditLog: env.auditLog,
    onBindingFailure: () => {},
  });
}

const agent = (id: string) => ({
  id,
  name: id,
  kind: 'agent',
  owner: 'ops-admin',
  purpose: 'test principal',
  scopes: { 'tenant-a': ['events:write'] },
});

beforeAll(async () => {
  env = await adminEnvOnMoto('recover-lambda');
  // The Lambda appends to the system log on the system clock; so does everything here.
  env.clock.t = Date.now();
  await env.logRegistry.createLog(SYSTEM_LOG_ID);
  admin = (await env.principals.bootstrapAdmin({ id: 'ops-admin', name: 'Ops', owner: 'secops@example.com' }))
    .principal;
  Object.assign(process.env, {
    ANCHORLOG_TABLE: env.table,
    ANCHORLOG_ARCHIVE_BUCKET: 'anchorlog-archive-recover',
    ANCHORLOG_AWS_ENDPOINT: motoEndpoint(),
    AWS_REGION: 'us-east-1',
  });
  ({ handler } = await import('../../lambdas/recover.ts'));
});

describe('lambdas/recover handler (EventBridge Scheduler)', () => {
  it('completes a change a crash left staged: in effect, recorded once; the next run has nothing to do', async () => {
    const { principal, apiKey } = await env.principals.create(admin, agent('crash-victim'));
    await expect(
      crashingPrincipals().updateScopes(admin, principal.id, { 'tenant-b': ['events:read'] }),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect((await env.store.get(principal.id))?.pending).toBeDefined();
    // Staged is not in effect.
    expect((await env.coldPrincipals().authenticate(apiKey)).scopes).toEqual({
      'tenant-a': ['events:write'],
    });

    expect(await handler(scheduled, context)).toEqual({ completed: 1, failed: 0 });

    expect((await env.store.get(principal.id))?.pending).toBeUndefined();
    expect((await env.coldPrincipals().authenticate(apiKey)).scopes).toEqual({ 'tenant-b': ['events:read'] });
    const records = (await env.records()).filter((r) => r.event.target?.id === principal.id);
    expect(records.map((r) => [r.event.action, r.event.id])).toEqual([
      ['principal.create', `principal/${principal.id}/v1`],
      ['principal.scopes.update', `principal/${principal.id}/v2`],
    ]);
    expect(await handler(scheduled, context)).toEqual({ completed: 0, failed: 0 });
  });

  it('a change it cannot complete fails the invocation (Errors → alarm) and stays staged, not in effect', async () => {
    const { principal, apiKey } = await env.principals.create(admin, agent('conflicted'));
    await expect(crashingPrincipals().revoke(admin, principal.id)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    // An insider with the admin role's credentials takes the staged change's event id first,
    // with other content: RECORD is refused (CONFLICT), so PROMOTE never happens.
    const forged: AdminAuditEvent = {
      id: `principal/${principal.id}/v2`,
      occurredAt: new Date(env.clock.now()).toISOString(),
      actor: { type: 'human', id: 'insider' },
      action: 'principal.update',
      target: { type: 'principal', id: principal.id, name: principal.name },
      outcome: 'success',
      changes: { before: {}, after: { name: 'renamed' } },
    };
    await env.sink.record(forged);

    const err = await handler(scheduled, context).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ScheduledJobError);
    expect((err as ScheduledJobError).failures).toEqual([{ code: 'INCOMPLETE' }]);
    // The revocation is staged, so authentication already fails closed; nothing was promoted.
    expect((await env.store.get(principal.id))?.pending).toBeDefined();
    await expect(env.coldPrincipals().authenticate(apiKey)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });
});
