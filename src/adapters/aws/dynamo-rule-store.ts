/**
 * RuleStore on the single DynamoDB table (src/adapters/aws/table.ts).
 *
 * Items owned here, in the `R#` family, written by the admin role only (the
 * evaluation job reads them; ./table.ts lists every family):
 *   pk = R#            sk = <ruleId>        the rule's head:
 *                                             ver     N  committed version (0 while the creation is staged)
 *                                             cur     S  JSON RuleVersion in effect (absent when ver = 0)
 *                                             pendVer N  version of the staged change, if any
 *                                             pend    S  JSON PendingRuleChange { document, audit }
 *   pk = R#<ruleId>    sk = V#<version>     one committed version (10 digits, zero-padded,
 *                                           so the sort key orders versions): doc S JSON RuleVersion
 *
 * The heads share one partition, so listing every rule (the admin API, the
 * evaluation job each run) is one consistent Query, not a Scan of a table
 * that also holds every log record; rules are few and change rarely. Each
 * rule's versions have their own partition, read newest first.
 *
 * `stage` is one conditional UpdateItem on the head: `ver = N − 1` and no
 * `pendVer` (for version 1: no head at all). `promote` is one transaction:
 * the head's update, conditional on `pendVer = N`, and the version item's
 * put, so a version item exists exactly when its version was promoted.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Sleep } from '../../core/backoff.ts';
import { RuleError } from '../../core/detect/errors.ts';
import { parseRuleDocument, type RuleDocument } from '../../core/detect/rule.ts';
import {
  checkPageLimit,
  decodeHistoryCursor,
  decodeRuleCursor,
  encodeHistoryCursor,
  encodeRuleCursor,
  type PendingRuleChange,
  type RuleChange,
  type RuleHead,
  type RuleHistoryPage,
  type RulePage,
  type RuleStore,
  RuleStoreError,
  type RuleVersion,
} from '../../ports/rule-store.ts';
import { DynamoTable, type Item, N, S } from './dynamo-items.ts';

/** The partition of every rule head. */
export const RULE_HEADS_PK = 'R#';
export const rulePk = (ruleId: string) => `R#${ruleId}`;
export const versionSk = (version: number) => `V#${String(version).padStart(10, '0')}`;

export class DynamoRuleStore implements RuleStore {
  readonly #t: DynamoTable;

  constructor(opts: { client: DynamoDBClient; tableName: string; sleep?: Sleep }) {
    this.#t = new DynamoTable({
      client: opts.client,
      tableName: opts.tableName,
      errors: RuleStoreError,
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
    });
  }

  async get(ruleId: string): Promise<RuleHead | undefined> {
    const item = await this.#t.get({ pk: S(RULE_HEADS_PK), sk: S(ruleId) });
    return item ? headOf(ruleId, item) : undefined;
  }

  async stage(change: PendingRuleChange): Promise<void> {
    const { id, version } = change.document;
    const first = version === 1;
    const ok = await this.#t.ifCondition(() =>
      this.#t.client.send(
        new UpdateItemCommand({
          TableName: this.#t.name,
          Key: { pk: S(RULE_HEADS_PK), sk: S(id) },
          UpdateExpression:
            'SET #schema = :one, #ver = if_not_exists(#ver, :zero), #pendVer = :n, #pend = :pend',
          ConditionExpression: first
            ? 'attribute_not_exists(pk)'
            : '#ver = :prev AND attribute_not_exists(#pendVer)',
          ExpressionAttributeNames: {
            '#schema': 'schema',
            '#ver': 'ver',
            '#pendVer': 'pendVer',
            '#pend': 'pend',
          },
          ExpressionAttributeValues: {
            ':one': N(1),
            ':zero': N(0),
            ':n': N(version),
            ':pend': S(JSON.stringify({ document: change.document, audit: change.audit })),
            ...(first ? {} : { ':prev': N(version - 1) }),
          },
        }),
      ),
    );
    if (!ok)
      throw new RuleStoreError(
        'CONFLICT',
        `rule ${id}: version ${version} is not the next version, or another change is in progress`,
      );
  }

  async promote(version: RuleVersion): Promise<void> {
    const { id, version: n } = version.document;
    const json = JSON.stringify(version);
    try {
      await this.#t.send(() =>
        this.#t.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.#t.name,
                  Key: { pk: S(RULE_HEADS_PK), sk: S(id) },
                  UpdateExpression: 'SET #ver = :n, #cur = :cur REMOVE #pendVer, #pend',
                  ConditionExpression: '#pendVer = :n',
                  ExpressionAttributeNames: {
                    '#ver': 'ver',
                    '#cur': 'cur',
                    '#pendVer': 'pendVer',
                    '#pend': 'pend',
                  },
                  ExpressionAttributeValues: { ':n': N(n), ':cur': S(json) },
                },
              },
              {
                Put: {
                  TableName: this.#t.name,
                  Item: { pk: S(rulePk(id)), sk: S(versionSk(n)), schema: N(1), doc: S(json) },
                },
              },
            ],
          }),
        ),
      );
    } catch (err) {
      throw transactionError(err, `version ${n} of rule ${id} is not the staged change`);
    }
  }

  async getVersion(ruleId: string, version: number): Promise<RuleVersion | undefined> {
    if (!Number.isSafeInteger(version) || version < 1) return undefined;
    const item = await this.#t.get({ pk: S(rulePk(ruleId)), sk: S(versionSk(version)) });
    return item ? versionOf(ruleId, item, version) : undefined;
  }

  async history(ruleId: string, opts: { cursor?: string; limit: number }): Promise<RuleHistoryPage> {
    checkPageLimit(opts.limit, 'history');
    const before = opts.cursor === undefined ? undefined : decodeHistoryCursor(opts.cursor);
    const pk = rulePk(ruleId);
    const page = await this.#t.send(() =>
      this.#t.client.send(
        new QueryCommand({
          TableName: this.#t.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
          ExpressionAttributeValues: { ':pk': S(pk), ':v': S('V#') },
          ConsistentRead: true,
          ScanIndexForward: false,
          Limit: opts.limit,
          ...(before !== undefined ? { ExclusiveStartKey: { pk: S(pk), sk: S(versionSk(before)) } } : {}),
        }),
      ),
    );
    const versions = (page.Items ?? []).map((item) => versionOf(ruleId, item));
    const last = versions[versions.length - 1];
    return {
      versions,
      ...(page.LastEvaluatedKey && last ? { cursor: encodeHistoryCursor(last.document.version) } : {}),
    };
  }

  async list(opts: { cursor?: string; limit: number }): Promise<RulePage> {
    checkPageLimit(opts.limit, 'list');
    const after = opts.cursor === undefined ? undefined : decodeRuleCursor(opts.cursor);
    const page = await this.#t.send(() =>
      this.#t.client.send(
        new QueryCommand({
          TableName: this.#t.name,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': S(RULE_HEADS_PK) },
          ConsistentRead: true,
          Limit: opts.limit,
          ...(after ? { ExclusiveStartKey: { pk: S(RULE_HEADS_PK), sk: S(after) } } : {}),
        }),
      ),
    );
    const heads = (page.Items ?? []).map((item) => headOf(item.sk?.S ?? '', item));
    const last = heads[heads.length - 1];
    return { heads, ...(page.LastEvaluatedKey && last ? { cursor: encodeRuleCursor(last.ruleId) } : {}) };
  }
}

/**
 * A failed transaction: CONFLICT when a condition did not hold (nothing was
 * written), THROTTLED when DynamoDB cancelled it for contention or capacity
 * (nothing was written either); anything else passes through.
 */
function transactionError(err: unknown, conflict: string): unknown {
  if (err instanceof ConditionalCheckFailedException)
    return new RuleStoreError('CONFLICT', conflict, { cause: err });
  if (!(err instanceof TransactionCanceledException)) return err;
  const codes = (err.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
  if (codes.includes('ConditionalCheckFailed'))
    return new RuleStoreError('CONFLICT', conflict, { cause: err });
  if (
    codes.some(
      (c) => c === 'TransactionConflict' || c === 'ThrottlingError' || c === 'ProvisionedThroughputExceeded',
    )
  )
    return new RuleStoreError('THROTTLED', `DynamoDB cancelled the transaction: ${codes.join(', ')}`, {
      cause: err,
    });
  return err;
}

type Corrupt = (why: string) => never;

function corruptFor(what: string): Corrupt {
  return (why) => {
    throw new RuleStoreError('INTEGRITY', `stored ${what} is malformed: ${why}`);
  };
}

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

/** A stored document, validated again: the item may have been edited out of band. */
function documentOf(v: unknown, ruleId: string, corrupt: Corrupt): RuleDocument {
  let doc: RuleDocument;
  try {
    doc = parseRuleDocument(v);
  } catch (err) {
    if (err instanceof RuleError) return corrupt(`document: ${err.message}`);
    throw err;
  }
  if (doc.id !== ruleId) return corrupt(`document of rule ${doc.id}`);
  return doc;
}

function changeOf(v: unknown, corrupt: Corrupt): RuleChange {
  const c = v as Partial<Record<keyof RuleChange, unknown>> | null;
  const r = c?.recorded as { seq?: unknown; index?: unknown } | undefined;
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.action !== 'string' ||
    typeof c.by !== 'string' ||
    typeof c.at !== 'string' ||
    typeof c.eventId !== 'string' ||
    typeof r !== 'object' ||
    r === null ||
    !Number.isSafeInteger(r.seq) ||
    (r.seq as number) < 1 ||
    !Number.isSafeInteger(r.index) ||
    (r.index as number) < 0
  )
    return corrupt('change');
  return {
    action: c.action,
    by: c.by,
    at: c.at,
    eventId: c.eventId,
    recorded: { seq: r.seq as number, index: r.index as number },
  };
}

function ruleVersionOf(text: string | undefined, ruleId: string, corrupt: Corrupt): RuleVersion {
  const o = json(text, corrupt, 'version');
  return { document: documentOf(o.document, ruleId, corrupt), change: changeOf(o.change, corrupt) };
}

function versionOf(ruleId: string, item: Item, expected?: number): RuleVersion {
  const corrupt = corruptFor(`rule ${ruleId} version ${item.sk?.S ?? '?'}`);
  const v = ruleVersionOf(item.doc?.S, ruleId, corrupt);
  if (
    item.sk?.S !== versionSk(v.document.version) ||
    (expected !== undefined && v.document.version !== expected)
  )
    corrupt('the document is of another version');
  return v;
}

/**
 * Parses a head. Our own writes produce these, so anything malformed means
 * the table was edited out of band or corrupted: INTEGRITY, not 400.
 */
function headOf(ruleId: string, item: Item): RuleHead {
  const corrupt = corruptFor(`rule head ${ruleId}`);
  const ver = Number(item.ver?.N);
  if (!Number.isSafeInteger(ver) || ver < 0) corrupt('ver');
  let current: RuleVersion | undefined;
  if (ver > 0) {
    current = ruleVersionOf(item.cur?.S, ruleId, corrupt);
    if (current.document.version !== ver) corrupt('cur is not version ver');
  } else if (item.cur) corrupt('cur without ver');
  let pending: PendingRuleChange | undefined;
  if (item.pendVer || item.pend) {
    const o = json(item.pend?.S, corrupt, 'pend');
    const audit = o.audit;
    if (typeof audit !== 'object' || audit === null || Array.isArray(audit)) corrupt('pend.audit');
    const document = documentOf(o.document, ruleId, corrupt);
    if (document.version !== Number(item.pendVer?.N) || document.version !== ver + 1)
      corrupt('pend is not version ver + 1');
    pending = { document, audit: audit as Record<string, unknown> };
  }
  if (!current && !pending) corrupt('neither a current version nor a staged change');
  return { ruleId, ...(current ? { current } : {}), ...(pending ? { pending } : {}) };
}
