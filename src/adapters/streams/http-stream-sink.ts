/**
 * Stream sinks over HTTP (src/ports/stream-sink.ts), on undici as the alert
 * notifiers are (src/adapters/notify/http-notifier.ts says why):
 *
 *   splunk-hec  POST <url>/services/collector/event, `Authorization: Splunk <token>`;
 *               success is 200 with JSON code 0. With `ack`, the request names a
 *               channel (X-Splunk-Request-Channel) and the chunk counts only once
 *               POST /services/collector/ack says its ackId is indexed.
 *   datadog     POST <url>/api/v2/logs, `DD-API-KEY`; success is any 2xx (202).
 *   webhook     POST <url>, signed per Standard Webhooks (webhook-id = the chunk id,
 *               stable across retries); success is any 2xx, body unread.
 *
 * Receivers are untrusted: one deadline covers the exchange; redirects are never
 * followed; at most 16 KiB of an answer is read. 408, 425, 429 and 5xx are
 * retryable (with Retry-After), as are timeouts and network errors; other 4xx
 * and 3xx are permanent. Messages name the stream and host, never a credential.
 */
import { Agent, type Dispatcher, errors, request } from 'undici';
import type { Sleep } from '../../core/backoff.ts';
import type { AttemptResult } from '../../core/deliver/progress.ts';
import { type WebhookKey, webhookHeaders } from '../../core/deliver/webhook-signature.ts';
import { chunkId } from '../../core/streams/payloads.ts';
import { DATADOG_LOGS_PATH, HEC_ACK_PATH, HEC_EVENT_PATH } from '../../core/streams/spec.ts';
import type { Clock } from '../../ports/clock.ts';
import type { StreamSend, StreamSink } from '../../ports/stream-sink.ts';
import { retryAfterMs } from '../notify/http-notifier.ts';

export type HttpStreamSinkOptions = {
  readonly name: string;
  readonly url: string;
  readonly clock: Clock;
  /** The whole exchange. Default 10 s. */
  readonly timeoutMs?: number;
  readonly dispatcher?: Dispatcher;
} & (
  | {
      readonly kind: 'splunk-hec';
      readonly token: string;
      readonly ack?: { readonly sleep: Sleep; readonly timeoutMs?: number; readonly pollMs?: number };
    }
  | { readonly kind: 'datadog'; readonly apiKey: string }
  | { readonly kind: 'webhook'; readonly keys: readonly WebhookKey[] }
);

export const DEFAULT_STREAM_TIMEOUT_MS = 10_000;
const MAX_ANSWER = 16 * 1024;
const USER_AGENT = 'anchorlog-streams/1';

let sharedAgent: Agent | undefined;
function defaultAgent(timeoutMs: number): Agent {
  sharedAgent ??= new Agent({
    connect: { timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 10_000,
  });
  return sharedAgent;
}

function excerpt(text: string): string {
  return text
    .slice(0, 200)
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
}

type Answer = { status: number; headers: Dispatcher.ResponseData['headers']; text: string };

export class HttpStreamSink implements StreamSink {
  readonly name: string;
  readonly kind: HttpStreamSinkOptions['kind'];
  readonly #o: HttpStreamSinkOptions;
  readonly #timeoutMs: number;
  readonly #host: string;
  /** HEC's ack channel: one per sink instance (a GUID, as HEC requires). */
  readonly #channel = crypto.randomUUID();

  constructor(options: HttpStreamSinkOptions) {
    this.#o = options;
    this.name = options.name;
    this.kind = options.kind;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_STREAM_TIMEOUT_MS;
    this.#host = new URL(options.url).host;
  }

  get #where(): string {
    return `${this.kind} stream ${this.name} (${this.#host})`;
  }

  async #post(
    url: string,
    headers: Record<string, string>,
    body: Uint8Array,
  ): Promise<Answer | Extract<AttemptResult, { ok: false }>> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    try {
      const res = await request(url, {
        method: 'POST',
        headers: { 'user-agent': USER_AGENT, ...headers },
        body,
        signal: controller.signal,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        dispatcher: this.#o.dispatcher ?? defaultAgent(this.#timeoutMs),
      });
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const c of res.body as AsyncIterable<Buffer>) {
        total += c.length;
        if (total > MAX_ANSWER) {
          res.body.on('error', () => {});
          res.body.destroy();
          break;
        }
        chunks.push(c);
      }
      return { status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') };
    } catch (err) {
      if (
        timedOut ||
        err instanceof errors.HeadersTimeoutError ||
        err instanceof errors.BodyTimeoutError ||
        err instanceof errors.ConnectTimeoutError
      )
        return {
          ok: false,
          code: 'TIMEOUT',
          message: `${this.#where} did not answer within ${this.#timeoutMs} ms`,
          retryable: true,
        };
      const e = err as { code?: string; name?: string; message?: string };
      return {
        ok: false,
        code: 'NETWORK',
        message: `${this.#where}: ${e.code ?? e.name ?? 'error'}${e.message ? ` (${excerpt(e.message)})` : ''}`,
        retryable: true,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /** A non-2xx answer, classified. */
  #failed(a: Answer): AttemptResult {
    const { status } = a;
    if (status >= 300 && status < 400)
      return {
        ok: false,
        code: 'REDIRECT',
        message: `${this.#where} answered ${status} (a redirect, never followed: configure the URL it points to)`,
        status,
        retryable: false,
      };
    const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
    const h = a.headers['retry-after'];
    const after = retryable ? retryAfterMs(Array.isArray(h) ? h[0] : h, this.#o.clock.now()) : undefined;
    const said = excerpt(a.text);
    return {
      ok: false,
      code: 'HTTP_STATUS',
      message: `${this.#where} answered ${status}${said ? `: ${said}` : ''}`,
      status,
      retryable,
      ...(after !== undefined ? { retryAfterMs: after } : {}),
    };
  }

  async send(s: StreamSend): Promise<AttemptResult> {
    const o = this.#o;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    let url = o.url;
    switch (o.kind) {
      case 'splunk-hec':
        url = `${o.url}${HEC_EVENT_PATH}`;
        headers.authorization = `Splunk ${o.token}`;
        if (o.ack) headers['x-splunk-request-channel'] = this.#channel;
        break;
      case 'datadog':
        url = `${o.url}${DATADOG_LOGS_PATH}`;
        headers['dd-api-key'] = o.apiKey;
        break;
      case 'webhook':
        Object.assign(
          headers,
          webhookHeaders(o.keys, chunkId(s.chunk), Math.floor(o.clock.now() / 1000), s.body),
        );
        break;
    }
    const a = await this.#post(url, headers, s.body);
    if ('ok' in a) return a;
    if (a.status < 200 || a.status >= 300) return this.#failed(a);
    if (o.kind !== 'splunk-hec') return { ok: true, status: a.status };
    // HEC: {"text":"Success","code":0[,"ackId":n]}
    let answer: { code?: unknown; ackId?: unknown } | undefined;
    try {
      answer = JSON.parse(a.text) as typeof answer;
    } catch {
      answer = undefined;
    }
    if (answer?.code !== 0)
      return {
        ok: false,
        code: 'BAD_RESPONSE',
        message: `${this.#where} answered ${a.status} without HEC's {"code":0}: ${excerpt(a.text) || '(empty)'}`,
        status: a.status,
        retryable: true,
      };
    if (!o.ack) return { ok: true, status: a.status };
    if (typeof answer.ackId !== 'number')
      return {
        ok: false,
        code: 'BAD_RESPONSE',
        message: `${this.#where} gave no ackId: is indexer acknowledgement on for this token?`,
        status: a.status,
        retryable: false,
      };
    return this.#awaitAck(answer.ackId, o.token, o.ack);
  }

  /** Polls HEC's ack endpoint until the ackId is indexed or the ack timeout passes (then: resend). */
  async #awaitAck(
    ackId: number,
    token: string,
    ack: NonNullable<Extract<HttpStreamSinkOptions, { kind: 'splunk-hec' }>['ack']>,
  ): Promise<AttemptResult> {
    const { clock } = this.#o;
    const until = clock.now() + (ack.timeoutMs ?? 30_000);
    const body = new TextEncoder().encode(JSON.stringify({ acks: [ackId] }));
    for (;;) {
      const a = await this.#post(
        `${this.#o.url}${HEC_ACK_PATH}`,
        {
          'content-type': 'application/json',
          authorization: `Splunk ${token}`,
          'x-splunk-request-channel': this.#channel,
        },
        body,
      );
      if ('ok' in a) return a;
      if (a.status < 200 || a.status >= 300) return this.#failed(a);
      try {
        const acks = (JSON.parse(a.text) as { acks?: Record<string, unknown> }).acks;
        if (acks?.[String(ackId)] === true) return { ok: true, status: a.status };
      } catch {
        // an unparsable answer is "not yet"; the timeout ends it
      }
      if (clock.now() >= until)
        return {
          ok: false,
          code: 'TIMEOUT',
          message: `${this.#where} did not acknowledge ackId ${ackId} as indexed in time; the chunk is sent again`,
          retryable: true,
        };
      await ack.sleep(ack.pollMs ?? 1000);
    }
  }
}
