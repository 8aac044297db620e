import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  attributeValueSize,
  itemSize,
  numberSize,
  RequestMeter,
  readUnits,
  writeUnits,
} from '../../bench/request-meter.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { awsClientConfig } from '../support/aws.ts';

const TABLE = 'meter-test';
let ddb: DynamoDBClient;
let s3: S3Client;
const meter = new RequestMeter();

/** pk + sk + data: 2 + |pk| + 2 + |sk| + 4 + |data| bytes. */
const item = (pk: string, sk: string, dataBytes: number) => ({
  pk: { S: pk },
  sk: { S: sk },
  data: { S: 'x'.repeat(dataBytes) },
});
const op = (service: string, operation: string) =>
  meter.snapshot().find((t) => t.service === service && t.operation === operation);

beforeAll(async () => {
  ddb = new DynamoDBClient(awsClientConfig());
  s3 = new S3Client(awsClientConfig());
  await ensureTable(ddb, TABLE);
  meter.attach(ddb);
  meter.attach(s3);
  meter.attach(ddb); // idempotent: a second attach must not double-count
});

beforeEach(() => meter.reset());

describe('item size (DynamoDB item-size rules)', () => {
  it('sizes strings, numbers, binary, booleans, null, lists, maps and sets', () => {
    expect(numberSize('12345')).toBe(4); // 5 significant digits → 3 bytes + 1
    expect(numberSize('-0.00120')).toBe(2); // "12"
    expect(numberSize('1000')).toBe(2); // trailing zeros trimmed
    expect(attributeValueSize({ S: 'héllo' })).toBe(6); // UTF-8 bytes
    expect(attributeValueSize({ B: new Uint8Array(10) })).toBe(10);
    expect(attributeValueSize({ BOOL: true })).toBe(1);
    expect(attributeValueSize({ NULL: true })).toBe(1);
    // L: 3 + (1 + 1) + (2 + 1)
    expect(attributeValueSize({ L: [{ S: 'a' }, { N: '7' }] })).toBe(3 + 2 + 3);
    // M: 3 + ("k" 1 + "vv" 2 + 1)
    expect(attributeValueSize({ M: { k: { S: 'vv' } } })).toBe(7);
    expect(attributeValueSize({ SS: ['ab', 'c'] })).toBe(3);
    // names count too: "pk"(2) + "k1"(2) + "n"(1) + 12345(4)
    expect(itemSize({ pk: { S: 'k1' }, n: { N: '12345' } })).toBe(9);
    expect(itemSize(item('k1', 'A', 2000))).toBe(2011);
  });

  it('rounds units: 1 KB per write, 4 KB per read, minimum 1', () => {
    expect(writeUnits(0)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
    expect(readUnits(4096)).toBe(1);
    expect(readUnits(4097)).toBe(2);
  });
});

describe('RequestMeter on DynamoDB (emulator)', () => {
  it('counts a PutItem: 1 request, its bytes, and ceil(item/1 KB) write units', async () => {
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: item('k1', 'A', 2000) }));
    const t = op('DynamoDB', 'PutItem');
    expect(t).toMatchObject({ requests: 1, errors: 0, wcu: 2, rcu: 0 });
    expect(t?.requestBytes).toBeGreaterThan(2000);
    expect(t?.requestBytes).toBeLessThan(2300);
    expect(t?.responseBytes).toBeGreaterThan(0);
    expect(meter.snapshot()).toHaveLength(1);
  });

  it('charges a failed conditional write and counts the failure', async () => {
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: item('k2', 'A', 100) }));
    meter.reset();
    await expect(
      ddb.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: item('k2', 'A', 3000),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(op('DynamoDB', 'PutItem')).toMatchObject({
      requests: 1,
      errors: 1,
      conditionalFailures: 1,
      wcu: 3,
    });
  });

  it('uses the larger of new and old item when the old one comes back (ALL_OLD on condition failure)', async () => {
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: item('k3', 'A', 5000) }));
    meter.reset();
    await expect(
      ddb.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: item('k3', 'A', 10),
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(op('DynamoDB', 'PutItem')?.wcu).toBe(5); // 5,011-byte old item
  });

  it('estimates UpdateItem from the returned item, else 1', async () => {
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: item('k4', 'A', 3000) }));
    meter.reset();
    const update = (rv?: 'ALL_NEW') =>
      ddb.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { pk: { S: 'k4' }, sk: { S: 'A' } },
          UpdateExpression: 'SET n = :n',
          ExpressionAttributeValues: { ':n': { N: '1' } },
          ...(rv ? { ReturnValues: rv } : {}),
        }),
      );
    await update();
    expect(op('DynamoDB', 'UpdateItem')?.wcu).toBe(1);
    await update('ALL_NEW');
    // 3,011 + "n"(1) + 1(2) = 3,014 bytes → 3 units; total 1 + 3
    expect(op('DynamoDB', 'UpdateItem')).toMatchObject({ requests: 2, wcu: 4 });
  });

  it('counts consistent reads at ceil(bytes/4 KB) and eventually consistent at half', async () => {
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: item('k5', 'A', 5000) }));
    meter.reset();
    const key = { pk: { S: 'k5' }, sk: { S: 'A' } };
    await ddb.send(new GetItemCommand({ TableName: TABLE, Key: key, ConsistentRead: true }));
    expect(op('DynamoDB', 'GetItem')).toMatchObject({ requests: 1, rcu: 2 }); // 5,011 B
    await ddb.send(new GetItemCommand({ TableName: TABLE, Key: key }));
    expect(op('DynamoDB', 'GetItem')).toMatchObject({ requests: 2, rcu: 3 });
    // A miss still costs the minimum read.
    await ddb.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: { pk: { S: 'nope' }, sk: { S: 'A' } },
        ConsistentRead: true,
      }),
    );
    expect(op('DynamoDB', 'GetItem')?.rcu).toBe(4);
    expect(op('DynamoDB', 'GetItem')?.responseBytes).toBeGreaterThan(5000);
  });

  it('sums BatchWriteItem puts, doubles TransactWriteItems, and reads batches and queries', async () => {
    await ddb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [TABLE]: [0, 1, 2].map((i) => ({ PutRequest: { Item: item('q', `s${i}`, 1500) } })),
        },
      }),
    );
    expect(op('DynamoDB', 'BatchWriteItem')).toMatchObject({ requests: 1, wcu: 6 });

    await ddb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: TABLE, Item: item('t', 'a', 100) } },
          { Put: { TableName: TABLE, Item: item('t', 'b', 1500) } },
        ],
      }),
    );
    expect(op('DynamoDB', 'TransactWriteItems')).toMatchObject({ requests: 1, wcu: 2 * (1 + 2) });

    await ddb.send(
      new BatchGetItemCommand({
        RequestItems: {
          [TABLE]: {
            Keys: [
              { pk: { S: 'q' }, sk: { S: 's0' } },
              { pk: { S: 'q' }, sk: { S: 'missing' } },
            ],
            ConsistentRead: true,
          },
        },
      }),
    );
    expect(op('DynamoDB', 'BatchGetItem')).toMatchObject({ requests: 1, rcu: 2 });

    // Query: the three 1,510-byte items sum to 4,530 B → 2 units.
    await ddb.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': { S: 'q' } },
        ConsistentRead: true,
      }),
    );
    expect(op('DynamoDB', 'Query')).toMatchObject({ requests: 1, rcu: 2 });
    expect(meter.total((t) => t.service === 'DynamoDB')).toMatchObject({ requests: 4, wcu: 12, rcu: 4 });
  });
});

describe('RequestMeter on S3 (emulator)', () => {
  it('counts requests and body bytes per operation, without units', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'meter-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'meter-bucket', Key: 'o', Body: new Uint8Array(1000) }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'meter-bucket', Key: 'o' }));
    await got.Body?.transformToByteArray();
    expect(op('S3', 'PutObject')).toMatchObject({ requests: 1, requestBytes: 1000, wcu: 0, rcu: 0 });
    expect(op('S3', 'GetObject')).toMatchObject({ requests: 1, requestBytes: 0, responseBytes: 1000 });
    expect(op('S3', 'CreateBucket')?.requests).toBe(1);
  });

  it('stops counting after detach', async () => {
    const m = new RequestMeter();
    const client = m.attach(new DynamoDBClient(awsClientConfig()));
    await client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'x' }, sk: { S: 'y' } } }));
    m.detach();
    await client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'x' }, sk: { S: 'y' } } }));
    expect(m.total().requests).toBe(1);
  });
});
