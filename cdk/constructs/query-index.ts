/**
 * The columnar query index (docs/query.md §7): Parquet files per log and day
 * in a bucket of their own, and Athena over the same files for organisations
 * that outgrow one Lambda (docs/query.md §Athena).
 *
 * The index bucket holds derived data — rebuilt from the archive at any time
 * (`anchorlog index rebuild`) — so, unlike the archive, it has no Object Lock
 * and compaction deletes files. It is private, SSE-S3, TLS-only and logged
 * like the others. It is versioned so that a delete (compaction, rebuild, or
 * a compromised writer) only adds a delete marker: a compacted-away file
 * stays recoverable as a noncurrent version for NONCURRENT_DAYS, after which
 * the lifecycle rule expires it (and the delete markers left behind). No
 * role gets s3:DeleteObjectVersion. Readers (the API and Athena) see current
 * versions only.
 *
 * Grants, each setting ANCHORLOG_INDEX_BUCKET in the same call:
 *   grantWrite — project, compact, reindex: GET, PUT, DELETE under `index/`, LIST under `index/`;
 *   grantRead  — query: GET and LIST under `index/`; nothing else.
 *
 * Athena: a Glue database and table over `index/` with partition projection
 * (log injected, day a date), a workgroup that enforces its settings —
 * a bytes-scanned cutoff per query, engine v3, results SSE-S3 in a bucket of
 * their own that expires them — and the view and sample queries of
 * src/core/index-sql.ts saved as named queries (the same text the DuckDB test
 * runs).
 */
import { CfnParameter, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { INDEX_PREFIX } from '../../src/core/columnar.ts';
import {
  EVENTS_VIEW_SQL,
  GLUE_COLUMNS,
  GLUE_PARTITION_KEYS,
  GLUE_TABLE,
  SAMPLE_QUERIES,
} from '../../src/core/index-sql.ts';
import { acknowledge, nagArn } from '../nag.ts';
import type { ServiceFunction } from './service-function.ts';

/** Days a compacted-away (deleted) index file stays as a noncurrent version. */
export const NONCURRENT_DAYS = 7;
/** Days Athena query results are kept. */
export const ATHENA_RESULT_DAYS = 7;
/** The first day partition projection enumerates (no anchorlog log predates it). */
export const PROJECTION_FIRST_DAY = '2020-01-01';

export interface QueryIndexProps {
  /** The server-access-log bucket (ArchiveBuckets.accessLogs). */
  readonly accessLogs: s3.IBucket;
}

export class QueryIndex extends Construct {
  readonly bucket: s3.Bucket;
  readonly athenaResults: s3.Bucket;
  readonly database: glue.CfnDatabase;
  readonly table: glue.CfnTable;
  readonly workGroup: athena.CfnWorkGroup;
  readonly databaseName: string;
  readonly bytesScannedCutoff: CfnParameter;

  constructor(scope: Construct, id: string, props: QueryIndexProps) {
    super(scope, id);
    const common = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogs,
    } satisfies s3.BucketProps;

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...common,
      serverAccessLogsPrefix: 'index/',
      versioned: true,
      // Derived data, but a stack deletion should not take queries down with it.
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-compacted-away-files',
          noncurrentVersionExpiration: Duration.days(NONCURRENT_DAYS),
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });

    this.athenaResults = new s3.Bucket(this, 'AthenaResults', {
      ...common,
      serverAccessLogsPrefix: 'athena-results/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-athena-results',
          expiration: Duration.days(ATHENA_RESULT_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });

    this.bytesScannedCutoff = new CfnParameter(Stack.of(this), 'AthenaBytesScannedCutoff', {
      type: 'Number',
      default: 10 * 1024 ** 3,
      minValue: 10 * 1024 ** 2,
      description:
        'Athena workgroup: a query that would scan more than this many bytes of the index is cancelled (minimum 10 MB; docs/query.md §Athena).',
    });

    // Glue names: lower case, digits and underscores; unique per account and region, hence the stack's name.
    this.databaseName = `${Stack.of(this)
      .stackName.toLowerCase()
      .replace(/[^a-z0-9_]/g, '_')}_index`;
    const account = Stack.of(this).account;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: account,
      databaseInput: {
        name: this.databaseName,
        description: 'anchorlog: the columnar query index (docs/query.md §Athena)',
      },
    });
    const location = `s3://${this.bucket.bucketName}/${INDEX_PREFIX}`;
    this.table = new glue.CfnTable(this, 'Table', {
      catalogId: account,
      databaseName: this.databaseName,
      tableInput: {
        name: GLUE_TABLE,
        description: 'anchorlog: sealed records, one row per leaf (src/core/columnar.ts)',
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'parquet',
          EXTERNAL: 'TRUE',
          // Partition projection: no crawler, no partition API calls; the partitions are computed.
          'projection.enabled': 'true',
          // A query must name its log (`log = '<logId>'`): logs are never mixed by accident.
          'projection.log.type': 'injected',
          'projection.day.type': 'date',
          'projection.day.format': 'yyyy-MM-dd',
          'projection.day.range': `${PROJECTION_FIRST_DAY},NOW`,
          'projection.day.interval': '1',
          'projection.day.interval.unit': 'DAYS',
          // Literal `${log}`/`${day}`: Athena substitutes them, CloudFormation does not (no Fn::Sub).
          'storage.location.template': `${location}log=\${log}/day=\${day}/`,
        },
        partitionKeys: GLUE_PARTITION_KEYS.map((k) => ({ ...k })),
        storageDescriptor: {
          location,
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
          columns: GLUE_COLUMNS.map((c) => ({ ...c })),
        },
      },
    });
    this.table.addDependency(this.database);

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: `${Stack.of(this).stackName}-index`,
      description: 'anchorlog: SQL over the columnar query index (docs/query.md §Athena)',
      state: 'ENABLED',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        // Clients cannot override the cutoff, the result location or its encryption.
        enforceWorkGroupConfiguration: true,
        bytesScannedCutoffPerQuery: this.bytesScannedCutoff.valueAsNumber,
        publishCloudWatchMetricsEnabled: true,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.athenaResults.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });

    const named = [
      { id: 'EventsView', name: 'events view (run once)', sql: `${EVENTS_VIEW_SQL};` },
      ...Object.entries(SAMPLE_QUERIES).map(([key, q]) => ({
        id: `${key[0]?.toUpperCase()}${key.slice(1)}`,
        name: q.title,
        sql: `${q.sql};`,
      })),
    ];
    for (const q of named) {
      const nq = new athena.CfnNamedQuery(this, q.id, {
        database: this.databaseName,
        workGroup: this.workGroup.ref,
        name: q.name,
        description: 'anchorlog: src/core/index-sql.ts (the same SQL runs on DuckDB in its test)',
        queryString: q.sql,
      });
      nq.addDependency(this.database);
    }
  }

  #env(target: ServiceFunction): void {
    target.addEnv('ANCHORLOG_INDEX_BUCKET', this.bucket.bucketName);
  }

  #list(target: ServiceFunction, sid: string): void {
    target.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid,
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${INDEX_PREFIX}*`] } },
      }),
    );
  }

  #acknowledge(target: ServiceFunction, actions: string): void {
    acknowledge(
      target,
      `AwsSolutions-IAM5[Resource::${nagArn(this.bucket.node.defaultChild as s3.CfnBucket)}/${INDEX_PREFIX}*]`,
      `Index object keys are ${INDEX_PREFIX}log=<logId>/day=<day>/<range>.parquet for every log, created at run time; the wildcard is limited to the ${INDEX_PREFIX} prefix of the index bucket (derived data, no Object Lock), and the statement allows ${actions} only.`,
    );
  }

  /** The query function: reads files and lists prefixes, writes nothing. */
  grantRead(target: ServiceFunction): void {
    target.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'IndexRead',
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(`${INDEX_PREFIX}*`)],
      }),
    );
    this.#list(target, 'IndexList');
    this.#acknowledge(target, 's3:GetObject');
    this.#env(target);
  }

  /**
   * The project, compact and reindex functions: write files and state, delete
   * what compaction covered (a delete marker: versions are kept, see above).
   */
  grantWrite(target: ServiceFunction): void {
    target.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'IndexWrite',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        resources: [this.bucket.arnForObjects(`${INDEX_PREFIX}*`)],
      }),
    );
    this.#list(target, 'IndexList');
    this.#acknowledge(
      target,
      's3:GetObject, s3:PutObject and s3:DeleteObject (a delete marker; no version delete)',
    );
    this.#env(target);
  }
}
