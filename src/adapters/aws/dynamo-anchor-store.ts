/**
 * AnchorStore on the single DynamoDB table (key schema in ./table.ts).
 *
 * Items owned here, written by the anchor role only (IAM: `A#*`; the read
 * and export roles read them):
 *   pk=A#<logId>  sk=ANCHOR#<size, 20 digits>            summary: checkpoint S, quorum N,
 *                                                        tsaCount N, granted N, quorumMet BOOL, updatedAt N
 *   pk=A#<logId>  sk=ANCHOR#<size, 20 digits>#TSA#<name> per TSA: status S (granted|failed),
 *                                                        attempts N, updatedAt N, and either
 *                                                        genTime, serialNumber, policy, signerSubject S,
 *                                                        token B, chainPem S, responseKey S, chainKey S
 *                                                        or errorCode S, errorMessage S
 *   pk=A#<logId>  sk=ANCHORED                            size N: newest size with a granted token
 *
 * Legacy (before issue #11), read-only: the same items under pk=L#<logId>,
 * a partition the ingest role may write. `read` falls back to them per size
 * when `A#<logId>` holds nothing for that size, `newestAnchoredSize` when it
 * has no pointer; what comes from there is marked `legacy`, and the anchor
 * job never trusts it (it re-adopts the token from the archive). Nothing here
 * writes `L#`.
 *
 * Zero-padded sizes sort numerically, so one Query on the prefix
 * `ANCHOR#<size>` returns a checkpoint's summary and all its TSA items.
 * A granted item is never overwritten by putGranted/putFailed (they carry
 * `attribute_not_exists(status) OR status <> granted`); only replaceGranted
 * replaces one, conditional on the exact token it found not backed by the
 * archive.
 * Write volume: a few items per checkpoint per run, far below a partition's limits.
 */
import {
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type AnchorStore,
  AnchorStoreError,
  type AnchorSummary,
  type AnchorsAtSize,
  type TsaAnchorRecord,
} from '../../ports/anchor-store.ts';
import { B, DynamoTable, type Item, itemReader, N, S } from './dynamo-items.ts';

/** Partition prefix of anchor items; the IAM grants in cdk/ name the same prefix. */
export const ANCHOR_PREFIX = 'A#';
const pk = (logId: string) => `${ANCHOR_PREFIX}${logId}`;
const legacyPk = (logId: string) => `L#${logId}`;
/** Sort key of a checkpoint's summary; its TSA items extend it (`…#TSA#<name>`). */
export const sizeSk = (size: number) => `ANCHOR#${String(size).padStart(20, '0')}`;
const tsaSk = (size: number, tsa: string) => `${sizeSk(size)}#TSA#${tsa}`;
const POINTER_SK = 'ANCHORED';

function corrupt(logId: string, what: string): AnchorStoreError {
  return new AnchorStoreError('INTEGRITY', `anchor state of log ${logId} is malformed: ${what}`);
}

const read = (logId: string, item: Item) => itemReader(item, (what) => corrupt(logId, what));

function summaryFrom(logId: string, size: number, item: Item): AnchorSummary {
  const r = read(logId, item);
  return {
    logId,
    size,
    checkpoint: r.str('checkpoint'),
    quorum: r.count('quorum'),
    tsaCount: r.count('tsaCount'),
    granted: r.count('granted'),
    quorumMet: item.quorumMet?.BOOL === true,
    updatedAt: r.count('updatedAt'),
  };
}

function tsaFrom(logId: string, size: number, item: Item): TsaAnchorRecord {
  const r = read(logId, item);
  const status = r.str('status');
  const base = {
    logId,
    size,
    tsa: r.str('tsa'),
    attempts: r.count('attempts'),
    updatedAt: r.count('updatedAt'),
  };
  if (status === 'granted') {
    return {
      ...base,
      status,
      granted: {
        genTime: r.str('genTime'),
        serialNumber: r.str('serialNumber'),
        policy: r.str('policy'),
        signerSubject: r.str('signerSubject'),
        token: r.bin('token'),
        chainPem: r.str('chainPem'),
        responseKey: r.str('responseKey'),
        chainKey: r.str('chainKey'),
      },
    };
  }
  if (status === 'failed') {
    return {
      ...base,
      status,
      failure: { code: r.str('errorCode'), message: item.errorMessage?.S ?? '' },
    };
  }
  throw corrupt(logId, `status ${JSON.stringify(status)}`);
}

const NOT_GRANTED = 'attribute_not_exists(#st) OR #st <> :granted';

function grantedUpdate(r: TsaAnchorRecord & { status: 'granted' }) {
  const g = r.granted;
  if (!g) throw new TypeError('a granted record carries its token');
  return {
    UpdateExpression:
      'SET #st = :granted, tsa = :tsa, updatedAt = :t, genTime = :gt, serialNumber = :sn, policy = :po, ' +
      'signerSubject = :ss, #tok = :tok, chainPem = :cp, responseKey = :rk, chainKey = :ck ' +
      'REMOVE errorCode, errorMessage ADD attempts :a',
    ExpressionAttributeNames: { '#st': 'status', '#tok': 'token' },
    ExpressionAttributeValues: {
      ':tsa': S(r.tsa),
      ':t': N(r.updatedAt),
      ':gt': S(g.genTime),
      ':sn': S(g.serialNumber),
      ':po': S(g.policy),
      ':ss': S(g.signerSubject),
      ':tok': B(g.token),
      ':cp': S(g.chainPem),
      ':rk': S(g.responseKey),
      ':ck': S(g.chainKey),
      ':a': N(r.attempts),
    } as Item,
  };
}

export class DynamoAnchorStore implements AnchorStore {
  readonly #t: DynamoTable;
  readonly #ddb: DynamoDBClient;
  readonly #table: string;

  constructor(opts: { client: DynamoDBClient; tableName: string }) {
    this.#t = new DynamoTable({ client: opts.client, tableName: opts.tableName, errors: AnchorStoreError });
    this.#ddb = opts.client;
    this.#table = opts.tableName;
  }

  async read(logId: string, size: number): Promise<AnchorsAtSize> {
    let items = await this.#queryAt(pk(logId), size);
    // One extra Query only for a size with nothing at the current location.
    const legacy = items.length === 0;
    if (legacy) items = await this.#queryAt(legacyPk(logId), size);
    const mark = <T>(r: T): T => (legacy ? { ...r, legacy: true } : r);
    let summary: AnchorSummary | undefined;
    const tsas: TsaAnchorRecord[] = [];
    for (const item of items) {
      const sk = item.sk?.S;
      if (sk === sizeSk(size)) summary = mark(summaryFrom(logId, size, item));
      else if (sk?.startsWith(`${sizeSk(size)}#TSA#`)) tsas.push(mark(tsaFrom(logId, size, item)));
    }
    tsas.sort((a, b) => (a.tsa < b.tsa ? -1 : a.tsa > b.tsa ? 1 : 0));
    return { summary, tsas };
  }

  async #queryAt(partition: string, size: number): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const out = await this.#t.send(() =>
        this.#ddb.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
            ExpressionAttributeValues: { ':pk': S(partition), ':p': S(sizeSk(size)) },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async putGranted(r: TsaAnchorRecord & { status: 'granted' }): Promise<boolean> {
    return this.#conditionalUpdate(r, NOT_GRANTED, grantedUpdate(r));
  }

  async replaceGranted(r: TsaAnchorRecord & { status: 'granted' }, staleToken: Uint8Array): Promise<boolean> {
    const update = grantedUpdate(r);
    return this.#conditionalUpdate(r, '#st = :granted AND #tok = :stale', {
      ...update,
      ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':stale': B(staleToken) },
    });
  }

  async putFailed(r: TsaAnchorRecord & { status: 'failed' }): Promise<boolean> {
    const f = r.failure ?? { code: 'UNKNOWN', message: '' };
    return this.#conditionalUpdate(r, NOT_GRANTED, {
      UpdateExpression:
        'SET #st = :failed, tsa = :tsa, updatedAt = :t, errorCode = :ec, errorMessage = :em ADD attempts :a',
      ExpressionAttributeNames: { '#st': 'status' },
      ExpressionAttributeValues: {
        ':failed': S('failed'),
        ':tsa': S(r.tsa),
        ':t': N(r.updatedAt),
        ':ec': S(f.code),
        ':em': S(f.message.slice(0, 2000)),
        ':a': N(r.attempts),
      },
    });
  }

  async #conditionalUpdate(
    r: TsaAnchorRecord,
    condition: string,
    update: {
      UpdateExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Item;
    },
  ): Promise<boolean> {
    // A refused condition (already granted; or, for a replacement, no longer
    // the stale record) keeps what is there.
    return this.#t.ifCondition(() =>
      this.#ddb.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { pk: S(pk(r.logId)), sk: S(tsaSk(r.size, r.tsa)) },
          ConditionExpression: condition,
          ...update,
          ExpressionAttributeValues: { ':granted': S('granted'), ...update.ExpressionAttributeValues },
        }),
      ),
    );
  }

  async putSummary(x: AnchorSummary): Promise<void> {
    await this.#t.send(() =>
      this.#ddb.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            pk: S(pk(x.logId)),
            sk: S(sizeSk(x.size)),
            size: N(x.size),
            checkpoint: S(x.checkpoint),
            quorum: N(x.quorum),
            tsaCount: N(x.tsaCount),
            granted: N(x.granted),
            quorumMet: { BOOL: x.quorumMet },
            updatedAt: N(x.updatedAt),
          },
        }),
      ),
    );
  }

  async markAnchored(logId: string, size: number): Promise<void> {
    // Refused when already at or past `size`: the pointer never moves back.
    await this.#t.ifCondition(() =>
      this.#ddb.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { pk: S(pk(logId)), sk: S(POINTER_SK) },
          UpdateExpression: 'SET #sz = :s',
          ConditionExpression: 'attribute_not_exists(#sz) OR #sz < :s',
          ExpressionAttributeNames: { '#sz': 'size' },
          ExpressionAttributeValues: { ':s': N(size) },
        }),
      ),
    );
  }

  async newestAnchoredSize(logId: string): Promise<number | undefined> {
    for (const partition of [pk(logId), legacyPk(logId)]) {
      const item = await this.#t.get({ pk: S(partition), sk: S(POINTER_SK) });
      if (item) return read(logId, item).count('size');
    }
    return undefined;
  }
}
