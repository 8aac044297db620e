/**
 * HealthOutbox on the single DynamoDB table (src/ports/health-outbox.ts).
 *
 * Items owned here (family `H#`: the seal and anchor roles put, the deliver
 * role reads and deletes; docs/architecture.md "Who may do what"):
 *   pk=H#PENDING  sk=<event id>   event S (the observation as JSON: a HealthAuditEvent or ClassDeclarationEvent)
 *
 * One partition: health observations occur a few times an hour at most (one
 * per stuck batch, halt, failed anchor run or failing TSA), far below a
 * partition's limits, and `pending` is then one consistent Query.
 * The put is conditional on the item's absence, so a job that observes the
 * same occurrence again writes nothing.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { type HealthOutbox, HealthOutboxError, type SystemObservation } from '../../ports/health-outbox.ts';
import { DynamoTable, type Item, S } from './dynamo-items.ts';

/** Partition of the pending observations; the IAM grants in cdk/ name the `H#` prefix. */
export const HEALTH_OUTBOX_PK = 'H#PENDING';
/** DynamoDB's Query page is at most 1 MB; observations are small, so a page is never short of `limit`. */
const MAX_PAGE = 1_000;

export class DynamoHealthOutbox implements HealthOutbox {
  readonly #t: DynamoTable;

  constructor(opts: { client: DynamoDBClient; tableName: string }) {
    this.#t = new DynamoTable({ client: opts.client, tableName: opts.tableName, errors: HealthOutboxError });
  }

  async put(event: SystemObservation): Promise<void> {
    await this.#t.ifCondition(() =>
      this.#t.client.send(
        new PutItemCommand({
          TableName: this.#t.name,
          Item: { pk: S(HEALTH_OUTBOX_PK), sk: S(event.id), event: S(JSON.stringify(event)) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async pending(limit: number): Promise<readonly SystemObservation[]> {
    if (limit <= 0) return [];
    const page = await this.#t.send(() =>
      this.#t.client.send(
        new QueryCommand({
          TableName: this.#t.name,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': S(HEALTH_OUTBOX_PK) },
          ConsistentRead: true,
          Limit: Math.min(limit, MAX_PAGE),
        }),
      ),
    );
    return (page.Items ?? []).map((item) => this.#read(item));
  }

  async remove(ids: readonly string[]): Promise<void> {
    // One DeleteItem each (not BatchWriteItem): the deliver role's grant on `H#` is what it
    // needs, and a handful of observations per run is no reason for batching.
    for (const id of ids)
      await this.#t.send(() =>
        this.#t.client.send(
          new DeleteItemCommand({ TableName: this.#t.name, Key: { pk: S(HEALTH_OUTBOX_PK), sk: S(id) } }),
        ),
      );
  }

  #read(item: Item): SystemObservation {
    const id = item.sk?.S ?? '';
    let event: unknown;
    try {
      event = JSON.parse(item.event?.S ?? '');
    } catch {
      throw this.#t.corrupt(`health observation ${id} is not JSON`);
    }
    const e = event as Partial<SystemObservation> | null;
    if (
      typeof e !== 'object' ||
      e === null ||
      e.id !== id ||
      typeof e.action !== 'string' ||
      !(e.action.startsWith('anchorlog.health.') || e.action.startsWith('anchorlog.class.'))
    )
      throw this.#t.corrupt(`health observation ${id} is not a health event with its item's id`);
    return e as SystemObservation;
  }
}
