/**
 * The AlertReviewStore contract (src/ports/alert-review-store.ts), run against
 * every implementation by test/contracts/memory.test.ts and aws.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { type AlertRef, applyReview, FIRED_STATE, type ReviewState } from '../../src/core/detect/review.ts';
import {
  type AlertReviewStore,
  AlertReviewStoreError,
  type PendingReview,
} from '../../src/ports/alert-review-store.ts';

let n = 0;
const run = Math.floor(Math.random() * 2 ** 40);
/** A fresh alert id: suites share one table per run. */
export function freshAlertId(): string {
  n++;
  return `alr_${run.toString(16).padStart(12, '0')}${n.toString(16).padStart(20, '0')}`;
}

export function alertRef(id = freshAlertId(), over: Partial<AlertRef> = {}): AlertRef {
  return {
    id,
    logId: 'acme',
    ruleId: 'ai.data-export.volume',
    ruleVersion: 2,
    title: 'Unusual export «volume» ✓',
    severity: 'high',
    owner: 'secops',
    runbook: 'https://runbooks.example/export',
    firedAt: '2026-03-01T03:00:00.000Z',
    summary: 'agent-7 exported 40 times in 1h',
    ...over,
  };
}

const mark = { by: 'alice', at: '2026-03-01T03:05:00.000Z' };
const ack = (s: ReviewState) => applyReview(s, { action: 'alert.ack' }, mark);
const pendingOf = (state: ReviewState): PendingReview => ({
  state,
  audit: {
    id: `x/r${state.rev}`,
    action: 'alert.ack',
    changes: { before: {}, after: { status: state.status } },
  },
});

async function conflict(p: Promise<unknown>): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AlertReviewStoreError);
  expect((err as AlertReviewStoreError).code).toBe('CONFLICT');
}

export function alertReviewStoreContract(
  name: string,
  make: () => Promise<{ store: AlertReviewStore; empty: () => Promise<AlertReviewStore> }>,
): void {
  describe(`AlertReviewStore contract: ${name}`, () => {
    it('opens once: a second open changes nothing', async () => {
      const { store } = await make();
      const ref = alertRef();
      expect(await store.get(ref.id)).toBeUndefined();
      expect(await store.open(ref)).toBe(true);
      expect(await store.open({ ...ref, title: 'other' })).toBe(false);
      expect(await store.get(ref.id)).toEqual({ alert: ref, state: FIRED_STATE });
    });

    it('stages then promotes; the committed state is untouched until promotion', async () => {
      const { store } = await make();
      const ref = alertRef();
      await store.open(ref);
      const next = ack(FIRED_STATE);
      const p = pendingOf(next);
      await store.stage(ref.id, p);
      expect(await store.get(ref.id)).toEqual({ alert: ref, state: FIRED_STATE, pending: p });
      await store.promote(ref.id, next, { seq: 3, index: 7 });
      expect(await store.get(ref.id)).toEqual({ alert: ref, state: next, recorded: { seq: 3, index: 7 } });
    });

    it('refuses a stage that is not the next rev, a second stage, an unknown alert (CONFLICT, nothing written)', async () => {
      const { store } = await make();
      const ref = alertRef();
      await conflict(store.stage(ref.id, pendingOf(ack(FIRED_STATE))));
      expect(await store.get(ref.id)).toBeUndefined();
      await store.open(ref);
      await conflict(store.stage(ref.id, pendingOf({ ...ack(FIRED_STATE), rev: 2 })));
      await store.stage(ref.id, pendingOf(ack(FIRED_STATE)));
      await conflict(store.stage(ref.id, pendingOf(ack(FIRED_STATE))));
      expect((await store.get(ref.id))?.pending?.state.rev).toBe(1);
    });

    it('refuses a promote of anything but the staged rev, and a second promote', async () => {
      const { store } = await make();
      const ref = alertRef();
      await store.open(ref);
      const next = ack(FIRED_STATE);
      await conflict(store.promote(ref.id, next, { seq: 1, index: 0 }));
      await store.stage(ref.id, pendingOf(next));
      await conflict(store.promote(ref.id, { ...next, rev: 2 }, { seq: 1, index: 0 }));
      await store.promote(ref.id, next, { seq: 1, index: 0 });
      await conflict(store.promote(ref.id, next, { seq: 1, index: 0 }));
      expect(await store.get(ref.id)).toEqual({ alert: ref, state: next, recorded: { seq: 1, index: 0 } });
    });

    it('of concurrent stages of the same rev exactly one wins', async () => {
      const { store } = await make();
      const ref = alertRef();
      await store.open(ref);
      const a = pendingOf(ack(FIRED_STATE));
      const b = pendingOf(
        applyReview(FIRED_STATE, { action: 'alert.resolve', outcome: 'false_positive' }, mark),
      );
      const results = await Promise.allSettled([store.stage(ref.id, a), store.stage(ref.id, b)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((lost.reason as AlertReviewStoreError).code).toBe('CONFLICT');
    });

    it('lists in id order a page at a time, with cursors; refuses a foreign cursor', async () => {
      const { empty } = await make();
      const store = await empty();
      expect(await store.list({ limit: 10 })).toEqual({ items: [] });
      const ids = [freshAlertId(), freshAlertId(), freshAlertId()];
      for (const id of [...ids].reverse()) await store.open(alertRef(id));
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((i) => i.alert.id));
        cursor = page.cursor;
      } while (cursor);
      expect(seen).toEqual([...ids].sort());
      for (const bad of ['', 'not-a-cursor', 'YWxyX3h5eg'])
        await expect(store.list({ limit: 2, cursor: bad })).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
    });
  });
}
