/**
 * RoleStore in memory (src/ports/role-store.ts), with the semantics of
 * src/adapters/aws/dynamo-role-store.ts: a head per role (the committed
 * version and at most one staged change), immutable version items, stage
 * conditional on `version = committed + 1` with nothing staged, promote
 * conditional on that version being the staged one (CONFLICT, writing
 * nothing on the head, otherwise), heads listed in id order and versions
 * newest first with the same opaque cursors. Everything is kept as JSON
 * copies, so a caller never shares an object with the store. THROTTLED and
 * UNAVAILABLE come only from injected faults (`faults`).
 */
import {
  checkRolePageLimit,
  decodeRoleCursor,
  decodeRoleHistoryCursor,
  encodeRoleCursor,
  encodeRoleHistoryCursor,
  type PendingRoleChange,
  type RoleHead,
  type RoleHistoryPage,
  type RolePage,
  type RoleStore,
  RoleStoreError,
  type RoleStoreErrorCode,
  type RoleVersion,
} from '../../ports/role-store.ts';
import { FaultPlan } from './faults.ts';

const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export class MemoryRoleStore implements RoleStore {
  readonly #heads = new Map<string, RoleHead>();
  /** roleId → version → version item. */
  readonly #versions = new Map<string, Map<number, RoleVersion>>();
  readonly faults = new FaultPlan<RoleStoreErrorCode>((code, message) => new RoleStoreError(code, message));

  get(roleId: string): Promise<RoleHead | undefined> {
    return this.faults.run('get', roleId, () => {
      const h = this.#heads.get(roleId);
      return h && copy(h);
    });
  }

  stage(change: PendingRoleChange): Promise<void> {
    const id = change.role.id;
    return this.faults.run('stage', id, () => {
      const head = this.#heads.get(id);
      const committed = head?.current?.role.version ?? 0;
      if (head?.pending || change.role.version !== committed + 1)
        throw new RoleStoreError(
          'CONFLICT',
          head?.pending
            ? `role ${id} has a change in progress (version ${head.pending.role.version})`
            : `role ${id} is at version ${committed}; a change must be version ${committed + 1}`,
        );
      this.#heads.set(id, {
        roleId: id,
        ...(head?.current ? { current: head.current } : {}),
        pending: copy(change),
      });
    });
  }

  promote(version: RoleVersion): Promise<void> {
    const id = version.role.id;
    const n = version.role.version;
    return this.faults.run('promote', `${id}@${n}`, () => {
      const head = this.#heads.get(id);
      if (head?.pending?.role.version !== n)
        throw new RoleStoreError('CONFLICT', `version ${n} of role ${id} is not the staged change`);
      let versions = this.#versions.get(id);
      if (!versions) {
        versions = new Map();
        this.#versions.set(id, versions);
      }
      if (!versions.has(n)) versions.set(n, copy(version));
      this.#heads.set(id, { roleId: id, current: copy(version) });
    });
  }

  getVersion(roleId: string, version: number): Promise<RoleVersion | undefined> {
    return this.faults.run('getVersion', `${roleId}@${version}`, () => {
      const v = this.#versions.get(roleId)?.get(version);
      return v && copy(v);
    });
  }

  async history(roleId: string, opts: { cursor?: string; limit: number }): Promise<RoleHistoryPage> {
    checkRolePageLimit(opts.limit, 'history');
    return this.faults.run('history', roleId, (): RoleHistoryPage => {
      const before = opts.cursor === undefined ? undefined : decodeRoleHistoryCursor(opts.cursor);
      const numbers = [...(this.#versions.get(roleId)?.keys() ?? [])]
        .filter((n) => before === undefined || n < before)
        .sort((a, b) => b - a)
        .slice(0, opts.limit);
      const versions = numbers.map((n) => copy(this.#versions.get(roleId)?.get(n) as RoleVersion));
      const last = numbers[numbers.length - 1];
      // As a DynamoDB Query with Limit: a full page names where it stopped.
      return {
        versions,
        ...(numbers.length === opts.limit && last !== undefined
          ? { cursor: encodeRoleHistoryCursor(last) }
          : {}),
      };
    });
  }

  async list(opts: { cursor?: string; limit: number }): Promise<RolePage> {
    checkRolePageLimit(opts.limit, 'list');
    return this.faults.run('list', opts.cursor ?? '', (): RolePage => {
      const after = opts.cursor === undefined ? undefined : decodeRoleCursor(opts.cursor);
      const ids = [...this.#heads.keys()]
        .filter((id) => after === undefined || id > after)
        .sort()
        .slice(0, opts.limit);
      const heads = ids.map((id) => copy(this.#heads.get(id) as RoleHead));
      const last = ids[ids.length - 1];
      return { heads, ...(ids.length === opts.limit && last ? { cursor: encodeRoleCursor(last) } : {}) };
    });
  }
}
