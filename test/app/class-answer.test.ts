/**
 * The sample request end to end on the in-memory adapters: a log with
 * classes, sealed and time-stamped; the class answer use case builds the
 * document; the offline verifier says "complete for class access.* over
 * [from, to)" — and refuses an exporter's omission or a smuggled record.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassAnswerService } from '../../src/app/class-answer.ts';
import { AppError } from '../../src/app/errors.ts';
import { runExport } from '../../src/cli/export.ts';
import { runVerify } from '../../src/cli/verify.ts';
import { fromUtf8, utf8 } from '../../src/core/bytes.ts';
import { verifyClassAnswerDocument } from '../../src/core/classes/answer-doc.ts';
import { ClassError } from '../../src/core/classes/errors.ts';
import { parseVerifierKey } from '../../src/core/note/vkey.ts';
import { hasScope, type Principal } from '../../src/core/principal.ts';
import { decodeRecord } from '../../src/core/record.ts';
import { decodePemCertificates } from '../../src/core/rfc3161/pem.ts';
import { createRouter } from '../../src/http/router.ts';
import { classRoutes } from '../../src/http/routes/classes.ts';
import { type LocalHttpServer, startHttpServer } from '../../src/local/http-server.ts';
import { captureIo } from '../cli/support.ts';
import { appendAt, type ExportEnv, memoryExportEnv, sealAndAnchor } from './export-harness.ts';

const ACCESS = { name: 'access', version: 1, action: 'access.*' };
const CONFIG = { name: 'config', version: 1, action: 'config.*' };
let env: ExportEnv;
let svc: ClassAnswerService;
const LOG = 'sample';
const MONTHS = [
  '2026-01-15',
  '2026-02-15',
  '2026-03-15',
  '2026-04-15',
  '2026-05-15',
  '2026-06-15',
  '2026-07-15',
];

beforeAll(async () => {
  env = await memoryExportEnv(undefined, { classes: [ACCESS, CONFIG] });
  await env.logRegistry.createLog(LOG);
  let k = 0;
  for (const m of MONTHS) {
    for (let d = 0; d < 3; d++) {
      const actions = ['tool.call', 'access.grant', 'config.set', 'tool.call', 'access.revoke'];
      await appendAt(
        env,
        LOG,
        `${m}T0${d}:00:00.000Z`,
        actions.map((action) => ({ action, actor: `u${k++ % 3}`, target: `r${k}` })),
      );
    }
    await sealAndAnchor(env, LOG);
  }
  svc = new ClassAnswerService({ archive: env.archive, anchors: env.anchors });
});

const trust = () => ({
  logKeys: [parseVerifierKey(env.vkey(LOG))],
  tsaRoots: env.tsaRootsPem.flatMap((p) => decodePemCertificates(p)),
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ClassError);
  return (e as ClassError).code;
}

describe('class answers under an anchored checkpoint', () => {
  it('the sample request: all access changes March 1 – June 30 are proved complete', async () => {
    const doc = await svc.answer(LOG, 'access', '2026-03-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z');
    const r = await verifyClassAnswerDocument(doc, trust());
    expect(r.statement).toBe(
      'complete for class access.* over [2026-03-01T00:00:00.000Z, 2026-07-01T00:00:00.000Z)',
    );
    expect(r.records).toHaveLength(4 * 3 * 2);
    expect(r.records.every((x) => x.event.action.startsWith('access.'))).toBe(true);
    expect(r.anchors).toHaveLength(2);
  });

  it('an empty answer is proved empty', async () => {
    const r = await verifyClassAnswerDocument(
      await svc.answer(LOG, 'access', '2026-03-20T00:00:00.000Z', '2026-04-01T00:00:00.000Z'),
      trust(),
    );
    expect(r).toMatchObject({ complete: true, records: [] });
  });

  it('a range past the newest anchored checkpoint is reported as not complete', async () => {
    const r = await verifyClassAnswerDocument(
      await svc.answer(LOG, 'access', '2026-07-01T00:00:00.000Z', '2026-09-01T00:00:00.000Z'),
      trust(),
    );
    expect(r.complete).toBe(false);
    expect(r.statement).toMatch(/^NOT complete for class access\.\*/);
  });

  it('an exporter that drops a record is caught', async () => {
    const doc = JSON.parse(
      fromUtf8(await svc.answer(LOG, 'access', '2026-03-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z')),
    );
    doc.entries.splice(5, 1);
    expect(['CLASS_OMISSION', 'CLASS_PROOF_INVALID']).toContain(
      await codeOf(verifyClassAnswerDocument(utf8(JSON.stringify(doc)), trust())),
    );
  });

  it('a record of another class smuggled in is caught', async () => {
    const access = JSON.parse(
      fromUtf8(await svc.answer(LOG, 'access', '2026-03-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z')),
    );
    const config = JSON.parse(
      fromUtf8(await svc.answer(LOG, 'config', '2026-03-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z')),
    );
    const intruder = config.entries[3];
    const at = access.entries.findIndex(
      (e: { record: string }) =>
        decodeRecord(utf8(e.record)).index > decodeRecord(utf8(intruder.record)).index,
    );
    access.entries.splice(at, 0, { ...intruder, position: access.entries[at].position });
    access.entries.forEach((e: { position: number }, i: number) => {
      e.position = access.entries[0].position + i;
    });
    if (access.after) access.after.position = access.entries[0].position + access.entries.length;
    expect(await codeOf(verifyClassAnswerDocument(utf8(JSON.stringify(access)), trust()))).toBe(
      'CLASS_SMUGGLED',
    );
  });

  it('boundary records on both sides are carried and checked', async () => {
    const doc = JSON.parse(
      fromUtf8(await svc.answer(LOG, 'access', '2026-03-15T01:00:00.000Z', '2026-03-15T02:00:00.000Z')),
    );
    expect(doc.entries).toHaveLength(2);
    expect(decodeRecord(utf8(doc.before.record)).receivedAt).toBe('2026-03-15T00:00:00.000Z');
    expect(decodeRecord(utf8(doc.after.record)).receivedAt).toBe('2026-03-15T02:00:00.000Z');
    // The exporter claims the range ends earlier by presenting the last record as "after".
    const short = { ...doc, after: doc.entries[1], entries: doc.entries.slice(0, 1) };
    expect(await codeOf(verifyClassAnswerDocument(utf8(JSON.stringify(short)), trust()))).toBe(
      'CLASS_OMISSION',
    );
  });
});

describe('anchorlog verify ANSWER.json', () => {
  const trustFile = () => utf8(JSON.stringify({ logKeys: [env.vkey(LOG)], tsaRoots: env.tsaRootsPem }));

  async function cli(doc: Uint8Array, extra: string[] = []) {
    const io = captureIo({ 'answer.json': doc, 'TRUST.json': trustFile() });
    const code = await runVerify(['answer.json', '--trust', 'TRUST.json', ...extra], io);
    return { code, out: io.out(), err: io.err() };
  }

  it('prints "complete for class access.* over [from, to)" and exits 0', async () => {
    const r = await cli(
      await svc.answer(LOG, 'access', '2026-03-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z'),
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      'complete for class access.* over [2026-03-01T00:00:00.000Z, 2026-07-01T00:00:00.000Z)',
    );
  });

  it('exits 4 when not complete, 1 with CLASS_OMISSION when a record was left out', async () => {
    const open = await cli(
      await svc.answer(LOG, 'access', '2026-07-01T00:00:00.000Z', '2026-09-01T00:00:00.000Z'),
    );
    expect(open.code).toBe(4);
    const doc = JSON.parse(
      fromUtf8(await svc.answer(LOG, 'access', '2026-03-15T01:00:00.000Z', '2026-03-15T02:00:00.000Z')),
    );
    const short = { ...doc, after: doc.entries[1], entries: doc.entries.slice(0, 1) };
    const bad = await cli(utf8(JSON.stringify(short)), ['--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).error.code).toBe('CLASS_OMISSION');
  });
});

describe('anchorlog export --class, then anchorlog verify (the sample request end to end)', () => {
  let server: LocalHttpServer;
  beforeAll(async () => {
    const auditor: Principal = {
      id: 'auditor',
      name: 'auditor',
      kind: 'human',
      owner: 'audit@example.com',
      purpose: 'sample requests',
      scopes: { [LOG]: ['export'] },
      status: 'active',
      keyId: 'k_0123456789abcdef',
      version: 1,
      createdAt: '2026-03-01T00:00:00.000Z',
      updatedAt: '2026-03-01T00:00:00.000Z',
      createdBy: 'system:bootstrap',
    };
    const dispatch = createRouter(
      classRoutes({
        answers: svc,
        principals: {
          authorize: (p, l, sc) => {
            if (!hasScope(p, l, sc)) throw new AppError('FORBIDDEN', 'no');
          },
        },
      }),
      {
        authenticate: async (req) => {
          if (req.headers.authorization === 'Bearer auditor-key') return auditor;
          throw new AppError('UNAUTHENTICATED', 'bad key');
        },
      },
    );
    server = await startHttpServer(dispatch, { host: '127.0.0.1', port: 0, maxBodyBytes: 4096 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('exports the class answer and verify prints "complete"', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'anchorlog-class-'));
    const out = join(dir, 'access.json');
    const deps = {
      env: { ANCHORLOG_API_URL: server.url, ANCHORLOG_API_KEY: 'auditor-key' },
      fetch: globalThis.fetch,
    };
    const e = captureIo();
    const argv = ['--log', LOG, '--class', 'access', '--from', '2026-03-01', '--to', '2026-07-01', '-o', out];
    const code = await runExport(argv, e, deps);
    expect(e.err()).toBe('');
    expect(code).toBe(0);
    expect(e.out()).toContain('exported 24 record(s) of class access');
    const v = captureIo({ 'TRUST.json': trustFile() });
    expect(await runVerify([out, '--trust', 'TRUST.json'], v)).toBe(0);
    expect(v.out()).toContain(
      'complete for class access.* over [2026-03-01T00:00:00.000Z, 2026-07-01T00:00:00.000Z)',
    );
  });

  it('--class with --action is a usage error; an unknown class is 404', async () => {
    const deps = {
      env: { ANCHORLOG_API_URL: server.url, ANCHORLOG_API_KEY: 'auditor-key' },
      fetch: globalThis.fetch,
    };
    const base = ['--log', LOG, '--from', '2026-03-01', '--to', '2026-07-01', '-o', join(tmpdir(), 'x.json')];
    expect(await runExport([...base, '--class', 'access', '--action', 'access.'], captureIo(), deps)).toBe(2);
    const io = captureIo();
    expect(await runExport([...base, '--class', 'nope'], io, deps)).toBe(1);
    expect(io.err()).toContain('404');
  });
});

function trustFile() {
  return utf8(JSON.stringify({ logKeys: [env.vkey(LOG)], tsaRoots: env.tsaRootsPem }));
}
