/**
 * One synthesis of the real app per test file (cdk/build.ts, the same code
 * `cdk synth` runs), with real esbuild bundling into a temporary outdir.
 * cdk-nag is run over the same tree by the tests (validateScope) instead of as
 * a synth-time plugin, so an error shows up as a failing assertion with the
 * finding, not as a synth exception.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../cdk/build.ts';

export interface Synth extends ReturnType<typeof buildApp> {
  template: Template;
  resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;
  logicalId(element: unknown): string;
  ms: number;
  cleanup(): void;
}

export function synth(): Synth {
  const outdir = mkdtempSync(join(tmpdir(), 'anchorlog-cdk-'));
  const t0 = performance.now();
  const built = buildApp({ outdir, validate: false });
  const template = Template.fromStack(built.stack);
  const ms = performance.now() - t0;
  const json = template.toJSON() as { Resources: Synth['resources'] };
  return {
    ...built,
    template,
    resources: json.Resources,
    ms,
    logicalId: (element) => built.stack.resolve((element as CfnElement).logicalId) as string,
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}
