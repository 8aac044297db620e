/**
 * DynamoRuleStore beyond the contract (test/contracts/rule-store.contract.ts):
 * its item layout in the `R#` family, items edited out of band (INTEGRITY,
 * never a 400), and SDK faults as the port's own error codes.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Item, N, S } from '../../src/adapters/aws/dynamo-items.ts';
import {
  DynamoRuleStore,
  RULE_HEADS_PK,
  rulePk,
  versionSk,
} from '../../src/adapters/aws/dynamo-rule-store.ts';
import { FaultInjector, type FaultKind } from '../../src/adapters/aws/faulty-dynamo.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { fromPortError } from '../../src/app/port-errors.ts';
import { RuleStoreError } from '../../src/ports/rule-store.ts';
import { committed, pendingChange, ruleDocument } from '../contracts/rule-store.contract.ts';
import { awsClientConfig } from '../support/aws.ts';

const TABLE = 'anchorlog-rule-store';
let client: DynamoDBClient;
let store: DynamoRuleStore;

beforeAll(async () => {
  client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, TABLE);
  store = new DynamoRuleStore({ client, tableName: TABLE });
});

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => new Error('resolved'),
    (e: unknown) => e,
  );
}

async function expectCode(p: Promise<unknown>, code: string) {
  const err = await failure(p);
  expect(err).toBeInstanceOf(RuleStoreError);
  expect((err as RuleStoreError).code).toBe(code);
  return err as RuleStoreError;
}

const put = (item: Item) => client.send(new PutItemCommand({ TableName: TABLE, Item: item }));
const getItem = async (pk: string, sk: string) =>
  (
    await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: S(pk), sk: S(sk) }, ConsistentRead: true }),
    )
  ).Item;

describe('DynamoRuleStore items', () => {
  it('keeps heads in the R# partition and each version under R#<ruleId>, sorted by a padded number', async () => {
    const doc = ruleDocument('layout-rule');
    await store.stage(pendingChange(doc));
    const staged = await getItem(RULE_HEADS_PK, 'layout-rule');
    expect(staged?.ver?.N).toBe('0');
    expect(staged?.pendVer?.N).toBe('1');
    expect(staged?.cur).toBeUndefined();
    await store.promote(committed(doc));
    const head = await getItem(RULE_HEADS_PK, 'layout-rule');
    expect(head?.ver?.N).toBe('1');
    expect(head?.pendVer).toBeUndefined();
    expect(head?.pend).toBeUndefined();
    expect(versionSk(1)).toBe('V#0000000001');
    expect(versionSk(2 ** 31 - 1)).toBe('V#2147483647');
    const v1 = await getItem(rulePk('layout-rule'), versionSk(1));
    expect(JSON.parse(v1?.doc?.S ?? '')).toEqual(committed(doc));
  });

  it.each([
    ['head JSON', { pk: S(RULE_HEADS_PK), sk: S('bad-1'), ver: N(1), cur: S('{not json') }],
    ['head version', { pk: S(RULE_HEADS_PK), sk: S('bad-2'), ver: S('one') }],
    ['a head with nothing in it', { pk: S(RULE_HEADS_PK), sk: S('bad-3'), ver: N(0) }],
    [
      'a current document of another rule',
      {
        pk: S(RULE_HEADS_PK),
        sk: S('bad-4'),
        ver: N(1),
        cur: S(JSON.stringify(committed(ruleDocument('other')))),
      },
    ],
    [
      'a current document that is not a rule',
      {
        pk: S(RULE_HEADS_PK),
        sk: S('bad-5'),
        ver: N(1),
        cur: S(
          JSON.stringify({ ...committed(ruleDocument('bad-5')), document: { id: 'bad-5', version: 1 } }),
        ),
      },
    ],
    [
      'a staged change that skips a version',
      {
        pk: S(RULE_HEADS_PK),
        sk: S('bad-6'),
        ver: N(0),
        pendVer: N(3),
        pend: S(JSON.stringify(pendingChange(ruleDocument('bad-6', 3)))),
      },
    ],
    [
      'a recorded position that is not one',
      {
        pk: S(RULE_HEADS_PK),
        sk: S('bad-7'),
        ver: N(1),
        cur: S(
          JSON.stringify({
            ...committed(ruleDocument('bad-7')),
            change: { ...committed(ruleDocument('bad-7')).change, recorded: { seq: 0, index: -1 } },
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

  it('a version item under the wrong sort key is INTEGRITY', async () => {
    await put({
      pk: S(rulePk('moved')),
      sk: S(versionSk(2)),
      doc: S(JSON.stringify(committed(ruleDocument('moved', 1)))),
    });
    await expectCode(store.getVersion('moved', 2), 'INTEGRITY');
    await expectCode(store.history('moved', { limit: 10 }), 'INTEGRITY');
  });
});

describe('DynamoRuleStore faults', () => {
  const FAULTS: Array<[FaultKind, string]> = [
    ['throttle', 'THROTTLED'],
    ['server-error', 'UNAVAILABLE'],
    ['timeout-before', 'UNAVAILABLE'],
  ];

  it.each(FAULTS)('a %s fault on any call is the port error %s', async (fault, code) => {
    const faulty = new FaultInjector(
      ['GetItem', 'Query', 'UpdateItem', 'TransactWriteItems'].map((op) => ({ op, fault, times: Infinity })),
    ).attach(new DynamoDBClient(awsClientConfig()));
    const s = new DynamoRuleStore({ client: faulty, tableName: TABLE });
    const doc = ruleDocument('fault-rule');
    for (const call of [
      s.get('fault-rule'),
      s.list({ limit: 5 }),
      s.history('fault-rule', { limit: 5 }),
      s.getVersion('fault-rule', 1),
      s.stage(pendingChange(doc)),
      s.promote(committed(doc)),
    ]) {
      const err = await expectCode(call, code);
      expect(fromPortError(err, 'test')?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    }
    expect(await store.get('fault-rule')).toBeUndefined();
  });

  it('a transaction DynamoDB cancels for contention is THROTTLED and writes nothing', async () => {
    const doc = ruleDocument('contended');
    await store.stage(pendingChange(doc));
    const faulty = new FaultInjector([{ op: 'TransactWriteItems', fault: 'transaction-conflict' }]).attach(
      new DynamoDBClient(awsClientConfig()),
    );
    await expectCode(
      new DynamoRuleStore({ client: faulty, tableName: TABLE }).promote(committed(doc)),
      'THROTTLED',
    );
    expect(await store.get('contended')).toEqual({ ruleId: 'contended', pending: pendingChange(doc) });
    expect(await store.getVersion('contended', 1)).toBeUndefined();
  });
});
