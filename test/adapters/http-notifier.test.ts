/**
 * HttpNotifier (src/adapters/notify/http-notifier.ts) against real local
 * servers: a receiver that verifies the Standard Webhooks signature, and
 * receivers that fail (500, 503 with Retry-After, 404, 410), hang (before
 * headers, mid-body), answer garbage (not HTTP; a 2xx with the wrong body;
 * an endless body), and redirect (to another host, to the same host).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpNotifier, retryAfterMs } from '../../src/adapters/notify/http-notifier.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { pagerDutyPayload, slackPayload, webhookPayload } from '../../src/core/deliver/payloads.ts';
import { parseWebhookSecrets, verifyWebhook } from '../../src/core/deliver/webhook-signature.ts';
import type { Notification } from '../../src/ports/notifier.ts';
import { NOTICE } from '../core/deliver/alerts.ts';

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

interface Receiver {
  url: string;
  hits: Array<{ path: string; headers: IncomingMessage['headers']; body: Buffer }>;
  handle: Handler;
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const r: Receiver = {
    url: '',
    hits: [],
    handle: (_req, _body, res) => res.writeHead(204).end(),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      r.hits.push({ path: req.url ?? '', headers: req.headers, body });
      r.handle(req, body, res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  r.url = `http://127.0.0.1:${addr.port}`;
  return r;
}

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ROUTING_KEY = 'R0123456789abcdef0123456789abcde';
const NOW = Date.parse('2026-03-01T03:13:00.000Z');
const clock = { now: () => NOW };
const note: Notification = { id: NOTICE.alert.id, notice: NOTICE, attempt: 1 };

let rx: Receiver;
let other: Receiver;
let garbage: TcpServer;
let garbageUrl: string;
beforeAll(async () => {
  rx = await receiver();
  other = await receiver();
  garbage = createTcpServer((s) => {
    s.on('data', () => {
      s.end('SSH-2.0-OpenSSH_9.6\r\n\u0000\u0001garbage that is not HTTP\r\n\r\n');
    });
  });
  await new Promise<void>((done) => garbage.listen(0, '127.0.0.1', () => done()));
  const a = garbage.address();
  if (!a || typeof a === 'string') throw new Error('no address');
  garbageUrl = `http://127.0.0.1:${a.port}`;
});
afterAll(async () => {
  await rx.close();
  await other.close();
  await new Promise<void>((done) => garbage.close(() => done()));
});

const webhook = (url = `${rx.url}/hooks/anchorlog`, timeoutMs = 2000) =>
  new HttpNotifier({
    name: 'soc',
    kind: 'webhook',
    url,
    keys: parseWebhookSecrets(SECRET),
    clock,
    timeoutMs,
  });
const slack = (path = '/services/T000/B000/XXXXSECRETXXXX', timeoutMs = 2000) =>
  new HttpNotifier({ name: 'chat', kind: 'slack', url: `${rx.url}${path}`, clock, timeoutMs });
const pager = (timeoutMs = 2000) =>
  new HttpNotifier({
    name: 'pd',
    kind: 'pagerduty',
    url: `${rx.url}/v2/enqueue`,
    routingKey: ROUTING_KEY,
    clock,
    timeoutMs,
  });

describe('delivered', () => {
  it('webhook: signed per Standard Webhooks; the receiver verifies the exact bytes; webhook-id is the alert id', async () => {
    rx.hits.length = 0;
    rx.handle = (_req, _body, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>thanks</html>');
    expect(await webhook().send(note)).toEqual({ ok: true, status: 200 });
    const hit = rx.hits[0];
    expect(hit?.path).toBe('/hooks/anchorlog');
    expect(hit?.headers['content-type']).toBe('application/json');
    expect(hit?.headers['webhook-id']).toBe(NOTICE.alert.id);
    expect(hit?.headers['webhook-timestamp']).toBe(String(NOW / 1000));
    expect(hit?.body.toString()).toBe(webhookPayload(NOTICE));
    const headers = Object.fromEntries(Object.entries(hit?.headers ?? {}).map(([k, v]) => [k, String(v)]));
    expect(
      verifyWebhook(parseWebhookSecrets(SECRET), headers, new Uint8Array(hit?.body ?? []), NOW / 1000),
    ).toEqual({
      id: NOTICE.alert.id,
      timestampSeconds: NOW / 1000,
    });
  });

  it('Slack: 200 "ok"; PagerDuty: 202 {"status":"success"}; bodies are the payload shapes', async () => {
    rx.hits.length = 0;
    rx.handle = (_req, _body, res) => res.writeHead(200).end('ok');
    expect(await slack().send(note)).toEqual({ ok: true, status: 200 });
    expect(JSON.parse(rx.hits[0]?.body.toString() ?? '')).toEqual(slackPayload(NOTICE));
    rx.handle = (_req, _body, res) =>
      res
        .writeHead(202, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: NOTICE.alert.id }));
    expect(await pager().send(note)).toEqual({ ok: true, status: 202 });
    const sent = JSON.parse(rx.hits[1]?.body.toString() ?? '');
    expect(sent).toEqual(pagerDutyPayload(NOTICE, ROUTING_KEY));
    expect(sent).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: NOTICE.alert.id,
    });
  });
});

describe('a receiver that fails', () => {
  it.each([
    [500, true],
    [502, true],
    [429, true],
    [408, true],
    [400, false],
    [401, false],
    [404, false],
    [410, false],
  ])('HTTP %i → retryable %s', async (status, retryable) => {
    rx.handle = (_req, _body, res) => res.writeHead(status).end(`no (${status})`);
    const r = await webhook().send(note);
    expect(r).toMatchObject({ ok: false, code: 'HTTP_STATUS', status, retryable });
    if (!r.ok) expect(r.message).toContain(`no (${status})`);
  });

  it('503 with Retry-After: the wait is passed on (seconds and HTTP dates)', async () => {
    rx.handle = (_req, _body, res) => res.writeHead(503, { 'retry-after': '7' }).end();
    expect(await webhook().send(note)).toMatchObject({ ok: false, retryable: true, retryAfterMs: 7000 });
    expect(retryAfterMs('Sun, 01 Mar 2026 03:14:00 GMT', NOW)).toBe(60_000);
    expect(retryAfterMs('soon', NOW)).toBeUndefined();
  });
});

describe('a receiver that hangs', () => {
  it('before answering: TIMEOUT, retryable, within the timeout', async () => {
    rx.handle = () => {}; // never answers
    const started = performance.now();
    const r = await webhook(undefined, 300).send(note);
    expect(r).toMatchObject({ ok: false, code: 'TIMEOUT', retryable: true });
    // Bounded: far below a test timeout (not a measurement of speed).
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('after the headers, in the middle of the body: TIMEOUT', async () => {
    rx.handle = (_req, _body, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('o');
    };
    expect(await slack(undefined, 300).send(note)).toMatchObject({
      ok: false,
      code: 'TIMEOUT',
      retryable: true,
    });
  });
});

describe('a receiver that answers garbage', () => {
  it('bytes that are not HTTP: NETWORK, retryable', async () => {
    const r = await webhook(`${garbageUrl}/x`).send(note);
    expect(r).toMatchObject({ ok: false, code: 'NETWORK', retryable: true });
  });

  it('Slack 200 with a body other than "ok", PagerDuty 2xx without success JSON: BAD_RESPONSE, retryable', async () => {
    rx.handle = (_req, _body, res) => res.writeHead(200).end('<html>captive portal</html>');
    expect(await slack().send(note)).toMatchObject({ ok: false, code: 'BAD_RESPONSE', retryable: true });
    rx.handle = (_req, _body, res) => res.writeHead(202).end('{"status":');
    expect(await pager().send(note)).toMatchObject({ ok: false, code: 'BAD_RESPONSE', retryable: true });
  });

  it('an endless body is not read past the bound', async () => {
    rx.handle = (_req, _body, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        while (res.write(chunk)) {
          if (res.destroyed) return;
        }
        res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    };
    expect(await slack().send(note)).toMatchObject({ ok: false, code: 'RESPONSE_TOO_LARGE' });
  });

  it('a connection refused: NETWORK, retryable', async () => {
    const closed = await receiver();
    const url = closed.url;
    await closed.close();
    expect(await webhook(`${url}/x`).send(note)).toMatchObject({
      ok: false,
      code: 'NETWORK',
      retryable: true,
    });
  });
});

describe('a receiver that redirects', () => {
  it.each([301, 302, 307, 308])(
    '%i to another host: REDIRECT, permanent, and the other host is never called',
    async (status) => {
      other.hits.length = 0;
      rx.handle = (_req, _body, res) => res.writeHead(status, { location: `${other.url}/steal` }).end();
      const r = await webhook().send(note);
      expect(r).toMatchObject({ ok: false, code: 'REDIRECT', status, retryable: false });
      expect(other.hits).toEqual([]);
    },
  );

  it('to the same host: not followed either', async () => {
    rx.hits.length = 0;
    rx.handle = (req, _body, res) =>
      req.url === '/moved' ? res.writeHead(204).end() : res.writeHead(308, { location: '/moved' }).end();
    expect(await webhook().send(note)).toMatchObject({ ok: false, code: 'REDIRECT' });
    expect(rx.hits.map((h) => h.path)).toEqual(['/hooks/anchorlog']);
  });
});

describe('secrets stay out of results', () => {
  it('a Slack URL’s path and a routing key never appear in a failure message', async () => {
    rx.handle = () => {};
    const messages: string[] = [];
    for (const r of [await slack(undefined, 200).send(note), await pager(200).send(note)])
      if (!r.ok) messages.push(r.message);
    rx.handle = (_req, _body, res) => res.writeHead(500).end(`echo ${ROUTING_KEY}`.replace(ROUTING_KEY, 'x'));
    for (const r of [await slack().send(note), await pager().send(note)]) if (!r.ok) messages.push(r.message);
    expect(messages).toHaveLength(4);
    for (const m of messages) {
      expect(m).not.toContain('XXXXSECRETXXXX');
      expect(m).not.toContain(ROUTING_KEY);
    }
    expect(utf8(messages.join()).length).toBeGreaterThan(0);
  });
});
