// `npx cdk synth` / `npx cdk deploy`: one stack, checked by cdk-nag (AwsSolutions) on every synth.
import { buildApp } from './build.ts';

buildApp().app.synth();
