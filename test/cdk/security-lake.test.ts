/**
 * The optional Security Lake custom sources (cdk/constructs/security-lake.ts,
 * docs/ocsf.md §Security Lake): absent by default; with the context set, one
 * custom source per OCSF class registered through the Security Lake API, the
 * project function allowed to write only under those sources' prefixes and
 * configured for it, and cdk-nag clean.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_LAKE_CONTEXT } from '../../cdk/constructs/security-lake.ts';
import { OCSF_CLASSES } from '../../src/core/ocsf/mapping.ts';
import { allStatements, granting } from './policy-walk.ts';
import { cleanupSynths, type Synth, synth } from './synth.ts';

const LAKE = {
  bucket: 'aws-security-data-lake-eu-west-1-abcdef',
  externalId: 'anchorlog-prod',
  accountId: '123456789012',
  region: 'eu-west-1',
};

let off: Synth;
let on: Synth;

beforeAll(() => {
  off = synth({ bundle: false });
  on = synth({ bundle: false, context: { [SECURITY_LAKE_CONTEXT]: JSON.stringify(LAKE) } });
}, 300_000);
afterAll(cleanupSynths);

const projectEnv = (x: Synth): Record<string, unknown> =>
  (
    x.resources[x.logicalId(x.stack.functions.project?.fn.node.defaultChild)]?.Properties?.Environment as {
      Variables?: Record<string, unknown>;
    }
  )?.Variables ?? {};

describe('Security Lake custom sources', () => {
  it('are off without the context: no registration, no lake settings', () => {
    expect(JSON.stringify(off.resources)).not.toContain('CreateCustomLogSource');
    expect(Object.keys(projectEnv(off)).filter((k) => k.startsWith('ANCHORLOG_SECURITY_LAKE'))).toEqual([]);
  });

  it('with the context: one source per OCSF class, registered with the crawler role and provider identity', () => {
    const uids = Object.keys(OCSF_CLASSES);
    const created = Object.values(on.resources).filter(
      (r) => r.Type === 'Custom::AWS' && JSON.stringify(r.Properties).includes('CreateCustomLogSource'),
    );
    expect(created).toHaveLength(uids.length);
    const text = JSON.stringify(created);
    for (const uid of uids) expect(text).toContain(`anchorlog-${uid}`);
    expect(text).toContain('DeleteCustomLogSource');
    expect(text).toContain('anchorlog-prod');
    on.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'glue.amazonaws.com' } })]),
      }),
    });
  });

  it('the project function may write only under its sources, and is configured for the lake', () => {
    const env = projectEnv(on);
    expect(env).toMatchObject({
      ANCHORLOG_SECURITY_LAKE_BUCKET: LAKE.bucket,
      ANCHORLOG_SECURITY_LAKE_ACCOUNT_ID: LAKE.accountId,
      ANCHORLOG_SECURITY_LAKE_REGION: LAKE.region,
      ANCHORLOG_SECURITY_LAKE_SOURCE_PREFIX: 'anchorlog',
    });
    expect(env.ANCHORLOG_SECURITY_LAKE_STATE_BUCKET).toBeDefined();
    const roleId = on.logicalId(on.stack.functions.project?.role.node.defaultChild);
    const puts = granting(allStatements(on.resources), 's3:PutObject').filter((st) =>
      JSON.stringify(st.principals).includes(roleId),
    );
    const lakePuts = puts.filter((st) => JSON.stringify(st.resources).includes(LAKE.bucket));
    expect(lakePuts).toHaveLength(1);
    for (const r of (lakePuts[0] as { resources: unknown[] }).resources)
      expect(JSON.stringify(r)).toMatch(/ext\/anchorlog-\d{4}\/\*/);
  });

  it('refuses a context it cannot use, naming the field', () => {
    expect(() =>
      synth({
        bundle: false,
        context: { [SECURITY_LAKE_CONTEXT]: JSON.stringify({ ...LAKE, bucket: 'No' }) },
      }),
    ).toThrow(/bucket/);
    expect(() =>
      synth({ bundle: false, context: { [SECURITY_LAKE_CONTEXT]: JSON.stringify({ ...LAKE, extra: 1 }) } }),
    ).toThrow(/extra/);
    expect(() => synth({ bundle: false, context: { [SECURITY_LAKE_CONTEXT]: '{' } })).toThrow(/not JSON/);
  });

  it('cdk-nag reports no unacknowledged errors with the sources on', () => {
    const report = on.nag.validateScope(on.stack);
    const errors = report.violations
      .filter((v) => v.severity === 'error')
      .map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(errors).toEqual([]);
  });
});
