/**
 * DynamoDB plumbing shared by every adapter on the single table (./table.ts):
 * attribute builders, item readers, error classification, consistent reads,
 * batch reads and writes that retry what DynamoDB did not process, and
 * conditional writes. The low-level client keeps binary attributes binary.
 *
 * Each adapter owns its port's error class (src/ports/*) and hands it to
 * DynamoTable, so what leaves an adapter is always that port's error:
 *  - THROTTLED: DynamoDB pushed back (nothing written), or kept returning
 *    unprocessed keys/items after UNPROCESSED_RETRIES retries;
 *  - UNAVAILABLE: 5xx, timeouts, network errors (a write MAY have happened);
 *  - INTEGRITY: an item this adapter wrote does not read back (the readers).
 * ConditionalCheckFailedException is not a failure here: the caller asked a
 * question, and `ifCondition` turns the answer into a boolean. Anything else
 * (access denied, a missing table, a malformed request) is a deployment
 * error or a bug and propagates unchanged: no retry can help, and use cases
 * report it as INTERNAL (src/app/port-errors.ts).
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { Backoff, type BackoffPolicy, type Sleep, type Uniform } from '../../core/backoff.ts';
import { systemSleep } from '../../ports/clock.ts';

export type Item = Record<string, AttributeValue>;

export const S = (s: string): AttributeValue => ({ S: s });
export const N = (n: number): AttributeValue => ({ N: String(n) });
export const B = (b: Uint8Array): AttributeValue => ({ B: b });

/** The codes every DynamoDB-backed port's error union has. */
export type DynamoFailureCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';

/** A port's error class (LogStoreError, SealStateError, …): constructed like AnchorlogError. */
export type PortErrorClass = new (
  code: DynamoFailureCode,
  message: string,
  options?: { cause?: unknown },
) => Error;

const THROTTLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'LimitExceededException',
]);
const TIMEOUT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'AbortError']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * THROTTLED (nothing written; back off), UNAVAILABLE (transient; a write may
 * have happened), or undefined: not a transient failure (see the header).
 */
export function classifyDynamoError(
  err: unknown,
): { code: 'THROTTLED' | 'UNAVAILABLE'; message: string } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? '';
  if (THROTTLE_NAMES.has(name)) return { code: 'THROTTLED', message: `DynamoDB: ${name}` };
  const status = e.$metadata?.httpStatusCode;
  if (
    (status !== undefined && status >= 500) ||
    name === 'InternalServerError' ||
    name === 'ServiceUnavailable'
  )
    return { code: 'UNAVAILABLE', message: `DynamoDB: ${name || status}` };
  if (TIMEOUT_NAMES.has(name) || (e.code !== undefined && NETWORK_CODES.has(e.code)))
    return { code: 'UNAVAILABLE', message: `DynamoDB: ${name || e.code}` };
  return undefined;
}

/** BatchGetItem takes at most 100 keys, BatchWriteItem 25 puts. */
export const BATCH_GET_MAX = 100;
export const BATCH_WRITE_MAX = 25;
/** Batch writes in flight at once per batchPut call. */
const WRITE_CONCURRENCY = 4;
/**
 * Re-sends of UnprocessedKeys/Items before giving up with THROTTLED: eight
 * rounds in all, the last waiting up to a second.
 */
export const UNPROCESSED_RETRIES: BackoffPolicy = { baseMs: 20, capMs: 1_000, maxRetries: 7 };

type Projection = { ProjectionExpression: string; ExpressionAttributeNames?: Record<string, string> };

export interface DynamoTableOptions {
  client: DynamoDBClient;
  tableName: string;
  /** The port's error class: what every transient failure and malformed item becomes. */
  errors: PortErrorClass;
  /** Pause between unprocessed rounds; injected so tests need not wait. */
  sleep?: Sleep;
  /** Jitter source, uniform in [0, 1). */
  random?: Uniform;
}

/** One adapter's view of the table. */
export class DynamoTable {
  readonly client: DynamoDBClient;
  readonly name: string;
  readonly #errors: PortErrorClass;
  readonly #sleep: Sleep;
  readonly #random: Uniform;

  constructor(opts: DynamoTableOptions) {
    this.client = opts.client;
    this.name = opts.tableName;
    this.#errors = opts.errors;
    this.#sleep = opts.sleep ?? systemSleep;
    this.#random = opts.random ?? Math.random;
  }

  /** The port's INTEGRITY error: an item does not read back as this adapter writes it. */
  corrupt(message: string): Error {
    return new this.#errors('INTEGRITY', message);
  }

  /**
   * Runs one call, turning transient failures into the port's error and
   * passing ConditionalCheckFailedException (an answer, not a failure) and
   * everything unclassified through unchanged.
   */
  async send<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw err;
      const c = classifyDynamoError(err);
      if (c) throw new this.#errors(c.code, c.message, { cause: err });
      throw err;
    }
  }

  /**
   * A conditional write: true when it happened, false when its condition did
   * not hold (nothing written). The condition is the caller's question.
   */
  async ifCondition(fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await this.send(fn);
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  /** Consistent GetItem. */
  async get(key: Item, projection?: Projection): Promise<Item | undefined> {
    const out = await this.send(() =>
      this.client.send(
        new GetItemCommand({ TableName: this.name, Key: key, ConsistentRead: true, ...projection }),
      ),
    );
    return out.Item;
  }

  /**
   * Consistent BatchGetItem over any number of keys, re-sending
   * UnprocessedKeys with backoff. Items come back in no particular order.
   */
  async batchGet(keys: readonly Item[], projection?: Projection): Promise<Item[]> {
    const found: Item[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
      let pending: Item[] = keys.slice(i, i + BATCH_GET_MAX);
      const backoff = this.#backoff();
      while (pending.length > 0) {
        const req = pending;
        const out = await this.send(() =>
          this.client.send(
            new BatchGetItemCommand({
              RequestItems: { [this.name]: { Keys: req, ConsistentRead: true, ...projection } },
            }),
          ),
        );
        found.push(...(out.Responses?.[this.name] ?? []));
        pending = out.UnprocessedKeys?.[this.name]?.Keys ?? [];
        if (pending.length > 0 && !(await backoff.wait()))
          throw new this.#errors('THROTTLED', 'BatchGetItem kept returning UnprocessedKeys');
      }
    }
    return found;
  }

  /**
   * Puts any number of items with BatchWriteItem (a few requests in flight),
   * re-sending UnprocessedItems with backoff. Puts are idempotent (same key →
   * same item), so a re-sent item is harmless.
   */
  async batchPut(items: readonly Item[]): Promise<void> {
    await this.#batchWriteAll(items.map((Item) => ({ PutRequest: { Item } })));
  }

  /** Deletes any number of items by key with BatchWriteItem, like batchPut (a delete is idempotent too). */
  async batchDelete(keys: readonly Item[]): Promise<void> {
    await this.#batchWriteAll(keys.map((Key) => ({ DeleteRequest: { Key } })));
  }

  async #batchWriteAll(requests: readonly WriteRequest[]): Promise<void> {
    const chunks: WriteRequest[][] = [];
    for (let i = 0; i < requests.length; i += BATCH_WRITE_MAX)
      chunks.push(requests.slice(i, i + BATCH_WRITE_MAX));
    for (let i = 0; i < chunks.length; i += WRITE_CONCURRENCY)
      await Promise.all(chunks.slice(i, i + WRITE_CONCURRENCY).map((c) => this.#batchWrite(c)));
  }

  async #batchWrite(requests: WriteRequest[]): Promise<void> {
    let pending = requests;
    const backoff = this.#backoff();
    while (pending.length > 0) {
      const req = pending;
      const out = await this.send(() =>
        this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.name]: req } })),
      );
      pending = (out.UnprocessedItems?.[this.name] ?? []).flatMap((r): WriteRequest[] =>
        r.PutRequest?.Item
          ? [{ PutRequest: { Item: r.PutRequest.Item } }]
          : r.DeleteRequest?.Key
            ? [{ DeleteRequest: { Key: r.DeleteRequest.Key } }]
            : [],
      );
      if (pending.length > 0 && !(await backoff.wait()))
        throw new this.#errors('THROTTLED', 'BatchWriteItem kept returning UnprocessedItems');
    }
  }

  #backoff(): Backoff {
    return new Backoff(UNPROCESSED_RETRIES, this.#sleep, this.#random);
  }
}

/**
 * Typed reads of one item's attributes. A missing or ill-typed attribute is
 * `corrupt(what)`, the port's INTEGRITY error with the adapter's context.
 */
export function itemReader(item: Item, corrupt: (what: string) => Error) {
  return {
    str(k: string): string {
      const v = item[k]?.S;
      if (v === undefined) throw corrupt(`${k} is missing`);
      return v;
    },
    /** A safe integer. */
    int(k: string): number {
      const v = item[k]?.N;
      const n = v === undefined ? Number.NaN : Number(v);
      if (!Number.isSafeInteger(n)) throw corrupt(`${k} is not an integer`);
      return n;
    },
    /** A non-negative safe integer; `dflt` when the attribute is absent. */
    count(k: string, dflt?: number): number {
      const v = item[k]?.N;
      if (v === undefined && dflt !== undefined) return dflt;
      const n = v === undefined ? Number.NaN : Number(v);
      if (!Number.isSafeInteger(n) || n < 0) throw corrupt(`${k} is not a count`);
      return n;
    },
    /** Binary; `dflt` when the attribute is absent. */
    bin(k: string, dflt?: Uint8Array): Uint8Array {
      const v = item[k]?.B;
      if (v !== undefined) return v;
      if (dflt !== undefined) return dflt;
      throw corrupt(`${k} is missing`);
    },
  };
}
