/**
 * ProducerStore on the single DynamoDB table (key schema in ./table.ts).
 *
 * Item owned here, written by the ingest role (IAM family `producers`,
 * cdk/constructs/audit-table.ts), read by the read role:
 *   pk=PS#<logId>  sk=ST#<stream>   version N, state S (the StreamState as JSON)
 *
 * One partition per log, so `list` is one Query in stream order. The state is
 * bounded (≤ 64 gaps, src/core/producer.ts), a few KB, far under the 400 KB
 * item limit. Writes are one conditional PutItem per batch per stream.
 */
import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { checkStreamState, type StreamState } from '../../core/producer.ts';
import {
  type ProducerPage,
  type ProducerStore,
  ProducerStoreError,
  type StoredStream,
} from '../../ports/producer-store.ts';
import { DynamoTable, type Item, itemReader, N, S } from './dynamo-items.ts';

/** Partition prefix of producer streams; the IAM grants in cdk/ name the same prefix. */
export const PRODUCER_PREFIX = 'PS#';
const SK_PREFIX = 'ST#';
const key = (logId: string, stream: string): Item => ({
  pk: S(`${PRODUCER_PREFIX}${logId}`),
  sk: S(`${SK_PREFIX}${stream}`),
});

export class DynamoProducerStore implements ProducerStore {
  readonly #t: DynamoTable;

  constructor(opts: { client: DynamoDBClient; tableName: string }) {
    this.#t = new DynamoTable({ client: opts.client, tableName: opts.tableName, errors: ProducerStoreError });
  }

  #fromItem(logId: string, item: Item): StoredStream {
    const r = itemReader(
      item,
      (what) => new ProducerStoreError('INTEGRITY', `producer stream of log ${logId} is malformed: ${what}`),
    );
    const version = r.count('version', 1);
    let state: StreamState;
    try {
      state = JSON.parse(r.str('state')) as StreamState;
      checkStreamState(state, Number.MAX_SAFE_INTEGER);
    } catch (e) {
      throw new ProducerStoreError('INTEGRITY', `producer stream of log ${logId}: ${(e as Error).message}`);
    }
    return { state, version };
  }

  async read(logId: string, stream: string): Promise<StoredStream | undefined> {
    const item = await this.#t.get(key(logId, stream));
    return item ? this.#fromItem(logId, item) : undefined;
  }

  compareAndSwap(logId: string, state: StreamState, expectedVersion: number): Promise<boolean> {
    return this.#t.ifCondition(() =>
      this.#t.client.send(
        new PutItemCommand({
          TableName: this.#t.name,
          Item: {
            ...key(logId, state.stream),
            version: N(expectedVersion + 1),
            state: S(JSON.stringify(state)),
          },
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
          ...(expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ':v': N(expectedVersion) } }),
        }),
      ),
    );
  }

  async list(logId: string, opts: { cursor?: string; limit?: number } = {}): Promise<ProducerPage> {
    const limit = Math.min(100, Math.max(1, opts.limit ?? 100));
    const res = await this.#t.send(() =>
      this.#t.client.send(
        new QueryCommand({
          TableName: this.#t.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :st)',
          ExpressionAttributeValues: { ':pk': S(`${PRODUCER_PREFIX}${logId}`), ':st': S(SK_PREFIX) },
          ConsistentRead: true,
          Limit: limit,
          ...(opts.cursor !== undefined ? { ExclusiveStartKey: key(logId, opts.cursor) } : {}),
        }),
      ),
    );
    const items = (res.Items ?? []).map((i) => this.#fromItem(logId, i));
    const last = items[items.length - 1];
    return res.LastEvaluatedKey && last ? { items, cursor: last.state.stream } : { items };
  }
}
