/**
 * `anchorlog principals …`: manage principals through the HTTP admin API.
 *
 *   anchorlog principals create --name N --kind human|application|agent --owner O --purpose P
 *                               --scope LOG:SCOPE [--scope …] [--id SLUG]
 *   anchorlog principals list [--limit N] [--cursor C]
 *   anchorlog principals get ID
 *   anchorlog principals rotate ID
 *   anchorlog principals revoke ID
 *   anchorlog principals set-scopes ID --scope LOG:SCOPE [--scope …]
 *
 * Common: --api URL, --key KEY (else ANCHORLOG_API_URL / ANCHORLOG_API_KEY,
 * which the entry point reads and passes in `io.env`), --json.
 * Exit codes: 0 ok, 1 the API refused or could not be reached, 2 usage.
 *
 * Admin API contract this client expects (the HTTP layer implements it):
 *   POST  /v1/admin/principals               body CreatePrincipalInput → 201 { principal, apiKey }
 *   GET   /v1/admin/principals?limit&cursor                           → 200 { principals, cursor? }
 *   GET   /v1/admin/principals/{id}                                   → 200 { principal }
 *   POST  /v1/admin/principals/{id}/rotate                            → 200 { principal, apiKey }
 *   POST  /v1/admin/principals/{id}/revoke                            → 200 { principal }
 *   PATCH /v1/admin/principals/{id}          body { scopes }          → 200 { principal }
 *   errors: { error: { code, message } }
 */
import { parseArgs } from 'node:util';
import {
  isLogId,
  isPrincipalId,
  PRINCIPAL_KINDS,
  type Principal,
  PrincipalError,
  parseApiKey,
  SCOPES,
  type ScopeMap,
  validateCreateInput,
  validateScopes,
} from '../core/principal.ts';
import { type CliIo, EXIT_INVALID, EXIT_OK, EXIT_USAGE } from './io.ts';
import { printable, printableJson } from './printable.ts';

export interface PrincipalsIo extends CliIo {
  /** Values the entry point read from the environment; flags take precedence. */
  env?: { ANCHORLOG_API_URL?: string | undefined; ANCHORLOG_API_KEY?: string | undefined };
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

const USAGE = `usage: anchorlog principals <command> [options]

  create --name N --kind ${PRINCIPAL_KINDS.join('|')} --owner O --purpose P --scope LOG:SCOPE [--scope …] [--id SLUG]
  list [--limit N] [--cursor C]
  get ID
  rotate ID                 issue a new key; the old key stops working at once
  revoke ID                 revoke for good
  set-scopes ID --scope LOG:SCOPE [--scope …]   replace all scopes

  LOG is a log id or '*' (quote it in the shell); SCOPE is one of ${SCOPES.join(', ')}.

common options:
  --api URL    admin API base URL (default: $ANCHORLOG_API_URL)
  --key KEY    admin API key      (default: $ANCHORLOG_API_KEY)
  --json       print the API response as JSON
`;

class UsageError extends Error {}

const OPTIONS = {
  api: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  name: { type: 'string' },
  kind: { type: 'string' },
  owner: { type: 'string' },
  purpose: { type: 'string' },
  id: { type: 'string' },
  scope: { type: 'string', multiple: true },
  limit: { type: 'string' },
  cursor: { type: 'string' },
} as const;

/** Which options each command accepts, beyond the common ones. */
const COMMAND_OPTIONS: Record<string, { options: readonly string[]; positionals: number }> = {
  create: { options: ['name', 'kind', 'owner', 'purpose', 'id', 'scope'], positionals: 0 },
  list: { options: ['limit', 'cursor'], positionals: 0 },
  get: { options: [], positionals: 1 },
  rotate: { options: [], positionals: 1 },
  revoke: { options: [], positionals: 1 },
  'set-scopes': { options: ['scope'], positionals: 1 },
};

interface Request {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  body?: unknown;
}

export async function runPrincipals(argv: string[], io: PrincipalsIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`anchorlog principals: ${err.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (parsed === 'help') {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  const { command, request, api, key, json } = parsed;
  const doFetch = io.fetch ?? fetch;
  const url = new URL(request.path.replace(/^\//, ''), api.endsWith('/') ? api : `${api}/`);
  let res: Response;
  try {
    res = await doFetch(url, {
      method: request.method,
      headers: {
        authorization: `Bearer ${key}`,
        accept: 'application/json',
        ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    io.stderr(`error: UNAVAILABLE: cannot reach ${url.origin}: ${(err as Error).message}\n`);
    return EXIT_INVALID;
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code = typeof e?.code === 'string' ? e.code : `HTTP_${res.status}`;
    const message = typeof e?.message === 'string' ? e.message : res.statusText || 'request failed';
    io.stderr(`error: ${printable(code)}: ${printable(message)}\n`);
    return EXIT_INVALID;
  }
  if (typeof body !== 'object' || body === null) {
    io.stderr(`error: INVALID_RESPONSE: the API answered HTTP ${res.status} without a JSON object\n`);
    return EXIT_INVALID;
  }
  if (json) {
    io.stdout(printableJson(body, 2));
    return EXIT_OK;
  }
  io.stdout(render(command, body as Record<string, unknown>));
  return EXIT_OK;
}

function parse(argv: string[], io: PrincipalsIo) {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('missing command');
  if (command === '--help' || command === '-h' || command === 'help') return 'help' as const;
  const spec = COMMAND_OPTIONS[command];
  if (!spec) throw new UsageError(`unknown command '${command}'`);
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help' as const;
  for (const name of Object.keys(values)) {
    if (!['api', 'key', 'json', 'help', ...spec.options].includes(name)) {
      throw new UsageError(`option --${name} does not apply to '${command}'`);
    }
  }
  if (positionals.length !== spec.positionals) {
    throw new UsageError(
      spec.positionals === 0
        ? `'${command}' takes no arguments, got '${positionals.join(' ')}'`
        : `'${command}' needs exactly one principal id`,
    );
  }
  const api = str(values.api) ?? io.env?.ANCHORLOG_API_URL;
  const key = str(values.key) ?? io.env?.ANCHORLOG_API_KEY;
  if (!api) throw new UsageError('no API URL: pass --api URL or set ANCHORLOG_API_URL');
  if (!/^https?:\/\/[^\s]+$/.test(api) || !URL.canParse(api))
    throw new UsageError('--api must be an http(s) URL');
  if (!key) throw new UsageError('no API key: pass --key KEY or set ANCHORLOG_API_KEY');
  try {
    parseApiKey(key.trim());
  } catch {
    // Never echo the key: it may be a real secret pasted into the wrong place.
    throw new UsageError('the API key is not a well-formed anchorlog key (alk_<id>_<secret>)');
  }
  const id = positionals[0];
  if (id !== undefined && !isPrincipalId(id)) throw new UsageError(`'${id}' is not a principal id`);
  const base = '/v1/admin/principals';
  let request: Request;
  switch (command) {
    case 'create': {
      const input: Record<string, unknown> = {
        name: required(values.name, 'name'),
        kind: required(values.kind, 'kind'),
        owner: required(values.owner, 'owner'),
        purpose: required(values.purpose, 'purpose'),
        scopes: scopesFromFlags(values.scope),
        ...(values.id !== undefined ? { id: values.id } : {}),
      };
      try {
        request = { method: 'POST', path: base, body: validateCreateInput(input) };
      } catch (err) {
        if (err instanceof PrincipalError) throw new UsageError(flagMessage(err));
        throw err;
      }
      break;
    }
    case 'list': {
      const q = new URLSearchParams();
      const limit = str(values.limit);
      if (limit !== undefined) {
        if (!/^[1-9][0-9]{0,2}$/.test(limit) || Number(limit) > 100) {
          throw new UsageError('--limit must be an integer from 1 to 100');
        }
        q.set('limit', limit);
      }
      const cursor = str(values.cursor);
      if (cursor !== undefined) q.set('cursor', cursor);
      const qs = q.toString();
      request = { method: 'GET', path: qs ? `${base}?${qs}` : base };
      break;
    }
    case 'get':
      request = { method: 'GET', path: `${base}/${id}` };
      break;
    case 'rotate':
      request = { method: 'POST', path: `${base}/${id}/rotate` };
      break;
    case 'revoke':
      request = { method: 'POST', path: `${base}/${id}/revoke` };
      break;
    default: // set-scopes
      request = { method: 'PATCH', path: `${base}/${id}`, body: { scopes: scopesFromFlags(values.scope) } };
  }
  return { command, request, api, key: key.trim(), json: values.json === true };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function required(v: unknown, name: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${name} is required`);
  return v;
}

/** `--scope LOG:SCOPE` flags → scope map; split at the first ':' (scopes themselves contain ':'). */
function scopesFromFlags(flags: unknown): ScopeMap {
  const list = Array.isArray(flags) ? (flags as string[]) : [];
  if (list.length === 0) throw new UsageError('at least one --scope LOG:SCOPE is required');
  const map: Record<string, string[]> = {};
  for (const flag of list) {
    const i = flag.indexOf(':');
    const log = i < 0 ? flag : flag.slice(0, i);
    const scope = i < 0 ? '' : flag.slice(i + 1);
    if (log !== '*' && !isLogId(log))
      throw new UsageError(`--scope ${flag}: '${log}' is not a log id or '*'`);
    if (!(SCOPES as readonly string[]).includes(scope)) {
      throw new UsageError(`--scope ${flag}: scope must be one of ${SCOPES.join(', ')}`);
    }
    const entry = Object.hasOwn(map, log) ? (map[log] as string[]) : [];
    entry.push(scope);
    map[log] = entry;
  }
  try {
    return validateScopes(map);
  } catch (err) {
    if (err instanceof PrincipalError) throw new UsageError(flagMessage(err));
    throw err;
  }
}

function flagMessage(err: PrincipalError): string {
  const field = (err.path ?? '').split('/')[1];
  return field ? `--${field === 'scopes' ? 'scope' : field}: ${err.message}` : err.message;
}

/** A value from the API response as one printable field. */
const field = (v: unknown): string => printable(String(v));

function render(command: string, body: Record<string, unknown>): string {
  const p = body.principal as Principal | undefined;
  const key = typeof body.apiKey === 'string' ? body.apiKey : undefined;
  switch (command) {
    case 'create':
    case 'rotate':
      return (
        `${command === 'create' ? 'created' : 'rotated key of'} principal ${field(p?.id)} (${field(p?.kind)}, ${field(p?.name)}), key id ${field(p?.keyId)}\n` +
        `API key — shown only once, store it now:\n${field(key)}\n`
      );
    case 'revoke':
      return `revoked principal ${field(p?.id)} (${field(p?.name)}) at ${field(p?.revokedAt)}\n`;
    case 'list': {
      const rows = (Array.isArray(body.principals) ? body.principals : []) as Principal[];
      const lines = rows.map((r) =>
        [r.id, r.kind, r.status, r.name, formatScopes(r.scopes)].map(field).join('\t'),
      );
      const more = typeof body.cursor === 'string' ? `more: --cursor ${field(body.cursor)}\n` : '';
      return `${['ID\tKIND\tSTATUS\tNAME\tSCOPES', ...lines].join('\n')}\n${more}`;
    }
    default:
      return p ? describe(p) : printableJson(body, 2);
  }
}

function formatScopes(scopes: ScopeMap | undefined): string {
  return Object.entries(scopes ?? {})
    .flatMap(([log, list]) => list.map((s) => `${log}:${s}`))
    .join(',');
}

function describe(p: Principal): string {
  const rows: Array<[string, unknown]> = [
    ['id', p.id],
    ['name', p.name],
    ['kind', p.kind],
    ['status', p.status],
    ['owner', p.owner],
    ['purpose', p.purpose],
    ['scopes', formatScopes(p.scopes)],
    ['key id', p.keyId],
    ['version', p.version],
    ['created', `${p.createdAt} by ${p.createdBy}`],
    ['updated', p.updatedAt],
    ['rotated', p.rotatedAt],
    ['revoked', p.revokedAt],
  ];
  return `${rows
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k.padEnd(8)} ${field(v)}`)
    .join('\n')}\n`;
}
