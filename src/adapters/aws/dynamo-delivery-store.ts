/**
 * DeliveryStore on the single DynamoDB table (key schema in ./table.ts;
 * docs/detection.md "Delivery"). Written by the deliver role only (IAM
 * `N#*` and `NDL`):
 *
 *   pk=N#<logId> sk=LEASE          o S (owner), u N (until, epoch ms), ttl N
 *   pk=N#<logId> sk=P#<entry id>   j S (EntryProgress JSON), ver N, ttl N? (terminal
 *                                  progress only: its expiry, epoch seconds)
 *   pk=NDL       sk=<letter id>    j S (DeadLetter JSON), st S (state), rd N (re-drives)
 *
 * Dead letters share one partition so an operator lists them in one Query;
 * they are rare by construction (an alert that failed every attempt), far
 * below a partition's write rate. Every write is a conditional put or update
 * (compare-and-swap on `ver`, `rd` or the lease owner); the store deletes
 * nothing itself (TTL does).
 */
import {
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DeadLetter, EntryProgress } from '../../core/deliver/progress.ts';
import {
  DEAD_LETTER_PAGE_MAX,
  type DeadLetterPage,
  type DeliveryStore,
  DeliveryStoreError,
  type StoredProgress,
} from '../../ports/delivery-store.ts';
import { DynamoTable, type Item, itemReader, N, S } from './dynamo-items.ts';
import { TTL_ATTRIBUTE } from './table.ts';

/** Partition prefixes of delivery state; the IAM grants in cdk/ name the same. */
export const DELIVERY_PREFIX = 'N#';
export const DEAD_LETTER_PK = 'NDL';
const LEASE_SK = 'LEASE';
/** A lease item lingers this long after it ends (TTL), for whoever looks. */
const LEASE_TTL_MS = 86_400_000;

const pk = (logId: string) => S(`${DELIVERY_PREFIX}${logId}`);
const progressSk = (entryId: string) => S(`P#${entryId}`);

export interface DynamoDeliveryStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

export class DynamoDeliveryStore implements DeliveryStore {
  readonly #t: DynamoTable;

  constructor(opts: DynamoDeliveryStoreOptions) {
    this.#t = new DynamoTable({ client: opts.client, tableName: opts.tableName, errors: DeliveryStoreError });
  }

  async acquireLease(logId: string, owner: string, untilMs: number, nowMs: number): Promise<boolean> {
    return this.#t.ifCondition(() =>
      this.#t.client.send(
        new PutItemCommand({
          TableName: this.#t.name,
          Item: {
            pk: pk(logId),
            sk: S(LEASE_SK),
            o: S(owner),
            u: N(untilMs),
            [TTL_ATTRIBUTE]: N(Math.ceil((untilMs + LEASE_TTL_MS) / 1000)),
          },
          ConditionExpression: 'attribute_not_exists(pk) OR o = :o OR u <= :now',
          ExpressionAttributeValues: { ':o': S(owner), ':now': N(nowMs) },
        }),
      ),
    );
  }

  async releaseLease(logId: string, owner: string): Promise<void> {
    await this.#t.ifCondition(() =>
      this.#t.client.send(
        new UpdateItemCommand({
          TableName: this.#t.name,
          Key: { pk: pk(logId), sk: S(LEASE_SK) },
          UpdateExpression: 'SET u = :zero',
          ConditionExpression: 'o = :o',
          ExpressionAttributeValues: { ':o': S(owner), ':zero': N(0) },
        }),
      ),
    );
  }

  async readProgress(logId: string, entryIds: readonly string[]): Promise<Map<string, StoredProgress>> {
    const ids = [...new Set(entryIds)];
    const items = await this.#t.batchGet(ids.map((id) => ({ pk: pk(logId), sk: progressSk(id) })));
    const out = new Map<string, StoredProgress>();
    for (const item of items) {
      const r = itemReader(item, (what) => this.#t.corrupt(`delivery progress of log ${logId}: ${what}`));
      const progress = this.#json<EntryProgress>(r.str('j'), `delivery progress of log ${logId}`);
      if (progress.v !== 1 || `P#${progress.entryId}` !== r.str('sk'))
        throw this.#t.corrupt(`delivery progress ${r.str('sk')} of log ${logId} does not match its key`);
      out.set(progress.entryId, { progress, version: r.count('ver') });
    }
    return out;
  }

  async writeProgress(
    logId: string,
    progress: EntryProgress,
    expectedVersion: number,
    expiresAtMs?: number,
  ): Promise<boolean> {
    return this.#t.ifCondition(() =>
      this.#t.client.send(
        new PutItemCommand({
          TableName: this.#t.name,
          Item: {
            pk: pk(logId),
            sk: progressSk(progress.entryId),
            j: S(JSON.stringify(progress)),
            ver: N(expectedVersion + 1),
            ...(expiresAtMs !== undefined ? { [TTL_ATTRIBUTE]: N(Math.ceil(expiresAtMs / 1000)) } : {}),
          },
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'ver = :v', ExpressionAttributeValues: { ':v': N(expectedVersion) } }),
        }),
      ),
    );
  }

  #letterItem(l: DeadLetter): Item {
    return { pk: S(DEAD_LETTER_PK), sk: S(l.id), j: S(JSON.stringify(l)), st: S(l.state), rd: N(l.redrives) };
  }

  async putDeadLetter(letter: DeadLetter): Promise<void> {
    await this.#t.ifCondition(() =>
      this.#t.client.send(
        new PutItemCommand({
          TableName: this.#t.name,
          Item: this.#letterItem(letter),
          ConditionExpression: 'attribute_not_exists(pk) OR st = :open',
          ExpressionAttributeValues: { ':open': S('open') },
        }),
      ),
    );
  }

  #letter(item: Item): DeadLetter {
    const r = itemReader(item, (what) => this.#t.corrupt(`dead letter: ${what}`));
    const l = this.#json<DeadLetter>(r.str('j'), 'dead letter');
    if (l.v !== 1 || l.id !== r.str('sk') || l.state !== r.str('st') || l.redrives !== r.count('rd'))
      throw this.#t.corrupt(`dead letter ${r.str('sk')} does not match its key or attributes`);
    return l;
  }

  async readDeadLetter(id: string): Promise<DeadLetter | undefined> {
    const item = await this.#t.get({ pk: S(DEAD_LETTER_PK), sk: S(id) });
    return item ? this.#letter(item) : undefined;
  }

  async listDeadLetters(
    opts: { state?: DeadLetter['state']; after?: string; limit?: number } = {},
  ): Promise<DeadLetterPage> {
    const limit = Math.min(Math.max(1, opts.limit ?? DEAD_LETTER_PAGE_MAX), DEAD_LETTER_PAGE_MAX);
    const items: DeadLetter[] = [];
    let start: Item | undefined =
      opts.after !== undefined ? { pk: S(DEAD_LETTER_PK), sk: S(opts.after) } : undefined;
    let more = false;
    do {
      const page = await this.#t.send(() =>
        this.#t.client.send(
          new QueryCommand({
            TableName: this.#t.name,
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: {
              ':p': S(DEAD_LETTER_PK),
              ...(opts.state ? { ':st': S(opts.state) } : {}),
            },
            ...(opts.state ? { FilterExpression: 'st = :st' } : {}),
            ConsistentRead: true,
            Limit: limit + 1 - items.length,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        if (items.length === limit) {
          more = true;
          break;
        }
        items.push(this.#letter(item));
      }
      start = page.LastEvaluatedKey;
    } while (!more && start !== undefined);
    const last = items.at(-1);
    return more && last ? { items, next: last.id } : { items };
  }

  async updateDeadLetter(letter: DeadLetter, expectedRedrives: number): Promise<boolean> {
    return this.#t.ifCondition(() =>
      this.#t.client.send(
        new PutItemCommand({
          TableName: this.#t.name,
          Item: this.#letterItem(letter),
          ConditionExpression: 'rd = :rd',
          ExpressionAttributeValues: { ':rd': N(expectedRedrives) },
        }),
      ),
    );
  }

  #json<T>(text: string, what: string): T {
    try {
      return JSON.parse(text) as T;
    } catch {
      throw this.#t.corrupt(`${what} is not JSON`);
    }
  }
}
