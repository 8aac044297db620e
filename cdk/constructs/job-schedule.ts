/**
 * EventBridge Scheduler → a job Lambda (seal, project, anchor, recover). No retries at the
 * scheduler or Lambda level: the jobs are idempotent and the next tick is
 * the retry, so a slow run never stacks up behind retried ones.
 *
 * L1 on purpose: the L2 target grants `lambda:InvokeFunction` on
 * `<function>:*` as well; this role may invoke the one unqualified function.
 */
import { type Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import type { ServiceFunction } from './service-function.ts';

export interface JobScheduleProps {
  readonly target: ServiceFunction;
  readonly every: Duration;
  readonly description: string;
}

export class JobSchedule extends Construct {
  readonly schedule: scheduler.CfnSchedule;

  constructor(scope: Construct, id: string, props: JobScheduleProps) {
    super(scope, id);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `invoke ${props.target.node.id} on schedule`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [props.target.fn.functionArn],
      }),
    );
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      description: props.description,
      scheduleExpression: scheduler.ScheduleExpression.rate(props.every).expressionString,
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: props.target.fn.functionArn,
        roleArn: role.roleArn,
        // An empty object means "every log" to the per-log jobs (src/jobs/scheduled-job.ts).
        input: '{}',
        retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: props.every.toSeconds() },
      },
    });
    this.schedule.node.addDependency(role);
  }
}
