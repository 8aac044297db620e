/**
 * The alert lifecycle (src/core/detect/review.ts): which transitions are
 * allowed from which status, input bounds, and event ids.
 */
import { describe, expect, it } from 'vitest';
import {
  ALERT_OUTCOMES,
  applyReview,
  checkNotes,
  FIRED_STATE,
  MAX_NOTES,
  MAX_REV,
  parseReviewEventId,
  ReviewError,
  type ReviewState,
  reviewEventId,
} from '../../../src/core/detect/review.ts';

const mark = { by: 'alice', at: '2026-03-01T10:00:00.000Z' };
const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(ReviewError);
    return (e as ReviewError).code;
  }
};

describe('applyReview', () => {
  it('open → acknowledged → resolved → open, counting revs', () => {
    const acked = applyReview(FIRED_STATE, { action: 'alert.ack' }, mark);
    expect(acked).toMatchObject({ status: 'acknowledged', rev: 1, acknowledged: mark });
    const resolved = applyReview(
      acked,
      { action: 'alert.resolve', outcome: 'false_positive', notes: 'n' },
      mark,
    );
    expect(resolved).toMatchObject({
      status: 'resolved',
      rev: 2,
      acknowledged: mark,
      resolved: { ...mark, outcome: 'false_positive', notes: 'n' },
    });
    const reopened = applyReview(resolved, { action: 'alert.reopen' }, mark);
    expect(reopened).toEqual({ status: 'open', rev: 3, acknowledged: null, resolved: null, reopened: 1 });
  });

  it('resolves an open alert directly', () => {
    for (const outcome of ALERT_OUTCOMES)
      expect(applyReview(FIRED_STATE, { action: 'alert.resolve', outcome }, mark).resolved?.outcome).toBe(
        outcome,
      );
  });

  it('refuses what the lifecycle does not allow, with stable codes', () => {
    const acked = applyReview(FIRED_STATE, { action: 'alert.ack' }, mark);
    const resolved = applyReview(acked, { action: 'alert.resolve', outcome: 'true_positive' }, mark);
    expect(code(() => applyReview(acked, { action: 'alert.ack' }, mark))).toBe('INVALID_TRANSITION');
    expect(code(() => applyReview(resolved, { action: 'alert.ack' }, mark))).toBe('INVALID_TRANSITION');
    expect(
      code(() => applyReview(resolved, { action: 'alert.resolve', outcome: 'true_positive' }, mark)),
    ).toBe('INVALID_TRANSITION');
    expect(code(() => applyReview(FIRED_STATE, { action: 'alert.reopen' }, mark))).toBe('INVALID_TRANSITION');
    for (const outcome of [undefined, null, 'TRUE_POSITIVE', 'maybe', 1, {}, ['true_positive'], '__proto__'])
      expect(code(() => applyReview(FIRED_STATE, { action: 'alert.resolve', outcome }, mark))).toBe(
        'INVALID_OUTCOME',
      );
    const far: ReviewState = { ...FIRED_STATE, rev: MAX_REV };
    expect(code(() => applyReview(far, { action: 'alert.ack' }, mark))).toBe('TOO_MANY_TRANSITIONS');
    expect(code(() => applyReview(FIRED_STATE, { action: 'nope' } as never, mark))).toBe(
      'INVALID_TRANSITION',
    );
  });

  it('bounds notes', () => {
    expect(checkNotes(undefined)).toBe('');
    expect(checkNotes('line 1\nline 2\ttab')).toBe('line 1\nline 2\ttab');
    expect(checkNotes('x'.repeat(MAX_NOTES))).toHaveLength(MAX_NOTES);
    for (const bad of ['x'.repeat(MAX_NOTES + 1), 'bell\u0007', 5, {}, '\ud800 lone'])
      expect(code(() => checkNotes(bad))).toBe('INVALID_NOTES');
  });
});

describe('review event ids', () => {
  it('round-trip and refuse anything else', () => {
    const id = `alr_${'a'.repeat(32)}`;
    expect(parseReviewEventId(reviewEventId(id, 7))).toEqual({ alertId: id, rev: 7 });
    for (const bad of [id, `${id}/r0`, `${id}/r01`, `${id}/x1`, 'alr_xyz/r1', `${id}/r1/`])
      expect(parseReviewEventId(bad)).toBeUndefined();
  });
});
