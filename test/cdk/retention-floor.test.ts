/**
 * The archive retention floor (cdk/retention-floor.ts, docs/deploy.md
 * §Retention floor): the template refuses RetentionDays below the floor
 * unless it was synthesized with the explicit override flag, and a malformed
 * flag fails the synth. Synths without bundling: only the parameter matters.
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ALLOW_RETENTION_BELOW_FLOOR,
  DEFAULT_RETENTION_DAYS,
  RETENTION_FLOOR_DAYS,
  RetentionConfigError,
} from '../../cdk/retention-floor.ts';
import { cleanupSynths, synth } from './synth.ts';

afterAll(cleanupSynths);

const retentionParameter = (context?: Record<string, unknown>) => {
  const s = synth({ bundle: false, ...(context ? { context } : {}) });
  const p = s.template.findParameters('RetentionDays').RetentionDays as Record<string, unknown> | undefined;
  return { s, p };
};

describe('RetentionDays floor', () => {
  it('is at least 365 days: the floor is the parameter minimum, with a message naming the override', () => {
    expect(RETENTION_FLOOR_DAYS).toBeGreaterThanOrEqual(365);
    const { s, p } = retentionParameter();
    expect(p).toMatchObject({
      Type: 'Number',
      Default: DEFAULT_RETENTION_DAYS,
      MinValue: RETENTION_FLOOR_DAYS,
    });
    expect(String(p?.ConstraintDescription)).toContain(`${ALLOW_RETENTION_BELOW_FLOOR}=true`);
    expect(DEFAULT_RETENTION_DAYS).toBeGreaterThanOrEqual(RETENTION_FLOOR_DAYS);
    // The archive's default retention and the access logs' expiry both follow the parameter.
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: {
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: { Ref: 'RetentionDays' } } },
      },
    });
    Annotations.fromStack(s.stack).hasNoWarning('*', Match.stringLikeRegexp('retention floor|below'));
  });

  it.each([true, 'true'])('the override flag (%j) lowers the minimum to one day and says so', (flag) => {
    const { s, p } = retentionParameter({ [ALLOW_RETENTION_BELOW_FLOOR]: flag });
    expect(p).toMatchObject({ MinValue: 1, Default: DEFAULT_RETENTION_DAYS });
    expect(String(p?.Description)).toMatch(/^TEST\/DEV TEMPLATE/);
    Annotations.fromStack(s.stack).hasWarning('*', Match.stringLikeRegexp(ALLOW_RETENTION_BELOW_FLOOR));
  });

  it('the override flag set to "false" keeps the floor', () => {
    expect(retentionParameter({ [ALLOW_RETENTION_BELOW_FLOOR]: 'false' }).p).toMatchObject({
      MinValue: RETENTION_FLOOR_DAYS,
    });
  });

  it.each(['yes', '1', 1, ''])(
    'a malformed override flag (%j) fails the synth with BAD_OVERRIDE_FLAG',
    (flag) => {
      let caught: unknown;
      try {
        synth({ bundle: false, context: { [ALLOW_RETENTION_BELOW_FLOOR]: flag } });
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(RetentionConfigError);
      expect((caught as RetentionConfigError).code).toBe('BAD_OVERRIDE_FLAG');
    },
  );
});
