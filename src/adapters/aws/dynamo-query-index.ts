/**
 * RETIRED (issue #17, docs/query.md §2): mounted by no function and not by the
 * local stack; kept only until it is deleted together with its tests.
 *
 * QueryIndexStore on the single table (key schema and GSIs in ./table.ts).
 * The SDK client is injected; nothing here reads the environment or the clock.
 *
 * Items this adapter owns, written by the project role only (IAM: `Q#*`;
 * the query role reads them and the four GSIs):
 *
 *   pk=Q#<logId>                 sk=QUERY_CURSOR   projector cursor {seq, nextIndex, lastReceivedAt?,
 *                                                  updatedAt, settledSeq, settledNextIndex,
 *                                                  settledLastReceivedAt?, hotWindowMs}
 *   pk=Q#<logId>#<yyyy-mm-dd>    sk=<receivedAt>#<index, 16 digits>
 *                                                  one per record: {i, at, sub, aid, act, rec, ttl,
 *                                                  qa, qs, qx1, qx2?}
 *
 * The day partition is the time index (consistent reads). The GSI hash keys
 * on the same item are the other indexes, all sorted by `sk`:
 *   qa  = Q#<logId>#QA#<actor.id>            (GSI query-actor)
 *   qs  = Q#<logId>#QS#<submitter>           (GSI query-submitter)
 *   qx1 = Q#<logId>#QX#<first action segment> (GSI query-action1)
 *   qx2 = Q#<logId>#QX#<first two segments>   (GSI query-action2; absent for one-segment actions)
 * A GSI attribute is only an attribute: any role that may write *some* item
 * could set `qa` on it and land in a GSI partition. So a GSI hit counts only
 * if its table key is this log's day partition, which IAM lets the project
 * role alone write (`#fromIndex`).
 * `ttl` (epoch seconds) lets DynamoDB TTL drop the item after the hot window.
 * logIds contain no '#', so a key's value part is unambiguous whatever it holds.
 *
 * Before issue #11 the cursor and the day items lived under `L#<logId>`, which
 * the ingest role may write. Nothing here reads them (there is no legacy
 * fallback on purpose: items there may have been planted by ingest, and a
 * legacy cursor is meaningless without them). After the upgrade the projector
 * finds no cursor and projects the hot window again; until it catches up,
 * queries stay complete because the query service scans the batches past the
 * cursor (docs/query.md). The old items expire by TTL.
 */
import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { Sleep } from '../../core/backoff.ts';
import {
  actionPrefixes,
  type IndexPage,
  type IndexQuery,
  type ProjectorCursor,
  QueryIndexError,
  type QueryIndexStore,
  type QueryItem,
  sortKey,
} from '../../ports/query-index.ts';
import { B, DynamoTable, type Item, itemReader, N, S } from './dynamo-items.ts';
import { QUERY_GSIS, TTL_ATTRIBUTE } from './table.ts';

const CURSOR_SK = 'QUERY_CURSOR';

/** Partition prefix of the query projection; the IAM grants in cdk/ name the same prefix. */
export const QUERY_PREFIX = 'Q#';
const cursorPk = (logId: string) => `${QUERY_PREFIX}${logId}`;
export const dayPk = (logId: string, day: string) => `${QUERY_PREFIX}${logId}#${day}`;
const actorPk = (logId: string, actorId: string) => `${QUERY_PREFIX}${logId}#QA#${actorId}`;
const submitterPk = (logId: string, submitter: string) => `${QUERY_PREFIX}${logId}#QS#${submitter}`;
const actionPk = (logId: string, prefix: string) => `${QUERY_PREFIX}${logId}#QX#${prefix}`;

const GSI = Object.fromEntries(QUERY_GSIS.map((g) => [g.partitionKey, g.indexName])) as Record<
  (typeof QUERY_GSIS)[number]['partitionKey'],
  string
>;

export interface DynamoQueryIndexOptions {
  client: DynamoDBClient;
  tableName: string;
  sleep?: Sleep;
}

/** The attributes of one of our items; a missing or ill-typed one is INTEGRITY. */
const read = (item: Item) =>
  itemReader(item, (what) => new QueryIndexError('INTEGRITY', `query item ${item.pk?.S}: ${what}`));

export class DynamoQueryIndex implements QueryIndexStore {
  readonly #t: DynamoTable;
  readonly #ddb: DynamoDBClient;
  readonly #table: string;

  constructor(opts: DynamoQueryIndexOptions) {
    this.#t = new DynamoTable({
      client: opts.client,
      tableName: opts.tableName,
      errors: QueryIndexError,
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
    });
    this.#ddb = opts.client;
    this.#table = opts.tableName;
  }

  async readCursor(logId: string): Promise<ProjectorCursor | undefined> {
    const item = await this.#t.get({ pk: S(cursorPk(logId)), sk: S(CURSOR_SK) });
    if (!item) return undefined;
    const r = read(item);
    return {
      logId,
      seq: r.int('seq'),
      nextIndex: r.int('nextIndex'),
      lastReceivedAt: item.lastReceivedAt?.S,
      updatedAt: r.int('updatedAt'),
      settled: {
        seq: r.int('settledSeq'),
        nextIndex: r.int('settledNextIndex'),
        lastReceivedAt: item.settledLastReceivedAt?.S,
      },
      hotWindowMs: r.int('hotWindowMs'),
    };
  }

  async advanceCursor(next: ProjectorCursor, expectedSeq: number): Promise<boolean> {
    const item: Item = {
      pk: S(cursorPk(next.logId)),
      sk: S(CURSOR_SK),
      seq: N(next.seq),
      nextIndex: N(next.nextIndex),
      updatedAt: N(next.updatedAt),
      settledSeq: N(next.settled.seq),
      settledNextIndex: N(next.settled.nextIndex),
      hotWindowMs: N(next.hotWindowMs),
    };
    if (next.lastReceivedAt !== undefined) item.lastReceivedAt = S(next.lastReceivedAt);
    if (next.settled.lastReceivedAt !== undefined)
      item.settledLastReceivedAt = S(next.settled.lastReceivedAt);
    return this.#t.ifCondition(() =>
      this.#ddb.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: item,
          ...(expectedSeq === 0
            ? {
                ConditionExpression: 'attribute_not_exists(pk) OR seq = :z',
                ExpressionAttributeValues: { ':z': N(0) },
              }
            : { ConditionExpression: 'seq = :s', ExpressionAttributeValues: { ':s': N(expectedSeq) } }),
        }),
      ),
    );
  }

  putItems(logId: string, items: readonly QueryItem[]): Promise<void> {
    return this.#t.batchPut(items.map((q) => toItem(logId, q)));
  }

  async query(q: IndexQuery): Promise<IndexPage> {
    const names: Record<string, string> = { '#k': 'pk', '#sk': 'sk' };
    const values: Item = { ':lo': S(q.lo), ':hi': S(q.hi) };
    let indexName: string | undefined;
    switch (q.key.kind) {
      case 'time':
        values[':p'] = S(dayPk(q.logId, q.key.day));
        break;
      case 'actor':
        indexName = GSI.qa;
        names['#k'] = 'qa';
        values[':p'] = S(actorPk(q.logId, q.key.actorId));
        break;
      case 'submitter':
        indexName = GSI.qs;
        names['#k'] = 'qs';
        values[':p'] = S(submitterPk(q.logId, q.key.submitter));
        break;
      case 'action':
        indexName = q.key.depth === 1 ? GSI.qx1 : GSI.qx2;
        names['#k'] = q.key.depth === 1 ? 'qx1' : 'qx2';
        values[':p'] = S(actionPk(q.logId, q.key.prefix));
        break;
    }
    const filters: string[] = [];
    if (q.filter.actorId !== undefined) {
      filters.push('aid = :fa');
      values[':fa'] = S(q.filter.actorId);
    }
    if (q.filter.submitter !== undefined) {
      filters.push('#sub = :fs');
      names['#sub'] = 'sub';
      values[':fs'] = S(q.filter.submitter);
    }
    if (q.filter.actionPrefix !== undefined) {
      filters.push('(act = :fx OR begins_with(act, :fxd))');
      values[':fx'] = S(q.filter.actionPrefix);
      values[':fxd'] = S(`${q.filter.actionPrefix}.`);
    }
    const out = await this.#t.send(() =>
      this.#ddb.send(
        new QueryCommand({
          TableName: this.#table,
          ...(indexName ? { IndexName: indexName } : { ConsistentRead: true }),
          KeyConditionExpression: '#k = :p AND #sk BETWEEN :lo AND :hi',
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          Limit: q.limit,
        }),
      ),
    );
    const items = (out.Items ?? []).filter((item) => inDayPartition(q.logId, item)).map(fromItem);
    const lastKey = out.LastEvaluatedKey?.sk?.S;
    return { items, lastKey };
  }
}

function toItem(logId: string, q: QueryItem): Item {
  const item: Item = {
    pk: S(dayPk(logId, q.receivedAt.slice(0, 10))),
    sk: S(sortKey(q.receivedAt, q.index)),
    i: N(q.index),
    at: S(q.receivedAt),
    sub: S(q.submitter),
    aid: S(q.actorId),
    act: S(q.action),
    rec: B(q.bytes),
    [TTL_ATTRIBUTE]: N(q.expiresAtSec),
    qa: S(actorPk(logId, q.actorId)),
    qs: S(submitterPk(logId, q.submitter)),
    qx1: S(actionPk(logId, actionPrefixes(q.action)[0] as string)),
  };
  const two = actionPrefixes(q.action)[1];
  if (two !== undefined) item.qx2 = S(actionPk(logId, two));
  return item;
}

/** True iff the item's table key is `logId`'s day partition of its own receivedAt (see the header). */
function inDayPartition(logId: string, item: Item): boolean {
  const at = item.at?.S;
  return at !== undefined && item.pk?.S === dayPk(logId, at.slice(0, 10));
}

function fromItem(item: Item): QueryItem {
  const r = read(item);
  return {
    index: r.int('i'),
    receivedAt: r.str('at'),
    submitter: r.str('sub'),
    actorId: r.str('aid'),
    action: r.str('act'),
    bytes: r.bin('rec'),
    expiresAtSec: r.int(TTL_ATTRIBUTE),
  };
}
