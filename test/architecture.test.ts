import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// The core must run unchanged in Lambda, the CLI and a browser: no AWS SDK,
// no filesystem or network access, no environment reads, no clock reads.
const root = new URL('..', import.meta.url).pathname;
const coreDir = join(root, 'src/core');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const forbidden: Array<[RegExp, string]> = [
  [/from\s+['"]@aws-sdk\//, 'imports @aws-sdk'],
  [/import\(\s*['"]@aws-sdk\//, 'imports @aws-sdk'],
  [
    /from\s+['"](node:)?(fs|fs\/promises|net|http|https|tls|dgram|child_process)['"]/,
    'imports fs/net/process I/O',
  ],
  [/process\.env/, 'reads process.env'],
  [/Date\.now\(\)|new Date\(\)/, 'reads the clock (pass time in)'],
];

/** Entry points that read their own settings (the port, the demo size, the CLI's API URL and key). */
const ENV_READERS = ['src/config.ts', 'src/local/main.ts', 'src/local/demo.ts', 'src/cli/main.ts'];
/** Code that constructs AWS adapters and SDK clients: the composition root, and the adapters themselves. */
const AWS_CONSTRUCTION = ['src/compose/', 'src/adapters/'];
const AWS_IMPORT = [
  /from\s+['"]@aws-sdk\//,
  /import\(\s*['"]@aws-sdk\//,
  /from\s+['"][./]*(src\/)?adapters\/(aws|tsa|metrics)\//,
];

/** Source text without comments (a comment may name process.env; code may not). */
const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');

describe('composition: one root (src/compose/), settings read once (src/config.ts)', () => {
  const deployed = [...walk(join(root, 'src')), ...walk(join(root, 'lambdas'))].map((f) => relative(root, f));
  it('has code to check', () => {
    expect(deployed).toContain('lambdas/seal.ts');
    expect(deployed).toContain('src/compose/services.ts');
  });
  it.each(deployed.filter((f) => !ENV_READERS.includes(f)).map((f) => [f]))(
    '%s reads no process.env (settings come from src/config.ts)',
    (rel) => {
      expect(withoutComments(readFileSync(join(root, rel), 'utf8'))).not.toMatch(/process\.env/);
    },
  );
  it.each(deployed.filter((f) => !AWS_CONSTRUCTION.some((d) => f.startsWith(d))).map((f) => [f]))(
    '%s neither imports the AWS SDK nor an AWS, TSA or metrics adapter (src/compose/ builds them)',
    (rel) => {
      const text = readFileSync(join(root, rel), 'utf8');
      expect(AWS_IMPORT.filter((re) => re.test(text)).map(String)).toEqual([]);
    },
  );
  it('detects a violation (self-check of the rules)', () => {
    const bad = [
      "import { DynamoLogStore } from '../src/adapters/aws/dynamo-log-store.ts';",
      "import { EmfMetricsSink } from '../adapters/metrics/emf-metrics.ts';",
      "import { S3Client } from '@aws-sdk/client-s3';",
    ];
    for (const line of bad)
      expect(
        AWS_IMPORT.some((re) => re.test(line)),
        line,
      ).toBe(true);
    expect(
      AWS_IMPORT.some((re) => re.test("import { LocalNoteSigner } from '../adapters/memory/x.ts';")),
    ).toBe(false);
  });
});

describe('architecture', () => {
  const files = walk(coreDir);
  it('has a core to check', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  it.each(files.map((f) => [relative(root, f)]))('%s stays pure', (rel) => {
    const text = readFileSync(join(root, rel), 'utf8');
    const violations = forbidden.filter(([re]) => re.test(text)).map(([, why]) => why);
    expect(violations).toEqual([]);
  });
  it('detects a violation (self-check of the rules)', () => {
    const bad = "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nconst x = process.env.FOO;";
    expect(forbidden.filter(([re]) => re.test(bad)).length).toBe(2);
  });
});

// Adapters implement ports: they may use the core and the ports, never the
// use cases. In particular they never throw the app layer's AppError; each
// throws its own port's error class, which src/app/port-errors.ts maps.
const adaptersDir = join(root, 'src/adapters');
const appDir = join(root, 'src/app');

/** Module specifiers a TypeScript file imports or re-exports (static and dynamic). */
function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"]([^'"]+)['"]/g))
    out.push(m[1] as string);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) out.push(m[1] as string);
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1] as string);
  return out;
}

function importsApp(file: string, text: string): string[] {
  return importsOf(text).filter((spec) => {
    if (!spec.startsWith('.')) return false;
    const target = join(dirname(file), spec);
    return target === appDir || target.startsWith(`${appDir}/`);
  });
}

describe('architecture: adapters never import the app layer', () => {
  const files = walk(adaptersDir);
  it('has adapters to check', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  it.each(files.map((f) => [relative(root, f)]))('%s imports nothing from src/app', (rel) => {
    const file = join(root, rel);
    expect(importsApp(file, readFileSync(file, 'utf8'))).toEqual([]);
  });
  it('detects a violation (self-check of the rule)', () => {
    const file = join(adaptersDir, 'aws/x.ts');
    const bad = [
      "import { AppError } from '../../app/errors.ts';",
      "import type { X } from '../../app/seal.ts';",
      "export { y } from '../../app/anchor.ts';",
      "const z = await import('../../app/query.ts');",
      "import { ok } from '../../ports/log-store.ts';",
    ].join('\n');
    expect(importsApp(file, bad)).toEqual([
      '../../app/errors.ts',
      '../../app/seal.ts',
      '../../app/anchor.ts',
      '../../app/query.ts',
    ]);
  });
});
