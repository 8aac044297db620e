/**
 * The single DynamoDB table (src/adapters/aws/table.ts: string keys `pk`/`sk`),
 * on demand, with point-in-time recovery, deletion protection and RETAIN.
 *
 * Access is granted per *item family*: every grant carries a
 * `dynamodb:LeadingKeys` condition naming the partition-key prefixes the
 * function may touch. IAM can only tell items apart by that key, so families
 * differ by pk prefix (docs/architecture.md §Who may do what); a new family
 * needs a line in KEY_FAMILIES and a row in test/cdk/iam-simulation.test.ts.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TTL_ATTRIBUTE } from '../../src/adapters/aws/table.ts';
import type { ServiceFunction } from './service-function.ts';

/** Partition-key families, as `StringLike` patterns on `dynamodb:LeadingKeys`. */
export const KEY_FAMILIES = {
  /** Every log's records: HEAD, batches `#B#`, parts `#BP#`, idempotency `#IK#`, event ids `#E#` (`L#<logId>…`). */
  logData: ['L#*'],
  /**
   * The partitions *under* a log (`L#<logId>#…`: records, parts, claims, event
   * ids), as opposed to `L#<logId>` itself (HEAD, and the legacy META, SEAL and
   * anchor items of deployments older than the M#/S#/A# families). logIds
   * contain no `#`, so this matches exactly those.
   */
  logRecords: ['L#*#*'],
  /**
   * The system log's records (admin changes, appended by the admin function).
   * Exact prefixes: `L#system*` would also match a log named `systemd`.
   */
  systemLogData: ['L#system', 'L#system#*'],
  /** Log existence and creation time (`M#<logId>`, sk META) and the log's policy (sk POLICY, dynamo-log-policy-store). */
  logMetadata: ['M#*'],
  /** The `system` log's metadata only (the principal recovery job re-creates that log, idempotently). */
  systemLogMetadata: ['M#system'],
  /** The registry of logs (`pk=LOGS`, listLogs is one Query). */
  logRegistry: ['LOGS'],
  /** The sealer's compare-and-swap state (`S#<logId>`, sk SEAL). */
  sealState: ['S#*'],
  /** Anchor records (`A#<logId>`: ANCHOR#…, ANCHORED). */
  anchors: ['A#*'],
  /**
   * Per-witness state (`W#<logId>`, sk `WITNESS#<name>`: last size cosigned, last failure), the
   * anchor function's own (src/adapters/aws/dynamo-witness-state.ts); nobody else reads it.
   */
  witnessState: ['W#*'],
  /**
   * Detection state (`D#<logId>`: cursor, rule state items, outbox, redo parts), the detect
   * function's own (src/adapters/aws/dynamo-detection-state.ts).
   */
  detection: ['D#*'],
  /**
   * Alert delivery's own state (`N#<logId>`: lease, progress per outbox entry) and the dead
   * letters (`NDL`), the deliver function's (src/adapters/aws/dynamo-delivery-store.ts).
   */
  delivery: ['N#*', 'NDL'],
  /**
   * Log streams' cursors (`SC#<stream>`) and dead letters (`SDL`), the stream function's own
   * (src/adapters/aws/dynamo-stream-store.ts).
   */
  streams: ['SC#*', 'SDL'],
  /**
   * Health observations waiting to be recorded in the system log (`H#PENDING`): the seal and
   * anchor functions put them, the deliver function records and deletes them
   * (src/adapters/aws/dynamo-health-outbox.ts).
   */
  health: ['H#*'],
  /** Principals (`P#<id>`) and their directory (`pk=PRINCIPALS`). */
  principals: ['P#*', 'PRINCIPALS'],
  /**
   * Producer streams (`PS#<logId>`, sk `ST#<stream>`): written by ingest after each commit,
   * read by the read function (src/adapters/aws/dynamo-producer-store.ts).
   */
  producers: ['PS#*'],
  /**
   * Producer signing keys (`PK#<principalId>`, sk `K#<keyId>`): written by the admin function
   * after each change is recorded in the system log, read by ingest to verify event signatures
   * (src/adapters/aws/dynamo-producer-key-store.ts).
   */
  producerKeys: ['PK#*'],
  /** Detection rules: heads (`pk=R#`, sk rule id) and versions (`R#<ruleId>`, sk `V#…`). */
  rules: ['R#*'],
  /** Roles: heads (`pk=G#`, sk role id) and versions (`G#<roleId>`, sk `V#…`). */
  roles: ['G#*'],
  /** Role heads only (`pk=G#`): what authentication reads to compute effective permissions. */
  roleHeads: ['G#'],
  /**
   * Principals' last use (`U#<id>`, sk USE): written by the authorizer at most once per principal
   * per hour, apart from `P#` so that writing it never lets the authorizer change a principal.
   */
  principalUsage: ['U#*'],
  /**
   * Alert review state, one partition (`pk=AR#`, sk alert id; src/adapters/aws/
   * dynamo-alert-review-store.ts): opened by deliver, reviewed through admin, completed by recover.
   */
  alertReviews: ['AR#'],
  /**
   * Access reviews: heads (`pk=AV#`, sk review id) and decisions (`AV#<reviewId>`, sk principal id;
   * src/adapters/aws/dynamo-access-review-store.ts): written through admin, completed by recover.
   */
  accessReviews: ['AV#*'],
  /**
   * The `system` log's committed batches, their overflow parts and its event-id index: what the
   * authorizer reads to check that a principal version is bound to its audit record, and ingest
   * to check a producer key's (src/app/admin-audit.ts SystemLogAuditReader). A subset of `logs`.
   */
  systemLogRecords: ['L#system#B#*', 'L#system#BP#*', 'L#system#E#*'],
} as const;

export type KeyFamily = keyof typeof KEY_FAMILIES;

const READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
/** Conditional puts and updates (compare-and-swap), no deletes. */
const UPDATE = ['dynamodb:PutItem', 'dynamodb:UpdateItem'];
/** BatchWriteItem can put *and* delete; IAM cannot tell its two request kinds apart. */
const BATCH = ['dynamodb:BatchWriteItem'];
const DELETE = ['dynamodb:DeleteItem'];

export type TableAccess =
  /** Reads only. */
  | 'read'
  /** Reads, conditional puts and updates; no deletes. */
  | 'read-update'
  /** Reads, puts, updates and batch writes (detection writes its state in batches). */
  | 'read-update-batch'
  /** Reads and every item write (ingest's idempotency claims and overflow parts are released). */
  | 'read-write';

/** What one function may do, by family. A family with a write level is readable too. */
export type TableGrant = Partial<Record<TableAccess, readonly KeyFamily[]>>;

export interface TableGrantOptions {
  /**
   * Families carved out of the grant by an explicit Deny on every item action,
   * for a family whose pattern overlaps a granted one (ingest's `L#*` minus the system log).
   */
  readonly except?: readonly KeyFamily[];
  /**
   * Narrows `except`: the Deny spares requests whose every leading key is in
   * these families (admin reads `L#<logId>` and writes the system log's records,
   * but no other log's records). Written as `ForAnyValue:StringNotLike`, so a
   * batch that mixes a spared key with an excepted one is still denied.
   */
  readonly exceptUnlessAllIn?: readonly KeyFamily[];
  /**
   * Narrows `except` for READS only: a read whose every leading key is in
   * these families is spared, while every write to an excepted family stays
   * denied (ingest reads the system log's committed records to check a
   * producer key's binding, and writes none of them).
   */
  readonly exceptReadsIn?: readonly KeyFamily[];
}

const ITEM_ACTIONS = [...READ, ...UPDATE, ...BATCH, ...DELETE];

const patterns = (families: Iterable<KeyFamily>) => [
  ...new Set([...families].flatMap((f) => KEY_FAMILIES[f])),
];

/**
 * The sparse GSIs of the DynamoDB query index, gone since issue #17 (the
 * columnar index in S3 answers queries: docs/query.md §7). DynamoDB deletes
 * one GSI per table update and CloudFormation will not do more in one stack
 * update, so an existing deployment steps down with context
 * `anchorlog:legacyQueryGsis` = 3, 2, 1, then 0 (the default): each deploy
 * keeps the first N of these (docs/operations.md §Query index migration).
 */
export const LEGACY_QUERY_GSIS = [
  { indexName: 'query-actor', partitionKey: 'qa' },
  { indexName: 'query-submitter', partitionKey: 'qs' },
  { indexName: 'query-action1', partitionKey: 'qx1' },
  { indexName: 'query-action2', partitionKey: 'qx2' },
] as const;
export const LEGACY_GSIS_CONTEXT = 'anchorlog:legacyQueryGsis';

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
      // Detection state expires a week after it expires in log time (docs/detection.md "State");
      // the query items of the retired DynamoDB index expire by it too.
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const keep = this.node.tryGetContext(LEGACY_GSIS_CONTEXT) ?? 0;
    if (!Number.isInteger(Number(keep)) || Number(keep) < 0 || Number(keep) > LEGACY_QUERY_GSIS.length)
      throw new Error(`context ${LEGACY_GSIS_CONTEXT} must be 0 to ${LEGACY_QUERY_GSIS.length}`);
    for (const g of LEGACY_QUERY_GSIS.slice(0, Number(keep)))
      this.table.addGlobalSecondaryIndex({
        indexName: g.indexName,
        partitionKey: { name: g.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
  }

  /**
   * Grants item access by family and sets ANCHORLOG_TABLE: one statement per
   * action class, each over the union of the families that class is granted
   * on, so a BatchGetItem that spans two readable families is still allowed.
   */
  grant(target: ServiceFunction, grant: TableGrant, opts: TableGrantOptions = {}): void {
    const at = (...levels: TableAccess[]) => levels.flatMap((l) => grant[l] ?? []);
    const classes: [sid: string, actions: string[], families: KeyFamily[]][] = [
      ['TableRead', READ, at('read', 'read-update', 'read-update-batch', 'read-write')],
      ['TableUpdate', UPDATE, at('read-update', 'read-update-batch', 'read-write')],
      ['TableBatchWrite', BATCH, at('read-update-batch', 'read-write')],
      ['TableDelete', DELETE, at('read-write')],
    ];
    for (const [sid, actions, families] of classes) {
      if (families.length === 0) continue;
      target.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid,
          actions,
          resources: [this.table.tableArn],
          conditions: {
            // ForAllValues over the request's leading keys. Scan (no leading keys) is never granted,
            // so the empty-set case of ForAllValues cannot open the whole table.
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': patterns(families) },
          },
        }),
      );
    }
    if (opts.except?.length && opts.exceptReadsIn?.length) {
      const writes = ITEM_ACTIONS.filter((a) => !READ.includes(a));
      target.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'TableDenyFamilyWrites',
          effect: iam.Effect.DENY,
          actions: writes,
          resources: [this.table.tableArn, `${this.table.tableArn}/index/*`],
          conditions: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': patterns(opts.except) } },
        }),
      );
      // ForAnyValue:StringNotLike: a read that names any key outside the spared families is denied.
      target.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'TableDenyFamilyReads',
          effect: iam.Effect.DENY,
          actions: READ,
          resources: [this.table.tableArn, `${this.table.tableArn}/index/*`],
          conditions: {
            'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': patterns(opts.except) },
            'ForAnyValue:StringNotLike': { 'dynamodb:LeadingKeys': patterns(opts.exceptReadsIn) },
          },
        }),
      );
    } else if (opts.except?.length)
      target.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'TableDenyFamilies',
          effect: iam.Effect.DENY,
          actions: ITEM_ACTIONS,
          // The table and any index of it (the legacy GSIs while a deployment steps them down).
          resources: [this.table.tableArn, `${this.table.tableArn}/index/*`],
          // ForAnyValue: one key of the family anywhere in a batch denies the whole request.
          conditions: {
            'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': patterns(opts.except) },
            ...(opts.exceptUnlessAllIn?.length
              ? { 'ForAnyValue:StringNotLike': { 'dynamodb:LeadingKeys': patterns(opts.exceptUnlessAllIn) } }
              : {}),
          },
        }),
      );
    target.addEnv('ANCHORLOG_TABLE', this.table.tableName);
  }
}
