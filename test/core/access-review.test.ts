import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACCESS_REVIEW_CLOSE,
  ACCESS_REVIEW_DECIDE,
  ACCESS_REVIEW_ITEMS,
  ACCESS_REVIEW_START,
  accessReviewCsv,
  accessReviewReport,
  REVIEW_DECISIONS,
  SNAPSHOT_PART_BYTES,
  snapshotItems,
  snapshotParts,
} from '../../src/core/access-review.ts';
import type { Principal } from '../../src/core/principal.ts';
import type { LogRecord } from '../../src/core/record.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2027, 0, 1);

type P = Principal & { lastUsedAt?: string };
function principal(id: string, over: Partial<P> = {}): P {
  return {
    id,
    name: id,
    kind: 'human',
    owner: 'team',
    purpose: 'p',
    scopes: {},
    roles: [],
    status: 'active',
    keyId: 'k_0000000000000000',
    version: 1,
    createdAt: new Date(NOW - 10 * DAY).toISOString(),
    updatedAt: new Date(NOW - 10 * DAY).toISOString(),
    createdBy: 'system:bootstrap',
    ...over,
  };
}

let idx = 0;
function rec(action: string, metadata: Record<string, unknown>, submitter = 'p-admin'): LogRecord {
  const i = idx++;
  return {
    v: 1,
    logId: 'system',
    index: i,
    receivedAt: new Date(NOW + i * 1000).toISOString(),
    submitter,
    prev: '',
    event: {
      occurredAt: new Date(NOW).toISOString(),
      actor: { id: submitter },
      action,
      outcome: 'success',
      metadata: metadata as never,
    },
  } as unknown as LogRecord;
}

describe('snapshotItems flags', () => {
  it('flags admin, unused, owner, direct scopes, expiring', () => {
    const items = snapshotItems({
      principals: [
        principal('alice', { scopes: { '*': ['admin'] } }),
        principal('bot', {
          kind: 'agent',
          owner: 'ghost',
          createdAt: new Date(NOW - 100 * DAY).toISOString(),
        }),
        principal('app', {
          kind: 'application',
          owner: 'alice',
          roles: ['reader'],
          lastUsedAt: new Date(NOW).toISOString(),
        }),
        principal('nobody', { owner: '' }),
      ],
      roles: new Map([['reader', { scopes: { logs: ['events:read'] } }]]),
      limits: { agent: 105 * DAY },
      nowMs: NOW,
    });
    const f = Object.fromEntries(items.map((i) => [i.principalId, i.flags]));
    expect(f.alice).toEqual(['admin', 'direct_scopes']);
    expect(f.bot).toEqual(['expiring_14d', 'owner_not_active_human', 'unused_90d']);
    expect(f.app).toEqual([]);
    expect(f.nobody).toEqual(['no_owner']);
    expect(items.find((i) => i.principalId === 'app')?.effectiveScopes).toEqual({ logs: ['events:read'] });
  });
});

describe('accessReviewReport (properties)', () => {
  it('every snapshotted principal exactly once; undecided iff no decision', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z]{3,6}$/), { minLength: 0, maxLength: 8 }),
        fc.array(
          fc.tuple(fc.nat(20), fc.constantFrom(...REVIEW_DECISIONS), fc.stringMatching(/^[a-z]{1,4}$/)),
        ),
        fc.boolean(),
        (ids, decisions, closeIt) => {
          idx = 0;
          const items = snapshotItems({
            principals: ids.map((i) => principal(i)),
            roles: new Map(),
            limits: {},
            nowMs: NOW,
          });
          const recs = [rec(ACCESS_REVIEW_START, { reviewId: 'r1', name: 'Q1', items: items as never })];
          const firstDecision = new Map<string, string>();
          for (const [n, d, reviewer] of decisions) {
            if (ids.length === 0) break;
            const pid = ids[n % ids.length] as string;
            if (!firstDecision.has(pid)) firstDecision.set(pid, d);
            recs.push(
              rec(
                ACCESS_REVIEW_DECIDE,
                { reviewId: 'r1', principalId: pid, decision: d, reason: 'x' },
                reviewer,
              ),
            );
          }
          if (closeIt) recs.push(rec(ACCESS_REVIEW_CLOSE, { reviewId: 'r1' }));
          recs.push(
            rec(ACCESS_REVIEW_DECIDE, { reviewId: 'other', principalId: ids[0] ?? 'x', decision: 'keep' }),
          );
          const report = accessReviewReport('r1', [...recs].reverse());
          expect(report.items.map((r) => r.principalId).sort()).toEqual([...ids].sort());
          for (const row of report.items) {
            expect(row.undecided).toBe(!firstDecision.has(row.principalId));
            expect(row.decision).toBe(firstDecision.get(row.principalId) ?? null);
            expect(report.undecided.includes(row.principalId)).toBe(row.undecided);
          }
          expect(accessReviewCsv(report).split('\r\n').length).toBe(ids.length + 2);
        },
      ),
    );
  });

  it('a decision after close is a problem, not applied', () => {
    idx = 0;
    const items = snapshotItems({
      principals: [principal('alice')],
      roles: new Map(),
      limits: {},
      nowMs: NOW,
    });
    const report = accessReviewReport('r', [
      rec(ACCESS_REVIEW_START, { reviewId: 'r', name: 'Q', items: items as never }),
      rec(ACCESS_REVIEW_CLOSE, { reviewId: 'r' }),
      rec(ACCESS_REVIEW_DECIDE, { reviewId: 'r', principalId: 'alice', decision: 'keep', reason: '=x' }),
    ]);
    expect(report.undecided).toEqual(['alice']);
    expect(report.problems).toHaveLength(1);
  });

  it('a snapshot in parts: concatenated in part order wherever the parts are; a missing part is a problem', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), fc.boolean(), (n, dropOne) => {
        idx = 0;
        const items = snapshotItems({
          principals: Array.from({ length: n }, (_, i) =>
            principal(`p-${String(i).padStart(4, '0')}`, { purpose: 'x'.repeat(i % 50) }),
          ),
          roles: new Map(),
          limits: {},
          nowMs: NOW,
        });
        const parts = snapshotParts(items);
        for (const part of parts)
          expect(new TextEncoder().encode(JSON.stringify(part)).length).toBeLessThanOrEqual(
            SNAPSHOT_PART_BYTES + 2,
          );
        expect(parts.flat()).toEqual(items);
        const drop = dropOne && parts.length > 1 ? 1 : -1;
        const recs = parts.flatMap((p, i) =>
          i === drop ? [] : [rec(ACCESS_REVIEW_ITEMS, { reviewId: 'r', part: i, items: p as never })],
        );
        recs.reverse();
        recs.push(rec(ACCESS_REVIEW_START, { reviewId: 'r', name: 'Q', parts: parts.length }));
        const report = accessReviewReport('r', recs);
        if (drop < 0) {
          expect(report.items.map((r) => r.principalId)).toEqual(items.map((i) => i.principalId));
          expect(report.problems).toEqual([]);
        } else expect(report.problems.map((p) => p.problem)).toEqual(['snapshot part 1 is missing']);
      }),
      { numRuns: 30 },
    );
  });
});
