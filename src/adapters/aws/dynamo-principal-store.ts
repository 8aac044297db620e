/**
 * PrincipalStore on the single DynamoDB table (src/adapters/aws/table.ts).
 *
 * Items owned here, written by the admin role only (the authorizer and the
 * API handlers read them to authenticate; ./table.ts lists every family):
 *   pk = P#<id>       sk = P     the principal entry:
 *                                  rev      N  compare-and-swap revision
 *                                  cur      S  JSON of the committed Principal (absent while creation is staged)
 *                                  curHash  B  SHA-256 of the current secret
 *                                  curSeq   N  system-log batch of the current version's audit record
 *                                  curIndex N  its leaf index (both absent on entries written
 *                                              before audit bindings; see PrincipalState.recorded)
 *                                  pend     S  JSON { principal, audit } of the staged change, if any
 *                                  pendHash B  secret hash of the staged state
 *   pk = PRINCIPALS   sk = <id>  directory entry, so listing is a Query on one
 *                                small partition rather than a Scan of a table
 *                                that also holds every log record.
 *   pk = U#<id>       sk = USE   last use (lastUsedAt S, ISO 8601), written by the
 *                                authorizer at most once per principal per interval
 *                                (one conditional UpdateItem; docs/access.md). A family
 *                                of its own so the authorizer can write it without
 *                                being able to write the principal.
 *
 * Each principal has its own partition, so authentication (one consistent
 * GetItem per request) spreads over partitions. The directory item is written
 * (idempotently) *before* an entry's first put; a crash in between leaves a
 * directory item with no principal, which `list` skips. Neither write needs a
 * transaction.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Sleep } from '../../core/backoff.ts';
import type { Principal } from '../../core/principal.ts';
import {
  decodePrincipalCursor,
  encodePrincipalCursor,
  type PrincipalEntry,
  type PrincipalPage,
  type PrincipalState,
  type PrincipalStore,
  PrincipalStoreError,
} from '../../ports/principal-store.ts';
import { B, DynamoTable, type Item, N, S } from './dynamo-items.ts';

const ENTRY_SK = 'P';
const DIRECTORY_PK = 'PRINCIPALS';
const entryPk = (id: string) => `P#${id}`;
const USE_SK = 'USE';
const usePk = (id: string) => `U#${id}`;

export class DynamoPrincipalStore implements PrincipalStore {
  readonly #t: DynamoTable;
  readonly #ddb: DynamoDBClient;
  readonly #table: string;

  constructor(opts: { client: DynamoDBClient; tableName: string; sleep?: Sleep }) {
    this.#t = new DynamoTable({
      client: opts.client,
      tableName: opts.tableName,
      errors: PrincipalStoreError,
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
    });
    this.#ddb = opts.client;
    this.#table = opts.tableName;
  }

  async get(id: string): Promise<PrincipalEntry | undefined> {
    // Consistent (contract: a revocation is visible to the next request).
    const item = await this.#t.get({ pk: S(entryPk(id)), sk: S(ENTRY_SK) });
    return item ? fromItem(id, item) : undefined;
  }

  async put(entry: Omit<PrincipalEntry, 'rev'>, expectedRev: number): Promise<number> {
    if (!Number.isSafeInteger(expectedRev) || expectedRev < 0) throw new TypeError('put: bad expectedRev');
    if (expectedRev === 0) {
      await this.#t.send(() =>
        this.#ddb.send(
          new PutItemCommand({
            TableName: this.#table,
            Item: { pk: S(DIRECTORY_PK), sk: S(entry.id) },
          }),
        ),
      );
    }
    const rev = expectedRev + 1;
    try {
      await this.#t.send(() =>
        this.#ddb.send(
          new PutItemCommand({
            TableName: this.#table,
            Item: toItem(entry, rev),
            ...(expectedRev === 0
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : {
                  ConditionExpression: '#rev = :expected',
                  ExpressionAttributeNames: { '#rev': 'rev' },
                  ExpressionAttributeValues: { ':expected': N(expectedRev) },
                }),
          }),
        ),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new PrincipalStoreError(
          'CONFLICT',
          expectedRev === 0
            ? `principal ${entry.id} already exists`
            : `principal ${entry.id} was changed concurrently; re-read and retry`,
          { cause: err },
        );
      }
      throw err;
    }
    return rev;
  }

  async list(opts: { cursor?: string; limit: number }): Promise<PrincipalPage> {
    // The caller (src/app/principals.ts) validates the client's limit; here it is a contract.
    if (!Number.isSafeInteger(opts.limit) || opts.limit < 1 || opts.limit > 100)
      throw new RangeError('list: limit must be an integer from 1 to 100');
    const after = opts.cursor === undefined ? undefined : decodePrincipalCursor(opts.cursor);
    const page = await this.#t.send(() =>
      this.#ddb.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': S(DIRECTORY_PK) },
          ConsistentRead: true,
          Limit: opts.limit,
          ...(after ? { ExclusiveStartKey: { pk: S(DIRECTORY_PK), sk: S(after) } } : {}),
        }),
      ),
    );
    const ids = (page.Items ?? []).map((i) => i.sk?.S).filter((s): s is string => typeof s === 'string');
    const items = await this.#t.batchGet(ids.map((id) => ({ pk: S(entryPk(id)), sk: S(ENTRY_SK) })));
    const entries = items.map((item) => fromItem((item.pk?.S ?? '').slice(2), item));
    const lastId = page.LastEvaluatedKey?.sk?.S;
    return {
      entries: entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
      ...(lastId ? { cursor: encodePrincipalCursor(lastId) } : {}),
    };
  }

  async recordUse(id: string, at: string, ifLastBefore: string): Promise<boolean> {
    return this.#t.ifCondition(() =>
      this.#ddb.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { pk: S(usePk(id)), sk: S(USE_SK) },
          UpdateExpression: 'SET #schema = :one, #at = :at',
          ConditionExpression: 'attribute_not_exists(#at) OR #at < :before',
          ExpressionAttributeNames: { '#schema': 'schema', '#at': 'lastUsedAt' },
          ExpressionAttributeValues: { ':one': N(1), ':at': S(at), ':before': S(ifLastBefore) },
        }),
      ),
    );
  }

  async lastUsed(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length > 100) throw new RangeError('lastUsed: at most 100 ids');
    const items = await this.#t.batchGet(ids.map((id) => ({ pk: S(usePk(id)), sk: S(USE_SK) })));
    const out = new Map<string, string>();
    for (const item of items) {
      const id = (item.pk?.S ?? '').slice(2);
      const at = item.lastUsedAt?.S;
      // Informational only, never trusted for access: a malformed value is left out, not fatal.
      if (typeof at === 'string' && Number.isFinite(Date.parse(at))) out.set(id, at);
    }
    return out;
  }
}

function toItem(entry: Omit<PrincipalEntry, 'rev'>, rev: number): Item {
  const item: Item = {
    pk: S(entryPk(entry.id)),
    sk: S(ENTRY_SK),
    schema: N(1),
    rev: N(rev),
  };
  if (entry.current) {
    item.cur = S(JSON.stringify(entry.current.principal));
    item.curHash = B(entry.current.secretHash);
    if (entry.current.recorded) {
      item.curSeq = N(entry.current.recorded.seq);
      item.curIndex = N(entry.current.recorded.index);
    }
  }
  if (entry.pending) {
    item.pend = {
      S: JSON.stringify({ principal: entry.pending.state.principal, audit: entry.pending.audit }),
    };
    item.pendHash = B(entry.pending.state.secretHash);
  }
  return item;
}

/**
 * Parses a stored item. Our own writes produce these, so anything malformed
 * means the table was edited out of band or corrupted: INTEGRITY, not 400.
 */
function fromItem(id: string, item: Item): PrincipalEntry {
  const corrupt = (why: string): never => {
    throw new PrincipalStoreError('INTEGRITY', `stored principal ${id} is malformed: ${why}`);
  };
  const rev = Number(item.rev?.N);
  if (!Number.isSafeInteger(rev) || rev < 1) corrupt('rev');
  const entry: PrincipalEntry = { id, rev };
  if (item.cur) {
    entry.current = state(item.cur.S, item.curHash?.B, id, corrupt);
    if (item.curSeq || item.curIndex) {
      const seq = Number(item.curSeq?.N);
      const index = Number(item.curIndex?.N);
      if (!Number.isSafeInteger(seq) || seq < 1 || !Number.isSafeInteger(index) || index < 0) {
        corrupt('curSeq/curIndex');
      }
      entry.current.recorded = { seq, index };
    }
  }
  if (item.pend) {
    let parsed: { principal?: unknown; audit?: unknown };
    try {
      parsed = JSON.parse(item.pend.S ?? '');
    } catch {
      return corrupt('pend');
    }
    const audit = parsed.audit;
    if (typeof audit !== 'object' || audit === null || Array.isArray(audit)) return corrupt('pend.audit');
    entry.pending = {
      state: state(JSON.stringify(parsed.principal), item.pendHash?.B, id, corrupt),
      audit: audit as Record<string, unknown>,
    };
  }
  return entry;
}

function state(
  json: string | undefined,
  hash: Uint8Array | undefined,
  id: string,
  corrupt: (why: string) => never,
): PrincipalState {
  let p: Principal;
  try {
    p = JSON.parse(json ?? '');
  } catch {
    return corrupt('principal JSON');
  }
  if (typeof p !== 'object' || p === null || p.id !== id || !Number.isSafeInteger(p.version)) {
    return corrupt('principal fields');
  }
  if (!(hash instanceof Uint8Array) || hash.length !== 32) return corrupt('secret hash');
  return { principal: p, secretHash: new Uint8Array(hash) };
}
