/**
 * Lists the checkpoint sizes of a log that hold at least one granted RFC 3161
 * token, in a size window, ascending: a Query over the anchor summaries
 * that DynamoAnchorStore writes (`pk=A#<logId>`, `sk=ANCHOR#<size, 20 digits>`,
 * attribute `granted` N; see ./dynamo-anchor-store.ts, whose key layout this
 * reads), and one over the legacy summaries under `pk=L#<logId>` (anchors
 * from before issue #11), merged. Read-only. Per-TSA items (`…#TSA#<name>`)
 * carry no `granted` attribute and are filtered out server-side. Used by the
 * export use case to find the earliest time-stamp past an exported range; the
 * export reads each size's tokens through DynamoAnchorStore.read, which
 * prefers the current location.
 *
 * TODO(anchor store owner): this belongs in the AnchorStore port as
 * `anchoredSizes(logId, min, max, limit)`; it lives here only to keep the
 * export work out of that file.
 */
import { type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { AnchorStoreError } from '../../ports/anchor-store.ts';
import type { AnchoredSizeLister } from '../../ports/export-store.ts';
import { ANCHOR_PREFIX, sizeSk } from './dynamo-anchor-store.ts';
import { DynamoTable, type Item, N, S } from './dynamo-items.ts';

/** Failures are AnchorStoreErrors: this reads the anchor store's items. */
export function dynamoAnchoredSizes(opts: { client: DynamoDBClient; tableName: string }): AnchoredSizeLister {
  const list = listAt(new DynamoTable({ ...opts, errors: AnchorStoreError }));
  return async (logId, min, max, limit) => {
    if (max < min || limit <= 0) return [];
    const [current, legacy] = await Promise.all([
      list(`${ANCHOR_PREFIX}${logId}`, min, max, limit),
      list(`L#${logId}`, min, max, limit),
    ]);
    return [...new Set([...current, ...legacy])].sort((a, b) => a - b).slice(0, limit);
  };
}

function listAt(table: DynamoTable) {
  return async (partition: string, min: number, max: number, limit: number): Promise<number[]> => {
    const out: number[] = [];
    let start: Item | undefined;
    do {
      const query = new QueryCommand({
        TableName: table.name,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        FilterExpression: '#g > :zero',
        ProjectionExpression: 'sk, #g',
        ExpressionAttributeNames: { '#g': 'granted' },
        ExpressionAttributeValues: {
          ':pk': S(partition),
          ':lo': S(sizeSk(min)),
          // Summaries only: `ANCHOR#<max>` sorts before `ANCHOR#<max>#TSA#…`.
          ':hi': S(sizeSk(max)),
          ':zero': N(0),
        },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      const res = await table.send(() => table.client.send(query));
      for (const item of res.Items ?? []) {
        const m = /^ANCHOR#(\d{20})$/.exec(item.sk?.S ?? '');
        if (!m) continue;
        out.push(Number(m[1]));
        if (out.length >= limit) return out;
      }
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  };
}
