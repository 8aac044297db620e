/**
 * `anchorlog signing-keys register|list|revoke`: a principal's producer
 * signing keys through the admin API (docs/producer-signatures.md
 * §Registering keys), with a key holding `admin` on `*`:
 *   POST /v1/admin/principals/{id}/signing-keys  { publicKey, notBefore?, notAfter? } → { key, created }
 *   GET  /v1/admin/principals/{id}/signing-keys                                   → { keys }
 *   POST /v1/admin/principals/{id}/signing-keys/{keyId}/revoke  { at? }           → { key, changed }
 * Every change is recorded in the system log by the API before it takes effect.
 */
import { type AlertsDeps, type Api, apiCommand } from './alerts.ts';
import { defineCommand, option } from './args.ts';
import type { Command } from './dispatch.ts';
import { UsageError } from './errors.ts';
import { type CliIo, EXIT_OK } from './io.ts';
import { printable, printableJson } from './printable.ts';
import { adminApiKey, httpUrl, inputFile, principalId, text, timeBound } from './values.ts';

export type SigningKeysDeps = AlertsDeps;

const ADMIN_API = {
  api: option(httpUrl, 'admin API base URL', { required: true, env: 'ANCHORLOG_API_URL' }),
  key: option(adminApiKey, 'API key of a principal with admin on *', {
    required: true,
    env: 'ANCHORLOG_API_KEY',
    secret: true,
  }),
};
const PRINCIPAL = { name: 'PRINCIPAL', type: principalId, description: 'the principal the key belongs to' };
const API_EXIT = 'exit status: 0 ok, 1 the API refused or could not be reached, 2 usage error';
const base = (id: string) => `/v1/admin/principals/${id}/signing-keys`;

const REGISTER = defineCommand({
  path: ['signing-keys', 'register'],
  summary: "register a producer's public key (Ed25519 or P-256) for signing its events",
  description: `Registers a public key, from an SPKI PEM file or a public JWK (JSON) file, for the principal:
events it submits may then carry a signature by that key (docs/producer-signatures.md). Rotation
with overlap: register the next key, move the producer over, then revoke the old one. Recorded in
the system log (producer_key.register) before it takes effect. The same key again is a no-op.`,
  argument: PRINCIPAL,
  options: {
    'public-key': option(inputFile('FILE'), 'the public key: SPKI PEM or public JWK', { required: true }),
    'not-before': option(timeBound, 'valid from (default now; not in the past)'),
    'not-after': option(timeBound, 'valid until (default no end)'),
    ...ADMIN_API,
  },
  json: "the API's response: { key, created }",
  examples: [
    {
      title: "app-1's Ed25519 key",
      command: 'anchorlog signing-keys register app-1 --public-key app-1.pub.pem',
    },
  ],
  exitStatus: API_EXIT,
});

const LIST = defineCommand({
  path: ['signing-keys', 'list'],
  summary: "list a principal's producer signing keys and their status",
  description: 'Each key: its id, algorithm, validity window, revocation time and status now.',
  argument: PRINCIPAL,
  options: { ...ADMIN_API },
  json: "the API's response: { keys }",
  examples: [{ title: "app-1's keys", command: 'anchorlog signing-keys list app-1' }],
  exitStatus: API_EXIT,
});

const REVOKE = defineCommand({
  path: ['signing-keys', 'revoke'],
  summary: 'revoke a producer signing key, now or at a later time',
  description: `Revokes a key from --at (default now; never in the past, so records already accepted stay
valid): events signed by it are refused from then on. A later --at schedules the end of a key
being rotated out. Recorded in the system log (producer_key.revoke) before it takes effect.`,
  argument: PRINCIPAL,
  options: {
    'key-id': option(text('KEYID'), 'the key id (as list prints it)', { required: true }),
    at: option(timeBound, 'revoked from this time (default now)'),
    ...ADMIN_API,
  },
  json: "the API's response: { key, changed }",
  examples: [
    {
      title: 'rotate out a key at the end of the month',
      command: 'anchorlog signing-keys revoke app-1 --key-id 3q2-7w… --at 2026-12-31T00:00:00Z',
    },
  ],
  exitStatus: API_EXIT,
});

type ApiArgs = { readonly json: boolean; readonly argument: string };
type KeyView = {
  keyId: string;
  alg: string;
  notBefore: string;
  notAfter?: string;
  revokedAt?: string;
  status: string;
};
const p = (v: unknown) => printable(String(v ?? ''));
const HEADER = 'KEY ID\tALG\tSTATUS\tNOT BEFORE\tNOT AFTER\tREVOKED AT';
const line = (k: KeyView) =>
  [k.keyId, k.alg, k.status, k.notBefore, k.notAfter ?? '-', k.revokedAt ?? '-'].map(p).join('\t');

/** The key file's text as the API takes it: a JWK as its JSON object, anything else as PEM text. */
async function publicKey(io: CliIo, file: string): Promise<unknown> {
  let raw: string;
  try {
    raw = new TextDecoder().decode(await io.readFile(file));
  } catch (e) {
    throw new UsageError('UNREADABLE_FILE', `cannot read ${file}: ${(e as Error).message}`);
  }
  if (raw.length > 64 * 1024) throw new UsageError('BAD_FILE', `${file} is too large for a public key`);
  if (raw.trimStart().startsWith('{')) {
    try {
      return JSON.parse(raw);
    } catch {
      throw new UsageError('BAD_FILE', `${file} starts like a JWK but is not JSON`);
    }
  }
  return raw;
}

async function runRegister(
  a: ApiArgs & { 'public-key': string; 'not-before'?: string; 'not-after'?: string },
  io: CliIo,
  api: Api,
) {
  const body = await api.call('POST', base(a.argument), {
    publicKey: await publicKey(io, a['public-key']),
    ...(a['not-before'] !== undefined ? { notBefore: a['not-before'] } : {}),
    ...(a['not-after'] !== undefined ? { notAfter: a['not-after'] } : {}),
  });
  if (a.json) io.stdout(printableJson(body, 2));
  else {
    const k = body.key as KeyView;
    io.stdout(
      `${body.created ? 'registered; recorded in the system log' : 'already registered (nothing recorded)'}\n${HEADER}\n${line(k)}\n`,
    );
  }
  return EXIT_OK;
}

async function runList(a: ApiArgs, io: CliIo, api: Api) {
  const body = await api.call('GET', base(a.argument));
  if (a.json) io.stdout(printableJson(body, 2));
  else {
    const keys = (Array.isArray(body.keys) ? body.keys : []) as KeyView[];
    io.stdout(`${[HEADER, ...keys.map(line)].join('\n')}\n`);
  }
  return EXIT_OK;
}

async function runRevoke(a: ApiArgs & { 'key-id': string; at?: string }, io: CliIo, api: Api) {
  const body = await api.call(
    'POST',
    `${base(a.argument)}/${encodeURIComponent(a['key-id'])}/revoke`,
    a.at !== undefined ? { at: a.at } : {},
  );
  if (a.json) io.stdout(printableJson(body, 2));
  else
    io.stdout(
      `${body.changed ? 'revoked; recorded in the system log' : 'already revoked by then (nothing recorded)'}\n${HEADER}\n${line(body.key as KeyView)}\n`,
    );
  return EXIT_OK;
}

export function signingKeysCommands(deps: () => SigningKeysDeps): Command[] {
  return [
    apiCommand(REGISTER, deps, runRegister),
    apiCommand(LIST, deps, runList),
    apiCommand(REVOKE, deps, runRevoke),
  ];
}
