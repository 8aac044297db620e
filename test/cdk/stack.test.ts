/**
 * Invariants of the synthesized stack (docs/architecture.md §Who may do what,
 * docs/operations.md §Retention). Assertions are about properties that must hold, proved by
 * walking every policy in the template — never about resource counts.
 */

import type { CfnResource } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_FUNCTIONS } from '../../cdk/anchorlog-stack.ts';
import { DUCKDB_ARCHITECTURE } from '../../cdk/constructs/service-function.ts';
import { RETENTION_FLOOR_DAYS } from '../../cdk/retention-floor.ts';
import { API_ROUTES, PUBLIC_ROUTES } from '../../cdk/routes.ts';
import { TTL_ATTRIBUTE } from '../../src/adapters/aws/table.ts';
import { allStatements, type FlatStatement, granting } from './policy-walk.ts';
import { cleanupSynths, type Synth, synth } from './synth.ts';

let s: Synth;
let statements: FlatStatement[];

beforeAll(() => {
  s = synth();
  statements = allStatements(s.resources);
  console.log(`cdk synth (with esbuild bundling) took ${(s.ms / 1000).toFixed(1)} s`);
}, 600_000);

afterAll(cleanupSynths);

const getAtt = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const roleId = (name: keyof Synth['stack']['functions']) => {
  const f = s.stack.functions[name];
  if (!f) throw new Error(`no ${name} function`);
  return s.logicalId(f.role.node.defaultChild);
};
const fnId = (name: keyof Synth['stack']['functions']) => {
  const f = s.stack.functions[name];
  if (!f) throw new Error(`no ${name} function`);
  return s.logicalId(f.fn.node.defaultChild);
};
const envOf = (f: { Properties?: Record<string, unknown> } | undefined): Record<string, unknown> =>
  (f?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
const ofType = (type: string) => Object.entries(s.resources).filter(([, r]) => r.Type === type);
/** The console's deployment role (CDK's BucketDeployment; cdk/constructs/console-site.ts). */
const consoleCopyRole = () => s.logicalId(s.stack.console.deployment.handlerRole.node.defaultChild);
/**
 * The stack's own functions: every Lambda but CDK's console copy function (a Python runtime
 * CDK pins, run at deploy time only, no anchorlog code), which is exactly one.
 */
const serviceFunctions = () => {
  const all = ofType('AWS::Lambda::Function');
  const own = all.filter(
    ([, f]) => JSON.stringify(f.Properties?.Role) !== JSON.stringify(getAtt(consoleCopyRole())),
  );
  expect(own.length).toBe(all.length - 1);
  return own;
};
/** Statements that apply to a role: its identity policies and resource policies naming it. */
const forRole = (id: string) =>
  statements.filter((st) =>
    st.principals.some(
      (p) => JSON.stringify(p) === JSON.stringify({ Ref: id }) || JSON.stringify(p).includes(`"${id}"`),
    ),
  );

describe('archive bucket', () => {
  it('is Object Lock COMPLIANCE with the RetentionDays parameter as default retention, versioned', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: { Ref: 'RetentionDays' } } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'archive/' },
    });
    // Was MinValue 1: a one-day COMPLIANCE archive is no audit trail (cdk/retention-floor.ts).
    s.template.hasParameter('RetentionDays', {
      Type: 'Number',
      Default: 400,
      MinValue: RETENTION_FLOOR_DAYS,
    });
  });

  it('is retained on stack deletion and replacement', () => {
    s.template.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({ ObjectLockEnabled: true }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('every bucket blocks public access and has a TLS-only bucket policy', () => {
    const buckets = ofType('AWS::S3::Bucket');
    expect(buckets.length).toBeGreaterThan(0);
    for (const [id, b] of buckets) {
      expect(b.Properties?.PublicAccessBlockConfiguration, id).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      const policies = ofType('AWS::S3::BucketPolicy').filter(
        ([, p]) => JSON.stringify(p.Properties?.Bucket) === JSON.stringify({ Ref: id }),
      );
      const tlsDeny = policies.flatMap(([pid]) =>
        statements.filter(
          (st) =>
            st.holder === pid &&
            st.effect === 'Deny' &&
            st.actions.includes('s3:*') &&
            JSON.stringify(st.condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
        ),
      );
      expect(tlsDeny.length, `${id} has no TLS-only policy`).toBeGreaterThan(0);
    }
  });

  it('the exports bucket expires bundles', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Status: 'Enabled', ExpirationInDays: Match.anyValue() })]),
      },
      LoggingConfiguration: { LogFilePrefix: 'exports/' },
    });
  });
});

describe('table', () => {
  it('is on demand with point-in-time recovery and deletion protection, and retained', () => {
    s.template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('has the TTL the application declares (src/adapters/aws/table.ts) and no GSI (the query index is in S3)', () => {
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      GlobalSecondaryIndexes: Match.absent(),
    });
  });

  it('no role may Scan (ForAllValues over no leading keys would open every item family)', () => {
    expect(granting(statements, 'dynamodb:Scan')).toEqual([]);
    expect(granting(statements, 'dynamodb:PartiQLSelect')).toEqual([]);
  });

  it('every table grant is limited to named item families by dynamodb:LeadingKeys', () => {
    const tableGrants = statements.filter(
      (st) => st.effect === 'Allow' && st.actions.some((a) => a.startsWith('dynamodb:')),
    );
    expect(tableGrants.length).toBeGreaterThan(0);
    for (const st of tableGrants)
      expect(st.condition, st.holder).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': expect.any(Array) },
      });
  });

  it('only the admin and principal recovery roles can write principals; the authorizer only reads them', () => {
    // The exact pattern `P#*` among a condition's leading keys (`L#system#BP#*` contains it as text).
    const touchesPrincipals = (st: FlatStatement) => /"P#\*"/.test(JSON.stringify(st.condition ?? null));
    const writers = statements.filter(
      (st) =>
        touchesPrincipals(st) &&
        st.effect !== 'Deny' &&
        st.actions.some((a) => /Put|Update|Delete|Write/.test(a)),
    );
    const writerRoles = writers.flatMap((w) => w.principals);
    expect(writerRoles).toHaveLength(2);
    expect(writerRoles).toEqual(
      expect.arrayContaining([{ Ref: roleId('admin') }, { Ref: roleId('recover') }]),
    );
    const readers = statements.filter(touchesPrincipals).flatMap((w) => w.principals);
    expect(readers).toEqual(expect.arrayContaining([{ Ref: roleId('authorizer') }]));
    expect(readers).not.toContainEqual({ Ref: roleId('ingest') });
  });

  it('only the admin and recovery roles can write detection rules (R#); ingest, seal and anchor cannot touch them', () => {
    const touchesRules = (st: FlatStatement) => JSON.stringify(st.condition ?? null).includes('R#*');
    const writers = statements
      .filter(
        (st) =>
          touchesRules(st) &&
          st.effect !== 'Deny' &&
          st.actions.some((a) => /Put|Update|Delete|Write/.test(a)),
      )
      .flatMap((w) => w.principals);
    expect(writers).toHaveLength(2);
    expect(writers).toEqual(expect.arrayContaining([{ Ref: roleId('admin') }, { Ref: roleId('recover') }]));
    const any = statements.filter(touchesRules).flatMap((w) => w.principals);
    for (const role of ['ingest', 'seal', 'anchor'] as const)
      expect(any).not.toContainEqual({ Ref: roleId(role) });
  });

  it("the authorizer reads principals, their roles' heads and the system log's records, and writes only last use", () => {
    const mine = forRole(roleId('authorizer')).filter((st) =>
      st.actions.some((a) => a.startsWith('dynamodb:')),
    );
    const leading = (st: (typeof mine)[number]) =>
      (st.condition as { 'ForAllValues:StringLike'?: { 'dynamodb:LeadingKeys'?: string[] } })[
        'ForAllValues:StringLike'
      ]?.['dynamodb:LeadingKeys'] ?? [];
    // The one statement that may write names the last-use family only, and never deletes.
    for (const st of mine) {
      const writes = st.actions.filter((a) => /Put|Update|Delete|Write/.test(a));
      if (writes.length === 0) continue;
      expect(leading(st)).toEqual(['U#*']);
      expect(writes.filter((a) => /Delete|BatchWrite/.test(a))).toEqual([]);
    }
    expect([...new Set(mine.flatMap(leading))].sort()).toEqual([
      'G#',
      'L#system#B#*',
      'L#system#BP#*',
      'L#system#E#*',
      'P#*',
      'PRINCIPALS',
      'U#*',
    ]);
  });
});

describe('signing key', () => {
  it('is ECC_NIST_P256 / SIGN_VERIFY and retained', () => {
    s.template.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('only the seal role can kms:Sign — walking every IAM policy and every key policy', () => {
    const signers = granting(statements, 'kms:Sign');
    expect(signers).toHaveLength(1);
    const [only] = signers;
    expect(only?.holderType).toBe('AWS::KMS::Key');
    expect(only?.holder).toBe(
      s.logicalId(s.stack.node.findChild('SigningKey').node.findChild('Key').node.defaultChild),
    );
    expect(only?.principals).toEqual([{ AWS: getAtt(roleId('seal')) }]);
    expect(only?.actions).toEqual(['kms:Sign']);
    expect(only?.condition).toEqual({
      StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW' },
    });
  });

  it('nobody gets kms:*, a wildcard action, or kms:CreateGrant (a grant could hand out Sign)', () => {
    for (const st of statements.filter((x) => x.effect === 'Allow')) {
      expect(st.actions, st.holder).not.toContain('*');
      expect(st.actions, st.holder).not.toContain('kms:*');
      expect(st.notActions, st.holder).toEqual([]);
    }
    expect(granting(statements, 'kms:CreateGrant')).toEqual([]);
  });

  it('the account root administers the key but cannot sign, verify or use it for data', () => {
    const root = statements.filter(
      (st) => st.holderType === 'AWS::KMS::Key' && JSON.stringify(st.principals).includes(':root'),
    );
    expect(root.length).toBeGreaterThan(0);
    for (const action of ['kms:Sign', 'kms:Verify', 'kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom'])
      expect(granting(root, action), action).toEqual([]);
    expect(granting(root, 'kms:PutKeyPolicy').length).toBeGreaterThan(0);
  });

  it('ingest cannot sign and has no KMS or S3 permission at all', () => {
    const ingest = forRole(roleId('ingest'));
    expect(ingest.length).toBeGreaterThan(0);
    expect(granting(ingest, 'kms:Sign')).toEqual([]);
    for (const st of ingest)
      expect(
        st.actions.filter((a) => /^(kms|s3):/.test(a)),
        st.holder,
      ).toEqual([]);
  });

  it('the read role may read the public key and nothing else of KMS', () => {
    const kmsActions = forRole(roleId('read')).flatMap((st) =>
      st.actions.filter((a) => a.startsWith('kms:')),
    );
    expect([...new Set(kmsActions)].sort()).toEqual(['kms:DescribeKey', 'kms:GetPublicKey']);
  });
});

describe('no role can delete, unlock or shorten retention', () => {
  const forbidden = [
    's3:DeleteObject',
    's3:DeleteObjectVersion',
    's3:BypassGovernanceRetention',
    's3:PutObjectRetention',
    's3:PutObjectLegalHold',
    's3:PutBucketObjectLockConfiguration',
    's3:PutBucketPolicy',
    's3:DeleteBucketPolicy',
    's3:PutLifecycleConfiguration',
    's3:PutBucketVersioning',
    's3:DeleteBucket',
  ];
  it.each(forbidden)('no Allow statement anywhere grants %s (so no s3:*, no *)', (action) => {
    // One exception, confined: CDK's console copy function syncs and prunes the console bucket
    // (a build, not evidence: cdk/constructs/console-site.ts), and only that bucket's objects.
    const consoleBucket = s.logicalId(s.stack.console.bucket.node.defaultChild);
    const onlyConsoleObjects = (st: FlatStatement) =>
      JSON.stringify(st.principals) === JSON.stringify([{ Ref: consoleCopyRole() }]) &&
      st.resources.every((r) => JSON.stringify(r).includes(`"${consoleBucket}"`));
    // And one for derived data: the columnar index's writers delete what compaction covered, on the
    // index bucket's `index/` objects only (a delete marker: the bucket is versioned and nobody may
    // delete a version; cdk/constructs/query-index.ts).
    const indexBucket = s.logicalId(s.stack.queryIndex.bucket.node.defaultChild);
    const indexWriters = (['project', 'compact', 'reindex'] as const).map((n) => ({ Ref: roleId(n) }));
    const onlyIndexObjects = (st: FlatStatement) =>
      action === 's3:DeleteObject' &&
      st.principals.length === 1 &&
      indexWriters.some((w) => JSON.stringify(st.principals[0]) === JSON.stringify(w)) &&
      st.resources.every(
        (r) => JSON.stringify(r).includes(`"${indexBucket}"`) && JSON.stringify(r).includes('/index/*'),
      );
    const grants = granting(statements, action);
    expect(grants.filter((st) => !onlyConsoleObjects(st) && !onlyIndexObjects(st))).toEqual([]);
    if (action === 's3:DeleteObject')
      expect(grants.length, 'the console deployment prunes stale files; three index writers compact').toBe(4);
  });

  it('the seal role writes the archive with s3:PutObject only (plus reads)', () => {
    const s3Actions = forRole(roleId('seal')).flatMap((st) => st.actions.filter((a) => a.startsWith('s3:')));
    expect([...new Set(s3Actions)].sort()).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject']);
  });

  it('the anchor role may create objects only under logs/*/anchors/', () => {
    const puts = granting(forRole(roleId('anchor')), 's3:PutObject');
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0]?.resources)).toContain('/logs/*/anchors/*');
  });

  it('the export role writes only the exports bucket, never the archive', () => {
    const puts = granting(forRole(roleId('export')), 's3:PutObject');
    expect(puts).toHaveLength(1);
    const exportsBucket = s.logicalId(
      s.stack.node.findChild('Buckets').node.findChild('Exports').node.defaultChild,
    );
    expect(JSON.stringify(puts[0]?.resources)).toContain(`"${exportsBucket}"`);
  });

  it.each(['read', 'query', 'export'] as const)(
    'the %s role cannot write the archive or the table',
    (name) => {
      const read = forRole(roleId(name));
      const archive = s.logicalId(
        s.stack.node.findChild('Buckets').node.findChild('Archive').node.defaultChild,
      );
      expect(
        granting(read, 's3:PutObject').filter((st) => JSON.stringify(st.resources).includes(archive)),
      ).toEqual([]);
      expect(granting(read, 'dynamodb:PutItem')).toEqual([]);
      expect(granting(read, 'dynamodb:UpdateItem')).toEqual([]);
    },
  );
});

describe('functions', () => {
  it("every Lambda runs nodejs22.x or newer on arm64, but those with DuckDB on its bindings' architecture", () => {
    // Except CDK's console copy function (BucketDeployment: a Python runtime CDK pins, deploy time only).
    const fns = serviceFunctions();
    expect(fns.length).toBeGreaterThan(0);
    for (const [id, f] of fns) {
      const m = /^nodejs(\d+)\.x$/.exec(String(f.Properties?.Runtime));
      expect(m, `${id}: ${f.Properties?.Runtime}`).not.toBeNull();
      expect(Number(m?.[1]), id).toBeGreaterThanOrEqual(22);
      // The columnar index's functions (test/cdk/query-index.test.ts names them).
      const duckdb = ['query', 'project', 'compact', 'reindex'].some((n) => fnId(n as never) === id);
      expect(f.Properties?.Architectures, id).toEqual([duckdb ? DUCKDB_ARCHITECTURE.name : 'arm64']);
    }
  });

  it('every function has the environment loadConfig() requires', () => {
    for (const [id, f] of serviceFunctions()) {
      const env = envOf(f);
      expect(Object.keys(env), id).toEqual(
        expect.arrayContaining(['ANCHORLOG_TABLE', 'ANCHORLOG_ARCHIVE_BUCKET', 'ANCHORLOG_ORIGIN_PREFIX']),
      );
    }
  });

  it('the signing key id reaches the seal, read and anchor functions, TSAs reach the anchor function', () => {
    const env = (name: Parameters<typeof fnId>[0]) => envOf(s.resources[fnId(name)]);
    expect(env('seal').ANCHORLOG_SIGNING_KEY_ID).toBeDefined();
    expect(env('read').ANCHORLOG_SIGNING_KEY_ID).toBeDefined();
    // The anchor job verifies the archived checkpoint with it before stamping (GetPublicKey only).
    expect(env('anchor').ANCHORLOG_SIGNING_KEY_ID).toBeDefined();
    expect(env('ingest').ANCHORLOG_SIGNING_KEY_ID).toBeUndefined();
    expect(env('anchor').ANCHORLOG_TSAS).toEqual({ Ref: 'TsaList' });
  });

  it('retired signing keys (context anchorlog:retiredSigningKeyArns) reach the seal and anchor functions only; anything but a KMS key ARN fails the synth', () => {
    const arns = [
      'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'arn:aws:kms:eu-west-1:111122223333:key/abcd1234-12ab-34cd-56ef-1234567890ab',
    ];
    const r = synth({ bundle: false, context: { 'anchorlog:retiredSigningKeyArns': arns.join(',') } });
    for (const [name, f] of Object.entries(r.stack.functions)) {
      const env = envOf(r.resources[r.logicalId(f?.fn.node.defaultChild)]);
      expect(env.ANCHORLOG_RETIRED_SIGNING_KEYS, name).toBe(
        name === 'seal' || name === 'anchor' ? arns.join(',') : undefined,
      );
    }
    expect(envOf(s.resources[fnId('seal')]).ANCHORLOG_RETIRED_SIGNING_KEYS).toBeUndefined();
    expect(() =>
      synth({ bundle: false, context: { 'anchorlog:retiredSigningKeyArns': 'alias/old-key' } }),
    ).toThrow(/not a KMS key ARN/);
  });

  it('detect runs right after every seal run: the seal function\u2019s destination on success and on failure, never retried', () => {
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId('seal') },
      MaximumRetryAttempts: 0,
      DestinationConfig: {
        OnSuccess: { Destination: getAtt(fnId('detect')) },
        OnFailure: { Destination: getAtt(fnId('detect')) },
      },
    });
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId('detect') },
      MaximumRetryAttempts: 0,
    });
    const env = envOf(s.resources[fnId('detect')]);
    expect(env.ANCHORLOG_DETECTION_PACKS).toEqual({ Ref: 'DetectionPacks' });
    expect(env.ANCHORLOG_DETECTION_RULES).toEqual({ Ref: 'DetectionRules' });
  });

  it('seal and the query projector run every minute, anchor and principal recovery every 5 minutes, without scheduler retries', () => {
    for (const [name, rate] of [
      ['seal', 'rate(1 minute)'],
      ['project', 'rate(1 minute)'],
      ['anchor', 'rate(5 minutes)'],
      ['recover', 'rate(5 minutes)'],
      ['sequence', 'rate(1 minute)'],
    ] as const)
      s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: rate,
        State: 'ENABLED',
        Target: Match.objectLike({
          Arn: getAtt(fnId(name)),
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 0 }),
        }),
      });
  });
});

describe('secrets', () => {
  const secretId = (name: 'QueryCursorKey' | 'TsaCredentials') =>
    s.logicalId(s.stack.node.findChild(name).node.findChild('Secret').node.defaultChild);
  const secrets = () => ofType('AWS::SecretsManager::Secret');
  /** Environment variables whose value may be secret, by name; the signing key id is a KMS ARN. */
  const SECRET_NAME = /KEY|SECRET|TOKEN|PASSWORD|PASSPHRASE|CREDENTIAL|AUTH/i;

  it('no Lambda environment variable holds a secret value: only *_SECRET names, each a Ref to a secret', () => {
    const secretIds = new Set(secrets().map(([id]) => id));
    const noEcho = new Set(
      Object.entries(s.template.toJSON().Parameters ?? {})
        .filter(([, p]) => (p as { NoEcho?: boolean }).NoEcho)
        .map(([id]) => id),
    );
    const fns = ofType('AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThan(0);
    const seen: string[] = [];
    for (const [id, f] of fns)
      for (const [name, value] of Object.entries(envOf(f))) {
        const refs = [...JSON.stringify(value).matchAll(/"Ref":"([^"]+)"/g)].map((m) => m[1]);
        for (const r of refs) expect(noEcho.has(r ?? ''), `${id} ${name} references NoEcho ${r}`).toBe(false);
        expect(['ANCHORLOG_QUERY_CURSOR_KEY', 'ANCHORLOG_TSA_CREDENTIALS'], `${id} ${name}`).not.toContain(
          name,
        );
        if (!SECRET_NAME.test(name) || name === 'ANCHORLOG_SIGNING_KEY_ID') continue;
        expect(name, id).toMatch(/_SECRET$/);
        expect(value, `${id} ${name}`).toEqual({ Ref: expect.any(String) });
        expect(secretIds.has((value as { Ref: string }).Ref), `${id} ${name}`).toBe(true);
        seen.push(`${id} ${name}`);
      }
    expect(seen.sort()).toEqual(
      [
        `${fnId('query')} ANCHORLOG_QUERY_CURSOR_KEY_SECRET`,
        `${fnId('anchor')} ANCHORLOG_TSA_CREDENTIALS_SECRET`,
      ].sort(),
    );
    expect(envOf(s.resources[fnId('query')]).ANCHORLOG_QUERY_CURSOR_KEY_SECRET).toEqual({
      Ref: secretId('QueryCursorKey'),
    });
    expect(envOf(s.resources[fnId('anchor')]).ANCHORLOG_TSA_CREDENTIALS_SECRET).toEqual({
      Ref: secretId('TsaCredentials'),
    });
  });

  it('no parameter carries a secret (no NoEcho parameter, no cursor key parameter)', () => {
    const params = s.template.toJSON().Parameters ?? {};
    expect(Object.keys(params)).not.toContain('QueryCursorKey');
    for (const [id, p] of Object.entries(params))
      expect((p as { NoEcho?: boolean }).NoEcho, id).toBeUndefined();
  });

  it('the cursor key is generated by Secrets Manager at deploy time; the template never holds it', () => {
    const cursor = s.resources[secretId('QueryCursorKey')];
    expect(cursor?.Properties?.SecretString).toBeUndefined();
    expect(cursor?.Properties?.GenerateSecretString).toEqual({
      PasswordLength: 64,
      ExcludePunctuation: true,
    });
    // TSA credentials are set by the operator after deploy; the template holds an empty map only.
    expect(s.resources[secretId('TsaCredentials')]?.Properties?.SecretString).toBe('{}');
    expect(
      secrets()
        .map(([id]) => id)
        .sort(),
    ).toEqual([secretId('QueryCursorKey'), secretId('TsaCredentials')].sort());
  });

  it('grants are exact: GetSecretValue on one secret each, to the one function that reads it; nothing else', () => {
    const smAllows = statements.filter(
      (st) => st.effect === 'Allow' && st.actions.some((a) => /^secretsmanager:/i.test(a) || a === '*'),
    );
    const view = smAllows.map((st) => ({
      principals: st.principals,
      actions: st.actions,
      resources: st.resources,
    }));
    expect(view).toEqual(
      expect.arrayContaining([
        {
          principals: [{ Ref: roleId('query') }],
          actions: ['secretsmanager:GetSecretValue'],
          resources: [{ Ref: secretId('QueryCursorKey') }],
        },
        {
          principals: [{ Ref: roleId('anchor') }],
          actions: ['secretsmanager:GetSecretValue'],
          resources: [{ Ref: secretId('TsaCredentials') }],
        },
      ]),
    );
    expect(view).toHaveLength(2);
    expect(granting(statements, 'secretsmanager:GetSecretValue')).toHaveLength(2);
    expect(granting(statements, 'secretsmanager:PutSecretValue')).toEqual([]);
  });
});

describe('HTTP API', () => {
  it('GET /v1/keys (public) has its own route throttle, below the stage default, set after the route exists', () => {
    type Throttle = { ThrottlingRateLimit: number; ThrottlingBurstLimit: number };
    type StageProps = { RouteSettings?: Record<string, Throttle>; DefaultRouteSettings: Throttle };
    const [[stageId, stage]] = ofType('AWS::ApiGatewayV2::Stage') as unknown as [
      [string, { Properties: StageProps }],
    ];
    const own = stage.Properties.RouteSettings?.['GET /v1/keys'];
    const dflt = stage.Properties.DefaultRouteSettings;
    expect(own).toEqual({
      ThrottlingRateLimit: expect.any(Number),
      ThrottlingBurstLimit: expect.any(Number),
    });
    expect(own?.ThrottlingRateLimit).toBeLessThan(dflt.ThrottlingRateLimit);
    expect(own?.ThrottlingBurstLimit).toBeLessThan(dflt.ThrottlingBurstLimit);
    for (const key of PUBLIC_ROUTES) expect(stage.Properties.RouteSettings?.[key], key).toBeDefined();
    // RouteSettings may name only existing routes: the stage must be created after them.
    const keysRoute = ofType('AWS::ApiGatewayV2::Route').find(
      ([, r]) => r.Properties?.RouteKey === 'GET /v1/keys',
    );
    const dependsOn = (s.template.toJSON().Resources[stageId] as { DependsOn?: string[] }).DependsOn ?? [];
    expect(dependsOn).toContain(keysRoute?.[0]);
  });

  it('the Lambda authorizer never caches (revocation is effective on the next request)', () => {
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerResultTtlInSeconds: 0,
      EnableSimpleResponses: true,
      AuthorizerPayloadFormatVersion: '2.0',
      IdentitySource: [],
    });
    for (const [id, a] of ofType('AWS::ApiGatewayV2::Authorizer'))
      expect(a.Properties?.AuthorizerResultTtlInSeconds, id).toBe(0);
  });

  it('has exactly the routes of cdk/routes.ts, each to its function, authorized unless public', () => {
    const integrationFn = new Map(
      ofType('AWS::ApiGatewayV2::Integration').map(([id, i]) => [
        id,
        JSON.stringify(i.Properties?.IntegrationUri),
      ]),
    );
    // The admin plane's IAM-authorized API (test/cdk/admin-plane.test.ts) is checked on its own.
    const adminPlaneApi = JSON.stringify({ Ref: s.logicalId(s.stack.adminPlane.api.node.defaultChild) });
    const mainRoutes = ofType('AWS::ApiGatewayV2::Route').filter(
      ([, r]) => JSON.stringify(r.Properties?.ApiId) !== adminPlaneApi,
    );
    const actual = mainRoutes.map(([, r]) => {
      // Target: { Fn::Join: ['', ['integrations/', { Ref: <integration> }]] }
      const target = r.Properties?.Target as { 'Fn::Join': [string, [string, { Ref: string }]] } | undefined;
      const integration = target?.['Fn::Join'][1][1].Ref;
      return {
        key: r.Properties?.RouteKey,
        fn: integrationFn.get(String(integration)),
        auth: r.Properties?.AuthorizationType,
      };
    });
    const expected = API_FUNCTIONS.flatMap((name) =>
      API_ROUTES[name].map((key) => ({
        key,
        fn: JSON.stringify(getAtt(fnId(name))),
        auth: PUBLIC_ROUTES.has(key) ? 'NONE' : 'CUSTOM',
      })),
    );
    const byKey = (a: { key: unknown }, b: { key: unknown }) => String(a.key).localeCompare(String(b.key));
    expect(actual.sort(byKey)).toEqual(expected.sort(byKey));
  });

  it('the stage is throttled and writes JSON access logs', () => {
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"status"') },
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: Match.anyValue() }),
    });
  });
});

describe('alarms', () => {
  const alarmOn = (pattern: RegExp) =>
    ofType('AWS::CloudWatch::Alarm').filter(([, a]) => pattern.test(JSON.stringify(a.Properties)));

  it.each([
    ['seal lag', /SELECT MAX\(SealLagSeconds\) FROM anchorlog/],
    ['seal failures', /"MetricName":"Errors".*Seal|Seal.*"MetricName":"Errors"/],
    ['seal integrity halt', /SealIntegrityHalts/],
    ['detection lag', /SELECT MAX\(DetectionLagSeconds\) FROM anchorlog/],
    ['detect failures', /"MetricName":"Errors".*Detect|Detect.*"MetricName":"Errors"/],
    ['detect integrity', /DetectIntegrityFailures/],
    ['anchor quorum missed', /SELECT SUM\(AnchorQuorumMissed\) FROM anchorlog/],
    ['anchor TSA failures', /SELECT SUM\(AnchorTsaFailures\) FROM anchorlog/],
    ['anchor records the archive does not back', /SELECT SUM\(AnchorRecordMismatch\) FROM anchorlog/],
    ['API 5xx', /"MetricName":"5xx"/],
    ['DynamoDB throttling', /WriteThrottleEvents/],
    ['query projector failures', /"MetricName":"Errors".*Project|Project.*"MetricName":"Errors"/],
    ['principal recovery failures', /"MetricName":"Errors".*Recover|Recover.*"MetricName":"Errors"/],
    ['pending sweep failures', /"MetricName":"Errors".*Sequence|Sequence.*"MetricName":"Errors"/],
  ])('%s notifies the alarm topic', (_name, pattern) => {
    const found = alarmOn(pattern);
    expect(found.length).toBeGreaterThan(0);
    const topic = s.logicalId(s.stack.node.findChild('Alarms').node.findChild('Topic').node.defaultChild);
    for (const [, a] of found) expect(a.Properties?.AlarmActions).toEqual([{ Ref: topic }]);
  });

  it('changes to the signing key policy and the archive lock configuration are alarmed', () => {
    s.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.kms'],
        detail: Match.objectLike({ eventName: Match.arrayWith(['PutKeyPolicy', 'CreateGrant']) }),
      }),
    });
    s.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.s3'],
        detail: Match.objectLike({
          eventName: Match.arrayWith(['PutBucketPolicy', 'PutBucketObjectLockConfiguration']),
        }),
      }),
    });
  });
});

describe('the synth without bundling that the policy simulation uses (test/cdk/iam-simulation.test.ts)', () => {
  it('has exactly the roles, policies, key policies, bucket policies and table of the deployed synth', () => {
    const iamTypes = new Set([
      'AWS::IAM::Role',
      'AWS::IAM::Policy',
      'AWS::IAM::ManagedPolicy',
      'AWS::KMS::Key',
      'AWS::S3::Bucket',
      'AWS::S3::BucketPolicy',
      'AWS::DynamoDB::Table',
    ]);
    const pick = (r: Synth['resources']) => Object.entries(r).filter(([, x]) => iamTypes.has(x.Type));
    const fast = synth({ bundle: false });
    expect(pick(fast.resources).length).toBeGreaterThan(20);
    expect(pick(fast.resources)).toEqual(pick(s.resources));
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged errors', () => {
    const report = s.nag.validateScope(s.stack);
    const errors = report.violations
      .filter((v) => v.severity === 'error')
      .map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(errors).toEqual([]);
  });

  it('every acknowledgement carries a written reason', () => {
    const acks: { path: string; id: string; reason: string }[] = [];
    for (const c of s.stack.node.findAll())
      for (const m of c.node.metadata)
        if (m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          for (const [id, reason] of Object.entries(m.data as Record<string, string>))
            acks.push({ path: c.node.path, id, reason });
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThanOrEqual(40);
    console.log(acks.map((a) => `${a.path}  ${a.id}\n    ${a.reason}`).join('\n'));
  });

  it('covers every resource in the stack (nothing synthesized outside the checked tree)', () => {
    const cfn = s.stack.node.findAll().filter((c): c is CfnResource => 'cfnResourceType' in c);
    expect(cfn.length).toBe(Object.keys(s.resources).length);
  });
});
