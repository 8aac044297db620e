// `npx cdk synth` / `npx cdk deploy`: the log's stack, checked by cdk-nag (AwsSolutions) on every
// synth; `-c anchorlog:witness=also` adds the witness stack, `=only` synthesizes it alone
// (docs/deploy.md §Witness stack).
import { App } from 'aws-cdk-lib';
import { buildApp, buildWitnessApp, WITNESS_CONTEXT } from './build.ts';

// Context comes from the CLI through the environment; an App reads it without synthesizing.
const only = new App().node.tryGetContext(WITNESS_CONTEXT) === 'only';
(only ? buildWitnessApp() : buildApp()).app.synth();
