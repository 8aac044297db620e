/**
 * The single DynamoDB table's key schema, shared by every adapter, the local
 * stack, the tests and (by the same names) the CDK stack.
 *
 * Keys are strings `pk` / `sk`. Partition-key prefixes keep item families
 * apart, because IAM can tell roles' items apart only by the leading key
 * (`dynamodb:LeadingKeys`; docs/architecture.md lists the grants). Family,
 * owning adapter, and the one role that writes it:
 *   L#<logId>…       log data: head hint, batches, batch parts, idempotency
 *                    claims, event ids (dynamo-log-store)        ingest; admin for `system`
 *   M#<logId>        log metadata, META (dynamo-log-store)       admin
 *                    and POLICY (dynamo-log-policy-store)        admin
 *   LOGS             log registry (dynamo-log-store)             admin
 *   S#<logId>        seal state (dynamo-seal-state-store)        seal
 *   A#<logId>        anchors (dynamo-anchor-store)               anchor
 *   Q#<logId>[#day]  query cursor and items (dynamo-query-index) project
 *   P#<id>, PRINCIPALS  principals (dynamo-principal-store)      admin
 *   R#, R#<ruleId>   detection rules: heads, versions
 *                    (dynamo-rule-store)                         admin
 *   G#, G#<roleId>   roles: heads, versions (dynamo-role-store)  admin
 *   U#<id>           principals' last use (dynamo-principal-store) authorizer
 *   N#<logId>, NDL   alert delivery: lease and progress per outbox
 *                    entry, dead letters (dynamo-delivery-store) deliver
 *   H#PENDING        health observations (dynamo-health-outbox)  seal, anchor put;
 *                                                                deliver deletes
 *   AR#              alert review state, one item per alert
 *                    (dynamo-alert-review-store)                 deliver opens, admin
 *                                                                reviews, recover completes
 *   AV#, AV#<reviewId>  access reviews: heads, decisions
 *                    (dynamo-access-review-store)                admin; recover completes
 * plus the sparse query GSIs below (QUERY_GSIS) and TTL on TTL_ATTRIBUTE.
 * Before issue #11 META, the seal state, anchors and the query projection
 * also lived under L#<logId>, which the ingest role may write; those legacy
 * items are never written again, and each adapter says whether and how it
 * still reads them.
 * Tables created before the GSIs existed are not altered here (add them with
 * UpdateTable / the CDK stack).
 * Every adapter documents the items it owns next to its code.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { systemSleep } from '../../ports/clock.ts';

export const TABLE_KEY = { partitionKey: 'pk', sortKey: 'sk' } as const;

/**
 * Item attribute DynamoDB TTL deletes by (epoch *seconds*). Only items that
 * carry it expire: today the query projection items (docs/query.md).
 */
export const TTL_ATTRIBUTE = 'ttl';

/**
 * Sparse global secondary indexes of the query projection (docs/query.md).
 * Each is keyed by a string attribute only query items carry (HASH) and the
 * table's own `sk` (RANGE, `<receivedAt>#<index>`), projecting ALL attributes
 * so one Query answers a page. The CDK stack declares the same four.
 */
export const QUERY_GSIS = [
  { indexName: 'query-actor', partitionKey: 'qa' },
  { indexName: 'query-submitter', partitionKey: 'qs' },
  { indexName: 'query-action1', partitionKey: 'qx1' },
  { indexName: 'query-action2', partitionKey: 'qx2' },
] as const;

/** Creates the table if it does not exist (on-demand billing) and waits until it is ACTIVE. */
export async function ensureTable(ddb: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await ddb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: TABLE_KEY.partitionKey, AttributeType: 'S' },
          { AttributeName: TABLE_KEY.sortKey, AttributeType: 'S' },
          ...QUERY_GSIS.map((g) => ({ AttributeName: g.partitionKey, AttributeType: 'S' as const })),
        ],
        KeySchema: [
          { AttributeName: TABLE_KEY.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEY.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: QUERY_GSIS.map((g) => ({
          IndexName: g.indexName,
          KeySchema: [
            { AttributeName: g.partitionKey, KeyType: 'HASH' as const },
            { AttributeName: TABLE_KEY.sortKey, KeyType: 'RANGE' as const },
          ],
          Projection: { ProjectionType: 'ALL' as const },
        })),
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  for (let i = 0; i < 100; i++) {
    const d = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    if (d.Table?.TableStatus === 'ACTIVE') {
      await ensureTtl(ddb, tableName);
      return;
    }
    await systemSleep(100);
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}

/** Turns TTL on (attribute TTL_ATTRIBUTE) unless it is already on or turning on. */
async function ensureTtl(ddb: DynamoDBClient, tableName: string): Promise<void> {
  const d = await ddb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = d.TimeToLiveDescription?.TimeToLiveStatus;
  if (status === 'ENABLED' || status === 'ENABLING') return;
  try {
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { Enabled: true, AttributeName: TTL_ATTRIBUTE },
      }),
    );
  } catch (err) {
    // A concurrent ensureTable won (DynamoDB: "TimeToLive is already enabled").
    const again = await ddb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    const now = again.TimeToLiveDescription?.TimeToLiveStatus;
    if (now !== 'ENABLED' && now !== 'ENABLING') throw err;
  }
}
