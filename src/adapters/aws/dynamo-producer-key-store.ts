/**
 * ProducerKeyStore on the single DynamoDB table (key schema in ./table.ts).
 *
 * Item owned here, written by the admin role, read by ingest (IAM family
 * `producerKeys`, cdk/constructs/audit-table.ts):
 *   pk=PK#<principalId>  sk=K#<keyId>   version N, record S (the ProducerKeyRecord as JSON,
 *                                        exactly its system-log record's changes.after),
 *                                        rseq N, rindex N (where that record is; absent on
 *                                        items written before stores carried it)
 *
 * One partition per principal, so `list` is one Query; a record is a few
 * hundred bytes. Writes are one conditional PutItem on `version`.
 */
import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { checkProducerKeyRecord, type ProducerKeyRecord } from '../../core/producer-key.ts';
import {
  keyRecordOf,
  MAX_KEYS_PER_PRINCIPAL,
  type ProducerKeyStore,
  ProducerKeyStoreError,
  type StoredProducerKey,
} from '../../ports/producer-key-store.ts';
import { DynamoTable, type Item, itemReader, N, S } from './dynamo-items.ts';

/** Partition prefix of producer keys; the IAM grants in cdk/ name the same prefix. */
export const PRODUCER_KEY_PREFIX = 'PK#';
const SK_PREFIX = 'K#';
const key = (principalId: string, keyId: string): Item => ({
  pk: S(`${PRODUCER_KEY_PREFIX}${principalId}`),
  sk: S(`${SK_PREFIX}${keyId}`),
});

export class DynamoProducerKeyStore implements ProducerKeyStore {
  readonly #t: DynamoTable;

  constructor(opts: { client: DynamoDBClient; tableName: string }) {
    this.#t = new DynamoTable({
      client: opts.client,
      tableName: opts.tableName,
      errors: ProducerKeyStoreError,
    });
  }

  #fromItem(principalId: string, item: Item): StoredProducerKey {
    const corrupt = (what: string) =>
      new ProducerKeyStoreError(
        'INTEGRITY',
        `producer key of principal ${principalId} is malformed: ${what}`,
      );
    const r = itemReader(item, corrupt);
    const version = r.count('version');
    let record: ProducerKeyRecord;
    try {
      record = checkProducerKeyRecord(JSON.parse(r.str('record')));
    } catch (e) {
      throw corrupt((e as Error).message);
    }
    // The item's key and version are what the conditions ran on: the record must agree.
    if (
      record.version !== version ||
      record.principalId !== principalId ||
      r.str('sk') !== `${SK_PREFIX}${record.keyId}`
    )
      throw corrupt('record does not match its item key or version');
    if (item.rseq === undefined && item.rindex === undefined) return record;
    return { ...record, recorded: { seq: r.count('rseq'), index: r.count('rindex') } };
  }

  async get(principalId: string, keyId: string): Promise<StoredProducerKey | undefined> {
    const item = await this.#t.get(key(principalId, keyId));
    return item ? this.#fromItem(principalId, item) : undefined;
  }

  async list(principalId: string): Promise<StoredProducerKey[]> {
    const res = await this.#t.send(() =>
      this.#t.client.send(
        new QueryCommand({
          TableName: this.#t.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :k)',
          ExpressionAttributeValues: { ':pk': S(`${PRODUCER_KEY_PREFIX}${principalId}`), ':k': S(SK_PREFIX) },
          ConsistentRead: true,
          Limit: MAX_KEYS_PER_PRINCIPAL,
        }),
      ),
    );
    return (res.Items ?? []).map((i) => this.#fromItem(principalId, i));
  }

  put(stored: StoredProducerKey): Promise<boolean> {
    const record = keyRecordOf(stored);
    const expected = record.version - 1;
    return this.#t.ifCondition(() =>
      this.#t.client.send(
        new PutItemCommand({
          TableName: this.#t.name,
          Item: {
            ...key(record.principalId, record.keyId),
            version: N(record.version),
            record: S(JSON.stringify(record)),
            ...(stored.recorded ? { rseq: N(stored.recorded.seq), rindex: N(stored.recorded.index) } : {}),
          },
          ConditionExpression: expected === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
          ...(expected === 0 ? {} : { ExpressionAttributeValues: { ':v': N(expected) } }),
        }),
      ),
    );
  }
}
