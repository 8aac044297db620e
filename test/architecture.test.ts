import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
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
