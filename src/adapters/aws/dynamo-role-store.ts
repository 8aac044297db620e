/**
 * RoleStore on the single DynamoDB table (src/adapters/aws/table.ts), laid
 * out as the rule store (./dynamo-rule-store.ts) under its own family.
 *
 * Items owned here, in the `G#` family (roles as grant sets), written by the
 * admin role only (the authorizer reads heads to compute effective
 * permissions; ./table.ts lists every family):
 *   pk = G#            sk = <roleId>        the role's head:
 *                                             ver     N  committed version (0 while the creation is staged)
 *                                             cur     S  JSON RoleVersion in effect (absent when ver = 0)
 *                                             pendVer N  version of the staged change, if any
 *                                             pend    S  JSON PendingRoleChange { role, audit }
 *   pk = G#<roleId>    sk = V#<version>     one committed version (10 digits, zero-padded):
 *                                           doc S JSON RoleVersion
 *
 * Heads share one partition, so listing every role (the admin API, drift)
 * is one consistent Query; authentication reads only the heads of the roles
 * a principal holds (GetItem each). `stage` is one conditional UpdateItem on
 * the head; `promote` one transaction (head update conditional on
 * `pendVer = N`, plus the version item), so a version item exists exactly
 * when its version was promoted.
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
import { type Role, RoleError, validateRoleInput } from '../../core/role.ts';
import {
  checkRolePageLimit,
  decodeRoleCursor,
  decodeRoleHistoryCursor,
  encodeRoleCursor,
  encodeRoleHistoryCursor,
  type PendingRoleChange,
  type RoleChange,
  type RoleHead,
  type RoleHistoryPage,
  type RolePage,
  type RoleStore,
  RoleStoreError,
  type RoleVersion,
} from '../../ports/role-store.ts';
import { DynamoTable, type Item, N, S } from './dynamo-items.ts';

/** The partition of every role head. */
export const ROLE_HEADS_PK = 'G#';
export const rolePk = (roleId: string) => `G#${roleId}`;
export const versionSk = (version: number) => `V#${String(version).padStart(10, '0')}`;

export class DynamoRoleStore implements RoleStore {
  readonly #t: DynamoTable;

  constructor(opts: { client: DynamoDBClient; tableName: string; sleep?: Sleep }) {
    this.#t = new DynamoTable({
      client: opts.client,
      tableName: opts.tableName,
      errors: RoleStoreError,
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
    });
  }

  async get(roleId: string): Promise<RoleHead | undefined> {
    const item = await this.#t.get({ pk: S(ROLE_HEADS_PK), sk: S(roleId) });
    return item ? headOf(roleId, item) : undefined;
  }

  async stage(change: PendingRoleChange): Promise<void> {
    const { id, version } = change.role;
    const first = version === 1;
    const ok = await this.#t.ifCondition(() =>
      this.#t.client.send(
        new UpdateItemCommand({
          TableName: this.#t.name,
          Key: { pk: S(ROLE_HEADS_PK), sk: S(id) },
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
            ':pend': S(JSON.stringify({ role: change.role, audit: change.audit })),
            ...(first ? {} : { ':prev': N(version - 1) }),
          },
        }),
      ),
    );
    if (!ok)
      throw new RoleStoreError(
        'CONFLICT',
        `role ${id}: version ${version} is not the next version, or another change is in progress`,
      );
  }

  async promote(version: RoleVersion): Promise<void> {
    const { id, version: n } = version.role;
    const json = JSON.stringify(version);
    try {
      await this.#t.send(() =>
        this.#t.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.#t.name,
                  Key: { pk: S(ROLE_HEADS_PK), sk: S(id) },
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
                  Item: { pk: S(rolePk(id)), sk: S(versionSk(n)), schema: N(1), doc: S(json) },
                },
              },
            ],
          }),
        ),
      );
    } catch (err) {
      throw transactionError(err, `version ${n} of role ${id} is not the staged change`);
    }
  }

  async getVersion(roleId: string, version: number): Promise<RoleVersion | undefined> {
    if (!Number.isSafeInteger(version) || version < 1) return undefined;
    const item = await this.#t.get({ pk: S(rolePk(roleId)), sk: S(versionSk(version)) });
    return item ? versionOf(roleId, item, version) : undefined;
  }

  async history(roleId: string, opts: { cursor?: string; limit: number }): Promise<RoleHistoryPage> {
    checkRolePageLimit(opts.limit, 'history');
    const before = opts.cursor === undefined ? undefined : decodeRoleHistoryCursor(opts.cursor);
    const pk = rolePk(roleId);
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
    const versions = (page.Items ?? []).map((item) => versionOf(roleId, item));
    const last = versions[versions.length - 1];
    return {
      versions,
      ...(page.LastEvaluatedKey && last ? { cursor: encodeRoleHistoryCursor(last.role.version) } : {}),
    };
  }

  async list(opts: { cursor?: string; limit: number }): Promise<RolePage> {
    checkRolePageLimit(opts.limit, 'list');
    const after = opts.cursor === undefined ? undefined : decodeRoleCursor(opts.cursor);
    const page = await this.#t.send(() =>
      this.#t.client.send(
        new QueryCommand({
          TableName: this.#t.name,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': S(ROLE_HEADS_PK) },
          ConsistentRead: true,
          Limit: opts.limit,
          ...(after ? { ExclusiveStartKey: { pk: S(ROLE_HEADS_PK), sk: S(after) } } : {}),
        }),
      ),
    );
    const heads = (page.Items ?? []).map((item) => headOf(item.sk?.S ?? '', item));
    const last = heads[heads.length - 1];
    return { heads, ...(page.LastEvaluatedKey && last ? { cursor: encodeRoleCursor(last.roleId) } : {}) };
  }
}

/**
 * A failed transaction: CONFLICT when a condition did not hold (nothing was
 * written), THROTTLED when DynamoDB cancelled it for contention or capacity
 * (nothing was written either); anything else passes through.
 */
function transactionError(err: unknown, conflict: string): unknown {
  if (err instanceof ConditionalCheckFailedException)
    return new RoleStoreError('CONFLICT', conflict, { cause: err });
  if (!(err instanceof TransactionCanceledException)) return err;
  const codes = (err.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
  if (codes.includes('ConditionalCheckFailed'))
    return new RoleStoreError('CONFLICT', conflict, { cause: err });
  if (
    codes.some(
      (c) => c === 'TransactionConflict' || c === 'ThrottlingError' || c === 'ProvisionedThroughputExceeded',
    )
  )
    return new RoleStoreError('THROTTLED', `DynamoDB cancelled the transaction: ${codes.join(', ')}`, {
      cause: err,
    });
  return err;
}

type Corrupt = (why: string) => never;

function corruptFor(what: string): Corrupt {
  return (why) => {
    throw new RoleStoreError('INTEGRITY', `stored ${what} is malformed: ${why}`);
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

/** A stored role, validated again: the item may have been edited out of band. */
function roleOf(v: unknown, roleId: string, corrupt: Corrupt): Role {
  const r = v as Partial<Record<keyof Role, unknown>> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return corrupt('role');
  if (r.id !== roleId) return corrupt(`role ${String(r.id)} stored under ${roleId}`);
  const version = r.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)
    return corrupt('role version');
  let input: ReturnType<typeof validateRoleInput>;
  try {
    input = validateRoleInput({ description: r.description, purpose: r.purpose, scopes: r.scopes });
  } catch (err) {
    if (err instanceof RoleError) return corrupt(`role: ${err.message}`);
    throw err;
  }
  for (const k of Object.keys(r))
    if (!['id', 'version', 'description', 'purpose', 'scopes'].includes(k)) corrupt(`role field ${k}`);
  return { id: roleId, version, ...input };
}

function changeOf(v: unknown, corrupt: Corrupt): RoleChange {
  const c = v as Partial<Record<keyof RoleChange, unknown>> | null;
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

function roleVersionOf(text: string | undefined, roleId: string, corrupt: Corrupt): RoleVersion {
  const o = json(text, corrupt, 'version');
  return { role: roleOf(o.role, roleId, corrupt), change: changeOf(o.change, corrupt) };
}

function versionOf(roleId: string, item: Item, expected?: number): RoleVersion {
  const corrupt = corruptFor(`role ${roleId} version ${item.sk?.S ?? '?'}`);
  const v = roleVersionOf(item.doc?.S, roleId, corrupt);
  if (item.sk?.S !== versionSk(v.role.version) || (expected !== undefined && v.role.version !== expected))
    corrupt('the role is of another version');
  return v;
}

/**
 * Parses a head. Our own writes produce these, so anything malformed means
 * the table was edited out of band or corrupted: INTEGRITY, not 400.
 */
function headOf(roleId: string, item: Item): RoleHead {
  const corrupt = corruptFor(`role head ${roleId}`);
  const ver = Number(item.ver?.N);
  if (!Number.isSafeInteger(ver) || ver < 0) corrupt('ver');
  let current: RoleVersion | undefined;
  if (ver > 0) {
    current = roleVersionOf(item.cur?.S, roleId, corrupt);
    if (current.role.version !== ver) corrupt('cur is not version ver');
  } else if (item.cur) corrupt('cur without ver');
  let pending: PendingRoleChange | undefined;
  if (item.pendVer || item.pend) {
    const o = json(item.pend?.S, corrupt, 'pend');
    const audit = o.audit;
    if (typeof audit !== 'object' || audit === null || Array.isArray(audit)) corrupt('pend.audit');
    const role = roleOf(o.role, roleId, corrupt);
    if (role.version !== Number(item.pendVer?.N) || role.version !== ver + 1)
      corrupt('pend is not version ver + 1');
    pending = { role, audit: audit as Record<string, unknown> };
  }
  if (!current && !pending) corrupt('neither a current version nor a staged change');
  return { roleId, ...(current ? { current } : {}), ...(pending ? { pending } : {}) };
}
