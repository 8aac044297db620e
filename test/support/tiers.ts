/**
 * Which test files belong to the fast tier (`npm run test:fast`,
 * vitest.fast.config.ts): every test file that, through its imports (static
 * or dynamic, followed through test/ and src/), reaches neither the emulator
 * nor the OpenSSL TSAs. Decided from the source text, so a new test joins the
 * right tier by what it uses, with no list to keep. test/support/tier.ts
 * makes a file that reaches them some other way fail clearly.
 *
 * Also left to `npm test`: test/cdk/ (synthesizing the stack takes seconds
 * per file and exercises no code under test here), test/e2e/ and
 * test/browser/ (a real Chromium and a console build, docs/console.md).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');

/** Modules that start or talk to what only the global setup provides. */
export const HARNESS_MODULES = [
  'test/support/aws.ts',
  'test/support/tsa.ts',
  'test/support/global-setup.ts',
  'src/local/moto.ts',
  'src/local/tsa/server.ts',
] as const;

/** Directories kept out of the fast tier whatever they import (see the header). */
export const SLOW_DIRS = ['test/cdk/', 'test/e2e/', 'test/browser/'] as const;

/** Imports the harness modules only to check that they refuse in the fast tier. */
export const GUARD_TEST = 'test/tiers.test.ts';

/** Reading the harness's values directly also needs it. */
const INJECT = /\binject\(\s*['"](tsa|motoEndpoints)['"]/;
const SPECIFIERS = [
  /(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"]([^'"]+)['"]/g,
  /(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g,
  /import\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Relative imports of a file, resolved to files of this repository. */
function localImports(file: string, text: string): string[] {
  const out: string[] = [];
  for (const re of SPECIFIERS)
    for (const m of text.matchAll(re)) {
      const spec = m[1] as string;
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      if (existsSync(target) && statSync(target).isFile()) out.push(target);
    }
  return out;
}

export interface TierReport {
  /** Repository-relative test files of the fast tier, sorted. */
  readonly fast: string[];
  /** The others, each with the first harness module (or inject) found on its import path. */
  readonly full: Array<{ file: string; because: string }>;
}

export function classifyTests(): TierReport {
  const cache = new Map<string, string | undefined>();
  /** Why `file` needs the harness (a path of imports), or undefined. */
  const needs = (file: string, seen: Set<string>): string | undefined => {
    if (cache.has(file)) return cache.get(file);
    if (seen.has(file)) return undefined;
    seen.add(file);
    const rel = relative(root, file);
    let why: string | undefined;
    if ((HARNESS_MODULES as readonly string[]).includes(rel)) why = rel;
    else {
      const text = readFileSync(file, 'utf8');
      if (INJECT.test(text)) why = `${rel} (inject)`;
      else
        for (const dep of localImports(file, text)) {
          const sub = needs(dep, seen);
          if (sub !== undefined) {
            why = `${rel} → ${sub}`;
            break;
          }
        }
    }
    cache.set(file, why);
    return why;
  };
  const fast: string[] = [];
  const full: TierReport['full'] = [];
  for (const file of walk(join(root, 'test')).filter((f) => f.endsWith('.test.ts'))) {
    const rel = relative(root, file);
    const slow = SLOW_DIRS.find((d) => rel.startsWith(d));
    const why = rel === GUARD_TEST ? undefined : slow ? `${slow} (slow by design)` : needs(file, new Set());
    if (why === undefined) fast.push(rel);
    else full.push({ file: rel, because: why });
  }
  return { fast: fast.sort(), full: full.sort((a, b) => a.file.localeCompare(b.file)) };
}
