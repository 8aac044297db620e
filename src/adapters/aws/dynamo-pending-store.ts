/**
 * PendingStore on the single table (key schema in ./table.ts), written by the
 * ingest role (its items are under `L#<logId>`, like the log's batches).
 *
 *   pk=L#<logId>#Q#<shard>   sk=<acceptId>   a pending entry {acceptedAt, submitter, requestHash,
 *                                            idempotencyKey?, enc, blob (the events)}; removed
 *                                            once its receipt is written
 *   pk=L#<logId>#R#<acceptId> sk=R          a receipt {seq, firstIndex, receivedAt, prevHash,
 *                                            leaves (32 bytes per record), submitter, requestHash}
 *   pk=L#<logId>              sk=SEQ        the sequencer lease {holder, expiresAt, doneSeq?, pendingDepth}
 *
 * Why shards: one partition takes 1,000 WCU/s. Every entry is written once
 * and deleted once in its queue partition, so one queue partition would cap a
 * log near 500 small requests/s. `shards` partitions (the accept id's hash
 * picks one) lift that `shards`-fold; listing reads them all in parallel
 * (docs/ingest.md §9 has the arithmetic). The accept id is a key hash or a
 * random value, so entries spread evenly.
 *
 * Accept is a conditional put on the entry's own key, so a keyed retry lands
 * on the original entry (the receipt, once written, answers it instead).
 */
import { PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Sleep } from '../../core/backoff.ts';
import { utf8 } from '../../core/bytes.ts';
import { sha256 } from '../../core/hash.ts';
import {
  type AcceptOutcome,
  type EntryReceipt,
  type PendingEntry,
  type PendingStore,
  PendingStoreError,
  type SequencerLease,
} from '../../ports/pending-store.ts';
import { B, DynamoTable, type Item, itemReader, N, S } from './dynamo-items.ts';
import { decodeBlob, encodeBlob } from './dynamo-log-store.ts';

export interface DynamoPendingStoreOptions {
  client: import('@aws-sdk/client-dynamodb').DynamoDBClient;
  tableName: string;
  /** Queue partitions per log (default 8). MUST be the same for every writer of a table. */
  shards?: number;
  sleep?: Sleep;
}

const HASH = 32;

export class DynamoPendingStore implements PendingStore {
  readonly #t: DynamoTable;
  readonly #shards: number;

  constructor(opts: DynamoPendingStoreOptions) {
    this.#t = new DynamoTable({
      client: opts.client,
      tableName: opts.tableName,
      errors: PendingStoreError,
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
    });
    this.#shards = opts.shards ?? 8;
    if (!Number.isSafeInteger(this.#shards) || this.#shards < 1 || this.#shards > 256)
      throw new RangeError('shards must be an integer in [1, 256]');
  }

  #queuePk(logId: string, acceptId: string): string {
    const shard = (sha256(utf8(acceptId))[0] as number) % this.#shards;
    return `L#${logId}#Q#${shard}`;
  }

  #read(item: Item) {
    return itemReader(item, (what) => this.#t.corrupt(`item ${item.pk?.S}: ${what}`));
  }

  async accept(entry: PendingEntry): Promise<AcceptOutcome> {
    const { enc, blob } = encodeBlob(entry.events);
    const item: Item = {
      pk: S(this.#queuePk(entry.logId, entry.acceptId)),
      sk: S(entry.acceptId),
      logId: S(entry.logId),
      acceptedAt: N(entry.acceptedAt),
      submitter: S(entry.submitter),
      requestHash: B(entry.requestHash),
      enc: S(enc),
      blob: B(blob),
    };
    if (entry.idempotencyKey !== undefined) item.idempotencyKey = S(entry.idempotencyKey);
    try {
      await this.#t.send(() =>
        this.#t.client.send(
          new PutItemCommand({
            TableName: this.#t.name,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { accepted: true };
    } catch (err) {
      const e = err as { name?: string; Item?: Item };
      if (e.name !== 'ConditionalCheckFailedException') throw err;
      if (e.Item) return { accepted: false, existing: this.#entryFrom(e.Item) };
      const again = await this.#t.get({ pk: item.pk as { S: string }, sk: item.sk as { S: string } });
      if (!again) throw new PendingStoreError('UNAVAILABLE', 'pending entry vanished during accept; retry');
      return { accepted: false, existing: this.#entryFrom(again) };
    }
  }

  #entryFrom(item: Item): PendingEntry {
    const r = this.#read(item);
    const e: PendingEntry = {
      logId: r.str('logId'),
      acceptId: r.str('sk'),
      submitter: r.str('submitter'),
      requestHash: r.bin('requestHash'),
      acceptedAt: r.int('acceptedAt'),
      events: decodeBlob(r.str('enc'), r.bin('blob')),
    };
    const key = item.idempotencyKey?.S;
    if (key !== undefined) e.idempotencyKey = key;
    return e;
  }

  async listPending(logId: string, limit: number): Promise<PendingEntry[]> {
    const shards = Array.from({ length: this.#shards }, (_, i) => `L#${logId}#Q#${i}`);
    const perShard = await Promise.all(shards.map((pk) => this.#queryShard(pk, limit)));
    return perShard
      .flat()
      .sort((a, b) => a.acceptedAt - b.acceptedAt || (a.acceptId < b.acceptId ? -1 : 1))
      .slice(0, limit);
  }

  async #queryShard(pk: string, limit: number): Promise<PendingEntry[]> {
    const out: PendingEntry[] = [];
    let start: Item | undefined;
    do {
      const from = start;
      const page = await this.#t.send(() =>
        this.#t.client.send(
          new QueryCommand({
            TableName: this.#t.name,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': S(pk) },
            ConsistentRead: true,
            Limit: limit - out.length,
            ...(from ? { ExclusiveStartKey: from } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) out.push(this.#entryFrom(item));
      start = page.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }

  async readQueued(logId: string, acceptIds: readonly string[]): Promise<Map<string, { submitter: string }>> {
    const out = new Map<string, { submitter: string }>();
    if (acceptIds.length === 0) return out;
    const keys = [...new Set(acceptIds)].map((id) => ({ pk: S(this.#queuePk(logId, id)), sk: S(id) }));
    // Keys and submitter only: an entry's events may be 300 KB.
    for (const item of await this.#t.batchGet(keys, { ProjectionExpression: 'sk, submitter' })) {
      const r = this.#read(item);
      out.set(r.str('sk'), { submitter: r.str('submitter') });
    }
    return out;
  }

  async removePending(logId: string, acceptIds: readonly string[]): Promise<void> {
    if (acceptIds.length === 0) return;
    await this.#t.batchDelete(acceptIds.map((id) => ({ pk: S(this.#queuePk(logId, id)), sk: S(id) })));
  }

  async writeReceipts(receipts: readonly EntryReceipt[]): Promise<void> {
    if (receipts.length === 0) return;
    await this.#t.batchPut(
      receipts.map((r) => {
        const leaves = new Uint8Array(r.leafHashes.length * HASH);
        for (const [i, h] of r.leafHashes.entries()) leaves.set(h, i * HASH);
        return {
          pk: S(`L#${r.logId}#R#${r.acceptId}`),
          sk: S('R'),
          logId: S(r.logId),
          acceptId: S(r.acceptId),
          submitter: S(r.submitter),
          requestHash: B(r.requestHash),
          seq: N(r.seq),
          firstIndex: N(r.firstIndex),
          receivedAt: S(r.receivedAt),
          prevHash: B(r.prevHash),
          leaves: B(leaves),
        };
      }),
    );
  }

  async readReceipts(logId: string, acceptIds: readonly string[]): Promise<Map<string, EntryReceipt>> {
    const out = new Map<string, EntryReceipt>();
    if (acceptIds.length === 0) return out;
    const keys = [...new Set(acceptIds)].map((id) => ({ pk: S(`L#${logId}#R#${id}`), sk: S('R') }));
    for (const item of await this.#t.batchGet(keys)) {
      const r = this.#read(item);
      const leaves = r.bin('leaves');
      if (leaves.length === 0 || leaves.length % HASH !== 0)
        throw this.#t.corrupt(`receipt ${item.pk?.S}: leaves is not a list of hashes`);
      const leafHashes: Uint8Array[] = [];
      for (let o = 0; o < leaves.length; o += HASH) leafHashes.push(leaves.slice(o, o + HASH));
      const receipt: EntryReceipt = {
        logId: r.str('logId'),
        acceptId: r.str('acceptId'),
        submitter: r.str('submitter'),
        requestHash: r.bin('requestHash'),
        seq: r.int('seq'),
        firstIndex: r.int('firstIndex'),
        receivedAt: r.str('receivedAt'),
        prevHash: r.bin('prevHash'),
        leafHashes,
      };
      out.set(receipt.acceptId, receipt);
    }
    return out;
  }

  async acquireLease(
    logId: string,
    holder: string,
    now: number,
    leaseMs: number,
  ): Promise<SequencerLease | undefined> {
    let out: Item | undefined;
    const ok = await this.#t.ifCondition(async () => {
      const res = await this.#t.client.send(
        new UpdateItemCommand({
          TableName: this.#t.name,
          Key: { pk: S(`L#${logId}`), sk: S('SEQ') },
          UpdateExpression: 'SET holder = :h, expiresAt = :e, logId = :l',
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR holder = :h',
          ExpressionAttributeValues: {
            ':h': S(holder),
            ':e': N(now + leaseMs),
            ':now': N(now),
            ':l': S(logId),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      out = res.Attributes;
    });
    if (!ok || !out) return undefined;
    return this.#leaseFrom(out);
  }

  #leaseFrom(item: Item): SequencerLease {
    const r = this.#read(item);
    return {
      logId: r.str('logId'),
      holder: r.str('holder'),
      expiresAt: r.int('expiresAt'),
      doneSeq: item.doneSeq ? r.count('doneSeq') : undefined,
      depth: r.count('pendingDepth', 0),
    };
  }

  async recordProgress(logId: string, holder: string, doneSeq: number, depth: number): Promise<boolean> {
    return this.#t
      .ifCondition(() =>
        this.#t.client.send(
          new UpdateItemCommand({
            TableName: this.#t.name,
            Key: { pk: S(`L#${logId}`), sk: S('SEQ') },
            // doneSeq moves forward only.
            UpdateExpression: 'SET doneSeq = :d, pendingDepth = :n',
            ConditionExpression: 'holder = :h AND (attribute_not_exists(doneSeq) OR doneSeq <= :d)',
            ExpressionAttributeValues: { ':h': S(holder), ':d': N(doneSeq), ':n': N(depth) },
          }),
        ),
      )
      .then(async (ok) => {
        if (ok) return true;
        // A smaller doneSeq from the holder is not a failure: only the depth changes.
        return this.#t.ifCondition(() =>
          this.#t.client.send(
            new UpdateItemCommand({
              TableName: this.#t.name,
              Key: { pk: S(`L#${logId}`), sk: S('SEQ') },
              UpdateExpression: 'SET pendingDepth = :n',
              ConditionExpression: 'holder = :h',
              ExpressionAttributeValues: { ':h': S(holder), ':n': N(depth) },
            }),
          ),
        );
      });
  }

  async releaseLease(logId: string, holder: string): Promise<void> {
    await this.#t.ifCondition(() =>
      this.#t.client.send(
        new UpdateItemCommand({
          TableName: this.#t.name,
          Key: { pk: S(`L#${logId}`), sk: S('SEQ') },
          UpdateExpression: 'SET expiresAt = :z',
          ConditionExpression: 'holder = :h',
          ExpressionAttributeValues: { ':h': S(holder), ':z': N(0) },
        }),
      ),
    );
  }

  async readLease(logId: string): Promise<SequencerLease | undefined> {
    const item = await this.#t.get({ pk: S(`L#${logId}`), sk: S('SEQ') });
    return item ? this.#leaseFrom(item) : undefined;
  }
}
