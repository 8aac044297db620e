/**
 * The witness service on AWS (docs/witnessing.md §Running a witness on AWS):
 * a Lambda behind a function URL (lambdas/witness.ts), its state in a
 * DynamoDB table of its own, its Ed25519 seed in a Secrets Manager secret
 * generated at stack creation.
 *
 * Why a function URL, not API Gateway: the protocol has two public routes
 * and no callers to authenticate (a request is authenticated by the log's
 * signature on the checkpoint, which the service checks against the log
 * keys it is configured with), so an authorizer, stages and route tables
 * would add cost and configuration but nothing the protocol needs; a
 * function URL is HTTPS-only, costs nothing per request beyond the
 * invocation, and has no 29 s integration cap. What API Gateway would add —
 * throttling, WAF, a custom domain — is had with reserved concurrency (the
 * `ReservedConcurrency` parameter) or CloudFront in front when needed.
 *
 * Grants (least privilege, proved in test/cdk/witness-stack.test.ts): the
 * function may GetItem and PutItem its own items (`WL#…`) on its own table
 * and read its own seed secret; nothing else. No delete, no scan, no KMS.
 */
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { WITNESS_LEDGER_PREFIX } from '../../src/adapters/aws/dynamo-witness-ledger-store.ts';
import { ServiceFunction } from './service-function.ts';
import { ServiceSecret } from './service-secret.ts';

export interface WitnessServiceProps {
  /** The name on its cosignature lines (ANCHORLOG_WITNESS_KEY_NAME). */
  readonly keyName: string;
  /** JSON array of the witnessed logs' vkeys (ANCHORLOG_WITNESS_LOG_KEYS). */
  readonly logKeys: string;
  readonly logRetentionDays: number;
}

export class WitnessServiceConstruct extends Construct {
  readonly table: dynamodb.Table;
  readonly seed: ServiceSecret;
  readonly fn: ServiceFunction;
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: WitnessServiceProps) {
    super(scope, id);
    // The witness's memory: losing it would let it be rolled back (it would cosign a fork of a
    // log it witnessed), so it is kept as the log's table is.
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.seed = new ServiceSecret(this, 'Seed', {
      description:
        'anchorlog witness: the text its Ed25519 cosigning key is derived from (read by the witness function at cold start)',
      value: { generate: 64 },
      noRotationBecause:
        'Rotating it changes the witness key, which every log and auditor pins; a key change is a new witness, announced by its operator (docs/witnessing.md).',
    });
    this.fn = new ServiceFunction(this, 'Witness', {
      entry: 'witness',
      description: 'C2SP tlog-witness witness: cosigns checkpoints of the logs it trusts',
      memorySize: 512,
      timeout: Duration.seconds(10),
      logRetentionDays: props.logRetentionDays,
      environment: {
        ANCHORLOG_WITNESS_KEY_NAME: props.keyName,
        ANCHORLOG_WITNESS_LOG_KEYS: props.logKeys,
      },
    });
    // Its own items only: GetItem to read a head, PutItem for the conditional write.
    this.fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [this.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${WITNESS_LEDGER_PREFIX}*`] },
        },
      }),
    );
    this.fn.addEnv('ANCHORLOG_WITNESS_TABLE', this.table.tableName);
    this.seed.grantReadTo(this.fn, 'ANCHORLOG_WITNESS_SEED_SECRET');
    // Public by design: the protocol authenticates the log by its checkpoint signature.
    this.url = this.fn.fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    new CfnOutput(this, 'Url', {
      value: this.url.url,
      description:
        'The witness submission prefix (…/add-checkpoint); GET …/vkey shows its key for the operator to publish',
    });
  }
}
