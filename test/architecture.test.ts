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
