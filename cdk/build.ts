/**
 * Builds the app exactly as `cdk synth` does: same feature flags, same stack,
 * same cdk-nag checks. The CLI entry (cdk/app.ts) and the tests (test/cdk/)
 * both call this, so what is tested is what is deployed.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AnchorlogStack } from './anchorlog-stack.ts';

/** Feature flags that change the synthesized template; kept in code so tests see them too. */
export const FEATURE_FLAGS = {
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-s3:createDefaultLoggingPolicy': true,
  '@aws-cdk/core:enablePartitionLiterals': true,
  '@aws-cdk/aws-lambda:recognizeLayerVersion': true,
};

export interface BuildOptions {
  readonly outdir?: string;
  /** false: do not register cdk-nag as a synth-time plugin (tests call `nag.validateScope` themselves). */
  readonly validate?: boolean;
  /**
   * false: skip esbuild bundling and CDK's built-in CloudFormation schema
   * validation. Only the functions' code assets differ; roles and policies are
   * identical (test/cdk/stack.test.ts compares them), so policy tests use it.
   */
  readonly bundle?: boolean;
  /** Extra context, as `cdk synth -c key=value` would give it (e.g. the retention-floor override). */
  readonly context?: Record<string, unknown>;
}

export function buildApp(opts: BuildOptions = {}): {
  app: App;
  stack: AnchorlogStack;
  nag: AwsSolutionsChecks;
} {
  const bundle = opts.bundle !== false;
  const app = new App({
    context: {
      ...FEATURE_FLAGS,
      // An empty list is CDK's own switch for "bundle no stack" (what `cdk ls` uses).
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...opts.context,
    },
    ...(bundle ? {} : { builtinCloudFormationValidation: false }),
    ...(opts.outdir ? { outdir: opts.outdir } : {}),
  });
  const stack = new AnchorlogStack(app, 'Anchorlog');
  // cdk-nag v3 is a policy-validation plugin: `cdk synth` fails on any unacknowledged error.
  const nag = new AwsSolutionsChecks(app, { verbose: true });
  // Tests validate the same tree explicitly (nag.validateScope) so one synth serves every assertion.
  if (opts.validate !== false) Validations.of(app).addPlugins(nag);
  return { app, stack, nag };
}
