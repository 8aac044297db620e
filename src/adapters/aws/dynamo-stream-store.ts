/**
 * StreamStore on the single DynamoDB table (key schema in ./table.ts;
 * docs/streams.md). Written by the stream function only (IAM `SC#*` and `SDL`):
 *
 *   pk=SC#<stream> sk=CURSOR    j S (StreamCursor JSON), ver N
 *   pk=SDL         sk=<id>      j S (StreamDeadLetter JSON), st S (state)
 *
 * The cursor is one item per stream, written only by compare-and-swap on
 * `ver`: of two runners that read the same version, exactly one advances it
 * (the other's conditional put fails and it stops). Dead letters share one
 * partition so an operator lists them in one Query; they are rare by
 * construction (a chunk that failed every attempt blocks its stream).
 */
import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import {
  type StoredCursor,
  type StreamCursor,
  type StreamDeadLetter,
  type StreamStore,
  StreamStoreError,
} from '../../ports/stream-store.ts';
import { DynamoTable, type Item, itemReader, N, S } from './dynamo-items.ts';

/** Partition prefixes of stream state; the IAM grants in cdk/ name the same. */
export const STREAM_CURSOR_PREFIX = 'SC#';
export const STREAM_DEAD_LETTER_PK = 'SDL';
const CURSOR_SK = 'CURSOR';

export interface DynamoStreamStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

export class DynamoStreamStore implements StreamStore {
  readonly #t: DynamoTable;

  constructor(opts: DynamoStreamStoreOptions) {
    this.#t = new DynamoTable({ client: opts.client, tableName: opts.tableName, errors: StreamStoreError });
  }

  #json<T>(text: string, what: string): T {
    try {
      return JSON.parse(text) as T;
    } catch {
      throw this.#t.corrupt(`${what} is not JSON`);
    }
  }

  async readCursor(stream: string): Promise<StoredCursor | undefined> {
    const item = await this.#t.get({ pk: S(`${STREAM_CURSOR_PREFIX}${stream}`), sk: S(CURSOR_SK) });
    if (!item) return undefined;
    const r = itemReader(item, (what) => this.#t.corrupt(`cursor of stream ${stream}: ${what}`));
    const cursor = this.#json<StreamCursor>(r.str('j'), `cursor of stream ${stream}`);
    if (
      cursor.v !== 1 ||
      cursor.stream !== stream ||
      !Number.isSafeInteger(cursor.nextIndex) ||
      cursor.nextIndex < 0
    )
      throw this.#t.corrupt(`cursor of stream ${stream} does not match its key`);
    return { cursor, version: r.count('ver') };
  }

  async writeCursor(cursor: StreamCursor, expectedVersion: number): Promise<boolean> {
    return this.#t.ifCondition(() =>
      this.#t.client.send(
        new PutItemCommand({
          TableName: this.#t.name,
          Item: {
            pk: S(`${STREAM_CURSOR_PREFIX}${cursor.stream}`),
            sk: S(CURSOR_SK),
            j: S(JSON.stringify(cursor)),
            ver: N(expectedVersion + 1),
          },
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'ver = :v', ExpressionAttributeValues: { ':v': N(expectedVersion) } }),
        }),
      ),
    );
  }

  async putDeadLetter(letter: StreamDeadLetter): Promise<void> {
    await this.#t.send(() =>
      this.#t.client.send(
        new PutItemCommand({
          TableName: this.#t.name,
          Item: {
            pk: S(STREAM_DEAD_LETTER_PK),
            sk: S(letter.id),
            j: S(JSON.stringify(letter)),
            st: S(letter.state),
          },
        }),
      ),
    );
  }

  #letter(item: Item): StreamDeadLetter {
    const r = itemReader(item, (what) => this.#t.corrupt(`stream dead letter: ${what}`));
    const l = this.#json<StreamDeadLetter>(r.str('j'), 'stream dead letter');
    if (l.v !== 1 || l.id !== r.str('sk') || l.state !== r.str('st'))
      throw this.#t.corrupt(`stream dead letter ${r.str('sk')} does not match its key or attributes`);
    return l;
  }

  async readDeadLetter(id: string): Promise<StreamDeadLetter | undefined> {
    const item = await this.#t.get({ pk: S(STREAM_DEAD_LETTER_PK), sk: S(id) });
    return item ? this.#letter(item) : undefined;
  }

  async listDeadLetters(
    opts: { stream?: string; state?: StreamDeadLetter['state'] } = {},
  ): Promise<StreamDeadLetter[]> {
    const out: StreamDeadLetter[] = [];
    let start: Item | undefined;
    do {
      const page = await this.#t.send(() =>
        this.#t.client.send(
          new QueryCommand({
            TableName: this.#t.name,
            KeyConditionExpression: opts.stream !== undefined ? 'pk = :p AND begins_with(sk, :s)' : 'pk = :p',
            ExpressionAttributeValues: {
              ':p': S(STREAM_DEAD_LETTER_PK),
              ...(opts.stream !== undefined ? { ':s': S(`${opts.stream}/`) } : {}),
              ...(opts.state ? { ':st': S(opts.state) } : {}),
            },
            ...(opts.state ? { FilterExpression: 'st = :st' } : {}),
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) if (out.length < 100) out.push(this.#letter(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined && out.length < 100);
    return out;
  }
}
