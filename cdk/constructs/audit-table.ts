/**
 * The single DynamoDB table (src/adapters/aws/table.ts: string keys `pk`/`sk`),
 * on demand, with point-in-time recovery, deletion protection and RETAIN.
 *
 * Access is granted per *item family*: every grant carries a
 * `dynamodb:LeadingKeys` condition naming the partition-key prefixes the
 * function may touch, so (for example) the ingest role cannot read or mint
 * principals and the authorizer can only read them. The families are those
 * the adapters document next to their code; a new family needs a line here.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { QUERY_GSIS, TTL_ATTRIBUTE } from '../../src/adapters/aws/table.ts';
import type { ServiceFunction } from './service-function.ts';

/** Partition-key families (see the adapters in src/adapters/aws/). */
export const KEY_FAMILIES = {
  /** Logs: META, HEAD, batches, idempotency claims, event ids, seal state, anchors (`L#<logId>…`). */
  logs: ['L#*'],
  /** The registry of logs (`pk=LOGS`, listLogs is one Query). */
  logRegistry: ['LOGS'],
  /** Principals (`P#<id>`) and their directory (`pk=PRINCIPALS`). */
  principals: ['P#*', 'PRINCIPALS'],
  /**
   * The `system` log's committed batches, their overflow parts and its event-id index: what the
   * authorizer reads to check that a principal version is bound to its audit record
   * (src/app/admin-audit.ts SystemLogAuditReader). A subset of `logs`.
   */
  systemLogRecords: ['L#system#B#*', 'L#system#BP#*', 'L#system#E#*'],
} as const;

export type KeyFamily = keyof typeof KEY_FAMILIES;

const READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
/** Conditional puts and updates (compare-and-swap), no deletes. */
const UPDATE = ['dynamodb:PutItem', 'dynamodb:UpdateItem'];
/** BatchWriteItem can put *and* delete; IAM cannot tell its two request kinds apart. */
const BATCH = ['dynamodb:BatchWriteItem'];
const DELETE = ['dynamodb:DeleteItem', ...BATCH];

export type TableAccess =
  /** Reads only. */
  | 'read'
  /** Reads, conditional puts and updates; no deletes. */
  | 'read-update'
  /** Reads, puts, updates and batch writes (the query projector writes its items in batches). */
  | 'read-update-batch'
  /** Reads and every item write (ingest's idempotency claims and overflow parts are released). */
  | 'read-write';

const ACTIONS: Record<TableAccess, string[]> = {
  read: READ,
  'read-update': [...READ, ...UPDATE],
  'read-update-batch': [...READ, ...UPDATE, ...BATCH],
  'read-write': [...READ, ...UPDATE, ...DELETE],
};

export class AuditTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Query projection items expire after the hot window (docs/query.md); nothing else carries it.
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The sparse query indexes, declared once in src/adapters/aws/table.ts for the app and the stack.
    for (const g of QUERY_GSIS)
      this.table.addGlobalSecondaryIndex({
        indexName: g.indexName,
        partitionKey: { name: g.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
  }

  /** The query indexes, by exact ARN (no `index/*`). */
  get indexArns(): string[] {
    return QUERY_GSIS.map((g) => `${this.table.tableArn}/index/${g.indexName}`);
  }

  /** Grants `access` on the given item families and sets ANCHORLOG_TABLE. */
  grant(
    target: ServiceFunction,
    access: TableAccess,
    families: readonly KeyFamily[],
    opts: { queryIndexes?: boolean } = {},
  ): void {
    const actions = ACTIONS[access];
    target.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: `Table${access.replace(/-(.)/g, (_, c: string) => c.toUpperCase()).replace(/^./, (c) => c.toUpperCase())}`,
        actions,
        resources: [this.table.tableArn, ...(opts.queryIndexes ? this.indexArns : [])],
        conditions: {
          // ForAllValues over the request's leading keys. Scan (no leading keys) is never granted,
          // so the empty-set case of ForAllValues cannot open the whole table.
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': families.flatMap((f) => KEY_FAMILIES[f]) },
        },
      }),
    );
    target.addEnv('ANCHORLOG_TABLE', this.table.tableName);
  }
}
