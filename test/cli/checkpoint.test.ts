import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { runCheckpoint } from '../../src/cli/checkpoint.ts';
import type { ReadApiDeps } from '../../src/cli/read-api.ts';
import { toBase64, utf8 } from '../../src/core/bytes.ts';
import { rootOf } from '../../src/core/merkle/root.ts';
import { vkeyFromSpki } from '../../src/core/note/vkey.ts';
import { leafHash } from '../../src/core/record.ts';
import type { LocalHttpServer } from '../../src/local/http-server.ts';
import {
  type Auth,
  auth,
  entriesFromBundles,
  growAndSeal,
  ORIGIN_PREFIX,
  type ReadEnv,
  readEnv,
  serveReadApi,
} from '../app/proofs-fixture.ts';
import { captureIo } from './support.ts';

const LOG = 'gamma';
let env: ReadEnv;
let a: Auth;
let server: LocalHttpServer;
let vkey: string;
let root: string;

const deps = (over: Partial<ReadApiDeps> = {}): ReadApiDeps => ({
  env: { ANCHORLOG_API_URL: server.url, ANCHORLOG_API_KEY: a.readerKey },
  fetch: globalThis.fetch,
  ...over,
});

/** A fetch that lets `edit` rewrite the body of responses whose URL contains `part`. */
function tamper(part: string, edit: (body: string) => string): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!String(input).includes(part)) return res;
    return new Response(edit(await res.text()), { status: res.status, headers: res.headers });
  };
}

beforeAll(async () => {
  env = await readEnv();
  await growAndSeal(env, LOG, [10, 290]);
  await env.logRegistry.createLog('other');
  a = await auth(env, [LOG, 'other']);
  server = await serveReadApi(env, a);
  vkey = vkeyFromSpki(`${ORIGIN_PREFIX}/${LOG}`, env.signer.publicKeySpki);
  root = toBase64(rootOf((await entriesFromBundles(env, LOG, 300)).map(leafHash)));
});

afterAll(async () => {
  await server?.close();
});

describe('anchorlog checkpoint', () => {
  it('verifies against a pinned --vkey and prints origin, size and root', async () => {
    const io = captureIo();
    expect(await runCheckpoint(['--log', LOG, '--vkey', vkey], io, deps()), io.err()).toBe(0);
    expect(io.out()).toContain('Verification: OK\n');
    expect(io.out()).toContain(`origin:  ${ORIGIN_PREFIX}/${LOG}\n`);
    expect(io.out()).toContain('size:    300\n');
    expect(io.out()).toContain(`root:    ${root}\n`);
    expect(io.err()).toBe('');
  });

  it('--vkey-file, --api/--key flags and --json', async () => {
    const io = captureIo({ '/keys.txt': utf8(`# pinned\n\n${vkey}\n`) });
    const code = await runCheckpoint(
      ['--log', LOG, '--vkey-file', '/keys.txt', '--api', server.url, '--key', a.readerKey, '--json'],
      io,
      deps({ env: {} }),
    );
    expect(code, io.err()).toBe(0);
    const out = JSON.parse(io.out());
    expect(out).toMatchObject({
      ok: true,
      verified: true,
      size: 300,
      rootHash: root,
      trustedServerKey: false,
      verdict: { exitCode: 0, status: 'ok', shortfalls: [] },
    });
    expect(out.verifiedBy).toEqual([vkey]);
  });

  // This exited 0 before: a script could not tell a pinned key from the server vouching for itself.
  it('without a pinned key: trusts /v1/keys, says so loudly and exits 3', async () => {
    const io = captureIo();
    expect(await runCheckpoint(['--log', LOG], io, deps())).toBe(3);
    expect(io.err()).toMatch(/^WARNING: no --vkey/);
    expect(io.out()).toMatch(/^Verification: VERIFIED, BUT NOT AGAINST A PINNED KEY \(exit 3\)\n/);
    const j = captureIo();
    expect(await runCheckpoint(['--log', LOG, '--json'], j, deps())).toBe(3);
    expect(JSON.parse(j.out())).toMatchObject({
      ok: false,
      verified: true,
      trustedServerKey: true,
      verdict: {
        exitCode: 3,
        status: 'untrusted',
        shortfalls: [{ code: 'UNTRUSTED_SERVER_KEY', exitCode: 3 }],
      },
    });
    const allowed = captureIo();
    expect(await runCheckpoint(['--log', LOG, '--allow-untrusted'], allowed, deps())).toBe(0);
    expect(allowed.out()).toMatch(
      /^Verification: OK \(accepted with --allow-untrusted\).*NOT a pinned one\n/,
    );
    expect(allowed.err()).toMatch(/^WARNING: no --vkey/);
  });

  it('--trust TRUST.json: logKeys pin the key, origins narrow the logs', async () => {
    const otherVkey = vkeyFromSpki(`${ORIGIN_PREFIX}/other`, env.signer.publicKeySpki);
    const files = {
      '/t.json': utf8(JSON.stringify({ logKeys: [vkey] })),
      '/t-origins.json': utf8(
        JSON.stringify({ logKeys: [vkey, otherVkey], origins: [`${ORIGIN_PREFIX}/${LOG}`] }),
      ),
      '/t-other.json': utf8(
        JSON.stringify({ logKeys: [vkey, otherVkey], origins: [`${ORIGIN_PREFIX}/other`] }),
      ),
      '/t-roots.json': utf8(
        JSON.stringify({ tsaRoots: ['-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n'] }),
      ),
    };
    const run = async (...args: string[]) => {
      const io = captureIo(files);
      return { code: await runCheckpoint(['--log', LOG, ...args], io, deps()), out: io.out(), err: io.err() };
    };
    expect((await run('--trust', '/t.json')).code).toBe(0);
    expect((await run('--trust', '/t-origins.json')).code).toBe(0);
    const r = await run('--trust', '/t-other.json');
    expect(r.code).toBe(1);
    expect(r.err).toContain('anchorlog checkpoint: ORIGIN_NOT_PINNED: ');
    expect((await run('--trust', '/t-roots.json')).code).toBe(2);
    expect((await run('--trust', '/nope.json')).code).toBe(2);
  });

  it('the rename attack: gamma’s checkpoint signed as "other" is refused for log other (KEY_NAME_MISMATCH)', async () => {
    // One key signs every log, so the vkeys of gamma and other differ only in their name.
    const gamma = await (
      await fetch(`${server.url}/v1/logs/${LOG}/checkpoint`, {
        headers: { authorization: `Bearer ${a.readerKey}` },
      })
    ).text();
    const renamed = gamma.replace(`\n— ${ORIGIN_PREFIX}/${LOG} `, `\n— ${ORIGIN_PREFIX}/other `);
    expect(renamed).not.toBe(gamma);
    const serveRenamed: typeof fetch = async (input, init) =>
      String(input).includes('/v1/logs/other/checkpoint') ? new Response(renamed) : fetch(input, init);
    const io = captureIo();
    const otherVkey = vkeyFromSpki(`${ORIGIN_PREFIX}/other`, env.signer.publicKeySpki);
    expect(
      await runCheckpoint(['--log', 'other', '--vkey', otherVkey], io, deps({ fetch: serveRenamed })),
    ).toBe(1);
    expect(io.err()).toContain('anchorlog checkpoint: KEY_NAME_MISMATCH: ');
  });

  it('fails (exit 1, reason code) on a wrong key, another log, tampering, or API errors', async () => {
    const other = LocalNoteSigner.generate('x');
    const cases: Array<[string, string[], ReadApiDeps, string]> = [
      [
        'wrong key',
        ['--vkey', vkeyFromSpki(`${ORIGIN_PREFIX}/${LOG}`, other.publicKeySpki)],
        deps(),
        'NO_TRUSTED_SIGNATURE',
      ],
      [
        "another log's key",
        ['--vkey', vkeyFromSpki(`${ORIGIN_PREFIX}/other`, env.signer.publicKeySpki)],
        deps(),
        'NO_TRUSTED_SIGNATURE',
      ],
      [
        'size rewritten',
        ['--vkey', vkey],
        deps({ fetch: tamper('/checkpoint', (b) => b.replace('\n300\n', '\n301\n')) }),
        'INVALID_SIGNATURE',
      ],
      [
        'root rewritten',
        ['--vkey', vkey],
        deps({ fetch: tamper('/checkpoint', (b) => b.replace(root, toBase64(new Uint8Array(32)))) }),
        'INVALID_SIGNATURE',
      ],
      [
        'signature dropped',
        ['--vkey', vkey],
        deps({ fetch: tamper('/checkpoint', (b) => `${b.split('\n\n')[0]}\n\n`) }),
        'MISSING_SEPARATOR',
      ],
      [
        'bad API key',
        ['--vkey', vkey],
        deps({ env: { ANCHORLOG_API_URL: server.url, ANCHORLOG_API_KEY: 'al_nope' } }),
        'API_ERROR',
      ],
      ['unreachable', ['--vkey', vkey, '--api', 'http://127.0.0.1:1'], deps(), 'API_UNREACHABLE'],
    ];
    for (const [name, args, d, code] of cases) {
      const io = captureIo();
      expect([name, await runCheckpoint(['--log', LOG, ...args], io, d)]).toEqual([name, 1]);
      expect(io.out()).toBe('Verification: FAILED\n');
      expect([name, io.err()]).toEqual([name, expect.stringContaining(`anchorlog checkpoint: ${code}: `)]);
    }
    // Unsealed log: the API's 404 is a failed check, named.
    const io = captureIo();
    expect(await runCheckpoint(['--log', 'other', '--json'], io, deps())).toBe(1);
    expect(JSON.parse(io.out())).toMatchObject({ verified: false, code: 'API_ERROR' });
    expect(io.err()).toContain('HTTP 404 NOT_FOUND');
  });

  it('--json: a failure carries the error as every command does, and the verdict a script reads', async () => {
    const io = captureIo();
    const d = deps({ fetch: tamper('/checkpoint', (b) => b.replace('\n300\n', '\n301\n')) });
    expect(await runCheckpoint(['--log', LOG, '--vkey', vkey, '--json'], io, d)).toBe(1);
    const doc = JSON.parse(io.out());
    expect(doc).toEqual({
      ok: false,
      error: { code: 'INVALID_SIGNATURE', message: expect.any(String) },
      verified: false,
      verdict: { exitCode: 1, status: 'failed' },
      code: 'INVALID_SIGNATURE',
      message: doc.error.message,
    });
    // A usage error found after parsing (an unreadable TRUST.json) is JSON too, with its code.
    const u = captureIo();
    expect(await runCheckpoint(['--log', LOG, '--trust', '/nope.json', '--json'], u, deps())).toBe(2);
    expect(JSON.parse(u.out())).toMatchObject({ ok: false, error: { code: 'UNREADABLE_FILE' } });
  });

  it('usage errors exit 2', async () => {
    const cases: Array<[string[], ReadApiDeps]> = [
      [[], deps()],
      [['--log', 'Bad_Log'], deps()],
      [['--log', LOG, '--vkey', 'nonsense'], deps()],
      [['--log', LOG, '--vkey-file', '/does/not/exist'], deps()],
      [['--log', LOG, '--bogus'], deps()],
      [['--log', LOG, 'extra'], deps()],
      [['--log', LOG], deps({ env: {} })],
      [['--log', LOG, '--api', 'ftp://x', '--key', 'k'], deps({ env: {} })],
      [['--log', LOG, '--api', server.url], deps({ env: {} })],
      [['--log', LOG, '--trust'], deps()],
      [['--log', LOG, '--allow-untrusted=yes'], deps()],
    ];
    for (const [args, d] of cases) {
      const io = captureIo();
      expect([args, await runCheckpoint(args, io, d)]).toEqual([args, 2]);
      expect(io.err()).toMatch(/^anchorlog checkpoint: /);
    }
    const help = captureIo();
    expect(await runCheckpoint(['--help'], help, deps())).toBe(0);
    expect(help.out()).toMatch(/^usage: anchorlog checkpoint/);
  });
});
