/**
 * LogStore on one DynamoDB table (key schema in ./table.ts). The SDK client
 * is injected; nothing here reads the environment or the clock.
 *
 * Items this adapter owns (all strings are the `pk` / `sk` attributes), and
 * which role writes them in the deployment (IAM `dynamodb:LeadingKeys`; the
 * prefixes keep the families apart, docs/architecture.md):
 *
 * Written by createLog only — the admin path (src/app/log-registry.ts):
 *   pk=LOGS                           sk=<logId>  registry of logs (listLogs = one Query)
 *   pk=M#<logId>                      sk=META     {logId, createdAt}; existence = log exists
 *
 * Written by ingest (the admin role too, for the `system` log only):
 *   pk=L#<logId>                      sk=HEAD     hint {seq, nextIndex, lastLeafHash, lastReceivedAt};
 *                                                 only ever moved forward; may lag the truth, or be
 *                                                 anything at all: readTip takes only its seq, as a
 *                                                 place to start looking (the rest is for operators)
 *   pk=L#<logId>#B#<seq, 16 digits>   sk=B        THE COMMIT POINT of batch seq: {seq, firstIndex,
 *                                                 count, prevHash, lastLeafHash, receivedAt, submitter,
 *                                                 attemptId, idempotencyKey?, enc, blob, parts?}
 *   pk=L#<logId>#BP#<attemptId>#<try>#<k>  sk=P   overflow part k of a batch blob, written before
 *                                                 its commit item; unreferenced parts are garbage
 *   pk=L#<logId>#IK#<keyHash>         sk=IK       idempotency claim {state, requestHash, attemptId,
 *                                                 tipSeqAtClaim, expiresAt, seq?, key, submitter, ttl?}
 *   pk=L#<logId>#E#<scopedIdHash>     sk=E        a submitter's client event id → {id, submitter, index, seq}
 *
 * Legacy (before issue #11), read-only: pk=L#<logId> sk=META. logExists
 * falls back to it when `M#<logId>` is absent; createLog copies it to
 * `M#<logId>` (keeping its createdAt) the next time the log is created.
 * And pk=L#<logId>#E#<idHash> sk=E, a client event id per log (any
 * submitter's), read by readEventIds next to the scoped one (marked legacy).
 *
 * `keyHash` / `idHash` / `scopedIdHash` are base64url SHA-256 digests computed
 * by the caller / here, so client text never shapes a key (no length limits,
 * no '#' games): idHash = SHA-256(id), scopedIdHash = SHA-256("anchorlog event
 * id v2" 0x00 submitter 0x00 id).
 *
 * Why one partition per batch: a partition takes at most 1,000 WCU/s. A 350 KB
 * commit item costs 350 WCU, so a log whose batches all lived in one partition
 * would top out near 3 batches/s. Keys per batch spread a busy log's writes
 * over the whole table (docs/ingest.md §3 has the arithmetic).
 *
 * Blob: records as [uint32 BE length][canonical bytes]…, then deflate-raw when
 * that is smaller (`enc`). The first INLINE_MAX bytes live in the commit item;
 * the rest in part items, each named in the commit item with its SHA-256, so a
 * reader detects a part that does not belong (INTEGRITY) instead of returning
 * wrong bytes.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Sleep } from '../../core/backoff.ts';
import { bytesEqual, concatBytes, toBase64Url, utf8 } from '../../core/bytes.ts';
import { sha256 } from '../../core/hash.ts';
import { leafHash, ZERO_HASH } from '../../core/record.ts';
import {
  type BatchHeader,
  type BatchMember,
  type ClaimResult,
  type CommitOutcome,
  type EventIdEntry,
  type FoundEventId,
  type IdempotencyClaim,
  type IdempotencyRecord,
  type LogStore,
  LogStoreError,
  type LogTip,
  type NewBatch,
  nextTip,
  type StoredBatch,
} from '../../ports/log-store.ts';
import { B, DynamoTable, type Item, itemReader, N, S } from './dynamo-items.ts';

/** Bytes of blob kept in the commit item itself (DynamoDB items are at most 400 KB). */
export const INLINE_MAX = 350_000;
/** Bytes of blob per overflow part item. */
export const PART_MAX = 350_000;
const SEQ_DIGITS = 16;
/** Probes from a caller's tip before consulting the head hint. */
const FAR_BEHIND = 4;

export interface DynamoLogStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Pause between UnprocessedKeys rounds; injected so tests need not wait. */
  sleep?: Sleep;
}

const pad = (seq: number) => String(seq).padStart(SEQ_DIGITS, '0');
const logPk = (logId: string) => `L#${logId}`;
/** Partition prefix of a log's metadata; the IAM grants in cdk/ name the same prefix. */
export const LOG_META_PREFIX = 'M#';
const metaPk = (logId: string) => `${LOG_META_PREFIX}${logId}`;
const batchPk = (logId: string, seq: number) => `L#${logId}#B#${pad(seq)}`;
const keyPk = (logId: string, keyHash: string) => `L#${logId}#IK#${keyHash}`;
/** Before issue #11: one event-id namespace per log (read only). */
const legacyEventPk = (logId: string, id: string) => `L#${logId}#E#${toBase64Url(sha256(utf8(id)))}`;
/** A submitter's event id; the domain tag keeps it apart from every legacy hash. */
const eventPk = (logId: string, submitter: string, id: string) =>
  `L#${logId}#E#${toBase64Url(sha256(utf8(`anchorlog event id v2\0${submitter}\0${id}`)))}`;
const partPk = (logId: string, attemptId: string, tryNumber: number, k: number) =>
  `L#${logId}#BP#${attemptId}#${tryNumber}#${k}`;

function integrity(message: string): LogStoreError {
  return new LogStoreError('INTEGRITY', message);
}

/** The attributes of one of our items; a missing or ill-typed one is INTEGRITY. */
const read = (item: Item) => itemReader(item, (what) => integrity(`item ${item.pk?.S}: ${what}`));

/** Length-prefixed records, deflated when that is smaller. */
export function encodeBlob(records: readonly Uint8Array[]): { enc: 'raw' | 'deflate-raw'; blob: Uint8Array } {
  let total = 0;
  for (const r of records) total += 4 + r.length;
  const raw = new Uint8Array(total);
  const view = new DataView(raw.buffer);
  let o = 0;
  for (const r of records) {
    view.setUint32(o, r.length);
    raw.set(r, o + 4);
    o += 4 + r.length;
  }
  const z = deflateRawSync(raw, { level: 6 });
  if (z.length < raw.length)
    return { enc: 'deflate-raw', blob: new Uint8Array(z.buffer, z.byteOffset, z.length) };
  return { enc: 'raw', blob: raw };
}

export function decodeBlob(enc: string, blob: Uint8Array): Uint8Array[] {
  let raw: Uint8Array;
  if (enc === 'raw') raw = blob;
  else if (enc === 'deflate-raw') {
    const z = inflateRawSync(blob);
    raw = new Uint8Array(z.buffer, z.byteOffset, z.length);
  } else throw integrity(`unknown blob encoding ${enc}`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < raw.length) {
    if (o + 4 > raw.length) throw integrity('truncated record blob');
    const len = view.getUint32(o);
    if (o + 4 + len > raw.length) throw integrity('truncated record blob');
    out.push(raw.subarray(o + 4, o + 4 + len));
    o += 4 + len;
  }
  return out;
}

const HEADER_ATTRS = [
  'pk',
  'seq',
  'firstIndex',
  '#count',
  'prevHash',
  'lastLeafHash',
  'receivedAt',
  'submitter',
  'attemptId',
  'idempotencyKey',
  'members',
];
const HEADER_PROJECTION = {
  ProjectionExpression: HEADER_ATTRS.join(', '),
  ExpressionAttributeNames: { '#count': 'count' },
};

export class DynamoLogStore implements LogStore {
  readonly #t: DynamoTable;
  readonly #ddb: DynamoDBClient;
  readonly #table: string;

  constructor(opts: DynamoLogStoreOptions) {
    this.#t = new DynamoTable({
      client: opts.client,
      tableName: opts.tableName,
      errors: LogStoreError,
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
    });
    this.#ddb = opts.client;
    this.#table = opts.tableName;
  }

  /** Sends a command, translating transient failures into LogStoreError. */
  #send<T>(fn: () => Promise<T>): Promise<T> {
    return this.#t.send(fn);
  }

  #get(pk: string, sk: string, projection?: typeof HEADER_PROJECTION): Promise<Item | undefined> {
    return this.#t.get({ pk: S(pk), sk: S(sk) }, projection);
  }

  /** Consistent BatchGetItem over any number of keys, by partition key. */
  async #batchGet(keys: Array<{ pk: string; sk: string }>, projection?: typeof HEADER_PROJECTION) {
    const found = new Map<string, Item>();
    for (const item of await this.#t.batchGet(
      keys.map((k) => ({ pk: S(k.pk), sk: S(k.sk) })),
      projection,
    )) {
      const pk = item.pk?.S;
      if (pk !== undefined) found.set(pk, item);
    }
    return found;
  }

  // --- logs ---

  async createLog(logId: string, createdAt: string): Promise<{ created: boolean }> {
    // A log created before issue #11 has its META under L#: it exists, and
    // keeps its creation time.
    const legacy = await this.#get(logPk(logId), 'META');
    let created = legacy === undefined;
    const since = legacy?.createdAt?.S ?? createdAt;
    const put = await this.#t.ifCondition(() =>
      this.#ddb.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: { pk: S(metaPk(logId)), sk: S('META'), logId: S(logId), createdAt: S(since) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (!put) created = false;
    // Registry entry after META, on every call: if we die between the two
    // puts, the log exists but is unlisted until createLog is called again,
    // which re-puts this idempotently. (Nothing appends without META.)
    await this.#send(() =>
      this.#ddb.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: { pk: S('LOGS'), sk: S(logId), logId: S(logId) },
        }),
      ),
    );
    return { created };
  }

  async logExists(logId: string): Promise<boolean> {
    if ((await this.#get(metaPk(logId), 'META')) !== undefined) return true;
    // Read-only fallback: a log created before issue #11 and not re-created since.
    return (await this.#get(logPk(logId), 'META')) !== undefined;
  }

  async listLogs(): Promise<string[]> {
    const out: string[] = [];
    let start: Item | undefined;
    do {
      const page = await this.#send(() =>
        this.#ddb.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: { ':p': S('LOGS') },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) if (item.sk?.S) out.push(item.sk.S);
      start = page.LastEvaluatedKey;
    } while (start);
    return out.sort();
  }

  // --- tip ---

  async readTip(logId: string, from?: LogTip): Promise<LogTip> {
    let tip: LogTip = from ?? (await this.#tipNearHead(logId, emptyTip(logId)));
    let consultedHead = from === undefined;
    // Probe seq+1, seq+2, … until one is missing. Batches only ever appear at
    // tip+1, so the first missing seq is the end of the log: there are no gaps
    // to skip over. Each step checks the chain link, so a corrupt batch stops
    // here rather than being extended.
    for (let probes = 0; ; probes++) {
      if (!consultedHead && probes >= FAR_BEHIND) {
        // A caller's cached tip is far behind: the hint is probably closer.
        consultedHead = true;
        tip = await this.#tipNearHead(logId, tip);
      }
      const item = await this.#get(batchPk(logId, tip.seq + 1), 'B', HEADER_PROJECTION);
      if (!item) return tip;
      tip = nextTip(tip, headerFrom(logId, item));
    }
  }

  /**
   * A committed tip at or after `known` (itself committed), found through the
   * head hint. Only the hint's seq is used, as a place to look: the tip is
   * made from that batch's own commit item, so a hint rewritten by anyone who
   * can write it (or brought back by a restore) can cost reads but can never
   * choose the next batch's prevHash, index or receivedAt (issue #11). A hint
   * past the end of the log is answered by halving down to the last batch
   * present (batches 1..n exist, none after n): at most ~log2(seq) reads.
   */
  async #tipNearHead(logId: string, known: LogTip): Promise<LogTip> {
    const head = await this.#get(logPk(logId), 'HEAD');
    const hinted = Number(head?.seq?.N);
    if (!Number.isSafeInteger(hinted) || hinted <= known.seq) return known;
    const hintedItem = await this.#get(batchPk(logId, hinted), 'B', HEADER_PROJECTION);
    if (hintedItem) return tipAfter(logId, hinted, hintedItem);
    let present: { seq: number; item: Item } | undefined;
    let lo = known.seq;
    let hi = hinted;
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const item = await this.#get(batchPk(logId, mid), 'B', HEADER_PROJECTION);
      if (item) {
        present = { seq: mid, item };
        lo = mid;
      } else hi = mid;
    }
    return present ? tipAfter(logId, present.seq, present.item) : known;
  }

  async advanceHead(tip: LogTip): Promise<void> {
    const receivedAt = tip.lastReceivedAt;
    if (tip.seq === 0 || receivedAt === undefined) return;
    await this.#t.ifCondition(() =>
      this.#ddb.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { pk: S(logPk(tip.logId)), sk: S('HEAD') },
          UpdateExpression: 'SET seq = :s, nextIndex = :n, lastLeafHash = :h, lastReceivedAt = :r',
          // Forward only: a slow writer must not drag the hint back (refused = already ahead).
          ConditionExpression: 'attribute_not_exists(seq) OR seq < :s',
          ExpressionAttributeValues: {
            ':s': N(tip.seq),
            ':n': N(tip.nextIndex),
            ':h': B(tip.lastLeafHash),
            ':r': S(receivedAt),
          },
        }),
      ),
    );
  }

  // --- batches ---

  async commitBatch(batch: NewBatch): Promise<CommitOutcome> {
    const { enc, blob } = encodeBlob(batch.records);
    const inline = blob.subarray(0, INLINE_MAX);
    const parts: Array<{ pk: string; bytes: Uint8Array }> = [];
    for (let o = INLINE_MAX, k = 0; o < blob.length; o += PART_MAX, k++) {
      parts.push({
        pk: partPk(batch.logId, batch.attemptId, batch.tryNumber, k),
        bytes: blob.subarray(o, o + PART_MAX),
      });
    }
    // Parts first, unconditionally: their keys are unique to this try, and
    // nothing references them until the commit item exists. If we die here,
    // they are unreferenced garbage and the batch does not exist.
    await Promise.all(
      parts.map((p) =>
        this.#send(() =>
          this.#ddb.send(
            new PutItemCommand({
              TableName: this.#table,
              Item: { pk: S(p.pk), sk: S('P'), data: B(p.bytes) },
            }),
          ),
        ),
      ),
    );
    const item: Item = {
      pk: S(batchPk(batch.logId, batch.seq)),
      sk: S('B'),
      logId: S(batch.logId),
      seq: N(batch.seq),
      firstIndex: N(batch.firstIndex),
      count: N(batch.count),
      prevHash: B(batch.prevHash),
      lastLeafHash: B(batch.lastLeafHash),
      receivedAt: S(batch.receivedAt),
      submitter: S(batch.submitter),
      attemptId: S(batch.attemptId),
      enc: S(enc),
      blob: B(inline),
    };
    if (batch.idempotencyKey !== undefined) item.idempotencyKey = S(batch.idempotencyKey);
    if (batch.members !== undefined) item.members = S(JSON.stringify(batch.members));
    if (parts.length > 0) {
      item.parts = {
        L: parts.map((p) => ({ M: { pk: S(p.pk), sha256: B(sha256(p.bytes)), size: N(p.bytes.length) } })),
      };
    }
    try {
      // COMMIT POINT. Once this conditional put succeeds the batch (and, through
      // the part hashes, its overflow) is durable and visible; before, nothing
      // is. If we die right here the outcome is unknown to us but not to the
      // table: the retry reads batch `seq` back and compares attemptId.
      await this.#send(() =>
        this.#ddb.send(
          new PutItemCommand({
            TableName: this.#table,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
            // The loser learns the winner without another read.
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { committed: true };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      // Someone else holds seq: our parts are garbage. Delete best-effort; a
      // failure only leaves unreferenced bytes behind.
      await Promise.allSettled(
        parts.map((p) =>
          this.#ddb.send(new DeleteItemCommand({ TableName: this.#table, Key: { pk: S(p.pk), sk: S('P') } })),
        ),
      );
      return { committed: false, existing: err.Item ? headerFrom(batch.logId, err.Item) : undefined };
    }
  }

  async readBatchHeader(logId: string, seq: number): Promise<BatchHeader | undefined> {
    const item = await this.#get(batchPk(logId, seq), 'B', HEADER_PROJECTION);
    return item ? headerFrom(logId, item) : undefined;
  }

  async readBatch(logId: string, seq: number): Promise<StoredBatch | undefined> {
    const item = await this.#get(batchPk(logId, seq), 'B');
    return item ? this.#decodeBatch(logId, item) : undefined;
  }

  async readBatches(logId: string, fromSeq: number, limit: number): Promise<StoredBatch[]> {
    const keys = Array.from({ length: Math.max(0, limit) }, (_, i) => ({
      pk: batchPk(logId, fromSeq + i),
      sk: 'B',
    }));
    const found = await this.#batchGet(keys);
    const out: StoredBatch[] = [];
    for (const k of keys) {
      const item = found.get(k.pk);
      if (!item) break;
      out.push(await this.#decodeBatch(logId, item));
    }
    return out;
  }

  async findBatchByAttempt(
    logId: string,
    attemptId: string,
    fromSeq: number,
    toSeq: number,
  ): Promise<BatchHeader | undefined> {
    // Reads headers only; note DynamoDB still charges RCU for whole items, so
    // callers keep the range short (it is bounded by the claim lease).
    const keys: Array<{ pk: string; sk: string }> = [];
    for (let s = Math.max(1, fromSeq); s <= toSeq; s++) keys.push({ pk: batchPk(logId, s), sk: 'B' });
    const found = await this.#batchGet(keys, HEADER_PROJECTION);
    for (const item of found.values()) {
      if (item.attemptId?.S === attemptId) return headerFrom(logId, item);
    }
    return undefined;
  }

  async #decodeBatch(logId: string, item: Item): Promise<StoredBatch> {
    const header = headerFrom(logId, item);
    let blob = read(item).bin('blob');
    const partList = item.parts?.L ?? [];
    if (partList.length > 0) {
      const chunks = await Promise.all(
        partList.map(async (p) => {
          const m = p.M;
          if (!m) throw integrity(`batch ${header.seq}: malformed part list`);
          const ref = itemReader(m, (what) => integrity(`batch ${header.seq}: part list: ${what}`));
          const pk = ref.str('pk');
          const part = await this.#get(pk, 'P');
          if (!part) throw integrity(`batch ${header.seq}: part ${pk} is missing`);
          const data = read(part).bin('data');
          if (!bytesEqual(sha256(data), ref.bin('sha256')))
            throw integrity(`batch ${header.seq}: part ${pk} does not match its hash`);
          return data;
        }),
      );
      blob = concatBytes(blob, ...chunks);
    }
    let records: Uint8Array[];
    try {
      records = decodeBlob(read(item).str('enc'), blob);
    } catch (err) {
      if (err instanceof LogStoreError) throw err;
      throw new LogStoreError('INTEGRITY', `batch ${header.seq}: blob does not decode`, { cause: err });
    }
    if (records.length !== header.count)
      throw integrity(`batch ${header.seq}: holds ${records.length} records, header says ${header.count}`);
    const last = records[records.length - 1];
    if (last === undefined || !bytesEqual(leafHash(last), header.lastLeafHash))
      throw integrity(`batch ${header.seq}: last record does not hash to lastLeafHash`);
    return { ...header, records: records.map((bytes, i) => ({ index: header.firstIndex + i, bytes })) };
  }

  // --- idempotency keys ---

  async claimKey(claim: IdempotencyClaim): Promise<ClaimResult> {
    for (let i = 0; i < 3; i++) {
      try {
        await this.#send(() =>
          this.#ddb.send(
            new PutItemCommand({
              TableName: this.#table,
              Item: claimItem(claim),
              ConditionExpression: 'attribute_not_exists(pk)',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        );
        return { claimed: true };
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
        // Powertools style: the failed condition tells us the current state
        // without another read — when the store returns it.
        const existing = err.Item ?? (await this.#get(keyPk(claim.logId, claim.keyHash), 'IK'));
        // Absent again: released between our put and our read; claim again.
        if (existing) return { claimed: false, existing: claimFrom(claim.logId, existing) };
      }
    }
    throw new LogStoreError('UNAVAILABLE', 'idempotency claim keeps appearing and disappearing');
  }

  takeOverKey(claim: IdempotencyClaim, previousAttemptId: string): Promise<boolean> {
    return this.#t.ifCondition(() =>
      this.#ddb.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: claimItem(claim),
          ConditionExpression: 'attemptId = :old AND #st = :ip',
          ExpressionAttributeNames: { '#st': 'state' },
          ExpressionAttributeValues: { ':old': S(previousAttemptId), ':ip': S('IN_PROGRESS') },
        }),
      ),
    );
  }

  finishKey(logId: string, keyHash: string, attemptId: string, seq: number): Promise<boolean> {
    return this.#t.ifCondition(() =>
      this.#ddb.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { pk: S(keyPk(logId, keyHash)), sk: S('IK') },
          UpdateExpression: 'SET #st = :c, seq = :s',
          // Held by us (IN_PROGRESS, or COMMITTED by an earlier call of ours
          // whose answer we lost: same values again, so idempotent).
          ConditionExpression: 'attemptId = :a AND (#st = :ip OR seq = :s)',
          ExpressionAttributeNames: { '#st': 'state' },
          ExpressionAttributeValues: {
            ':c': S('COMMITTED'),
            ':s': N(seq),
            ':a': S(attemptId),
            ':ip': S('IN_PROGRESS'),
          },
        }),
      ),
    );
  }

  async releaseKey(logId: string, keyHash: string, attemptId: string): Promise<void> {
    // Refused: the claim is no longer ours to release (taken over or committed).
    await this.#t.ifCondition(() =>
      this.#ddb.send(
        new DeleteItemCommand({
          TableName: this.#table,
          Key: { pk: S(keyPk(logId, keyHash)), sk: S('IK') },
          ConditionExpression: 'attemptId = :a AND #st = :ip',
          ExpressionAttributeNames: { '#st': 'state' },
          ExpressionAttributeValues: { ':a': S(attemptId), ':ip': S('IN_PROGRESS') },
        }),
      ),
    );
  }

  // --- event ids ---

  // Both keys of each id in one BatchGetItem: the legacy one costs a read per
  // id, and keeps a retry of an event recorded before issue #11 from being
  // stored twice (docs/ingest.md §4).
  async readEventIds(
    logId: string,
    submitter: string,
    ids: readonly string[],
  ): Promise<Map<string, FoundEventId>> {
    const unique = [...new Set(ids)];
    const own = new Map(unique.map((id) => [eventPk(logId, submitter, id), id]));
    const legacy = new Map(unique.map((id) => [legacyEventPk(logId, id), id]));
    const found = await this.#batchGet([...own.keys(), ...legacy.keys()].map((pk) => ({ pk, sk: 'E' })));
    const out = new Map<string, FoundEventId>();
    for (const [pk, item] of found) {
      const id = own.get(pk) ?? legacy.get(pk);
      if (id === undefined || read(item).str('id') !== id)
        throw integrity(`event id item ${pk} does not hold the id it is keyed by`);
      const isLegacy = !own.has(pk);
      // The submitter's own item wins over a legacy one for the same id.
      if (isLegacy && out.has(id)) continue;
      const r = read(item);
      out.set(id, { id, index: r.int('index'), seq: r.int('seq'), legacy: isLegacy });
    }
    return out;
  }

  writeEventIds(logId: string, submitter: string, entries: readonly EventIdEntry[]): Promise<void> {
    return this.#t.batchPut(
      entries.map((e) => ({
        pk: S(eventPk(logId, submitter, e.id)),
        sk: S('E'),
        id: S(e.id),
        submitter: S(submitter),
        index: N(e.index),
        seq: N(e.seq),
      })),
    );
  }
}

function headerFrom(logId: string, item: Item): BatchHeader {
  const r = read(item);
  const h: BatchHeader = {
    logId,
    seq: r.int('seq'),
    firstIndex: r.int('firstIndex'),
    count: r.int('count'),
    prevHash: r.bin('prevHash'),
    lastLeafHash: r.bin('lastLeafHash'),
    receivedAt: r.str('receivedAt'),
    submitter: r.str('submitter'),
    attemptId: r.str('attemptId'),
  };
  const key = item.idempotencyKey?.S;
  if (key !== undefined) h.idempotencyKey = key;
  const members = item.members?.S;
  if (members !== undefined) h.members = parseMembers(members, item);
  return h;
}

/** A batch's `members` attribute: JSON [{acceptId, count}] (src/ports/log-store.ts BatchMember). */
function parseMembers(text: string, item: Item): BatchMember[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw integrity(`item ${item.pk?.S}: members is not JSON`);
  }
  if (
    !Array.isArray(v) ||
    !v.every(
      (m) =>
        typeof m === 'object' &&
        m !== null &&
        typeof m.acceptId === 'string' &&
        typeof m.requestHash === 'string' &&
        Number.isSafeInteger(m.count) &&
        m.count > 0,
    )
  )
    throw integrity(`item ${item.pk?.S}: members is malformed`);
  return (v as BatchMember[]).map((m) => ({
    acceptId: m.acceptId,
    count: m.count,
    requestHash: m.requestHash,
  }));
}

function emptyTip(logId: string): LogTip {
  return { logId, seq: 0, nextIndex: 0, lastLeafHash: ZERO_HASH, lastReceivedAt: undefined };
}

/** The tip right after batch `seq`, from its commit item (read at that seq's key). */
function tipAfter(logId: string, seq: number, item: Item): LogTip {
  const h = headerFrom(logId, item);
  if (h.seq !== seq) throw integrity(`batch item ${item.pk?.S} says it is batch ${h.seq}`);
  return {
    logId,
    seq,
    nextIndex: h.firstIndex + h.count,
    lastLeafHash: h.lastLeafHash,
    lastReceivedAt: h.receivedAt,
  };
}

function claimItem(c: IdempotencyClaim): Item {
  return {
    pk: S(keyPk(c.logId, c.keyHash)),
    sk: S('IK'),
    state: S('IN_PROGRESS'),
    key: S(c.key),
    submitter: S(c.submitter),
    requestHash: B(c.requestHash),
    attemptId: S(c.attemptId),
    tipSeqAtClaim: N(c.tipSeqAtClaim),
    expiresAt: N(c.expiresAt),
  };
}

function claimFrom(logId: string, item: Item): IdempotencyRecord {
  const f = read(item);
  const state = f.str('state');
  if (state !== 'IN_PROGRESS' && state !== 'COMMITTED')
    throw integrity(`idempotency claim in state ${state}`);
  const pk = f.str('pk');
  const r: IdempotencyRecord = {
    logId,
    keyHash: pk.slice(pk.lastIndexOf('#') + 1),
    key: f.str('key'),
    submitter: f.str('submitter'),
    requestHash: f.bin('requestHash'),
    attemptId: f.str('attemptId'),
    tipSeqAtClaim: f.int('tipSeqAtClaim'),
    expiresAt: f.int('expiresAt'),
    state,
  };
  if (item.seq?.N !== undefined) r.seq = f.int('seq');
  return r;
}
