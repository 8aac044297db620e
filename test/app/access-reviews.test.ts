/**
 * Access reviews on the emulator (src/app/access-reviews.ts): start snapshots
 * every principal into the `system` log; decisions recorded before the answer
 * with the reviewer as submitter; `revoke` revokes (the key answers 401 at
 * once); refusals that write nothing; one winner among concurrent deciders;
 * close; roll-forward after a crash; the report from the log.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAccessReviewStore } from '../../src/adapters/aws/dynamo-access-review-store.ts';
import { AccessReviewService, type AccessReviewServiceDeps } from '../../src/app/access-reviews.ts';
import { AppError } from '../../src/app/errors.ts';
import { accessReviewReport } from '../../src/core/access-review.ts';
import type { Principal } from '../../src/core/principal.ts';
import { type RulesOnMoto, rulesOnMoto } from './rules-moto.ts';

async function refused(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('access reviews on the emulator', () => {
  let env: RulesOnMoto;
  let store: DynamoAccessReviewStore;
  let service: (extra?: Partial<AccessReviewServiceDeps>) => AccessReviewService;
  let reviews: AccessReviewService;
  let reviewer: Principal;
  let n = 0;
  const person = async (scopes: Record<string, string[]> = { acme: ['events:read'] }) => {
    n++;
    return env.principals.create(env.admin, {
      id: `user-${n}`,
      name: `User ${n}`,
      kind: 'human',
      owner: 'it@example.com',
      purpose: 'reads acme',
      scopes: scopes as never,
    });
  };
  const accessRecords = async (id: string) =>
    (await env.records()).filter(
      (r) => r.event.action.startsWith('access_review.') && r.event.metadata?.reviewId === id,
    );

  beforeAll(async () => {
    env = await rulesOnMoto(`access-${Date.now()}`);
    store = new DynamoAccessReviewStore({ client: env.ddb, tableName: env.table });
    service = (extra = {}) =>
      new AccessReviewService({
        store,
        audit: env.sink,
        auditLog: env.auditLog,
        principals: env.principals,
        logs: env.logs,
        clock: env.clock,
        random: (k) => crypto.getRandomValues(new Uint8Array(k)),
        ...extra,
      });
    reviews = service();
    reviewer = (
      await env.principals.create(env.admin, {
        id: 'auditor-rev',
        name: 'Reviewer',
        kind: 'human',
        owner: 'secops@example.com',
        purpose: 'quarterly access reviews',
        scopes: { '*': ['access:review'] },
      })
    ).principal;
  });

  it('snapshots every principal, records keep/change/revoke with the reviewer as submitter; revoke = 401 at once', async () => {
    const a = await person();
    const b = await person();
    const c = await person();
    expect((await env.principals.authenticate(c.apiKey)).id).toBe(c.principal.id);
    const started = await reviews.start(reviewer, { name: '2026-Q1' }, { requestId: 'req-s' });
    expect(started.review).toMatchObject({ status: 'open', name: '2026-Q1', startedBy: 'auditor-rev' });
    const id = started.review.id;
    const recs = await accessRecords(id);
    expect(recs.map((r) => r.event.action)).toEqual(['access_review.items', 'access_review.start']);
    expect(recs.every((r) => r.submitter === 'auditor-rev')).toBe(true);
    const snap = accessReviewReport(id, recs);
    expect(snap.items.map((i) => i.principalId)).toEqual(
      expect.arrayContaining(['ops-admin', 'auditor-rev', a.principal.id, b.principal.id, c.principal.id]),
    );
    expect(snap.items.find((i) => i.principalId === 'ops-admin')?.flags).toContain('admin');
    expect(started.review.items).toBe(snap.items.length);

    await reviews.decide(reviewer, id, a.principal.id, { decision: 'keep', reason: 'on-call' });
    await reviews.decide(reviewer, id, b.principal.id, { decision: 'change', reason: 'drop export' });
    const r = await reviews.decide(reviewer, id, c.principal.id, {
      decision: 'revoke',
      reason: 'left the team',
    });
    expect(r.decision).toMatchObject({ decision: 'revoke', by: 'auditor-rev' });
    expect(r.decision.recorded).toEqual(await env.auditLog.find(r.eventId));
    // The key stops working as part of the decision.
    const e = await refused(env.principals.authenticate(c.apiKey));
    expect(e.code).toBe('UNAUTHENTICATED');
    expect((await env.principals.authenticate(a.apiKey)).id).toBe(a.principal.id);
    const revoke = (await env.records()).find(
      (x) => x.event.action === 'principal.revoke' && x.event.target?.id === c.principal.id,
    );
    expect(revoke?.submitter).toBe('auditor-rev');

    const closed = await reviews.close(reviewer, id);
    expect(closed.review).toMatchObject({ status: 'closed', closedBy: 'auditor-rev' });
    const report = await reviews.report(reviewer, id);
    expect(report).toEqual(accessReviewReport(id, await accessRecords(id)));
    expect(report.problems).toEqual([]);
    expect(report.closedBy).toBe('auditor-rev');
    const row = (pid: string) => report.items.find((i) => i.principalId === pid);
    expect(row(a.principal.id)).toMatchObject({
      decision: 'keep',
      reason: 'on-call',
      reviewer: 'auditor-rev',
    });
    expect(row(c.principal.id)).toMatchObject({ decision: 'revoke', undecided: false });
    expect(report.undecided).toContain('ops-admin');
    const shown = await reviews.show(reviewer, id);
    expect(shown.decisions.map((d) => d.decision).sort()).toEqual(['change', 'keep', 'revoke']);
    // Closed: nothing more can be decided.
    const late = await refused(reviews.decide(reviewer, id, 'ops-admin', { decision: 'keep', reason: 'x' }));
    expect([late.code, late.details?.reason]).toEqual(['CONFLICT', 'REVIEW_CLOSED']);
    expect((await reviews.list(reviewer)).reviews.map((v) => v.id)).toContain(id);
  });

  it('refuses garbage and the unauthorized with stable codes, writing nothing', async () => {
    const p = await person();
    const { review } = await reviews.start(env.admin, { name: 'refusals' });
    const before = (await env.records()).length;
    const nobody = (await person({ acme: ['admin'] })).principal;
    const cases: [() => Promise<unknown>, string, string | undefined][] = [
      [() => reviews.start(reviewer, { name: '' }), 'BAD_REQUEST', 'INVALID_NAME'],
      [() => reviews.start(reviewer, { name: 'x', extra: 1 }), 'BAD_REQUEST', 'UNKNOWN_FIELD'],
      [() => reviews.start(reviewer, [1]), 'BAD_REQUEST', 'INVALID_BODY'],
      [() => reviews.start(reviewer, { name: '\u0000bad' }), 'BAD_REQUEST', 'INVALID_NAME'],
      [
        () => reviews.decide(reviewer, review.id, p.principal.id, { decision: 'nuke', reason: 'x' }),
        'BAD_REQUEST',
        'INVALID_DECISION',
      ],
      [
        () => reviews.decide(reviewer, review.id, p.principal.id, { decision: 'keep' }),
        'BAD_REQUEST',
        'INVALID_REASON',
      ],
      [
        () => reviews.decide(reviewer, review.id, p.principal.id, { decision: 'keep', reason: ' ' }),
        'BAD_REQUEST',
        'INVALID_REASON',
      ],
      [
        () =>
          reviews.decide(reviewer, review.id, p.principal.id, { decision: 'keep', reason: 'x'.repeat(1001) }),
        'BAD_REQUEST',
        'INVALID_REASON',
      ],
      [() => reviews.decide(reviewer, review.id, p.principal.id, null), 'BAD_REQUEST', 'INVALID_BODY'],
      [
        () => reviews.decide(reviewer, review.id, 'no-such-one', { decision: 'keep', reason: 'x' }),
        'NOT_FOUND',
        'NOT_IN_REVIEW',
      ],
      [
        () => reviews.decide(reviewer, review.id, '../P#x', { decision: 'keep', reason: 'x' }),
        'NOT_FOUND',
        'NOT_IN_REVIEW',
      ],
      [
        () =>
          reviews.decide(reviewer, `arv_${'0'.repeat(24)}`, p.principal.id, {
            decision: 'keep',
            reason: 'x',
          }),
        'NOT_FOUND',
        'REVIEW_NOT_FOUND',
      ],
      [() => reviews.show(reviewer, 'AV#'), 'NOT_FOUND', 'REVIEW_NOT_FOUND'],
      [() => reviews.start(nobody, { name: 'mine' }), 'FORBIDDEN', undefined],
      [
        () => reviews.decide(nobody, review.id, p.principal.id, { decision: 'revoke', reason: 'x' }),
        'FORBIDDEN',
        undefined,
      ],
      [() => reviews.close(p.principal, review.id), 'FORBIDDEN', undefined],
      [() => reviews.report(p.principal, review.id), 'FORBIDDEN', undefined],
    ];
    for (const [call, code, reason] of cases) {
      const err = await refused(call());
      expect([err.code, err.details?.reason]).toEqual([code, reason]);
    }
    // Only the `nobody` principal's creation was recorded.
    expect((await env.records()).length).toBe(before + 1);
    expect(await store.getDecision(review.id, p.principal.id)).toBeUndefined();
    expect((await env.principals.authenticate(p.apiKey)).status).toBe('active');
  });

  it('of concurrent deciders on one principal exactly one wins (200 + 409); one decide record', async () => {
    const other = (
      await env.principals.create(env.admin, {
        id: 'auditor-two',
        name: 'Second reviewer',
        kind: 'human',
        owner: 'secops@example.com',
        purpose: 'reviews',
        scopes: { '*': ['access:review'] },
      })
    ).principal;
    for (let round = 0; round < 3; round++) {
      const p = await person();
      const { review } = await reviews.start(reviewer, { name: `race-${round}` });
      const results = await Promise.allSettled([
        reviews.decide(reviewer, review.id, p.principal.id, { decision: 'keep', reason: 'fine' }),
        service().decide(other, review.id, p.principal.id, { decision: 'revoke', reason: 'not fine' }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect([lost[0]?.reason.code, lost[0]?.reason.details?.reason]).toEqual([
        'CONFLICT',
        'ALREADY_DECIDED',
      ]);
      const decides = (await accessRecords(review.id)).filter(
        (r) => r.event.action === 'access_review.decide',
      );
      expect(decides).toHaveLength(1);
      const winner = (won[0] as PromiseFulfilledResult<{ decision: { decision: string } }>).value.decision;
      const active = await env.principals.authenticate(p.apiKey).then(
        () => true,
        () => false,
      );
      expect(active).toBe(winner.decision === 'keep');
    }
  });

  it('rolls a decision forward after a crash at every step; a close completes staged decisions first', async () => {
    for (const step of ['staged', 'recorded', 'applied'] as const) {
      const p = await person();
      const { review } = await reviews.start(reviewer, { name: `crash-${step}` });
      const crashing = service({
        afterStep: (s) => {
          if (s === step) throw new Error(`crash after ${s}`);
        },
      });
      await expect(
        crashing.decide(reviewer, review.id, p.principal.id, { decision: 'revoke', reason: 'gone' }),
      ).rejects.toThrow(/crash/);
      expect((await store.getDecision(review.id, p.principal.id))?.pending).toBeDefined();
      // A second decider cannot slip in while the first is staged.
      const again = await refused(
        reviews.decide(reviewer, review.id, p.principal.id, { decision: 'keep', reason: 'x' }),
      );
      expect(again.details?.reason).toBe('ALREADY_DECIDED');
      // That request completed it (revoked, recorded, promoted); closing finds nothing left.
      expect((await store.getDecision(review.id, p.principal.id))?.recorded).toBeDefined();
      expect((await refused(env.principals.authenticate(p.apiKey))).code).toBe('UNAUTHENTICATED');
      await reviews.close(reviewer, review.id);
      const report = await reviews.report(reviewer, review.id);
      expect(report.problems).toEqual([]);
      expect(report.items.find((i) => i.principalId === p.principal.id)?.decision).toBe('revoke');
    }
    // A close staged then crashed: recovery completes the staged decision, then the close, in that order.
    const p = await person();
    const { review } = await reviews.start(reviewer, { name: 'crash-close' });
    const crashDecide = service({
      afterStep: (s) => {
        if (s === 'staged') throw new Error('crash');
      },
    });
    await expect(
      crashDecide.decide(reviewer, review.id, p.principal.id, { decision: 'revoke', reason: 'gone' }),
    ).rejects.toThrow(/crash/);
    await expect(crashDecide.close(reviewer, review.id)).rejects.toThrow(/crash/);
    expect((await store.get(review.id))?.pending?.state.status).toBe('closed');
    const got = await service().recoverPending();
    expect(got.failed).toBe(0);
    expect(got.completed).toBeGreaterThanOrEqual(1);
    expect((await store.get(review.id))?.state?.status).toBe('closed');
    const actions = (await accessRecords(review.id)).map((r) => r.event.action);
    expect(actions.slice(-2)).toEqual(['access_review.decide', 'access_review.close']);
    expect((await refused(env.principals.authenticate(p.apiKey))).code).toBe('UNAUTHENTICATED');
    expect((await reviews.report(reviewer, review.id)).problems).toEqual([]);
  });
});
