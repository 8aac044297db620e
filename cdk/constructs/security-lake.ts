/**
 * Optional: the Amazon Security Lake custom sources the project function
 * writes OCSF Parquet into (docs/ocsf.md §Security Lake). Off unless the
 * context key `anchorlog:securityLake` is set (cdk.json or `-c`):
 *
 *   { "bucket": "aws-security-data-lake-<region>-<id>", "externalId": "…",
 *     "accountId": "<account the sources are registered for; default: this stack's>",
 *     "region": "<lake region; default: this stack's>", "sourcePrefix": "anchorlog" }
 *
 * CloudFormation has no custom-log-source resource (aws-cdk-lib's
 * aws_securitylake has CfnDataLake, CfnAwsLogSource, CfnSubscriber and
 * CfnSubscriberNotification only), so each source (one per OCSF class,
 * `<prefix>-<class_uid>`) is registered by an AwsCustomResource calling
 * securitylake:CreateCustomLogSource on create and DeleteCustomLogSource on
 * delete, with the Glue crawler role Security Lake requires. The project
 * function gets PutObject on the sources' prefixes only, its own progress
 * bucket, and the ANCHORLOG_SECURITY_LAKE_* settings (src/config.ts).
 */
import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { OCSF_CLASSES } from '../../src/core/ocsf/mapping.ts';
import { securityLakeSourceName } from '../../src/core/ocsf/security-lake.ts';
import { acknowledge } from '../nag.ts';
import type { ArchiveBuckets } from './archive-buckets.ts';
import type { ServiceFunction } from './service-function.ts';

export const SECURITY_LAKE_CONTEXT = 'anchorlog:securityLake';

export interface SecurityLakeContext {
  readonly bucket: string;
  readonly externalId: string;
  readonly accountId?: string;
  readonly region?: string;
  readonly sourcePrefix?: string;
}

/** The context document, validated; undefined when unset. A bad one fails the synth, naming the field. */
export function securityLakeContext(scope: Construct): SecurityLakeContext | undefined {
  const raw: unknown = scope.node.tryGetContext(SECURITY_LAKE_CONTEXT);
  if (raw === undefined || raw === '') return undefined;
  let v: unknown = raw;
  if (typeof raw === 'string') {
    try {
      v = JSON.parse(raw);
    } catch {
      throw new Error(`context ${SECURITY_LAKE_CONTEXT}: not JSON`);
    }
  }
  const bad = (field: string, rule: string): never => {
    throw new Error(`context ${SECURITY_LAKE_CONTEXT}: ${field} ${rule}`);
  };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('', 'must be an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['bucket', 'externalId', 'accountId', 'region', 'sourcePrefix'].includes(k))
      bad(k, 'is not a setting (bucket, externalId, accountId, region, sourcePrefix)');
  if (typeof o.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(o.bucket))
    bad('bucket', 'must be the Security Lake S3 bucket name');
  if (typeof o.externalId !== 'string' || !/^[\w+=,.@:/-]{2,1224}$/.test(o.externalId))
    bad('externalId', 'must be the external id the sources are registered with');
  if (o.accountId !== undefined && (typeof o.accountId !== 'string' || !/^\d{12}$/.test(o.accountId)))
    bad('accountId', 'must be a 12-digit account id');
  if (o.region !== undefined && (typeof o.region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(o.region)))
    bad('region', 'must be an AWS Region name');
  if (
    o.sourcePrefix !== undefined &&
    (typeof o.sourcePrefix !== 'string' || !/^[\w\-:.]{1,15}$/.test(o.sourcePrefix))
  )
    bad('sourcePrefix', 'must be 1-15 of [A-Za-z0-9_-:.]');
  return o as unknown as SecurityLakeContext;
}

export interface SecurityLakeSourcesProps {
  readonly settings: SecurityLakeContext;
  /** The project function: the writer runs in it after the indexers (src/compose/query.ts). */
  readonly project: ServiceFunction;
  /** The writer reads sealed records from the archive's entry bundles. */
  readonly buckets: ArchiveBuckets;
}

export class SecurityLakeSources extends Construct {
  readonly progress: s3.Bucket;
  readonly crawlerRole: iam.Role;
  readonly sourceNames: string[];

  constructor(scope: Construct, id: string, props: SecurityLakeSourcesProps) {
    super(scope, id);
    const { settings, project } = props;
    const prefix = settings.sourcePrefix ?? 'anchorlog';
    const accountId = settings.accountId ?? Aws.ACCOUNT_ID;
    const region = settings.region ?? Aws.REGION;
    this.sourceNames = Object.keys(OCSF_CLASSES).map((uid) => securityLakeSourceName(prefix, Number(uid)));
    const lakeObjects = (p: string) => `arn:${Aws.PARTITION}:s3:::${settings.bucket}/${p}`;

    // Progress only (derived: the writer's next leaf index per log); nothing else reads it.
    this.progress = new s3.Bucket(this, 'Progress', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      versioned: true,
      serverAccessLogsBucket: props.buckets.accessLogs,
      serverAccessLogsPrefix: 'securitylake-progress/',
    });

    // The Glue crawler Security Lake runs over each source's prefix (CreateCustomLogSource needs its role).
    this.crawlerRole = new iam.Role(this, 'CrawlerRole', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSGlueServiceRole')],
      description: 'Glue crawler of the anchorlog Security Lake custom sources',
    });
    this.crawlerRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadAnchorlogSources',
        actions: ['s3:GetObject'],
        resources: [lakeObjects(`ext/${prefix}-*`)],
      }),
    );
    acknowledge(
      this.crawlerRole,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSGlueServiceRole]',
      'AWSGlueServiceRole is the policy Security Lake documents for the custom-source crawler role.',
    );
    acknowledge(
      this.crawlerRole,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${settings.bucket}/ext/${prefix}-*]`,
      'The crawler reads the Parquet objects under this deployment’s own custom-source prefixes only.',
    );

    const policy = AwsCustomResourcePolicy.fromStatements([
      new iam.PolicyStatement({
        // What CreateCustomLogSource does on the caller's behalf (Glue table and crawler, the
        // provider role, Lake Formation registration); none of it takes a narrower resource.
        actions: [
          'securitylake:CreateCustomLogSource',
          'securitylake:DeleteCustomLogSource',
          'glue:CreateCrawler',
          'glue:CreateDatabase',
          'glue:CreateTable',
          'glue:StartCrawlerSchedule',
          'glue:DeleteCrawler',
          'iam:GetRole',
          'iam:CreateRole',
          'iam:PutRolePolicy',
          'iam:DeleteRolePolicy',
          'lakeformation:RegisterResource',
          'lakeformation:GrantPermissions',
          's3:ListBucket',
          's3:PutObject',
        ],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.crawlerRole.roleArn],
      }),
    ]);
    for (const [uid, sourceName] of Object.keys(OCSF_CLASSES).map(
      (u, i) => [u, this.sourceNames[i] as string] as const,
    )) {
      const cr = new AwsCustomResource(this, `Source${uid}`, {
        onCreate: {
          service: 'SecurityLake',
          action: 'CreateCustomLogSource',
          parameters: {
            sourceName,
            sourceVersion: '1.1',
            configuration: {
              crawlerConfiguration: { roleArn: this.crawlerRole.roleArn },
              providerIdentity: { externalId: settings.externalId, principal: accountId },
            },
          },
          physicalResourceId: PhysicalResourceId.of(sourceName),
        },
        onDelete: {
          service: 'SecurityLake',
          action: 'DeleteCustomLogSource',
          parameters: { sourceName },
        },
        policy,
        installLatestAwsSdk: false,
      });
      acknowledge(
        cr,
        'AwsSolutions-IAM5[Resource::*]',
        'CreateCustomLogSource creates Glue, IAM and Lake Formation resources whose names Security Lake chooses; they cannot be named in advance.',
      );
    }
    const provider =
      Stack.of(this).node.tryFindChild(AwsCustomResource.PROVIDER_FUNCTION_UUID.replaceAll('-', '')) ??
      Stack.of(this).node.tryFindChild(`AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replaceAll('-', '')}`);
    if (provider) {
      acknowledge(
        provider,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'The AwsCustomResource provider function uses AWSLambdaBasicExecutionRole for its own logs only.',
      );
      acknowledge(
        provider,
        'AwsSolutions-L1',
        'The AwsCustomResource provider runtime is chosen by aws-cdk-lib and moves with it; it runs only at deploy time.',
      );
    }

    // The writer: sealed records in, its custom sources' prefixes and its progress out
    // (src/app/security-lake-writer.ts).
    props.buckets.grantArchiveRead(project);
    project.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SecurityLakeWrite',
        actions: ['s3:PutObject'],
        resources: this.sourceNames.map((n) => lakeObjects(`ext/${n}/*`)),
      }),
    );
    project.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SecurityLakeProgress',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [this.progress.arnForObjects('securitylake/*')],
      }),
    );
    for (const n of this.sourceNames)
      acknowledge(
        project,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${settings.bucket}/ext/${n}/*]`,
        'The writer puts Parquet objects under its own custom source prefix only; keys carry the region, account, day, log and leaf range.',
      );
    acknowledge(
      project,
      `AwsSolutions-IAM5[Resource::<${Stack.of(this).resolve((this.progress.node.defaultChild as s3.CfnBucket).logicalId)}.Arn>/securitylake/*]`,
      'The writer keeps one progress object per log under securitylake/ in its own bucket; keys carry the log id.',
    );
    project.addEnv('ANCHORLOG_SECURITY_LAKE_BUCKET', settings.bucket);
    project.addEnv('ANCHORLOG_SECURITY_LAKE_ACCOUNT_ID', accountId);
    project.addEnv('ANCHORLOG_SECURITY_LAKE_REGION', region);
    project.addEnv('ANCHORLOG_SECURITY_LAKE_SOURCE_PREFIX', prefix);
    project.addEnv('ANCHORLOG_SECURITY_LAKE_STATE_BUCKET', this.progress.bucketName);
  }
}
