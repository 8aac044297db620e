/**
 * `anchorlog roles …` against a real HTTP server running the admin routes on
 * the in-memory admin path (../app/roles-support.ts): the roles file is
 * checked offline first (nothing sent for a bad file), `apply` shows the
 * diff, writes nothing with --dry-run, writes each changed role once with
 * If-Match (a concurrent change is refused, never overwritten), and `drift`
 * exits 1 while any principal's permissions differ from its roles'.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { apiKeyFromHeaders } from '../../src/app/principals.ts';
import { runMain } from '../../src/cli/main.ts';
import { parseRolesFile, rolesCommands } from '../../src/cli/roles.ts';
import { adminApi } from '../../src/compose/principals.ts';
import { createRouter } from '../../src/http/router.ts';
import { type LocalHttpServer, startHttpServer } from '../../src/local/http-server.ts';
import { type RolesEnv, rolesEnv } from '../app/roles-support.ts';
import { captureIo } from './support.ts';

const STACK = /^\s+at .+[(:]\d+/m;
let server: LocalHttpServer;
let env: RolesEnv;

beforeAll(async () => {
  server = await startHttpServer(
    (req) =>
      createRouter(
        adminApi({
          principals: env.access,
          logAdmin: env.logAdmin,
          rules: undefined as never,
          alerts: undefined as never,
          roles: env.roles,
        }),
        { authenticate: (r) => env.access.authenticate(apiKeyFromHeaders(r.headers)) },
      )(req),
    { host: '127.0.0.1', port: 0, maxBodyBytes: 1024 * 1024 },
  );
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  env = await rolesEnv();
});

const enc = (s: string) => new TextEncoder().encode(s);

async function cli(argv: readonly string[], files: Record<string, string> = {}) {
  const io = captureIo(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, enc(v)])));
  const code = await runMain(
    [...argv],
    io,
    rolesCommands(() => ({ env: {} })),
  );
  expect(io.err()).not.toMatch(STACK);
  return { code, out: io.out(), err: io.err() };
}
const api = () => ['--api', server.url, '--key', env.adminKey];

const FILE = {
  roles: [
    {
      id: 'tenant-writer',
      description: 'writes tenant audit events',
      purpose: 'platform ingest',
      scopes: { 'tenant-*': ['events:write'] },
    },
    {
      id: 'auditor',
      description: 'reads and exports',
      purpose: 'external audit',
      scopes: { '*': ['events:read', 'export'] },
    },
  ],
};

const roleRecords = async () => (await env.records()).filter((r) => r.event.target?.type === 'role');

describe('roles apply', () => {
  it('--dry-run shows the plan and writes nothing; apply creates; again: unchanged; a change is a diff and one update', async () => {
    const files = { 'roles.yaml': stringify(FILE) };
    const dry = await cli(['roles', 'apply', 'roles.yaml', '--dry-run', ...api()], files);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('+ create auditor (version 1)');
    expect(dry.out).toContain('+ create tenant-writer (version 1)');
    expect(dry.out).toContain('dry run: nothing was written');
    expect(await roleRecords()).toEqual([]);

    const applied = await cli(['roles', 'apply', 'roles.yaml', ...api()], files);
    expect([applied.code, applied.err]).toEqual([0, '']);
    expect(applied.out).toContain('created tenant-writer (version 1)');
    expect((await roleRecords()).map((r) => r.event.id)).toEqual([
      'role/auditor/v1',
      'role/tenant-writer/v1',
    ]);

    const again = await cli(['roles', 'apply', 'roles.yaml', ...api()], files);
    expect(again.out).toContain('0 to create, 0 to update, 2 unchanged');
    expect(await roleRecords()).toHaveLength(2);

    const changed = structuredClone(FILE);
    (changed.roles[0] as unknown as { scopes: Record<string, string[]> }).scopes = {
      'tenant-*': ['events:write', 'events:read'],
    };
    const upd = await cli(['roles', 'apply', 'roles.json', '--json', ...api()], {
      'roles.json': JSON.stringify(changed),
    });
    expect(upd.code).toBe(0);
    const body = JSON.parse(upd.out) as {
      ok: boolean;
      roles: { id: string; action: string; changes: unknown[] }[];
    };
    expect(body.ok).toBe(true);
    expect(body.roles.find((r) => r.id === 'tenant-writer')).toMatchObject({
      action: 'update',
      changes: [
        { op: '~', path: '/scopes/tenant-*', from: ['events:write'], to: ['events:write', 'events:read'] },
      ],
    });
    expect((await roleRecords()).map((r) => r.event.action)).toEqual([
      'role.create',
      'role.create',
      'role.update',
    ]);
  });

  it('roles the server has and the file does not are listed and left alone', async () => {
    await env.roles.put(env.admin, 'legacy-role', { description: 'd', purpose: 'p', scopes: {} });
    const r = await cli(['roles', 'apply', 'roles.yaml', ...api()], { 'roles.yaml': stringify(FILE) });
    expect(r.out).toContain('? legacy-role is not in the file (left alone)');
    expect((await env.roles.get(env.admin, 'legacy-role')).role.version).toBe(1);
  });

  it.each([
    ['not YAML', 'roles: [', 'INVALID_ROLES_FILE'],
    ['no roles key', stringify({ role: [] }), 'INVALID_ROLES_FILE'],
    [
      'a bad scope',
      stringify({ roles: [{ ...FILE.roles[0], scopes: { x: ['write'] } }] }),
      'INVALID_ROLE_INPUT',
    ],
    [
      'a duplicate',
      stringify({ roles: [FILE.roles[0], structuredClone(FILE.roles[0])] }),
      'DUPLICATE_ROLE_ID',
    ],
    ['an alias', 'a: &x {description: d}\nroles: [*x]\n', 'INVALID_ROLES_FILE'],
    ['duplicate keys', 'roles: []\nroles: []\n', 'INVALID_ROLES_FILE'],
  ])('a file with %s is refused offline (exit 1, nothing sent)', async (_what, text, code) => {
    const r = await cli(['roles', 'apply', 'roles.yaml', ...api()], { 'roles.yaml': text });
    expect(r.code).toBe(1);
    expect(r.err).toContain(code);
    expect(r.err).toContain('nothing was sent');
    expect(await roleRecords()).toEqual([]);
  });

  it('a change made between the diff and the write is refused (409), not overwritten', async () => {
    await cli(['roles', 'apply', 'roles.yaml', ...api()], { 'roles.yaml': stringify(FILE) });
    const changed = structuredClone(FILE);
    (changed.roles[1] as { purpose: string }).purpose = 'quarterly audit';
    // Someone changes the role on the server after our GET: intercept the PUT's moment.
    let raced = false;
    const io = captureIo({ 'roles.yaml': enc(stringify(changed)) });
    const code = await runMain(
      ['roles', 'apply', 'roles.yaml', ...api()],
      io,
      rolesCommands(() => ({
        env: {},
        fetch: async (input, init) => {
          if (init?.method === 'PUT' && !raced) {
            raced = true;
            await env.roles.put(env.admin, 'auditor', {
              description: 'reads and exports',
              purpose: 'someone else',
              scopes: { '*': ['events:read', 'export'] },
            });
          }
          return fetch(input, init);
        },
      })),
    );
    expect(code).toBe(1);
    expect(io.err(), io.err()).toContain('auditor: CONFLICT');
    expect((await env.roles.get(env.admin, 'auditor')).role.purpose).toBe('someone else');
  });
});

describe('roles list, show, history, drift', () => {
  it('list, show and history print the roles; drift exits 1 while a principal drifts', async () => {
    await cli(['roles', 'apply', 'roles.yaml', ...api()], { 'roles.yaml': stringify(FILE) });
    const list = await cli(['roles', 'list', ...api()]);
    expect(list.out).toMatch(/tenant-writer\tv1\ttenant-\*:events:write\tplatform ingest/);
    const show = await cli(['roles', 'show', 'auditor', ...api()]);
    expect(show.out).toContain('role.create by ops-admin');
    const hist = await cli(['roles', 'history', 'auditor', '--json', ...api()]);
    expect((JSON.parse(hist.out) as { versions: unknown[] }).versions).toHaveLength(1);
    await env.access.create(env.admin, {
      id: 'agent-x',
      name: 'x',
      kind: 'agent',
      owner: 'ops-admin',
      purpose: 'p',
      roles: ['tenant-writer'],
      scopes: { billing: ['export'] },
    });
    const drift = await cli(['roles', 'drift', ...api()]);
    expect(drift.code).toBe(1);
    expect(drift.out).toMatch(/agent-x\tagent\tdirect-grants\ttenant-writer\tbilling:export\t-/);
    expect(drift.out).toContain('2 of 2 active principal(s) drift from their roles');
    const json = JSON.parse((await cli(['roles', 'drift', '--json', ...api()])).out) as {
      findings: unknown[];
    };
    expect(json.findings).toHaveLength(2);
  });
});

describe('parseRolesFile', () => {
  it('never throws, whatever the bytes', async () => {
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom('r.yaml', 'r.json'), (b, name) => {
        const r = parseRolesFile(b, name);
        expect(typeof r.ok).toBe('boolean');
      }),
    );
    expect(parseRolesFile(new Uint8Array(1024 * 1024 + 1), 'r.yaml')).toMatchObject({
      ok: false,
      problem: { code: 'INVALID_ROLES_FILE' },
    });
  });
});
