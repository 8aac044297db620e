/**
 * Notifiers over HTTP (src/ports/notifier.ts), on undici (the npm package,
 * as the CLI: src/cli/http-client.ts says why not Node's bundled copy):
 *
 *   webhook    POST the Standard Webhooks payload, signed (webhook-id = alert id,
 *              webhook-timestamp = this attempt, webhook-signature v1,…); any 2xx is
 *              success, the body is not read (the spec's rule)
 *   slack      POST an incoming-webhook message; success is 200 with the body `ok`
 *   pagerduty  POST an Events API v2 trigger (dedup_key = alert id); success is 2xx with
 *              JSON `{"status":"success"}`
 *
 * Every receiver is untrusted and may fail, hang, or answer garbage:
 *  - one deadline covers connect, headers and body (`timeoutMs`), plus undici's own
 *    connect/headers/body timeouts on a dedicated Agent;
 *  - redirects are never followed (a dedicated Agent with no redirect interceptor,
 *    whatever the process's global dispatcher does): a 3xx is a failure, as Standard
 *    Webhooks says — the URL is to be updated, and an alert never goes to a host
 *    nobody configured;
 *  - at most `maxResponseBytes` of a body are read (Slack's and PagerDuty's answers are
 *    tiny; an error body is kept only as a short excerpt);
 *  - 2xx success; 408, 425, 429 and 5xx retryable (with Retry-After); 410 and every other
 *    status permanent; timeouts and network errors retryable; a 2xx with a body that is
 *    not what the service answers is BAD_RESPONSE, retryable (a proxy in between may
 *    have swallowed it; the idempotency key makes a repeat harmless for PagerDuty).
 * Messages name the destination and the host, never the URL's path or query (a Slack
 * URL is itself the credential), the routing key or the signing secret.
 */
import { Agent, type Dispatcher, errors, request } from 'undici';
import type { DestinationKind } from '../../core/deliver/destinations.ts';
import { pagerDutyPayload, slackPayload, webhookPayload } from '../../core/deliver/payloads.ts';
import type { AttemptResult } from '../../core/deliver/progress.ts';
import { type WebhookKey, webhookHeaders } from '../../core/deliver/webhook-signature.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Notification, Notifier } from '../../ports/notifier.ts';

export type HttpNotifierOptions = {
  readonly name: string;
  readonly url: string;
  readonly clock: Clock;
  /** The whole exchange (connect, headers, body). Default 10 s (Standard Webhooks suggests 15–30 s for slow receivers; a Lambda run is short). */
  readonly timeoutMs?: number;
  /** Most bytes of an answer read. Default 16 KiB. */
  readonly maxResponseBytes?: number;
  /** Default: one Agent shared by every HTTP notifier of the process (redirects never followed). */
  readonly dispatcher?: Dispatcher;
} & (
  | { readonly kind: 'webhook'; readonly keys: readonly WebhookKey[] }
  | { readonly kind: 'slack' }
  | { readonly kind: 'pagerduty'; readonly routingKey: string }
);

export const DEFAULT_NOTIFY_TIMEOUT_MS = 10_000;
export const DEFAULT_NOTIFY_MAX_RESPONSE_BYTES = 16 * 1024;
const USER_AGENT = 'anchorlog-alerts/1';

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

/** Retry-After as ms: delta-seconds or an HTTP date (relative to `nowMs`); undefined when absent or unparsable. */
export function retryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d{1,9}$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A short, printable excerpt of an error body, for the dead letter. */
function excerpt(bytes: Uint8Array): string {
  const t = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 200));
  return t.replace(/[^\x20-\x7e]/g, '?').trim();
}

class TooLarge extends Error {}

/** Drops a body unread: destroying emits an AbortError, which nobody else is listening for. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

export class HttpNotifier implements Notifier {
  readonly name: string;
  readonly kind: DestinationKind;
  readonly #o: HttpNotifierOptions;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #host: string;

  constructor(options: HttpNotifierOptions) {
    this.#o = options;
    this.name = options.name;
    this.kind = options.kind;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_NOTIFY_TIMEOUT_MS;
    this.#maxBytes = options.maxResponseBytes ?? DEFAULT_NOTIFY_MAX_RESPONSE_BYTES;
    this.#host = new URL(options.url).host;
  }

  /** What the attempt sends: body bytes and headers. */
  #build(n: Notification): { body: Uint8Array; headers: Record<string, string> } {
    const o = this.#o;
    const json =
      o.kind === 'webhook'
        ? webhookPayload(n.notice)
        : o.kind === 'slack'
          ? JSON.stringify(slackPayload(n.notice))
          : JSON.stringify(pagerDutyPayload(n.notice, o.routingKey));
    const body = new TextEncoder().encode(json);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': USER_AGENT };
    if (o.kind === 'webhook')
      Object.assign(headers, webhookHeaders(o.keys, n.id, Math.floor(o.clock.now() / 1000), body));
    return { body, headers };
  }

  async send(n: Notification): Promise<AttemptResult> {
    const where = `${this.kind} destination ${this.name} (${this.#host})`;
    const { body, headers } = this.#build(n);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    try {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(this.#o.url, {
          method: 'POST',
          headers,
          body,
          signal: controller.signal,
          headersTimeout: this.#timeoutMs,
          bodyTimeout: this.#timeoutMs,
          dispatcher: this.#o.dispatcher ?? defaultAgent(this.#timeoutMs),
        });
      } catch (err) {
        return this.#networkFailure(err, timedOut, where);
      }
      const status = res.statusCode;
      // The webhook spec ignores the body of a success: do not read it at all.
      if (status >= 200 && status < 300 && this.kind === 'webhook') {
        discard(res.body);
        return { ok: true, status };
      }
      let text: Uint8Array;
      try {
        text = await this.#read(res.body);
      } catch (err) {
        if (err instanceof TooLarge)
          return {
            ok: false,
            code: status >= 200 && status < 300 ? 'RESPONSE_TOO_LARGE' : 'HTTP_STATUS',
            message: `${where} answered ${status} with more than ${this.#maxBytes} bytes`,
            status,
            retryable: true,
          };
        return this.#networkFailure(err, timedOut, where);
      }
      if (status >= 200 && status < 300) return this.#checkSuccessBody(text, status, where);
      if (status >= 300 && status < 400)
        return {
          ok: false,
          code: 'REDIRECT',
          message: `${where} answered ${status} (a redirect, never followed: configure the URL it points to)`,
          status,
          retryable: false,
        };
      const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
      const after = retryable
        ? retryAfterMs(header(res.headers, 'retry-after'), this.#o.clock.now())
        : undefined;
      const said = excerpt(text);
      return {
        ok: false,
        code: 'HTTP_STATUS',
        message: `${where} answered ${status}${said ? `: ${said}` : ''}${status === 410 ? ' (gone: the destination no longer accepts alerts)' : ''}`,
        status,
        retryable,
        ...(after !== undefined ? { retryAfterMs: after } : {}),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  #checkSuccessBody(text: Uint8Array, status: number, where: string): AttemptResult {
    const body = new TextDecoder('utf-8', { fatal: false }).decode(text).trim();
    let good: boolean;
    if (this.kind === 'slack') good = body === 'ok';
    else {
      try {
        good = (JSON.parse(body) as { status?: unknown } | null)?.status === 'success';
      } catch {
        good = false;
      }
    }
    if (good) return { ok: true, status };
    return {
      ok: false,
      code: 'BAD_RESPONSE',
      message: `${where} answered ${status} with a body that is not ${this.kind === 'slack' ? '"ok"' : '{"status":"success"}'}: ${excerpt(text) || '(empty)'}`,
      status,
      retryable: true,
    };
  }

  async #read(body: Dispatcher.ResponseData['body']): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      if (total > this.#maxBytes) {
        discard(body);
        throw new TooLarge();
      }
      chunks.push(chunk);
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  #networkFailure(err: unknown, timedOut: boolean, where: string): AttemptResult {
    if (
      timedOut ||
      err instanceof errors.HeadersTimeoutError ||
      err instanceof errors.BodyTimeoutError ||
      err instanceof errors.ConnectTimeoutError
    )
      return {
        ok: false,
        code: 'TIMEOUT',
        message: `${where} did not answer within ${this.#timeoutMs} ms`,
        retryable: true,
      };
    const e = err as { code?: string; name?: string; message?: string };
    const what = e.code ?? e.name ?? 'error';
    return {
      ok: false,
      code: 'NETWORK',
      message: `${where}: ${what}${e.message ? ` (${e.message.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)})` : ''}`,
      retryable: true,
    };
  }
}
