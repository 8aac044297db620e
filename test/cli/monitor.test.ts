/**
 * `anchorlog monitor` end to end through the read API (in-process server on
 * the memory adapters): a sealer with classes, a clean check resumed from a
 * state file, and a checkpoint signed by a sealer that left a class record
 * out of the class log — the monitor's divergence, exit 1.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySealStateStore } from '../../src/adapters/memory/seal-state.ts';
import { SealService } from '../../src/app/seal.ts';
import { runMonitor } from '../../src/cli/monitor.ts';
import type { ReadApiDeps } from '../../src/cli/read-api.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { classLeafHash, classMatches, formatClassLine } from '../../src/core/classes/index.ts';
import { rootOf } from '../../src/core/merkle/root.ts';
import { formatCheckpoint, parseCheckpoint } from '../../src/core/note/checkpoint.ts';
import { signNote } from '../../src/core/note/sign.ts';
import { vkeyFromSpki } from '../../src/core/note/vkey.ts';
import { decodeRecord, leafHash } from '../../src/core/record.ts';
import type { LocalHttpServer } from '../../src/local/http-server.ts';
import {
  type Auth,
  auth,
  entriesFromBundles,
  ORIGIN_PREFIX,
  type ReadEnv,
  readEnv,
  serveReadApi,
} from '../app/proofs-fixture.ts';
import { captureIo } from './support.ts';

const ACCESS = { name: 'access', version: 1, action: 'access.*' };
let env: ReadEnv;
let a: Auth;
let server: LocalHttpServer;
let seal: SealService;
let dir: string;

const deps = (): ReadApiDeps => ({
  env: { ANCHORLOG_API_URL: server.url, ANCHORLOG_API_KEY: a.readerKey },
  fetch: globalThis.fetch,
});
const vkey = (log: string) => vkeyFromSpki(`${ORIGIN_PREFIX}/${log}`, env.signer.publicKeySpki);

let n = 0;
async function appendMixed(log: string, k: number): Promise<void> {
  const actions = ['access.grant', 'tool.call', 'access.revoke', 'config.set'];
  const events = Array.from({ length: k }, () => ({
    occurredAt: '2026-03-01T12:00:00.000Z',
    actor: { type: 'human', id: 'u-1' },
    action: actions[n++ % actions.length],
    outcome: 'success',
  }));
  env.clock.advance(1);
  await env.ingest.append({ logId: log, submitter: 'svc', body: utf8(JSON.stringify({ events })) });
}

beforeAll(async () => {
  env = await readEnv();
  seal = new SealService({
    logs: env.logs,
    state: new MemorySealStateStore(),
    archive: env.archive,
    signer: env.signer,
    clock: env.clock,
    originPrefix: ORIGIN_PREFIX,
    classes: [ACCESS],
  });
  for (const log of ['mon', 'bad']) {
    await env.logRegistry.createLog(log);
    await appendMixed(log, 40);
    await seal.sealLog(log);
  }
  a = await auth(env, ['mon', 'bad']);
  server = await serveReadApi(env, a);
  dir = await mkdtemp(join(tmpdir(), 'anchorlog-monitor-'));
});

afterAll(async () => {
  await server?.close();
});

describe('anchorlog monitor', () => {
  it('checks, saves its state, and resumes from it after the next seal', async () => {
    const state = join(dir, 'mon.json');
    let io = captureIo();
    expect(await runMonitor(['--log', 'mon', '--vkey', vkey('mon'), '--state', state], io, deps())).toBe(0);
    expect(io.out()).toContain('sizes 0..40 checked, no divergence');
    expect(io.out()).toContain('classes: access');
    expect(JSON.parse(await readFile(state, 'utf8')).size).toBe(40);

    await appendMixed('mon', 300);
    await seal.sealLog('mon');
    io = captureIo();
    expect(
      await runMonitor(['--log', 'mon', '--vkey', vkey('mon'), '--state', state, '--json'], io, deps()),
    ).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({
      ok: true,
      previousSize: 40,
      checkedSize: 340,
      classes: ['access'],
      divergence: null,
    });
  });

  it('reports the first divergence when the sealer left a class record out (exit 1)', async () => {
    const archived = await env.archive.getCheckpoint('bad');
    const honest = parseCheckpoint(`${(archived?.text ?? '').split('\n\n')[0]}\n`);
    const kept = (await entriesFromBundles(env, 'bad', honest.size))
      .map((b) => ({ rec: decodeRecord(b), leafHash: leafHash(b) }))
      .filter((r) => classMatches(ACCESS, r.rec.event) && r.rec.index !== 2)
      .map((r) => ({ index: r.rec.index, leafHash: r.leafHash }));
    const line = formatClassLine({
      def: ACCESS,
      fromSize: 0,
      size: kept.length,
      rootHash: rootOf(kept.map(classLeafHash)),
    });
    const forged = await signNote(formatCheckpoint({ ...honest, extensions: [line] }), [
      {
        keyName: honest.origin,
        keyId: env.signer.keyId,
        publicKeySpki: env.signer.publicKeySpki,
        sign: (m) => env.signer.sign(m),
      },
    ]);
    await env.archive.putCheckpoint('bad', forged, { ifMatch: archived?.etag ?? '' });
    const io = captureIo();
    expect(await runMonitor(['--log', 'bad', '--vkey', vkey('bad')], io, deps())).toBe(1);
    expect(io.out()).toContain('first divergence at checkpoint 40 in class access');
  });
});
