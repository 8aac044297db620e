/**
 * RuleStore in memory (src/ports/rule-store.ts), with the semantics of
 * src/adapters/aws/dynamo-rule-store.ts: a head per rule (the committed
 * version and at most one staged change), immutable version items, stage
 * conditional on `version = committed + 1` with nothing staged, promote
 * conditional on that version being the staged one (CONFLICT, writing
 * nothing on the head, otherwise), heads listed in id order and versions
 * newest first with the same opaque cursors. Everything is kept as JSON
 * copies, so a caller never shares an object with the store. THROTTLED and
 * UNAVAILABLE come only from injected faults (`faults`).
 */
import {
  checkPageLimit,
  decodeHistoryCursor,
  decodeRuleCursor,
  encodeHistoryCursor,
  encodeRuleCursor,
  type PendingRuleChange,
  type RuleHead,
  type RuleHistoryPage,
  type RulePage,
  type RuleStore,
  RuleStoreError,
  type RuleStoreErrorCode,
  type RuleVersion,
} from '../../ports/rule-store.ts';
import { FaultPlan } from './faults.ts';

const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export class MemoryRuleStore implements RuleStore {
  readonly #heads = new Map<string, RuleHead>();
  /** ruleId → version → version item. */
  readonly #versions = new Map<string, Map<number, RuleVersion>>();
  readonly faults = new FaultPlan<RuleStoreErrorCode>((code, message) => new RuleStoreError(code, message));

  get(ruleId: string): Promise<RuleHead | undefined> {
    return this.faults.run('get', ruleId, () => {
      const h = this.#heads.get(ruleId);
      return h && copy(h);
    });
  }

  stage(change: PendingRuleChange): Promise<void> {
    const id = change.document.id;
    return this.faults.run('stage', id, () => {
      const head = this.#heads.get(id);
      const committed = head?.current?.document.version ?? 0;
      if (head?.pending || change.document.version !== committed + 1)
        throw new RuleStoreError(
          'CONFLICT',
          head?.pending
            ? `rule ${id} has a change in progress (version ${head.pending.document.version})`
            : `rule ${id} is at version ${committed}; a change must be version ${committed + 1}`,
        );
      this.#heads.set(id, {
        ruleId: id,
        ...(head?.current ? { current: head.current } : {}),
        pending: copy(change),
      });
    });
  }

  promote(version: RuleVersion): Promise<void> {
    const id = version.document.id;
    const n = version.document.version;
    return this.faults.run('promote', `${id}@${n}`, () => {
      const head = this.#heads.get(id);
      if (head?.pending?.document.version !== n)
        throw new RuleStoreError('CONFLICT', `version ${n} of rule ${id} is not the staged change`);
      let versions = this.#versions.get(id);
      if (!versions) {
        versions = new Map();
        this.#versions.set(id, versions);
      }
      if (!versions.has(n)) versions.set(n, copy(version));
      this.#heads.set(id, { ruleId: id, current: copy(version) });
    });
  }

  getVersion(ruleId: string, version: number): Promise<RuleVersion | undefined> {
    return this.faults.run('getVersion', `${ruleId}@${version}`, () => {
      const v = this.#versions.get(ruleId)?.get(version);
      return v && copy(v);
    });
  }

  async history(ruleId: string, opts: { cursor?: string; limit: number }): Promise<RuleHistoryPage> {
    checkPageLimit(opts.limit, 'history');
    return this.faults.run('history', ruleId, (): RuleHistoryPage => {
      const before = opts.cursor === undefined ? undefined : decodeHistoryCursor(opts.cursor);
      const numbers = [...(this.#versions.get(ruleId)?.keys() ?? [])]
        .filter((n) => before === undefined || n < before)
        .sort((a, b) => b - a)
        .slice(0, opts.limit);
      const versions = numbers.map((n) => copy(this.#versions.get(ruleId)?.get(n) as RuleVersion));
      const last = numbers[numbers.length - 1];
      // As a DynamoDB Query with Limit: a full page names where it stopped.
      return {
        versions,
        ...(numbers.length === opts.limit && last !== undefined ? { cursor: encodeHistoryCursor(last) } : {}),
      };
    });
  }

  async list(opts: { cursor?: string; limit: number }): Promise<RulePage> {
    checkPageLimit(opts.limit, 'list');
    return this.faults.run('list', opts.cursor ?? '', (): RulePage => {
      const after = opts.cursor === undefined ? undefined : decodeRuleCursor(opts.cursor);
      const ids = [...this.#heads.keys()]
        .filter((id) => after === undefined || id > after)
        .sort()
        .slice(0, opts.limit);
      const heads = ids.map((id) => copy(this.#heads.get(id) as RuleHead));
      const last = ids[ids.length - 1];
      return { heads, ...(ids.length === opts.limit && last ? { cursor: encodeRuleCursor(last) } : {}) };
    });
  }
}
