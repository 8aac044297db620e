/**
 * Every `anchorlog` command, through the real dispatcher, against the same
 * table of bad invocations: `--help` (and `anchorlog help <command>`), a usage
 * error with `--json`, an unknown flag, a missing required flag, a bad value,
 * and conflicting flags. Each bad invocation exits 2 with the command's usage
 * line and a coded error (README "Exit codes"), in JSON on stdout with
 * `--json`; none reaches the network (the API URL below is a closed port)
 * and none ends in a stack trace. Then garbage argv, generated: never a
 * throw, never a stack trace, never an exit code outside the table.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { COMMANDS, runMain } from '../../src/cli/main.ts';
import { vkeyFromSpki } from '../../src/core/note/index.ts';
import { issueApiKey } from '../../src/core/principal.ts';
import { skipChildProcesses } from '../support/tier.ts';
import { captureIo } from './support.ts';

/** A port nothing listens on: an invocation that got past parsing fails fast with exit 1. */
const API = 'http://127.0.0.1:9';
const READ_KEY = 'alk_reader_secret';
const ADMIN_KEY = issueApiKey('root-admin', (n) => new Uint8Array(randomBytes(n))).apiKey;
const VKEY = vkeyFromSpki('anchorlog.example.com/prod', LocalNoteSigner.generate('x').publicKeySpki);
const api = ['--api', API, '--key', READ_KEY];
const admin = ['--api', API, '--key', ADMIN_KEY];
const ALERT_ID = `alr_${'0'.repeat(31)}1`;
const REVIEW_ID = `arv_${'0'.repeat(23)}1`;

/** The usage-error codes of src/cli/errors.ts that a table row can expect. */
type Code =
  | 'MISSING_OPTION'
  | 'MISSING_ARGUMENT'
  | 'BAD_VALUE'
  | 'CONFLICTING_OPTIONS'
  | 'REPEATED_OPTION'
  | 'UNEXPECTED_ARGUMENT';

interface Row {
  /** The words that name the command. */
  readonly path: string;
  /** Every flag the command takes besides --help and --json: its help must describe each. */
  readonly flags: readonly string[];
  /** A complete, valid invocation (never run to completion here: only with a flag added or removed). */
  readonly ok: readonly string[];
  readonly missing: readonly [argv: readonly string[], code: Code, names: string];
  readonly bad: readonly [argv: readonly string[], names: string];
  readonly conflict: readonly [argv: readonly string[], code: Code, names: string];
}

const create = ['--name', 'Billing agent', '--kind', 'agent', '--owner', 'alice', '--purpose', 'p'];
const ROWS: readonly Row[] = [
  {
    path: 'trust',
    flags: [
      '--log',
      '--output',
      '--witness',
      '--witness-quorum',
      '--rekor-log-key',
      '--rekor-anchor-key',
      '--api',
      '--key',
    ],
    ok: ['--log', 'prod', ...api],
    missing: [api, 'MISSING_OPTION', '--log'],
    bad: [['--log', 'Prod_1', ...api], '--log'],
    conflict: [['--log', 'prod', '--log', 'dev', ...api], 'REPEATED_OPTION', '--log'],
  },
  {
    path: 'checkpoint',
    flags: ['--log', '--vkey', '--vkey-file', '--trust', '--allow-untrusted', '--api', '--key'],
    ok: ['--log', 'prod', '--vkey', VKEY, ...api],
    missing: [['--vkey', VKEY, ...api], 'MISSING_OPTION', '--log'],
    bad: [['--log', 'prod', '--vkey', 'not-a-vkey', ...api], '--vkey'],
    conflict: [
      ['--log', 'prod', '--vkey', VKEY, '--trust', 'TRUST.json', ...api],
      'CONFLICTING_OPTIONS',
      '--vkey --trust',
    ],
  },
  {
    path: 'monitor',
    flags: ['--log', '--state', '--vkey', '--vkey-file', '--trust', '--allow-untrusted', '--api', '--key'],
    ok: ['--log', 'prod', '--vkey', VKEY, ...api],
    missing: [['--vkey', VKEY, ...api], 'MISSING_OPTION', '--log'],
    bad: [['--log', 'prod', '--vkey', 'not-a-vkey', ...api], '--vkey'],
    conflict: [
      ['--log', 'prod', '--vkey', VKEY, '--trust', 'TRUST.json', ...api],
      'CONFLICTING_OPTIONS',
      '--vkey --trust',
    ],
  },
  {
    path: 'witnessed',
    flags: [
      '--log',
      '--vkey',
      '--vkey-file',
      '--trust',
      '--allow-untrusted',
      '--witness',
      '--witness-quorum',
      '--api',
      '--key',
    ],
    ok: ['--log', 'prod', '--trust', 'TRUST.json', ...api],
    missing: [['--trust', 'TRUST.json', ...api], 'MISSING_OPTION', '--log'],
    bad: [['--log', 'prod', '--witness', 'not-a-vkey', '--trust', 'TRUST.json', ...api], '--witness'],
    conflict: [
      ['--log', 'prod', '--vkey', VKEY, '--trust', 'TRUST.json', ...api],
      'CONFLICTING_OPTIONS',
      '--vkey --trust',
    ],
  },
  {
    path: 'query',
    flags: [
      '--log',
      '--sql',
      '--from',
      '--to',
      '--actor',
      '--action',
      '--submitter',
      '--target-type',
      '--target-id',
      '--outcome',
      '--max-rows',
      '--api',
      '--key',
    ],
    ok: ['--log', 'prod', '--sql', 'SELECT leafIndex FROM events', ...api],
    missing: [api, 'MISSING_OPTION', '--log'],
    bad: [['--log', 'prod', '--outcome', 'maybe', ...api], '--outcome'],
    conflict: [['--log', 'prod', '--log', 'dev', ...api], 'REPEATED_OPTION', '--log'],
  },
  {
    path: 'index rebuild',
    flags: ['--log', '--api', '--key'],
    ok: ['--log', 'prod', ...admin],
    missing: [admin, 'MISSING_OPTION', '--log'],
    bad: [['--log', 'Prod_1', ...admin], '--log'],
    conflict: [['--log', 'prod', '--log', 'dev', ...admin], 'REPEATED_OPTION', '--log'],
  },
  {
    path: 'producers',
    flags: ['--log', '--api', '--key'],
    ok: ['--log', 'prod', ...api],
    missing: [api, 'MISSING_OPTION', '--log'],
    bad: [['--log', 'Prod_1', ...api], '--log'],
    conflict: [['--log', 'prod', '--log', 'dev', ...api], 'REPEATED_OPTION', '--log'],
  },
  {
    path: 'prove',
    flags: [
      '--log',
      '--index',
      '--size',
      '--vkey',
      '--vkey-file',
      '--trust',
      '--allow-untrusted',
      '--leaf-hash',
      '--record',
      '--format',
      '--output',
      '--api',
      '--key',
    ],
    ok: ['--log', 'prod', '--index', '7', '--trust', 'TRUST.json', ...api],
    missing: [['--log', 'prod', '--trust', 'TRUST.json', ...api], 'MISSING_OPTION', '--index'],
    bad: [['--log', 'prod', '--index', '-1', '--trust', 'TRUST.json', ...api], '--index'],
    conflict: [
      [
        ...['--log', 'prod', '--index', '7', '--trust', 'TRUST.json', ...api],
        ...['--leaf-hash', 'A'.repeat(43) + '=', '--record', 'r.json'],
      ],
      'CONFLICTING_OPTIONS',
      '--leaf-hash --record',
    ],
  },
  {
    path: 'export',
    flags: [
      '--log',
      '--from',
      '--to',
      '--action',
      '--actor',
      '--class',
      '--format',
      '--output',
      '--api',
      '--key',
    ],
    ok: ['--log', 'prod', '--from', '2026-03-01', '--to', '2026-04-01', '-o', 'march.tar', ...api],
    missing: [['--log', 'prod', '--from', '2026-03-01', '-o', 'march.tar', ...api], 'MISSING_OPTION', '--to'],
    bad: [['--log', 'prod', '--from', 'yesterday', '--to', '2026-04-01', '-o', 'm.tar', ...api], '--from'],
    conflict: [
      [
        '--log',
        'prod',
        '--from',
        '2026-03-01',
        '--to',
        '2026-04-01',
        '-o',
        'a.tar',
        '--output',
        'b.tar',
        ...api,
      ],
      'REPEATED_OPTION',
      '--output',
    ],
  },
  {
    path: 'verify',
    flags: ['--trust', '--allow-untrusted', '--allow-incomplete', '--threads', '--producer-keys'],
    ok: ['bundle.tar', '--trust', 'TRUST.json'],
    missing: [['--trust', 'TRUST.json'], 'MISSING_ARGUMENT', 'FILE'],
    bad: [['bundle.tar', '--allow-untrusted=yes'], '--allow-untrusted'],
    conflict: [['bundle.tar', '--trust', 'a.json', '--trust', 'b.json'], 'REPEATED_OPTION', '--trust'],
  },
  {
    path: 'timestamp verify',
    flags: ['--in', '--data', '--digest', '--ca', '--untrusted', '--allow-sha1'],
    ok: ['--in', 'anchor.tsr', '--data', 'checkpoint.txt', '--ca', 'roots.pem'],
    missing: [['--in', 'anchor.tsr', '--data', 'checkpoint.txt'], 'MISSING_OPTION', '--ca'],
    bad: [['--in', 'anchor.tsr', '--digest', 'xyz', '--ca', 'roots.pem'], '--digest'],
    conflict: [
      ['--in', 'anchor.tsr', '--data', 'checkpoint.txt', '--digest', 'ab'.repeat(32), '--ca', 'roots.pem'],
      'CONFLICTING_OPTIONS',
      '--data --digest',
    ],
  },
  {
    path: 'principals create',
    flags: [
      '--name',
      '--kind',
      '--owner',
      '--purpose',
      '--role',
      '--scope',
      '--idp-identity',
      '--id',
      '--api',
      '--key',
    ],
    ok: [...create, '--scope', 'prod:events:write', ...admin],
    missing: [[...create.slice(0, 6), ...admin], 'MISSING_OPTION', '--purpose'],
    bad: [
      [...create.slice(0, 2), '--kind', 'robot', ...create.slice(4), '--scope', 'prod:export', ...admin],
      '--kind',
    ],
    conflict: [
      [...create, '--scope', 'prod:export', '--id', 'a-b', '--id', 'c-d', ...admin],
      'REPEATED_OPTION',
      '--id',
    ],
  },
  {
    path: 'principals list',
    flags: ['--limit', '--cursor', '--api', '--key'],
    ok: admin,
    missing: [['--key', ADMIN_KEY], 'MISSING_OPTION', '--api ANCHORLOG_API_URL'],
    bad: [['--limit', '1000', ...admin], '--limit'],
    conflict: [['--limit', '10', '--limit', '20', ...admin], 'REPEATED_OPTION', '--limit'],
  },
  ...(['get', 'rotate', 'revoke'] as const).map(
    (sub): Row => ({
      path: `principals ${sub}`,
      flags: ['--api', '--key'],
      ok: ['billing-agent', ...admin],
      missing: [admin, 'MISSING_ARGUMENT', 'ID'],
      bad: [['../../etc', ...admin], 'ID'],
      conflict: [['billing-agent', 'other-agent', ...admin], 'UNEXPECTED_ARGUMENT', 'other-agent'],
    }),
  ),
  {
    path: 'principals set-scopes',
    flags: ['--scope', '--api', '--key'],
    ok: ['billing-agent', '--scope', 'prod:events:read', ...admin],
    missing: [['billing-agent', ...admin], 'MISSING_OPTION', '--scope'],
    bad: [['billing-agent', '--scope', 'Prod_1:export', ...admin], '--scope'],
    conflict: [
      ['billing-agent', '--scope', 'prod:export', '--api', API, ...admin],
      'REPEATED_OPTION',
      '--api',
    ],
  },
  {
    path: 'principals set-roles',
    flags: ['--role', '--none', '--api', '--key'],
    ok: ['billing-agent', '--role', 'tenant-writer', ...admin],
    missing: [['billing-agent', ...admin], 'BAD_VALUE', '--role'],
    bad: [['billing-agent', '--role', 'Bad Role', ...admin], '--role'],
    conflict: [['billing-agent', '--role', 'a', '--none', ...admin], 'BAD_VALUE', '--none'],
  },
  {
    path: 'roles list',
    flags: ['--limit', '--cursor', '--api', '--key'],
    ok: admin,
    missing: [['--key', ADMIN_KEY], 'MISSING_OPTION', '--api ANCHORLOG_API_URL'],
    bad: [['--limit', '0', ...admin], '--limit'],
    conflict: [['--limit', '10', '--limit', '20', ...admin], 'REPEATED_OPTION', '--limit'],
  },
  {
    path: 'roles show',
    flags: ['--version', '--api', '--key'],
    ok: ['tenant-writer', ...admin],
    missing: [admin, 'MISSING_ARGUMENT', 'ID'],
    bad: [['Bad_Role', ...admin], 'ID'],
    conflict: [['role-a', 'role-b', ...admin], 'UNEXPECTED_ARGUMENT', 'role-b'],
  },
  {
    path: 'roles history',
    flags: ['--limit', '--cursor', '--api', '--key'],
    ok: ['tenant-writer', ...admin],
    missing: [admin, 'MISSING_ARGUMENT', 'ID'],
    bad: [['tenant-writer', '--limit', '101', ...admin], '--limit'],
    conflict: [['r-x', '--cursor', 'a', '--cursor', 'b', ...admin], 'REPEATED_OPTION', '--cursor'],
  },
  {
    path: 'roles apply',
    flags: ['--dry-run', '--api', '--key'],
    ok: ['roles.yaml', ...admin],
    missing: [admin, 'MISSING_ARGUMENT', 'FILE'],
    bad: [['roles.yaml', '--dry-run=yes', ...admin], '--dry-run'],
    conflict: [['roles.yaml', 'more.yaml', ...admin], 'UNEXPECTED_ARGUMENT', 'more.yaml'],
  },
  {
    path: 'roles drift',
    flags: ['--api', '--key'],
    ok: admin,
    missing: [['--key', ADMIN_KEY], 'MISSING_OPTION', '--api ANCHORLOG_API_URL'],
    bad: [['--api', 'not a url', '--key', ADMIN_KEY], '--api'],
    conflict: [['--api', API, ...admin], 'REPEATED_OPTION', '--api'],
  },
  {
    path: 'rules list',
    flags: ['--limit', '--cursor', '--api', '--key'],
    ok: admin,
    missing: [['--key', ADMIN_KEY], 'MISSING_OPTION', '--api ANCHORLOG_API_URL'],
    bad: [['--limit', '0', ...admin], '--limit'],
    conflict: [['--limit', '10', '--limit', '20', ...admin], 'REPEATED_OPTION', '--limit'],
  },
  {
    path: 'rules show',
    flags: ['--version', '--api', '--key'],
    ok: ['ai.data-export.volume', ...admin],
    missing: [admin, 'MISSING_ARGUMENT', 'ID'],
    bad: [['Bad_Rule', ...admin], 'ID'],
    conflict: [['ai.a', 'ai.b', ...admin], 'UNEXPECTED_ARGUMENT', 'ai.b'],
  },
  {
    path: 'rules history',
    flags: ['--limit', '--cursor', '--api', '--key'],
    ok: ['ai.data-export.volume', ...admin],
    missing: [admin, 'MISSING_ARGUMENT', 'ID'],
    bad: [['ai.x', '--limit', '101', ...admin], '--limit'],
    conflict: [['ai.x', '--cursor', 'a', '--cursor', 'b', ...admin], 'REPEATED_OPTION', '--cursor'],
  },
  {
    path: 'rules validate',
    flags: [],
    ok: ['rules/'],
    missing: [[], 'MISSING_ARGUMENT', 'FILE|DIR'],
    bad: [[''], 'FILE|DIR'],
    conflict: [['rules/', 'more/'], 'UNEXPECTED_ARGUMENT', 'more/'],
  },
  {
    path: 'rules diff',
    flags: ['--file', '--exit-code', '--api', '--key'],
    ok: ['-f', 'rules/', ...admin],
    missing: [admin, 'MISSING_OPTION', '--file'],
    bad: [['--file=', ...admin], '--file'],
    conflict: [['-f', 'rules/', '--api', API, ...admin], 'REPEATED_OPTION', '--api'],
  },
  {
    path: 'rules apply',
    flags: ['--file', '--dry-run', '--api', '--key'],
    ok: ['-f', 'rules/', ...admin],
    missing: [admin, 'MISSING_OPTION', '--file'],
    bad: [['-f', 'rules/', '--dry-run=yes', ...admin], '--dry-run'],
    conflict: [['rules/', ...admin], 'UNEXPECTED_ARGUMENT', 'rules/'],
  },
  ...(['enable', 'disable'] as const).map(
    (sub): Row => ({
      path: `rules ${sub}`,
      flags: ['--if-version', '--api', '--key'],
      ok: ['ai.data-export.volume', ...admin],
      missing: [admin, 'MISSING_ARGUMENT', 'ID'],
      bad: [['ai.x', '--if-version', '0', ...admin], '--if-version'],
      conflict: [
        ['ai.x', '--if-version', '1', '--if-version', '2', ...admin],
        'REPEATED_OPTION',
        '--if-version',
      ],
    }),
  ),
  {
    path: 'alerts list',
    flags: [
      '--status',
      '--rule',
      '--severity',
      '--log',
      '--from',
      '--to',
      '--limit',
      '--cursor',
      '--api',
      '--key',
    ],
    ok: admin,
    missing: [['--key', ADMIN_KEY], 'MISSING_OPTION', '--api ANCHORLOG_API_URL'],
    bad: [['--status', 'closed', ...admin], '--status'],
    conflict: [['--rule', 'a', '--rule', 'b', ...admin], 'REPEATED_OPTION', '--rule'],
  },
  ...(['show', 'ack', 'reopen'] as const).map(
    (sub): Row => ({
      path: `alerts ${sub}`,
      flags: [...(sub === 'reopen' ? ['--notes'] : []), '--api', '--key'],
      ok: [ALERT_ID, ...admin],
      missing: [admin, 'MISSING_ARGUMENT', 'ID'],
      bad: [['alr_XYZ', ...admin], 'ID'],
      conflict: [[ALERT_ID, ALERT_ID, ...admin], 'UNEXPECTED_ARGUMENT', ALERT_ID],
    }),
  ),
  {
    path: 'alerts resolve',
    flags: ['--outcome', '--notes', '--api', '--key'],
    ok: [ALERT_ID, '--outcome', 'true_positive', ...admin],
    missing: [[ALERT_ID, ...admin], 'MISSING_OPTION', '--outcome'],
    bad: [[ALERT_ID, '--outcome', 'maybe', ...admin], '--outcome'],
    conflict: [
      [ALERT_ID, '--outcome', 'true_positive', '--outcome', 'false_positive', ...admin],
      'REPEATED_OPTION',
      '--outcome',
    ],
  },
  {
    path: 'alerts report',
    flags: [
      '--from',
      '--to',
      '--until',
      '--bundle',
      '--trust',
      '--allow-untrusted',
      '--format',
      '--out',
      '--api',
      '--key',
    ],
    ok: ['--from', '2026-01-01', '--to', '2026-02-01', ...admin],
    missing: [['--from', '2026-01-01', '--to', '2026-02-01'], 'MISSING_OPTION', '--bundle'],
    bad: [['--from', '2026-01-01', '--to', '2026-02-01', '--format', 'xml', ...admin], '--format'],
    conflict: [['--bundle', 'x.tar', '--until', '2026-02-01'], 'CONFLICTING_OPTIONS', '--until'],
  },
  {
    path: 'logs policy get',
    flags: ['--api', '--key'],
    ok: ['payments', ...admin],
    missing: [admin, 'MISSING_ARGUMENT', 'LOG'],
    bad: [['Pay_1', ...admin], 'LOG'],
    conflict: [['payments', 'other', ...admin], 'UNEXPECTED_ARGUMENT', 'other'],
  },
  {
    path: 'logs policy set',
    flags: ['--catalog-mode', '--sign-principal', '--sign-actor', '--signatures', '--api', '--key'],
    ok: ['payments', '--catalog-mode', 'enforce', ...admin],
    missing: [['--catalog-mode', 'enforce', ...admin], 'MISSING_ARGUMENT', 'LOG'],
    bad: [['payments', '--catalog-mode', 'strict', ...admin], '--catalog-mode'],
    conflict: [
      ['payments', '--catalog-mode', 'warn', '--catalog-mode', 'off', ...admin],
      'REPEATED_OPTION',
      '--catalog-mode',
    ],
  },
  {
    path: 'signing-keys register',
    flags: ['--public-key', '--not-before', '--not-after', '--api', '--key'],
    ok: ['app-1', '--public-key', 'k.pem', ...admin],
    missing: [['app-1', ...admin], 'MISSING_OPTION', '--public-key'],
    bad: [['app-1', '--public-key', 'k.pem', '--not-after', 'soon', ...admin], '--not-after'],
    conflict: [
      ['app-1', '--public-key', 'a.pem', '--public-key', 'b.pem', ...admin],
      'REPEATED_OPTION',
      '--public-key',
    ],
  },
  {
    path: 'signing-keys list',
    flags: ['--api', '--key'],
    ok: ['app-1', ...admin],
    missing: [admin, 'MISSING_ARGUMENT', 'PRINCIPAL'],
    bad: [['App 1', ...admin], 'PRINCIPAL'],
    conflict: [['app-1', 'app-2', ...admin], 'UNEXPECTED_ARGUMENT', 'app-2'],
  },
  {
    path: 'signing-keys revoke',
    flags: ['--key-id', '--at', '--api', '--key'],
    ok: ['app-1', '--key-id', 'k1', ...admin],
    missing: [['app-1', ...admin], 'MISSING_OPTION', '--key-id'],
    bad: [['app-1', '--key-id', 'k1', '--at', 'later', ...admin], '--at'],
    conflict: [['app-1', '--key-id', 'a', '--key-id', 'b', ...admin], 'REPEATED_OPTION', '--key-id'],
  },
  {
    path: 'access-reviews start',
    flags: ['--name', '--api', '--key'],
    ok: ['--name', '2026-Q1', ...admin],
    missing: [admin, 'MISSING_OPTION', '--name'],
    bad: [['--name', '', ...admin], '--name'],
    conflict: [['--name', 'a', '--name', 'b', ...admin], 'REPEATED_OPTION', '--name'],
  },
  {
    path: 'access-reviews list',
    flags: ['--limit', '--cursor', '--api', '--key'],
    ok: admin,
    missing: [['--key', ADMIN_KEY], 'MISSING_OPTION', '--api ANCHORLOG_API_URL'],
    bad: [['--limit', '0', ...admin], '--limit'],
    conflict: [['--cursor', 'a', '--cursor', 'b', ...admin], 'REPEATED_OPTION', '--cursor'],
  },
  ...(['show', 'close'] as const).map(
    (sub): Row => ({
      path: `access-reviews ${sub}`,
      flags: ['--api', '--key'],
      ok: [REVIEW_ID, ...admin],
      missing: [admin, 'MISSING_ARGUMENT', 'ID'],
      bad: [['arv_XYZ', ...admin], 'ID'],
      conflict: [[REVIEW_ID, REVIEW_ID, ...admin], 'UNEXPECTED_ARGUMENT', REVIEW_ID],
    }),
  ),
  {
    path: 'access-reviews decide',
    flags: ['--principal', '--decision', '--reason', '--api', '--key'],
    ok: [REVIEW_ID, '--principal', 'alice', '--decision', 'keep', '--reason', 'on call', ...admin],
    missing: [[REVIEW_ID, '--principal', 'alice', '--reason', 'r', ...admin], 'MISSING_OPTION', '--decision'],
    bad: [
      [REVIEW_ID, '--principal', 'alice', '--decision', 'maybe', '--reason', 'r', ...admin],
      '--decision',
    ],
    conflict: [
      [
        REVIEW_ID,
        '--principal',
        'alice',
        '--decision',
        'keep',
        '--decision',
        'revoke',
        '--reason',
        'r',
        ...admin,
      ],
      'REPEATED_OPTION',
      '--decision',
    ],
  },
  {
    path: 'access-reviews report',
    flags: ['--bundle', '--trust', '--allow-untrusted', '--format', '--out', '--api', '--key'],
    ok: [REVIEW_ID, ...admin],
    missing: [[REVIEW_ID], 'MISSING_OPTION', '--bundle'],
    bad: [[REVIEW_ID, '--format', 'xml', ...admin], '--format'],
    conflict: [[REVIEW_ID, '--format', 'csv', '--format', 'json', ...admin], 'REPEATED_OPTION', '--format'],
  },
];

/** Node's "    at fn (file:line)" frames: a crash, not a message. */
const STACK = /^\s+at .+[(:]\d+/m;

async function cli(argv: readonly string[]) {
  const io = captureIo();
  const code = await runMain([...argv], io);
  return { code, out: io.out(), err: io.err() };
}

beforeAll(() => {
  // Env fallbacks must not fill in what a row leaves out.
  vi.stubEnv('ANCHORLOG_API_URL', undefined);
  vi.stubEnv('ANCHORLOG_API_KEY', undefined);
});
afterAll(() => {
  vi.unstubAllEnvs();
});

describe('every command: --help and `anchorlog help <command>`', () => {
  it('the table covers every command the dispatcher knows', () => {
    expect(COMMANDS.map((c) => c.path.join(' ')).sort()).toEqual(ROWS.map((r) => r.path).sort());
  });

  it.each(ROWS.map((r) => [r.path, r] as const))('%s', async (path, row) => {
    const words = path.split(' ');
    const r = await cli([...words, '--help']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(new RegExp(`^usage: anchorlog ${path} `));
    for (const f of [...row.flags, '--json', '--help'])
      expect([path, r.out]).toEqual([path, expect.stringContaining(f)]);
    // A description, and examples that are real invocations of this command.
    const examples = r.out.split('\nexamples:\n')[1] ?? '';
    expect(examples.match(new RegExp(`^ {2}anchorlog ${path}\\b`, 'gm'))?.length ?? 0).toBeGreaterThanOrEqual(
      1,
    );
    expect(r.out.split('\n\n').length).toBeGreaterThanOrEqual(4);

    expect(await cli(['help', ...words])).toEqual(r);
    // Help wins over everything else on the line, even a complete invocation or garbage.
    expect((await cli([...words, ...row.ok, '-h'])).out).toBe(r.out);
    expect((await cli([...words, '--bogus', '--help'])).code).toBe(0);

    const j = await cli([...words, '--help', '--json']);
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.out);
    expect(doc).toMatchObject({
      ok: true,
      command: `anchorlog ${path}`,
      usage: expect.stringMatching(/^usage: /),
    });
    expect(doc.options.map((o: { flag: string }) => o.flag).sort()).toEqual(
      [...row.flags, '--json', '--help'].sort(),
    );
    expect(doc.examples.length).toBeGreaterThanOrEqual(1);
  });
});

describe('every command: usage errors exit 2 with the usage line and a code', () => {
  const cases = ROWS.flatMap((row) => {
    const kinds: Array<[string, readonly string[], Code | 'UNKNOWN_OPTION', string]> = [
      ['unknown flag', [...row.ok, '--bogus'], 'UNKNOWN_OPTION', '--bogus'],
      ['missing required', row.missing[0], row.missing[1], row.missing[2]],
      ['bad value', row.bad[0], 'BAD_VALUE', row.bad[1]],
      ['conflicting flags', row.conflict[0], row.conflict[1], row.conflict[2]],
    ];
    return kinds.map(
      ([kind, argv, code, names]) => [`${row.path}: ${kind}`, row.path, argv, code, names] as const,
    );
  });

  it.each(cases)('%s', async (_name, path, argv, code, names) => {
    const words = path.split(' ');
    const text = await cli([...words, ...argv]);
    expect(text.code, text.err).toBe(2);
    expect(text.out).toBe('');
    expect(text.err).toMatch(new RegExp(`^anchorlog ${path}: `));
    expect(text.err).toContain(`\nusage: anchorlog ${path}`);
    expect(text.err).toContain(`anchorlog help ${path}`);
    expect(text.err).not.toMatch(STACK);
    const firstLine = text.err.split('\n')[0] as string;
    for (const n of names.split(' ')) expect(firstLine).toContain(n);

    const json = await cli([...words, ...argv, '--json']);
    expect(json.code).toBe(2);
    const doc = JSON.parse(json.out);
    expect(doc).toEqual({
      ok: false,
      error: {
        code,
        message: firstLine.slice(`anchorlog ${path}: `.length),
        usage: expect.stringMatching(new RegExp(`^usage: anchorlog ${path} `)),
      },
    });
    expect(json.err).not.toMatch(STACK);
  });

  it('an unknown flag close to a real one is named', async () => {
    const r = await cli(['checkpoint', '--log', 'prod', '--vkeys', VKEY]);
    expect(r.err).toMatch(/^anchorlog checkpoint: unknown option --vkeys \(did you mean --vkey\?\)/);
  });

  it('a secret is never echoed, from a flag or from the environment', async () => {
    const flagged = await cli(['principals', 'list', '--api', API, '--key', 'sk-live-supersecret']);
    expect(flagged.code).toBe(2);
    expect(flagged.err).not.toContain('supersecret');
    vi.stubEnv('ANCHORLOG_API_KEY', 'sk-live-envsecret');
    const env = await cli(['principals', 'list', '--api', API, '--json']);
    vi.stubEnv('ANCHORLOG_API_KEY', undefined);
    expect(env.code).toBe(2);
    expect(JSON.parse(env.out).error.message).toContain('ANCHORLOG_API_KEY');
    expect(env.out + env.err).not.toContain('envsecret');
  });
});

describe('the dispatcher', () => {
  it('`anchorlog --help` and `anchorlog help` list every command and the common flags', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const row of ROWS) expect(r.out).toContain(`anchorlog ${row.path} `);
    expect(r.out).toContain('--json');
    expect(r.out).toContain('anchorlog help <command>');
    expect(await cli(['help'])).toEqual(r);
  });

  it('an unknown command exits 2, as JSON with --json', async () => {
    const r = await cli(['frobnicate', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_COMMAND' } });
    expect((await cli(['help', 'frobnicate'])).code).toBe(2);
    const sub = await cli(['principals', 'frobnicate', '--json']);
    expect(sub.code).toBe(2);
    expect(JSON.parse(sub.out)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_COMMAND' } });
  });
});

describe('garbage argv never throws and never prints a stack trace', () => {
  const words = [
    ...new Set(ROWS.flatMap((r) => [...r.flags, ...r.ok, ...r.bad[0]])),
    '--help',
    '--json',
    '-h',
    '-o',
    '--',
    '-',
    '--=',
    '---',
    '-xyz',
    '--log=',
    '--index=1e9',
    '--size=-0',
    '\u001b[2J',
    '\u202e',
    '💥',
    '',
    ' ',
    '%s',
    '__proto__',
    '--__proto__',
    '--constructor=x',
    'toString',
  ];
  const command = fc.constantFrom(
    ...ROWS.map((r) => r.path.split(' ')),
    ['help'],
    ['timestamp'],
    ['principals'],
    ['rules'],
    ['alerts'],
    ['access-reviews'],
    ['logs'],
    ['signing-keys'],
  );
  const argv = fc.array(fc.oneof(fc.constantFrom(...words), fc.string({ maxLength: 8 })), { maxLength: 8 });

  it('exit codes stay in the table (0 help, 1 refused by the unreachable API, 2 usage)', async () => {
    await fc.assert(
      fc.asyncProperty(command, argv, async (cmd, rest) => {
        const r = await cli([...cmd, ...rest]);
        expect([0, 1, 2]).toContain(r.code);
        expect(r.out + r.err).not.toMatch(STACK);
        if (rest.includes('--json') && !rest.includes('--') && r.code !== 0) JSON.parse(r.out);
      }),
      { numRuns: 300 },
    );
  });
});

describe.skipIf(skipChildProcesses)('the installed command as a process', () => {
  it('a usage error with --json: exit status 2, one JSON document on stdout, no stack trace', () => {
    const bin = fileURLToPath(new URL('../../bin/anchorlog.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [bin, 'prove', '--log', 'prod', '--index', '1e3', '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ANCHORLOG_API_URL: API, ANCHORLOG_API_KEY: READ_KEY },
    });
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'BAD_VALUE' } });
    expect(r.stderr).toMatch(/^anchorlog prove: --index '1e3' must be a non-negative decimal integer/);
    expect(r.stderr).not.toMatch(STACK);
  });
});
