/**
 * The AccessReviewStore contract (src/ports/access-review-store.ts), run
 * against every implementation by test/contracts/memory.test.ts and aws.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  type AccessDecisionItem,
  type AccessReviewState,
  type AccessReviewStore,
  AccessReviewStoreError,
  type PendingReviewChange,
} from '../../src/ports/access-review-store.ts';

let n = 0;
const run = Math.floor(Math.random() * 2 ** 40);
/** A fresh review id: suites share one table per run. */
export function freshReviewId(): string {
  n++;
  return `arv_${run.toString(16).padStart(12, '0')}${n.toString(16).padStart(12, '0')}`;
}

const open: AccessReviewState = {
  rev: 1,
  status: 'open',
  name: '2026-Q1 «review» ✓',
  startedAt: '2026-03-01T00:00:00.000Z',
  startedBy: 'alice',
  items: 2,
};
const closed: AccessReviewState = {
  ...open,
  rev: 2,
  status: 'closed',
  closedAt: '2026-03-02T00:00:00.000Z',
  closedBy: 'bob',
};
const change = (state: AccessReviewState): PendingReviewChange => ({
  state,
  audits: [{ id: `x/r${state.rev}`, action: 'access_review.start' }],
});
const decision = (reviewId: string, principalId: string, d = 'keep'): AccessDecisionItem => ({
  reviewId,
  principalId,
  decision: d,
  reason: 'still needed, per «owner»',
  by: 'carol',
  at: '2026-03-01T01:00:00.000Z',
  pending: { audit: { id: `${reviewId}/${principalId}`, action: 'access_review.decide' } },
});
const at = { seq: 3, index: 7 };

async function conflict(p: Promise<unknown>): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AccessReviewStoreError);
  expect((err as AccessReviewStoreError).code).toBe('CONFLICT');
}

async function started(store: AccessReviewStore): Promise<string> {
  const id = freshReviewId();
  await store.create(id, change(open));
  await store.promote(id, open, at);
  return id;
}

export function accessReviewStoreContract(
  name: string,
  make: () => Promise<{ store: AccessReviewStore; empty: () => Promise<AccessReviewStore> }>,
): void {
  describe(`AccessReviewStore contract: ${name}`, () => {
    it('creates once with the start staged; promotes; stages and promotes the close', async () => {
      const { store } = await make();
      const id = freshReviewId();
      expect(await store.get(id)).toBeUndefined();
      await store.create(id, change(open));
      await conflict(store.create(id, change(open)));
      expect(await store.get(id)).toEqual({ id, pending: change(open) });
      await conflict(store.stage(id, change(closed))); // nothing committed yet
      await store.promote(id, open, at);
      expect(await store.get(id)).toEqual({ id, state: open, recorded: at });
      await conflict(store.promote(id, open, at));
      await conflict(store.stage(id, change({ ...closed, rev: 3 })));
      await store.stage(id, change(closed));
      await conflict(store.stage(id, change(closed)));
      expect(await store.get(id)).toEqual({ id, state: open, recorded: at, pending: change(closed) });
      await store.promote(id, closed, { seq: 4, index: 9 });
      expect(await store.get(id)).toEqual({ id, state: closed, recorded: { seq: 4, index: 9 } });
    });

    it('stages a decision once per principal, only while the review is open with nothing staged', async () => {
      const { store } = await make();
      await conflict(store.stageDecision(decision(freshReviewId(), 'alice'))); // no such review
      const id = freshReviewId();
      await store.create(id, change(open));
      await conflict(store.stageDecision(decision(id, 'alice'))); // not started
      await store.promote(id, open, at);
      const d = decision(id, 'alice');
      await store.stageDecision(d);
      await conflict(store.stageDecision(decision(id, 'alice', 'revoke')));
      expect(await store.getDecision(id, 'alice')).toEqual(d);
      await store.promoteDecision(id, 'alice', { seq: 5, index: 1 });
      await conflict(store.promoteDecision(id, 'alice', { seq: 5, index: 1 }));
      const { pending: _, ...rest } = d;
      expect(await store.getDecision(id, 'alice')).toEqual({ ...rest, recorded: { seq: 5, index: 1 } });
      await store.stage(id, change(closed)); // closing: no decision may be staged any more
      await conflict(store.stageDecision(decision(id, 'bob-1')));
      await store.promote(id, closed, at);
      await conflict(store.stageDecision(decision(id, 'bob-1')));
      expect(await store.getDecision(id, 'bob-1')).toBeUndefined();
    });

    it('of concurrent decisions on one principal exactly one wins', async () => {
      const { store } = await make();
      const id = await started(store);
      const results = await Promise.allSettled([
        store.stageDecision(decision(id, 'dave', 'keep')),
        store.stageDecision(decision(id, 'dave', 'revoke')),
        store.stageDecision(decision(id, 'dave', 'change')),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected')
          expect((r.reason as AccessReviewStoreError).code).toMatch(/^(CONFLICT|THROTTLED)$/);
    });

    it('lists heads and a review’s decisions in key order with cursors; refuses a foreign cursor', async () => {
      const { empty } = await make();
      const store = await empty();
      expect(await store.list({ limit: 10 })).toEqual({ items: [] });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(await started(store));
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((h) => h.id));
        cursor = page.cursor;
      } while (cursor);
      expect(seen).toEqual([...ids].sort());
      const rid = ids[0] as string;
      const pids = ['zed', 'amy', 'p_0123456789abcdef0123456789abcdef'];
      for (const p of pids) await store.stageDecision(decision(rid, p));
      const got: string[] = [];
      cursor = undefined;
      do {
        const page = await store.listDecisions(rid, { limit: 2, ...(cursor ? { cursor } : {}) });
        got.push(...page.items.map((d) => d.principalId));
        cursor = page.cursor;
      } while (cursor);
      expect(got).toEqual([...pids].sort());
      expect(await store.listDecisions(ids[1] as string, { limit: 5 })).toEqual({ items: [] });
      for (const bad of ['', 'not-a-cursor', 'YWxyX3h5eg'])
        await expect(store.list({ limit: 2, cursor: bad })).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
    });
  });
}
