/**
 * `anchorlog roles list|show|history|apply|drift` (docs/access.md "Roles").
 *
 * Talks to the admin API (`--api`/`--key`, else ANCHORLOG_API_URL /
 * ANCHORLOG_API_KEY):
 *   GET /v1/admin/roles?limit&cursor              → { roles: [{ role, change, pending? }], cursor? }
 *   GET /v1/admin/roles/{id}[?version=N]          → { role, change, pending? }
 *   GET /v1/admin/roles/{id}/history?limit&cursor → { versions, cursor? }
 *   PUT /v1/admin/roles/{id}  If-Match / If-None-Match: * → { role, change, changed, created }
 *   GET /v1/admin/drift                           → { findings, unboundRoles, principals }
 *
 * `apply -f roles.yaml` reads the roles file a platform team keeps in its
 * repository (`roles: [{ id, description, purpose, scopes }]`, YAML or
 * JSON), checks it offline with the same rules the server applies, shows how
 * it differs from the roles in effect, and (without --dry-run) writes each
 * role that differs with If-Match on the version it compared against, so a
 * change made by someone else in between is refused (409), never overwritten.
 * Roles the server has and the file does not are listed, never deleted.
 */
import { extname } from 'node:path';
import { type Document, parseAllDocuments } from 'yaml';
import { bytesEqual } from '../core/bytes.ts';
import { canonicalBytes } from '../core/canonical.ts';
import { parseJson } from '../core/ijson.ts';
import {
  type DriftFinding,
  isDrift,
  RoleError,
  type RoleInput,
  validateRoleId,
  validateRoleInput,
} from '../core/role.ts';
import { type Args, type CommandSpec, defineCommand, flag, type OptionSpecs, option } from './args.ts';
import { type FailureView, runCommand } from './command.ts';
import type { Command } from './dispatch.ts';
import { CheckError } from './errors.ts';
import { type CliEnv, type CliIo, EXIT_INVALID, EXIT_OK } from './io.ts';
import { printable, printableJson } from './printable.ts';
import { adminApiKey, httpUrl, inputFile, named, roleId, text, wholeNumberIn } from './values.ts';

export interface RolesDeps {
  readonly env?: CliEnv;
  /** Injected for tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

const ADMIN_API = {
  api: option(httpUrl, 'admin API base URL', { required: true, env: 'ANCHORLOG_API_URL' }),
  key: option(adminApiKey, 'API key of a principal with the admin scope on *', {
    required: true,
    env: 'ANCHORLOG_API_KEY',
    secret: true,
  }),
};

const ID = { name: 'ID', type: named(roleId, 'ID'), description: 'the role id' };
const API_EXIT = 'exit status: 0 ok, 1 the API refused or could not be reached, 2 usage error';
const BASE = '/v1/admin/roles';
/** A roles file is a few hundred roles at most; anything larger is refused before parsing. */
export const MAX_ROLES_FILE_BYTES = 1024 * 1024;
const MAX_ROLES_PER_FILE = 1000;

// ---------------------------------------------------------------------------
// Declarations

const PAGE = {
  limit: option(wholeNumberIn(1, 100), 'at most N per page (1 to 100)'),
  cursor: option(text('CURSOR'), 'the next page, as the previous one printed it'),
};

const LIST = defineCommand({
  path: ['roles', 'list'],
  summary: 'list roles (the versions in effect)',
  description:
    'Lists the roles in effect, in id order, a page at a time: version, scopes and purpose;\na change still being recorded is marked "pending".',
  options: { ...PAGE, ...ADMIN_API },
  json: "the API's response: { roles: [{ role, change, pending? }], cursor? }",
  examples: [{ title: 'every role, for an access review', command: 'anchorlog roles list --limit 100' }],
  exitStatus: API_EXIT,
});

const SHOW = defineCommand({
  path: ['roles', 'show'],
  summary: 'show one role (or one of its earlier versions)',
  description:
    'Shows the version of a role in effect, or an earlier one with --version: who made it,\nwhen, where the system log records it, and the whole role.',
  argument: ID,
  options: { version: option(wholeNumberIn(1, 2 ** 31 - 1), 'an earlier version'), ...ADMIN_API },
  json: "the API's response: { role, change, pending? }",
  examples: [{ title: 'the role in effect', command: 'anchorlog roles show tenant-writer' }],
  exitStatus: API_EXIT,
});

const HISTORY = defineCommand({
  path: ['roles', 'history'],
  summary: "list a role's versions, newest first",
  description:
    'Lists every version of a role, newest first: role.create or role.update, who, when, and\nthe scopes it granted.',
  argument: ID,
  options: { ...PAGE, ...ADMIN_API },
  json: "the API's response: { versions: [{ role, change }], cursor? }",
  examples: [{ title: 'who widened the role, and when', command: 'anchorlog roles history tenant-writer' }],
  exitStatus: API_EXIT,
});

const APPLY = defineCommand({
  path: ['roles', 'apply'],
  summary: 'create and update roles from a roles file (shows the diff first)',
  description: `Checks a roles file (YAML or JSON: roles: [{ id, description, purpose, scopes }]),
shows how it differs from the roles in effect, then creates the new roles and updates the
changed ones with If-Match, so a change someone made in between is refused (409), never
overwritten. Each change is recorded in the system log with the role before and after. Roles
the server has and the file does not are listed and left alone. With --dry-run only the diff
is shown.`,
  argument: { name: 'FILE', type: inputFile('FILE'), description: 'the roles file (.yaml, .yml or .json)' },
  options: { 'dry-run': flag('show what would change, write nothing'), ...ADMIN_API },
  json: '{ ok, dryRun, roles: [{ id, action, from?, to?, changes, applied?, error? }], notInFile }',
  examples: [
    { title: 'review, then apply', command: 'anchorlog roles apply roles.yaml --dry-run' },
    { title: 'apply', command: 'anchorlog roles apply roles.yaml' },
  ],
  exitStatus:
    'exit status: 0 applied (or nothing to do), 1 the file is invalid or a write was refused, 2 usage error',
});

const DRIFT = defineCommand({
  path: ['roles', 'drift'],
  summary: 'report principals whose permissions differ from what their roles grant',
  description: `Lists every active principal whose effective permissions differ from what its roles
grant: direct scopes beyond its roles (direct-grants), or a role that does not exist or that the
system log does not back (missing-role). Direct scopes that roles already grant are listed as
redundant-direct (no effect on access; remove them). Role versions the system log does not back
are listed too: they grant nothing until fixed.`,
  options: { ...ADMIN_API },
  json: "the API's response: { findings: [{ principalId, reasons, roles, directScopes, beyondRoles, missingRoles }], unboundRoles, principals }",
  examples: [{ title: 'in CI, fail when anyone drifts', command: 'anchorlog roles drift' }],
  exitStatus: 'exit status: 0 no drift, 1 drift found (or the API failed), 2 usage error',
});

// ---------------------------------------------------------------------------
// The roles file

export interface RolesFileProblem {
  readonly code: 'INVALID_ROLES_FILE' | 'INVALID_ROLE_INPUT' | 'DUPLICATE_ROLE_ID';
  readonly message: string;
  readonly path?: string;
}

export type RolesFile =
  | { readonly ok: true; readonly roles: ReadonlyArray<RoleInput & { id: string }> }
  | { readonly ok: false; readonly problem: RolesFileProblem };

/**
 * Parses and checks a roles file. The input is untrusted: size bounded
 * first, JSON through the strict I-JSON parser, YAML with duplicate keys
 * refused, no aliases and one document; every entry checked by the role
 * rules the server applies. Never throws.
 */
export function parseRolesFile(bytes: Uint8Array, name: string): RolesFile {
  const fail = (code: RolesFileProblem['code'], message: string, path?: string): RolesFile => ({
    ok: false,
    problem: { code, message, ...(path !== undefined ? { path } : {}) },
  });
  if (bytes.length > MAX_ROLES_FILE_BYTES)
    return fail('INVALID_ROLES_FILE', `the file is ${bytes.length} bytes; at most ${MAX_ROLES_FILE_BYTES}`);
  let value: unknown;
  try {
    value = extname(name).toLowerCase() === '.json' ? parseJson(bytes) : yamlValue(bytes);
  } catch (err) {
    return fail('INVALID_ROLES_FILE', err instanceof Error ? err.message : String(err));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return fail('INVALID_ROLES_FILE', 'the file must hold an object { roles: [ … ] }', '');
  for (const k of Object.keys(value))
    if (k !== 'roles') return fail('INVALID_ROLES_FILE', 'unknown field', `/${k}`);
  const list = (value as { roles?: unknown }).roles;
  if (!Array.isArray(list)) return fail('INVALID_ROLES_FILE', 'must be an array of roles', '/roles');
  if (list.length > MAX_ROLES_PER_FILE)
    return fail('INVALID_ROLES_FILE', `at most ${MAX_ROLES_PER_FILE} roles`, '/roles');
  const roles: Array<RoleInput & { id: string }> = [];
  const seen = new Set<string>();
  for (const [i, entry] of list.entries()) {
    try {
      const id = validateRoleId((entry as { id?: unknown } | null)?.id, `/roles/${i}/id`);
      const input = validateRoleInput(entry, `/roles/${i}`, true);
      if (seen.has(id)) return fail('DUPLICATE_ROLE_ID', `role ${id} is declared twice`, `/roles/${i}/id`);
      seen.add(id);
      roles.push({ id, ...input });
    } catch (err) {
      if (err instanceof RoleError) return fail('INVALID_ROLE_INPUT', err.message, err.path);
      return fail('INVALID_ROLE_INPUT', String(err), `/roles/${i}`);
    }
  }
  return { ok: true, roles: roles.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
}

function yamlValue(bytes: Uint8Array): unknown {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  const docs = parseAllDocuments(text, { uniqueKeys: true, strict: true, prettyErrors: false }) as
    | Document.Parsed[]
    | unknown;
  if (!Array.isArray(docs) || docs.length !== 1)
    throw new Error('the file must hold exactly one YAML document');
  const doc = docs[0] as Document.Parsed;
  const err = doc.errors[0];
  if (err) throw new Error(err.message.split('\n')[0] ?? 'invalid YAML');
  // maxAliasCount 0: no aliases at all, so nothing expands beyond the file's size.
  return doc.toJS({ maxAliasCount: 0 });
}

// ---------------------------------------------------------------------------
// The admin API

interface ApiCall {
  method: 'GET' | 'PUT';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Api {
  call(c: ApiCall, missingOk?: boolean): Promise<Record<string, unknown> | undefined>;
}

function adminApi(base: string, key: string, doFetch: typeof fetch): Api {
  return {
    async call(c, missingOk = false) {
      const url = new URL(c.path.replace(/^\//, ''), `${base}/`);
      let res: Response;
      try {
        res = await doFetch(url, {
          method: c.method,
          headers: {
            authorization: `Bearer ${key}`,
            accept: 'application/json',
            ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...c.headers,
          },
          ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (err) {
        throw new CheckError('UNAVAILABLE', `cannot reach ${url.origin}: ${(err as Error).message}`);
      }
      const raw = await res.text();
      let body: unknown;
      try {
        body = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        body = undefined;
      }
      if (res.status === 404 && missingOk) return undefined;
      if (!res.ok) {
        const e = (body as { error?: Record<string, unknown> } | undefined)?.error;
        const code =
          typeof e?.reason === 'string'
            ? e.reason
            : typeof e?.code === 'string'
              ? e.code
              : `HTTP_${res.status}`;
        const message = typeof e?.message === 'string' ? e.message : res.statusText || 'request failed';
        throw new CheckError(code, message);
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new CheckError('INVALID_RESPONSE', `the API answered HTTP ${res.status} without a JSON object`);
      return body as Record<string, unknown>;
    },
  };
}

const query = (q: Record<string, string | number | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) s.set(k, String(v));
  const t = s.toString();
  return t ? `?${t}` : '';
};

// ---------------------------------------------------------------------------
// Diffs

export interface RoleFieldChange {
  readonly op: '+' | '-' | '~';
  readonly path: string;
  readonly from?: unknown;
  readonly to?: unknown;
}

export interface RolePlan {
  readonly id: string;
  readonly action: 'create' | 'update' | 'unchanged';
  readonly from?: number;
  readonly to?: number;
  readonly changes: RoleFieldChange[];
}

const same = (a: unknown, b: unknown) => bytesEqual(canonicalBytes(a ?? null), canonicalBytes(b ?? null));

/** Field changes from the role in effect to the file's, by JSON pointer (scope lists whole, per target). */
export function roleChanges(
  server: Pick<ServerRole, 'description' | 'purpose' | 'scopes'> | undefined,
  file: RoleInput,
): RoleFieldChange[] {
  const flat = (r: Pick<ServerRole, 'description' | 'purpose' | 'scopes'> | undefined) => {
    const m = new Map<string, unknown>();
    if (!r) return m;
    m.set('/description', r.description);
    m.set('/purpose', r.purpose);
    for (const [t, list] of Object.entries(r.scopes)) m.set(`/scopes/${t.replace(/~/g, '~0')}`, list);
    return m;
  };
  const a = flat(server);
  const b = flat(file);
  const out: RoleFieldChange[] = [];
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    if (a.has(path) && !b.has(path)) out.push({ op: '-', path, from: a.get(path) });
    else if (!a.has(path) && b.has(path)) out.push({ op: '+', path, to: b.get(path) });
    else if (!same(a.get(path), b.get(path))) out.push({ op: '~', path, from: a.get(path), to: b.get(path) });
  }
  return out;
}

const show = (v: unknown) => printable(JSON.stringify(v));

function renderPlan(p: RolePlan): string {
  const head =
    p.action === 'create'
      ? `+ create ${p.id} (version 1)`
      : p.action === 'update'
        ? `~ update ${p.id} (version ${p.from} → ${p.to})`
        : `= ${p.id} unchanged (version ${p.from})`;
  const lines = [printable(head)];
  for (const c of p.changes)
    lines.push(
      c.op === '~'
        ? `    ~ ${printable(c.path)}: ${show(c.from)} → ${show(c.to)}`
        : c.op === '+'
          ? `    + ${printable(c.path)}: ${show(c.to)}`
          : `    - ${printable(c.path)}: ${show(c.from)}`,
    );
  return `${lines.join('\n')}\n`;
}

interface ServerRole {
  id: string;
  version: number;
  description: string;
  purpose: string;
  scopes: Record<string, string[]>;
}

async function allServerRoleIds(api: Api): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const body = (await api.call({ method: 'GET', path: `${BASE}${query({ limit: 100, cursor })}` })) ?? {};
    for (const v of (Array.isArray(body.roles) ? body.roles : []) as { role?: { id?: unknown } }[])
      if (typeof v.role?.id === 'string') ids.push(v.role.id);
    cursor = typeof body.cursor === 'string' ? body.cursor : undefined;
    if (!cursor) break;
  }
  return ids;
}

// ---------------------------------------------------------------------------
// Bodies

type ApiArgs = { readonly api: string; readonly key: string; readonly json: boolean };

const scopesText = (s: Record<string, string[]> | undefined) =>
  Object.entries(s ?? {})
    .map(([t, l]) => `${t}:${l.join(',')}`)
    .join(' ') || '-';

async function runList(a: ApiArgs & { limit?: number; cursor?: string }, io: CliIo, api: Api) {
  const body =
    (await api.call({ method: 'GET', path: `${BASE}${query({ limit: a.limit, cursor: a.cursor })}` })) ?? {};
  if (a.json) io.stdout(printableJson(body, 2));
  else {
    const rows = (Array.isArray(body.roles) ? body.roles : []) as {
      role: ServerRole;
      pending?: { version: number };
    }[];
    const lines = rows.map((v) =>
      [
        v.role.id,
        `v${v.role.version}${v.pending ? ` (pending v${v.pending.version})` : ''}`,
        scopesText(v.role.scopes),
        v.role.purpose,
      ]
        .map((x) => printable(String(x)))
        .join('\t'),
    );
    const more = typeof body.cursor === 'string' ? `more: --cursor ${printable(body.cursor)}\n` : '';
    io.stdout(`${['ID\tVERSION\tSCOPES\tPURPOSE', ...lines].join('\n')}\n${more}`);
  }
  return EXIT_OK;
}

async function runShow(a: ApiArgs & { argument: string; version?: number }, io: CliIo, api: Api) {
  const body =
    (await api.call({ method: 'GET', path: `${BASE}/${a.argument}${query({ version: a.version })}` })) ?? {};
  if (a.json) io.stdout(printableJson(body, 2));
  else {
    const c = body.change as { action?: string; by?: string; at?: string; eventId?: string } | undefined;
    io.stdout(
      `# ${printable(String(c?.action))} by ${printable(String(c?.by))} at ${printable(String(c?.at))}; system log event ${printable(String(c?.eventId))}\n${printableJson(body.role, 2)}`,
    );
  }
  return EXIT_OK;
}

async function runHistory(
  a: ApiArgs & { argument: string; limit?: number; cursor?: string },
  io: CliIo,
  api: Api,
) {
  const body =
    (await api.call({
      method: 'GET',
      path: `${BASE}/${a.argument}/history${query({ limit: a.limit, cursor: a.cursor })}`,
    })) ?? {};
  if (a.json) io.stdout(printableJson(body, 2));
  else {
    const rows = (Array.isArray(body.versions) ? body.versions : []) as {
      role: ServerRole;
      change: { action: string; by: string; at: string };
    }[];
    const lines = rows.map((v) =>
      [`v${v.role.version}`, v.change?.action, v.change?.by, v.change?.at, scopesText(v.role.scopes)]
        .map((x) => printable(String(x)))
        .join('\t'),
    );
    const more = typeof body.cursor === 'string' ? `more: --cursor ${printable(body.cursor)}\n` : '';
    io.stdout(`${['VERSION\tACTION\tBY\tAT\tSCOPES', ...lines].join('\n')}\n${more}`);
  }
  return EXIT_OK;
}

async function runApply(a: ApiArgs & { argument: string; 'dry-run': boolean }, io: CliIo, api: Api) {
  let bytes: Uint8Array;
  try {
    bytes = await io.readFile(a.argument);
  } catch (err) {
    throw new CheckError('UNREADABLE_FILE', `${a.argument}: ${(err as Error).message}`);
  }
  const file = parseRolesFile(bytes, a.argument);
  if (!file.ok) {
    const p = file.problem;
    if (a.json) io.stdout(printableJson({ ok: false, dryRun: a['dry-run'], error: p }, 2));
    io.stderr(
      `${printable(a.argument)}${p.path ? ` ${printable(p.path)}` : ''}: ${printable(p.code)}: ${printable(p.message)}\nnothing was sent\n`,
    );
    return EXIT_INVALID;
  }
  const plans: Array<{ plan: RolePlan; input: RoleInput }> = [];
  for (const r of file.roles) {
    const view = await api.call({ method: 'GET', path: `${BASE}/${r.id}` }, true);
    const server = view?.role as ServerRole | undefined;
    const input: RoleInput = { description: r.description, purpose: r.purpose, scopes: r.scopes };
    const changes = roleChanges(server, input);
    const plan: RolePlan = !server
      ? { id: r.id, action: 'create', to: 1, changes }
      : changes.length === 0
        ? { id: r.id, action: 'unchanged', from: server.version, changes }
        : { id: r.id, action: 'update', from: server.version, to: server.version + 1, changes };
    plans.push({ plan, input });
  }
  const inFile = new Set(file.roles.map((r) => r.id));
  const notInFile = (await allServerRoleIds(api)).filter((id) => !inFile.has(id));
  const n = (action: RolePlan['action']) => plans.filter((p) => p.plan.action === action).length;
  if (!a.json) {
    io.stdout(plans.map((p) => renderPlan(p.plan)).join(''));
    for (const id of notInFile) io.stdout(`? ${printable(id)} is not in the file (left alone)\n`);
    io.stdout(`${n('create')} to create, ${n('update')} to update, ${n('unchanged')} unchanged\n`);
  }
  if (a['dry-run']) {
    if (a.json)
      io.stdout(printableJson({ ok: true, dryRun: true, roles: plans.map((p) => p.plan), notInFile }, 2));
    else io.stdout('dry run: nothing was written\n');
    return EXIT_OK;
  }
  const outcomes: Record<string, unknown>[] = [];
  let failed = 0;
  for (const { plan: p, input } of plans) {
    if (p.action === 'unchanged') {
      outcomes.push({ ...p, applied: false });
      continue;
    }
    try {
      const body = await api.call({
        method: 'PUT',
        path: `${BASE}/${p.id}`,
        body: input,
        headers: p.action === 'create' ? { 'if-none-match': '*' } : { 'if-match': `"${p.from}"` },
      });
      const role = body?.role as ServerRole | undefined;
      outcomes.push({ ...p, applied: true, version: role?.version });
      if (!a.json)
        io.stdout(
          `${p.action === 'create' ? 'created' : 'updated'} ${printable(p.id)} (version ${printable(String(role?.version))})\n`,
        );
    } catch (err) {
      failed++;
      const e =
        err instanceof CheckError
          ? { code: err.code, message: err.message }
          : { code: 'INTERNAL_ERROR', message: String(err) };
      outcomes.push({ ...p, applied: false, error: e });
      io.stderr(`${printable(p.id)}: ${printable(e.code)}: ${printable(e.message)}\n`);
    }
  }
  if (a.json)
    io.stdout(
      printableJson(
        {
          ok: failed === 0,
          dryRun: false,
          ...(failed > 0
            ? { error: { code: 'APPLY_FAILED', message: `${failed} role(s) were not applied` } }
            : {}),
          roles: outcomes,
          notInFile,
        },
        2,
      ),
    );
  else if (failed > 0) io.stderr(`${failed} role(s) were not applied\n`);
  return failed === 0 ? EXIT_OK : EXIT_INVALID;
}

async function runDrift(a: ApiArgs, io: CliIo, api: Api) {
  const body = (await api.call({ method: 'GET', path: '/v1/admin/drift' })) ?? {};
  const findings = (Array.isArray(body.findings) ? body.findings : []) as DriftFinding[];
  const unbound = (Array.isArray(body.unboundRoles) ? body.unboundRoles : []) as {
    id: string;
    version: number;
    reason: string;
  }[];
  const drifting = findings.filter((f) => Array.isArray(f.reasons) && isDrift(f));
  if (a.json) io.stdout(printableJson(body, 2));
  else {
    const lines = findings.map((f) =>
      [
        f.principalId,
        f.kind,
        (f.reasons ?? []).join(','),
        (f.roles ?? []).join(',') || '-',
        scopesText(f.beyondRoles as Record<string, string[]>),
        (f.missingRoles ?? []).join(',') || '-',
      ]
        .map((x) => printable(String(x)))
        .join('\t'),
    );
    io.stdout(`${['PRINCIPAL\tKIND\tREASONS\tROLES\tBEYOND ROLES\tMISSING ROLES', ...lines].join('\n')}\n`);
    for (const u of unbound)
      io.stdout(
        `! role ${printable(String(u.id))} v${printable(String(u.version))} is not backed by the system log (${printable(String(u.reason))}): it grants nothing\n`,
      );
    io.stdout(
      `${drifting.length} of ${printable(String(body.principals))} active principal(s) drift from their roles` +
        `${findings.length > drifting.length ? `; ${findings.length - drifting.length} hold only redundant direct scopes` : ''}\n`,
    );
  }
  return drifting.length === 0 && unbound.length === 0 ? EXIT_OK : EXIT_INVALID;
}

// ---------------------------------------------------------------------------
// Dispatcher entries

const FAILURE: FailureView = { label: 'error' };

function apiCommand<O extends OptionSpecs, A>(
  spec: CommandSpec<O, A>,
  deps: () => RolesDeps,
  body: (args: Args<O, A>, io: CliIo, api: Api) => Promise<number>,
): Command {
  const run = (argv: readonly string[], io: CliIo) =>
    runCommand(
      spec,
      argv,
      io,
      deps().env ?? {},
      (args) => {
        const base = args as Args<O, A> & ApiArgs;
        return body(args, io, adminApi(base.api, base.key, deps().fetch ?? fetch));
      },
      FAILURE,
    );
  return { path: spec.path, summary: spec.summary, run };
}

/** The roles subcommands as dispatcher entries. */
export function rolesCommands(deps: () => RolesDeps): Command[] {
  return [
    apiCommand(LIST, deps, runList),
    apiCommand(SHOW, deps, runShow),
    apiCommand(HISTORY, deps, runHistory),
    apiCommand(APPLY, deps, runApply),
    apiCommand(DRIFT, deps, runDrift),
  ];
}
