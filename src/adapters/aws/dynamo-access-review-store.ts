/**
 * AccessReviewStore on the single DynamoDB table (src/adapters/aws/table.ts).
 *
 * Items owned here, in the `AV#` family (written by the admin role, staged
 * changes completed by the recover role; docs/architecture.md "Who may do what"):
 *   pk = AV#             sk = <reviewId>    one review head:
 *                                            rev     N  committed transitions (0 until started)
 *                                            status  S  open | closed (absent until started)
 *                                            state   S  JSON AccessReviewState of rev
 *                                            rec     S  JSON AuditPosition of its last record
 *                                            pendRev N  rev of the staged transition, if any
 *                                            pend    S  JSON PendingReviewChange
 *   pk = AV#<reviewId>   sk = <principalId> one decision:
 *                                            decision, reason, by, at  S
 *                                            rec     S  JSON AuditPosition (absent while staged)
 *                                            pend    S  JSON audit event (present while staged)
 *
 * Heads share one partition (a listing is one consistent Query); a review's
 * decisions share its own. `stageDecision` is one TransactWriteItems: a
 * ConditionCheck that the head is open with nothing staged, and a Put
 * conditional on the decision not existing — so no decision is staged after
 * a close is, and of two deciders on one principal exactly one wins.
 */
import {
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Sleep } from '../../core/backoff.ts';
import { isPrincipalId } from '../../core/principal.ts';
import {
  ACCESS_REVIEW_ID_RE,
  type AccessDecisionItem,
  type AccessReviewHead,
  type AccessReviewState,
  type AccessReviewStore,
  AccessReviewStoreError,
  checkListLimit,
  decodeReviewCursor,
  encodeReviewCursor,
  type Page,
  type PendingReviewChange,
} from '../../ports/access-review-store.ts';
import type { AuditPosition } from '../../ports/principal-store.ts';
import { DynamoTable, type Item, N, S } from './dynamo-items.ts';

/** The partition of every review head; a review's decisions are under `AV#<reviewId>`. */
export const ACCESS_REVIEWS_PK = 'AV#';

export class DynamoAccessReviewStore implements AccessReviewStore {
  readonly #t: DynamoTable;

  constructor(opts: { client: DynamoDBClient; tableName: string; sleep?: Sleep }) {
    this.#t = new DynamoTable({
      client: opts.client,
      tableName: opts.tableName,
      errors: AccessReviewStoreError,
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
    });
  }

  async create(id: string, pending: PendingReviewChange): Promise<void> {
    const ok =
      pending.state.rev === 1 &&
      (await this.#t.ifCondition(() =>
        this.#t.client.send(
          new PutItemCommand({
            TableName: this.#t.name,
            Item: {
              pk: S(ACCESS_REVIEWS_PK),
              sk: S(id),
              schema: N(1),
              rev: N(0),
              pendRev: N(1),
              pend: S(JSON.stringify(pending)),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      ));
    if (!ok) throw new AccessReviewStoreError('CONFLICT', `access review ${id} exists`);
  }

  async get(id: string): Promise<AccessReviewHead | undefined> {
    const item = await this.#t.get({ pk: S(ACCESS_REVIEWS_PK), sk: S(id) });
    return item ? headOf(id, item) : undefined;
  }

  async stage(id: string, pending: PendingReviewChange): Promise<void> {
    const n = pending.state.rev;
    const ok = await this.#t.ifCondition(() =>
      this.#t.client.send(
        new UpdateItemCommand({
          TableName: this.#t.name,
          Key: { pk: S(ACCESS_REVIEWS_PK), sk: S(id) },
          UpdateExpression: 'SET #pendRev = :n, #pend = :pend',
          ConditionExpression: 'attribute_exists(#state) AND #rev = :prev AND attribute_not_exists(#pendRev)',
          ExpressionAttributeNames: {
            '#rev': 'rev',
            '#state': 'state',
            '#pendRev': 'pendRev',
            '#pend': 'pend',
          },
          ExpressionAttributeValues: { ':n': N(n), ':prev': N(n - 1), ':pend': S(JSON.stringify(pending)) },
        }),
      ),
    );
    if (!ok) throw new AccessReviewStoreError('CONFLICT', `access review ${id}: r${n} cannot be staged`);
  }

  async promote(id: string, state: AccessReviewState, recorded: AuditPosition): Promise<void> {
    const ok = await this.#t.ifCondition(() =>
      this.#t.client.send(
        new UpdateItemCommand({
          TableName: this.#t.name,
          Key: { pk: S(ACCESS_REVIEWS_PK), sk: S(id) },
          UpdateExpression:
            'SET #rev = :n, #status = :status, #state = :state, #rec = :rec REMOVE #pendRev, #pend',
          ConditionExpression: '#pendRev = :n',
          ExpressionAttributeNames: {
            '#rev': 'rev',
            '#status': 'status',
            '#state': 'state',
            '#rec': 'rec',
            '#pendRev': 'pendRev',
            '#pend': 'pend',
          },
          ExpressionAttributeValues: {
            ':n': N(state.rev),
            ':status': S(state.status),
            ':state': S(JSON.stringify(state)),
            ':rec': S(JSON.stringify({ seq: recorded.seq, index: recorded.index })),
          },
        }),
      ),
    );
    if (!ok)
      throw new AccessReviewStoreError('CONFLICT', `r${state.rev} of access review ${id} is not staged`);
  }

  async list(opts: { cursor?: string; limit: number }): Promise<Page<AccessReviewHead>> {
    const { items, cursor } = await this.#query(ACCESS_REVIEWS_PK, opts, (k) => ACCESS_REVIEW_ID_RE.test(k));
    return { items: items.map((i) => headOf(i.sk?.S ?? '', i)), ...(cursor ? { cursor } : {}) };
  }

  async stageDecision(item: AccessDecisionItem): Promise<void> {
    const audit = item.pending?.audit;
    if (!audit) throw new AccessReviewStoreError('CONFLICT', 'a decision is staged with its audit event');
    try {
      await this.#t.send(() =>
        this.#t.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                ConditionCheck: {
                  TableName: this.#t.name,
                  Key: { pk: S(ACCESS_REVIEWS_PK), sk: S(item.reviewId) },
                  ConditionExpression: '#status = :open AND attribute_not_exists(#pendRev)',
                  ExpressionAttributeNames: { '#status': 'status', '#pendRev': 'pendRev' },
                  ExpressionAttributeValues: { ':open': S('open') },
                },
              },
              {
                Put: {
                  TableName: this.#t.name,
                  Item: {
                    pk: S(`${ACCESS_REVIEWS_PK}${item.reviewId}`),
                    sk: S(item.principalId),
                    schema: N(1),
                    decision: S(item.decision),
                    reason: S(item.reason),
                    by: S(item.by),
                    at: S(item.at),
                    pend: S(JSON.stringify(audit)),
                  },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
            ],
          }),
        ),
      );
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const reasons = (err.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
      if (reasons.includes('ConditionalCheckFailed'))
        throw new AccessReviewStoreError(
          'CONFLICT',
          `no decision on ${item.principalId} can be staged in access review ${item.reviewId}`,
        );
      // Another transaction on the same items (TransactionConflict) or pushback: nothing was written.
      throw new AccessReviewStoreError(
        'THROTTLED',
        `DynamoDB: transaction cancelled (${reasons.join(', ')})`,
        {
          cause: err,
        },
      );
    }
  }

  async promoteDecision(reviewId: string, principalId: string, recorded: AuditPosition): Promise<void> {
    const ok = await this.#t.ifCondition(() =>
      this.#t.client.send(
        new UpdateItemCommand({
          TableName: this.#t.name,
          Key: { pk: S(`${ACCESS_REVIEWS_PK}${reviewId}`), sk: S(principalId) },
          UpdateExpression: 'SET #rec = :rec REMOVE #pend',
          ConditionExpression: 'attribute_exists(#pend)',
          ExpressionAttributeNames: { '#rec': 'rec', '#pend': 'pend' },
          ExpressionAttributeValues: {
            ':rec': S(JSON.stringify({ seq: recorded.seq, index: recorded.index })),
          },
        }),
      ),
    );
    if (!ok)
      throw new AccessReviewStoreError('CONFLICT', `no staged decision on ${principalId} in ${reviewId}`);
  }

  async getDecision(reviewId: string, principalId: string): Promise<AccessDecisionItem | undefined> {
    const item = await this.#t.get({ pk: S(`${ACCESS_REVIEWS_PK}${reviewId}`), sk: S(principalId) });
    return item ? decisionOf(reviewId, principalId, item) : undefined;
  }

  async listDecisions(
    reviewId: string,
    opts: { cursor?: string; limit: number },
  ): Promise<Page<AccessDecisionItem>> {
    const { items, cursor } = await this.#query(`${ACCESS_REVIEWS_PK}${reviewId}`, opts, isPrincipalId);
    return {
      items: items.map((i) => decisionOf(reviewId, i.sk?.S ?? '', i)),
      ...(cursor ? { cursor } : {}),
    };
  }

  async #query(
    pk: string,
    opts: { cursor?: string; limit: number },
    valid: (key: string) => boolean,
  ): Promise<{ items: Item[]; cursor?: string }> {
    checkListLimit(opts.limit);
    const after = opts.cursor === undefined ? undefined : decodeReviewCursor(opts.cursor, valid);
    const page = await this.#t.send(() =>
      this.#t.client.send(
        new QueryCommand({
          TableName: this.#t.name,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': S(pk) },
          ConsistentRead: true,
          Limit: opts.limit,
          ...(after ? { ExclusiveStartKey: { pk: S(pk), sk: S(after) } } : {}),
        }),
      ),
    );
    const items = page.Items ?? [];
    const last = items[items.length - 1]?.sk?.S;
    return { items, ...(page.LastEvaluatedKey && last ? { cursor: encodeReviewCursor(last) } : {}) };
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

function stateOf(o: Record<string, unknown>, corrupt: Corrupt, what: string): AccessReviewState {
  if (
    !nat(o.rev) ||
    (o.status !== 'open' && o.status !== 'closed') ||
    !str(o.name) ||
    !str(o.startedAt) ||
    !str(o.startedBy) ||
    !nat(o.items) ||
    (o.closedAt !== undefined && !str(o.closedAt)) ||
    (o.closedBy !== undefined && !str(o.closedBy))
  )
    return corrupt(what);
  return o as unknown as AccessReviewState;
}

function positionOf(text: string | undefined, corrupt: Corrupt): AuditPosition {
  const r = json(text, corrupt, 'rec');
  if (!nat(r.seq) || r.seq < 1 || !nat(r.index)) corrupt('rec');
  return { seq: r.seq as number, index: r.index as number };
}

/** Our own writes produce these: anything malformed was edited out of band (INTEGRITY, not 400). */
function headOf(id: string, item: Item): AccessReviewHead {
  const corrupt: Corrupt = (why) => {
    throw new AccessReviewStoreError('INTEGRITY', `stored access review ${id} is malformed: ${why}`);
  };
  if (!ACCESS_REVIEW_ID_RE.test(id)) corrupt('key');
  const rev = Number(item.rev?.N);
  let state: AccessReviewState | undefined;
  if (item.state) {
    state = stateOf(json(item.state.S, corrupt, 'state'), corrupt, 'state');
    if (state.rev !== rev || item.status?.S !== state.status) corrupt('state is not of rev');
  } else if (rev !== 0) corrupt('a committed rev without its state');
  const recorded = item.rec ? positionOf(item.rec.S, corrupt) : undefined;
  if (state && !recorded) corrupt('a transition without its recorded position');
  let pending: PendingReviewChange | undefined;
  if (item.pendRev || item.pend) {
    const p = json(item.pend?.S, corrupt, 'pend');
    if (typeof p.state !== 'object' || p.state === null) corrupt('pend.state');
    const next = stateOf(p.state as Record<string, unknown>, corrupt, 'pend.state');
    const audits = p.audits;
    if (!Array.isArray(audits) || audits.some((a) => typeof a !== 'object' || a === null || Array.isArray(a)))
      corrupt('pend.audits');
    if (next.rev !== Number(item.pendRev?.N) || next.rev !== rev + 1) corrupt('pend is not rev + 1');
    pending = { state: next, audits: audits as Record<string, unknown>[] };
  }
  return {
    id,
    ...(state ? { state } : {}),
    ...(recorded ? { recorded } : {}),
    ...(pending ? { pending } : {}),
  };
}

function decisionOf(reviewId: string, principalId: string, item: Item): AccessDecisionItem {
  const corrupt: Corrupt = (why) => {
    throw new AccessReviewStoreError(
      'INTEGRITY',
      `stored decision on ${principalId} in access review ${reviewId} is malformed: ${why}`,
    );
  };
  if (!isPrincipalId(principalId)) corrupt('key');
  const f = (k: 'decision' | 'reason' | 'by' | 'at') => item[k]?.S ?? corrupt(k);
  const recorded = item.rec ? positionOf(item.rec.S, corrupt) : undefined;
  const pending = item.pend ? { audit: json(item.pend.S, corrupt, 'pend') } : undefined;
  if (!recorded === !pending) corrupt('exactly one of rec and pend');
  return {
    reviewId,
    principalId,
    decision: f('decision'),
    reason: f('reason'),
    by: f('by'),
    at: f('at'),
    ...(recorded ? { recorded } : {}),
    ...(pending ? { pending } : {}),
  };
}
