/**
 * The stream function in the synthesized stack (cdk/constructs/log-streams.ts,
 * cdk/anchorlog-stack.ts): when it runs, what it may touch, how stream
 * definitions reach it from context (validated at synth), its alarms, and
 * cdk-nag with streams configured. Policies are walked, not counted.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS_CONTEXT } from '../../cdk/constructs/log-streams.ts';
import { allStatements, granting } from './policy-walk.ts';
import { cleanupSynths, type Synth, synth } from './synth.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:anchorlog/hec-AbCdEf';
const STREAMS = {
  streams: [
    {
      name: 'siem',
      logId: 'acme',
      kind: 'splunk-hec',
      url: 'https://hec.example.com:8088',
      secret: SECRET_ARN,
    },
    { name: 'dd', logId: 'acme', kind: 'datadog', secret: 'anchorlog/datadog' },
    { name: 'lake', logId: 'acme', kind: 's3', bucket: 'audit-lake', prefix: 'anchorlog/' },
  ],
};

let s: Synth;
beforeAll(() => {
  s = synth({ bundle: false, context: { [STREAMS_CONTEXT]: JSON.stringify(STREAMS) } });
}, 300_000);
afterAll(cleanupSynths);

const fnId = () => s.logicalId(s.stack.functions.stream?.fn.node.defaultChild);
const roleRef = () => JSON.stringify({ Ref: s.logicalId(s.stack.functions.stream?.role.node.defaultChild) });
const ofStreamRole = (action: string) =>
  granting(allStatements(s.resources), action).filter((st) =>
    st.principals.some((p) => JSON.stringify(p) === roleRef()),
  );

describe('the stream function', () => {
  it('runs every minute from the scheduler, never retried, with the definitions as ANCHORLOG_STREAMS', () => {
    const getAtt = { 'Fn::GetAtt': [fnId(), 'Arn'] };
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      Target: Match.objectLike({ Arn: getAtt, RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 0 }) }),
    });
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId() },
      MaximumRetryAttempts: 0,
    });
    const env =
      (s.resources[fnId()]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables ?? {};
    expect(env.ANCHORLOG_STREAMS).toBe(JSON.stringify(STREAMS));
  });

  it('reads exactly the secrets the definitions name, puts objects only under its S3 prefixes', () => {
    const secrets = ofStreamRole('secretsmanager:GetSecretValue');
    expect(secrets).toHaveLength(1);
    const r = JSON.stringify(secrets[0]?.resources);
    expect(r).toContain(SECRET_ARN);
    expect(r).toContain(':secret:anchorlog/datadog-??????');
    expect(secrets[0]?.resources).toHaveLength(2);
    const puts = ofStreamRole('s3:PutObject');
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0]?.resources)).toContain(':s3:::audit-lake/anchorlog/lake/*');
    expect(ofStreamRole('kms:Sign')).toEqual([]);
    expect(ofStreamRole('s3:DeleteObject')).toEqual([]);
  });

  it('writes only its own items (SC#, SDL) and reads records and seal states; deletes nothing', () => {
    const writes = ofStreamRole('dynamodb:PutItem');
    const keys = JSON.stringify(writes.map((w) => w.condition));
    expect(keys).toContain('SC#*');
    expect(keys).toContain('SDL');
    expect(keys).not.toContain('L#*');
    expect(ofStreamRole('dynamodb:DeleteItem')).toEqual([]);
    const reads = JSON.stringify(ofStreamRole('dynamodb:Query').map((w) => w.condition));
    for (const k of ['L#*', 'S#*', 'SC#*']) expect(reads).toContain(k);
  });

  it('alarms when a stream is blocked, lags over 15 minutes, or the function keeps failing', () => {
    const alarms = Object.values(s.resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const text = JSON.stringify(alarms);
    expect(text).toContain('SELECT MAX(StreamBlocked)');
    expect(text).toContain('SELECT MAX(StreamLagSeconds)');
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 900,
      EvaluationPeriods: 3,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: Match.stringLikeRegexp('StreamLagSeconds') }),
      ]),
    });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId() } }],
      MetricName: 'Errors',
    });
  });

  it('cdk-nag AwsSolutions: no unacknowledged errors with streams configured', () => {
    const report = s.nag.validateScope(s.stack);
    const errors = report.violations
      .filter((v) => v.severity === 'error')
      .map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(errors).toEqual([]);
  });

  it.each([
    ['a document that does not parse', '{', 'is not JSON'],
    [
      'a secret value instead of a name',
      JSON.stringify({ streams: [{ ...STREAMS.streams[0], secret: 'whsec_abc' }] }),
      'looks like a secret value',
    ],
    [
      'an unknown kind',
      JSON.stringify({ streams: [{ ...STREAMS.streams[0], kind: 'syslog' }] }),
      '.streams[0].kind',
    ],
  ])('%s fails the synth, naming the path', (_, text, message) => {
    expect(() => synth({ bundle: false, context: { [STREAMS_CONTEXT]: text } })).toThrow(message);
  });
});
