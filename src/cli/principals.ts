/**
 * `anchorlog principals create|list|get|rotate|revoke|set-scopes`: manage
 * principals through the HTTP admin API. Each subcommand is declared below
 * (its flags, its request); `anchorlog help principals <subcommand>` shows it.
 * Common: --api URL, --key KEY (else ANCHORLOG_API_URL / ANCHORLOG_API_KEY,
 * which the entry point reads and passes in), --json (the API's response).
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
import {
  PRINCIPAL_KINDS,
  type Principal,
  PrincipalError,
  SCOPES,
  type ScopeMap,
  validateCreateInput,
  validateScopes,
} from '../core/principal.ts';
import { type Args, type CommandSpec, defineCommand, flag, type OptionSpecs, option } from './args.ts';
import { type FailureView, runCommand } from './command.ts';
import { type Command, dispatch } from './dispatch.ts';
import { CheckError, UsageError } from './errors.ts';
import { type CliEnv, type CliIo, EXIT_OK } from './io.ts';
import { printable, printableJson } from './printable.ts';
import {
  adminApiKey,
  choice,
  httpUrl,
  principalId,
  roleId,
  type ScopeGrant,
  scopeGrant,
  text,
  wholeNumberIn,
} from './values.ts';

/** What the subcommands need besides a CliIo. */
export interface AdminApiDeps {
  /** Values the entry point read from the environment; flags take precedence. */
  readonly env?: CliEnv;
  /** Injected for tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

export interface PrincipalsIo extends CliIo, AdminApiDeps {}

const ADMIN_API = {
  api: option(httpUrl, 'admin API base URL', { required: true, env: 'ANCHORLOG_API_URL' }),
  key: option(adminApiKey, 'API key of a principal with the admin scope', {
    required: true,
    env: 'ANCHORLOG_API_KEY',
    secret: true,
  }),
};

const scopes = (what: string, required = true) =>
  option(
    scopeGrant,
    `${what}: LOG is a log id, a log pattern (prefix*) or '*' (quote it in the shell),\nSCOPE one of ${SCOPES.join(', ')}`,
    { required, multiple: true },
  );

const roles = (what: string, required = false) => option(roleId, what, { required, multiple: true });

const ID = { name: 'ID', type: principalId, description: 'the principal id' };

const EXIT_STATUS = 'exit status: 0 ok, 1 the API refused or could not be reached, 2 usage error';
const PRINTS_RESPONSE = "the API's response as it is: { principal, apiKey? } or { principals, cursor? }";

/** What a subcommand asks the admin API. */
interface Request {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  body?: unknown;
}

const BASE = '/v1/admin/principals';

/** One subcommand: its command line and the request its arguments make. */
interface Subcommand<O extends OptionSpecs, A> {
  readonly spec: CommandSpec<O, A>;
  readonly request: (args: Args<O, A>) => Request;
}

const subcommand = <O extends OptionSpecs, A>(
  spec: CommandSpec<O, A>,
  request: (args: Args<O, A>) => Request,
): Subcommand<O, A> => ({ spec, request });

const CREATE = subcommand(
  defineCommand({
    path: ['principals', 'create'],
    summary: 'create a principal and print its API key (shown once)',
    description: `Creates a principal (a person, an application or an agent) with the scopes given, and
prints its API key: it is shown only this once, so store it at once. The change is an admin
audit event in the system log.`,
    options: {
      name: option(text('NAME'), 'a name people recognise', { required: true }),
      kind: option(choice(PRINCIPAL_KINDS, 'KIND'), `one of ${PRINCIPAL_KINDS.join(', ')}`, {
        required: true,
      }),
      owner: option(
        text('OWNER'),
        'who answers for it: for an agent or application, the id of an active human principal;\nfor a human, free text (a manager, a team)',
        { required: true },
      ),
      purpose: option(text('PURPOSE'), 'what it is for', { required: true }),
      role: roles('a role it holds (docs/access.md); repeat for several'),
      scope: scopes('a direct grant LOG:SCOPE, only where no role fits (flagged by roles drift)', false),
      'idp-identity': option(
        text('IDENTITY'),
        "a human's identity-provider login or subject (e.g. an e-mail)",
      ),
      id: option(text('SLUG'), 'its id, [a-z0-9][a-z0-9-]{2,62} (default: a generated p_… id)'),
      ...ADMIN_API,
    },
    json: PRINTS_RESPONSE,
    examples: [
      {
        title: 'an agent that writes events to log prod and reads its proofs',
        command:
          "anchorlog principals create --id agent-platform --name 'Agent platform' --kind application --owner alice --purpose 'writes agent events' --role prod-writer",
      },
    ],
    exitStatus: EXIT_STATUS,
  }),
  (a) => {
    const input: Record<string, unknown> = {
      name: a.name,
      kind: a.kind,
      owner: a.owner,
      purpose: a.purpose,
      scopes: scopeMap(a.scope ?? []),
      ...(a.role !== undefined ? { roles: a.role } : {}),
      ...(a['idp-identity'] !== undefined ? { idpIdentity: a['idp-identity'] } : {}),
      ...(a.id !== undefined ? { id: a.id } : {}),
    };
    try {
      const { roles: held, ...body } = validateCreateInput(input);
      // Roles only when given, so a request without them is what it was before roles existed.
      return { method: 'POST', path: BASE, body: held.length > 0 ? { ...body, roles: held } : body };
    } catch (err) {
      if (err instanceof PrincipalError) throw new UsageError('BAD_VALUE', flagMessage(err));
      throw err;
    }
  },
);

const LIST = subcommand(
  defineCommand({
    path: ['principals', 'list'],
    summary: 'list principals, a page at a time',
    description: 'Lists principals with their kind, status, name, roles and direct scopes, a page at a time.',
    options: {
      limit: option(wholeNumberIn(1, 100), 'at most N per page (1 to 100)'),
      cursor: option(text('CURSOR'), 'the next page, as the previous one printed it'),
      ...ADMIN_API,
    },
    json: PRINTS_RESPONSE,
    examples: [
      { title: 'everyone, for the quarterly access review', command: 'anchorlog principals list --json' },
      { title: 'the next page', command: 'anchorlog principals list --limit 50 --cursor eyJrIjoiYiJ9' },
    ],
    exitStatus: EXIT_STATUS,
  }),
  (a) => {
    const q = new URLSearchParams();
    if (a.limit !== undefined) q.set('limit', String(a.limit));
    if (a.cursor !== undefined) q.set('cursor', a.cursor);
    const qs = q.toString();
    return { method: 'GET', path: qs ? `${BASE}?${qs}` : BASE };
  },
);

/** `get`, `rotate`, `revoke`: a principal id and nothing else. */
function onePrincipal(
  name: string,
  summary: string,
  description: string,
  title: string,
  request: (id: string) => Request,
) {
  return subcommand(
    defineCommand({
      path: ['principals', name],
      summary,
      description,
      argument: ID,
      options: { ...ADMIN_API },
      json: PRINTS_RESPONSE,
      examples: [{ title, command: `anchorlog principals ${name} agent-platform` }],
      exitStatus: EXIT_STATUS,
    }),
    (a) => request(a.argument),
  );
}

const GET = onePrincipal(
  'get',
  'show one principal',
  'Shows one principal: who owns it, what for, its scopes, key id and history.',
  'what agent-platform may do, and since when',
  (id) => ({ method: 'GET', path: `${BASE}/${id}` }),
);
const ROTATE = onePrincipal(
  'rotate',
  'issue a new API key; the old key stops working at once',
  'Issues a new API key for the principal and prints it (shown only once); the old key stops\nworking at once.',
  'replace a key that may have leaked',
  (id) => ({ method: 'POST', path: `${BASE}/${id}/rotate` }),
);
const REVOKE = onePrincipal(
  'revoke',
  'revoke a principal for good',
  'Revokes the principal for good: its key stops working on the next request.',
  'cut off a retired agent',
  (id) => ({ method: 'POST', path: `${BASE}/${id}/revoke` }),
);

const SET_SCOPES = subcommand(
  defineCommand({
    path: ['principals', 'set-scopes'],
    summary: "replace all of a principal's scopes",
    description: "Replaces all of the principal's scopes with the ones given.",
    argument: ID,
    options: { scope: scopes('a grant LOG:SCOPE; together they replace all scopes'), ...ADMIN_API },
    json: PRINTS_RESPONSE,
    examples: [
      {
        title: 'let an auditor export log prod and read its proofs, and nothing else',
        command: 'anchorlog principals set-scopes auditor-1 --scope prod:export --scope prod:proofs:read',
      },
    ],
    exitStatus: EXIT_STATUS,
  }),
  (a) => ({ method: 'PATCH', path: `${BASE}/${a.argument}`, body: { scopes: scopeMap(a.scope) } }),
);

const SET_ROLES = subcommand(
  defineCommand({
    path: ['principals', 'set-roles'],
    summary: "replace all of a principal's roles",
    description:
      "Replaces all of the principal's roles with the ones given (none: --none). Its direct scopes are\nkept; recorded as principal.roles.update.",
    argument: ID,
    options: {
      role: roles('a role; together they replace all roles'),
      none: flag('remove every role'),
      ...ADMIN_API,
    },
    json: PRINTS_RESPONSE,
    examples: [
      {
        title: 'give an agent the tenant writer role and nothing else',
        command: 'anchorlog principals set-roles agent-platform --role tenant-writer',
      },
    ],
    exitStatus: EXIT_STATUS,
  }),
  (a) => {
    const held = a.role ?? [];
    if (held.length > 0 === a.none)
      throw new UsageError('BAD_VALUE', 'give --role (one or more) or --none, not both');
    return { method: 'PATCH', path: `${BASE}/${a.argument}`, body: { roles: held } };
  },
);

/** Every failure: `error: CODE: message` on stderr (and the JSON document with --json). */
const ADMIN_FAILURE: FailureView = { label: 'error' };

/** One subcommand as a dispatcher entry: its request to the admin API, the answer printed. */
function command<O extends OptionSpecs, A>(sub: Subcommand<O, A>, deps: () => AdminApiDeps): Command {
  const name = sub.spec.path[1] as string;
  const run = (argv: readonly string[], io: CliIo) =>
    runCommand(
      sub.spec,
      argv,
      io,
      deps().env ?? {},
      async (args) => {
        // Every subcommand spreads ADMIN_API, which the type of a generic O cannot show.
        const base = args as Args<O, A> & { readonly api: string; readonly key: string };
        const body = await call(sub.request(args), base.api, base.key, deps().fetch ?? fetch);
        io.stdout(args.json ? printableJson(body, 2) : render(name, body));
        return EXIT_OK;
      },
      ADMIN_FAILURE,
    );
  return { path: sub.spec.path, summary: sub.spec.summary, run };
}

/** The principals subcommands as dispatcher entries; `deps` (read when one runs) gives the environment and fetch. */
export function principalsCommands(deps: () => AdminApiDeps): Command[] {
  return [
    command(CREATE, deps),
    command(LIST, deps),
    command(GET, deps),
    command(ROTATE, deps),
    command(REVOKE, deps),
    command(SET_SCOPES, deps),
    command(SET_ROLES, deps),
  ];
}

/** `anchorlog principals …` (argv after `principals`), with the environment and fetch in `io`. */
export function runPrincipals(argv: string[], io: PrincipalsIo): Promise<number> {
  return dispatch(
    ['principals', ...argv],
    io,
    principalsCommands(() => io),
  );
}

/** The request sent, the JSON object answered; anything else is a CheckError (exit 1). */
async function call(request: Request, api: string, key: string, doFetch: typeof fetch): Promise<object> {
  const url = new URL(request.path.replace(/^\//, ''), `${api}/`);
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
    throw new CheckError('UNAVAILABLE', `cannot reach ${url.origin}: ${(err as Error).message}`);
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
    throw new CheckError(code, message);
  }
  if (typeof body !== 'object' || body === null)
    throw new CheckError('INVALID_RESPONSE', `the API answered HTTP ${res.status} without a JSON object`);
  return body;
}

/** `--scope LOG:SCOPE` grants → the scope map the API takes. */
function scopeMap(grants: readonly ScopeGrant[]): ScopeMap {
  const map: Record<string, string[]> = {};
  for (const { log, scope } of grants) {
    const entry = Object.hasOwn(map, log) ? (map[log] as string[]) : [];
    entry.push(scope);
    map[log] = entry;
  }
  try {
    return validateScopes(map);
  } catch (err) {
    if (err instanceof PrincipalError) throw new UsageError('BAD_VALUE', flagMessage(err));
    throw err;
  }
}

function flagMessage(err: PrincipalError): string {
  const field = (err.path ?? '').split('/')[1];
  return field ? `--${field === 'scopes' ? 'scope' : field}: ${err.message}` : err.message;
}

/** A value from the API response as one printable field. */
const field = (v: unknown): string => printable(String(v));

function render(command: string, response: object): string {
  const body = response as Record<string, unknown>;
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
        [r.id, r.kind, r.status, r.name, (r.roles ?? []).join(',') || '-', formatScopes(r.scopes) || '-']
          .map(field)
          .join('\t'),
      );
      const more = typeof body.cursor === 'string' ? `more: --cursor ${field(body.cursor)}\n` : '';
      return `${['ID\tKIND\tSTATUS\tNAME\tROLES\tDIRECT SCOPES', ...lines].join('\n')}\n${more}`;
    }
    default:
      return p ? describe(p, body.access as Access | undefined) : printableJson(body, 2);
  }
}

function formatScopes(scopes: ScopeMap | undefined): string {
  return Object.entries(scopes ?? {})
    .flatMap(([log, list]) => list.map((s) => `${log}:${s}`))
    .join(',');
}

/** The access view the API adds to a principal (src/app/principals.ts PrincipalAccess). */
interface Access {
  effectiveScopes?: ScopeMap;
  directScopes?: boolean;
  keyIssuedAt?: string;
  keyAgeDays?: number;
  keyExpiresAt?: string;
  keyExpired?: boolean;
  lastUsedAt?: string;
}

function describe(p: Principal, access?: Access): string {
  const rows: Array<[string, unknown]> = [
    ['id', p.id],
    ['name', p.name],
    ['kind', p.kind],
    ['status', p.status],
    ['owner', p.owner],
    ['purpose', p.purpose],
    ['roles', p.roles && p.roles.length > 0 ? p.roles.join(',') : undefined],
    ['scopes', formatScopes(p.scopes) || (p.roles?.length ? '(none direct)' : '')],
    ['idp', p.idpIdentity],
    ['effective', access?.effectiveScopes ? formatScopes(access.effectiveScopes) || '(nothing)' : undefined],
    ['key id', p.keyId],
    [
      'key age',
      access?.keyAgeDays !== undefined
        ? `${access.keyAgeDays} days (issued ${access.keyIssuedAt}${access.keyExpiresAt ? `, ${access.keyExpired ? 'EXPIRED' : 'expires'} ${access.keyExpiresAt}` : ''})`
        : undefined,
    ],
    ['last use', access ? (access.lastUsedAt ?? 'never recorded') : undefined],
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
