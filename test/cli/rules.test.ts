/**
 * `anchorlog rules …` through the real dispatcher. `validate` offline, on
 * good and hostile files (never a crash, always the file, the pointer and
 * the position); the API commands against a real HTTP server running the
 * real admin routes over RuleService on in-memory adapters, so `diff`,
 * `apply` (and `--dry-run`), `enable`, `disable`, `list`, `show` and
 * `history` are checked by what the server ends up holding and what the
 * `system` log records.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runMain } from '../../src/cli/main.ts';
import { rulesCommands } from '../../src/cli/rules.ts';
import { issueApiKey } from '../../src/core/principal.ts';
import { createRouter } from '../../src/http/router.ts';
import { ruleRoutes } from '../../src/http/routes/rules.ts';
import { type LocalHttpServer, startHttpServer } from '../../src/local/http-server.ts';
import { ADMIN, type RulesEnv, ruleInput, rulesEnv } from '../app/rules-support.ts';
import { captureIo } from './support.ts';

const STACK = /^\s+at .+[(:]\d+/m;
let dir: string;
let server: LocalHttpServer;
let env: RulesEnv;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anchorlog-rules-cli-'));
  server = await startHttpServer(
    (req) => createRouter(ruleRoutes({ rules: env.rules }), { authenticate: async () => ADMIN })(req),
    { host: '127.0.0.1', port: 0, maxBodyBytes: 1024 * 1024 },
  );
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  env = rulesEnv();
});

/** Writes `files` (name → text) into a fresh directory under the test's temp dir. */
let dirs = 0;
function repo(files: Record<string, string>): string {
  const d = join(dir, `repo-${++dirs}`);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), text);
  }
  return d;
}

async function cli(argv: readonly string[], opts: { fetch?: typeof fetch } = {}) {
  const io = captureIo();
  const commands = rulesCommands(() => ({ env: {}, ...(opts.fetch ? { fetch: opts.fetch } : {}) }));
  const code = await runMain([...argv], io, commands);
  return { code, out: io.out(), err: io.err() };
}

const ADMIN_KEY = issueApiKey('admin-1', (n) => new Uint8Array(randomBytes(n))).apiKey;
const api = () => ['--api', server.url, '--key', ADMIN_KEY];
const asJson = (r: { out: string }) => JSON.parse(r.out) as Record<string, unknown>;
const yamlOf = (o: Record<string, unknown>) => stringify(o);

describe('rules validate (offline)', () => {
  it('accepts a directory of YAML and JSON rules, and one file', async () => {
    const d = repo({
      'export.yaml': yamlOf(ruleInput('ai.data-export.volume')),
      'nested/tools.json': JSON.stringify(ruleInput('ai.tool.first-use', 3)),
      'nested/.hidden.json': 'not even json',
      'README.md': '# not a rule',
    });
    const r = await cli(['rules', 'validate', d]);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toContain('ai.data-export.volume v1 (threshold)');
    expect(r.out).toContain('ai.tool.first-use v3 (threshold)');
    expect(r.out).toContain('2 rule file(s) valid');
    const j = await cli(['rules', 'validate', join(d, 'export.yaml'), '--json']);
    expect(asJson(j)).toEqual({
      ok: true,
      files: [
        {
          file: join(d, 'export.yaml'),
          ok: true,
          rule: { id: 'ai.data-export.volume', version: 1, kind: 'threshold' },
        },
      ],
    });
  });

  it('reports every bad file with the field and the position, exit 1', async () => {
    const d = repo({
      'a-syntax.yaml': yamlOf(ruleInput('a', 1, { match: "event.action == 'x' &&\n  evnt.id == 'y'" })),
      'b-typo.json': JSON.stringify({ ...ruleInput('b'), treshold: {} }),
      'c-good.json': JSON.stringify(ruleInput('c')),
      'd-dupe.json': JSON.stringify(ruleInput('c', 2)),
    });
    const r = await cli(['rules', 'validate', d]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(d, 'a-syntax.yaml')} /match 2:3: UNKNOWN_VARIABLE: `);
    expect(r.err).toContain(`${join(d, 'b-typo.json')} /treshold: UNKNOWN_FIELD: `);
    expect(r.err).toContain(`${join(d, 'd-dupe.json')} /id: DUPLICATE_RULE_ID: rule c is also defined in`);
    // Both files that define rule c are reported.
    expect(r.err).toContain(`${join(d, 'c-good.json')} /id: DUPLICATE_RULE_ID: rule c is also defined in`);
    expect(r.out).toContain('4 of 4 rule file(s) invalid');
    const j = asJson(await cli(['rules', 'validate', d, '--json']));
    expect(j.ok).toBe(false);
    expect((j.files as { error?: unknown }[])[0]?.error).toEqual({
      code: 'UNKNOWN_VARIABLE',
      path: '/match',
      position: { offset: 25, line: 2, column: 3 },
      message: expect.stringContaining('unknown name "evnt"'),
    });
  });

  const hostile: Record<string, string | Uint8Array> = {
    'yaml-duplicate-key.yaml': 'id: a\nid: b\n',
    'yaml-alias-bomb.yaml': `a: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`).join('\n')}\n`,
    'yaml-two-documents.yaml': `${yamlOf(ruleInput('x'))}---\n${yamlOf(ruleInput('y'))}`,
    'yaml-deep.yaml': `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
    'yaml-tags.yaml': '!!binary aGVsbG8=\n',
    'yaml-not-utf8.yaml': new Uint8Array([0x69, 0x64, 0x3a, 0x20, 0xff, 0xfe]),
    'yaml-scalar.yaml': 'just a string\n',
    'yaml-infinite-threshold.yaml': yamlOf(ruleInput('inf')).replace('5000000000', '.inf'),
    'yaml-empty.yaml': '',
    'json-duplicate-key.json': '{"id":"a","id":"b"}',
    'json-lone-surrogate.json': JSON.stringify(ruleInput('s', 1, { title: 'x' })).replace('"x"', '"\\ud800"'),
    'json-deep.json': `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
    'json-huge.json': `{"title":"${'x'.repeat(70_000)}"}`,
    'json-binary.json': new Uint8Array(Array.from({ length: 300 }, (_, i) => (i * 37) % 256)),
    'json-proto.json': '{"__proto__":{"kind":"match"},"id":"p"}',
    'cel-deep.json': JSON.stringify(ruleInput('d', 1, { match: `${'('.repeat(500)}true${')'.repeat(500)}` })),
    'cel-long.json': JSON.stringify(ruleInput('l', 1, { match: `event.action == '${'a'.repeat(3000)}'` })),
    'cel-unknown-function.json': JSON.stringify(ruleInput('f', 1, { match: 'exec(event.action)' })),
    'cel-runaway.json': JSON.stringify(
      ruleInput('r', 1, { match: '[1,2,3].all(x, [1,2,3].all(y, [1,2,3].all(z, true)))' }),
    ),
    'cel-escape.json': JSON.stringify(
      ruleInput('e', 1, { match: "event.action == '\u001b[2J\u202e'\n&& ]" }),
    ),
  };

  it.each(Object.keys(hostile))('a hostile file (%s) is refused with a code, never a crash', async (name) => {
    const d = repo({});
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, name), hostile[name] as string | Uint8Array);
    const r = await cli(['rules', 'validate', join(d, name)]);
    expect(r.code).toBe(1);
    expect(r.out + r.err).not.toMatch(STACK);
    expect(r.err).not.toContain('INTERNAL');
    expect(r.err).toMatch(
      new RegExp(`^${join(d, name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\S+)*: [A-Z_]+: `),
    );
    // Whatever the file held, nothing unprintable reaches the terminal.
    expect(['\u001b', '\u202e'].filter((c) => r.err.includes(c))).toEqual([]);
    const j = await cli(['rules', 'validate', join(d, name), '--json']);
    expect(asJson(j)).toMatchObject({
      ok: false,
      files: [{ ok: false, error: { code: expect.any(String) } }],
    });
  });

  it('usage: a path that does not exist, or a directory without rules, exits 2', async () => {
    expect((await cli(['rules', 'validate', join(dir, 'missing')])).code).toBe(2);
    const empty = repo({ 'notes.txt': 'x' });
    const r = await cli(['rules', 'validate', empty, '--json']);
    expect(r.code).toBe(2);
    expect(asJson(r)).toMatchObject({ ok: false, error: { code: 'BAD_FILE' } });
  });
});

describe('rules diff / apply against the admin API', () => {
  it('create, dry run, apply, change a file, diff field by field, apply again, re-apply is a no-op', async () => {
    const d = repo({
      'export.yaml': yamlOf(ruleInput('ai.export')),
      'tools.json': JSON.stringify(ruleInput('ai.tools')),
    });
    const diff = await cli(['rules', 'diff', '-f', d, ...api()]);
    expect(diff.code).toBe(0);
    expect(diff.out).toContain('+ create ai.export (version 1)');
    expect(diff.out).toContain('+ create ai.tools (version 1)');
    expect((await cli(['rules', 'diff', '-f', d, '--exit-code', ...api()])).code).toBe(1);

    const dry = await cli(['rules', 'apply', '-f', d, '--dry-run', ...api()]);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('dry run: nothing was written');
    expect(await env.rules.committedRules()).toEqual([]);

    const applied = await cli(['rules', 'apply', '-f', d, ...api()]);
    expect([applied.code, applied.err]).toEqual([0, '']);
    expect(applied.out).toContain('created ai.export (version 1)');
    expect(env.sink.events.map((e) => [e.id, e.action])).toEqual([
      ['rule/ai.export/v1', 'rule.create'],
      ['rule/ai.tools/v1', 'rule.create'],
    ]);

    // The file's version number is not what counts: the server's + 1 is written.
    writeFileSync(
      join(d, 'export.yaml'),
      yamlOf(ruleInput('ai.export', 1, { severity: 'critical', description: 'now paged' })),
    );
    const changed = await cli(['rules', 'diff', '-f', d, '--json', ...api()]);
    expect(asJson(changed)).toMatchObject({
      ok: true,
      differs: true,
      rules: [
        {
          id: 'ai.export',
          action: 'update',
          from: 1,
          to: 2,
          changes: [
            { op: '+', path: '/description', to: 'now paged' },
            { op: '~', path: '/severity', from: 'high', to: 'critical' },
          ],
        },
        { id: 'ai.tools', action: 'unchanged', from: 1, changes: [] },
      ],
    });
    const text = await cli(['rules', 'diff', '-f', d, ...api()]);
    expect(text.out).toContain('~ update ai.export (version 1 → 2)');
    expect(text.out).toContain('    ~ /severity: "high" → "critical"');
    expect(text.out).toContain('= ai.tools unchanged (version 1)');

    const second = await cli(['rules', 'apply', '-f', d, '--json', ...api()]);
    expect(second.code).toBe(0);
    expect(asJson(second)).toMatchObject({
      ok: true,
      dryRun: false,
      rules: [
        { id: 'ai.export', action: 'update', applied: true, version: 2, change: { action: 'rule.update' } },
        { id: 'ai.tools', action: 'unchanged', applied: false },
      ],
    });
    expect(env.sink.events.at(-1)).toMatchObject({
      id: 'rule/ai.export/v2',
      changes: { before: { severity: 'high' }, after: { severity: 'critical', version: 2 } },
    });
    const again = await cli(['rules', 'apply', '-f', d, ...api()]);
    expect(again.out).toContain('0 to create, 0 to update, 2 unchanged');
    expect(env.sink.events).toHaveLength(3);
    expect((await cli(['rules', 'diff', '-f', d, '--exit-code', ...api()])).code).toBe(0);
  });

  it('the starter pack in rules/ validates and applies as it is', async () => {
    const pack = new URL('../../rules/', import.meta.url).pathname;
    const valid = await cli(['rules', 'validate', pack, '--json']);
    expect(valid.code).toBe(0);
    const files = (asJson(valid).files as unknown[]).length;
    expect(files).toBeGreaterThanOrEqual(10);
    const applied = await cli(['rules', 'apply', '-f', pack, '--json', ...api()]);
    expect([applied.code, applied.err]).toEqual([0, '']);
    expect(env.sink.events.filter((e) => e.action === 'rule.create')).toHaveLength(files);
    expect((await cli(['rules', 'diff', '-f', pack, '--exit-code', ...api()])).code).toBe(0);
  });

  it('an invalid file stops everything before any request', async () => {
    const d = repo({
      'good.json': JSON.stringify(ruleInput('good')),
      'bad.json': JSON.stringify(ruleInput('bad', 1, { match: 'event.action ==' })),
    });
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    for (const cmd of ['apply', 'diff']) {
      const r = await cli(['rules', cmd, '-f', d, ...api()], { fetch: counting });
      expect(r.code).toBe(1);
      expect(r.err).toContain('bad.json /match 1:');
      expect(r.err).toContain('nothing was sent');
      const j = await cli(['rules', cmd, '-f', d, '--json', ...api()], { fetch: counting });
      expect(asJson(j)).toMatchObject({ ok: false, error: { code: 'INVALID_RULE_FILES' } });
    }
    expect(requests).toBe(0);
  });

  it('a change made on the server between the diff and the write is refused (409), never overwritten', async () => {
    await env.rules.put(ADMIN, 'raced', ruleInput('raced'));
    const d = repo({ 'raced.json': JSON.stringify(ruleInput('raced', 1, { title: 'from the repository' })) });
    // Someone disables the rule right after apply read it.
    const racing: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if ((init?.method ?? 'GET') === 'GET') await env.rules.setEnabled(ADMIN, 'raced', false);
      return res;
    };
    const r = await cli(['rules', 'apply', '-f', d, ...api()], { fetch: racing });
    expect(r.code).toBe(1);
    expect(r.err).toContain('raced: CONFLICT: ');
    expect((await env.rules.get(ADMIN, 'raced')).rule).toMatchObject({
      version: 2,
      enabled: false,
      title: ruleInput('raced').title,
    });
  });
});

describe('rules list / show / history / enable / disable', () => {
  it('text and JSON views of what the server holds', async () => {
    await env.rules.put(ADMIN, 'ai.b', ruleInput('ai.b'));
    await env.rules.put(ADMIN, 'ai.a', ruleInput('ai.a', 1, { title: 'A \u202ereversed\u202c title' }));
    const list = await cli(['rules', 'list', ...api()]);
    expect(list.code).toBe(0);
    expect(list.out.split('\n')[0]).toBe('ID\tVERSION\tSTATE\tSEVERITY\tKIND\tTITLE');
    expect(list.out).toContain('ai.a\tv1\tenabled\thigh\tthreshold\tA \\u202ereversed\\u202c title');
    expect(list.out).not.toContain('\u202e');
    expect(asJson(await cli(['rules', 'list', '--limit', '1', '--json', ...api()]))).toMatchObject({
      rules: [{ rule: { id: 'ai.a' } }],
      cursor: expect.any(String),
    });

    const disabled = await cli(['rules', 'disable', 'ai.b', ...api()]);
    expect(disabled.out).toBe('disabled rule ai.b (version 2, recorded as rule.disable)\n');
    const twice = await cli(['rules', 'disable', 'ai.b', ...api()]);
    expect(twice.out).toBe('rule ai.b is already disabled (version 2); nothing changed\n');
    const stale = await cli(['rules', 'enable', 'ai.b', '--if-version', '1', ...api()]);
    expect([stale.code, stale.err]).toEqual([1, expect.stringContaining('error: CONFLICT: ')]);
    expect((await cli(['rules', 'enable', 'ai.b', '--if-version', '2', '--json', ...api()])).code).toBe(0);

    const show = await cli(['rules', 'show', 'ai.b', ...api()]);
    expect(show.out).toMatch(
      /^# rule\.enable by admin-1 at \S+; system log event rule\/ai\.b\/v3 \(batch \d+, index \d+\)\n\{/,
    );
    expect(JSON.parse(show.out.split('\n').slice(1).join('\n'))).toMatchObject({
      id: 'ai.b',
      version: 3,
      enabled: true,
    });
    const v1 = asJson(await cli(['rules', 'show', 'ai.b', '--version', '1', '--json', ...api()]));
    expect(v1).toMatchObject({ rule: { version: 1 }, change: { action: 'rule.create' } });

    const history = await cli(['rules', 'history', 'ai.b', ...api()]);
    expect(
      history.out
        .split('\n')
        .slice(1, 4)
        .map((l) => l.split('\t').slice(0, 3)),
    ).toEqual([
      ['v3', 'rule.enable', 'admin-1'],
      ['v2', 'rule.disable', 'admin-1'],
      ['v1', 'rule.create', 'admin-1'],
    ]);

    const missing = await cli(['rules', 'show', 'nope', '--json', ...api()]);
    expect([missing.code, asJson(missing)]).toEqual([
      1,
      { ok: false, error: { code: 'NOT_FOUND', message: 'no rule "nope"' } },
    ]);
  });
});
