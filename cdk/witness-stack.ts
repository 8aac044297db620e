/**
 * anchorlog as a C2SP tlog-witness witness, a deployment of its own
 * (docs/deploy.md §Witness stack; docs/witnessing.md §Running a witness on
 * AWS): a customer can witness its vendor's log, or two anchorlog
 * deployments each other, without running the log.
 *
 *   logs ─▶ function URL ─▶ witness λ ─▶ DynamoDB (conditional writes)
 *                                   └─▶ Secrets Manager (its Ed25519 seed, cold start)
 *
 * Synthesized only when asked (cdk/build.ts, context `anchorlog:witness`).
 */
import { Aws, CfnCondition, CfnParameter, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { WitnessServiceConstruct } from './constructs/witness-service.ts';

const LOG_RETENTION_VALUES = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export class AnchorlogWitnessStack extends Stack {
  readonly witness: WitnessServiceConstruct;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, {
      description: 'anchorlog witness: C2SP tlog-witness cosigning service (Lambda function URL, DynamoDB)',
      ...props,
    });
    const keyName = new CfnParameter(this, 'WitnessKeyName', {
      type: 'String',
      allowedPattern: '^[A-Za-z0-9][A-Za-z0-9._/-]*$',
      description:
        'The name on this witness’s cosignature lines, by convention a schema-less URL you control (e.g. witness.example.com). Logs and auditors pin it with the key: never change it.',
    });
    const logKeys = new CfnParameter(this, 'WitnessLogKeys', {
      type: 'String',
      minLength: 2,
      description:
        'JSON array of the log keys this witness trusts, as vkeys (<origin>+<key id>+<key>: the logKeys of the log’s TRUST.json); each trusts the origin it is named after.',
    });
    const concurrency = new CfnParameter(this, 'ReservedConcurrency', {
      type: 'String',
      default: '',
      allowedPattern: '^[0-9]*$',
      description:
        'Reserved concurrency of the witness function, capping what a flood of requests can cost; empty = none (the account pool).',
    });
    const logRetentionDays = new CfnParameter(this, 'LogRetentionDays', {
      type: 'Number',
      default: 365,
      allowedValues: LOG_RETENTION_VALUES.map(String),
      description: 'CloudWatch Logs retention (days) for the witness function.',
    });
    this.witness = new WitnessServiceConstruct(this, 'Witness', {
      keyName: keyName.valueAsString,
      logKeys: logKeys.valueAsString,
      logRetentionDays: logRetentionDays.valueAsNumber,
    });
    const reserve = new CfnCondition(this, 'HasReservedConcurrency', {
      expression: Fn.conditionNot(Fn.conditionEquals(concurrency.valueAsString, '')),
    });
    (this.witness.fn.fn.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions =
      Fn.conditionIf(reserve.logicalId, concurrency.valueAsString, Aws.NO_VALUE) as unknown as number;
  }
}
