/**
 * Timestamper over HTTP (RFC 3161 §3.4): POST a DER TimeStampReq as
 * `application/timestamp-query`, read an `application/timestamp-reply`.
 *
 * Everything the TSA sends is attacker-controlled: the reply is read under a
 * size cap and a deadline covering connect, headers and body, then parsed and
 * fully verified by the pure core (src/core/rfc3161 `verifyTimestamp`) against
 * this TSA's pinned roots before anything is returned. See the contract in
 * src/ports/timestamper.ts.
 */
import {
  decodePemCertificates,
  parseTimestamp,
  TimestampError,
  verifyTimestamp,
} from '../../core/rfc3161/index.ts';
import { buildTimestampRequest } from '../../core/rfc3161/request.ts';
import {
  type Timestamper,
  type TimestampQuery,
  TsaTransportError,
  type VerifiedAnchorToken,
} from '../../ports/timestamper.ts';
import { readReplyAtMost, unreachableDetail } from '../http-reply.ts';

export interface HttpTimestamperOptions {
  /** Stable TSA name (config `tsas[].name`). */
  readonly name: string;
  readonly url: string;
  /** PEM bundle of the roots this TSA's tokens must chain to (at least one certificate). */
  readonly rootsPem: string;
  /** Sent verbatim as the Authorization header (commercial TSAs). */
  readonly authorization?: string;
  /** Deadline for the whole exchange. Default 10 s. */
  readonly timeoutMs?: number;
  /** Largest reply we read. Default 256 KiB (real replies are 1–10 KiB). */
  readonly maxResponseBytes?: number;
  /** Injected for tests; default the global fetch. */
  readonly fetch?: typeof fetch;
}

/** RFC 3161 §3.4; a few TSAs still send the pre-RFC draft's name. */
const REPLY_TYPES = new Set(['application/timestamp-reply', 'application/timestamp-response']);

export const DEFAULT_TSA_TIMEOUT_MS = 10_000;
export const DEFAULT_TSA_MAX_RESPONSE_BYTES = 256 * 1024;

export class HttpTimestamper implements Timestamper {
  readonly name: string;
  readonly #url: string;
  readonly #roots: Uint8Array[];
  readonly #authorization: string | undefined;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #fetch: typeof fetch;

  constructor(opts: HttpTimestamperOptions) {
    this.name = opts.name;
    this.#url = opts.url;
    this.#roots = decodePemCertificates(opts.rootsPem);
    if (this.#roots.length === 0) {
      throw new TimestampError('INVALID_ARGUMENT', `TSA ${opts.name}: rootsPem holds no CERTIFICATE`);
    }
    this.#authorization = opts.authorization;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TSA_TIMEOUT_MS;
    this.#maxBytes = opts.maxResponseBytes ?? DEFAULT_TSA_MAX_RESPONSE_BYTES;
    this.#fetch = opts.fetch ?? globalThis.fetch;
  }

  async timestamp(query: TimestampQuery): Promise<VerifiedAnchorToken> {
    const request = buildTimestampRequest({
      imprint: { digest: query.digest },
      nonce: query.nonce,
      certReq: true,
    });
    const reply = await this.#exchange(request);
    return this.#verifyReply(reply, query.digest, query.nonce);
  }

  verify(response: Uint8Array, digest: Uint8Array): Promise<VerifiedAnchorToken> {
    return this.#verifyReply(response, digest, undefined);
  }

  async #verifyReply(
    reply: Uint8Array,
    digest: Uint8Array,
    nonce: Uint8Array | undefined,
  ): Promise<VerifiedAnchorToken> {
    // verifyTimestamp parses the untrusted bytes itself and turns any failure
    // into a TimestampError; only then do we take the token's exact bytes.
    const verified = await verifyTimestamp(reply, {
      expected: { digest },
      ...(nonce !== undefined ? { nonce } : {}),
      roots: this.#roots,
      hashAlgorithms: ['SHA-256'],
    });
    const parsed = parseTimestamp(reply);
    if (verified.form !== 'response' || !parsed.token) {
      // A TSA answers with a TimeStampResp (RFC 3161 §2.4.2), never a bare token.
      throw new TimestampError('MALFORMED', `TSA ${this.name}: reply is not a TimeStampResp`);
    }
    return {
      tsa: this.name,
      response: reply,
      token: parsed.token.der,
      chain: verified.chain,
      genTime: verified.genTime,
      genTimeMs: verified.genTimeMs,
      serialNumber: verified.serialNumber,
      policy: verified.policy,
      signerSubject: verified.signerSubject,
    };
  }

  /** One POST; every failure becomes a TsaTransportError with its own code. */
  async #exchange(request: Uint8Array): Promise<Uint8Array> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    const where = `TSA ${this.name} (${this.#url})`;
    try {
      let res: Response;
      try {
        res = await this.#fetch(this.#url, {
          method: 'POST',
          headers: {
            'content-type': 'application/timestamp-query',
            accept: 'application/timestamp-reply',
            ...(this.#authorization !== undefined ? { authorization: this.#authorization } : {}),
          },
          body: new Uint8Array(request) as Uint8Array<ArrayBuffer>,
          redirect: 'manual',
          signal: controller.signal,
        });
      } catch (e) {
        throw this.#networkError(e, timedOut, where);
      }
      if (res.status < 200 || res.status > 299) {
        await res.body?.cancel().catch(() => {});
        const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
        throw new TsaTransportError('TSA_HTTP_STATUS', `${where} answered HTTP ${res.status}`, {
          httpStatus: res.status,
          retryable,
        });
      }
      const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (!REPLY_TYPES.has(type)) {
        await res.body?.cancel().catch(() => {});
        throw new TsaTransportError(
          'TSA_BAD_CONTENT_TYPE',
          `${where} replied with content-type ${JSON.stringify(type)}, expected application/timestamp-reply`,
          { retryable: false },
        );
      }
      try {
        return await this.#readCapped(res, where);
      } catch (e) {
        if (e instanceof TsaTransportError) throw e;
        throw this.#networkError(e, timedOut, where);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async #readCapped(res: Response, where: string): Promise<Uint8Array> {
    const body = await readReplyAtMost(res, this.#maxBytes);
    if (body) return body;
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    throw new TsaTransportError(
      'TSA_RESPONSE_TOO_LARGE',
      Number.isFinite(declared) && declared > this.#maxBytes
        ? `${where}: reply of ${declared} bytes exceeds ${this.#maxBytes}`
        : `${where}: reply exceeds ${this.#maxBytes} bytes`,
      { retryable: false },
    );
  }

  #networkError(e: unknown, timedOut: boolean, where: string): TsaTransportError {
    if (timedOut) {
      return new TsaTransportError('TSA_TIMEOUT', `${where}: no reply within ${this.#timeoutMs} ms`, {
        retryable: true,
        cause: e,
      });
    }
    return new TsaTransportError('TSA_UNREACHABLE', `${where} unreachable: ${unreachableDetail(e)}`, {
      retryable: true,
      cause: e,
    });
  }
}
