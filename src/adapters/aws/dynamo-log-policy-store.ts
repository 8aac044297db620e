/**
 * LogPolicyStore on the single DynamoDB table (key schema in ./table.ts).
 *
 * Item owned here, in the log-metadata partition so that the grants already
 * fit (IAM family `logMetadata`, cdk/constructs/audit-table.ts: the admin
 * function writes it, ingest reads it):
 *   pk=M#<logId>  sk=POLICY   version N, record S (the LogPolicyRecord as JSON)
 *
 * Beside `sk=META` (dynamo-log-store), which is read by GetItem only, so the
 * two never see each other. Writes are one conditional PutItem on `version`.
 */
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { checkLogPolicyRecord, type LogPolicyRecord } from '../../core/log-policy.ts';
import { type LogPolicyStore, LogPolicyStoreError } from '../../ports/log-policy-store.ts';
import { DynamoTable, type Item, itemReader, N, S } from './dynamo-items.ts';
import { LOG_META_PREFIX } from './dynamo-log-store.ts';

const POLICY_SK = 'POLICY';
const key = (logId: string): Item => ({ pk: S(`${LOG_META_PREFIX}${logId}`), sk: S(POLICY_SK) });

export class DynamoLogPolicyStore implements LogPolicyStore {
  readonly #t: DynamoTable;

  constructor(opts: { client: DynamoDBClient; tableName: string }) {
    this.#t = new DynamoTable({
      client: opts.client,
      tableName: opts.tableName,
      errors: LogPolicyStoreError,
    });
  }

  async get(logId: string): Promise<LogPolicyRecord | undefined> {
    const item = await this.#t.get(key(logId));
    if (!item) return undefined;
    const corrupt = (what: string) =>
      new LogPolicyStoreError('INTEGRITY', `policy of log ${logId} is malformed: ${what}`);
    const r = itemReader(item, corrupt);
    const version = r.count('version');
    let record: LogPolicyRecord;
    try {
      record = checkLogPolicyRecord(JSON.parse(r.str('record')));
    } catch (e) {
      throw corrupt((e as Error).message);
    }
    // The item's key and version are what the conditions ran on: the record must agree.
    if (record.version !== version || record.logId !== logId)
      throw corrupt('record does not match its item key or version');
    return record;
  }

  put(record: LogPolicyRecord): Promise<boolean> {
    const expected = record.version - 1;
    return this.#t.ifCondition(() =>
      this.#t.client.send(
        new PutItemCommand({
          TableName: this.#t.name,
          Item: { ...key(record.logId), version: N(record.version), record: S(JSON.stringify(record)) },
          ConditionExpression: expected === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
          ...(expected === 0 ? {} : { ExpressionAttributeValues: { ':v': N(expected) } }),
        }),
      ),
    );
  }
}
