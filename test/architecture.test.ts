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
  /from\s+['"][./]*(src\/)?adapters\/(aws|tsa|metrics|witness)\//,
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
    '%s neither imports the AWS SDK nor an AWS, TSA, witness or metrics adapter (src/compose/ builds them)',
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

// Every port has an in-memory adapter (src/adapters/memory/) and a contract
// suite (test/contracts/<port>.contract.ts) that runs against both the memory
// adapters (test/contracts/memory.test.ts) and the AWS ones (aws.test.ts):
// use cases are tested in milliseconds on adapters held to the same contract
// as the deployed ones. A new port without both fails here.
const portsDir = join(root, 'src/ports');
const memoryDir = join(root, 'src/adapters/memory');
const contractsDir = join(root, 'test/contracts');

interface SourceFile {
  readonly path: string;
  readonly text: string;
}

const readAll = (dir: string): SourceFile[] =>
  walk(dir).map((path) => ({ path, text: readFileSync(path, 'utf8') }));

/** What is missing for each port: a memory adapter, a contract suite, or a run of it against either side. */
function portCoverage(
  ports: readonly SourceFile[],
  memory: readonly SourceFile[],
  contracts: ReadonlyMap<string, string>,
): string[] {
  const missing: string[] = [];
  for (const port of ports) {
    const name = port.path.slice(port.path.lastIndexOf('/') + 1, -'.ts'.length);
    const interfaces = [...port.text.matchAll(/export interface (\w+)/g)].map((m) => m[1] as string);
    const adapter = memory.find(
      (f) =>
        importsOf(f.text).some((spec) => join(dirname(f.path), spec) === port.path) &&
        interfaces.some((i) => new RegExp(`\\bimplements\\b[^{]*\\b${i}\\b`).test(f.text)),
    );
    if (!adapter) missing.push(`${name}: no class in src/adapters/memory/ implements its interface`);
    if (!contracts.has(`${name}.contract.ts`)) missing.push(`${name}: no test/contracts/${name}.contract.ts`);
    for (const runner of ['memory.test.ts', 'aws.test.ts'])
      if (!importsOf(contracts.get(runner) ?? '').includes(`./${name}.contract.ts`))
        missing.push(`${name}: test/contracts/${runner} does not run its contract suite`);
  }
  return missing;
}

describe('architecture: in-memory adapters and contract suites', () => {
  const ports = readAll(portsDir);
  const memory = readAll(memoryDir);
  const contracts = new Map(readAll(contractsDir).map((f) => [relative(contractsDir, f.path), f.text]));

  it('has ports to check', () => {
    expect(ports.length).toBeGreaterThanOrEqual(12);
  });

  it('every port has a memory adapter and a contract suite run against memory and AWS', () => {
    expect(portCoverage(ports, memory, contracts)).toEqual([]);
  });

  it.each(memory.map((f) => [relative(root, f.path), f.text]))(
    '%s imports nothing from the AWS SDK (nor any module that does)',
    (rel, text) => {
      const reach = (file: string, src: string, seen: Set<string>): string[] => {
        if (seen.has(file)) return [];
        seen.add(file);
        const direct = importsOf(src).filter((s) => s.startsWith('@aws-sdk/'));
        const nested = importsOf(src)
          .filter((s) => s.startsWith('.'))
          .map((s) => join(dirname(file), s))
          .filter((p) => p.startsWith(join(root, 'src/')) && p.endsWith('.ts'))
          .flatMap((p) => reach(p, readFileSync(p, 'utf8'), seen).map((x) => `${relative(root, p)} → ${x}`));
        return [...direct, ...nested];
      };
      expect(reach(join(root, rel), text, new Set())).toEqual([]);
    },
  );

  it('detects a port without a memory adapter or a contract (self-check of the rule)', () => {
    const port = { path: join(portsDir, 'widget.ts'), text: 'export interface WidgetStore { get(): void }' };
    // The file names are assembled: they name files that do not exist on purpose.
    const w = 'widget';
    expect(portCoverage([port], [], new Map())).toEqual([
      `${w}: no class in src/adapters/memory/ implements its interface`,
      `${w}: no test/contracts/${w}.contract.ts`,
      `${w}: test/contracts/memory.test.ts does not run its contract suite`,
      `${w}: test/contracts/aws.test.ts does not run its contract suite`,
    ]);
    const adapter = {
      path: join(memoryDir, 'widget.ts'),
      text: "import type { WidgetStore } from '../../ports/widget.ts';\nexport class MemoryWidgetStore implements WidgetStore {}",
    };
    const run = "import { widgetContract } from './widget.contract.ts';";
    expect(
      portCoverage(
        [port],
        [adapter],
        new Map([
          ['widget.contract.ts', ''],
          ['memory.test.ts', run],
          ['aws.test.ts', run],
        ]),
      ),
    ).toEqual([]);
  });
});
