/**
 * Builds the app exactly as `cdk synth` does: same feature flags, same stack,
 * same cdk-nag checks. The CLI entry (cdk/app.ts) and the tests (test/cdk/)
 * both call this, so what is tested is what is deployed.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AnchorlogStack } from './anchorlog-stack.ts';
import { AnchorlogWitnessStack } from './witness-stack.ts';

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

/**
 * Context `anchorlog:witness`: `also` adds the witness stack (AnchorlogWitness, cdk/witness-stack.ts)
 * next to the log's; `only` synthesizes the witness stack alone (a deployment that only witnesses:
 * `buildWitnessApp`); unset, the log's stack alone, as before.
 */
export const WITNESS_CONTEXT = 'anchorlog:witness';

function newApp(opts: BuildOptions, bundle: boolean): App {
  return new App({
    context: {
      ...FEATURE_FLAGS,
      // An empty list is CDK's own switch for "bundle no stack" (what `cdk ls` uses).
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...opts.context,
    },
    ...(bundle ? {} : { builtinCloudFormationValidation: false }),
    ...(opts.outdir ? { outdir: opts.outdir } : {}),
  });
}

export function buildApp(opts: BuildOptions = {}): {
  app: App;
  stack: AnchorlogStack;
  witnessStack?: AnchorlogWitnessStack;
  nag: AwsSolutionsChecks;
} {
  const bundle = opts.bundle !== false;
  const app = newApp(opts, bundle);
  const stack = new AnchorlogStack(app, 'Anchorlog');
  const witnessStack =
    app.node.tryGetContext(WITNESS_CONTEXT) === 'also'
      ? new AnchorlogWitnessStack(app, 'AnchorlogWitness')
      : undefined;
  // cdk-nag v3 is a policy-validation plugin: `cdk synth` fails on any unacknowledged error.
  const nag = new AwsSolutionsChecks(app, { verbose: true });
  // Tests validate the same tree explicitly (nag.validateScope) so one synth serves every assertion.
  if (opts.validate !== false) Validations.of(app).addPlugins(nag);
  return { app, stack, ...(witnessStack ? { witnessStack } : {}), nag };
}

/** The witness stack alone (context `anchorlog:witness=only`, and the tests), with the same checks. */
export function buildWitnessApp(opts: BuildOptions = {}): {
  app: App;
  stack: AnchorlogWitnessStack;
  nag: AwsSolutionsChecks;
} {
  const app = newApp(opts, opts.bundle !== false);
  const stack = new AnchorlogWitnessStack(app, 'AnchorlogWitness');
  const nag = new AwsSolutionsChecks(app, { verbose: true });
  if (opts.validate !== false) Validations.of(app).addPlugins(nag);
  return { app, stack, nag };
}
