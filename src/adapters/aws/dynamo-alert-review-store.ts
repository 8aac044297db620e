/**
 * AlertReviewStore on the single DynamoDB table (src/adapters/aws/table.ts).
 *
 * Items owned here, in the `AR#` family (docs/architecture.md "Who may do
 * what": opened by the deliver role, transitions written by the admin role,
 * staged transitions completed by the recover role):
 *   pk = AR#     sk = <alertId>     one alert:
 *                                    alert   S  JSON AlertRef (immutable once opened)
 *                                    rev     N  committed transitions (0 when fired)
 *                                    state   S  JSON ReviewState of rev
 *                                    rec     S  JSON AuditPosition of transition rev (absent at 0)
 *                                    pendRev N  rev of the staged transition, if any
 *                                    pend    S  JSON PendingReview { state, audit }
 *
 * All alerts share one partition, so listing them (the admin API; filters are
 * applied by the use case) is one consistent Query, not a Scan of a table that
 * also holds every log record. Alerts are rare compared with events (a few
 * per rule per dedup window); the evidence of their review is the `system`
 * log, not this partition.
 *
 * `open` is one PutItem conditional on the item not existing; `stage` one
 * UpdateItem conditional on `rev = n − 1` and no `pendRev`; `promote` one
 * UpdateItem conditional on `pendRev = n`. Single items, so no transaction.
 */
import {
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Sleep } from '../../core/backoff.ts';
import {
  ALERT_ID_RE,
  ALERT_OUTCOMES,
  ALERT_STATUSES,
  type AlertRef,
  FIRED_STATE,
  type ReviewState,
} from '../../core/detect/review.ts';
import { SEVERITIES } from '../../core/detect/rule.ts';
import {
  type AlertReviewItem,
  type AlertReviewPage,
  type AlertReviewStore,
  AlertReviewStoreError,
  decodeAlertCursor,
  encodeAlertCursor,
  type PendingReview,
} from '../../ports/alert-review-store.ts';
import type { AuditPosition } from '../../ports/principal-store.ts';
import { DynamoTable, type Item, N, S } from './dynamo-items.ts';

/** The partition of every alert's review item. */
export const ALERT_REVIEWS_PK = 'AR#';

export class DynamoAlertReviewStore implements AlertReviewStore {
  readonly #t: DynamoTable;

  constructor(opts: { client: DynamoDBClient; tableName: string; sleep?: Sleep }) {
    this.#t = new DynamoTable({
      client: opts.client,
      tableName: opts.tableName,
      errors: AlertReviewStoreError,
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
    });
  }

  async open(alert: AlertRef): Promise<boolean> {
    return this.#t.ifCondition(() =>
      this.#t.client.send(
        new PutItemCommand({
          TableName: this.#t.name,
          Item: {
            pk: S(ALERT_REVIEWS_PK),
            sk: S(alert.id),
            schema: N(1),
            alert: S(JSON.stringify(alert)),
            rev: N(0),
            state: S(JSON.stringify(FIRED_STATE)),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async get(alertId: string): Promise<AlertReviewItem | undefined> {
    const item = await this.#t.get({ pk: S(ALERT_REVIEWS_PK), sk: S(alertId) });
    return item ? itemOf(alertId, item) : undefined;
  }

  async stage(alertId: string, pending: PendingReview): Promise<void> {
    const n = pending.state.rev;
    const ok = await this.#t.ifCondition(() =>
      this.#t.client.send(
        new UpdateItemCommand({
          TableName: this.#t.name,
          Key: { pk: S(ALERT_REVIEWS_PK), sk: S(alertId) },
          UpdateExpression: 'SET #pendRev = :n, #pend = :pend',
          ConditionExpression: 'attribute_exists(pk) AND #rev = :prev AND attribute_not_exists(#pendRev)',
          ExpressionAttributeNames: { '#rev': 'rev', '#pendRev': 'pendRev', '#pend': 'pend' },
          ExpressionAttributeValues: {
            ':n': N(n),
            ':prev': N(n - 1),
            ':pend': S(JSON.stringify({ state: pending.state, audit: pending.audit })),
          },
        }),
      ),
    );
    if (!ok)
      throw new AlertReviewStoreError(
        'CONFLICT',
        `alert ${alertId}: r${n} is not the next transition, another one is in progress, or there is no such alert`,
      );
  }

  async promote(alertId: string, state: ReviewState, recorded: AuditPosition): Promise<void> {
    const ok = await this.#t.ifCondition(() =>
      this.#t.client.send(
        new UpdateItemCommand({
          TableName: this.#t.name,
          Key: { pk: S(ALERT_REVIEWS_PK), sk: S(alertId) },
          UpdateExpression: 'SET #rev = :n, #state = :state, #rec = :rec REMOVE #pendRev, #pend',
          ConditionExpression: '#pendRev = :n',
          ExpressionAttributeNames: {
            '#rev': 'rev',
            '#state': 'state',
            '#rec': 'rec',
            '#pendRev': 'pendRev',
            '#pend': 'pend',
          },
          ExpressionAttributeValues: {
            ':n': N(state.rev),
            ':state': S(JSON.stringify(state)),
            ':rec': S(JSON.stringify({ seq: recorded.seq, index: recorded.index })),
          },
        }),
      ),
    );
    if (!ok)
      throw new AlertReviewStoreError(
        'CONFLICT',
        `r${state.rev} of alert ${alertId} is not the staged transition`,
      );
  }

  async list(opts: { cursor?: string; limit: number }): Promise<AlertReviewPage> {
    if (!Number.isSafeInteger(opts.limit) || opts.limit < 1 || opts.limit > 100)
      throw new RangeError('list: limit must be an integer from 1 to 100');
    const after = opts.cursor === undefined ? undefined : decodeAlertCursor(opts.cursor);
    const page = await this.#t.send(() =>
      this.#t.client.send(
        new QueryCommand({
          TableName: this.#t.name,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': S(ALERT_REVIEWS_PK) },
          ConsistentRead: true,
          Limit: opts.limit,
          ...(after ? { ExclusiveStartKey: { pk: S(ALERT_REVIEWS_PK), sk: S(after) } } : {}),
        }),
      ),
    );
    const items = (page.Items ?? []).map((item) => itemOf(item.sk?.S ?? '', item));
    const last = items[items.length - 1];
    return { items, ...(page.LastEvaluatedKey && last ? { cursor: encodeAlertCursor(last.alert.id) } : {}) };
  }
}

type Corrupt = (why: string) => never;

function json(text: string | undefined, corrupt: Corrupt, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text ?? '');
  } catch {
    return corrupt(`${what} is not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return corrupt(`${what} is not an object`);
  return v as Record<string, unknown>;
}

const str = (v: unknown): v is string => typeof v === 'string';
const nat = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function refOf(o: Record<string, unknown>, alertId: string, corrupt: Corrupt): AlertRef {
  if (
    o.id !== alertId ||
    !str(o.logId) ||
    !str(o.ruleId) ||
    !nat(o.ruleVersion) ||
    !str(o.title) ||
    !(SEVERITIES as readonly unknown[]).includes(o.severity) ||
    !str(o.owner) ||
    !str(o.runbook) ||
    !str(o.firedAt) ||
    !str(o.summary)
  )
    return corrupt('alert');
  return o as unknown as AlertRef;
}

function markOk(v: unknown): boolean {
  return (
    v === null ||
    (typeof v === 'object' &&
      v !== null &&
      str((v as { by?: unknown }).by) &&
      str((v as { at?: unknown }).at))
  );
}

function stateOf(o: Record<string, unknown>, corrupt: Corrupt, what: string): ReviewState {
  const r = o.resolved as Record<string, unknown> | null | undefined;
  if (
    !(ALERT_STATUSES as readonly unknown[]).includes(o.status) ||
    !nat(o.rev) ||
    !nat(o.reopened) ||
    !markOk(o.acknowledged ?? null) ||
    !markOk(r ?? null) ||
    (r && (!(ALERT_OUTCOMES as readonly unknown[]).includes(r.outcome) || !str(r.notes)))
  )
    return corrupt(what);
  return {
    status: o.status as ReviewState['status'],
    rev: o.rev,
    acknowledged: (o.acknowledged ?? null) as ReviewState['acknowledged'],
    resolved: (r ?? null) as ReviewState['resolved'],
    reopened: o.reopened,
  };
}

/**
 * Parses an item. Our own writes produce these, so anything malformed means
 * the table was edited out of band or corrupted: INTEGRITY, not 400.
 */
function itemOf(alertId: string, item: Item): AlertReviewItem {
  const corrupt: Corrupt = (why) => {
    throw new AlertReviewStoreError('INTEGRITY', `stored alert review ${alertId} is malformed: ${why}`);
  };
  if (!ALERT_ID_RE.test(alertId)) corrupt('key');
  const alert = refOf(json(item.alert?.S, corrupt, 'alert'), alertId, corrupt);
  const rev = Number(item.rev?.N);
  const state = stateOf(json(item.state?.S, corrupt, 'state'), corrupt, 'state');
  if (state.rev !== rev) corrupt('state is not of rev');
  let recorded: AuditPosition | undefined;
  if (item.rec) {
    const r = json(item.rec.S, corrupt, 'rec');
    if (!nat(r.seq) || r.seq < 1 || !nat(r.index)) corrupt('rec');
    recorded = { seq: r.seq as number, index: r.index as number };
  } else if (rev > 0) corrupt('a transition without its recorded position');
  let pending: PendingReview | undefined;
  if (item.pendRev || item.pend) {
    const p = json(item.pend?.S, corrupt, 'pend');
    const audit = p.audit;
    if (typeof audit !== 'object' || audit === null || Array.isArray(audit)) corrupt('pend.audit');
    if (typeof p.state !== 'object' || p.state === null) corrupt('pend.state');
    const next = stateOf(p.state as Record<string, unknown>, corrupt, 'pend.state');
    if (next.rev !== Number(item.pendRev?.N) || next.rev !== rev + 1) corrupt('pend is not rev + 1');
    pending = { state: next, audit: audit as Record<string, unknown> };
  }
  return { alert, state, ...(recorded ? { recorded } : {}), ...(pending ? { pending } : {}) };
}
