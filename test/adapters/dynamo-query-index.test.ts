/**
 * DynamoQueryIndex on the emulator: the projection lives in its own family
 * (Q#<log>, written by the project role only, issue #11), and a GSI hit
 * counts only if its table key is that family's day partition.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoQueryIndex } from '../../src/adapters/aws/dynamo-query-index.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { sortKey } from '../../src/ports/query-index.ts';
import { projectorCursor, queryItem } from '../contracts/query-index.contract.ts';
import { awsClientConfig } from '../support/aws.ts';

const TABLE = 'anchorlog-query-index';
let client: DynamoDBClient;
let index: DynamoQueryIndex;

beforeAll(async () => {
  client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, TABLE);
  index = new DynamoQueryIndex({ client, tableName: TABLE, sleep: async () => {} });
});

async function getItem(pk: string, sk: string) {
  const out = await client.send(
    new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }),
  );
  return out.Item;
}

describe('DynamoQueryIndex', () => {
  it('keeps the cursor and the day items under Q#<log>, never under L#', async () => {
    await index.putItems('qa', [
      queryItem(0, '2026-03-01T12:00:00.000Z', 'alice'),
      queryItem(1, '2026-03-01T12:00:01.000Z', 'bob'),
    ]);
    expect(await index.advanceCursor(projectorCursor('qa', 1), 0)).toBe(true);
    expect(await index.advanceCursor(projectorCursor('qa', 2), 0)).toBe(false);
    expect(await index.readCursor('qa')).toMatchObject({ seq: 1 });
    expect(await getItem('Q#qa', 'QUERY_CURSOR')).toBeDefined();
    const sk = sortKey('2026-03-01T12:00:00.000Z', 0);
    expect(await getItem('Q#qa#2026-03-01', sk)).toMatchObject({ qa: { S: 'Q#qa#QA#alice' } });
    expect(await getItem('L#qa', 'QUERY_CURSOR')).toBeUndefined();
    expect(await getItem('L#qa#Q#2026-03-01', sk)).toBeUndefined();
  });

  it('does not read a cursor from where it lived before issue #11', async () => {
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: 'L#qb' }, sk: { S: 'QUERY_CURSOR' }, seq: { N: '99' }, nextIndex: { N: '99' } },
      }),
    );
    expect(await index.readCursor('qb')).toBeUndefined();
  });

  it('ignores an item planted outside the day partition that carries a GSI key', async () => {
    await index.putItems('qc', [queryItem(0, '2026-03-01T12:00:00.000Z', 'carol')]);
    // Any role that may write some partition (here the log's own, which
    // ingest writes) could give an item the attributes of a query item.
    const forged = queryItem(1, '2026-03-01T12:00:01.000Z', 'carol');
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          pk: { S: 'L#qc#E#planted' },
          sk: { S: sortKey(forged.receivedAt, forged.index) },
          i: { N: '1' },
          at: { S: forged.receivedAt },
          sub: { S: 'svc' },
          aid: { S: 'carol' },
          act: { S: 'tool.call' },
          rec: { B: utf8('forged record') },
          ttl: { N: '2000000000' },
          qa: { S: 'Q#qc#QA#carol' },
          qs: { S: 'Q#qc#QS#svc' },
          qx1: { S: 'Q#qc#QX#tool' },
        },
      }),
    );
    const page = await index.query({
      logId: 'qc',
      key: { kind: 'actor', actorId: 'carol' },
      lo: '2026-03-01T00:00:00.000Z',
      hi: '2026-03-02T00:00:00.000Z',
      limit: 10,
      filter: {},
    });
    expect(page.items.map((i) => i.index)).toEqual([0]);
  });
});
