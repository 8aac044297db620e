/**
 * Lists the checkpoint sizes of a log that hold at least one granted RFC 3161
 * token, in a size window, ascending: one Query over the anchor summaries
 * that DynamoAnchorStore writes (`pk=L#<logId>`, `sk=ANCHOR#<size, 20 digits>`,
 * attribute `granted` N; see ./dynamo-anchor-store.ts, whose key layout this
 * reads). Per-TSA items (`…#TSA#<name>`) carry no `granted` attribute and are
 * filtered out server-side. Used by the export use case to find the earliest
 * time-stamp past an exported range.
 *
 * TODO(anchor store owner): this belongs in the AnchorStore port as
 * `anchoredSizes(logId, min, max, limit)`; it lives here only to keep the
 * export work out of that file.
 */
import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AnchoredSizeLister } from '../../ports/export-store.ts';

const sizeSk = (size: number) => `ANCHOR#${String(size).padStart(20, '0')}`;

export function dynamoAnchoredSizes(opts: { client: DynamoDBClient; tableName: string }): AnchoredSizeLister {
  return async (logId, min, max, limit) => {
    const out: number[] = [];
    if (max < min || limit <= 0) return out;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const res = await opts.client.send(
        new QueryCommand({
          TableName: opts.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
          FilterExpression: '#g > :zero',
          ProjectionExpression: 'sk, #g',
          ExpressionAttributeNames: { '#g': 'granted' },
          ExpressionAttributeValues: {
            ':pk': { S: `L#${logId}` },
            ':lo': { S: sizeSk(min) },
            // Summaries only: `ANCHOR#<max>` sorts before `ANCHOR#<max>#TSA#…`.
            ':hi': { S: sizeSk(max) },
            ':zero': { N: '0' },
          },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
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
