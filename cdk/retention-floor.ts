/**
 * The archive's Object Lock retention and its floor (docs/deploy.md
 * §Retention floor).
 *
 * Retention is the `RetentionDays` CloudFormation parameter, so its value is
 * only known at deploy time; the floor is fixed at synth time as the
 * parameter's MinValue, and CloudFormation rejects a lower value with the
 * ConstraintDescription below before it changes anything. Deploying shorter
 * retention needs a different template, synthesized with the override flag,
 * which also says so in the parameter's description and as a synth warning.
 */
import { Annotations, CfnParameter, type Stack } from 'aws-cdk-lib';
import { AnchorlogError } from '../src/core/errors.ts';

/** Days: one year of audit history, what SOC 2 auditors expect (docs/deploy.md §Retention floor). */
export const RETENTION_FLOOR_DAYS = 365;
export const DEFAULT_RETENTION_DAYS = 400;
/** `cdk synth -c anchorlog:allowRetentionBelowFloor=true`: test and development stacks only. */
export const ALLOW_RETENTION_BELOW_FLOOR = 'anchorlog:allowRetentionBelowFloor';

export class RetentionConfigError extends AnchorlogError<'BAD_OVERRIDE_FLAG'> {}

/** Reads the override flag: absent or false keeps the floor; anything but true/false is an error. */
export function allowsRetentionBelowFloor(stack: Stack): boolean {
  const raw: unknown = stack.node.tryGetContext(ALLOW_RETENTION_BELOW_FLOOR);
  if (raw === undefined || raw === false || raw === 'false') return false;
  if (raw === true || raw === 'true') return true;
  throw new RetentionConfigError(
    'BAD_OVERRIDE_FLAG',
    `context ${ALLOW_RETENTION_BELOW_FLOOR} must be true or false, not ${JSON.stringify(raw)}`,
  );
}

/** The `RetentionDays` parameter, floored unless the override flag is set. */
export function retentionDaysParameter(stack: Stack): CfnParameter {
  const belowFloor = allowsRetentionBelowFloor(stack);
  if (belowFloor)
    Annotations.of(stack).addWarningV2(
      'anchorlog:retention-floor-disabled',
      `${ALLOW_RETENTION_BELOW_FLOOR} is set: RetentionDays may be below ${RETENTION_FLOOR_DAYS} days. Test and development stacks only.`,
    );
  return new CfnParameter(stack, 'RetentionDays', {
    type: 'Number',
    default: DEFAULT_RETENTION_DAYS,
    minValue: belowFloor ? 1 : RETENTION_FLOOR_DAYS,
    maxValue: 36500,
    constraintDescription: belowFloor
      ? 'RetentionDays must be between 1 and 36500 days.'
      : `RetentionDays must be at least ${RETENTION_FLOOR_DAYS} days (docs/deploy.md §Retention floor). A test or development stack may go lower only from a template synthesized with -c ${ALLOW_RETENTION_BELOW_FLOOR}=true.`,
    description: `${
      belowFloor ? `TEST/DEV TEMPLATE: the ${RETENTION_FLOOR_DAYS}-day retention floor is disabled. ` : ''
    }Default S3 Object Lock COMPLIANCE retention of the archive, in days (audit window plus buffer; at least ${
      belowFloor ? 1 : RETENTION_FLOOR_DAYS
    }). Nobody, including the account root, can delete or shorten a locked object before it expires.`,
  });
}
