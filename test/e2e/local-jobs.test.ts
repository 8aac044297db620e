/**
 * The local stack's timer runs the scheduled jobs the cloud runs (seal,
 * project, anchor, principal recovery), composed by the same functions as
 * the Lambdas. Here: a principal change a crash left staged takes effect
 * without anyone calling anything, as the recovery schedule does in AWS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoPrincipalStore } from '../../src/adapters/aws/dynamo-principal-store.ts';
import { SystemLogAuditReader } from '../../src/app/admin-audit.ts';
import { AppError } from '../../src/app/errors.ts';
import { PrincipalService } from '../../src/app/principals.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { systemClock } from '../../src/ports/clock.ts';
import { startTestStack } from './helpers.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ sealIntervalMs: 100 });
});
afterAll(async () => {
  await stack?.stop();
});

async function until(what: string, done: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('local stack: the scheduled jobs on a timer', () => {
  it('completes a principal change a crash left staged', async () => {
    const { services, info } = stack;
    const admin = await services.principals.authenticate(info.adminKey);
    const { principal, apiKey } = await services.principals.create(admin, {
      id: 'staged-by-crash',
      name: 'staged-by-crash',
      kind: 'agent',
      owner: 'local-admin',
      purpose: 'test principal',
      scopes: { [info.logId]: ['events:write'] },
    });
    const store = new DynamoPrincipalStore({ client: services.clients.ddb, tableName: info.tableName });
    // The admin function dying between STAGE and RECORD.
    const crashing = new PrincipalService({
      store,
      clock: systemClock,
      random: (n) => crypto.getRandomValues(new Uint8Array(n)),
      audit: {
        record: async () => {
          throw new AppError('UNAVAILABLE', 'the function died before RECORD');
        },
      },
      auditLog: new SystemLogAuditReader(services.logStore),
      onBindingFailure: () => {},
    });
    await expect(
      crashing.updateScopes(admin, principal.id, { [info.logId]: ['events:read'] }),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE' });

    await until('the recovery job', async () => (await store.get(principal.id))?.pending === undefined);
    expect((await services.principals.authenticate(apiKey)).scopes).toEqual({
      [info.logId]: ['events:read'],
    });
  });
});
