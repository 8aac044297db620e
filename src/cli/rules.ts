/**
 * `anchorlog rules list|show|history|validate|diff|apply|enable|disable`:
 * detection rules (docs/detection.md "Managing rules").
 *
 * `validate` is offline: the pure core checks rule files (rule-files.ts), so
 * a platform team's CI can run it on every change to its rules repository.
 * Everything else talks to the admin API (`--api`/`--key`, else
 * ANCHORLOG_API_URL / ANCHORLOG_API_KEY):
 *   GET  /v1/admin/rules?limit&cursor             → { rules, cursor? }
 *   GET  /v1/admin/rules/{id}[?version=N]         → { rule, change, pending? }
 *   GET  /v1/admin/rules/{id}/history?limit&cursor → { versions, cursor? }
 *   PUT  /v1/admin/rules/{id}  If-Match / If-None-Match: * → { rule, change, changed, created }
 *   POST /v1/admin/rules/{id}/enable|disable       → { rule, change, changed, created }
 *   errors: { error: { code, message, path?, reason?, position? } }
 *
 * `diff -f` and `apply -f` compare files with what the server has in effect,
 * version numbers aside: a file states what a rule should be, the server
 * numbers the versions. `apply` writes each rule that differs as the server's
 * version + 1, sent with If-Match (If-None-Match: * to create), so a change
 * someone made between the diff and the write is never overwritten (409).
 * Rules the server has and the files do not are left alone.
 */

import { bytesEqual } from '../core/bytes.ts';
import { canonicalBytes } from '../core/canonical.ts';
import type { RuleDocument } from '../core/detect/rule.ts';
import { type Args, type CommandSpec, defineCommand, flag, type OptionSpecs, option } from './args.ts';
import { type FailureView, runCommand } from './command.ts';
import type { Command } from './dispatch.ts';
import { CheckError } from './errors.ts';
import { type CliEnv, type CliIo, EXIT_INVALID, EXIT_OK } from './io.ts';
import { printable, printableJson } from './printable.ts';
import { describeProblem, type FileResult, loadRuleFiles, ruleFiles } from './rule-files.ts';
import { adminApiKey, httpUrl, inputFile, ruleId, text, wholeNumberIn } from './values.ts';

export interface RulesDeps {
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

const ID = { name: 'ID', type: ruleId, description: 'the rule id' };
const FILES = option(inputFile('FILE|DIR'), 'a rule file (.json, .yaml, .yml) or a directory of them', {
  short: 'f',
  required: true,
  multiple: true,
});

const API_EXIT = 'exit status: 0 ok, 1 the API refused or could not be reached, 2 usage error';
const BASE = '/v1/admin/rules';

// ---------------------------------------------------------------------------
// Declarations

const LIST = defineCommand({
  path: ['rules', 'list'],
  summary: 'list detection rules (the versions in effect)',
  description:
    'Lists the detection rules in effect, in id order, a page at a time: version, enabled,\nseverity, kind and title; a change still being recorded is marked "pending".',
  options: {
    limit: option(wholeNumberIn(1, 100), 'at most N per page (1 to 100)'),
    cursor: option(text('CURSOR'), 'the next page, as the previous one printed it'),
    ...ADMIN_API,
  },
  json: "the API's response: { rules: [{ rule, change, pending? }], cursor? }",
  examples: [
    { title: 'every rule, for the review of detection coverage', command: 'anchorlog rules list' },
    { title: 'as JSON, to feed a report', command: 'anchorlog rules list --limit 100 --json' },
  ],
  exitStatus: API_EXIT,
});

const SHOW = defineCommand({
  path: ['rules', 'show'],
  summary: 'show one rule (or one of its earlier versions)',
  description:
    'Shows the version of a rule in effect, or an earlier one with --version: who made it,\nhow and when, where the system log records it, and the whole document.',
  argument: ID,
  options: { version: option(wholeNumberIn(1, 2 ** 31 - 1), 'an earlier version'), ...ADMIN_API },
  json: "the API's response: { rule, change, pending? }",
  examples: [
    { title: 'the rule in effect', command: 'anchorlog rules show ai.data-export.volume' },
    {
      title: 'what version 2 said',
      command: 'anchorlog rules show ai.data-export.volume --version 2 --json',
    },
  ],
  exitStatus: API_EXIT,
});

const HISTORY = defineCommand({
  path: ['rules', 'history'],
  summary: "list a rule's versions, newest first",
  description:
    'Lists every version of a rule, newest first: its action (rule.create, rule.update,\nrule.enable, rule.disable), who, when and where the system log records it.',
  argument: ID,
  options: {
    limit: option(wholeNumberIn(1, 100), 'at most N per page (1 to 100)'),
    cursor: option(text('CURSOR'), 'the next page, as the previous one printed it'),
    ...ADMIN_API,
  },
  json: "the API's response: { versions: [{ rule, change }], cursor? }",
  examples: [
    {
      title: 'who changed the export rule, and when',
      command: 'anchorlog rules history ai.data-export.volume',
    },
  ],
  exitStatus: API_EXIT,
});

const VALIDATE = defineCommand({
  path: ['rules', 'validate'],
  summary: 'check rule files offline (no API): for CI',
  description: `Checks rule files (.json, .yaml, .yml; a directory is searched) without any API: each
must be one valid rule document whose expressions compile, and no two files may define the same
rule id. Errors name the file, the field (a JSON pointer) and, in an expression, the line and
column. Needs no key and no network, so a repository of rules can run it in CI.`,
  argument: {
    name: 'FILE|DIR',
    type: inputFile('FILE|DIR'),
    description: 'a rule file or a directory of them',
  },
  options: {},
  json: '{ ok, files: [{ file, ok, rule?: { id, version, kind }, error?: { code, message, path?, position? } }] }',
  examples: [
    { title: 'every rule of the repository, in CI', command: 'anchorlog rules validate rules/' },
    { title: 'one file, machine-readable', command: 'anchorlog rules validate rules/export.yaml --json' },
  ],
  exitStatus: 'exit status: 0 every file is a valid rule, 1 some file is not, 2 usage error',
});

const DIFF = defineCommand({
  path: ['rules', 'diff'],
  summary: 'show how rule files differ from the rules in effect',
  description: `Compares rule files with the rules the server has in effect (version numbers aside) and
prints, per rule, whether applying the files would create it, change it (field by field) or
leave it. Writes nothing. The files are validated first; an invalid one stops everything.`,
  options: {
    file: FILES,
    'exit-code': flag('exit 1 when a rule differs, like git diff --exit-code (a drift check)'),
    ...ADMIN_API,
  },
  json: '{ ok, differs, rules: [{ id, file, action: create|update|unchanged, from?, to?, changes }] }',
  examples: [
    { title: 'what apply would do', command: 'anchorlog rules diff -f rules/' },
    {
      title: 'fail CI when production drifted from the repository',
      command: 'anchorlog rules diff -f rules/ --exit-code',
    },
  ],
  exitStatus:
    'exit status: 0 compared (with --exit-code: and nothing differs), 1 a rule differs (--exit-code),\na file is invalid or the API failed, 2 usage error',
});

const APPLY = defineCommand({
  path: ['rules', 'apply'],
  summary: 'create and update rules from files (shows the diff first)',
  description: `Validates rule files, shows how they differ from the rules in effect (as 'rules diff'),
then creates the new rules and updates the changed ones, each as the server's version + 1 with
If-Match, so a change made by someone else in between is refused (409), never overwritten. Each
change is recorded in the system log. Rules the server has and the files do not are left alone.
With --dry-run only the diff is shown.`,
  options: { file: FILES, 'dry-run': flag('show what would change, write nothing'), ...ADMIN_API },
  json: '{ ok, dryRun, rules: [{ id, file, action, from?, to?, changes, applied?, error? }] }',
  examples: [
    { title: 'review, then apply the repository', command: 'anchorlog rules apply -f rules/ --dry-run' },
    { title: 'apply two files', command: 'anchorlog rules apply -f rules/export.yaml -f rules/tools.json' },
  ],
  exitStatus:
    'exit status: 0 applied (or nothing to do), 1 a file is invalid or a write was refused, 2 usage error',
});

const enableCommand = (verb: 'enable' | 'disable') =>
  defineCommand({
    path: ['rules', verb],
    summary: verb === 'enable' ? 'enable a rule' : 'disable a rule (it keeps its state, evaluates nothing)',
    description: `${verb === 'enable' ? 'Enables' : 'Disables'} a rule: a new version with only 'enabled' changed, recorded in the
system log as rule.${verb}. Nothing happens (and nothing is recorded) if it already is.`,
    argument: ID,
    options: {
      'if-version': option(wholeNumberIn(1, 2 ** 31 - 1), 'refuse (409) unless the rule is at this version'),
      ...ADMIN_API,
    },
    json: "the API's response: { rule, change, changed, created }",
    examples: [
      {
        title: verb === 'enable' ? 'turn a rule back on' : 'silence a noisy rule during an incident',
        command: `anchorlog rules ${verb} ai.tool.first-use`,
      },
    ],
    exitStatus: API_EXIT,
  });
const ENABLE = enableCommand('enable');
const DISABLE = enableCommand('disable');

// ---------------------------------------------------------------------------
// The admin API

interface ApiCall {
  method: 'GET' | 'PUT' | 'POST';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Api {
  /** The JSON object of a 2xx; undefined for a 404 when `missingOk`; CheckError otherwise. */
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

export interface FieldChange {
  readonly op: '+' | '-' | '~';
  readonly path: string;
  readonly from?: unknown;
  readonly to?: unknown;
}

export interface RulePlan {
  readonly id: string;
  readonly file: string;
  readonly action: 'create' | 'update' | 'unchanged';
  /** The version in effect (update, unchanged). */
  readonly from?: number;
  /** The version a write makes (create, update). */
  readonly to?: number;
  readonly changes: FieldChange[];
  /** A change someone started on the server that is not in effect yet. */
  readonly pending?: number;
}

/** Leaves of a JSON value by JSON pointer; arrays of scalars stay whole (one line in a diff). */
function leaves(v: unknown, path = '', out = new Map<string, unknown>()): Map<string, unknown> {
  const scalarArray = Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object');
  if (v !== null && typeof v === 'object' && !scalarArray) {
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    if (entries.length === 0) out.set(path, v);
    for (const [k, x] of entries) leaves(x, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, out);
  } else out.set(path, v);
  return out;
}

const same = (a: unknown, b: unknown) => bytesEqual(canonicalBytes(a ?? null), canonicalBytes(b ?? null));

/** Field changes from `server` to `file`, version aside. */
export function ruleChanges(server: RuleDocument | undefined, file: RuleDocument): FieldChange[] {
  const a = leaves(server ? { ...server, version: 0 } : {});
  const b = leaves({ ...file, version: 0 });
  const out: FieldChange[] = [];
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    if (path === '/version') continue;
    const inA = a.has(path);
    const inB = b.has(path);
    if (inA && !inB) out.push({ op: '-', path, from: a.get(path) });
    else if (!inA && inB) out.push({ op: '+', path, to: b.get(path) });
    else if (!same(a.get(path), b.get(path))) out.push({ op: '~', path, from: a.get(path), to: b.get(path) });
  }
  return out;
}

async function plan(
  api: Api,
  results: readonly FileResult[],
): Promise<{ plan: RulePlan; doc: RuleDocument }[]> {
  const out: { plan: RulePlan; doc: RuleDocument }[] = [];
  const valid = results.filter((r): r is Extract<FileResult, { ok: true }> => r.ok);
  for (const r of [...valid].sort((x, y) => (x.rule.id < y.rule.id ? -1 : 1))) {
    const view = await api.call({ method: 'GET', path: `${BASE}/${r.rule.id}` }, true);
    const server = view?.rule as RuleDocument | undefined;
    const pending = (view?.pending as { version?: unknown } | undefined)?.version;
    const changes = ruleChanges(server, r.rule);
    const base = {
      id: r.rule.id,
      file: r.file,
      changes,
      ...(typeof pending === 'number' ? { pending } : {}),
    };
    const p: RulePlan = !server
      ? { ...base, action: 'create', to: 1 }
      : changes.length === 0
        ? { ...base, action: 'unchanged', from: server.version }
        : { ...base, action: 'update', from: server.version, to: server.version + 1 };
    out.push({ plan: p, doc: r.rule });
  }
  return out;
}

const show = (v: unknown) => printable(JSON.stringify(v));

function renderPlan(p: RulePlan): string {
  const head =
    p.action === 'create'
      ? `+ create ${p.id} (version 1)`
      : p.action === 'update'
        ? `~ update ${p.id} (version ${p.from} → ${p.to})`
        : `= ${p.id} unchanged (version ${p.from})`;
  const lines = [`${printable(head)}  ${printable(p.file)}`];
  if (p.pending !== undefined)
    lines.push(
      `    ! version ${p.pending} is being recorded on the server; it will be compared once in effect`,
    );
  if (p.action !== 'create')
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

// ---------------------------------------------------------------------------
// Bodies

type ApiArgs = { readonly api: string; readonly key: string; readonly json: boolean };

const ruleLine = (v: { rule: RuleDocument; pending?: { version: number } }) =>
  [
    v.rule.id,
    `v${v.rule.version}`,
    v.rule.enabled ? 'enabled' : 'disabled',
    v.rule.severity,
    v.rule.kind,
    `${v.rule.title}${v.pending ? ` (pending v${v.pending.version})` : ''}`,
  ]
    .map((x) => printable(String(x)))
    .join('\t');

interface Change {
  action: string;
  by: string;
  at: string;
  eventId: string;
  recorded: { seq: number; index: number };
}

const changeLine = (c: Change | undefined) =>
  c
    ? `${printable(String(c.action))} by ${printable(String(c.by))} at ${printable(String(c.at))}; system log event ${printable(String(c.eventId))} (batch ${printable(String(c.recorded?.seq))}, index ${printable(String(c.recorded?.index))})`
    : '';

async function runList(
  a: ApiArgs & { limit: number | undefined; cursor: string | undefined },
  io: CliIo,
  api: Api,
) {
  const body =
    (await api.call({ method: 'GET', path: `${BASE}${query({ limit: a.limit, cursor: a.cursor })}` })) ?? {};
  if (a.json) io.stdout(printableJson(body, 2));
  else {
    const rows = (Array.isArray(body.rules) ? body.rules : []) as {
      rule: RuleDocument;
      pending?: { version: number };
    }[];
    const more = typeof body.cursor === 'string' ? `more: --cursor ${printable(body.cursor)}\n` : '';
    io.stdout(`${['ID\tVERSION\tSTATE\tSEVERITY\tKIND\tTITLE', ...rows.map(ruleLine)].join('\n')}\n${more}`);
  }
  return EXIT_OK;
}

async function runShow(a: ApiArgs & { argument: string; version: number | undefined }, io: CliIo, api: Api) {
  const body =
    (await api.call({ method: 'GET', path: `${BASE}/${a.argument}${query({ version: a.version })}` })) ?? {};
  if (a.json) io.stdout(printableJson(body, 2));
  else {
    const pending = body.pending as { version: number; action: string } | undefined;
    io.stdout(
      `# ${changeLine(body.change as Change)}\n` +
        (pending
          ? `# pending: version ${printable(String(pending.version))} (${printable(String(pending.action))}) is being recorded\n`
          : '') +
        printableJson(body.rule, 2),
    );
  }
  return EXIT_OK;
}

async function runHistory(
  a: ApiArgs & { argument: string; limit: number | undefined; cursor: string | undefined },
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
      rule: RuleDocument;
      change: Change;
    }[];
    const lines = rows.map((v) =>
      [
        `v${v.rule.version}`,
        v.change?.action,
        v.change?.by,
        v.change?.at,
        v.rule.enabled ? 'enabled' : 'disabled',
        v.rule.title,
      ]
        .map((x) => printable(String(x)))
        .join('\t'),
    );
    const more = typeof body.cursor === 'string' ? `more: --cursor ${printable(body.cursor)}\n` : '';
    io.stdout(`${['VERSION\tACTION\tBY\tAT\tSTATE\tTITLE', ...lines].join('\n')}\n${more}`);
  }
  return EXIT_OK;
}

async function runSetEnabled(
  verb: 'enable' | 'disable',
  a: ApiArgs & { argument: string; 'if-version': number | undefined },
  io: CliIo,
  api: Api,
) {
  const body =
    (await api.call({
      method: 'POST',
      path: `${BASE}/${a.argument}/${verb}`,
      ...(a['if-version'] !== undefined ? { headers: { 'if-match': `"${a['if-version']}"` } } : {}),
    })) ?? {};
  if (a.json) io.stdout(printableJson(body, 2));
  else {
    const rule = body.rule as RuleDocument | undefined;
    const done = verb === 'enable' ? 'enabled' : 'disabled';
    io.stdout(
      body.changed === true
        ? `${done} rule ${printable(String(rule?.id))} (version ${printable(String(rule?.version))}, recorded as rule.${verb})\n`
        : `rule ${printable(String(rule?.id))} is already ${done} (version ${printable(String(rule?.version))}); nothing changed\n`,
    );
  }
  return EXIT_OK;
}

function fileReport(r: FileResult) {
  return r.ok
    ? { file: r.file, ok: true, rule: { id: r.rule.id, version: r.rule.version, kind: r.rule.kind } }
    : { file: r.file, ok: false, error: r.problem };
}

/** Validated files, or (exit 1) every problem reported. */
async function loadOrReport(
  io: CliIo,
  paths: readonly string[],
  flagName: string,
  json: boolean,
  extra: Record<string, unknown>,
): Promise<FileResult[] | number> {
  const results = await loadRuleFiles(io, await ruleFiles(paths, flagName));
  const bad = results.filter((r) => !r.ok);
  if (bad.length === 0) return results;
  if (json)
    io.stdout(
      printableJson(
        {
          ok: false,
          error: {
            code: 'INVALID_RULE_FILES',
            message: `${bad.length} of ${results.length} rule files are invalid`,
          },
          ...extra,
          files: results.map(fileReport),
        },
        2,
      ),
    );
  for (const r of bad) if (!r.ok) io.stderr(`${printable(describeProblem(r.file, r.problem))}\n`);
  io.stderr(`${bad.length} of ${results.length} rule file(s) invalid; nothing was sent\n`);
  return EXIT_INVALID;
}

async function runValidate(a: { argument: string; json: boolean }, io: CliIo) {
  const results = await loadRuleFiles(io, await ruleFiles([a.argument], 'FILE|DIR'));
  const ok = results.every((r) => r.ok);
  if (a.json) io.stdout(printableJson({ ok, files: results.map(fileReport) }, 2));
  else
    for (const r of results)
      if (r.ok)
        io.stdout(`ok   ${printable(r.file)}  ${printable(r.rule.id)} v${r.rule.version} (${r.rule.kind})\n`);
  for (const r of results) if (!r.ok) io.stderr(`${printable(describeProblem(r.file, r.problem))}\n`);
  if (!a.json)
    io.stdout(
      ok
        ? `${results.length} rule file(s) valid\n`
        : `${results.filter((r) => !r.ok).length} of ${results.length} rule file(s) invalid\n`,
    );
  return ok ? EXIT_OK : EXIT_INVALID;
}

async function runDiff(a: ApiArgs & { file: readonly string[]; 'exit-code': boolean }, io: CliIo, api: Api) {
  const loaded = await loadOrReport(io, a.file, '--file', a.json, { differs: false });
  if (typeof loaded === 'number') return loaded;
  const plans = (await plan(api, loaded)).map((p) => p.plan);
  const differs = plans.some((p) => p.action !== 'unchanged');
  if (a.json) io.stdout(printableJson({ ok: true, differs, rules: plans }, 2));
  else io.stdout(plans.map(renderPlan).join('') + summary(plans));
  return differs && a['exit-code'] ? EXIT_INVALID : EXIT_OK;
}

function summary(plans: readonly RulePlan[]): string {
  const n = (action: RulePlan['action']) => plans.filter((p) => p.action === action).length;
  return `${n('create')} to create, ${n('update')} to update, ${n('unchanged')} unchanged\n`;
}

async function runApply(a: ApiArgs & { file: readonly string[]; 'dry-run': boolean }, io: CliIo, api: Api) {
  const loaded = await loadOrReport(io, a.file, '--file', a.json, { dryRun: a['dry-run'] });
  if (typeof loaded === 'number') return loaded;
  const plans = await plan(api, loaded);
  if (!a.json) io.stdout(plans.map((p) => renderPlan(p.plan)).join('') + summary(plans.map((p) => p.plan)));
  if (a['dry-run']) {
    if (a.json) io.stdout(printableJson({ ok: true, dryRun: true, rules: plans.map((p) => p.plan) }, 2));
    else io.stdout('dry run: nothing was written\n');
    return EXIT_OK;
  }
  const outcomes: Record<string, unknown>[] = [];
  let failed = 0;
  for (const { plan: p, doc } of plans) {
    if (p.action === 'unchanged') {
      outcomes.push({ ...p, applied: false });
      continue;
    }
    try {
      const body = await api.call({
        method: 'PUT',
        path: `${BASE}/${p.id}`,
        body: { ...doc, version: p.to },
        headers: p.action === 'create' ? { 'if-none-match': '*' } : { 'if-match': `"${p.from}"` },
      });
      const rule = body?.rule as RuleDocument | undefined;
      outcomes.push({ ...p, applied: true, version: rule?.version, change: body?.change });
      if (!a.json)
        io.stdout(
          `${p.action === 'create' ? 'created' : 'updated'} ${printable(p.id)} (version ${printable(String(rule?.version))})\n`,
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
            ? { error: { code: 'APPLY_FAILED', message: `${failed} rule(s) were not applied` } }
            : {}),
          rules: outcomes,
        },
        2,
      ),
    );
  else if (failed > 0) io.stderr(`${failed} rule(s) were not applied\n`);
  return failed === 0 ? EXIT_OK : EXIT_INVALID;
}

// ---------------------------------------------------------------------------
// Dispatcher entries

const FAILURE: FailureView = { label: 'error' };

function apiCommand<O extends OptionSpecs, A>(
  spec: CommandSpec<O, A>,
  deps: () => RulesDeps,
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

/** The rules subcommands as dispatcher entries; `deps` (read when one runs) gives the environment and fetch. */
export function rulesCommands(deps: () => RulesDeps): Command[] {
  return [
    apiCommand(LIST, deps, runList),
    apiCommand(SHOW, deps, runShow),
    apiCommand(HISTORY, deps, runHistory),
    {
      path: VALIDATE.path,
      summary: VALIDATE.summary,
      run: (argv, io) => runCommand(VALIDATE, argv, io, deps().env ?? {}, (a) => runValidate(a, io), FAILURE),
    },
    apiCommand(DIFF, deps, runDiff),
    apiCommand(APPLY, deps, runApply),
    apiCommand(ENABLE, deps, (a, io, api) => runSetEnabled('enable', a, io, api)),
    apiCommand(DISABLE, deps, (a, io, api) => runSetEnabled('disable', a, io, api)),
  ];
}
