/**
 * WitnessStateStore on the single DynamoDB table (key schema in ./table.ts).
 *
 * Items owned here, written by the anchor role only (IAM: `W#*`; no other
 * role reads them: cosignatures are served from the archive):
 *   pk=W#<logId>  sk=WITNESS#<name>   size N, cosignedAt N, updatedAt N,
 *                                     and after a failure errorCode S,
 *                                     errorMessage S, failedAt N
 *
 * recordCosigned is one UpdateItem conditional on
 * `attribute_not_exists(size) OR size <= :size`, so the size only rises
 * even when two runs race; it removes the failure attributes. recordFailure
 * sets only the failure attributes (and a 0 size on a new item), so it can
 * never move the size.
 */
import { type DynamoDBClient, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  type WitnessFailure,
  type WitnessState,
  WitnessStateError,
  type WitnessStateStore,
} from '../../ports/witness-state.ts';
import { DynamoTable, type Item, itemReader, N, S } from './dynamo-items.ts';

/** Partition prefix of witness state items; the IAM grants in cdk/ name the same prefix. */
export const WITNESS_PREFIX = 'W#';
const pk = (logId: string) => `${WITNESS_PREFIX}${logId}`;
const SK_PREFIX = 'WITNESS#';
const sk = (witness: string) => `${SK_PREFIX}${witness}`;

export class DynamoWitnessStateStore implements WitnessStateStore {
  readonly #t: DynamoTable;

  constructor(opts: { client: DynamoDBClient; tableName: string }) {
    this.#t = new DynamoTable({ client: opts.client, tableName: opts.tableName, errors: WitnessStateError });
  }

  #from(logId: string, item: Item): WitnessState {
    const r = itemReader(item, (what) =>
      this.#t.corrupt(`witness state of log ${logId} is malformed: ${what}`),
    );
    const witness = r.str('sk').slice(SK_PREFIX.length);
    const base = {
      logId,
      witness,
      size: r.count('size'),
      cosignedAt: r.count('cosignedAt', 0),
      updatedAt: r.count('updatedAt'),
    };
    if (item.errorCode?.S === undefined) return base;
    return {
      ...base,
      lastFailure: { code: r.str('errorCode'), message: item.errorMessage?.S ?? '', at: r.count('failedAt') },
    };
  }

  async get(logId: string, witness: string): Promise<WitnessState | undefined> {
    const item = await this.#t.get({ pk: S(pk(logId)), sk: S(sk(witness)) });
    return item ? this.#from(logId, item) : undefined;
  }

  async list(logId: string): Promise<WitnessState[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const out = await this.#t.send(() =>
        this.#t.client.send(
          new QueryCommand({
            TableName: this.#t.name,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
            ExpressionAttributeValues: { ':pk': S(pk(logId)), ':p': S(SK_PREFIX) },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items.map((i) => this.#from(logId, i));
  }

  recordCosigned(s: {
    logId: string;
    witness: string;
    size: number;
    cosignedAt: number;
    updatedAt: number;
  }): Promise<boolean> {
    // A refused condition means a larger size is stored: keep it.
    return this.#t.ifCondition(() =>
      this.#t.client.send(
        new UpdateItemCommand({
          TableName: this.#t.name,
          Key: { pk: S(pk(s.logId)), sk: S(sk(s.witness)) },
          ConditionExpression: 'attribute_not_exists(#sz) OR #sz <= :sz',
          UpdateExpression:
            'SET #sz = :sz, cosignedAt = :ca, updatedAt = :t REMOVE errorCode, errorMessage, failedAt',
          ExpressionAttributeNames: { '#sz': 'size' },
          ExpressionAttributeValues: { ':sz': N(s.size), ':ca': N(s.cosignedAt), ':t': N(s.updatedAt) },
        }),
      ),
    );
  }

  async recordFailure(logId: string, witness: string, failure: WitnessFailure): Promise<void> {
    await this.#t.send(() =>
      this.#t.client.send(
        new UpdateItemCommand({
          TableName: this.#t.name,
          Key: { pk: S(pk(logId)), sk: S(sk(witness)) },
          UpdateExpression:
            'SET #sz = if_not_exists(#sz, :zero), updatedAt = :t, errorCode = :ec, errorMessage = :em, failedAt = :t',
          ExpressionAttributeNames: { '#sz': 'size' },
          ExpressionAttributeValues: {
            ':zero': N(0),
            ':t': N(failure.at),
            ':ec': S(failure.code),
            ':em': S(failure.message.slice(0, 2000)),
          },
        }),
      ),
    );
  }
}
