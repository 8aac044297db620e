/**
 * SealStateStore on the single DynamoDB table (key schema in ./table.ts).
 *
 * Item owned here, written by the seal role only (IAM: `S#*` is the seal
 * role's alone; everyone else may read it):
 *   pk=S#<logId>  sk=SEAL   version N, size N, rootHash B, rightEdge B, seq N,
 *                           lastLeafHash B, lastReceivedAt S?, checkpoint S,
 *                           publishedVersion N, sealedAt N, classEdges B?,
 *                           halted S?, haltedAt N?
 *
 * `classEdges` (the class logs' right edges, src/core/classes/edges.ts) is
 * absent from items written before it existed; the sealer then rebuilds the
 * edges from the archive. A few hundred bytes per class.
 *
 * Legacy (before issue #11), read-only: pk=L#<logId> sk=SEAL, same
 * attributes. It sat in the log's own partition, which the ingest role may
 * write, so a rolled-back or forged state could be planted there. `read`
 * falls back to it only while `S#<logId>` holds nothing, and marks it
 * `legacy`; the sealer checks it against the archive and `adopt`s it, after
 * which it is never read again. Nothing here writes `L#`.
 *
 * Written at most twice per seal run (CAS, then the publish marker) — far
 * below a partition's 1,000 WCU/s.
 *
 * The CAS is a conditional PutItem on `version` (sunlight's LockBackend
 * "compare-and-swap"); `attribute_not_exists(halted)` in the same condition
 * means a halt can never be overwritten by a racing seal.
 */
import { type DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  initialSealState,
  type SealState,
  SealStateError,
  type SealStateStore,
} from '../../ports/seal-state.ts';
import { B, DynamoTable, type Item, itemReader, N, S } from './dynamo-items.ts';

export const SEAL_SK = 'SEAL';
/** Partition prefix of the seal state; the IAM grants in cdk/ name the same prefix. */
export const SEAL_STATE_PREFIX = 'S#';
const key = (logId: string): Item => ({ pk: S(`${SEAL_STATE_PREFIX}${logId}`), sk: S(SEAL_SK) });
const legacyKey = (logId: string): Item => ({ pk: S(`L#${logId}`), sk: S(SEAL_SK) });

function fromItem(logId: string, item: Item): SealState {
  const r = itemReader(
    item,
    (what) => new SealStateError('INTEGRITY', `seal state of log ${logId} is malformed: ${what}`),
  );
  const version = r.count('version', 0);
  const halted = item.halted?.S;
  if (version === 0) {
    // Only a halt marker (sealing stopped before anything was ever sealed).
    return initialSealState(logId, halted);
  }
  return {
    logId,
    version,
    size: r.count('size'),
    rootHash: r.bin('rootHash'),
    rightEdge: r.bin('rightEdge'),
    seq: r.count('seq'),
    lastLeafHash: r.bin('lastLeafHash'),
    lastReceivedAt: item.lastReceivedAt?.S,
    checkpoint: r.str('checkpoint'),
    publishedVersion: r.count('publishedVersion', 0),
    sealedAt: r.count('sealedAt', 0),
    ...(item.classEdges !== undefined ? { classEdges: r.bin('classEdges') } : {}),
    halted,
  };
}

export class DynamoSealStateStore implements SealStateStore {
  readonly #t: DynamoTable;
  readonly #ddb: DynamoDBClient;
  readonly #table: string;

  constructor(opts: { client: DynamoDBClient; tableName: string }) {
    this.#t = new DynamoTable({ client: opts.client, tableName: opts.tableName, errors: SealStateError });
    this.#ddb = opts.client;
    this.#table = opts.tableName;
  }

  async read(logId: string): Promise<SealState | undefined> {
    const current = await this.#get(key(logId));
    if (current) return fromItem(logId, current);
    // One extra read only while the log has no current state (never sealed,
    // or not sealed since the upgrade).
    const legacy = await this.#get(legacyKey(logId));
    return legacy ? { ...fromItem(logId, legacy), legacy: true } : undefined;
  }

  #get(k: Item): Promise<Item | undefined> {
    return this.#t.get(k);
  }

  async adopt(state: SealState): Promise<boolean> {
    if (state.version === 0 || state.halted !== undefined)
      throw new TypeError('adopt: only a sealed, running state is adopted');
    return this.#put(state, 'attribute_not_exists(pk)');
  }

  async compareAndSwap(next: SealState, expectedVersion: number): Promise<boolean> {
    if (next.version !== expectedVersion + 1)
      throw new TypeError('compareAndSwap: version must advance by one');
    return this.#put(
      next,
      expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :v AND attribute_not_exists(halted)',
      expectedVersion === 0 ? undefined : { ':v': N(expectedVersion) },
    );
  }

  async #put(next: SealState, condition: string, values?: Item): Promise<boolean> {
    if (next.checkpoint === undefined) throw new TypeError('a sealed state has a checkpoint');
    const item: Item = {
      ...key(next.logId),
      version: N(next.version),
      size: N(next.size),
      rootHash: B(next.rootHash),
      rightEdge: B(next.rightEdge),
      seq: N(next.seq),
      lastLeafHash: B(next.lastLeafHash),
      checkpoint: S(next.checkpoint),
      publishedVersion: N(next.publishedVersion),
      sealedAt: N(next.sealedAt),
      ...(next.lastReceivedAt !== undefined ? { lastReceivedAt: S(next.lastReceivedAt) } : {}),
      ...(next.classEdges !== undefined ? { classEdges: B(next.classEdges) } : {}),
    };
    return this.#t.ifCondition(() =>
      this.#ddb.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: item,
          ConditionExpression: condition,
          ...(values ? { ExpressionAttributeValues: values } : {}),
        }),
      ),
    );
  }

  markPublished(logId: string, version: number): Promise<boolean> {
    return this.#t.ifCondition(() =>
      this.#ddb.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: key(logId),
          UpdateExpression: 'SET publishedVersion = :v',
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':v': N(version) },
        }),
      ),
    );
  }

  async halt(logId: string, reason: string, atMs: number): Promise<void> {
    await this.#t.send(() =>
      this.#ddb.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: key(logId),
          UpdateExpression: 'SET halted = if_not_exists(halted, :r), haltedAt = if_not_exists(haltedAt, :t)',
          ExpressionAttributeValues: { ':r': S(reason.slice(0, 1000)), ':t': N(atMs) },
        }),
      ),
    );
  }
}
