/**
 * `anchorlog trust` against the real local stack (HTTP server, sealer, two
 * OpenSSL TSAs): the TRUST.json it writes pins exactly the served log key,
 * the log's origin and the TSA roots, the fingerprints it prints are those of
 * the real key and roots, and the file works for `checkpoint` and `verify`.
 * Garbage from the server (rewritten on the way by a fetch wrapper, as in
 * checkpoint.test.ts) and bad invocations exit 1 / 2 with a clear message.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { runMain } from '../../src/cli/main.ts';
import type { ReadApiDeps } from '../../src/cli/read-api.ts';
import { runTrust, type TrustDocument } from '../../src/cli/trust.ts';
import { AuditClient } from '../../src/client/audit-client.ts';
import { parseVerifierKey, spkiToPem } from '../../src/core/note/index.ts';
import { decodePemCertificates } from '../../src/core/rfc3161/index.ts';
import { demoEvents } from '../../src/local/demo-events.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { startTestStack } from '../e2e/helpers.ts';
import { captureIo } from './support.ts';

let stack: LocalStack;
let vkey: string;
let origin: string;
const dir = mkdtempSync(join(tmpdir(), 'anchorlog-trust-'));

const deps = (over: Partial<ReadApiDeps> = {}): ReadApiDeps => ({
  env: { ANCHORLOG_API_URL: stack.info.apiUrl, ANCHORLOG_API_KEY: stack.info.apiKey },
  fetch: globalThis.fetch,
  ...over,
});

/** A fetch that lets `edit` rewrite the JSON (or raw text) of responses whose URL contains `part`. */
function rewrite(part: string, edit: (body: string) => string): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!String(input).includes(part)) return res;
    return new Response(edit(await res.text()), { status: res.status, headers: res.headers });
  };
}
/** Rewrites a JSON body: `f` edits the document in place or returns a replacement. */
const editJson = (f: (doc: Record<string, unknown>) => unknown) => (b: string) => {
  const doc = JSON.parse(b) as Record<string, unknown>;
  return JSON.stringify(f(doc) ?? doc);
};

async function trust(args: string[], d: ReadApiDeps = deps()) {
  const io = captureIo();
  const code = await runTrust(['--log', stack.info.logId, ...args], io, d);
  return { code, out: io.out(), err: io.err() };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();
const colon = (b: Uint8Array) => (Buffer.from(b).toString('hex').toUpperCase().match(/../g) ?? []).join(':');

beforeAll(async () => {
  stack = await startTestStack();
  const client = new AuditClient({
    apiUrl: stack.info.apiUrl,
    apiKey: stack.info.apiKey,
    logId: stack.info.logId,
  });
  await Promise.all(demoEvents({ count: 20, startMs: Date.now() - 60_000 }).map((e) => client.append(e)));
  await client.close();
  await stack.sealNow();
  await stack.anchorNow();
  const keys = (await (await fetch(`${stack.info.apiUrl}/v1/keys?log=${stack.info.logId}`)).json()) as {
    keys: Array<{ vkey?: string; vkeys?: Record<string, string> }>;
  };
  const k = keys.keys[0];
  vkey = k?.vkey ?? k?.vkeys?.[stack.info.logId] ?? '';
  origin = parseVerifierKey(vkey).name;
});
afterAll(async () => {
  await stack?.stop();
});

describe('anchorlog trust', () => {
  it('-o FILE: pins the served key, the origin and the TSA roots; prints their fingerprints and the warning', async () => {
    const file = join(dir, 'TRUST.json');
    const r = await trust(['-o', file]);
    expect(r.code, r.err).toBe(0);
    const t = JSON.parse(readFileSync(file, 'utf8')) as TrustDocument;
    expect(t.logKeys).toEqual([vkey]);
    expect(t.origins).toEqual([origin]);
    expect(origin).toBe(`${origin.split('/')[0]}/${stack.info.logId}`);
    const roots = decodePemCertificates(readFileSync(stack.info.tsaRoots, 'utf8'));
    expect(t.tsaRoots.flatMap((p) => decodePemCertificates(p))).toEqual(expect.arrayContaining(roots));
    expect(t.tsaRoots).toHaveLength(roots.length);
    // The deployment's AnchorQuorum (the local stack runs 2 TSAs with quorum 2).
    expect(t.tsaQuorum).toBe(2);

    const spki = parseVerifierKey(vkey).publicKey;
    expect(r.out).toContain(`written to ${file}`);
    expect(r.out).toContain(`SHA-256 of the DER public key (SPKI): ${sha256(spki).toString('hex')}`);
    for (const root of roots) expect(r.out).toContain(`SHA-256 fingerprint: ${colon(sha256(root))}`);
    expect(r.err).toContain('ONLY AS TRUSTWORTHY AS YOUR COMPARISON');
  });

  it('the file it writes pins `checkpoint` (exit 0) and `verify` of an exported bundle', async () => {
    const file = join(dir, 'TRUST-use.json');
    expect((await trust(['-o', file])).code).toBe(0);
    const io = captureIo();
    const api = ['--api', stack.info.apiUrl, '--key', stack.info.apiKey];
    expect(
      await runMain(['checkpoint', '--log', stack.info.logId, '--trust', file, ...api], io),
      io.err(),
    ).toBe(0);
    const bundle = join(dir, 'b.tar');
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const exp = captureIo();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    expect(
      await runMain(
        ['export', '--log', stack.info.logId, '--from', from, '--to', to, '-o', bundle, ...api],
        exp,
      ),
      exp.err(),
    ).toBe(0);
    const v = captureIo();
    // Everything pinned; the range runs to the end of the checkpoint, so completeness is open: 4.
    expect(await runMain(['verify', bundle, '--trust', file, '--json'], v), v.err()).toBe(4);
    expect(JSON.parse(v.out())).toMatchObject({
      trustedBundleKeys: false,
      trustedBundleTsaRoots: false,
      verdict: { exitCode: 4, shortfalls: [{ code: 'RANGE_NOT_CLOSED' }] },
    });
  });

  it('without -o: TRUST.json on stdout, fingerprints and warning on stderr', async () => {
    const r = await trust([]);
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as TrustDocument).logKeys).toEqual([vkey]);
    expect(r.err).toContain('SHA-256 fingerprint:');
    expect(r.err).toContain('WARNING');
  });

  it('--json: trust, fingerprints and the warning in one document', async () => {
    const r = await trust(['--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({
      ok: true,
      log: stack.info.logId,
      origin,
      output: null,
      trust: { logKeys: [vkey], origins: [origin] },
      logKeys: [{ vkey, spkiSha256: sha256(parseVerifierKey(vkey).publicKey).toString('hex') }],
      warning: expect.stringContaining('only as trustworthy as your comparison'),
    });
    expect(j.tsaRoots.flatMap((x: { tsas: string[] }) => x.tsas).sort()).toEqual([
      'local-ecdsa',
      'local-rsa',
    ]);
  });

  it('--json with -o: the document names the file, which holds exactly the trust it reports', async () => {
    const file = join(dir, 'TRUST-json.json');
    const r = await trust(['--json', '-o', file]);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ ok: true, output: file, origin, log: stack.info.logId });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(doc.trust);
    expect(
      doc.tsaRoots.every((t: { sha256: string }) => /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(t.sha256)),
    ).toBe(true);
    expect(r.err).toContain('ONLY AS TRUSTWORTHY AS YOUR COMPARISON');
  });

  it('reads both /v1/keys shapes: `vkey` per key (current) and a per-log `vkeys` map (older)', async () => {
    const only = (shape: 'vkey' | 'vkeys') =>
      rewrite(
        '/v1/keys',
        editJson((d) => ({
          keys: (d.keys as Array<Record<string, unknown>>).map(({ vkey: _v, vkeys: _m, ...k }) =>
            shape === 'vkey' ? { ...k, vkey } : { ...k, vkeys: { [stack.info.logId]: vkey } },
          ),
        })),
      );
    for (const shape of ['vkey', 'vkeys'] as const) {
      const r = await trust(['--json'], deps({ fetch: only(shape) }));
      expect([shape, r.code, r.err]).toEqual([shape, 0, expect.any(String)]);
      expect(JSON.parse(r.out).trust.logKeys).toEqual([vkey]);
    }
  });

  it('refuses to overwrite an existing file (exit 2)', async () => {
    const file = join(dir, 'exists.json');
    writeFileSync(file, '{"pinned": "by hand"}');
    const r = await trust(['-o', file]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('exists');
    expect(readFileSync(file, 'utf8')).toBe('{"pinned": "by hand"}');
  });

  it('--help, and usage errors exit 2', async () => {
    const help = captureIo();
    expect(await runMain(['trust', '--help'], help)).toBe(0);
    expect(help.out()).toContain('usage: anchorlog trust');
    const main = captureIo();
    expect(await runMain(['--help'], main)).toBe(0);
    expect(main.out()).toContain('anchorlog trust');
    const cases: Array<[string, string[], ReadApiDeps]> = [
      ['no --log', [], deps()],
      ['bad log id', ['--log', 'Bad_Log'], deps()],
      ['bad URL', ['--log', 'x', '--api', 'not a url'], deps({ env: {} })],
      ['ftp URL', ['--log', 'x', '--api', 'ftp://h/', '--key', 'k'], deps({ env: {} })],
      ['no key', ['--log', 'x', '--api', 'http://127.0.0.1:1'], deps({ env: {} })],
      ['unknown flag', ['--log', 'x', '--bogus'], deps()],
      ['positional', ['--log', 'x', 'extra'], deps()],
      ['-o without a value', ['--log', 'x', '-o'], deps()],
    ];
    for (const [name, argv, d] of cases) {
      const io = captureIo();
      expect([name, await runTrust(argv, io, d)]).toEqual([name, 2]);
      expect([name, io.err()]).toEqual([name, expect.stringMatching(/^anchorlog trust: /)]);
    }
  });
});

describe('anchorlog trust: what the server sends is checked, and garbage exits 1 with a code', () => {
  const swapTokens = editJson((d) => {
    const t = d.tsas as Array<{ token: string }>;
    const [a, b] = [t[0]?.token, t[1]?.token];
    (t[0] as { token: string }).token = b as string;
    (t[1] as { token: string }).token = a as string;
  });
  const cases: Array<[string, string, typeof fetch | undefined, string]> = [
    ['unreachable API', '', async () => Promise.reject(new Error('connect ECONNREFUSED')), 'API_UNREACHABLE'],
    ['/v1/keys not JSON', '', rewrite('/v1/keys', () => '<html>hello</html>'), 'API_MALFORMED'],
    ['/v1/keys: keys not an array', '', rewrite('/v1/keys', () => '{"keys":"x"}'), 'API_MALFORMED'],
    ['/v1/keys: null', '', rewrite('/v1/keys', () => 'null'), 'API_MALFORMED'],
    ['/v1/keys: a key that is not an object', '', rewrite('/v1/keys', () => '{"keys":[7]}'), 'API_MALFORMED'],
    ['/v1/keys: no key at all', '', rewrite('/v1/keys', () => '{"keys":[]}'), 'API_MALFORMED'],
    [
      '/v1/keys: a vkey that does not parse',
      '',
      rewrite('/v1/keys', () => '{"keys":[{"vkey":"a+b+c"}]}'),
      'API_MALFORMED',
    ],
    [
      '/v1/keys: the key named for another log',
      '',
      rewrite('/v1/keys', () =>
        JSON.stringify({ keys: [{ vkey: vkey.replace(/\/[a-z0-9-]+\+/, '/other+') }] }),
      ),
      'API_MALFORMED',
    ],
    [
      '/v1/keys: a PEM that is another key',
      '',
      rewrite(
        '/v1/keys',
        editJson((d) => {
          const k = (d.keys as Array<{ pem: string }>)[0] as { pem: string };
          k.pem = spkiToPem(LocalNoteSigner.generate('x').publicKeySpki);
        }),
      ),
      'API_MALFORMED',
    ],
    ['anchors not JSON', '', rewrite('/anchors', () => 'not json'), 'API_MALFORMED'],
    [
      'anchors: no tsas',
      '',
      rewrite(
        '/anchors',
        editJson((d) => ({ ...d, tsas: undefined })),
      ),
      'API_MALFORMED',
    ],
    [
      'anchors: granted without a chain',
      '',
      rewrite(
        '/anchors',
        editJson((d) => {
          for (const t of d.tsas as Array<Record<string, unknown>>) t.chain = undefined;
        }),
      ),
      'API_MALFORMED',
    ],
    [
      'anchors: a chain that is not certificates',
      '',
      rewrite(
        '/anchors',
        editJson((d) => {
          for (const t of d.tsas as Array<Record<string, unknown>>)
            t.chain = ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'];
        }),
      ),
      'API_MALFORMED',
    ],
    [
      'anchors: chains without a self-signed root',
      '',
      rewrite(
        '/anchors',
        editJson((d) => {
          for (const t of d.tsas as Array<{ chain: string[] }>) t.chain = t.chain.slice(0, -1);
        }),
      ),
      'NO_TSA_ROOT',
    ],
    ['anchors: tokens swapped between TSAs', '', rewrite('/anchors', swapTokens), 'TSA_TOKEN_INVALID'],
    [
      'anchors: the checkpoint text altered',
      '',
      rewrite(
        '/anchors',
        editJson((d) => {
          d.checkpoint = String(d.checkpoint).replace(/\n(\d+)\n/, (_m, n) => `\n${Number(n) + 1}\n`);
        }),
      ),
      'INVALID_SIGNATURE',
    ],
    ['a log with no anchored checkpoint (HTTP 404)', 'nope', undefined, 'API_ERROR'],
    [
      'anchors: a quorum that is not a positive integer',
      '',
      rewrite(
        '/anchors',
        editJson((d) => {
          (d.quorum as { required: unknown }).required = '2';
        }),
      ),
      'API_MALFORMED',
    ],
    [
      'anchors: the quorum needs more TSAs than there are roots to pin',
      '',
      rewrite(
        '/anchors',
        editJson((d) => {
          (d.quorum as { required: number }).required = 3;
        }),
      ),
      'TSA_QUORUM_NOT_PINNABLE',
    ],
    [
      'anchors: only one TSA granted under quorum 2',
      '',
      rewrite(
        '/anchors',
        editJson((d) => {
          d.tsas = (d.tsas as unknown[]).slice(0, 1);
        }),
      ),
      'TSA_QUORUM_NOT_PINNABLE',
    ],
  ];

  it.each(cases)('%s → exit 1', async (name, log, f, code) => {
    const io = captureIo();
    const file = join(dir, `never-${name.replace(/[^a-z0-9]+/gi, '-')}.json`);
    const argv = ['--log', log || stack.info.logId, '-o', file];
    expect(await runTrust(argv, io, deps(f ? { fetch: f } : {}))).toBe(1);
    expect(io.err()).toMatch(
      new RegExp(`(^|\\n)anchorlog trust: ${code}: .+\\nNo TRUST.json was written\\.\\n$`),
    );
    if (code === 'NO_TSA_ROOT') expect(io.err()).toContain('holds no self-signed root; not pinned');
    expect(existsSync(file)).toBe(false);
  });

  it('--json on failure', async () => {
    const io = captureIo();
    const d = deps({ fetch: rewrite('/v1/keys', () => '[') });
    expect(await runTrust(['--log', stack.info.logId, '--json'], io, d)).toBe(1);
    expect(JSON.parse(io.out())).toEqual({
      ok: false,
      error: { code: 'API_MALFORMED', message: expect.stringContaining('not JSON') },
    });
  });
});
