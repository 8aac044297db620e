/**
 * WitnessLedgerStore on DynamoDB (src/ports/witness-ledger-store.ts): the
 * state of the witness service (lambdas/witness.ts). The witness runs in a
 * deployment of its own (cdk/witness-stack.ts) with a table of its own, keyed
 * like the log's table (`pk`/`sk` strings, ./table.ts), so the local stack
 * and the tests create it with the same ensureTable.
 *
 * Items owned here, written by the witness role only:
 *   pk=WL#<sha256(origin) hex>  sk=HEAD   origin S, size N, rootHash B,
 *                                         checkpoint S, updatedAt N
 *
 * compareAndSet is one PutItem conditional on `attribute_not_exists(pk)`
 * (no head yet) or `#size = :size AND rootHash = :root` (the head read):
 * DynamoDB evaluates the condition and writes atomically per item, so of two
 * requests that read the same head exactly one writes; the other is told
 * false and its cosignature is never released.
 */
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  WitnessLedgerError,
  type WitnessLedgerHead,
  type WitnessLedgerStore,
} from '../../ports/witness-ledger-store.ts';
import { B, DynamoTable, itemReader, N, S } from './dynamo-items.ts';

/** Partition prefix of witness ledger items; the IAM grant in cdk/ names the same prefix. */
export const WITNESS_LEDGER_PREFIX = 'WL#';
const HEAD_SK = 'HEAD';
const HEX64 = /^[0-9a-f]{64}$/;

export class DynamoWitnessLedgerStore implements WitnessLedgerStore {
  readonly #t: DynamoTable;

  constructor(opts: { client: DynamoDBClient; tableName: string }) {
    this.#t = new DynamoTable({ client: opts.client, tableName: opts.tableName, errors: WitnessLedgerError });
  }

  #key(originHash: string) {
    // A path segment from the monitoring URL ends up here: never let it name another family.
    if (!HEX64.test(originHash))
      throw new WitnessLedgerError('INTEGRITY', 'origin hash must be 64 lower-case hex digits');
    return { pk: S(`${WITNESS_LEDGER_PREFIX}${originHash}`), sk: S(HEAD_SK) };
  }

  async get(originHash: string): Promise<WitnessLedgerHead | undefined> {
    const item = await this.#t.get(this.#key(originHash));
    if (!item) return undefined;
    const r = itemReader(item, (what) =>
      this.#t.corrupt(`witness ledger head ${originHash.slice(0, 16)}… is malformed: ${what}`),
    );
    const rootHash = r.bin('rootHash');
    if (rootHash.length !== 32) throw this.#t.corrupt('witness ledger rootHash is not 32 bytes');
    return {
      origin: r.str('origin'),
      size: r.count('size'),
      rootHash: new Uint8Array(rootHash),
      checkpoint: r.str('checkpoint'),
      updatedAt: r.count('updatedAt'),
    };
  }

  compareAndSet(
    originHash: string,
    expected: { readonly size: number; readonly rootHash: Uint8Array } | undefined,
    next: WitnessLedgerHead,
  ): Promise<boolean> {
    const key = this.#key(originHash);
    return this.#t.ifCondition(() =>
      this.#t.client.send(
        new PutItemCommand({
          TableName: this.#t.name,
          Item: {
            ...key,
            origin: S(next.origin),
            size: N(next.size),
            rootHash: B(next.rootHash),
            checkpoint: S(next.checkpoint),
            updatedAt: N(next.updatedAt),
          },
          ...(expected
            ? {
                ConditionExpression: '#sz = :sz AND rootHash = :root',
                ExpressionAttributeNames: { '#sz': 'size' },
                ExpressionAttributeValues: { ':sz': N(expected.size), ':root': B(expected.rootHash) },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      ),
    );
  }
}
