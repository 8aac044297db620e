/**
 * The columnar query index in the stack (cdk/constructs/query-index.ts,
 * docs/query.md §7 and §Athena): its bucket, the functions that run DuckDB —
 * with DuckDB in their synthesized code asset, resolved and loaded from there
 * — the compaction schedule, Glue and Athena, and the DynamoDB query GSIs gone.
 * Who may read and write the bucket is proved by evaluation in
 * test/cdk/iam-simulation.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEGACY_GSIS_CONTEXT, LEGACY_QUERY_GSIS } from '../../cdk/constructs/audit-table.ts';
import { NONCURRENT_DAYS } from '../../cdk/constructs/query-index.ts';
import { DUCKDB_ARCHITECTURE, duckdbPackages } from '../../cdk/constructs/service-function.ts';
import { INDEX_PREFIX } from '../../src/core/columnar.ts';
import {
  EVENTS_VIEW_SQL,
  GLUE_COLUMNS,
  GLUE_PARTITION_KEYS,
  GLUE_TABLE,
  SAMPLE_QUERIES,
} from '../../src/core/index-sql.ts';
import { cleanupSynths, type Synth, synth } from './synth.ts';

let s: Synth;
beforeAll(() => {
  s = synth();
  console.log(`cdk synth (with esbuild bundling) took ${(s.ms / 1000).toFixed(1)} s`);
}, 600_000);
afterAll(cleanupSynths);

/** The functions that run DuckDB, and every other one. */
const DUCKDB_FUNCTIONS = ['query', 'project', 'compact', 'reindex'] as const;
type Name = keyof Synth['stack']['functions'];
const fnOf = (name: Name) => {
  const f = s.stack.functions[name];
  if (!f) throw new Error(`no ${name} function`);
  return { id: s.logicalId(f.fn.node.defaultChild), role: s.logicalId(f.role.node.defaultChild) };
};
const props = (id: string) => s.resources[id]?.Properties ?? {};
const env = (id: string) =>
  (props(id).Environment as { Variables?: Record<string, unknown> })?.Variables ?? {};
const indexBucketId = () => s.logicalId(s.stack.queryIndex.bucket.node.defaultChild);

describe('index bucket', () => {
  it('is private, SSE-S3 and versioned, without Object Lock; compacted-away versions expire', () => {
    const b = props(indexBucketId());
    expect(b.ObjectLockEnabled).toBeUndefined();
    expect(b.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(b.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(b.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(b.LifecycleConfiguration).toEqual({
      Rules: [
        expect.objectContaining({
          Status: 'Enabled',
          NoncurrentVersionExpiration: { NoncurrentDays: NONCURRENT_DAYS },
          ExpiredObjectDeleteMarker: true,
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        }),
      ],
    });
    expect(b.LoggingConfiguration).toEqual(expect.objectContaining({ LogFilePrefix: 'index/' }));
  });

  it('is TLS-only by bucket policy', () => {
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: indexBucketId() },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('reaches exactly the functions that run DuckDB (ANCHORLOG_INDEX_BUCKET)', () => {
    for (const [name, f] of Object.entries(s.stack.functions)) {
      const v = env(s.logicalId(f?.fn.node.defaultChild)).ANCHORLOG_INDEX_BUCKET;
      if ((DUCKDB_FUNCTIONS as readonly string[]).includes(name))
        expect(v, name).toEqual({ Ref: indexBucketId() });
      else expect(v, name).toBeUndefined();
    }
  });
});

describe('DuckDB in the functions that run it', () => {
  it(`run on ${DUCKDB_ARCHITECTURE.name}, the architecture of the installed bindings; every other function on arm64`, () => {
    for (const [name, f] of Object.entries(s.stack.functions)) {
      const arch = props(s.logicalId(f?.fn.node.defaultChild)).Architectures;
      expect(arch, name).toEqual([
        (DUCKDB_FUNCTIONS as readonly string[]).includes(name) ? DUCKDB_ARCHITECTURE.name : 'arm64',
      ]);
    }
  });

  it.each(DUCKDB_FUNCTIONS)(
    '%s: the code asset holds DuckDB, its bundle imports it, and it resolves and runs from there',
    async (name) => {
      const code = props(fnOf(name).id).Code as { S3Key?: unknown };
      const hash = String(code.S3Key).replace(/\.zip$/, '');
      const dir = join(s.app.outdir, `asset.${hash}`);
      const bundle = join(dir, 'index.mjs');
      expect(existsSync(bundle), bundle).toBe(true);
      // esbuild left the import to run time (external), so it must resolve beside the bundle.
      expect(readFileSync(bundle, 'utf8')).toMatch(/import\(\s*["']@duckdb\/node-api["']\s*\)/);
      for (const pkg of duckdbPackages())
        expect(existsSync(join(dir, 'node_modules', pkg, 'package.json')), pkg).toBe(true);
      // Resolution from the bundle's own location, as Node does in /var/task: it must not leave the asset.
      const resolved = createRequire(bundle).resolve('@duckdb/node-api');
      expect(resolved.startsWith(`${dir}/`), resolved).toBe(true);
      // This machine is linux-x64, the architecture these functions run on: load it and run SQL.
      if (`${process.platform}-${process.arch}` === 'linux-x64') {
        const api = (await import(pathToFileURL(resolved).href)) as typeof import('@duckdb/node-api');
        const db = await api.DuckDBInstance.create(':memory:');
        const conn = await db.connect();
        const r = await conn.runAndReadAll('SELECT 40 + 2 AS answer');
        expect(r.getRowObjectsJS()).toEqual([{ answer: 42 }]);
        conn.closeSync();
        db.closeSync();
        const binding = createRequire(resolved).resolve('@duckdb/node-bindings');
        expect(binding.startsWith(`${dir}/`), binding).toBe(true);
      }
    },
    120_000,
  );

  it('functions without DuckDB do not carry it', () => {
    const code = props(fnOf('ingest').id).Code as { S3Key?: unknown };
    const dir = join(s.app.outdir, `asset.${String(code.S3Key).replace(/\.zip$/, '')}`);
    expect(existsSync(join(dir, 'index.mjs'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
  });
});

describe('compaction', () => {
  it('runs hourly on the compact function, without scheduler retries, and is alarmed', () => {
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [fnOf('compact').id, 'Arn'] },
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 0 }),
      }),
    });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnOf('compact').id } }],
      MetricName: 'Errors',
    });
  });
});

describe('Glue and Athena over the index', () => {
  it('a Glue table over index/ with partition projection: log injected, day a date', () => {
    s.template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: GLUE_TABLE,
        TableType: 'EXTERNAL_TABLE',
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.log.type': 'injected',
          'projection.day.type': 'date',
          'projection.day.format': 'yyyy-MM-dd',
          'projection.day.interval': '1',
          'projection.day.interval.unit': 'DAYS',
          'storage.location.template': {
            'Fn::Join': ['', ['s3://', { Ref: indexBucketId() }, `/${INDEX_PREFIX}log=\${log}/day=\${day}/`]],
          },
        }),
        PartitionKeys: GLUE_PARTITION_KEYS.map((k) => ({ Name: k.name, Type: k.type })),
        StorageDescriptor: Match.objectLike({
          Columns: GLUE_COLUMNS.map((c) => ({ Name: c.name, Type: c.type })),
          SerdeInfo: {
            SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
          },
        }),
      }),
    });
  });

  it('an Athena workgroup that enforces a bytes-scanned cutoff (a parameter) and encrypted, expiring results', () => {
    const results = s.logicalId(s.stack.queryIndex.athenaResults.node.defaultChild);
    s.template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: { Ref: 'AthenaBytesScannedCutoff' },
        ResultConfiguration: {
          OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: results }, '/results/']] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        },
      }),
    });
    s.template.hasParameter('AthenaBytesScannedCutoff', { Type: 'Number', MinValue: 10 * 1024 ** 2 });
    expect(props(results).LifecycleConfiguration).toEqual({
      Rules: [expect.objectContaining({ Status: 'Enabled', ExpirationInDays: 7 })],
    });
  });

  it('saves the view and the sample queries of src/core/index-sql.ts, verbatim', () => {
    const saved = Object.values(s.resources)
      .filter((r) => r.Type === 'AWS::Athena::NamedQuery')
      .map((r) => r.Properties?.QueryString);
    expect(saved).toEqual(
      expect.arrayContaining([
        `${EVENTS_VIEW_SQL};`,
        ...Object.values(SAMPLE_QUERIES).map((q) => `${q.sql};`),
      ]),
    );
    expect(saved.length).toBe(1 + Object.keys(SAMPLE_QUERIES).length);
  });
});

describe('the DynamoDB query index is gone', () => {
  it('the table has no GSI, and no role may use an index of it', () => {
    const tables = Object.values(s.resources).filter((r) => r.Type === 'AWS::DynamoDB::Table');
    expect(tables.length).toBe(1);
    expect(tables[0]?.Properties?.GlobalSecondaryIndexes).toBeUndefined();
    const tableId = s.logicalId(s.stack.node.findChild('Table').node.findChild('Table').node.defaultChild);
    let tableStatements = 0;
    for (const [id, r] of Object.entries(s.resources))
      if (r.Type === 'AWS::IAM::Policy')
        for (const st of (
          (r.Properties?.PolicyDocument ?? { Statement: [] }) as {
            Statement: { Effect: string; Resource: unknown }[];
          }
        ).Statement) {
          const res = JSON.stringify(st.Resource);
          if (st.Effect !== 'Allow' || !res.includes(`"${tableId}"`)) continue;
          tableStatements++;
          expect(res, id).not.toContain('/index/');
        }
    expect(tableStatements).toBeGreaterThan(10);
  });

  it(`context ${LEGACY_GSIS_CONTEXT} keeps the first N legacy GSIs, to step an existing table down one per deploy`, () => {
    const r = synth({ bundle: false, context: { [LEGACY_GSIS_CONTEXT]: 2 } });
    const gsis = Object.values(r.resources).find((x) => x.Type === 'AWS::DynamoDB::Table')?.Properties
      ?.GlobalSecondaryIndexes as { IndexName: string }[];
    expect(gsis.map((g) => g.IndexName)).toEqual(LEGACY_QUERY_GSIS.slice(0, 2).map((g) => g.indexName));
    expect(() => synth({ bundle: false, context: { [LEGACY_GSIS_CONTEXT]: 5 } })).toThrow(/must be 0 to 4/);
  });
});
