/**
 * Rekor v2 over HTTP (rekor-tiles `POST <url>/api/v2/log/entries`, JSON): sends one
 * CreateEntryRequest for a hashedrekord v0.0.2 and reads the reply under a size cap and one
 * deadline covering connect, headers and body. The reply is attacker-controlled: a 201 body is
 * returned as bytes for the caller to parse and verify (src/core/rekor); anything else becomes
 * a RekorCallError with its own code. One request per call; no retries (src/ports/rekor.ts).
 */
import { concatBytes } from '../../core/bytes.ts';
import { canonicalJson } from '../../core/canonical.ts';
import { hashedRekordRequest, MAX_REKOR_ENTRY_BYTES } from '../../core/rekor/entry.ts';
import { RekorCallError, type RekorEntryRequest, type RekorLog } from '../../ports/rekor.ts';

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
    const tooLarge = () =>
      new RekorCallError('REKOR_BAD_RESPONSE', `${where}: reply exceeds ${MAX_REKOR_ENTRY_BYTES} bytes`, {
        httpStatus: res.status,
      });
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(declared) && declared > MAX_REKOR_ENTRY_BYTES) {
      await res.body?.cancel().catch(() => {});
      throw tooLarge();
    }
    if (!res.body) return new Uint8Array(0);
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > MAX_REKOR_ENTRY_BYTES) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
    return concatBytes(...chunks);
  }

  #networkError(e: unknown, timedOut: boolean, where: string): RekorCallError {
    if (timedOut)
      return new RekorCallError('REKOR_TIMEOUT', `${where}: no reply within ${this.#timeoutMs} ms`, {
        retryable: true,
        cause: e,
      });
    const cause = (e as { cause?: { code?: string; message?: string } } | null)?.cause;
    const detail = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
    return new RekorCallError('REKOR_UNREACHABLE', `${where} unreachable: ${detail}`, {
      retryable: true,
      cause: e,
    });
  }
}

/** At most 200 characters of a reply, control characters escaped, for messages and logs. */
function printable(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}
