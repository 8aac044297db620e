/**
 * `anchorlog export` against the real export route over real HTTP, backed by
 * ExportService on moto (sealed log, both OpenSSL TSAs), the S3 exports
 * bucket and its presigned GET: the downloaded file is the bundle the API
 * described (size, SHA-256) and verifies offline with pinned trust.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import { runExport } from '../../src/cli/export.ts';
import { COMMANDS } from '../../src/cli/main.ts';
import { STARTER_CATALOG_DOCUMENTS } from '../../src/compose/starter-catalog.ts';
import { verifyBundle } from '../../src/core/bundle/index.ts';
import { Catalog } from '../../src/core/catalog.ts';
import { ocsfProblems } from '../../src/core/ocsf/validate.ts';
import { hasScope, type Principal } from '../../src/core/principal.ts';
import { decodePemCertificates } from '../../src/core/rfc3161/pem.ts';
import { createRouter } from '../../src/http/router.ts';
import { catalogRoutes } from '../../src/http/routes/catalog.ts';
import { exportRoutes } from '../../src/http/routes/exports.ts';
import { type LocalHttpServer, startHttpServer } from '../../src/local/http-server.ts';
import { appendAt, sealAndAnchor } from '../app/export-harness.ts';
import { exportEnv, type MotoExportEnv } from '../app/export-moto.ts';

const LOG = 'cli-export';
let env: MotoExportEnv;
let server: LocalHttpServer;
let small: LocalHttpServer;
let work: string;

const principal = (id: string, scopes: Principal['scopes']): Principal => ({
  id,
  name: id,
  kind: 'human',
  owner: 'audit@example.com',
  purpose: 'exports',
  scopes,
  status: 'active',
  keyId: 'k_0123456789abcdef',
  version: 1,
  createdAt: '2026-03-01T00:00:00.000Z',
  updatedAt: '2026-03-01T00:00:00.000Z',
  createdBy: 'system:bootstrap',
});
const auditor = principal('auditor', { [LOG]: ['export'], 'no-such-log': ['export'] });
const reader = principal('reader', { [LOG]: ['proofs:read'] });

async function serve(maxRecords?: number): Promise<LocalHttpServer> {
  const exports = env.exporter(maxRecords !== undefined ? { maxRecords } : {});
  const catalog = Catalog.fromDocuments(STARTER_CATALOG_DOCUMENTS);
  const dispatch = createRouter(
    [
      ...exportRoutes({
        exports,
        principals: {
          authorize: (p, l, s) => {
            if (!hasScope(p, l, s)) throw new AppError('FORBIDDEN', 'no');
          },
        },
      }),
      ...catalogRoutes({
        catalog: {
          list: () => ({ entries: catalog.entries(), defaultMode: 'warn' as const }),
          action: () => {
            throw new AppError('NOT_FOUND', 'unused');
          },
        },
      }),
    ],
    {
      authenticate: async (req) => {
        const k = req.headers.authorization;
        if (k === 'Bearer auditor-key') return auditor;
        if (k === 'Bearer reader-key') return reader;
        throw new AppError('UNAUTHENTICATED', 'bad key');
      },
    },
  );
  return startHttpServer(dispatch, { host: '127.0.0.1', port: 0, maxBodyBytes: 4096 });
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      stdout: (t: string) => void out.push(t),
      stderr: (t: string) => void err.push(t),
      readFile: async (p: string) => new Uint8Array(await readFile(p)),
    },
  };
}

const deps = (over: Partial<Parameters<typeof runExport>[2]> = {}) => ({
  env: { ANCHORLOG_API_URL: server.url, ANCHORLOG_API_KEY: 'auditor-key' },
  fetch: globalThis.fetch,
  ...over,
});

beforeAll(async () => {
  env = await exportEnv('cli-export');
  work = mkdtempSync(join(tmpdir(), 'anchorlog-cli-export-'));
  await env.logRegistry.createLog(LOG);
  const at = ['2026-02-10', '2026-03-05', '2026-04-01', '2026-05-20', '2026-06-30', '2026-07-02'];
  let i = 0;
  for (const d of at)
    await appendAt(env, LOG, `${d}T10:00:00.000Z`, [
      { action: 'access.grant', actor: 'u1', target: `t${i++}` },
      { action: 'tool.call', actor: 'u2', target: `t${i++}` },
      { action: 'access.revoke', actor: 'u1', target: `t${i++}` },
    ]);
  await sealAndAnchor(env, LOG);
  server = await serve();
  small = await serve(5);
}, 60_000);
afterAll(async () => {
  await server?.close();
  await small?.close();
});

describe('anchorlog export', () => {
  it('is registered in the dispatcher', () => {
    expect(COMMANDS.some((c) => c.path.join(' ') === 'export')).toBe(true);
  });

  it('downloads the bundle through the presigned URL, checks its SHA-256, and it verifies offline', async () => {
    const file = join(work, 'access.tar');
    const { io: cio, out, err } = io();
    const code = await runExport(
      ['--log', LOG, '--from', '2026-03-01', '--to', '2026-07-01', '--action', 'access.', '-o', file],
      cio,
      deps(),
    );
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    expect(out.join('')).toContain('exported 8 record(s)');
    expect(existsSync(`${file}.part`)).toBe(false);
    const report = await verifyBundle(readFileSync(file), {
      logKeys: [env.vkey(LOG)],
      tsaRoots: env.tsaRootsPem.flatMap((p) => decodePemCertificates(p)),
    });
    expect(report.records.count).toBe(8);
  });

  it("--actor (with --action) exports only that actor's records, and the bundle verifies offline", async () => {
    const file = join(work, 'actor.tar');
    const { io: cio, out, err } = io();
    const code = await runExport(
      [
        '--log',
        LOG,
        '--from',
        '2026-03-01',
        '--to',
        '2026-07-01',
        '--actor',
        'u2',
        '--action',
        'tool.',
        '-o',
        file,
      ],
      cio,
      deps(),
    );
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    expect(out.join('')).toContain('exported 4 record(s)');
    const report = await verifyBundle(readFileSync(file), {
      logKeys: [env.vkey(LOG)],
      tsaRoots: env.tsaRootsPem.flatMap((p) => decodePemCertificates(p)),
    });
    expect(report.records.count).toBe(4);
    expect(report.filter).toEqual({ actionPrefix: 'tool.', actorId: 'u2' });
  });

  it('on a TTY shows progress on stderr; --json describes the export', async () => {
    const file = join(work, 'all.tar');
    const { io: cio, out, err } = io();
    const code = await runExport(
      ['--log', LOG, '--from', '2026-03-01', '--to', '2026-07-01', '-o', file, '--json'],
      cio,
      deps({ tty: true }),
    );
    expect(code).toBe(0);
    expect(err.join('')).toMatch(/downloading .* \(100%\), 12 record\(s\)\n$/);
    const doc = JSON.parse(out.join(''));
    expect(doc).toMatchObject({ records: 12, file, range: { fromTime: '2026-03-01T00:00:00.000Z' } });
    expect(doc.verifiedSha256).toBe(doc.sha256);
    expect(doc.url).toBeUndefined();
  });

  it('--json escapes what the API sent (it is untrusted text) and parses to the same values', async () => {
    const file = join(work, 'hostile.tar');
    const hostile: typeof fetch = async (input, init) => {
      const res = await globalThis.fetch(input, init);
      if (!String(input).endsWith('/exports')) return res;
      const doc = (await res.json()) as Record<string, unknown>;
      return new Response(JSON.stringify({ ...doc, note: 'a\u202eb\u009b2J\u2028' }), { status: res.status });
    };
    const { io: cio, out } = io();
    const code = await runExport(
      ['--log', LOG, '--from', '2026-03-01', '--to', '2026-04-01', '-o', file, '--json'],
      cio,
      deps({ fetch: hostile }),
    );
    expect(code).toBe(0);
    expect(out.join('')).not.toMatch(/[\u202e\u009b\u2028]/);
    expect(JSON.parse(out.join(''))).toMatchObject({ ok: true, note: 'a\u202eb\u009b2J\u2028', file });
  });

  it('a download that does not match the reported SHA-256 fails (exit 1) and leaves no file', async () => {
    const file = join(work, 'tampered.tar');
    const tampering: typeof fetch = async (input, init) => {
      const res = await globalThis.fetch(input, init);
      if (String(input).startsWith(server.url)) return res;
      const bytes = new Uint8Array(await res.arrayBuffer());
      bytes[600] = (bytes[600] as number) ^ 1;
      return new Response(bytes, { status: 200 });
    };
    const { io: cio, err } = io();
    const code = await runExport(
      ['--log', LOG, '--from', '2026-03-01', '--to', '2026-07-01', '-o', file],
      cio,
      deps({ fetch: tampering }),
    );
    expect(code).toBe(1);
    expect(err.join('')).toContain('DOWNLOAD_MISMATCH');
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.part`)).toBe(false);
  });

  it.each([
    [
      'above the synchronous limit → 413',
      'small',
      ['--from', '2026-01-01', '--to', '2026-08-01'],
      'HTTP 413',
    ],
    ['from ≥ to → 400', 'main', ['--from', '2026-07-01', '--to', '2026-03-01'], 'HTTP 400'],
    ['bad date → 400', 'main', ['--from', '2026-13-01', '--to', '2026-03-01'], 'HTTP 400'],
    ['unknown log → 404', 'nolog', ['--from', '2026-03-01', '--to', '2026-07-01'], 'HTTP 404'],
    ['no export scope → 403', 'reader', ['--from', '2026-03-01', '--to', '2026-07-01'], 'HTTP 403'],
  ])('%s: exit 1 with the API error', async (_n, which, args, expected) => {
    const file = join(work, `err-${which}.tar`);
    const { io: cio, err } = io();
    const api = which === 'small' ? small.url : server.url;
    const key = which === 'reader' ? 'reader-key' : 'auditor-key';
    const log = which === 'nolog' ? 'no-such-log' : LOG;
    const code = await runExport(
      ['--log', log, ...args, '-o', file, '--api', api, '--key', key],
      cio,
      deps(),
    );
    expect(code).toBe(1);
    expect(err.join('')).toContain(expected);
    expect(existsSync(file)).toBe(false);
  });

  it.each([
    [[]],
    [['--log', LOG, '--to', '2026-07-01', '-o', 'x.tar']],
    [['--log', LOG, '--from', '2026-03-01', '-o', 'x.tar']],
    [['--log', LOG, '--from', '2026-03-01', '--to', '2026-07-01']],
    [['--log', 'BAD', '--from', '2026-03-01', '--to', '2026-07-01', '-o', 'x.tar']],
    [['--log', LOG, '--from', 'a', '--to', 'b', '-o', 'x.tar', '--bogus']],
  ])('usage error %j → exit 2', async (args) => {
    const { io: cio, err } = io();
    expect(await runExport(args, cio, deps())).toBe(2);
    expect(err.join('')).toContain('usage: anchorlog export');
  });

  it('--format ocsf writes one valid OCSF 1.1.0 line per record, each with its proof handle', async () => {
    const file = join(work, 'access.ocsf.jsonl');
    const { io: cio, out, err } = io();
    const code = await runExport(
      ['--log', LOG, '--from', '2026-03-01', '--to', '2026-07-01', '--format', 'ocsf', '-o', file],
      cio,
      deps(),
    );
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    expect(out.join('')).toContain('exported 12 OCSF event(s)');
    expect(existsSync(`${file}.part`)).toBe(false);
    expect(existsSync(`${file}.bundle.part`)).toBe(false);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(12);
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const ev of events) expect(ocsfProblems(ev)).toEqual([]);
    // Catalog classes: access.* → User Access Management, tool.call → API Activity.
    expect(new Set(events.map((e) => e.class_uid))).toEqual(new Set([3005, 6003]));
    // The proof handles are the leaf indexes of the range, in order, with their leaf hashes.
    const handles = events.map((e) => (e.unmapped as Record<string, string>)['anchorlog.leaf_index']);
    expect(handles).toEqual(handles.map((_, i) => String(Number(handles[0]) + i)));
    for (const e of events)
      expect((e.unmapped as Record<string, string>)['anchorlog.leaf_hash']).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it.each([
    [['--format', 'csv'], 'FORMAT'],
    [['--format', 'ocsf', '--class', 'privileged'], '--class'],
  ])('--format garbage %j → exit 2 naming the problem', async (extra, word) => {
    const { io: cio, err } = io();
    const args = ['--log', LOG, '--from', '2026-03-01', '--to', '2026-07-01', '-o', join(work, 'g.jsonl')];
    expect(await runExport([...args, ...extra], cio, deps())).toBe(2);
    expect(err.join('')).toContain(word);
  });

  it.each([
    ['2026-07-01', '2026-03-01'],
    ['2026-03-01', '2026-03-01'],
    ['2026-13-01', '2026-03-01'],
  ])('--format ocsf over a bad range (%s → %s): exit 1 with the API 400, no file', async (from, to) => {
    const file = join(work, 'r.jsonl');
    const { io: cio, err } = io();
    const args = ['--log', LOG, '--from', from, '--to', to, '--format', 'ocsf', '-o', file];
    expect(await runExport(args, cio, deps())).toBe(1);
    expect(err.join('')).toContain('HTTP 400');
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.part`)).toBe(false);
  });

  it('no API configured → exit 2; API unreachable → exit 1', async () => {
    const args = ['--log', LOG, '--from', '2026-03-01', '--to', '2026-07-01', '-o', join(work, 'u.tar')];
    expect(await runExport(args, io().io, { env: {}, fetch: globalThis.fetch })).toBe(2);
    expect(await runExport([...args, '--api', 'http://127.0.0.1:9', '--key', 'k'], io().io, deps())).toBe(1);
  });
});
