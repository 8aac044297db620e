import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runPrincipals } from '../../src/cli/principals.ts';
import { issueApiKey } from '../../src/core/principal.ts';
import { captureIo } from './support.ts';

/**
 * A tiny real HTTP server standing in for the admin API with canned
 * responses (the real API is wired by the HTTP layer). It records what the
 * CLI sent so tests assert on the wire, not on internals.
 */
interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}
let server: Server;
let api: string;
let seen: Seen[];
let reply: { status: number; body: string } = { status: 200, body: '{}' };

const random = (n: number) => new Uint8Array(randomBytes(n));
const adminKey = issueApiKey('root-admin', random).apiKey;
const newKey = issueApiKey('billing-agent', random).apiKey;

const principal = {
  id: 'billing-agent',
  name: 'Billing agent',
  kind: 'agent',
  owner: 'team@example.com',
  purpose: 'writes events',
  scopes: { 'tenant-a': ['events:write'] },
  status: 'active',
  keyId: 'k_0123456789abcdef',
  version: 1,
  createdAt: '2026-03-01T12:00:00.000Z',
  updatedAt: '2026-03-01T12:00:00.000Z',
  createdBy: 'root-admin',
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const text = await readBody(req);
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      body: text ? JSON.parse(text) : undefined,
    });
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(reply.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  seen = [];
  reply = { status: 200, body: '{}' };
});

async function run(argv: string[], env: Record<string, string> = {}) {
  const io = { ...captureIo(), env };
  const code = await runPrincipals(argv, io);
  return { code, out: io.out(), err: io.err() };
}

const auth = () => ['--api', api, '--key', adminKey];

describe('anchorlog principals: usage errors exit 2 and send nothing', () => {
  const create = ['create', '--name', 'N', '--kind', 'agent', '--owner', 'O', '--purpose', 'P'];
  it.each([
    ['no command', []],
    ['unknown command', ['frobnicate']],
    ['unknown flag', ['list', '--frob']],
    ['flag of another command', ['list', '--name', 'x']],
    ['missing flag value', ['list', '--limit']],
    ['bad limit', ['list', '--limit', '0']],
    ['huge limit', ['list', '--limit', '1000']],
    ['extra positional', ['list', 'extra']],
    ['rotate without id', ['rotate']],
    ['rotate with two ids', ['rotate', 'a-b-c', 'd-e-f']],
    ['invalid id', ['revoke', '../../etc']],
    [
      'create without --name',
      ['create', '--kind', 'agent', '--owner', 'O', '--purpose', 'P', '--scope', 'a:export'],
    ],
    ['create without scopes', create],
    ['bad kind', [...create.slice(0, 3), '--kind', 'robot', ...create.slice(5), '--scope', 'a:export']],
    ['scope without log', [...create, '--scope', 'events:write']],
    ['scope with unknown name', [...create, '--scope', 'tenant-a:events:delete']],
    ['scope with bad log', [...create, '--scope', 'Tenant_A:export']],
    ['create with p_ id', [...create, '--scope', 'a:export', '--id', 'p_00']],
    ['set-scopes without scopes', ['set-scopes', 'billing-agent']],
  ])('%s', async (_why, argv) => {
    const r = await run([...argv, ...auth()]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('usage: anchorlog principals');
    expect(seen).toHaveLength(0);
  });

  it('needs an API URL and a well-formed key, and never echoes the key', async () => {
    expect((await run(['list', '--key', adminKey])).code).toBe(2);
    expect((await run(['list', '--api', api])).code).toBe(2);
    expect((await run(['list', '--api', 'ftp://x', '--key', adminKey])).code).toBe(2);
    const bad = await run(['list', '--api', api, '--key', 'sk-live-supersecret']);
    expect(bad.code).toBe(2);
    expect(bad.err).not.toContain('supersecret');
    expect(seen).toHaveLength(0);
  });

  it('--help exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('set-scopes');
    expect((await run(['rotate', '--help'])).code).toBe(0);
  });
});

describe('anchorlog principals: requests and output', () => {
  it('create sends the validated body and prints the key once', async () => {
    reply = { status: 201, body: JSON.stringify({ principal, apiKey: newKey }) };
    const r = await run([
      'create',
      '--name',
      'Billing agent',
      '--kind',
      'agent',
      '--owner',
      'team-lead',
      '--purpose',
      'writes events',
      '--scope',
      'tenant-a:events:write',
      '--scope',
      'tenant-a:events:read',
      '--scope',
      '*:proofs:read',
      '--id',
      'billing-agent',
      ...auth(),
    ]);
    expect(r.code).toBe(0);
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/v1/admin/principals',
        authorization: `Bearer ${adminKey}`,
        contentType: 'application/json',
        body: {
          id: 'billing-agent',
          name: 'Billing agent',
          kind: 'agent',
          owner: 'team-lead',
          purpose: 'writes events',
          scopes: { '*': ['proofs:read'], 'tenant-a': ['events:write', 'events:read'] },
        },
      },
    ]);
    expect(r.out.split(newKey)).toHaveLength(2);
    expect(r.out).toContain('shown only once');
  });

  it('list passes limit and cursor and prints a table with the next cursor', async () => {
    reply = { status: 200, body: JSON.stringify({ principals: [principal], cursor: 'YWJj' }) };
    const r = await run(['list', '--limit', '10', '--cursor', 'YWJj', ...auth()]);
    expect(r.code).toBe(0);
    expect(seen[0]?.method).toBe('GET');
    expect(seen[0]?.url).toBe('/v1/admin/principals?limit=10&cursor=YWJj');
    expect(r.out).toContain('billing-agent\tagent\tactive\tBilling agent\t-\ttenant-a:events:write');
    expect(r.out).toContain('more: --cursor YWJj');
  });

  it('rotate, revoke, get and set-scopes hit their routes', async () => {
    reply = { status: 200, body: JSON.stringify({ principal, apiKey: newKey }) };
    expect((await run(['rotate', 'billing-agent', ...auth()])).out).toContain(newKey);
    reply = { status: 200, body: JSON.stringify({ principal: { ...principal, status: 'revoked' } }) };
    expect((await run(['revoke', 'billing-agent', ...auth()])).code).toBe(0);
    expect((await run(['get', 'billing-agent', ...auth()])).out).toContain('status   revoked');
    expect((await run(['set-scopes', 'billing-agent', '--scope', '*:events:read', ...auth()])).code).toBe(0);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST /v1/admin/principals/billing-agent/rotate',
      'POST /v1/admin/principals/billing-agent/revoke',
      'GET /v1/admin/principals/billing-agent',
      'PATCH /v1/admin/principals/billing-agent',
    ]);
    expect(seen[3]?.body).toEqual({ scopes: { '*': ['events:read'] } });
    expect(seen[0]?.body).toBeUndefined();
  });

  it('a log named like an Object.prototype member is just a log', async () => {
    reply = { status: 200, body: JSON.stringify({ principal }) };
    const r = await run(['set-scopes', 'billing-agent', '--scope', 'constructor:export', ...auth()]);
    expect(r.code).toBe(0);
    expect(seen[0]?.body).toEqual({ scopes: { constructor: ['export'] } });
  });

  it('--json prints the response as JSON', async () => {
    reply = { status: 200, body: JSON.stringify({ principals: [principal] }) };
    const r = await run(['list', '--json', ...auth()]);
    expect(JSON.parse(r.out)).toEqual({ principals: [principal] });
  });

  it('takes URL and key from the environment; flags win', async () => {
    reply = { status: 200, body: JSON.stringify({ principals: [] }) };
    const env = { ANCHORLOG_API_URL: api, ANCHORLOG_API_KEY: adminKey };
    expect((await run(['list'], env)).code).toBe(0);
    expect(seen[0]?.authorization).toBe(`Bearer ${adminKey}`);
    expect((await run(['list', '--key', newKey], env)).code).toBe(0);
    expect(seen[1]?.authorization).toBe(`Bearer ${newKey}`);
    expect((await run(['list', '--api', 'http://127.0.0.1:1'], env)).code).toBe(1); // flag beat env
    expect(seen).toHaveLength(2);
  });
});

describe('anchorlog principals: API errors exit 1 with code and message', () => {
  it.each([
    [
      403,
      { error: { code: 'FORBIDDEN', message: 'principal x lacks scope admin on log *' } },
      'FORBIDDEN: principal x',
    ],
    [
      409,
      { error: { code: 'CONFLICT', message: 'principal billing-agent is revoked' } },
      'CONFLICT: principal',
    ],
    [
      503,
      { error: { code: 'UNAVAILABLE', message: 'the audit log is unavailable' } },
      'UNAVAILABLE: the audit',
    ],
    [502, 'Bad Gateway', 'HTTP_502'],
  ])('HTTP %i', async (status, body, expected) => {
    reply = { status, body: typeof body === 'string' ? body : JSON.stringify(body) };
    const r = await run(['rotate', 'billing-agent', ...auth()]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: ${expected}`);
    expect(r.err).not.toContain(adminKey);
  });

  it('--json: an API error is a JSON document on stdout too', async () => {
    reply = { status: 403, body: JSON.stringify({ error: { code: 'FORBIDDEN', message: 'no admin' } }) };
    const r = await run(['rotate', 'billing-agent', '--json', ...auth()]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({ ok: false, error: { code: 'FORBIDDEN', message: 'no admin' } });
    expect(r.err).toBe('error: FORBIDDEN: no admin\n');
  });

  it('unreachable API', async () => {
    const r = await run(['list', '--api', 'http://127.0.0.1:1', '--key', adminKey]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: UNAVAILABLE: cannot reach http:\/\/127\.0\.0\.1:1/);
  });

  it('a 2xx without JSON is an error, not a success', async () => {
    reply = { status: 200, body: 'ok' };
    expect((await run(['list', ...auth()])).code).toBe(1);
  });
});
