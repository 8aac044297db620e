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
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { AppError } from '../../app/errors.ts';
import type { AnchorStore, AnchorSummary, AnchorsAtSize, TsaAnchorRecord } from '../../ports/anchor-store.ts';

type Item = Record<string, AttributeValue>;

/** Partition prefix of anchor items; the IAM grants in cdk/ name the same prefix. */
export const ANCHOR_PREFIX = 'A#';
const pk = (logId: string) => `${ANCHOR_PREFIX}${logId}`;
const legacyPk = (logId: string) => `L#${logId}`;
const sizeSk = (size: number) => `ANCHOR#${String(size).padStart(20, '0')}`;
const tsaSk = (size: number, tsa: string) => `${sizeSk(size)}#TSA#${tsa}`;
const POINTER_SK = 'ANCHORED';

function corrupt(logId: string, what: string): AppError {
  return new AppError('INTEGRITY', `anchor state of log ${logId} is malformed: ${what}`);
}

function s(logId: string, item: Item, k: string): string {
  const v = item[k]?.S;
  if (v === undefined) throw corrupt(logId, `${k} is missing`);
  return v;
}

function n(logId: string, item: Item, k: string): number {
  const v = Number(item[k]?.N);
  if (!Number.isSafeInteger(v) || v < 0) throw corrupt(logId, `${k} is not a count`);
  return v;
}

function summaryFrom(logId: string, size: number, item: Item): AnchorSummary {
  return {
    logId,
    size,
    checkpoint: s(logId, item, 'checkpoint'),
    quorum: n(logId, item, 'quorum'),
    tsaCount: n(logId, item, 'tsaCount'),
    granted: n(logId, item, 'granted'),
    quorumMet: item.quorumMet?.BOOL === true,
    updatedAt: n(logId, item, 'updatedAt'),
  };
}

function tsaFrom(logId: string, size: number, item: Item): TsaAnchorRecord {
  const status = s(logId, item, 'status');
  const base = {
    logId,
    size,
    tsa: s(logId, item, 'tsa'),
    attempts: n(logId, item, 'attempts'),
    updatedAt: n(logId, item, 'updatedAt'),
  };
  if (status === 'granted') {
    const token = item.token?.B;
    if (!token) throw corrupt(logId, 'token is missing');
    return {
      ...base,
      status,
      granted: {
        genTime: s(logId, item, 'genTime'),
        serialNumber: s(logId, item, 'serialNumber'),
        policy: s(logId, item, 'policy'),
        signerSubject: s(logId, item, 'signerSubject'),
        token,
        chainPem: s(logId, item, 'chainPem'),
        responseKey: s(logId, item, 'responseKey'),
        chainKey: s(logId, item, 'chainKey'),
      },
    };
  }
  if (status === 'failed') {
    return {
      ...base,
      status,
      failure: { code: s(logId, item, 'errorCode'), message: item.errorMessage?.S ?? '' },
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
      ':tsa': { S: r.tsa },
      ':t': { N: String(r.updatedAt) },
      ':gt': { S: g.genTime },
      ':sn': { S: g.serialNumber },
      ':po': { S: g.policy },
      ':ss': { S: g.signerSubject },
      ':tok': { B: g.token },
      ':cp': { S: g.chainPem },
      ':rk': { S: g.responseKey },
      ':ck': { S: g.chainKey },
      ':a': { N: String(r.attempts) },
    } as Item,
  };
}

export class DynamoAnchorStore implements AnchorStore {
  readonly #ddb: DynamoDBClient;
  readonly #table: string;

  constructor(opts: { client: DynamoDBClient; tableName: string }) {
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
      const out = await this.#ddb.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': { S: partition }, ':p': { S: sizeSk(size) } },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
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
      ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':stale': { B: staleToken } },
    });
  }

  async putFailed(r: TsaAnchorRecord & { status: 'failed' }): Promise<boolean> {
    const f = r.failure ?? { code: 'UNKNOWN', message: '' };
    return this.#conditionalUpdate(r, NOT_GRANTED, {
      UpdateExpression:
        'SET #st = :failed, tsa = :tsa, updatedAt = :t, errorCode = :ec, errorMessage = :em ADD attempts :a',
      ExpressionAttributeNames: { '#st': 'status' },
      ExpressionAttributeValues: {
        ':failed': { S: 'failed' },
        ':tsa': { S: r.tsa },
        ':t': { N: String(r.updatedAt) },
        ':ec': { S: f.code },
        ':em': { S: f.message.slice(0, 2000) },
        ':a': { N: String(r.attempts) },
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
    try {
      await this.#ddb.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { pk: { S: pk(r.logId) }, sk: { S: tsaSk(r.size, r.tsa) } },
          ConditionExpression: condition,
          ...update,
          ExpressionAttributeValues: { ':granted': { S: 'granted' }, ...update.ExpressionAttributeValues },
        }),
      );
      return true;
    } catch (err) {
      // The condition failed (already granted; or, for a replacement, no
      // longer the stale record): keep what is there.
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async putSummary(x: AnchorSummary): Promise<void> {
    await this.#ddb.send(
      new PutItemCommand({
        TableName: this.#table,
        Item: {
          pk: { S: pk(x.logId) },
          sk: { S: sizeSk(x.size) },
          size: { N: String(x.size) },
          checkpoint: { S: x.checkpoint },
          quorum: { N: String(x.quorum) },
          tsaCount: { N: String(x.tsaCount) },
          granted: { N: String(x.granted) },
          quorumMet: { BOOL: x.quorumMet },
          updatedAt: { N: String(x.updatedAt) },
        },
      }),
    );
  }

  async markAnchored(logId: string, size: number): Promise<void> {
    try {
      await this.#ddb.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { pk: { S: pk(logId) }, sk: { S: POINTER_SK } },
          UpdateExpression: 'SET #sz = :s',
          ConditionExpression: 'attribute_not_exists(#sz) OR #sz < :s',
          ExpressionAttributeNames: { '#sz': 'size' },
          ExpressionAttributeValues: { ':s': { N: String(size) } },
        }),
      );
    } catch (err) {
      // Already at or past `size`: the pointer never moves back.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  async newestAnchoredSize(logId: string): Promise<number | undefined> {
    for (const partition of [pk(logId), legacyPk(logId)]) {
      const out = await this.#ddb.send(
        new GetItemCommand({
          TableName: this.#table,
          Key: { pk: { S: partition }, sk: { S: POINTER_SK } },
          ConsistentRead: true,
        }),
      );
      if (out.Item) return n(logId, out.Item, 'size');
    }
    return undefined;
  }
}
