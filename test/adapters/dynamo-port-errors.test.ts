/**
 * One error policy for every adapter on the DynamoDB table (issue #12): each
 * throws its own port's error class — never the app layer's AppError, never a
 * raw SDK error for pushback or a transient failure — and the one table in
 * src/app/port-errors.ts gives each code its API meaning.
 *
 * On moto, with faults injected at the SDK (src/adapters/aws/faulty-dynamo.ts)
 * and malformed items written next to the adapter's own.
 */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAnchorStore } from '../../src/adapters/aws/dynamo-anchor-store.ts';
import { dynamoAnchoredSizes } from '../../src/adapters/aws/dynamo-anchored-sizes.ts';
import { B, type Item, N, S } from '../../src/adapters/aws/dynamo-items.ts';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { DynamoPrincipalStore } from '../../src/adapters/aws/dynamo-principal-store.ts';
import { DynamoQueryIndex } from '../../src/adapters/aws/dynamo-query-index.ts';
import { DynamoSealStateStore } from '../../src/adapters/aws/dynamo-seal-state-store.ts';
import { FaultInjector, type FaultKind } from '../../src/adapters/aws/faulty-dynamo.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { AppError } from '../../src/app/errors.ts';
import { fromPortError } from '../../src/app/port-errors.ts';
import { AnchorStoreError } from '../../src/ports/anchor-store.ts';
import { LogStoreError } from '../../src/ports/log-store.ts';
import { PrincipalStoreError } from '../../src/ports/principal-store.ts';
import { QueryIndexError } from '../../src/ports/query-index.ts';
import { SealStateError } from '../../src/ports/seal-state.ts';
import { awsClientConfig } from '../support/aws.ts';

const TABLE = 'anchorlog-port-errors';
let client: DynamoDBClient;

beforeAll(async () => {
  client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, TABLE);
});

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => new Error('resolved'),
    (e: unknown) => e,
  );
}

function put(item: Item) {
  return client.send(new PutItemCommand({ TableName: TABLE, Item: item }));
}

// biome-ignore lint/suspicious/noExplicitAny: the port classes differ only in their code unions
type PortClass = abstract new (...a: any[]) => Error & { code: string };

interface Case {
  port: string;
  errors: PortClass;
  /** One read through the adapter over `c`. */
  read: (c: DynamoDBClient) => Promise<unknown>;
  /** Writes an item the read above finds malformed (absent: it reads nothing that can be). */
  plant?: () => Promise<unknown>;
}

const cases: Case[] = [
  {
    port: 'LogStore',
    errors: LogStoreError,
    read: (c) =>
      new DynamoLogStore({ client: c, tableName: TABLE, sleep: async () => {} }).readBatch('pe-log', 1),
    plant: () => put({ pk: S('L#pe-log#B#0000000000000001'), sk: S('B'), seq: S('not a number') }),
  },
  {
    port: 'SealStateStore',
    errors: SealStateError,
    read: (c) => new DynamoSealStateStore({ client: c, tableName: TABLE }).read('pe-log'),
    plant: () => put({ pk: S('S#pe-log'), sk: S('SEAL'), version: N(3), size: N(-1) }),
  },
  {
    port: 'AnchorStore',
    errors: AnchorStoreError,
    read: (c) => new DynamoAnchorStore({ client: c, tableName: TABLE }).read('pe-log', 5),
    plant: () =>
      put({
        pk: S('A#pe-log'),
        sk: S(`ANCHOR#${'5'.padStart(20, '0')}#TSA#x`),
        status: S('granted'),
        tsa: S('x'),
      }),
  },
  {
    port: 'AnchorStore (anchored sizes)',
    errors: AnchorStoreError,
    read: (c) => dynamoAnchoredSizes({ client: c, tableName: TABLE })('pe-log', 0, 10, 5),
  },
  {
    port: 'QueryIndexStore',
    errors: QueryIndexError,
    read: (c) =>
      new DynamoQueryIndex({ client: c, tableName: TABLE, sleep: async () => {} }).readCursor('pe-log'),
    plant: () => put({ pk: S('Q#pe-log'), sk: S('QUERY_CURSOR'), seq: B(new Uint8Array(1)) }),
  },
  {
    port: 'PrincipalStore',
    errors: PrincipalStoreError,
    read: (c) => new DynamoPrincipalStore({ client: c, tableName: TABLE }).get('pe-principal'),
    plant: () => put({ pk: S('P#pe-principal'), sk: S('P'), rev: N(1), cur: S('{not json') }),
  },
];

const FAULTS: Array<[FaultKind, string]> = [
  ['throttle', 'THROTTLED'],
  ['throttling', 'THROTTLED'],
  ['server-error', 'UNAVAILABLE'],
  ['timeout-before', 'UNAVAILABLE'],
];

describe.each(cases)('$port', ({ errors, read }) => {
  it.each(FAULTS)('a %s fault is the port error %s, mapped by the one table', async (fault, code) => {
    const faulty = new FaultInjector([
      { op: 'GetItem', fault },
      { op: 'Query', fault },
      { op: 'BatchGetItem', fault },
    ]).attach(new DynamoDBClient(awsClientConfig()));
    const err = await failure(read(faulty));
    expect(err).toBeInstanceOf(errors);
    expect(err).not.toBeInstanceOf(AppError);
    expect((err as { code: string }).code).toBe(code);
    const api = fromPortError(err, 'test');
    expect(api?.code).toBe(code);
    expect(api?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });
});

describe.each(cases.filter((c) => c.plant !== undefined))('$port', ({ errors, read, plant }) => {
  it('a malformed item is the port error INTEGRITY', async () => {
    await plant?.();
    const got = await failure(read(client));
    expect(got).toBeInstanceOf(errors);
    expect((got as { code: string }).code).toBe('INTEGRITY');
    expect(fromPortError(got, 'test')?.code).toBe('INTEGRITY');
  });
});

describe('PrincipalStore outcomes that are the caller’s', () => {
  it('a lost compare-and-swap is CONFLICT and a foreign cursor INVALID_CURSOR (409, 400)', async () => {
    const store = new DynamoPrincipalStore({ client, tableName: TABLE });
    const lost = await failure(store.put({ id: 'pe-none' }, 4));
    expect(lost).toBeInstanceOf(PrincipalStoreError);
    expect((lost as PrincipalStoreError).code).toBe('CONFLICT');
    expect(fromPortError(lost, 'test')).toMatchObject({ code: 'CONFLICT' });
    const cursor = await failure(store.list({ limit: 5, cursor: 'not a cursor!' }));
    expect(cursor).toBeInstanceOf(PrincipalStoreError);
    expect((cursor as PrincipalStoreError).code).toBe('INVALID_CURSOR');
    expect(fromPortError(cursor, 'test')).toMatchObject({ code: 'BAD_REQUEST', path: '/cursor' });
  });
});
