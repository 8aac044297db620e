/**
 * The local stack's Splunk HTTP Event Collector stand-in (docs/streams.md):
 * a small HTTP server that speaks the part of HEC a stream uses, as Splunk
 * answers it, and keeps what it got.
 *
 *   POST /services/collector/event   `Authorization: Splunk <token>` (401 code 2 without,
 *                                    403 code 4 for a wrong one); a body of JSON event
 *                                    objects, concatenated (whitespace between them
 *                                    allowed), each with a non-blank `event`; 200
 *                                    {"text":"Success","code":0}; 400 code 6 for a body
 *                                    that is not that, code 12/13 for a missing/blank event.
 *                                    With an X-Splunk-Request-Channel header: an `ackId`.
 *   POST /services/collector/ack     {"acks":[ids]} → {"acks":{"<id>":true|false}}
 *   GET  /anchorlog/status           {events, lastIndex, requests} (for `npm run demo`)
 *
 * For tests it can be told to fail the next N event requests: with a status
 * (503 "Server is busy" code 9, 500, 429 with Retry-After), by hanging, or by
 * resetting the connection; and it can stop listening (connection refused)
 * and listen again on the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type HecFault =
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: string }
  | { readonly kind: 'hang' }
  | { readonly kind: 'reset' }
  /** Accepts the events (keeps them) but answers 503: the client cannot tell; it resends. */
  | { readonly kind: 'lost-answer' }
  /** No fault: lets a request through in a queued schedule of faults. */
  | { readonly kind: 'none' };

export interface HecEvent {
  /** The envelope as sent (time, source, sourcetype, index, event …). */
  readonly envelope: Record<string, unknown>;
  /** envelope.event */
  readonly event: Record<string, unknown>;
}

export interface HecReceiver {
  /** The HEC base URL (what a stream's `url` is), e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly token: string;
  /** Every accepted event, in the order received (repeats included). */
  readonly events: readonly HecEvent[];
  /** Event requests answered, by status. */
  readonly answers: ReadonlyMap<number, number>;
  /** The leaf indexes received, in order (envelope.event.index). */
  indexes(): number[];
  /** The next `n` event requests fail this way. */
  failNext(n: number, fault: HecFault): void;
  /** ackIds stay "not indexed" for this many polls each. */
  ackDelayPolls: number;
  /** Stops listening (new connections are refused) until listen() is called. */
  stopListening(): Promise<void>;
  listen(): Promise<void>;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024 * 1024;

/**
 * Splits a HEC batch into its top-level JSON values. HEC accepts objects one
 * after another with or without whitespace between them; this follows
 * strings and escapes so braces inside them do not count.
 */
export function splitHecBatch(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      if (depth === 0) throw new SyntaxError('a HEC batch holds JSON objects only');
      inString = true;
    } else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth < 0) throw new SyntaxError('unbalanced }');
      if (depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
    } else if (depth === 0 && !/\s/.test(c as string))
      throw new SyntaxError('a HEC batch holds JSON objects only');
  }
  if (depth !== 0 || inString) throw new SyntaxError('truncated JSON');
  return out;
}

export async function startHecReceiver(opts: {
  token?: string;
  host?: string;
  port?: number;
  print?: (line: string) => void;
}): Promise<HecReceiver> {
  const token = opts.token ?? crypto.randomUUID();
  const host = opts.host ?? '127.0.0.1';
  const print = opts.print ?? (() => {});
  const events: HecEvent[] = [];
  const answers = new Map<number, number>();
  const faults: HecFault[] = [];
  const acks = new Map<string, { next: number; polls: Map<number, number> }>();
  const hanging = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  let requests = 0;

  const reply = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
  const answered = (status: number) => answers.set(status, (answers.get(status) ?? 0) + 1);

  const onEvent = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    requests++;
    const auth = req.headers.authorization;
    if (auth === undefined) {
      answered(401);
      return reply(res, 401, { text: 'Token is required', code: 2 });
    }
    if (auth !== `Splunk ${token}`) {
      answered(403);
      return reply(res, 403, { text: 'Invalid token', code: 4 });
    }
    const fault = faults.shift();
    if (fault?.kind === 'hang') {
      hanging.add(res);
      return;
    }
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      answered(fault.status);
      return reply(
        res,
        fault.status,
        fault.status === 503 ? { text: 'Server is busy', code: 9 } : { text: 'Internal error', code: 8 },
        fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {},
      );
    }
    let values: unknown[];
    try {
      values = splitHecBatch(body.toString('utf8'));
    } catch {
      answered(400);
      return reply(res, 400, { text: 'Invalid data format', code: 6 });
    }
    if (values.length === 0) {
      answered(400);
      return reply(res, 400, { text: 'No data', code: 5 });
    }
    const got: HecEvent[] = [];
    for (const [i, v] of values.entries()) {
      const e = v as Record<string, unknown> | null;
      if (typeof e !== 'object' || e === null || Array.isArray(e)) {
        answered(400);
        return reply(res, 400, { text: 'Invalid data format', code: 6, 'invalid-event-number': i });
      }
      if (!('event' in e)) {
        answered(400);
        return reply(res, 400, { text: 'Event field is required', code: 12, 'invalid-event-number': i });
      }
      if (e.event === '' || e.event === null) {
        answered(400);
        return reply(res, 400, { text: 'Event field cannot be blank', code: 13, 'invalid-event-number': i });
      }
      got.push({ envelope: e, event: e.event as Record<string, unknown> });
    }
    events.push(...got);
    if (fault?.kind === 'lost-answer') {
      answered(503);
      return reply(res, 503, { text: 'Server is busy', code: 9 });
    }
    const last = got.at(-1)?.event.index;
    print(`HEC receiver: ${got.length} event(s), last leaf index ${String(last)} (${events.length} in all)`);
    answered(200);
    const channel = req.headers['x-splunk-request-channel'];
    if (typeof channel === 'string') {
      let c = acks.get(channel);
      if (!c) {
        c = { next: 0, polls: new Map() };
        acks.set(channel, c);
      }
      const ackId = c.next++;
      c.polls.set(ackId, 0);
      return reply(res, 200, { text: 'Success', code: 0, ackId });
    }
    return reply(res, 200, { text: 'Success', code: 0 });
  };

  const onAck = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    if (req.headers.authorization !== `Splunk ${token}`)
      return reply(res, 403, { text: 'Invalid token', code: 4 });
    const channel = req.headers['x-splunk-request-channel'];
    const c = typeof channel === 'string' ? acks.get(channel) : undefined;
    if (!c) return reply(res, 400, { text: 'Data channel is missing', code: 10 });
    let ids: unknown;
    try {
      ids = (JSON.parse(body.toString('utf8')) as { acks?: unknown }).acks;
    } catch {
      return reply(res, 400, { text: 'Invalid data format', code: 6 });
    }
    if (!Array.isArray(ids)) return reply(res, 400, { text: 'Invalid data format', code: 6 });
    const out: Record<string, boolean> = {};
    for (const id of ids) {
      const polls = c.polls.get(Number(id));
      if (polls === undefined) {
        out[String(id)] = false;
        continue;
      }
      c.polls.set(Number(id), polls + 1);
      out[String(id)] = polls >= receiver.ackDelayPolls;
    }
    return reply(res, 200, { acks: out });
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/anchorlog/status') {
        const last = events.at(-1)?.event.index;
        return reply(res, 200, { events: events.length, lastIndex: last ?? null, requests });
      }
      if (req.method !== 'POST') return reply(res, 405, { text: 'Method not allowed', code: 6 });
      if (size > MAX_BODY) return reply(res, 413, { text: 'Content too large', code: 6 });
      const body = Buffer.concat(chunks);
      if (path === '/services/collector/event' || path === '/services/collector')
        return onEvent(req, res, body);
      if (path === '/services/collector/ack') return onAck(req, res, body);
      return reply(res, 404, { text: 'The requested URL was not found on this server.', code: 404 });
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  let port = opts.port ?? 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      for (const r of hanging) r.destroy();
      hanging.clear();
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  await listen();
  const receiver: HecReceiver = {
    url: `http://${host}:${port}`,
    token,
    events,
    answers,
    indexes: () => events.map((e) => e.event.index as number),
    failNext: (n, fault) => {
      for (let i = 0; i < n; i++) faults.push(fault);
    },
    ackDelayPolls: 0,
    stopListening,
    listen,
    close: async () => {
      if (server.listening) await stopListening();
    },
  };
  return receiver;
}
