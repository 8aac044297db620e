/**
 * Least privilege proved by evaluation, not by reading statements: every row
 * below is one request (who × action × resource × request context) run
 * through a real IAM policy simulator against the synthesized template's role
 * policies, the signing key's key policy and the archive's bucket policy
 * (test/cdk/iam-sim.ts). The expected decision is written in the row; rows
 * that must be Allowed are here too, so the table cannot pass by denying
 * everything.
 *
 * The same tables are in docs/architecture.md §Who may do what; the last
 * test renders them and fails when the document differs
 * (`ANCHORLOG_WRITE_IAM_TABLES=1` rewrites them there from this file).
 * Rows on a retired key or the Rekor anchor key run against a second / third synthesis with
 * the context that adds them; every other row against the default synthesis.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REKOR_LOG_KEYS_CONTEXT, REKOR_URL_CONTEXT } from '../../cdk/constructs/rekor-anchor-key.ts';
import { REPO_ROOT } from '../../cdk/constructs/service-function.ts';
import { ACCOUNT, type Caller, REGION, type SimRequest, sessionOf, TemplateIam } from './iam-sim.ts';
import { cleanupSynths, type Synth, synth } from './synth.ts';

const ROLES = [
  'authorizer',
  'ingest',
  'admin',
  'seal',
  'anchor',
  'read',
  'query',
  'export',
  'project',
  'recover',
  'detect',
  'deliver',
  'compact',
  'reindex',
  'sequence',
] as const;
type Role = (typeof ROLES)[number];
/** A role of the stack, or an operator whose identity policy allows `*` on `*` (AdministratorAccess). */
type Who = Role | 'operator';

/**
 * DynamoDB item families (docs/architecture.md; partition-key prefixes in
 * cdk/constructs/audit-table.ts), one sample partition key each, and what
 * each role may do with them:
 *   -  nothing
 *   R  read: GetItem, Query (BatchGetItem, ConditionCheckItem alike)
 *   U  R + PutItem, UpdateItem (no delete)
 *   B  U + BatchWriteItem (which IAM cannot split into puts and deletes)
 *   W  U + DeleteItem + BatchWriteItem
 */
const FAMILY_TABLE: readonly (readonly [access: string, pk: string, family: string])[] = [
  // authorizer, ingest, admin, seal, anchor, read, query, export, project, recover, detect, deliver, compact, reindex, sequence:
  //au in ad se an re qu ex pr rc de dl cp ri sq
  ['-  W  R  R  R  R  R  R  R  -  R  -  -  R  W', 'L#acme', 'log partition: HEAD, legacy META/SEAL/anchors'],
  ['-  W  -  R  -  R  R  R  R  -  R  -  -  R  W', 'L#acme#B#0000000000000001', 'log records: batch'],
  ['-  W  -  R  -  R  R  R  R  -  R  -  -  R  W', 'L#acme#IK#k1', 'log records: idempotency claim'],
  ['-  -  W  R  R  R  R  R  R  W  R  W  -  R  -', 'L#system', 'system log partition'],
  ['R  R  W  R  -  R  R  R  R  W  R  W  -  R  -', 'L#system#B#0000000000000001', 'system log records: batch'],
  ['-  R  U  R  R  R  R  R  R  -  -  -  -  R  R', 'M#acme', 'log metadata'],
  ['-  R  U  R  R  R  R  R  R  U  -  U  -  R  R', 'M#system', 'system log metadata'],
  ['-  -  U  R  R  R  -  -  R  U  R  U  R  -  R', 'LOGS', 'log registry'],
  ['-  -  -  U  R  R  -  R  R  -  R  -  -  R  -', 'S#acme', 'seal state'],
  ['-  -  -  -  U  R  -  R  -  -  -  -  -  -  -', 'A#acme', 'anchors'],
  ['-  U  -  -  -  R  -  -  -  -  -  -  -  -  U', 'PS#acme', 'producer streams'],
  ['-  R  U  -  -  -  -  -  -  -  -  -  -  -  R', 'PK#k1', 'producer signing keys'],
  ['-  -  -  -  U  -  -  -  -  -  -  -  -  -  -', 'W#acme', 'witness state'],
  ['-  -  -  -  -  -  -  -  -  -  B  B  -  -  -', 'D#acme', 'detection: cursor, state, outbox'],
  ['-  -  -  -  -  -  -  -  -  -  -  U  -  -  -', 'N#acme', 'alert delivery: lease, progress'],
  ['-  -  -  -  -  -  -  -  -  -  -  U  -  -  -', 'NDL', 'alert delivery: dead letters'],
  ['-  -  -  -  -  -  -  -  -  -  -  -  -  -  -', 'SC#siem', 'log streams: cursor (the stream role only)'],
  ['-  -  -  -  -  -  -  -  -  -  -  -  -  -  -', 'SDL', 'log streams: dead letters (the stream role only)'],
  ['-  -  -  U  U  -  -  -  -  -  -  W  -  -  -', 'H#PENDING', 'health observations (outbox)'],
  ['R  -  U  -  -  -  -  -  -  U  -  -  -  -  -', 'P#k1', 'principal'],
  ['R  -  U  -  -  -  -  -  -  U  -  -  -  -  -', 'PRINCIPALS', 'principal directory'],
  ['-  -  U  -  -  -  -  -  -  U  R  -  -  -  -', 'R#', 'detection rule heads'],
  ['-  -  U  -  -  -  -  -  -  U  R  -  -  -  -', 'R#ai.data-export.volume', 'detection rule versions'],
  ['-  -  U  -  -  -  -  -  -  U  -  U  -  -  -', 'AR#', 'alert review state'],
  ['R  -  U  -  -  -  -  -  -  U  -  -  -  -  -', 'G#', 'role heads'],
  ['-  -  U  -  -  -  -  -  -  U  -  -  -  -  -', 'G#tenant-writer', 'role versions'],
  ['U  -  R  -  -  -  -  -  -  -  -  -  -  -  -', 'U#k1', 'principal last use'],
  ['-  -  U  -  -  -  -  -  -  U  -  -  -  -  -', 'AV#', 'access review heads'],
  [
    '-  -  U  -  -  -  -  -  -  U  -  -  -  -  -',
    'AV#arv_0123456789abcdef01234567',
    'access review decisions',
  ],
];

type Access = '-' | 'R' | 'U' | 'B' | 'W';
const ITEM_ACTIONS: readonly (readonly [action: string, allowedFor: readonly Access[]])[] = [
  ['dynamodb:GetItem', ['R', 'U', 'B', 'W']],
  ['dynamodb:Query', ['R', 'U', 'B', 'W']],
  ['dynamodb:PutItem', ['U', 'B', 'W']],
  ['dynamodb:UpdateItem', ['U', 'B', 'W']],
  ['dynamodb:BatchWriteItem', ['B', 'W']],
  ['dynamodb:DeleteItem', ['W']],
];

function accessOf(row: string): Record<Role, Access> {
  const cells = row.trim().split(/\s+/);
  if (cells.length !== ROLES.length || cells.some((c) => !/^[-RUBW]$/.test(c)))
    throw new Error(`bad access row "${row}"`);
  return Object.fromEntries(ROLES.map((r, i) => [r, cells[i] as Access])) as Record<Role, Access>;
}

/** 'Denied' is either kind; 'Denied (explicit)' requires a Deny statement (not just a missing Allow). */
type Expect = 'Allowed' | 'Denied' | 'Denied (explicit)';
const DENIED_EXPLICITLY = 'Denied (explicit)';

/** A resource named symbolically; resolved to the template's ARNs once synthesized. */
type Target =
  | { readonly table: readonly string[] }
  /** An object in the columnar index bucket, or (`indexBucket`) the bucket itself. */
  | { readonly indexObject: string }
  | { readonly indexBucket: true }
  | { readonly archive: string }
  | { readonly archiveBucket: true }
  | { readonly exports: string }
  | { readonly signingKey: true }
  /** A retired signing key, named in context `anchorlog:retiredSigningKeyArns` (a second synthesis). */
  | { readonly retiredKey: true }
  /** The Rekor anchor key, synthesized with context `anchorlog:rekorUrl` (a third synthesis). */
  | { readonly rekorKey: true }
  /** The log's signing key in the Rekor synthesis. */
  | { readonly rekorSigningKey: true }
  /** One of the stack's functions. */
  | { readonly fn: Role }
  /** The alerts topic (detection alerts) or the alarm topic (operators' alarms). */
  | { readonly topic: 'alerts' | 'alarms' };

interface Row {
  readonly who: Who;
  readonly action: string;
  readonly target: Target;
  /** Request headers / parameters that set condition keys, as IAM sees them. */
  readonly context?: Record<string, string>;
  readonly expect: Expect;
}

const TILE = 'logs/acme/tile/0/000';
const ENTRIES = 'logs/acme/tile/entries/000';
const CHECKPOINT = 'logs/acme/checkpoint';
const TOKEN = 'logs/acme/anchors/5/tsa1.tsr';
const ANCHORED_CHECKPOINT = 'logs/acme/anchors/5/checkpoint';
/** A witness cosignature, next to the tokens of the same checkpoint (src/app/witness.ts cosignatureKey). */
const COSIGNATURE = 'logs/acme/anchors/5/witness-a.cosig';
const INM = { 's3:if-none-match': '*' };
const INDEX_FILE = 'index/log=acme/day=2026-03-01/0000000000000000-0000000000000100.parquet';
const INDEX_LIST = { 's3:prefix': 'index/log=acme/' };
const IM = { 's3:if-match': '"e1"' };
const SIGN = { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW' };

/** One request made by every role: those in `allowed` must be Allowed, every other role Denied. */
interface Sweep {
  readonly allowed: readonly Role[];
  readonly action: string;
  readonly target: Target;
  readonly context?: Record<string, string>;
}

const every = (
  allowed: readonly Role[],
  action: string,
  target: Target,
  context?: Record<string, string>,
): Sweep => ({
  allowed,
  action,
  target,
  ...(context ? { context } : {}),
});

const rowsOf = (e: Row | Sweep): Row[] =>
  'allowed' in e
    ? ROLES.map((who) => ({
        who,
        action: e.action,
        target: e.target,
        ...(e.context ? { context: e.context } : {}),
        expect: e.allowed.includes(who) ? 'Allowed' : 'Denied',
      }))
    : [e];

/** One request by one caller. */
const one = (
  who: Who,
  action: string,
  target: Target,
  expect: Expect,
  context?: Record<string, string>,
): Row => ({
  who,
  action,
  target,
  expect,
  ...(context ? { context } : {}),
});

/** Requests beyond the family table: the system-log deny, the archive's write-once rules, signing. */
const REQUEST_TABLE: readonly (Row | Sweep)[] = [
  // ---- DynamoDB: the system log is admin's; no Scan; the query indexes are the query role's
  one('ingest', 'dynamodb:PutItem', { table: ['L#system'] }, DENIED_EXPLICITLY),
  one('ingest', 'dynamodb:UpdateItem', { table: ['L#system#IK#k1'] }, DENIED_EXPLICITLY),
  one('ingest', 'dynamodb:BatchWriteItem', { table: ['L#acme#E#x', 'L#system#E#y'] }, DENIED_EXPLICITLY),
  one('ingest', 'dynamodb:PutItem', { table: ['L#systemd'] }, 'Allowed'),
  // ingest reads the system log's committed records (producer key bindings), never its HEAD or claims
  one('ingest', 'dynamodb:BatchGetItem', { table: ['L#system#E#x'] }, 'Allowed'),
  one('ingest', 'dynamodb:GetItem', { table: ['L#system#IK#k1'] }, DENIED_EXPLICITLY),
  one(
    'ingest',
    'dynamodb:BatchGetItem',
    { table: ['L#system#B#0000000000000001', 'L#system'] },
    DENIED_EXPLICITLY,
  ),
  one('ingest', 'dynamodb:PutItem', { table: ['L#acme', 'S#acme'] }, 'Denied'),
  one('seal', 'dynamodb:PutItem', { table: ['S#acme', 'L#acme'] }, 'Denied'),
  one('anchor', 'dynamodb:GetItem', { table: ['L#acme#E#x'] }, DENIED_EXPLICITLY),
  one('admin', 'dynamodb:PutItem', { table: ['L#acme#B#0000000000000001'] }, 'Denied'),
  // admin reads `L#<logId>` (legacy META) and writes the system log, never another log's records,
  // not even inside a batch that also names a system-log key
  one('admin', 'dynamodb:GetItem', { table: ['L#acme'] }, 'Allowed'),
  one('admin', 'dynamodb:GetItem', { table: ['L#acme#B#0000000000000001'] }, DENIED_EXPLICITLY),
  one(
    'admin',
    'dynamodb:BatchGetItem',
    { table: ['L#system#B#0000000000000001', 'L#acme#B#0000000000000001'] },
    DENIED_EXPLICITLY,
  ),
  one('admin', 'dynamodb:BatchGetItem', { table: ['L#system', 'L#system#B#0000000000000001'] }, 'Allowed'),
  one('admin', 'dynamodb:PutItem', { table: ['L#system#B#0000000000000002'] }, 'Allowed'),
  // recover writes the system log's metadata and no other log's, not even one named like it
  one('recover', 'dynamodb:PutItem', { table: ['M#systemd'] }, 'Denied'),
  one('recover', 'dynamodb:BatchGetItem', { table: ['M#system', 'M#acme'] }, 'Denied'),
  one('recover', 'dynamodb:BatchGetItem', { table: ['P#k1', 'L#system#E#x'] }, 'Allowed'),
  every([], 'dynamodb:Scan', { table: [] }),

  // ---- columnar query index (docs/query.md §7): project, compact and reindex write it, query reads it
  every(['project', 'compact', 'reindex'], 's3:PutObject', { indexObject: INDEX_FILE }),
  every(['project', 'compact', 'reindex'], 's3:DeleteObject', { indexObject: INDEX_FILE }),
  every(['query', 'project', 'compact', 'reindex'], 's3:GetObject', { indexObject: INDEX_FILE }),
  every(['query', 'project', 'compact', 'reindex'], 's3:ListBucket', { indexBucket: true }, INDEX_LIST),
  // nothing outside index/, no permanent delete of a version (a compacted-away file is kept 7 days)
  every([], 's3:PutObject', { indexObject: 'elsewhere/x.parquet' }),
  every([], 's3:DeleteObjectVersion', { indexObject: INDEX_FILE }),
  every([], 's3:PutLifecycleConfiguration', { indexBucket: true }),
  one('query', 's3:GetObject', { indexObject: INDEX_FILE }, DENIED_EXPLICITLY, {
    'aws:SecureTransport': 'false',
  }),
  one('operator', 's3:PutObject', { indexObject: INDEX_FILE }, 'Allowed'),

  // ---- archive: who writes what, and only as a conditional write
  every(['seal'], 's3:PutObject', { archive: TILE }, INM),
  every(['seal'], 's3:PutObject', { archive: CHECKPOINT }, IM),
  every(['anchor'], 's3:PutObject', { archive: TOKEN }, INM),
  one('seal', 's3:PutObject', { archive: TILE }, DENIED_EXPLICITLY),
  one('seal', 's3:PutObject', { archive: TILE }, DENIED_EXPLICITLY, IM),
  one('seal', 's3:PutObject', { archive: ENTRIES }, 'Allowed', INM),
  one('seal', 's3:PutObject', { archive: ENTRIES }, DENIED_EXPLICITLY),
  one('seal', 's3:PutObject', { archive: CHECKPOINT }, 'Allowed', INM),
  one('seal', 's3:PutObject', { archive: CHECKPOINT }, DENIED_EXPLICITLY),
  one('seal', 's3:PutObject', { archive: ANCHORED_CHECKPOINT }, DENIED_EXPLICITLY, INM),
  one('anchor', 's3:PutObject', { archive: TOKEN }, DENIED_EXPLICITLY),
  every(['anchor'], 's3:PutObject', { archive: COSIGNATURE }, INM),
  one('anchor', 's3:PutObject', { archive: COSIGNATURE }, DENIED_EXPLICITLY),
  every(['seal', 'anchor', 'read', 'export', 'project', 'reindex'], 's3:GetObject', { archive: COSIGNATURE }),
  one('anchor', 's3:PutObject', { archive: ANCHORED_CHECKPOINT }, 'Allowed', INM),
  one('anchor', 's3:PutObject', { archive: ANCHORED_CHECKPOINT }, DENIED_EXPLICITLY, IM),
  one('anchor', 's3:PutObject', { archive: CHECKPOINT }, 'Denied', IM),
  // The bucket policy binds everyone, administrators included.
  one('operator', 's3:PutObject', { archive: TILE }, 'Allowed', INM),
  one('operator', 's3:PutObject', { archive: TILE }, DENIED_EXPLICITLY),
  one('operator', 's3:PutObject', { archive: CHECKPOINT }, DENIED_EXPLICITLY),
  one('operator', 's3:PutObject', { archive: TOKEN }, DENIED_EXPLICITLY, IM),
  // A delete marker hides a tile and lets If-None-Match succeed again (a fork); nobody may create one.
  one('operator', 's3:DeleteObject', { archive: TILE }, DENIED_EXPLICITLY),
  every(['seal', 'anchor', 'read', 'export', 'project', 'reindex'], 's3:GetObject', { archive: TILE }),
  one('read', 's3:GetObject', { archive: TILE }, DENIED_EXPLICITLY, { 'aws:SecureTransport': 'false' }),
  // Presigned redirects to large entry bundles name the version (src/app/proofs.ts): read role, bundles only.
  every(['read'], 's3:GetObjectVersion', { archive: ENTRIES }),
  one('read', 's3:GetObjectVersion', { archive: TILE }, 'Denied'),
  ...[
    's3:DeleteObject',
    's3:DeleteObjectVersion',
    's3:PutObjectRetention',
    's3:BypassGovernanceRetention',
    's3:PutObjectLegalHold',
  ].map((action) => every([], action, { archive: CHECKPOINT })),
  ...[
    's3:PutBucketObjectLockConfiguration',
    's3:PutBucketPolicy',
    's3:DeleteBucketPolicy',
    's3:PutBucketVersioning',
    's3:PutLifecycleConfiguration',
    's3:DeleteBucket',
  ].map((action) => every([], action, { archiveBucket: true })),
  every(['export'], 's3:PutObject', { exports: 'exports/acme/e1.zip' }),

  // ---- detection runs after every seal run: the seal function invokes it (its Lambda destination)
  every(['seal'], 'lambda:InvokeFunction', { fn: 'detect' }),
  every([], 'lambda:InvokeFunction', { fn: 'seal' }),
  // the detect role writes its own items only, not even inside a batch that names one of them
  one('detect', 'dynamodb:BatchWriteItem', { table: ['D#acme', 'S#acme'] }, 'Denied'),
  one(
    'detect',
    'dynamodb:BatchGetItem',
    { table: ['D#acme', 'L#acme#B#0000000000000001', 'S#acme'] },
    'Allowed',
  ),

  // ---- delivery runs after every detect run (its destination) and records into the system log only
  every(['detect'], 'lambda:InvokeFunction', { fn: 'deliver' }),
  one('deliver', 'dynamodb:PutItem', { table: ['L#systemd'] }, 'Denied'),
  one('deliver', 'dynamodb:BatchWriteItem', { table: ['D#acme', 'N#acme'] }, 'Denied'),
  one('deliver', 'dynamodb:BatchGetItem', { table: ['D#acme', 'N#acme', 'L#system#E#x'] }, 'Allowed'),
  one('deliver', 'dynamodb:GetItem', { table: ['L#acme#B#0000000000000001'] }, 'Denied'),
  // it publishes to the alerts topic, and nobody else does (nor may it publish to the alarm topic)
  every(['deliver'], 'sns:Publish', { topic: 'alerts' }),
  every([], 'sns:Publish', { topic: 'alarms' }),

  // ---- signing key: only the seal role signs, and only ECDSA_SHA_256 over RAW messages
  every(['seal'], 'kms:Sign', { signingKey: true }, SIGN),
  one('seal', 'kms:Sign', { signingKey: true }, 'Denied', { ...SIGN, 'kms:MessageType': 'DIGEST' }),
  one('operator', 'kms:Sign', { signingKey: true }, 'Denied', SIGN),
  one('operator', 'kms:CreateGrant', { signingKey: true }, 'Denied'),
  one('seal', 'kms:CreateGrant', { signingKey: true }, 'Denied'),
  // The account administers the key (alarmed: docs/operations.md); it cannot use it.
  one('operator', 'kms:PutKeyPolicy', { signingKey: true }, 'Allowed'),
  every(['seal', 'anchor', 'read', 'export'], 'kms:GetPublicKey', { signingKey: true }),
  // After a rotation (docs/operations.md §Key rotation): the old key, its policy cut down to the
  // account's administration statement, is readable by the two functions that verify archived
  // checkpoints, and nobody signs with it.
  every(['seal', 'anchor'], 'kms:GetPublicKey', { retiredKey: true }),
  every([], 'kms:Sign', { retiredKey: true }, SIGN),
  one('operator', 'kms:Sign', { retiredKey: true }, 'Denied', SIGN),
  // With Rekor on (docs/deploy.md §Rekor): the anchor key of its own, which only the anchor role
  // signs with (ECDSA_SHA_256 over RAW) and reads; the account administers it, cannot use it.
  every(['anchor'], 'kms:Sign', { rekorKey: true }, SIGN),
  one('anchor', 'kms:Sign', { rekorKey: true }, 'Denied', { ...SIGN, 'kms:MessageType': 'DIGEST' }),
  one('operator', 'kms:Sign', { rekorKey: true }, 'Denied', SIGN),
  one('operator', 'kms:CreateGrant', { rekorKey: true }, 'Denied'),
  one('anchor', 'kms:CreateGrant', { rekorKey: true }, 'Denied'),
  every(['anchor'], 'kms:GetPublicKey', { rekorKey: true }),
  // and the log's signing key is still the seal role's alone in that synthesis
  every(['seal'], 'kms:Sign', { rekorSigningKey: true }, SIGN),
];

/** The ARN the second synthesis names in context `anchorlog:retiredSigningKeyArns`. */
const RETIRED_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/0000aaaa-retired-key`;

let s: Synth;
let iam: TemplateIam;
const callers = new Map<Who, Caller>();
/** The stack synthesized with one retired signing key, and its callers. */
let iamRetired: TemplateIam;
const retiredCallers = new Map<Who, Caller>();
/** The stack synthesized with Rekor on, its callers and its two KMS keys. */
let iamRekor: TemplateIam;
const rekorCallers = new Map<Who, Caller>();
const rekorArns = { anchorKey: '', signingKey: '', anchorRole: '' };
const arns = { table: '', archive: '', exports: '', index: '', signingKey: '', alerts: '', alarms: '' };
const fnArn = (role: Role) =>
  iam.arn(s.logicalId(s.stack.functions[role]?.fn.node.defaultChild as CfnElement));

const idOf = (c: IConstruct | undefined) => s.logicalId(c?.node.defaultChild as CfnElement);

const OPERATOR = sessionOf('operator', 'Operator', [
  {
    name: 'AdministratorAccess',
    policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  },
]);

function callersOf(synthesis: Synth, sim: TemplateIam, into: Map<Who, Caller>): void {
  for (const role of ROLES) {
    const f = synthesis.stack.functions[role];
    if (!f) throw new Error(`the stack deploys no ${role} function`);
    into.set(role, sim.roleCaller(synthesis.logicalId(f.role.node.defaultChild as CfnElement), role));
  }
  into.set('operator', OPERATOR);
}

beforeAll(() => {
  s = synth({ bundle: false });
  iam = new TemplateIam(s.resources);
  callersOf(s, iam, callers);
  const child = (...path: string[]) => path.reduce<IConstruct>((c, p) => c.node.findChild(p), s.stack);
  arns.table = iam.arn(idOf(child('Table', 'Table')));
  arns.archive = iam.arn(idOf(child('Buckets', 'Archive')));
  arns.exports = iam.arn(idOf(child('Buckets', 'Exports')));
  arns.index = iam.arn(idOf(child('QueryIndex', 'Bucket')));
  arns.signingKey = iam.arn(idOf(child('SigningKey', 'Key')));
  arns.alerts = iam.ref(idOf(child('Alerts', 'Topic')));
  arns.alarms = iam.ref(idOf(child('Alarms', 'Topic')));

  const sr = synth({ bundle: false, context: { 'anchorlog:retiredSigningKeyArns': RETIRED_KEY } });
  iamRetired = new TemplateIam(sr.resources);
  callersOf(sr, iamRetired, retiredCallers);
  // The retired key keeps only the account's administration statement of the signing key's policy.
  const policy = iam.keyPolicy(idOf(child('SigningKey', 'Key'))) as {
    Statement: { Sid?: string }[];
  };
  iamRetired.addExternalKey(RETIRED_KEY, {
    ...policy,
    Statement: policy.Statement.filter((st) => st.Sid === 'AccountAdministersButCannotSign'),
  });

  const rk = synth({
    bundle: false,
    context: {
      [REKOR_URL_CONTEXT]: 'https://rekor.example',
      // The production Rekor v2 log key (test/fixtures/rekor/SOURCE.md); grants do not depend on it.
      [REKOR_LOG_KEYS_CONTEXT]: readFileSync(
        join(REPO_ROOT, 'test/fixtures/rekor/rekor-prod-v2-log2025-1-idx547661/vkeys.txt'),
        'utf8',
      )
        .trim()
        .split(/\s+/)[0],
    },
  });
  iamRekor = new TemplateIam(rk.resources);
  callersOf(rk, iamRekor, rekorCallers);
  const rkChild = (...path: string[]) => path.reduce<IConstruct>((c, p) => c.node.findChild(p), rk.stack);
  const rkId = (c: IConstruct) => rk.logicalId(c.node.defaultChild as CfnElement);
  rekorArns.anchorKey = iamRekor.arn(rkId(rkChild('RekorAnchorKey', 'Key')));
  rekorArns.signingKey = iamRekor.arn(rkId(rkChild('SigningKey', 'Key')));
  rekorArns.anchorRole = rk.logicalId(rk.stack.functions.anchor?.role.node.defaultChild as CfnElement);
}, 180_000);

afterAll(cleanupSynths);

function request(row: Omit<Row, 'who' | 'expect'>, caller: Caller): SimRequest {
  const t = row.target;
  let resource: string;
  let context: Record<string, string | string[]> = { ...row.context };
  if ('table' in t) {
    resource = arns.table;
    if (t.table.length > 0) context = { ...context, 'dynamodb:LeadingKeys': [...t.table] };
  } else if ('indexObject' in t) resource = `${arns.index}/${t.indexObject}`;
  else if ('indexBucket' in t) resource = arns.index;
  else if ('archive' in t) resource = `${arns.archive}/${t.archive}`;
  else if ('archiveBucket' in t) resource = arns.archive;
  else if ('exports' in t) resource = `${arns.exports}/${t.exports}`;
  else if ('retiredKey' in t) resource = RETIRED_KEY;
  else if ('rekorKey' in t) resource = rekorArns.anchorKey;
  else if ('rekorSigningKey' in t) resource = rekorArns.signingKey;
  else if ('fn' in t) resource = fnArn(t.fn);
  else if ('topic' in t) resource = arns[t.topic];
  else resource = arns.signingKey;
  if (resource.startsWith('arn:aws:s3:')) context = { 's3:TlsVersion': '1.3', ...context };
  return { caller, action: row.action, resource, context };
}

async function check(row: Row): Promise<void> {
  const retired = 'retiredKey' in row.target;
  const rekor = 'rekorKey' in row.target || 'rekorSigningKey' in row.target;
  const caller = (retired ? retiredCallers : rekor ? rekorCallers : callers).get(row.who);
  if (!caller) throw new Error(`no caller ${row.who}`);
  const d = await (retired ? iamRetired : rekor ? iamRekor : iam).decide(request(row, caller));
  const got: Expect =
    d.result === 'Allowed'
      ? 'Allowed'
      : row.expect === 'Denied'
        ? 'Denied'
        : d.result === 'ExplicitlyDenied'
          ? 'Denied (explicit)'
          : 'Denied';
  expect(got, `${describeRow(row)} — simulator: ${d.result} ${d.because}`).toBe(row.expect);
}

const familyRows: Row[] = FAMILY_TABLE.flatMap(([access, pk]) => {
  const byRole = accessOf(access);
  return ROLES.flatMap((who) =>
    ITEM_ACTIONS.map(
      ([action, allowedFor]): Row => ({
        who,
        action,
        target: { table: [pk] },
        expect: allowedFor.includes(byRole[who]) ? 'Allowed' : 'Denied',
      }),
    ),
  );
});

function targetText(t: Target): string {
  if ('table' in t)
    return t.table.length
      ? `table, leading keys ${t.table.map((k) => `\`${k}\``).join(', ')}`
      : 'table, no leading key';
  if ('indexObject' in t) return `index bucket \`${t.indexObject}\``;
  if ('indexBucket' in t) return 'index bucket';
  if ('archive' in t) return `archive \`${t.archive}\``;
  if ('archiveBucket' in t) return 'archive bucket';
  if ('exports' in t) return `exports \`${t.exports}\``;
  if ('retiredKey' in t) return 'retired signing key (context `anchorlog:retiredSigningKeyArns`)';
  if ('rekorKey' in t) return 'Rekor anchor key (context `anchorlog:rekorUrl`)';
  if ('rekorSigningKey' in t) return 'signing key (context `anchorlog:rekorUrl`)';
  if ('fn' in t) return `function \`${t.fn}\``;
  if ('topic' in t) return `${t.topic} topic`;
  return 'signing key';
}

function contextText(c: Record<string, string> | undefined): string {
  if (!c) return '';
  return Object.entries(c)
    .map(([k, v]) => `\`${k}=${v}\``)
    .join(' ');
}

function describeRow(r: Row): string {
  return `${r.who} ${r.action} ${targetText(r.target)}${r.context ? ` ${contextText(r.context)}` : ''} → ${r.expect}`;
}

describe('DynamoDB item families: every role × family × item action', () => {
  it.each(familyRows.map((r) => [describeRow(r), r] as const))('%s', async (_name, row) => {
    await check(row);
  });
});

describe('requests: system log, archive write-once, signing', () => {
  it.each(REQUEST_TABLE.flatMap(rowsOf).map((r) => [describeRow(r), r] as const))(
    '%s',
    async (_name, row) => {
      await check(row);
    },
  );
});

describe('every other role in the template (schedulers, anything CDK adds)', () => {
  const sensitive: Omit<Row, 'who' | 'expect'>[] = [
    { action: 'kms:Sign', target: { signingKey: true }, context: SIGN },
    { action: 's3:PutObject', target: { archive: TILE }, context: INM },
    { action: 's3:PutObject', target: { archive: CHECKPOINT }, context: IM },
    { action: 's3:GetObject', target: { archive: TILE } },
    { action: 's3:PutObject', target: { indexObject: INDEX_FILE } },
    { action: 'dynamodb:PutItem', target: { table: ['L#acme'] } },
    { action: 'dynamodb:PutItem', target: { table: ['S#acme'] } },
    { action: 'dynamodb:GetItem', target: { table: ['P#k1'] } },
  ];
  it('cannot sign, touch the archive or read or write the table', async () => {
    const functionRoles = new Set(ROLES.map((r) => idOf(s.stack.functions[r]?.role)));
    const others = iam.roleIds().filter((id) => !functionRoles.has(id));
    expect(others.length).toBeGreaterThan(0);
    for (const id of others)
      for (const req of sensitive) {
        const d = await iam.decide(request(req, iam.roleCaller(id, id)));
        expect(d.result, `${id} ${req.action} ${targetText(req.target)}: ${d.because}`).not.toBe('Allowed');
      }
  });

  it('with Rekor on: only the anchor role, of every role in the template, signs with the Rekor key', async () => {
    const ids = iamRekor.roleIds();
    expect(ids).toContain(rekorArns.anchorRole);
    for (const id of ids) {
      const req = { action: 'kms:Sign', target: { rekorKey: true as const }, context: SIGN };
      const d = await iamRekor.decide(request(req, iamRekor.roleCaller(id, id)));
      expect(d.result === 'Allowed', `${id} kms:Sign on the Rekor anchor key: ${d.because}`).toBe(
        id === rekorArns.anchorRole,
      );
    }
  });
});

function renderRequests(): string {
  const lines = ['| who | action | resource | request | decision |', '| --- | --- | --- | --- | --- |'];
  for (const e of REQUEST_TABLE) {
    const [who, decision] =
      'allowed' in e
        ? e.allowed.length
          ? [e.allowed.join(', '), 'Allowed; every other role: Denied']
          : ['every role', 'Denied']
        : [e.who, e.expect];
    lines.push(
      `| ${who} | \`${e.action}\` | ${targetText(e.target)} | ${contextText(e.context)} | ${decision} |`,
    );
  }
  return lines.join('\n');
}

function renderFamilies(): string {
  const lines = [
    `| family | sample \`pk\` | ${ROLES.join(' | ')} |`,
    `| --- | --- |${ROLES.map(() => ' :-: |').join('')}`,
  ];
  for (const [access, pk, family] of FAMILY_TABLE) {
    const byRole = accessOf(access);
    lines.push(`| ${family} | \`${pk}\` | ${ROLES.map((r) => byRole[r]).join(' | ')} |`);
  }
  return lines.join('\n');
}

describe('docs/architecture.md', () => {
  // ANCHORLOG_WRITE_IAM_TABLES=1 rewrites the two tables in the document from this file first.
  it('shows exactly these two tables', () => {
    const path = join(REPO_ROOT, 'docs', 'architecture.md');
    const section = (name: string) =>
      new RegExp(`(<!-- ${name}:start -->\\n)([\\s\\S]*?)(\\n<!-- ${name}:end -->)`);
    const tables = { 'iam-families': renderFamilies(), 'iam-requests': renderRequests() };
    if (process.env.ANCHORLOG_WRITE_IAM_TABLES === '1') {
      let doc = readFileSync(path, 'utf8');
      for (const [name, table] of Object.entries(tables))
        doc = doc.replace(section(name), (_m, start: string, _old, end: string) => `${start}${table}${end}`);
      writeFileSync(path, doc);
    }
    const doc = readFileSync(path, 'utf8');
    for (const [name, table] of Object.entries(tables))
      expect(
        section(name).exec(doc)?.[2],
        `${name} in docs/architecture.md (ANCHORLOG_WRITE_IAM_TABLES=1 rewrites it)`,
      ).toBe(table);
  });
});
