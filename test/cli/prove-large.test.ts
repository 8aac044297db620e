/**
 * Entry bundles larger than the API Lambda can return (6 MB after base64):
 * above ENTRY_BUNDLE_INLINE_MAX (1 MiB) the read API answers 307 with a
 * short-lived presigned S3 URL of the exact archived version, and `anchorlog
 * prove` follows it — without sending the API key — and checks what it gets
 * exactly as before. Real parts: records appended through IngestService,
 * sealed by SealService into S3 (moto), served by the real local HTTP server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRY_BUNDLE_INLINE_MAX, ENTRY_BUNDLE_URL_SECONDS } from '../../src/app/proofs.ts';
import { runProve } from '../../src/cli/prove.ts';
import type { ReadApiDeps } from '../../src/cli/read-api.ts';
import { bytesEqual, toBase64, utf8 } from '../../src/core/bytes.ts';
import { encodeEntryBundle } from '../../src/core/merkle/entry-bundle.ts';
import { entryBundlePath, tilePath } from '../../src/core/merkle/tile-path.ts';
import { vkeyFromSpki } from '../../src/core/note/vkey.ts';
import { leafHash, MAX_RECORD_BYTES } from '../../src/core/record.ts';
import type { LocalHttpServer } from '../../src/local/http-server.ts';
import { archiveKey } from '../../src/ports/archive-store.ts';
import {
  type Auth,
  auth,
  entriesFromBundles,
  ORIGIN_PREFIX,
  type ReadEnv,
  serveReadApi,
} from '../app/proofs-fixture.ts';
import { readEnvOnMoto } from '../app/proofs-moto.ts';
import { captureIo } from './support.ts';

const LOG = 'large';
const COUNT = 20;
let env: ReadEnv;
let a: Auth;
let server: LocalHttpServer;
let vkey: string;
let records: Uint8Array[];
let archived: Uint8Array;

/** A fetch that records each request (URL, whether it carried the API key) and its status. */
function recording(log: Array<{ url: string; auth: boolean; status: number }>, inner = globalThis.fetch) {
  return (async (input, init) => {
    const res = await inner(input, init);
    const headers = new Headers(init?.headers);
    log.push({ url: String(input), auth: headers.has('authorization'), status: res.status });
    return res;
  }) as typeof fetch;
}

const deps = (fetch: typeof globalThis.fetch = globalThis.fetch): ReadApiDeps => ({
  env: { ANCHORLOG_API_URL: server.url, ANCHORLOG_API_KEY: a.readerKey },
  fetch,
});

beforeAll(async () => {
  env = await readEnvOnMoto('cli-prove-large');
  await env.logRegistry.createLog(LOG);
  // Records just under the 65,535-byte limit: 20 of them make a ~1.3 MB entry bundle.
  const events = Array.from({ length: COUNT }, (_, i) => ({
    occurredAt: '2026-03-01T12:00:00.000Z',
    actor: { type: 'agent', id: 'agent-large' },
    action: 'tool.call',
    target: { type: 'tool', id: `t-${i}` },
    outcome: 'success',
    metadata: { blob: `${i}`.padEnd(MAX_RECORD_BYTES - 1000, 'x') },
  }));
  await env.ingest.append({ logId: LOG, submitter: 'svc-large', body: utf8(JSON.stringify({ events })) });
  const sealed = await env.seal.sealLog(LOG);
  expect(sealed.status).toBe('sealed');
  a = await auth(env, [LOG]);
  server = await serveReadApi(env, a);
  vkey = vkeyFromSpki(`${ORIGIN_PREFIX}/${LOG}`, env.signer.publicKeySpki);
  records = await entriesFromBundles(env, LOG, COUNT);
  archived = (await env.archive.get(archiveKey(LOG, entryBundlePath(0, COUNT)))) as Uint8Array;
});

afterAll(async () => {
  await server?.close();
});

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${server.url}/v1/logs/${LOG}/${path}`, {
    headers: { authorization: `Bearer ${a.readerKey}` },
    redirect: 'manual',
    ...init,
  });

describe('entry bundles above the inline limit', () => {
  it('the bundle is really too large to inline', () => {
    expect(archived.length).toBeGreaterThan(ENTRY_BUNDLE_INLINE_MAX);
    expect(bytesEqual(archived, encodeEntryBundle(records))).toBe(true);
  });

  it('GET is a private 307 to a presigned URL of the exact version, which serves the archived bytes', async () => {
    const res = await api(entryBundlePath(0, COUNT));
    expect(res.status).toBe(307);
    expect(res.headers.get('cache-control')).toBe('private, max-age=60');
    expect((await res.arrayBuffer()).byteLength).toBe(0);
    const url = new URL(res.headers.get('location') as string);
    expect(url.searchParams.get('versionId')).toBeTruthy();
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(ENTRY_BUNDLE_URL_SECONDS));
    const s3 = await fetch(url, { redirect: 'error' });
    expect(s3.status).toBe(200);
    expect(bytesEqual(new Uint8Array(await s3.arrayBuffer()), archived)).toBe(true);
  });

  it('hash tiles stay inline, and the redirect still needs events:read', async () => {
    const tile = await api(tilePath(0, 0, COUNT));
    expect(tile.status).toBe(200);
    expect((await tile.arrayBuffer()).byteLength).toBe(COUNT * 32);
    const denied = await api(entryBundlePath(0, COUNT), {
      headers: { authorization: `Bearer ${a.proofsOnlyKey}` },
    });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('location')).toBeNull();
  });

  it('a partial never stored and too large to cut here is 404 naming the stored width', async () => {
    const res = await api(entryBundlePath(0, COUNT - 1));
    expect(res.status).toBe(404);
    expect(JSON.stringify(await res.json())).toContain(entryBundlePath(0, COUNT));
    // Small enough once cut: served inline as before.
    const small = await api(entryBundlePath(0, 2));
    expect(small.status).toBe(200);
    expect(
      bytesEqual(new Uint8Array(await small.arrayBuffer()), encodeEntryBundle(records.slice(0, 2))),
    ).toBe(true);
  });

  it('anchorlog prove follows the redirect without the API key and verifies the record', async () => {
    const seen: Array<{ url: string; auth: boolean; status: number }> = [];
    const io = captureIo();
    const code = await runProve(['--log', LOG, '--index', '13', '--vkey', vkey], io, deps(recording(seen)));
    expect(code, io.err()).toBe(0);
    expect(io.out()).toContain(`leaf hash:  ${toBase64(leafHash(records[13] as Uint8Array))}\n`);
    expect(io.out()).toContain('"id":"t-13"');
    const bundle = seen.filter((s) => s.url.includes('/tile/entries/') || !s.url.startsWith(server.url));
    expect(bundle.map((s) => [s.url.startsWith(server.url), s.auth, s.status])).toEqual([
      [true, true, 307],
      [false, false, 200],
    ]);
    // With --size below the checkpoint, the bundle is still read at the checkpoint's (stored) width.
    const older = await runProve(
      ['--log', LOG, '--index', '3', '--size', '5', '--vkey', vkey],
      captureIo(),
      deps(),
    );
    expect(older).toBe(0);
  });

  it('what the redirect serves is checked as an inline body would be', async () => {
    // A hostile API redirects to bytes of its choosing: the record does not prove.
    const other = encodeEntryBundle(records.map((r, i) => (i === 13 ? utf8('{"not":"the record"}') : r)));
    const evil = (async (input, init) => {
      const u = String(input);
      if (u.startsWith('http://evil.test/')) return new Response(other.slice().buffer, { status: 200 });
      const res = await fetch(input, init);
      if (!u.includes('/tile/entries/')) return res;
      return new Response(null, { status: 307, headers: { location: 'http://evil.test/bundle' } });
    }) as typeof fetch;
    const io = captureIo();
    expect(await runProve(['--log', LOG, '--index', '13', '--vkey', vkey], io, deps(evil))).toBe(1);
    // A redirect to anything but http(s) is refused outright.
    const file = (async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).includes('/tile/entries/')) return res;
      return new Response(null, { status: 307, headers: { location: 'file:///etc/passwd' } });
    }) as typeof fetch;
    const f = captureIo();
    expect(await runProve(['--log', LOG, '--index', '13', '--vkey', vkey], f, deps(file))).toBe(1);
    expect(f.err()).toContain('API_MALFORMED');
  });
});
