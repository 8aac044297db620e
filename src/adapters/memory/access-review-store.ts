/**
 * AccessReviewStore in memory (src/ports/access-review-store.ts), with the
 * semantics of src/adapters/aws/dynamo-access-review-store.ts: `create`
 * create-only, head transitions conditional on the next rev with nothing
 * staged, a decision staged only once per principal and only while the head
 * is open with nothing staged, listings in key order with the same opaque
 * cursors. Everything is kept as JSON copies. THROTTLED and UNAVAILABLE come
 * only from injected faults (`faults`).
 */
import { isPrincipalId } from '../../core/principal.ts';
import {
  ACCESS_REVIEW_ID_RE,
  type AccessDecisionItem,
  type AccessReviewHead,
  type AccessReviewState,
  type AccessReviewStore,
  AccessReviewStoreError,
  type AccessReviewStoreErrorCode,
  checkListLimit,
  decodeReviewCursor,
  encodeReviewCursor,
  type Page,
  type PendingReviewChange,
} from '../../ports/access-review-store.ts';
import type { AuditPosition } from '../../ports/principal-store.ts';
import { FaultPlan } from './faults.ts';

const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function page<T>(
  map: Map<string, T>,
  opts: { cursor?: string; limit: number },
  valid: (k: string) => boolean,
) {
  checkListLimit(opts.limit);
  const after = opts.cursor === undefined ? undefined : decodeReviewCursor(opts.cursor, valid);
  const keys = [...map.keys()]
    .filter((k) => after === undefined || k > after)
    .sort()
    .slice(0, opts.limit);
  const last = keys[keys.length - 1];
  return {
    items: keys.map((k) => copy(map.get(k) as T)),
    ...(keys.length === opts.limit && last ? { cursor: encodeReviewCursor(last) } : {}),
  };
}

export class MemoryAccessReviewStore implements AccessReviewStore {
  readonly #heads = new Map<string, AccessReviewHead>();
  readonly #decisions = new Map<string, Map<string, AccessDecisionItem>>();
  readonly faults = new FaultPlan<AccessReviewStoreErrorCode>(
    (code, message) => new AccessReviewStoreError(code, message),
  );

  create(id: string, pending: PendingReviewChange): Promise<void> {
    return this.faults.run('create', id, () => {
      if (this.#heads.has(id) || pending.state.rev !== 1)
        throw new AccessReviewStoreError('CONFLICT', `access review ${id} exists`);
      this.#heads.set(id, { id, pending: copy(pending) });
    });
  }

  get(id: string): Promise<AccessReviewHead | undefined> {
    return this.faults.run('get', id, () => {
      const h = this.#heads.get(id);
      return h && copy(h);
    });
  }

  stage(id: string, pending: PendingReviewChange): Promise<void> {
    return this.faults.run('stage', id, () => {
      const h = this.#heads.get(id);
      if (!h?.state || h.pending || pending.state.rev !== h.state.rev + 1)
        throw new AccessReviewStoreError(
          'CONFLICT',
          `access review ${id}: r${pending.state.rev} cannot be staged`,
        );
      this.#heads.set(id, { ...h, pending: copy(pending) });
    });
  }

  promote(id: string, state: AccessReviewState, recorded: AuditPosition): Promise<void> {
    return this.faults.run('promote', `${id}@${state.rev}`, () => {
      const h = this.#heads.get(id);
      if (h?.pending?.state.rev !== state.rev)
        throw new AccessReviewStoreError('CONFLICT', `r${state.rev} of access review ${id} is not staged`);
      this.#heads.set(id, { id, state: copy(state), recorded: { ...recorded } });
    });
  }

  async list(opts: { cursor?: string; limit: number }): Promise<Page<AccessReviewHead>> {
    checkListLimit(opts.limit);
    return this.faults.run('list', opts.cursor ?? '', () =>
      page(this.#heads, opts, (k) => ACCESS_REVIEW_ID_RE.test(k)),
    );
  }

  stageDecision(item: AccessDecisionItem): Promise<void> {
    return this.faults.run('stageDecision', `${item.reviewId}/${item.principalId}`, () => {
      const h = this.#heads.get(item.reviewId);
      const mine = this.#decisions.get(item.reviewId) ?? new Map<string, AccessDecisionItem>();
      if (h?.state?.status !== 'open' || h.pending || mine.has(item.principalId) || !item.pending)
        throw new AccessReviewStoreError(
          'CONFLICT',
          `no decision on ${item.principalId} can be staged in access review ${item.reviewId}`,
        );
      const { recorded: _, ...staged } = item;
      mine.set(item.principalId, copy(staged));
      this.#decisions.set(item.reviewId, mine);
    });
  }

  promoteDecision(reviewId: string, principalId: string, recorded: AuditPosition): Promise<void> {
    return this.faults.run('promoteDecision', `${reviewId}/${principalId}`, () => {
      const d = this.#decisions.get(reviewId)?.get(principalId);
      if (!d?.pending)
        throw new AccessReviewStoreError('CONFLICT', `no staged decision on ${principalId} in ${reviewId}`);
      const { pending: _, ...rest } = d;
      this.#decisions.get(reviewId)?.set(principalId, { ...rest, recorded: { ...recorded } });
    });
  }

  getDecision(reviewId: string, principalId: string): Promise<AccessDecisionItem | undefined> {
    return this.faults.run('getDecision', `${reviewId}/${principalId}`, () => {
      const d = this.#decisions.get(reviewId)?.get(principalId);
      return d && copy(d);
    });
  }

  async listDecisions(
    reviewId: string,
    opts: { cursor?: string; limit: number },
  ): Promise<Page<AccessDecisionItem>> {
    checkListLimit(opts.limit);
    return this.faults.run('listDecisions', reviewId, () =>
      page(this.#decisions.get(reviewId) ?? new Map<string, AccessDecisionItem>(), opts, isPrincipalId),
    );
  }
}
