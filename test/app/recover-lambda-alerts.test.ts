// lambdas/recover.ts as EventBridge Scheduler runs it, on moto, for alert
// review: a transition that a crash left staged (STAGE done, RECORD and
// PROMOTE not) is completed by the scheduled job, with its one record in the
// `system` log, without anyone touching that alert again (src/app/alerts.ts,
// `recoverPending`).
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import { motoEndpoint } from '../support/aws.ts';
import { type AlertsOnMoto, alertsOnMoto } from './alerts-moto.ts';

let env: AlertsOnMoto;
type Handler = typeof import('../../lambdas/recover.ts')['handler'];
let handler: Handler;
const context = { getRemainingTimeInMillis: () => 60_000 };
const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.scheduler', detail: {} };

beforeAll(async () => {
  env = await alertsOnMoto(`recover-lambda-alerts-${Date.now()}`);
  Object.assign(process.env, {
    ANCHORLOG_TABLE: env.table,
    ANCHORLOG_ARCHIVE_BUCKET: 'anchorlog-archive-recover',
    ANCHORLOG_AWS_ENDPOINT: motoEndpoint(),
    AWS_REGION: 'us-east-1',
  });
  ({ handler } = await import('../../lambdas/recover.ts'));
});

describe('lambdas/recover handler: alert review', () => {
  it('completes a transition a crash left staged: in effect, recorded once; the next run has nothing to do', async () => {
    const a = await env.fire(1);
    // The admin function dying right after STAGE: its audit sink never returns.
    const crashing = env.service({
      audit: {
        record: async () => {
          throw new AppError('UNAVAILABLE', 'the function died before RECORD');
        },
      },
    });
    await expect(
      crashing.resolve(env.admin, a.id, { outcome: 'accepted_risk', notes: 'RISK-9' }),
    ).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect((await env.reviews.get(a.id))?.state.status).toBe('open');

    expect(await handler(scheduled, context)).toEqual({ completed: 1, failed: 0 });

    expect((await env.reviews.get(a.id))?.state).toMatchObject({
      status: 'resolved',
      resolved: { by: env.admin.id, outcome: 'accepted_risk', notes: 'RISK-9' },
    });
    const records = (await env.records()).filter((r) => r.event.target?.id === a.id);
    expect(records.map((r) => [r.event.action, r.event.id, r.submitter])).toEqual([
      ['alert.fire', a.id, 'system:detection'],
      ['alert.resolve', `${a.id}/r1`, env.admin.id],
    ]);
    expect(await handler(scheduled, context)).toEqual({ completed: 0, failed: 0 });
  });
});
