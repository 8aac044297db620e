/**
 * DetectionStateStore on the single DynamoDB table (key schema in ./table.ts;
 * docs/detection.md "State"). Every item of a log's detection lives in one
 * partition, written by the detect role only (IAM `D#*`):
 *
 *   pk=D#<logId> sk=CURSOR          ver N, nextIndex N, watermarkMs N (-1 before the
 *                                   first step), cid S (id of the commit that wrote this
 *                                   version), seq N? firstIndex N? (resume hint),
 *                                   redo M? {to N, parts N, cid S}: a commit that is decided
 *                                   but not yet applied
 *   pk=D#<logId> sk=I#<item key>    one state item: j S (its JSON), or, when that is over
 *                                   INLINE_MAX bytes, z B (deflate-raw JSON, first part) and
 *                                   n N (parts); exp N (expiresAtMs); ttl N?
 *   pk=D#<logId> sk=J#<item key>#<k>  part k ≥ 1 of a large item: z B; ttl N?
 *   pk=D#<logId> sk=O#<position>    an outbox entry: e S (JSON), id S, cs N? + cp S? (the
 *                                   checkpoint its records are under)
 *   pk=D#<logId> sk=R#<version>#<k> part k of the redo record of the commit to <version>:
 *                                   z B (deflate-raw JSON of the whole commit); ttl N
 *
 * A commit is one of two things:
 *  - TransactWriteItems, when it fits (≤ 100 writes, ≤ TRANSACTION_MAX_BYTES):
 *    the cursor put, conditional on the version (and on no pending redo),
 *    and every item and outbox put, atomically. ClientRequestToken is the
 *    commit id, so an SDK retry of a transaction that landed succeeds.
 *  - otherwise a redo record: (1) its parts, (2) THE DECISION: `redo` set on
 *    the cursor under the same condition, (3) the item and outbox puts, (4)
 *    the cursor moved to the new version and `redo` removed, conditional on
 *    `redo.cid` being this commit. Dies before (2): nothing is visible (the
 *    parts are unreferenced; they expire). Dies after (2): every reader —
 *    readCursor, readItems, readOutbox — finds `redo` on the cursor and
 *    completes it before it reads anything, which is safe to do any number
 *    of times and concurrently: every write is an absolute value, outbox
 *    positions are fixed by the commit, and the parts are checked against
 *    the commit id (SHA-256 of the commit), so a part that does not belong
 *    is INTEGRITY, never applied.
 * Either way a commit whose answer was lost (a timeout after it landed) is
 * recognised on its condition failure by the commit id on the cursor, and
 * resolves true.
 *
 * TTL: a state item expires (DynamoDB TTL, attribute `ttl`, epoch seconds) a
 * week after its `expiresAtMs`, in log time, so an evaluator lagging by less
 * than a week never finds an item deleted that it still needs (the engine
 * ignores expired items itself: deletion is only housekeeping). Items that
 * never expire (NEVER) carry no `ttl`. Redo parts expire REDO_TTL_MS after
 * they were written (wall clock): a commit decided longer ago than that and
 * never completed is an INTEGRITY failure for an operator. Outbox entries
 * and the cursor never expire; delivery acknowledges (deletes) entries.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { concatBytes, toHex, utf8 } from '../../core/bytes.ts';
import type { OutboxEntry } from '../../core/detect/alert.ts';
import { NEVER, type StateItem } from '../../core/detect/state.ts';
import { sha256 } from '../../core/hash.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import {
  type CheckpointRef,
  type DetectionCommit,
  DetectionStateError,
  type DetectionStateStore,
  type LogPosition,
  OUTBOX_PAGE_MAX,
  type OutboxPage,
  type OutboxRecord,
  outboxPosition,
  type StoredCursor,
} from '../../ports/detection-state.ts';
import { B, DynamoTable, type Item, itemReader, N, S } from './dynamo-items.ts';

/** Partition prefix of detection state; the IAM grants in cdk/ name the same prefix. */
export const DETECTION_PREFIX = 'D#';
const CURSOR_SK = 'CURSOR';
/** TransactWriteItems takes at most 100 writes and 4 MB; the estimate below leaves a margin. */
export const TRANSACTION_MAX_ITEMS = 100;
export const TRANSACTION_MAX_BYTES = 3_500_000;
/** Bytes of item JSON or blob kept in one DynamoDB item (which holds at most 400 KB). */
export const INLINE_MAX = 350_000;
const WEEK_MS = 7 * 86_400_000;
/** How long redo parts are kept (wall clock): far longer than any run. */
export const REDO_TTL_MS = 30 * 86_400_000;
/** Times a reader completes a pending redo and reads again before it gives up (UNAVAILABLE). */
const REDO_ROUNDS = 5;
const STATE_TYPES = new Set(['window', 'seen', 'rule', 'dedup']);
const OUTBOX_TYPES = new Set(['alert', 'occurrence', 'suppressed']);

const pk = (logId: string) => S(`${DETECTION_PREFIX}${logId}`);
const cursorKey = (logId: string): Item => ({ pk: pk(logId), sk: S(CURSOR_SK) });
const headSk = (key: string) => `I#${key}`;
const partSk = (key: string, k: number) => `J#${key}#${k}`;
const redoSk = (version: number, k: number) =>
  `R#${String(version).padStart(16, '0')}#${String(k).padStart(4, '0')}`;
const outboxSk = (position: string) => `O#${position}`;

/** The commit as stored in a redo record (and hashed into its id). */
interface RedoRecord {
  readonly v: 1;
  readonly logId: string;
  readonly expectedVersion: number;
  readonly cursor: DetectionCommit['cursor'];
  readonly puts: readonly (readonly [string, StateItem])[];
  readonly outbox: readonly OutboxEntry[];
  readonly checkpoint: CheckpointRef | null;
  readonly resume: LogPosition | null;
}

interface RawCursor {
  readonly version: number;
  readonly cid: string | undefined;
  readonly redo: { readonly to: number; readonly parts: number; readonly cid: string } | undefined;
  readonly cursor: StoredCursor | undefined;
}

/** Splits bytes into INLINE_MAX-sized pieces (at least one). */
function split(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length || out.length === 0; i += INLINE_MAX)
    out.push(bytes.subarray(i, i + INLINE_MAX));
  return out;
}

export interface DynamoDetectionStateStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Wall clock for the TTL of redo parts. */
  clock?: Clock;
}

export class DynamoDetectionStateStore implements DetectionStateStore {
  readonly #t: DynamoTable;
  readonly #ddb: DynamoDBClient;
  readonly #table: string;
  readonly #clock: Clock;

  constructor(opts: DynamoDetectionStateStoreOptions) {
    this.#t = new DynamoTable({
      client: opts.client,
      tableName: opts.tableName,
      errors: DetectionStateError,
    });
    this.#ddb = opts.client;
    this.#table = opts.tableName;
    this.#clock = opts.clock ?? systemClock;
  }

  #corrupt(logId: string, what: string): DetectionStateError {
    return new DetectionStateError('INTEGRITY', `detection state of log ${logId} is malformed: ${what}`);
  }

  // --- reads ---------------------------------------------------------------

  async readCursor(logId: string): Promise<StoredCursor | undefined> {
    for (let round = 0; round < REDO_ROUNDS; round++) {
      const raw = this.#parseCursor(logId, await this.#t.get(cursorKey(logId)));
      if (raw?.redo === undefined) return raw?.cursor;
      await this.#complete(logId, raw.redo);
    }
    throw this.#busy(logId);
  }

  async readItems(logId: string, keys: readonly string[]): Promise<Map<string, StateItem>> {
    const unique = [...new Set(keys)];
    for (let round = 0; round < REDO_ROUNDS; round++) {
      // The cursor rides along in the same batch: a pending redo is completed before anything is returned.
      const found = await this.#t.batchGet([
        cursorKey(logId),
        ...unique.map((k) => ({ pk: pk(logId), sk: S(headSk(k)) })),
      ]);
      const cursorItem = found.find((i) => i.sk?.S === CURSOR_SK);
      const raw = this.#parseCursor(logId, cursorItem);
      if (raw?.redo !== undefined) {
        await this.#complete(logId, raw.redo);
        continue;
      }
      const heads = found.filter((i) => i.sk?.S !== CURSOR_SK);
      const partKeys: Item[] = [];
      for (const h of heads) {
        const n = h.n?.N === undefined ? 1 : Number(h.n.N);
        const key = (h.sk?.S ?? '').slice(2);
        for (let k = 1; k < n; k++) partKeys.push({ pk: pk(logId), sk: S(partSk(key, k)) });
      }
      const parts = new Map(
        (partKeys.length ? await this.#t.batchGet(partKeys) : []).map((p) => [p.sk?.S ?? '', p]),
      );
      const out = new Map<string, StateItem>();
      for (const h of heads) {
        const key = (h.sk?.S ?? '').slice(2);
        out.set(key, this.#parseStateItem(logId, key, h, parts));
      }
      return out;
    }
    throw this.#busy(logId);
  }

  async readOutbox(logId: string, opts: { after?: string; limit?: number } = {}): Promise<OutboxPage> {
    await this.readCursor(logId); // completes a pending redo, whose entries belong to a decided commit
    const limit = Math.min(Math.max(1, opts.limit ?? 100), OUTBOX_PAGE_MAX);
    const after = opts.after;
    const records: OutboxRecord[] = [];
    let start: Item | undefined;
    let more = false;
    do {
      const page = await this.#t.send(() =>
        this.#ddb.send(
          new QueryCommand({
            TableName: this.#table,
            // Outbox items sort between `O#` and `O$` ('#' < '$'), before redo parts `R#`.
            KeyConditionExpression: 'pk = :p AND sk BETWEEN :lo AND :hi',
            ExpressionAttributeValues: {
              ':p': pk(logId),
              ':lo': S(outboxSk(after ?? '')),
              ':hi': S('O$'),
            },
            ConsistentRead: true,
            Limit: limit + 2 - records.length,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const r = this.#parseOutbox(logId, item);
        if (after !== undefined && r.position <= after) continue;
        if (records.length === limit) {
          more = true;
          break;
        }
        records.push(r);
      }
      start = page.LastEvaluatedKey;
    } while (start && !more);
    const last = records[records.length - 1];
    return more && last ? { records, next: last.position } : { records };
  }

  async ackOutbox(logId: string, positions: readonly string[]): Promise<void> {
    const keys = [...new Set(positions)]
      .filter((p) => /^\d{16}\.\d{6}$/.test(p))
      .map((p) => ({ pk: pk(logId), sk: S(outboxSk(p)) }));
    if (keys.length) await this.#t.batchDelete(keys);
  }

  // --- commit --------------------------------------------------------------

  async commit(c: DetectionCommit): Promise<boolean> {
    if (c.cursor.version !== c.expectedVersion + 1 || c.cursor.logId !== c.logId)
      throw new TypeError('commit: the new cursor must be the next version of this log');
    const record: RedoRecord = {
      v: 1,
      logId: c.logId,
      expectedVersion: c.expectedVersion,
      cursor: {
        logId: c.cursor.logId,
        nextIndex: c.cursor.nextIndex,
        watermarkMs: c.cursor.watermarkMs,
        version: c.cursor.version,
      },
      puts: [...c.puts],
      outbox: c.outbox,
      checkpoint: c.checkpoint ? { size: c.checkpoint.size, checkpoint: c.checkpoint.checkpoint } : null,
      resume: c.resume ? { seq: c.resume.seq, firstIndex: c.resume.firstIndex } : null,
    };
    const json = utf8(JSON.stringify(record));
    const cid = toHex(sha256(json)).slice(0, 32);
    const writes = this.#writesOf(record);
    const bytes = writes.reduce((n, w) => n + w.bytes, 0);
    if (writes.length + 1 <= TRANSACTION_MAX_ITEMS && bytes <= TRANSACTION_MAX_BYTES)
      return this.#commitTransaction(
        record,
        cid,
        writes.map((w) => w.item),
      );
    return this.#commitRedo(record, cid, json);
  }

  /** The condition every commit's decision is taken under: the version, and no other commit pending. */
  #condition(expectedVersion: number): { expr: string; names: Record<string, string>; values: Item } {
    return {
      expr:
        expectedVersion === 0
          ? '(attribute_not_exists(pk) OR #ver = :ver) AND attribute_not_exists(redo)'
          : '#ver = :ver AND attribute_not_exists(redo)',
      names: { '#ver': 'ver' },
      values: { ':ver': N(expectedVersion) },
    };
  }

  async #commitTransaction(record: RedoRecord, cid: string, items: Item[]): Promise<boolean> {
    const cond = this.#condition(record.expectedVersion);
    const cursor: TransactWriteItem = {
      Put: {
        TableName: this.#table,
        Item: this.#cursorItem(record, cid),
        ConditionExpression: cond.expr,
        ExpressionAttributeNames: cond.names,
        ExpressionAttributeValues: cond.values,
      },
    };
    try {
      await this.#t.send(() =>
        this.#ddb.send(
          new TransactWriteItemsCommand({
            TransactItems: [cursor, ...items.map((Item) => ({ Put: { TableName: this.#table, Item } }))],
            // Same commit, same token: an SDK retry of a transaction that landed is answered as a success.
            ClientRequestToken: cid,
          }),
        ),
      );
      return true;
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const reasons = (err.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
      if (reasons[0] === 'ConditionalCheckFailed')
        return this.#landed(record.logId, record.cursor.version, cid);
      if (reasons.some((r) => /Conflict|Throttl|Throughput|RequestLimit/.test(r)))
        throw new DetectionStateError(
          'THROTTLED',
          `DynamoDB: transaction cancelled (${reasons.join(', ')})`,
          {
            cause: err,
          },
        );
      throw err;
    }
  }

  async #commitRedo(record: RedoRecord, cid: string, json: Uint8Array): Promise<boolean> {
    const logId = record.logId;
    const to = record.cursor.version;
    const parts = split(deflateRawSync(json));
    const ttl = N(Math.floor((this.#clock.now() + REDO_TTL_MS) / 1000));
    await this.#t.batchPut(parts.map((z, k) => ({ pk: pk(logId), sk: S(redoSk(to, k)), z: B(z), ttl })));
    // THE DECISION. Dies before it lands: the parts are unreferenced and nothing is visible. Dies
    // after it: the next reader completes the commit.
    const redo: Item = { to: N(to), parts: N(parts.length), cid: S(cid) };
    const cond = this.#condition(record.expectedVersion);
    const decided = await this.#t.ifCondition(() =>
      record.expectedVersion === 0
        ? this.#ddb.send(
            new PutItemCommand({
              TableName: this.#table,
              Item: { ...cursorKey(logId), ver: N(0), redo: { M: redo } },
              ConditionExpression: cond.expr,
              ExpressionAttributeNames: cond.names,
              ExpressionAttributeValues: cond.values,
            }),
          )
        : this.#ddb.send(
            new UpdateItemCommand({
              TableName: this.#table,
              Key: cursorKey(logId),
              UpdateExpression: 'SET redo = :redo',
              ConditionExpression: cond.expr,
              ExpressionAttributeNames: cond.names,
              ExpressionAttributeValues: { ...cond.values, ':redo': { M: redo } },
            }),
          ),
    );
    if (!decided) {
      // Our decision may have landed with its answer lost: then it is pending, or completed already.
      const raw = this.#parseCursor(logId, await this.#t.get(cursorKey(logId)));
      if (raw?.redo?.cid !== cid) return raw?.version === to && raw.cid === cid;
    }
    await this.#apply(record, cid);
    return true;
  }

  /** After a failed condition: did this very commit land (its answer lost)? */
  async #landed(logId: string, to: number, cid: string): Promise<boolean> {
    const raw = this.#parseCursor(logId, await this.#t.get(cursorKey(logId)));
    return raw?.version === to && raw.cid === cid;
  }

  /** Completes a pending redo: reads and checks its parts, writes its items and outbox, moves the cursor. */
  async #complete(logId: string, redo: NonNullable<RawCursor['redo']>): Promise<void> {
    const keys = Array.from({ length: redo.parts }, (_, k) => ({ pk: pk(logId), sk: S(redoSk(redo.to, k)) }));
    const found = new Map((await this.#t.batchGet(keys)).map((i) => [i.sk?.S ?? '', i]));
    const chunks: Uint8Array[] = [];
    for (const k of keys) {
      const z = found.get(k.sk.S as string)?.z?.B;
      if (z === undefined) throw this.#corrupt(logId, `redo part ${k.sk.S} of a pending commit is missing`);
      chunks.push(z);
    }
    let json: Uint8Array;
    let record: RedoRecord;
    try {
      json = inflateRawSync(concatBytes(...chunks));
      record = JSON.parse(new TextDecoder().decode(json)) as RedoRecord;
    } catch {
      throw this.#corrupt(logId, `the redo record of version ${redo.to} does not decode`);
    }
    if (
      toHex(sha256(json)).slice(0, 32) !== redo.cid ||
      record.logId !== logId ||
      record.cursor?.version !== redo.to
    )
      throw this.#corrupt(logId, `the redo record of version ${redo.to} is not the commit the cursor names`);
    await this.#apply(record, redo.cid);
  }

  /** Steps (3) and (4) of a redo commit; idempotent. */
  async #apply(record: RedoRecord, cid: string): Promise<void> {
    const logId = record.logId;
    await this.#t.batchPut(this.#writesOf(record).map((w) => w.item));
    const c = record.cursor;
    const resume = record.resume;
    // A condition failure means another reader completed it first: nothing left to do.
    await this.#t.ifCondition(() =>
      this.#ddb.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: cursorKey(logId),
          UpdateExpression: `SET #ver = :to, nextIndex = :n, watermarkMs = :w, cid = :cid${
            resume ? ', seq = :seq, firstIndex = :first' : ''
          } REMOVE redo${resume ? '' : ', seq, firstIndex'}`,
          ConditionExpression: 'redo.cid = :cid',
          ExpressionAttributeNames: { '#ver': 'ver' },
          ExpressionAttributeValues: {
            ':to': N(c.version),
            ':n': N(c.nextIndex),
            ':w': N(c.watermarkMs),
            ':cid': S(cid),
            ...(resume ? { ':seq': N(resume.seq), ':first': N(resume.firstIndex) } : {}),
          },
        }),
      ),
    );
  }

  // --- item codecs -----------------------------------------------------------

  #cursorItem(record: RedoRecord, cid: string): Item {
    const c = record.cursor;
    return {
      ...cursorKey(record.logId),
      ver: N(c.version),
      nextIndex: N(c.nextIndex),
      watermarkMs: N(c.watermarkMs),
      cid: S(cid),
      ...(record.resume ? { seq: N(record.resume.seq), firstIndex: N(record.resume.firstIndex) } : {}),
    };
  }

  /** The item and outbox puts of a commit, with a size estimate each (for the transaction limit). */
  #writesOf(record: RedoRecord): { item: Item; bytes: number }[] {
    const logId = record.logId;
    const out: { item: Item; bytes: number }[] = [];
    const base = 2 * (logId.length + 40);
    for (const [key, value] of record.puts) {
      const exp = value.expiresAtMs;
      const ttl: Item = exp < NEVER - WEEK_MS ? { ttl: N(Math.floor((exp + WEEK_MS) / 1000)) } : {};
      const json = utf8(JSON.stringify(value));
      const head = { pk: pk(logId), sk: S(headSk(key)), exp: N(exp), ...ttl };
      if (json.length <= INLINE_MAX) {
        out.push({
          item: { ...head, j: S(new TextDecoder().decode(json)) },
          bytes: base + key.length + json.length,
        });
        continue;
      }
      const parts = split(deflateRawSync(json));
      out.push({
        item: { ...head, z: B(parts[0] as Uint8Array), n: N(parts.length) },
        bytes: base + key.length + (parts[0] as Uint8Array).length,
      });
      for (let k = 1; k < parts.length; k++)
        out.push({
          item: { pk: pk(logId), sk: S(partSk(key, k)), z: B(parts[k] as Uint8Array), ...ttl },
          bytes: base + key.length + (parts[k] as Uint8Array).length,
        });
    }
    const cp = record.checkpoint;
    record.outbox.forEach((e, i) => {
      const json = JSON.stringify(e);
      out.push({
        item: {
          pk: pk(logId),
          sk: S(outboxSk(outboxPosition(record.cursor.version, i))),
          e: S(json),
          id: S(e.id),
          ...(cp ? { cs: N(cp.size), cp: S(cp.checkpoint) } : {}),
        },
        bytes: base + json.length * 2 + (cp?.checkpoint.length ?? 0),
      });
    });
    return out;
  }

  #parseCursor(logId: string, item: Item | undefined): RawCursor | undefined {
    if (item === undefined) return undefined;
    const r = itemReader(item, (what) => this.#corrupt(logId, `cursor: ${what}`));
    const version = r.count('ver');
    const m = item.redo?.M;
    let redo: RawCursor['redo'];
    if (m !== undefined) {
      const rr = itemReader(m, (what) => this.#corrupt(logId, `cursor redo: ${what}`));
      redo = { to: rr.count('to'), parts: rr.count('parts'), cid: rr.str('cid') };
      if (redo.to !== version + 1 || redo.parts < 1)
        throw this.#corrupt(logId, 'cursor redo names no next version');
    }
    if (version === 0) return { version, cid: undefined, redo, cursor: undefined };
    const watermarkMs = r.int('watermarkMs');
    if (watermarkMs < -1) throw this.#corrupt(logId, 'cursor: watermarkMs is before -1');
    const resume =
      item.seq?.N !== undefined ? { resume: { seq: r.count('seq'), firstIndex: r.count('firstIndex') } } : {};
    return {
      version,
      cid: item.cid?.S,
      redo,
      cursor: { logId, nextIndex: r.count('nextIndex'), watermarkMs, version, ...resume },
    };
  }

  #parseStateItem(logId: string, key: string, head: Item, parts: Map<string, Item>): StateItem {
    let text: string;
    if (head.j?.S !== undefined) text = head.j.S;
    else {
      const n = head.n?.N === undefined ? Number.NaN : Number(head.n.N);
      const first = head.z?.B;
      if (first === undefined || !Number.isSafeInteger(n) || n < 1)
        throw this.#corrupt(logId, `item ${key} holds neither j nor z with n`);
      const chunks = [first];
      for (let k = 1; k < n; k++) {
        const z = parts.get(partSk(key, k))?.z?.B;
        if (z === undefined) throw this.#corrupt(logId, `item ${key} is missing part ${k}`);
        chunks.push(z);
      }
      try {
        text = new TextDecoder().decode(inflateRawSync(concatBytes(...chunks)));
      } catch {
        throw this.#corrupt(logId, `item ${key} does not inflate`);
      }
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw this.#corrupt(logId, `item ${key} is not JSON`);
    }
    const o = v as { type?: unknown; expiresAtMs?: unknown };
    if (
      typeof v !== 'object' ||
      v === null ||
      !STATE_TYPES.has(o.type as string) ||
      typeof o.expiresAtMs !== 'number'
    )
      throw this.#corrupt(logId, `item ${key} is not a state item`);
    return v as StateItem;
  }

  #parseOutbox(logId: string, item: Item): OutboxRecord {
    const r = itemReader(item, (what) => this.#corrupt(logId, `outbox entry: ${what}`));
    const position = r.str('sk').slice(2);
    let entry: OutboxEntry;
    try {
      entry = JSON.parse(r.str('e')) as OutboxEntry;
    } catch {
      throw this.#corrupt(logId, `outbox entry ${position} is not JSON`);
    }
    if (
      typeof entry !== 'object' ||
      entry === null ||
      !OUTBOX_TYPES.has(entry.type) ||
      entry.id !== r.str('id')
    )
      throw this.#corrupt(logId, `outbox entry ${position} is not an outbox entry`);
    const checkpoint = item.cp?.S !== undefined ? { size: r.count('cs'), checkpoint: item.cp.S } : null;
    return { logId, position, entry, checkpoint };
  }

  #busy(logId: string): DetectionStateError {
    return new DetectionStateError(
      'UNAVAILABLE',
      `detection state of log ${logId}: commits kept landing while it was read; read again`,
    );
  }
}
