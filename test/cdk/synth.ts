/**
 * Synthesis of the real app (cdk/build.ts, the same code `cdk synth` runs),
 * once per options per test file: a second call with the same options returns
 * the same synthesis. The default is the full synth with real esbuild
 * bundling into a temporary outdir; `{ bundle: false }` skips bundling and
 * CDK's CloudFormation schema check (seconds instead of a minute) for tests
 * that only read roles and policies.
 * cdk-nag is run over the same tree by the tests (validateScope) instead of as
 * a synth-time plugin, so an error shows up as a failing assertion with the
 * finding, not as a synth exception.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CONSOLE_DIR_CONTEXT } from '../../cdk/anchorlog-stack.ts';
import { type BuildOptions, buildApp } from '../../cdk/build.ts';

export interface Synth extends ReturnType<typeof buildApp> {
  template: Template;
  resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;
  logicalId(element: unknown): string;
  ms: number;
  cleanup(): void;
}

export type SynthOptions = Pick<BuildOptions, 'bundle' | 'context'>;

const cache = new Map<string, Synth>();

export function synth(opts: SynthOptions = {}): Synth {
  const key = JSON.stringify([opts.bundle !== false, opts.context ?? {}]);
  const cached = cache.get(key);
  if (cached) return cached;
  const outdir = mkdtempSync(join(tmpdir(), 'anchorlog-cdk-'));
  const t0 = performance.now();
  let built: ReturnType<typeof buildApp>;
  let template: Template;
  try {
    // A stand-in console build (the stack refuses a directory without index.html), so the synth
    // does not depend on `npm run build:console` having run; a test may name its own directory.
    const consoleDir = join(outdir, 'console-build');
    mkdirSync(consoleDir);
    writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>anchorlog</title>\n');
    built = buildApp({
      ...opts,
      context: { [CONSOLE_DIR_CONTEXT]: consoleDir, ...opts.context },
      outdir,
      validate: false,
    });
    template = Template.fromStack(built.stack);
  } catch (e) {
    rmSync(outdir, { recursive: true, force: true });
    throw e;
  }
  const ms = performance.now() - t0;
  const json = template.toJSON() as { Resources: Synth['resources'] };
  const s: Synth = {
    ...built,
    template,
    resources: json.Resources,
    ms,
    logicalId: (element) => built.stack.resolve((element as CfnElement).logicalId) as string,
    cleanup: () => {
      cache.delete(key);
      rmSync(outdir, { recursive: true, force: true });
    },
  };
  cache.set(key, s);
  return s;
}

/** Removes every synthesis this file made (call from afterAll). */
export function cleanupSynths(): void {
  for (const s of [...cache.values()]) s.cleanup();
}
