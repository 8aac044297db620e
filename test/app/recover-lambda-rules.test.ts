// lambdas/recover.ts as EventBridge Scheduler runs it, on moto, for detection
// rules: a rule change that a crash left staged (STAGE done, RECORD and
// PROMOTE not) is completed by the scheduled job, with its one record in the
// `system` log, without anyone touching that rule again (src/app/rules.ts,
// `recoverPending`).
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import { RuleService } from '../../src/app/rules.ts';
import { motoEndpoint } from '../support/aws.ts';
import { type RulesOnMoto, rulesOnMoto } from './rules-moto.ts';
import { ruleInput } from './rules-support.ts';

let env: RulesOnMoto;
type Handler = typeof import('../../lambdas/recover.ts')['handler'];
let handler: Handler;
const context = { getRemainingTimeInMillis: () => 60_000 };
const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.scheduler', detail: {} };

beforeAll(async () => {
  env = await rulesOnMoto('recover-lambda-rules');
  Object.assign(process.env, {
    ANCHORLOG_TABLE: env.table,
    ANCHORLOG_ARCHIVE_BUCKET: 'anchorlog-archive-recover',
    ANCHORLOG_AWS_ENDPOINT: motoEndpoint(),
    AWS_REGION: 'us-east-1',
  });
  ({ handler } = await import('../../lambdas/recover.ts'));
});

describe('lambdas/recover handler: detection rules', () => {
  it('completes a rule change a crash left staged: in effect, recorded once; the next run has nothing to do', async () => {
    const { rules, admin, store } = env;
    await rules.put(admin, 'recovered.rule', ruleInput('recovered.rule'));
    // The admin function dying right after STAGE: its audit sink never returns.
    const crashing = new RuleService({
      store,
      clock: env.clock,
      audit: {
        record: async () => {
          throw new AppError('UNAVAILABLE', 'the function died before RECORD');
        },
      },
    });
    await expect(crashing.setEnabled(admin, 'recovered.rule', false)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect((await rules.committedRules()).find((d) => d.id === 'recovered.rule')?.enabled).toBe(true);

    expect(await handler(scheduled, context)).toEqual({ completed: 1, failed: 0 });

    expect((await rules.get(admin, 'recovered.rule')).rule).toMatchObject({ version: 2, enabled: false });
    const records = (await env.records()).filter((r) => r.event.target?.id === 'recovered.rule');
    expect(records.map((r) => [r.event.action, r.event.id])).toEqual([
      ['rule.create', 'rule/recovered.rule/v1'],
      ['rule.disable', 'rule/recovered.rule/v2'],
    ]);
    expect((await rules.boundRules()).unbound).toEqual([]);
    expect(await handler(scheduled, context)).toEqual({ completed: 0, failed: 0 });
  });
});
