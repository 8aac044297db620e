import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesEqual, fromBase64, fromUtf8 } from '../../src/core/bytes.ts';
import { rootOf } from '../../src/core/merkle/root.ts';
import { entryBundlePath, tilePath } from '../../src/core/merkle/tile-path.ts';
import { verifyConsistency, verifyInclusion } from '../../src/core/merkle/verify.ts';
import { parseNote } from '../../src/core/note/signed-note.ts';
import { checkpointFromNote, type VerifiedCheckpoint } from '../../src/core/note/verify.ts';
import { parseVerifierKey } from '../../src/core/note/vkey.ts';
import { leafHash } from '../../src/core/record.ts';
import { createRouter } from '../../src/http/router.ts';
import { readRoutes } from '../../src/http/routes/read.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import {
  type Auth,
  auth,
  entriesFromBundles,
  growAndSeal,
  ORIGIN_PREFIX,
  prng,
  type ReadEnv,
  readEnv,
} from '../app/proofs-fixture.ts';

const LOG = 'beta';
let env: ReadEnv;
let a: Auth;
let dispatch: (req: HttpRequest) => Promise<HttpResponse>;
let heads: VerifiedCheckpoint[];
let leaves: Uint8Array[];

function request(path: string, opts: { key?: string | null; method?: string } = {}): Promise<HttpResponse> {
  const url = new URL(path, 'http://x');
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => {
    query[k] = v;
  });
  const key = opts.key === undefined ? a.readerKey : opts.key;
  return dispatch({
    method: opts.method ?? 'GET',
    // Keep the path as sent (no dot-segment normalisation), as API Gateway's rawPath does.
    path: path.split('?')[0] as string,
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
    query,
    pathParams: {},
    body: new Uint8Array(0),
    requestId: 'req-1',
  });
}

const text = (r: HttpResponse) => (typeof r.body === 'string' ? r.body : fromUtf8(r.body));
const body = (r: HttpResponse) => JSON.parse(text(r));

beforeAll(async () => {
  env = await readEnv();
  const texts = await growAndSeal(env, LOG, [3, 300, 40]);
  a = await auth(env, [LOG]);
  dispatch = createRouter(readRoutes({ proofs: env.proofs, principals: a.principals }), {
    authenticate: a.authenticate,
  });
  const key = parseVerifierKey((await env.proofs.keys()).keys[0]?.vkeyTemplate.replace('{logId}', LOG) ?? '');
  heads = texts.map((t) => checkpointFromNote(t, `${ORIGIN_PREFIX}/${LOG}`, [key]));
  leaves = (await entriesFromBundles(env, LOG, 343)).map(leafHash);
});

describe('read routes', () => {
  it('GET /v1/keys is public; the served checkpoint verifies with its vkey and with openssl', async () => {
    const keys = await request(`/v1/keys?log=${LOG}`, { key: null });
    expect(keys.status).toBe(200);
    const k = body(keys).keys[0];
    const res = await request(`/v1/logs/${LOG}/checkpoint`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    const cp = checkpointFromNote(text(res), `${ORIGIN_PREFIX}/${LOG}`, [parseVerifierKey(k.vkey)]);
    expect(cp.size).toBe(343);
    expect(bytesEqual(cp.rootHash, rootOf(leaves))).toBe(true);

    const note = parseNote(text(res));
    const dir = mkdtempSync(join(tmpdir(), 'anchorlog-read-'));
    writeFileSync(join(dir, 'key.pem'), k.pem);
    writeFileSync(join(dir, 'body.txt'), note.text);
    writeFileSync(join(dir, 'sig.der'), note.signatures[0]?.signature ?? new Uint8Array(0));
    const out = execFileSync('openssl', [
      'dgst',
      '-sha256',
      '-verify',
      join(dir, 'key.pem'),
      '-signature',
      join(dir, 'sig.der'),
      join(dir, 'body.txt'),
    ]).toString();
    expect(out.trim()).toBe('Verified OK');
  });

  it('GET /v1/keys names no log: one template per key, and ?log=L adds the vkey of L whether or not L exists', async () => {
    const plain = await request('/v1/keys', { key: null });
    expect(plain.status).toBe(200);
    expect(plain.headers['cache-control']).toBe('public, max-age=3600');
    const [k, ...more] = body(plain).keys;
    expect(more).toEqual([]);
    expect(Object.keys(k).sort()).toEqual(['keyId', 'name', 'pem', 'type', 'vkeyTemplate']);
    expect(k.name).toBe(`${ORIGIN_PREFIX}/{logId}`);
    expect(k.type).toBe('ecdsa-p256-sha256');
    // No log id appears anywhere in the public answer (it used to list every log of every tenant).
    expect(text(plain)).not.toContain(LOG);

    env.counting.reset();
    const known = await request(`/v1/keys?log=${LOG}`, { key: null });
    const unknown = await request('/v1/keys?log=no-such-log', { key: null });
    // Computed from the template alone: no archive (and no registry) read, so the answer
    // says nothing about whether the log exists.
    expect(env.counting.gets).toEqual([]);
    for (const [r, id] of [
      [known, LOG],
      [unknown, 'no-such-log'],
    ] as const) {
      expect(r.status).toBe(200);
      expect(r.headers['cache-control']).toBe('public, max-age=3600');
      const [x] = body(r).keys;
      expect(x).toEqual({ ...k, vkey: k.vkeyTemplate.replace('{logId}', id) });
      expect(parseVerifierKey(x.vkey).name).toBe(`${ORIGIN_PREFIX}/${id}`);
    }
  });

  it('GET /v1/keys refuses a log id that breaks the log-id rule, and unknown parameters', async () => {
    for (const qs of [
      'log=Bad_Log',
      'log=',
      `log=${'a'.repeat(64)}`,
      'log=-a',
      'log=a%2Fb',
      'log=%E2%80%AE',
    ]) {
      const r = await request(`/v1/keys?${qs}`, { key: null });
      expect([qs, r.status]).toEqual([qs, 400]);
      expect(body(r).error).toMatchObject({ code: 'BAD_REQUEST', path: '/query/log' });
      expect(r.headers['cache-control']).toBe('no-store');
    }
    const r = await request('/v1/keys?logs=a', { key: null });
    expect(r.status).toBe(400);
    expect(body(r).error).toMatchObject({ code: 'BAD_REQUEST', path: '/query/logs' });
  });

  it('serves tiles with the right types; authenticated responses are never cacheable by shared caches', async () => {
    const full = await request(`/v1/logs/${LOG}/${tilePath(0, 0)}`);
    expect(full.status).toBe(200);
    expect(full.headers).toMatchObject({
      'content-type': 'application/octet-stream',
      'cache-control': 'private, max-age=31536000, immutable',
    });
    expect((full.body as Uint8Array).length).toBe(256 * 32);
    const partial = await request(`/v1/logs/${LOG}/${tilePath(0, 1, 87)}`);
    expect(partial.status).toBe(200);
    expect(partial.headers['cache-control']).toBe('private, max-age=300');
    const bundle = await request(`/v1/logs/${LOG}/${entryBundlePath(0)}`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    const partialBundle = await request(`/v1/logs/${LOG}/${entryBundlePath(1, 87)}`);
    expect(partialBundle.status).toBe(200);
    expect(partialBundle.headers['cache-control']).toBe('private, max-age=300');

    // Every authenticated route, success or error: `private` or `no-store`, never `public`
    // (API keys also travel in x-api-key, which shared caches do not know is a credential).
    for (const path of [
      `/v1/logs/${LOG}/checkpoint`,
      `/v1/logs/${LOG}/${tilePath(0, 0)}`,
      `/v1/logs/${LOG}/${tilePath(1, 0, 1)}`,
      `/v1/logs/${LOG}/${entryBundlePath(0)}`,
      `/v1/logs/${LOG}/proof/inclusion?index=1`,
      `/v1/logs/${LOG}/proof/consistency?from=1`,
      `/v1/logs/${LOG}/proof/inclusion?index=99999`,
      `/v1/logs/${LOG}/tile/0/999`,
      `/v1/logs/other/checkpoint`,
    ]) {
      const r = await request(path);
      const cc = r.headers['cache-control'] ?? '';
      expect([path, r.status < 500]).toEqual([path, true]);
      expect([path, /(^|, )(private|no-store)(,|$)/.test(cc) && !cc.includes('public')]).toEqual([
        path,
        true,
      ]);
    }
    expect((await request(`/v1/logs/${LOG}/checkpoint`)).headers['cache-control']).toBe('private, no-cache');
    for (const key of [null, 'al_bogus']) {
      const r = await request(`/v1/logs/${LOG}/${tilePath(0, 0)}`, { key });
      expect(r.status).toBe(401);
      expect(r.headers['cache-control']).toBe('no-store');
    }
  });

  it('entry bundles (records) need events:read; hash tiles, checkpoints and proofs need proofs:read', async () => {
    const bundle = `/v1/logs/${LOG}/${entryBundlePath(0)}`;
    const partialBundle = `/v1/logs/${LOG}/${entryBundlePath(1, 87)}`;
    const hashTile = `/v1/logs/${LOG}/${tilePath(0, 0)}`;
    for (const p of [bundle, partialBundle]) {
      expect([p, (await request(p, { key: a.proofsOnlyKey })).status]).toEqual([p, 403]);
      expect([p, (await request(p, { key: a.anyLogKey })).status]).toEqual([p, 403]);
      expect([p, (await request(p, { key: a.writerKey })).status]).toEqual([p, 403]);
      expect([p, (await request(p, { key: a.eventsOnlyKey })).status]).toEqual([p, 200]);
      expect([p, (await request(p, { key: a.readerKey })).status]).toEqual([p, 200]);
    }
    const denied = body(await request(bundle, { key: a.proofsOnlyKey })).error;
    expect(denied.code).toBe('FORBIDDEN');
    expect(denied.message).toContain('events:read');
    expect((await request(hashTile, { key: a.proofsOnlyKey })).status).toBe(200);
    expect((await request(hashTile, { key: a.eventsOnlyKey })).status).toBe(403);
    expect((await request(`/v1/logs/${LOG}/checkpoint`, { key: a.eventsOnlyKey })).status).toBe(403);
    // A garbled entries path is still refused before anything is read.
    expect((await request(`/v1/logs/${LOG}/tile/entries/x`, { key: a.proofsOnlyKey })).status).toBe(403);
  });

  it('serves inclusion and consistency proofs that verify', async () => {
    const rnd = prng(3);
    for (let i = 0; i < 15; i++) {
      const size = 1 + rnd(leaves.length);
      const index = rnd(size);
      const res = await request(`/v1/logs/${LOG}/proof/inclusion?index=${index}&size=${size}`);
      expect(res.status).toBe(200);
      const p = body(res);
      expect(p).toMatchObject({ index, size });
      verifyInclusion(
        leaves[index] as Uint8Array,
        index,
        size,
        p.hashes.map(fromBase64),
        rootOf(leaves.slice(0, size)),
      );
    }
    const latest = body(await request(`/v1/logs/${LOG}/proof/inclusion?index=42`));
    expect(latest.size).toBe(343);
    for (const x of heads)
      for (const y of heads) {
        if (x.size > y.size) continue;
        const res = await request(`/v1/logs/${LOG}/proof/consistency?from=${x.size}&to=${y.size}`);
        expect(res.status).toBe(200);
        verifyConsistency(x.size, y.size, body(res).hashes.map(fromBase64), x.rootHash, y.rootHash);
      }
  });

  it('garbage parameters and paths get 400/404 naming the problem, never 5xx', async () => {
    const cases: Array<[string, number, string?]> = [
      ['proof/inclusion?index=-1', 400, '/query/index'],
      ['proof/inclusion?index=1e3', 400, '/query/index'],
      ['proof/inclusion?index=01', 400, '/query/index'],
      ['proof/inclusion?index=%201', 400, '/query/index'],
      ['proof/inclusion?index=0x10', 400, '/query/index'],
      ['proof/inclusion?index=1.0', 400, '/query/index'],
      ['proof/inclusion?index=99999999999999999999999', 400, '/query/index'],
      ['proof/inclusion?index=9007199254740992', 400, '/query/index'],
      ['proof/inclusion?index=9007199254740991', 400, '/query/index'],
      ['proof/inclusion', 400, '/query/index'],
      ['proof/inclusion?index=', 400, '/query/index'],
      ['proof/inclusion?index=343', 400, '/query/index'],
      ['proof/inclusion?index=5&size=5', 400, '/query/index'],
      ['proof/inclusion?index=0&size=abc', 400, '/query/size'],
      ['proof/inclusion?index=0&size=344', 400, '/query/size'],
      ['proof/inclusion?index=0&size=0', 400, '/query/size'],
      ['proof/inclusion?index=0&size=18446744073709551616', 400, '/query/size'],
      ['proof/consistency?from=abc', 400, '/query/from'],
      ['proof/consistency', 400, '/query/from'],
      ['proof/consistency?from=0', 400, '/query/from'],
      ['proof/consistency?from=10&to=9', 400, '/query/from'],
      ['proof/consistency?from=1&to=1e9', 400, '/query/to'],
      ['proof/consistency?from=1&to=344', 400, '/query/to'],
      ['tile/../x', 400, '/path'],
      ['tile/../../checkpoint', 400, '/path'],
      ['tile/0/x000/001', 400, '/path'],
      ['tile/0/0', 400, '/path'],
      ['tile/0/000.p/256', 400, '/path'],
      ['tile/0/000.p/0', 400, '/path'],
      ['tile/99/000', 400, '/path'],
      ['tile/-1/000', 400, '/path'],
      ['tile/0/000%2Fx', 400, '/path'],
      ['tile/0%2F000', 400, '/path'],
      ['tile/0/%', 400],
      ['tile/entries/x001/000', 404],
      ['tile/0/001', 404],
      ['tile/0/001.p/88', 404],
      ['tile/1/000', 404],
      ['tile/1/000.p/2', 404],
      ['tile/x/000', 400, '/path'],
      ['nothing', 404],
      ['checkpoint/x', 404],
    ];
    for (const [suffix, status, path] of cases) {
      const res = await request(`/v1/logs/${LOG}/${suffix}`);
      expect([suffix, res.status]).toEqual([suffix, status]);
      const err = body(res).error;
      expect(typeof err.code).toBe('string');
      if (path !== undefined) expect([suffix, err.path]).toEqual([suffix, path]);
    }
    // Unknown or bad log ids.
    // A log the reader may not see is 403, not 404: no probing which logs exist.
    expect((await request('/v1/logs/nope/checkpoint')).status).toBe(403);
    for (const p of ['checkpoint', 'proof/inclusion?index=0', 'proof/consistency?from=1', tilePath(0, 0, 1)])
      expect((await request(`/v1/logs/nope/${p}`, { key: a.anyLogKey })).status).toBe(404);
    expect((await request('/v1/logs/Bad_Log/checkpoint')).status).toBe(400);
    expect((await request(`/v1/logs/${'a'.repeat(64)}/proof/inclusion?index=0`)).status).toBe(400);
    // POST on a read route.
    expect((await request(`/v1/logs/${LOG}/checkpoint`, { method: 'POST' })).status).toBe(400);
  });

  it('requires proofs:read on the log: 401 without a key, 403 for other scopes or logs', async () => {
    expect((await request(`/v1/logs/${LOG}/checkpoint`, { key: null })).status).toBe(401);
    expect((await request(`/v1/logs/${LOG}/checkpoint`, { key: 'al_bogus' })).status).toBe(401);
    expect((await request(`/v1/logs/${LOG}/checkpoint`, { key: a.writerKey })).status).toBe(403);
    expect((await request(`/v1/logs/${LOG}/${tilePath(0, 0)}`, { key: a.writerKey })).status).toBe(403);
    expect((await request(`/v1/logs/${LOG}/proof/inclusion?index=0`, { key: a.writerKey })).status).toBe(403);
    expect((await request('/v1/logs/other/proof/consistency?from=1', { key: a.readerKey })).status).toBe(403);
  });
});
