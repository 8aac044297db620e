/**
 * A secret that one function reads once at cold start (src/config.ts
 * `loadCursorKey`, `loadTsaCredentials`; docs/deploy.md §Secrets). The
 * function's environment carries only the secret's ARN — anyone allowed
 * lambda:GetFunctionConfiguration reads environment values — and its role may
 * call secretsmanager:GetSecretValue on exactly this secret, nothing else.
 * Encrypted with the account's aws/secretsmanager key, which Secrets Manager
 * uses on the caller's behalf, so no KMS permission is granted.
 */
import { SecretValue } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';
import type { ServiceFunction } from './service-function.ts';

export interface ServiceSecretProps {
  readonly description: string;
  /**
   * `generate`: Secrets Manager makes a random alphanumeric value of this
   * length when the stack is created; the template never contains it.
   * `operatorSets`: created holding this non-secret placeholder; the operator
   * writes the real value with `aws secretsmanager put-secret-value`
   * (CloudFormation does not overwrite it while the placeholder is unchanged).
   */
  readonly value: { readonly generate: number } | { readonly operatorSets: string };
  /** Why the secret is not rotated automatically (cdk-nag AwsSolutions-SMG4). */
  readonly noRotationBecause: string;
}

export class ServiceSecret extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ServiceSecretProps) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: props.description,
      ...('generate' in props.value
        ? { generateSecretString: { passwordLength: props.value.generate, excludePunctuation: true } }
        : { secretStringValue: SecretValue.unsafePlainText(props.value.operatorSets) }),
    });
    acknowledge(this.secret, 'AwsSolutions-SMG4', props.noRotationBecause);
  }

  /**
   * Lets `target` read this secret and names it in `envName`, in one call so
   * that the permission and the setting that uses it cannot drift apart.
   */
  grantReadTo(target: ServiceFunction, envName: `ANCHORLOG_${string}_SECRET`): void {
    target.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.secret.secretArn],
      }),
    );
    target.addEnv(envName, this.secret.secretArn);
  }
}
