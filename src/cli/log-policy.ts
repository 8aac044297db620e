/**
 * `anchorlog logs policy get|set`: a log's event-catalog mode and signature
 * requirement through the admin API (docs/events.md §Modes,
 * docs/producer-signatures.md §Policy):
 *   GET /v1/admin/logs/{logId}/policy           → { logId, stored, defaults, effective, cacheSeconds }
 *   PUT /v1/admin/logs/{logId}/policy  body     → { policy, changed }
 * `set` changes only what its flags name: it reads the stored policy, applies
 * the flags and PUTs the whole of it (the API replaces). Two admins setting
 * the same log at once: the later PUT wins, each recorded in the system log.
 */
import { ACTOR_TYPES } from '../core/event.ts';
import { type AlertsDeps, type Api, apiCommand } from './alerts.ts';
import { defineCommand, option } from './args.ts';
import type { Command } from './dispatch.ts';
import { UsageError } from './errors.ts';
import { type CliIo, EXIT_OK } from './io.ts';
import { printable, printableJson } from './printable.ts';
import { adminApiKey, choice, httpUrl, logId, text } from './values.ts';

export type LogPolicyDeps = AlertsDeps;

const ADMIN_API = {
  api: option(httpUrl, 'admin API base URL', { required: true, env: 'ANCHORLOG_API_URL' }),
  key: option(adminApiKey, 'API key of a principal with admin on * (get: admin on the log)', {
    required: true,
    env: 'ANCHORLOG_API_KEY',
    secret: true,
  }),
};
const LOG = { name: 'LOG', type: logId, description: 'the log id' };
const API_EXIT = 'exit status: 0 ok, 1 the API refused or could not be reached, 2 usage error';
const path = (log: string) => `/v1/admin/logs/${log}/policy`;

const GET = defineCommand({
  path: ['logs', 'policy', 'get'],
  summary: "show a log's catalog mode and signature requirement (stored, default, effective)",
  description: `Shows what was set for the log through the API, what the deployment's settings give it
(ANCHORLOG_CATALOG_MODE[S], ANCHORLOG_SIGNATURE_POLICY), and what ingest applies.`,
  argument: LOG,
  options: { ...ADMIN_API },
  json: "the API's response: { logId, stored, defaults, effective, cacheSeconds }",
  examples: [{ title: 'the payments log', command: 'anchorlog logs policy get payments' }],
  exitStatus: API_EXIT,
});

const SET = defineCommand({
  path: ['logs', 'policy', 'set'],
  summary: "change a log's catalog mode or signature requirement (audited)",
  description: `Changes what the flags name and keeps the rest of the stored policy. Recorded in the system
log (log.policy.set, before and after) before it takes effect; ingest applies it within 30 s.
--sign-principal and --sign-actor replace the log's own signature rule with the ones given;
the deployment-wide (*) rule of ANCHORLOG_SIGNATURE_POLICY always applies on top.`,
  argument: LOG,
  options: {
    'catalog-mode': option(
      choice(['enforce', 'warn', 'off', 'default'] as const, 'MODE'),
      "enforce, warn or off; default: back to the deployment's mode",
    ),
    'sign-principal': option(text('ID'), 'events this principal submits must be signed; repeat for several', {
      multiple: true,
    }),
    'sign-actor': option(
      choice(ACTOR_TYPES, 'TYPE'),
      `events of this actor type must be signed (${ACTOR_TYPES.join(', ')}); repeat for several`,
      { multiple: true },
    ),
    signatures: option(
      choice(['default', 'none'] as const, 'WHICH'),
      "default: back to the deployment's rule; none: this log requires none of its own",
    ),
    ...ADMIN_API,
  },
  json: "the API's response: { policy, changed }",
  examples: [
    {
      title: 'refuse uncatalogued events',
      command: 'anchorlog logs policy set payments --catalog-mode enforce',
    },
    {
      title: 'require app-1 and every agent to sign',
      command: 'anchorlog logs policy set payments --sign-principal app-1 --sign-actor agent',
    },
  ],
  exitStatus: API_EXIT,
});

type ApiArgs = { readonly json: boolean; readonly argument: string };
type Rule = { principals: string[]; actorTypes: string[] } | null;
type View = {
  stored: { catalogMode?: string; signatures?: Rule; version: number; updatedAt: string } | null;
  defaults: { catalogMode: string; signatures: Rule };
  effective: { catalogMode: string; signatures: Rule };
  cacheSeconds: number;
};

const p = (v: unknown) => printable(String(v ?? ''));
const ruleText = (r: Rule | undefined) =>
  !r || (r.principals.length === 0 && r.actorTypes.length === 0)
    ? 'none'
    : [
        r.principals.length ? `principals ${r.principals.map(p).join(', ')}` : '',
        r.actorTypes.length ? `actor types ${r.actorTypes.map(p).join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ');

function describe(log: string, v: View): string {
  const s = v.stored;
  const from = (set: boolean) => (set ? 'set for this log' : 'deployment default');
  return `${[
    `log ${p(log)}`,
    `catalog mode:        ${p(v.effective.catalogMode)} (${from(s?.catalogMode !== undefined)}; default ${p(v.defaults.catalogMode)})`,
    `signatures required: ${ruleText(v.effective.signatures)} (${from(s?.signatures !== undefined)}; default ${ruleText(v.defaults.signatures)})`,
    s ? `version ${s.version}, set ${p(s.updatedAt)}` : 'never set: the deployment defaults apply',
    `ingest applies a change within ${v.cacheSeconds} s`,
  ].join('\n')}\n`;
}

async function runGet(a: ApiArgs, io: CliIo, api: Api) {
  const body = await api.call('GET', path(a.argument));
  io.stdout(a.json ? printableJson(body, 2) : describe(a.argument, body as unknown as View));
  return EXIT_OK;
}

async function runSet(
  a: ApiArgs & {
    'catalog-mode'?: string;
    'sign-principal'?: readonly string[];
    'sign-actor'?: readonly string[];
    signatures?: string;
  },
  io: CliIo,
  api: Api,
) {
  const rule = (a['sign-principal']?.length ?? 0) + (a['sign-actor']?.length ?? 0) > 0;
  if (rule && a.signatures !== undefined)
    throw new UsageError(
      'CONFLICTING_OPTIONS',
      '--signatures cannot be given with --sign-principal or --sign-actor',
    );
  if (!rule && a.signatures === undefined && a['catalog-mode'] === undefined)
    throw new UsageError(
      'MISSING_OPTION',
      'nothing to change: give --catalog-mode, --sign-principal, --sign-actor or --signatures',
    );
  const cur = (await api.call('GET', path(a.argument))) as unknown as View;
  const next: Record<string, unknown> = {};
  if (cur.stored?.catalogMode !== undefined) next.catalogMode = cur.stored.catalogMode;
  if (cur.stored?.signatures !== undefined) next.signatures = cur.stored.signatures;
  const mode = a['catalog-mode'];
  if (mode === 'default') delete next.catalogMode;
  else if (mode !== undefined) next.catalogMode = mode;
  if (a.signatures === 'default') delete next.signatures;
  else if (a.signatures === 'none') next.signatures = { principals: [], actorTypes: [] };
  else if (rule)
    next.signatures = {
      principals: [...(a['sign-principal'] ?? [])],
      actorTypes: [...(a['sign-actor'] ?? [])],
    };
  const body = await api.call('PUT', path(a.argument), next);
  if (a.json) io.stdout(printableJson(body, 2));
  else
    io.stdout(
      `${body.changed ? 'changed; recorded in the system log' : 'unchanged (nothing recorded)'}\n${describe(a.argument, body.policy as View)}`,
    );
  return EXIT_OK;
}

export function logPolicyCommands(deps: () => LogPolicyDeps): Command[] {
  return [apiCommand(GET, deps, runGet), apiCommand(SET, deps, runSet)];
}
