/**
 * AlertReviewStore in memory (src/ports/alert-review-store.ts), with the
 * semantics of src/adapters/aws/dynamo-alert-review-store.ts: one item per
 * alert, `open` create-only, `stage` conditional on the next rev with nothing
 * staged, `promote` conditional on that rev being the staged one, items listed
 * in id order with the same opaque cursors. Everything is kept as JSON copies.
 * THROTTLED and UNAVAILABLE come only from injected faults (`faults`).
 */
import { type AlertRef, FIRED_STATE, type ReviewState } from '../../core/detect/review.ts';
import {
  type AlertReviewItem,
  type AlertReviewPage,
  type AlertReviewStore,
  AlertReviewStoreError,
  type AlertReviewStoreErrorCode,
  decodeAlertCursor,
  encodeAlertCursor,
  type PendingReview,
} from '../../ports/alert-review-store.ts';
import type { AuditPosition } from '../../ports/principal-store.ts';
import { FaultPlan } from './faults.ts';

const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export class MemoryAlertReviewStore implements AlertReviewStore {
  readonly #items = new Map<string, AlertReviewItem>();
  readonly faults = new FaultPlan<AlertReviewStoreErrorCode>(
    (code, message) => new AlertReviewStoreError(code, message),
  );

  open(alert: AlertRef): Promise<boolean> {
    return this.faults.run('open', alert.id, () => {
      if (this.#items.has(alert.id)) return false;
      this.#items.set(alert.id, { alert: copy(alert), state: copy(FIRED_STATE) });
      return true;
    });
  }

  get(alertId: string): Promise<AlertReviewItem | undefined> {
    return this.faults.run('get', alertId, () => {
      const item = this.#items.get(alertId);
      return item && copy(item);
    });
  }

  stage(alertId: string, pending: PendingReview): Promise<void> {
    return this.faults.run('stage', alertId, () => {
      const item = this.#items.get(alertId);
      if (!item || item.pending || pending.state.rev !== item.state.rev + 1)
        throw new AlertReviewStoreError(
          'CONFLICT',
          !item
            ? `no alert ${alertId}`
            : item.pending
              ? `alert ${alertId} has a transition in progress (r${item.pending.state.rev})`
              : `alert ${alertId} is at r${item.state.rev}; a transition must be r${item.state.rev + 1}`,
        );
      this.#items.set(alertId, { ...item, pending: copy(pending) });
    });
  }

  promote(alertId: string, state: ReviewState, recorded: AuditPosition): Promise<void> {
    return this.faults.run('promote', `${alertId}@${state.rev}`, () => {
      const item = this.#items.get(alertId);
      if (item?.pending?.state.rev !== state.rev)
        throw new AlertReviewStoreError(
          'CONFLICT',
          `r${state.rev} of alert ${alertId} is not the staged transition`,
        );
      this.#items.set(alertId, { alert: item.alert, state: copy(state), recorded: { ...recorded } });
    });
  }

  async list(opts: { cursor?: string; limit: number }): Promise<AlertReviewPage> {
    if (!Number.isSafeInteger(opts.limit) || opts.limit < 1 || opts.limit > 100)
      throw new RangeError('list: limit must be an integer from 1 to 100');
    return this.faults.run('list', opts.cursor ?? '', (): AlertReviewPage => {
      const after = opts.cursor === undefined ? undefined : decodeAlertCursor(opts.cursor);
      const ids = [...this.#items.keys()]
        .filter((id) => after === undefined || id > after)
        .sort()
        .slice(0, opts.limit);
      const items = ids.map((id) => copy(this.#items.get(id) as AlertReviewItem));
      const last = ids[ids.length - 1];
      return { items, ...(ids.length === opts.limit && last ? { cursor: encodeAlertCursor(last) } : {}) };
    });
  }
}
