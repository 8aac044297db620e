/**
 * Rekor v2 over HTTP (rekor-tiles `POST <url>/api/v2/log/entries`, JSON): sends one
 * CreateEntryRequest for a hashedrekord v0.0.2 and reads the reply under a size cap and one
 * deadline covering connect, headers and body. The reply is attacker-controlled: a 201 body is
 * returned as bytes for the caller to parse and verify (src/core/rekor); anything else becomes
 * a RekorCallError with its own code. One request per call; no retries (src/ports/rekor.ts).
 */
import { canonicalJson } from '../../core/canonical.ts';
import { hashedRekordRequest, MAX_REKOR_ENTRY_BYTES } from '../../core/rekor/entry.ts';
import { RekorCallError, type RekorEntryRequest, type RekorLog } from '../../ports/rekor.ts';
import { printable, readReplyAtMost, unreachableDetail } from '../http-reply.ts';

export interface HttpRekorOptions {
  /** Configured party name (archive keys, metrics). */
  readonly name: string;
  /** The log's base URL; `/api/v2/log/entries` is appended. */
  readonly url: string;
  /** Deadline for the whole exchange. Default 10 s. */
  readonly timeoutMs?: number;
  /** Injected for tests; default the global fetch. */
  readonly fetch?: typeof fetch;
}

export const DEFAULT_REKOR_TIMEOUT_MS = 10_000;

export class HttpRekor implements RekorLog {
  readonly name: string;
  readonly #endpoint: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(opts: HttpRekorOptions) {
    this.name = opts.name;
    this.#endpoint = `${opts.url.replace(/\/+$/, '')}/api/v2/log/entries`;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_REKOR_TIMEOUT_MS;
    this.#fetch = opts.fetch ?? globalThis.fetch;
  }

  async createEntry(request: RekorEntryRequest): Promise<Uint8Array> {
    const where = `rekor ${this.name} (${this.#endpoint})`;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    try {
      let res: Response;
      try {
        res = await this.#fetch(this.#endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: canonicalJson(hashedRekordRequest(request.digest, request.signature, request.spki)),
          redirect: 'manual',
          signal: controller.signal,
        });
      } catch (e) {
        throw this.#networkError(e, timedOut, where);
      }
      let body: Uint8Array;
      try {
        body = await this.#readCapped(res, where);
      } catch (e) {
        if (e instanceof RekorCallError) throw e;
        throw this.#networkError(e, timedOut, where);
      }
      // rekor-tiles answers 201 Created; a 200 with an entry is accepted too (grpc-gateway default).
      if (res.status === 201 || res.status === 200) {
        const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
        if (type !== 'application/json')
          throw new RekorCallError(
            'REKOR_BAD_RESPONSE',
            `${where}: ${res.status} with content-type ${JSON.stringify(type)}`,
            {
              httpStatus: res.status,
            },
          );
        return body;
      }
      const text = printable(new TextDecoder().decode(body));
      if (res.status === 400)
        throw new RekorCallError('REKOR_BAD_REQUEST', `${where} refused the entry: ${text}`, {
          httpStatus: 400,
        });
      if (res.status === 409)
        throw new RekorCallError('REKOR_DUPLICATE', `${where} already holds this entry: ${text}`, {
          httpStatus: 409,
        });
      throw new RekorCallError('REKOR_HTTP_STATUS', `${where} answered HTTP ${res.status}: ${text}`, {
        httpStatus: res.status,
        retryable: res.status >= 500 || res.status === 429 || res.status === 408,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async #readCapped(res: Response, where: string): Promise<Uint8Array> {
    const body = await readReplyAtMost(res, MAX_REKOR_ENTRY_BYTES);
    if (body) return body;
    throw new RekorCallError('REKOR_BAD_RESPONSE', `${where}: reply exceeds ${MAX_REKOR_ENTRY_BYTES} bytes`, {
      httpStatus: res.status,
    });
  }

  #networkError(e: unknown, timedOut: boolean, where: string): RekorCallError {
    if (timedOut)
      return new RekorCallError('REKOR_TIMEOUT', `${where}: no reply within ${this.#timeoutMs} ms`, {
        retryable: true,
        cause: e,
      });
    return new RekorCallError('REKOR_UNREACHABLE', `${where} unreachable: ${unreachableDetail(e)}`, {
      retryable: true,
      cause: e,
    });
  }
}
