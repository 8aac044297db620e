/**
 * The deliver function and the alerts topic in the synthesized stack
 * (cdk/constructs/alert-delivery.ts): when it runs, what it may touch, how
 * destinations reach it from context (validated at synth), and the alarms
 * for delivery that keeps failing. Policies are walked, not counted.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_DESTINATIONS_CONTEXT } from '../../cdk/constructs/alert-delivery.ts';
import { allStatements, type FlatStatement, granting } from './policy-walk.ts';
import { cleanupSynths, type Synth, synth } from './synth.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:anchorlog/soc-webhook-AbCdEf';
const DESTINATIONS = {
  destinations: [
    { name: 'soc', kind: 'webhook', url: 'https://soc.example/hooks/anchorlog', secret: SECRET_ARN },
    { name: 'pager', kind: 'pagerduty', secret: 'anchorlog/pagerduty' },
  ],
  bySeverity: { critical: ['pager', 'alerts-topic'], high: ['soc'] },
};

let s: Synth;
let withDest: Synth;
let statements: FlatStatement[];

beforeAll(() => {
  s = synth({ bundle: false });
  statements = allStatements(s.resources);
  withDest = synth({
    bundle: false,
    context: { [ALERT_DESTINATIONS_CONTEXT]: JSON.stringify(DESTINATIONS) },
  });
}, 300_000);
afterAll(cleanupSynths);

const fnId = (x: Synth, name: 'deliver' | 'detect') =>
  x.logicalId(x.stack.functions[name]?.fn.node.defaultChild);
const roleId = (x: Synth, name: string) =>
  x.logicalId(x.stack.functions[name as 'deliver']?.role.node.defaultChild);
const envOf = (x: Synth, name: 'deliver'): Record<string, unknown> =>
  (x.resources[fnId(x, name)]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
    ?.Variables ?? {};
const topicId = (x: Synth) =>
  x.logicalId(x.stack.node.findChild('Alerts').node.findChild('Topic').node.defaultChild);

describe('when delivery runs', () => {
  it('right after every detect run (its destination on success and on failure), never retried, and every 5 minutes', () => {
    const getAtt = { 'Fn::GetAtt': [fnId(s, 'deliver'), 'Arn'] };
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId(s, 'detect') },
      DestinationConfig: { OnSuccess: { Destination: getAtt }, OnFailure: { Destination: getAtt } },
    });
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId(s, 'deliver') },
      MaximumRetryAttempts: 0,
    });
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      Target: Match.objectLike({ Arn: getAtt, RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 0 }) }),
    });
  });
});

describe('the alerts topic', () => {
  it('is encrypted with its own key and refuses plain HTTP', () => {
    const topic = s.resources[topicId(s)];
    expect(topic?.Properties?.KmsMasterKeyId).toBeDefined();
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId(s) }],
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      }),
    });
  });

  it('has an e-mail and an HTTPS subscription, each only when its parameter is set', () => {
    const params = s.template.toJSON().Parameters as Record<
      string,
      { Default?: string; AllowedPattern?: string }
    >;
    expect(params.AlertEmail?.Default).toBe('');
    expect(params.AlertHttpsEndpoint?.AllowedPattern).toBe('^(https://.+)?$');
    for (const [protocol, param] of [
      ['email', 'AlertEmail'],
      ['https', 'AlertHttpsEndpoint'],
    ] as const) {
      const subs = Object.values(s.resources).filter(
        (r) =>
          r.Type === 'AWS::SNS::Subscription' &&
          JSON.stringify(r.Properties?.TopicArn) === JSON.stringify({ Ref: topicId(s) }) &&
          r.Properties?.Protocol === protocol,
      );
      expect(subs, protocol).toHaveLength(1);
      expect(subs[0]?.Properties?.Endpoint).toEqual({ Ref: param });
      expect((subs[0] as { Condition?: string }).Condition).toBeDefined();
    }
  });

  it('only the deliver role may publish to it, and sns:Publish is granted on nothing else', () => {
    const publish = granting(statements, 'sns:Publish').filter((st) => st.effect === 'Allow');
    const byRoles = publish.filter((st) => st.principals.some((p) => JSON.stringify(p).includes('Role')));
    expect(byRoles.map((st) => ({ principals: st.principals, resources: st.resources }))).toEqual([
      { principals: [{ Ref: roleId(s, 'deliver') }], resources: [{ Ref: topicId(s) }] },
    ]);
    expect(envOf(s, 'deliver').ANCHORLOG_ALERT_TOPIC_ARN).toEqual({ Ref: topicId(s) });
  });
});

describe('destinations from context anchorlog:alertDestinations', () => {
  it('reach the deliver function as ANCHORLOG_ALERT_DESTINATIONS; without them, no secret is readable', () => {
    expect(envOf(withDest, 'deliver').ANCHORLOG_ALERT_DESTINATIONS).toBe(JSON.stringify(DESTINATIONS));
    expect(envOf(s, 'deliver').ANCHORLOG_ALERT_DESTINATIONS).toBeUndefined();
    const deliverSecrets = granting(statements, 'secretsmanager:GetSecretValue').filter((st) =>
      st.principals.some((p) => JSON.stringify(p) === JSON.stringify({ Ref: roleId(s, 'deliver') })),
    );
    expect(deliverSecrets).toEqual([]);
  });

  it('the deliver role may read exactly the secrets the document names (an ARN, or a name’s ARN pattern)', () => {
    const st = granting(allStatements(withDest.resources), 'secretsmanager:GetSecretValue').filter((x) =>
      x.principals.some((p) => JSON.stringify(p) === JSON.stringify({ Ref: roleId(withDest, 'deliver') })),
    );
    expect(st).toHaveLength(1);
    expect(st[0]?.actions).toEqual(['secretsmanager:GetSecretValue']);
    const resources = JSON.stringify(st[0]?.resources);
    expect(resources).toContain(SECRET_ARN);
    expect(resources).toContain(':secret:anchorlog/pagerduty-??????');
    expect(st[0]?.resources).toHaveLength(2);
  });

  it.each([
    ['a document that does not parse', '{'],
    [
      'an unknown destination in a route',
      JSON.stringify({ destinations: [], bySeverity: { high: ['nope'] } }),
    ],
    [
      'a credential instead of a secret name',
      JSON.stringify({
        destinations: [{ name: 'x', kind: 'webhook', url: 'https://a.example', secret: 'whsec_AAAA' }],
      }),
    ],
  ])('%s fails the synth, naming the context key', (_, doc) => {
    expect(() => synth({ bundle: false, context: { [ALERT_DESTINATIONS_CONTEXT]: doc } })).toThrow(
      /anchorlog:alertDestinations/,
    );
  });
});

describe('alarms', () => {
  it('delivery that keeps failing, a dead letter, and a failing deliver function each raise one', () => {
    const alarms = Object.values(s.resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const text = (name: string) =>
      alarms.find((a) =>
        JSON.stringify(a.Properties?.Metrics ?? a.Properties?.MetricName ?? '').includes(name),
      );
    const failures = text('AlertDeliveryFailures');
    expect(failures?.Properties).toMatchObject({ EvaluationPeriods: 3, Threshold: 1 });
    expect(text('AlertsDeadLettered')?.Properties).toMatchObject({ EvaluationPeriods: 1, Threshold: 1 });
    const fnErrors = alarms.find(
      (a) =>
        a.Properties?.MetricName === 'Errors' &&
        JSON.stringify(a.Properties?.Dimensions).includes(fnId(s, 'deliver')),
    );
    expect(fnErrors?.Properties).toMatchObject({ EvaluationPeriods: 2 });
    for (const a of [failures, fnErrors])
      expect(String(a?.Properties?.AlarmDescription)).toContain('docs/operations.md');
  });
});
