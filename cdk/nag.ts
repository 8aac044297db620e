/**
 * cdk-nag (v3) acknowledgements. Each one is made next to the construct that
 * causes the finding, through this helper, so it always carries a reason;
 * test/cdk/stack.test.ts ("cdk-nag AwsSolutions") lists them all and fails on
 * any unacknowledged error.
 */
import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledges one AwsSolutions finding (`AwsSolutions-IAM5[Resource::…]` for one wildcard). */
export function acknowledge(scope: IConstruct, id: `AwsSolutions-${string}`, reason: string): void {
  if (reason.trim().length < 40) throw new Error(`cdk-nag acknowledgement ${id} needs a real reason`);
  Validations.of(scope).acknowledge({ id, reason });
}

/** `<LogicalId.Arn>` as cdk-nag renders a GetAtt in IAM5 findings. */
export function nagArn(element: CfnElement): string {
  return `<${Stack.of(element).resolve(element.logicalId)}.Arn>`;
}
