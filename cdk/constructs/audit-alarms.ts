/**
 * Alarms and the SNS topic they notify. Every alarm says in its description
 * what it means and where the runbook is (docs/operations.md §Alarms).
 *
 * Metric sources:
 *  - EMF metrics the functions write (namespace `anchorlog`, per-log or
 *    per-TSA dimensions). Alarms aggregate them over every dimension with a
 *    CloudWatch Metrics Insights query, so a new log or TSA needs no new alarm.
 *  - Metric filters on a function's log group for its structured alarm lines.
 *  - Service metrics: Lambda Errors/Invocations, API Gateway 5xx, DynamoDB throttles.
 *  - CloudTrail management events (EventBridge) for changes to the signing
 *    key's policy and the archive bucket's policy, versioning and lock.
 */
import { type CfnCondition, Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ServiceFunction } from './service-function.ts';
import { accountAdministersTopicKey } from './signing-key.ts';

export const METRICS_NAMESPACE = 'anchorlog';
const RUNBOOK = 'Runbook: docs/operations.md#alarms';

export class AuditAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cw.Alarm[] = [];
  readonly #action: SnsAction;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // Alarm notifications are encrypted with a key of their own; CloudWatch and
    // EventBridge may use it to publish, the account administers it.
    const topicKey = new kms.Key(this, 'TopicKey', {
      description: 'anchorlog alarm topic encryption',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      policy: new iam.PolicyDocument({
        statements: [
          accountAdministersTopicKey(),
          new iam.PolicyStatement({
            sid: 'AlarmsAndRulesPublish',
            principals: [
              new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
              new iam.ServicePrincipal('events.amazonaws.com'),
            ],
            actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            resources: ['*'],
            conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
          }),
        ],
      }),
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'anchorlog alarms',
      masterKey: topicKey,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one: CloudWatch alarms must be named explicitly.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.#action = new SnsAction(this.topic);
  }

  /** Adds an e-mail subscription that exists only when `email` is non-empty (a parameter). */
  subscribeEmail(email: string, condition: CfnCondition): void {
    const sub = new sns.CfnSubscription(this, 'EmailSubscription', {
      topicArn: this.topic.topicArn,
      protocol: 'email',
      endpoint: email,
    });
    sub.cfnOptions.condition = condition;
  }

  #alarm(id: string, props: cw.AlarmProps): cw.Alarm {
    const alarm = new cw.Alarm(this, id, {
      ...props,
      alarmDescription: `${props.alarmDescription} ${RUNBOOK}`,
    });
    alarm.addAlarmAction(this.#action);
    alarm.addOkAction(this.#action);
    this.alarms.push(alarm);
    return alarm;
  }

  /** Metrics Insights over every time series of `metric` in the anchorlog namespace. */
  static insights(stat: 'MAX' | 'SUM', metric: string, period: Duration): cw.MathExpression {
    return new cw.MathExpression({
      expression: `SELECT ${stat}(${metric}) FROM ${METRICS_NAMESPACE}`,
      period,
      label: `${stat}(${metric})`,
    });
  }

  watchSeal(seal: ServiceFunction): void {
    this.#alarm('SealLag', {
      alarmDescription:
        'SealLagSeconds (EMF, anchorlog namespace, max over logs) above 5 minutes for 3 minutes: records are durable but not yet in a signed checkpoint.',
      metric: AuditAlarms.insights('MAX', 'SealLagSeconds', Duration.minutes(1)),
      threshold: 300,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    this.#alarm('SealFailing', {
      alarmDescription: 'The seal function failed in 3 consecutive minutes: checkpoints are not advancing.',
      metric: seal.fn.metricErrors({ period: Duration.minutes(1), statistic: cw.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    this.#alarm('SealNotRunning', {
      alarmDescription:
        'The seal function was not invoked for 5 minutes: the schedule is disabled or broken.',
      metric: seal.fn.metricInvocations({ period: Duration.minutes(5), statistic: cw.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.BREACHING,
    });
    // The seal job writes {"alarm":"SEAL_INTEGRITY",…} when stored state contradicts itself (src/jobs/scheduled-job.ts).
    const integrity = new logs.MetricFilter(this, 'SealIntegrityFilter', {
      logGroup: seal.logGroup,
      filterPattern: logs.FilterPattern.stringValue('$.alarm', '=', 'SEAL_INTEGRITY'),
      metricNamespace: METRICS_NAMESPACE,
      metricName: 'SealIntegrityHalts',
      metricValue: '1',
      defaultValue: 0,
    });
    this.#alarm('SealIntegrity', {
      alarmDescription:
        'Sealing halted for a log because stored state contradicts itself (possible tampering or a bug). Page: sealing of that log stays stopped until an operator investigates.',
      metric: integrity.metric({ period: Duration.minutes(1), statistic: cw.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
  }

  watchDetection(detect: ServiceFunction): void {
    this.#alarm('DetectionLag', {
      alarmDescription:
        'DetectionLagSeconds (EMF, anchorlog namespace, max over logs) above 5 minutes for 3 minutes: sealed records are waiting to be evaluated, so alerts are late.',
      metric: AuditAlarms.insights('MAX', 'DetectionLagSeconds', Duration.minutes(1)),
      threshold: 300,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    this.#alarm('DetectFailing', {
      alarmDescription:
        'The detect function failed in 3 consecutive minutes: sealed records are not being evaluated and no alert is raised (DetectionLagSeconds is not emitted for a log whose run fails).',
      metric: detect.fn.metricErrors({ period: Duration.minutes(1), statistic: cw.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    // The detect job writes {"alarm":"DETECT_INTEGRITY",…} when a log's records or detection state contradict themselves.
    const integrity = new logs.MetricFilter(this, 'DetectIntegrityFilter', {
      logGroup: detect.logGroup,
      filterPattern: logs.FilterPattern.stringValue('$.alarm', '=', 'DETECT_INTEGRITY'),
      metricNamespace: METRICS_NAMESPACE,
      metricName: 'DetectIntegrityFailures',
      metricValue: '1',
      defaultValue: 0,
    });
    this.#alarm('DetectIntegrity', {
      alarmDescription:
        'Detection stopped for a log because its sealed records or its detection state contradict themselves (possible tampering or a bug). It stays stopped for that log until an operator investigates.',
      metric: integrity.metric({ period: Duration.minutes(1), statistic: cw.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
  }

  /** Log streams (docs/streams.md): a stream blocked on a dead letter, a stream falling behind, the function failing. */
  watchStreams(stream: ServiceFunction): void {
    this.#alarm('StreamBlocked', {
      alarmDescription:
        'StreamBlocked (EMF, max over streams): a log stream dead-lettered a chunk and is blocked on it (it keeps retrying every 10 minutes). The Stream dimension names it; list its dead letters, fix the destination or skip the chunk (docs/streams.md).',
      metric: AuditAlarms.insights('MAX', 'StreamBlocked', Duration.minutes(5)),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    this.#alarm('StreamLag', {
      alarmDescription:
        'StreamLagSeconds (EMF, max over streams) above 15 minutes for 3 periods: sealed records are waiting for a SIEM that is down, slow or refusing.',
      metric: AuditAlarms.insights('MAX', 'StreamLagSeconds', Duration.minutes(5)),
      threshold: 900,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    this.#alarm('StreamFailing', {
      alarmDescription:
        'The stream function failed in 3 consecutive 5-minute periods (the table was unavailable, or it could not start: a stream secret missing or malformed).',
      metric: stream.fn.metricErrors({ period: Duration.minutes(5), statistic: cw.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
  }

  watchDelivery(deliver: ServiceFunction): void {
    this.#alarm('AlertDeliveryFailing', {
      alarmDescription:
        'AlertDeliveryFailures (EMF, summed over destinations) in 3 consecutive 5-minute periods: a destination keeps refusing or timing out; its alerts are retried, then dead-lettered. The Destination dimension names it.',
      metric: AuditAlarms.insights('SUM', 'AlertDeliveryFailures', Duration.minutes(5)),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    this.#alarm('AlertDeadLettered', {
      alarmDescription:
        'AlertsDeadLettered (EMF): an alert was not delivered to one of its destinations after the last attempt (or the failure was permanent). It is kept as a dead letter: fix the destination, then re-drive.',
      metric: AuditAlarms.insights('SUM', 'AlertsDeadLettered', Duration.minutes(5)),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    this.#alarm('DeliverFailing', {
      alarmDescription:
        'The deliver function failed in 2 consecutive 5-minute periods (the system log or the table was unavailable, or it could not start: a destination secret missing or malformed): alerts wait in the outbox, recorded nowhere yet.',
      metric: deliver.fn.metricErrors({ period: Duration.minutes(5), statistic: cw.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
  }

  watchAnchor(anchor: ServiceFunction): void {
    this.#alarm('AnchorQuorumMissed', {
      alarmDescription:
        'AnchorQuorumMissed (EMF): a newest checkpoint got fewer than the quorum of RFC 3161 tokens in 2 consecutive runs.',
      metric: AuditAlarms.insights('SUM', 'AnchorQuorumMissed', Duration.minutes(5)),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    this.#alarm('AnchorTsaFailures', {
      alarmDescription:
        'AnchorTsaFailures (EMF): some TSA failed for 3 consecutive runs (quorum may still be met; redundancy is reduced). The AnchorTsaFailure metric per Tsa dimension names it.',
      metric: AuditAlarms.insights('SUM', 'AnchorTsaFailures', Duration.minutes(5)),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    this.#alarm('AnchorRecordMismatch', {
      alarmDescription:
        'AnchorRecordMismatch (EMF): an anchor record said granted but the archive held no matching token for that checkpoint (anchor items written by someone else, or brought back by a restore). The job asked the TSA again; investigate.',
      metric: AuditAlarms.insights('SUM', 'AnchorRecordMismatch', Duration.minutes(5)),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    this.#alarm('WitnessQuorumMissed', {
      alarmDescription:
        'WitnessQuorumMissed (EMF): a newest checkpoint got fewer than the quorum of witness cosignatures in 2 consecutive runs (docs/witnessing.md).',
      metric: AuditAlarms.insights('SUM', 'WitnessQuorumMissed', Duration.minutes(5)),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    this.#alarm('WitnessInconsistent', {
      alarmDescription:
        'WitnessInconsistent (EMF): a witness refused our checkpoint as inconsistent with one it cosigned (422), or has cosigned a larger tree than we published: a split view or an archive rollback. Investigate at once (docs/witnessing.md).',
      metric: AuditAlarms.insights('SUM', 'WitnessInconsistent', Duration.minutes(5)),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    this.#alarm('AnchorFailing', {
      alarmDescription: 'The anchor function failed (a store was unavailable) in 2 consecutive runs.',
      metric: anchor.fn.metricErrors({ period: Duration.minutes(5), statistic: cw.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
  }

  watchProjector(project: ServiceFunction): void {
    this.#alarm('ProjectorFailing', {
      alarmDescription:
        'The query projector failed in 5 consecutive minutes: GET events misses recent records (sealing and proofs are unaffected).',
      metric: project.fn.metricErrors({ period: Duration.minutes(1), statistic: cw.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 5,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
  }

  watchCompaction(compact: ServiceFunction): void {
    this.#alarm('CompactionFailing', {
      alarmDescription:
        'The columnar index compaction failed in 2 consecutive hourly runs: days keep many small files, so queries read more objects (answers stay complete).',
      metric: compact.fn.metricErrors({ period: Duration.hours(1), statistic: cw.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
  }

  watchSequenceSweep(sequence: ServiceFunction): void {
    this.#alarm('SequenceSweepFailing', {
      alarmDescription:
        'The pending sweep failed in 5 consecutive minutes: requests answered 202 on a log nobody writes to stay accepted but unsequenced (durable; nothing is lost). Only on the pending ingest path.',
      metric: sequence.fn.metricErrors({ period: Duration.minutes(1), statistic: cw.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 5,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
  }

  watchRecovery(recover: ServiceFunction): void {
    this.#alarm('PrincipalRecoveryFailing', {
      alarmDescription:
        'The principal recovery job failed in 3 consecutive runs: a staged principal change cannot be recorded in the system log (the log is unavailable, or its event id is taken by other content). The change is not in effect; a staged revocation already refuses the key.',
      metric: recover.fn.metricErrors({ period: Duration.minutes(5), statistic: cw.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
  }

  watchApi(api: apigw.HttpApi): void {
    this.#alarm('Api5xx', {
      alarmDescription:
        'The HTTP API answered 5 or more 5xx in 5 minutes (Lambda errors, authorizer store failures, timeouts): clients are retrying writes.',
      metric: api.metricServerError({ period: Duration.minutes(5), statistic: cw.Stats.SUM }),
      threshold: 5,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
  }

  watchTable(table: dynamodb.Table): void {
    const period = Duration.minutes(5);
    this.#alarm('TableThrottled', {
      alarmDescription:
        'DynamoDB throttled 10 or more requests in 5 minutes (hot partition or account limit): ingest answers 429/503 with Retry-After.',
      metric: new cw.MathExpression({
        expression: 'r + w',
        usingMetrics: {
          r: table.metric('ReadThrottleEvents', { period, statistic: cw.Stats.SUM }),
          w: table.metric('WriteThrottleEvents', { period, statistic: cw.Stats.SUM }),
        },
        period,
        label: 'throttle events',
      }),
      threshold: 10,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * Notifies on every change to the signing key's policy or state and to the
   * archive bucket's policy, versioning or Object Lock configuration
   * (CloudTrail management events; the account needs a trail).
   */
  watchTampering(signingKey: kms.IKey, archive: s3.IBucket): void {
    const target = new eventTargets.SnsTopic(this.topic);
    new events.Rule(this, 'SigningKeyChanged', {
      description: 'anchorlog: the checkpoint signing key policy, grants or state changed',
      eventPattern: {
        source: ['aws.kms'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['kms.amazonaws.com'],
          eventName: ['PutKeyPolicy', 'CreateGrant', 'DisableKey', 'ScheduleKeyDeletion', 'ReplicateKey'],
          resources: { ARN: [signingKey.keyArn] },
        },
      },
      targets: [target],
    });
    new events.Rule(this, 'ArchiveConfigChanged', {
      description: 'anchorlog: the archive bucket policy, versioning, Object Lock or public access changed',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['s3.amazonaws.com'],
          eventName: [
            'PutBucketPolicy',
            'DeleteBucketPolicy',
            'PutBucketVersioning',
            'PutBucketObjectLockConfiguration',
            'PutBucketPublicAccessBlock',
            'DeleteBucketPublicAccessBlock',
            'PutBucketLifecycle',
            'DeleteBucketLifecycle',
          ],
          requestParameters: { bucketName: [archive.bucketName] },
        },
      },
      targets: [target],
    });
  }

  /**
   * The Rekor anchor key (docs/deploy.md §Rekor), when the stack has one: the same events as
   * the signing key's. A new key policy or grant could let another principal sign Rekor entries
   * in the deployment's name.
   */
  watchRekorKey(anchorKey: kms.IKey): void {
    new events.Rule(this, 'RekorAnchorKeyChanged', {
      description: 'anchorlog: the Rekor anchor key policy, grants or state changed',
      eventPattern: {
        source: ['aws.kms'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['kms.amazonaws.com'],
          eventName: ['PutKeyPolicy', 'CreateGrant', 'DisableKey', 'ScheduleKeyDeletion', 'ReplicateKey'],
          resources: { ARN: [anchorKey.keyArn] },
        },
      },
      targets: [new eventTargets.SnsTopic(this.topic)],
    });
  }
}
