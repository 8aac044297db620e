/**
 * SealStateStore on the single DynamoDB table (key schema in ./table.ts).
 *
 * Item owned here:
 *   pk=L#<logId>  sk=SEAL   version N, size N, rootHash B, rightEdge B, seq N,
 *                           lastLeafHash B, lastReceivedAt S?, checkpoint S,
 *                           publishedVersion N, sealedAt N, halted S?, haltedAt N?
 *
 * It sits in the log's metadata partition next to META and HEAD (written by
 * the log store), and is written at most twice per seal run (CAS, then the
 * publish marker) — far below a partition's 1,000 WCU/s.
 *
 * The CAS is a conditional PutItem on `version` (sunlight's LockBackend
 * "compare-and-swap"); `attribute_not_exists(halted)` in the same condition
 * means a halt can never be overwritten by a racing seal.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { AppError } from '../../app/errors.ts';
import { initialSealState, type SealState, type SealStateStore } from '../../ports/seal-state.ts';

type Item = Record<string, AttributeValue>;

export const SEAL_SK = 'SEAL';
const pk = (logId: string) => `L#${logId}`;
const key = (logId: string): Item => ({ pk: { S: pk(logId) }, sk: { S: SEAL_SK } });

function corrupt(logId: string, what: string): AppError {
  return new AppError('INTEGRITY', `seal state of log ${logId} is malformed: ${what}`);
}

function num(logId: string, item: Item, k: string, dflt?: number): number {
  const v = item[k]?.N;
  if (v === undefined && dflt !== undefined) return dflt;
  const n = Number(v);
  if (v === undefined || !Number.isSafeInteger(n) || n < 0) throw corrupt(logId, `${k} is not a count`);
  return n;
}

function bin(logId: string, item: Item, k: string, dflt?: Uint8Array): Uint8Array {
  const v = item[k]?.B;
  if (v === undefined) {
    if (dflt !== undefined) return dflt;
    throw corrupt(logId, `${k} is missing`);
  }
  return v;
}

function fromItem(logId: string, item: Item): SealState {
  const version = num(logId, item, 'version', 0);
  const halted = item.halted?.S;
  if (version === 0) {
    // Only a halt marker (sealing stopped before anything was ever sealed).
    return initialSealState(logId, halted);
  }
  const checkpoint = item.checkpoint?.S;
  if (checkpoint === undefined) throw corrupt(logId, 'checkpoint is missing');
  return {
    logId,
    version,
    size: num(logId, item, 'size'),
    rootHash: bin(logId, item, 'rootHash'),
    rightEdge: bin(logId, item, 'rightEdge'),
    seq: num(logId, item, 'seq'),
    lastLeafHash: bin(logId, item, 'lastLeafHash'),
    lastReceivedAt: item.lastReceivedAt?.S,
    checkpoint,
    publishedVersion: num(logId, item, 'publishedVersion', 0),
    sealedAt: num(logId, item, 'sealedAt', 0),
    halted,
  };
}

export class DynamoSealStateStore implements SealStateStore {
  readonly #ddb: DynamoDBClient;
  readonly #table: string;

  constructor(opts: { client: DynamoDBClient; tableName: string }) {
    this.#ddb = opts.client;
    this.#table = opts.tableName;
  }

  async read(logId: string): Promise<SealState | undefined> {
    const out = await this.#ddb.send(
      new GetItemCommand({ TableName: this.#table, Key: key(logId), ConsistentRead: true }),
    );
    return out.Item ? fromItem(logId, out.Item) : undefined;
  }

  async compareAndSwap(next: SealState, expectedVersion: number): Promise<boolean> {
    if (next.version !== expectedVersion + 1)
      throw new TypeError('compareAndSwap: version must advance by one');
    if (next.checkpoint === undefined) throw new TypeError('compareAndSwap: a sealed state has a checkpoint');
    const item: Item = {
      ...key(next.logId),
      version: { N: String(next.version) },
      size: { N: String(next.size) },
      rootHash: { B: next.rootHash },
      rightEdge: { B: next.rightEdge },
      seq: { N: String(next.seq) },
      lastLeafHash: { B: next.lastLeafHash },
      checkpoint: { S: next.checkpoint },
      publishedVersion: { N: String(next.publishedVersion) },
      sealedAt: { N: String(next.sealedAt) },
      ...(next.lastReceivedAt !== undefined ? { lastReceivedAt: { S: next.lastReceivedAt } } : {}),
    };
    try {
      await this.#ddb.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: item,
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: 'version = :v AND attribute_not_exists(halted)',
                ExpressionAttributeValues: { ':v': { N: String(expectedVersion) } },
              }),
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async markPublished(logId: string, version: number): Promise<boolean> {
    try {
      await this.#ddb.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: key(logId),
          UpdateExpression: 'SET publishedVersion = :v',
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':v': { N: String(version) } },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async halt(logId: string, reason: string, atMs: number): Promise<void> {
    await this.#ddb.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: key(logId),
        UpdateExpression: 'SET halted = if_not_exists(halted, :r), haltedAt = if_not_exists(haltedAt, :t)',
        ExpressionAttributeValues: { ':r': { S: reason.slice(0, 1000) }, ':t': { N: String(atMs) } },
      }),
    );
  }
}
