import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProve } from '../../src/cli/prove.ts';
import type { ReadApiDeps } from '../../src/cli/read-api.ts';
import { fromUtf8, toBase64 } from '../../src/core/bytes.ts';
import { encodeEntryBundle } from '../../src/core/merkle/entry-bundle.ts';
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
import { skipChildProcesses } from '../support/tier.ts';
import { captureIo } from './support.ts';

const LOG = 'delta';
let env: ReadEnv;
let a: Auth;
let server: LocalHttpServer;
let vkey: string;
let records: Uint8Array[];

const deps = (over: Partial<ReadApiDeps> = {}): ReadApiDeps => ({
  env: { ANCHORLOG_API_URL: server.url, ANCHORLOG_API_KEY: a.readerKey },
  fetch: globalThis.fetch,
  ...over,
});

/** A fetch that rewrites the body of responses whose URL contains `part`. */
function tamper(part: string, edit: (body: Uint8Array) => Uint8Array): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!String(input).includes(part)) return res;
    return new Response(new Uint8Array(edit(new Uint8Array(await res.arrayBuffer()))), {
      status: res.status,
      headers: res.headers,
    });
  };
}

const editJson = (f: (doc: { hashes: string[] }) => void) => (b: Uint8Array) => {
  const doc = JSON.parse(fromUtf8(b));
  f(doc);
  return new TextEncoder().encode(JSON.stringify(doc));
};

async function prove(args: string[], d: ReadApiDeps = deps()) {
  const io = captureIo({ '/r.json': records[7] as Uint8Array, '/r8.json': records[8] as Uint8Array });
  const code = await runProve(['--log', LOG, '--vkey', vkey, ...args], io, d);
  return { code, out: io.out(), err: io.err() };
}

beforeAll(async () => {
  env = await readEnv();
  await growAndSeal(env, LOG, [20, 300]);
  a = await auth(env, [LOG]);
  server = await serveReadApi(env, a);
  vkey = vkeyFromSpki(`${ORIGIN_PREFIX}/${LOG}`, env.signer.publicKeySpki);
  records = await entriesFromBundles(env, LOG, 320);
});

afterAll(async () => {
  await server?.close();
});

describe('anchorlog prove', () => {
  it('reads the leaf from the entry bundle, verifies, and prints the record', async () => {
    for (const index of [0, 7, 255, 256, 319]) {
      const r = await prove(['--index', String(index)]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain('Verification: OK\n');
      expect(r.out).toContain(`leaf hash:  ${toBase64(leafHash(records[index] as Uint8Array))}\n`);
      expect(r.out).toContain(`record:     ${fromUtf8(records[index] as Uint8Array)}\n`);
    }
    const j = await prove(['--index', '300', '--json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.out)).toMatchObject({
      verified: true,
      index: 300,
      size: 320,
      checkpointSize: 320,
      record: { index: 300, logId: LOG },
    });
  });

  it('--leaf-hash, --record, and --size below the checkpoint (via a consistency proof)', async () => {
    expect(
      (await prove(['--index', '7', '--leaf-hash', toBase64(leafHash(records[7] as Uint8Array))])).code,
    ).toBe(0);
    expect((await prove(['--index', '7', '--record', '/r.json'])).code).toBe(0);
    for (const size of [8, 20, 256, 300]) {
      const r = await prove(['--index', '7', '--size', String(size)]);
      expect([size, r.code, r.err]).toEqual([size, 0, '']);
      expect(r.out).toContain(`in tree of size ${size} (consistent with 320)`);
    }
  });

  it('fails with a reason code: wrong leaf, wrong record, tampered proof or bundle, bad sizes', async () => {
    const zero = toBase64(new Uint8Array(32));
    const flip = (doc: { hashes: string[] }) => {
      doc.hashes[0] = zero;
    };
    const cases: Array<[string, string[], ReadApiDeps, string]> = [
      ['wrong leaf hash', ['--index', '7', '--leaf-hash', zero], deps(), 'INCLUSION_PROOF_INVALID'],
      ['record of index 8', ['--index', '7', '--record', '/r8.json'], deps(), 'RECORD_MISMATCH'],
      ['size beyond checkpoint', ['--index', '7', '--size', '321'], deps(), 'SIZE_BEYOND_CHECKPOINT'],
      ['index beyond size', ['--index', '20', '--size', '20'], deps(), 'INDEX_OUT_OF_RANGE'],
      [
        'tampered inclusion proof',
        ['--index', '7'],
        deps({ fetch: tamper('/proof/inclusion', editJson(flip)) }),
        'INCLUSION_PROOF_INVALID',
      ],
      [
        'truncated inclusion proof',
        ['--index', '7'],
        deps({
          fetch: tamper(
            '/proof/inclusion',
            editJson((d) => d.hashes.pop()),
          ),
        }),
        'BAD_PROOF_SIZE',
      ],
      [
        'tampered consistency proof',
        ['--index', '7', '--size', '100'],
        deps({ fetch: tamper('/proof/consistency', editJson(flip)) }),
        'CONSISTENCY_PROOF_INVALID',
      ],
      [
        'swapped record in the bundle',
        ['--index', '7'],
        deps({
          fetch: tamper('/tile/entries/', () =>
            encodeEntryBundle(
              records.slice(0, 256).map((r, i) => (i === 7 ? (records[8] as Uint8Array) : r)),
            ),
          ),
        }),
        'RECORD_MISMATCH',
      ],
      [
        'garbage bundle',
        ['--index', '7'],
        deps({ fetch: tamper('/tile/entries/', () => new Uint8Array([0, 9, 1])) }),
        'BAD_ENTRY_BUNDLE',
      ],
    ];
    for (const [name, args, d, code] of cases) {
      const r = await prove(args, d);
      expect([name, r.code]).toEqual([name, 1]);
      expect([name, r.err]).toEqual([name, expect.stringContaining(`anchorlog prove: ${code}: `)]);
      expect(r.out).toBe('Verification: FAILED\n');
    }
  });

  it('--json: success fields, and a failure as { ok: false, error }', async () => {
    const ok = await prove(['--index', '7', '--record', '/r.json', '--json']);
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({
      ok: true,
      verified: true,
      verdict: { exitCode: 0, status: 'ok', shortfalls: [] },
      log: LOG,
      index: 7,
      size: 320,
      leafHash: toBase64(leafHash(records[7] as Uint8Array)),
      trustedServerKey: false,
      record: { index: 7, logId: LOG },
    });
    const bad = await prove(['--index', '7', '--record', '/r8.json', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out)).toMatchObject({
      ok: false,
      verified: false,
      error: { code: 'RECORD_MISMATCH', message: 'record says log delta index 8' },
    });
  });

  it('without a pinned key: exit 3, or 0 with --allow-untrusted', async () => {
    const run = async (...args: string[]) => {
      const io = captureIo();
      return { code: await runProve(['--log', LOG, '--index', '7', ...args], io, deps()), out: io.out() };
    };
    const r = await run();
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/^Verification: VERIFIED, BUT NOT AGAINST A PINNED KEY \(exit 3\)\n/);
    expect((await run('--allow-untrusted')).code).toBe(0);
    const j = await run('--json');
    expect(JSON.parse(j.out)).toMatchObject({
      verified: true,
      verdict: { exitCode: 3, status: 'untrusted' },
    });
    // With the key pinned, the flag changes nothing.
    expect((await run('--vkey', vkey, '--allow-untrusted')).code).toBe(0);
  });

  it('usage errors exit 2', async () => {
    for (const args of [
      [],
      ['--index', 'abc'],
      ['--index', '-1'],
      ['--index', '1e3'],
      ['--index', '1', '--size', 'x'],
      ['--index', '1', '--leaf-hash', 'not base64!'],
      ['--index', '1', '--leaf-hash', toBase64(new Uint8Array(31))],
      ['--index', '1', '--leaf-hash', toBase64(new Uint8Array(32)), '--record', '/r.json'],
      ['--index', '1', '--record', '/nope'],
    ]) {
      const r = await prove(args);
      expect([args, r.code]).toEqual([args, 2]);
    }
  });

  it.skipIf(skipChildProcesses)(
    'the installed command (bin/anchorlog.mjs) reads ANCHORLOG_API_URL / ANCHORLOG_API_KEY',
    async () => {
      const bin = join(import.meta.dirname, '../../bin/anchorlog.mjs');
      const run = (args: string[]) =>
        promisify(execFile)(process.execPath, [bin, ...args], {
          env: { ...process.env, ANCHORLOG_API_URL: server.url, ANCHORLOG_API_KEY: a.readerKey },
        }).then(
          (r) => ({ code: 0, ...r }),
          (e: { code: number; stdout: string; stderr: string }) => e,
        );
      // Two processes in parallel: tsx start-up dominates.
      const [ok, bad] = await Promise.all([
        run(['prove', '--log', LOG, '--index', '5', '--vkey', vkey]),
        run([
          'prove',
          '--log',
          LOG,
          '--index',
          '5',
          '--vkey',
          vkey,
          '--leaf-hash',
          toBase64(new Uint8Array(32)),
        ]),
      ]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain('Verification: OK');
      expect(bad.stderr).toContain('INCLUSION_PROOF_INVALID');
      expect(bad.code).toBe(1);
    },
  );
});
