/**
 * DynamoRoleStore beyond the contract (test/contracts/role-store.contract.ts):
 * its item layout in the `G#` family, the last-use item of the principal store, items edited out of band (INTEGRITY,
 * never a 400), and SDK faults as the port's own error codes.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Item, N, S } from '../../src/adapters/aws/dynamo-items.ts';
import { DynamoPrincipalStore } from '../../src/adapters/aws/dynamo-principal-store.ts';
import {
  DynamoRoleStore,
  ROLE_HEADS_PK,
  rolePk,
  versionSk,
} from '../../src/adapters/aws/dynamo-role-store.ts';
import { FaultInjector, type FaultKind } from '../../src/adapters/aws/faulty-dynamo.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { fromPortError } from '../../src/app/port-errors.ts';
import { RoleStoreError } from '../../src/ports/role-store.ts';
import { committed, pendingChange, roleDoc } from '../contracts/role-store.contract.ts';
import { awsClientConfig } from '../support/aws.ts';

const TABLE = 'anchorlog-role-store';
let client: DynamoDBClient;
let store: DynamoRoleStore;

beforeAll(async () => {
  client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, TABLE);
  store = new DynamoRoleStore({ client, tableName: TABLE });
});

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => new Error('resolved'),
    (e: unknown) => e,
  );
}

async function expectCode(p: Promise<unknown>, code: string) {
  const err = await failure(p);
  expect(err).toBeInstanceOf(RoleStoreError);
  expect((err as RoleStoreError).code).toBe(code);
  return err as RoleStoreError;
}

const put = (item: Item) => client.send(new PutItemCommand({ TableName: TABLE, Item: item }));
const getItem = async (pk: string, sk: string) =>
  (
    await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: S(pk), sk: S(sk) }, ConsistentRead: true }),
    )
  ).Item;

describe('DynamoRoleStore items', () => {
  it('keeps heads in the G# partition and each version under G#<roleId>, sorted by a padded number', async () => {
    const doc = roleDoc('layout-role');
    await store.stage(pendingChange(doc));
    const staged = await getItem(ROLE_HEADS_PK, 'layout-role');
    expect(staged?.ver?.N).toBe('0');
    expect(staged?.pendVer?.N).toBe('1');
    expect(staged?.cur).toBeUndefined();
    await store.promote(committed(doc));
    const head = await getItem(ROLE_HEADS_PK, 'layout-role');
    expect(head?.ver?.N).toBe('1');
    expect(head?.pendVer).toBeUndefined();
    expect(head?.pend).toBeUndefined();
    expect(versionSk(1)).toBe('V#0000000001');
    expect(versionSk(2 ** 31 - 1)).toBe('V#2147483647');
    const v1 = await getItem(rolePk('layout-role'), versionSk(1));
    expect(JSON.parse(v1?.doc?.S ?? '')).toEqual(committed(doc));
  });

  it.each([
    ['head JSON', { pk: S(ROLE_HEADS_PK), sk: S('bad-1'), ver: N(1), cur: S('{not json') }],
    ['head version', { pk: S(ROLE_HEADS_PK), sk: S('bad-2'), ver: S('one') }],
    ['a head with nothing in it', { pk: S(ROLE_HEADS_PK), sk: S('bad-3'), ver: N(0) }],
    [
      'a current role of another role',
      {
        pk: S(ROLE_HEADS_PK),
        sk: S('bad-4'),
        ver: N(1),
        cur: S(JSON.stringify(committed(roleDoc('other')))),
      },
    ],
    [
      'a current role with a bad scope',
      {
        pk: S(ROLE_HEADS_PK),
        sk: S('bad-5'),
        ver: N(1),
        cur: S(
          JSON.stringify({
            ...committed(roleDoc('bad-5')),
            role: { ...roleDoc('bad-5'), scopes: { system: ['events:write'] } },
          }),
        ),
      },
    ],
    [
      'a staged change that skips a version',
      {
        pk: S(ROLE_HEADS_PK),
        sk: S('bad-6'),
        ver: N(0),
        pendVer: N(3),
        pend: S(JSON.stringify(pendingChange(roleDoc('bad-6', 3)))),
      },
    ],
    [
      'a recorded position that is not one',
      {
        pk: S(ROLE_HEADS_PK),
        sk: S('bad-7'),
        ver: N(1),
        cur: S(
          JSON.stringify({
            ...committed(roleDoc('bad-7')),
            change: { ...committed(roleDoc('bad-7')).change, recorded: { seq: 0, index: -1 } },
          }),
        ),
      },
    ],
  ])('a head with %s is INTEGRITY (500), never a client error', async (_what, item) => {
    await put(item as Item);
    const err = await expectCode(store.get(item.sk.S ?? ''), 'INTEGRITY');
    expect(fromPortError(err, 'test')?.code).toBe('INTEGRITY');
    await expectCode(store.list({ limit: 100 }), 'INTEGRITY');
  });

  it('a stored role with a field the role rules do not know is INTEGRITY', async () => {
    const v = committed(roleDoc('extra-field'));
    await put({
      pk: S(ROLE_HEADS_PK),
      sk: S('extra-field'),
      ver: N(1),
      cur: S(JSON.stringify({ ...v, role: { ...v.role, grantsAll: true } })),
    });
    await expectCode(store.get('extra-field'), 'INTEGRITY');
  });

  it('last use (U#<id>) is informational: a malformed value is left out, never fatal', async () => {
    const principals = new DynamoPrincipalStore({ client, tableName: TABLE });
    await put({ pk: S('U#garbled-use'), sk: S('USE'), lastUsedAt: S('yesterday') });
    expect(
      await principals.recordUse('fine-use', '2026-03-01T12:00:00.000Z', '2026-03-01T11:00:00.000Z'),
    ).toBe(true);
    expect(await principals.lastUsed(['garbled-use', 'fine-use', 'never-used'])).toEqual(
      new Map([['fine-use', '2026-03-01T12:00:00.000Z']]),
    );
    expect((await getItem('U#fine-use', 'USE'))?.lastUsedAt?.S).toBe('2026-03-01T12:00:00.000Z');
  });

  it('a version item under the wrong sort key is INTEGRITY', async () => {
    await put({
      pk: S(rolePk('moved')),
      sk: S(versionSk(2)),
      doc: S(JSON.stringify(committed(roleDoc('moved', 1)))),
    });
    await expectCode(store.getVersion('moved', 2), 'INTEGRITY');
    await expectCode(store.history('moved', { limit: 10 }), 'INTEGRITY');
  });
});

describe('DynamoRoleStore faults', () => {
  const FAULTS: Array<[FaultKind, string]> = [
    ['throttle', 'THROTTLED'],
    ['server-error', 'UNAVAILABLE'],
    ['timeout-before', 'UNAVAILABLE'],
  ];

  it.each(FAULTS)('a %s fault on any call is the port error %s', async (fault, code) => {
    const faulty = new FaultInjector(
      ['GetItem', 'Query', 'UpdateItem', 'TransactWriteItems'].map((op) => ({ op, fault, times: Infinity })),
    ).attach(new DynamoDBClient(awsClientConfig()));
    const s = new DynamoRoleStore({ client: faulty, tableName: TABLE });
    const doc = roleDoc('fault-role');
    for (const call of [
      s.get('fault-role'),
      s.list({ limit: 5 }),
      s.history('fault-role', { limit: 5 }),
      s.getVersion('fault-role', 1),
      s.stage(pendingChange(doc)),
      s.promote(committed(doc)),
    ]) {
      const err = await expectCode(call, code);
      expect(fromPortError(err, 'test')?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    }
    expect(await store.get('fault-role')).toBeUndefined();
  });

  it('a transaction DynamoDB cancels for contention is THROTTLED and writes nothing', async () => {
    const doc = roleDoc('contended');
    await store.stage(pendingChange(doc));
    const faulty = new FaultInjector([{ op: 'TransactWriteItems', fault: 'transaction-conflict' }]).attach(
      new DynamoDBClient(awsClientConfig()),
    );
    await expectCode(
      new DynamoRoleStore({ client: faulty, tableName: TABLE }).promote(committed(doc)),
      'THROTTLED',
    );
    expect(await store.get('contended')).toEqual({ roleId: 'contended', pending: pendingChange(doc) });
    expect(await store.getVersion('contended', 1)).toBeUndefined();
  });
});
