/**
 * Witness over HTTP (C2SP tlog-witness §add-checkpoint):
 * `POST <submission prefix>/add-checkpoint` with the text body, read the
 * reply under a size cap and one deadline covering connect, headers and
 * body. Everything the witness sends is attacker-controlled: a 200 body is
 * parsed as note signature lines (not verified here; the caller verifies
 * the line of the key it trusts), a 409 body must be `<decimal>\n`, and
 * anything else becomes a WitnessCallError with its own code. One request
 * per call; no retries (src/ports/witness.ts).
 */
import type { Cosigner } from '../../core/witness/cosignature.ts';
import { WitnessError } from '../../core/witness/errors.ts';
import {
  type AddCheckpointRequest,
  formatAddCheckpointRequest,
  MAX_WITNESS_REPLY_BYTES,
  parseConflictBody,
  parseCosignatureResponse,
  TLOG_SIZE_CONTENT_TYPE,
} from '../../core/witness/protocol.ts';
import {
  type AddCheckpointReply,
  type Witness,
  WitnessCallError,
  type WitnessCallErrorCode,
} from '../../ports/witness.ts';
import { printable, readReplyAtMost, unreachableDetail } from '../http-reply.ts';

export interface HttpWitnessOptions {
  /** Configured name (archive keys, metrics). */
  readonly name: string;
  /** The witness's submission prefix; `/add-checkpoint` is appended. */
  readonly url: string;
  readonly cosigner: Cosigner;
  /** Deadline for the whole exchange. Default 10 s. */
  readonly timeoutMs?: number;
  /** Injected for tests; default the global fetch. */
  readonly fetch?: typeof fetch;
}

export const DEFAULT_WITNESS_TIMEOUT_MS = 10_000;

const STATUS_CODES: Record<number, WitnessCallErrorCode> = {
  400: 'WITNESS_BAD_REQUEST',
  403: 'WITNESS_FORBIDDEN',
  404: 'WITNESS_UNKNOWN_LOG',
  422: 'WITNESS_INCONSISTENT',
};

export class HttpWitness implements Witness {
  readonly name: string;
  readonly cosigner: Cosigner;
  readonly #endpoint: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(opts: HttpWitnessOptions) {
    this.name = opts.name;
    this.cosigner = opts.cosigner;
    this.#endpoint = `${opts.url.replace(/\/+$/, '')}/add-checkpoint`;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_WITNESS_TIMEOUT_MS;
    this.#fetch = opts.fetch ?? globalThis.fetch;
  }

  async addCheckpoint(request: AddCheckpointRequest): Promise<AddCheckpointReply> {
    const body = formatAddCheckpointRequest(request);
    const where = `witness ${this.name} (${this.#endpoint})`;
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
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          body,
          redirect: 'manual',
          signal: controller.signal,
        });
      } catch (e) {
        throw this.#networkError(e, timedOut, where);
      }
      let text: string;
      try {
        text = await this.#readCapped(res, where);
      } catch (e) {
        if (e instanceof WitnessCallError) throw e;
        throw this.#networkError(e, timedOut, where);
      }
      if (res.status === 200) {
        const noteText = request.checkpoint.slice(0, request.checkpoint.lastIndexOf('\n\n') + 1);
        try {
          return { kind: 'cosigned', signatures: parseCosignatureResponse(noteText, text) };
        } catch (e) {
          throw this.#badResponse(e, where, 200);
        }
      }
      if (res.status === 409) {
        const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
        if (type !== TLOG_SIZE_CONTENT_TYPE)
          throw new WitnessCallError(
            'WITNESS_BAD_RESPONSE',
            `${where}: 409 with content-type ${JSON.stringify(type)}, expected ${TLOG_SIZE_CONTENT_TYPE}`,
            { httpStatus: 409 },
          );
        try {
          return { kind: 'conflict', size: parseConflictBody(text) };
        } catch (e) {
          throw this.#badResponse(e, where, 409);
        }
      }
      const code = STATUS_CODES[res.status] ?? 'WITNESS_HTTP_STATUS';
      const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
      throw new WitnessCallError(code, `${where} answered HTTP ${res.status}: ${printable(text)}`, {
        httpStatus: res.status,
        retryable,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  #badResponse(e: unknown, where: string, status: number): WitnessCallError {
    const why = e instanceof WitnessError ? e.message : String(e);
    return new WitnessCallError('WITNESS_BAD_RESPONSE', `${where}: malformed ${status} reply: ${why}`, {
      httpStatus: status,
      cause: e,
    });
  }

  async #readCapped(res: Response, where: string): Promise<string> {
    const body = await readReplyAtMost(res, MAX_WITNESS_REPLY_BYTES);
    if (!body)
      throw new WitnessCallError(
        'WITNESS_BAD_RESPONSE',
        `${where}: reply exceeds ${MAX_WITNESS_REPLY_BYTES} bytes`,
        { httpStatus: res.status },
      );
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch (cause) {
      throw new WitnessCallError('WITNESS_BAD_RESPONSE', `${where}: reply is not UTF-8`, {
        httpStatus: res.status,
        cause,
      });
    }
  }

  #networkError(e: unknown, timedOut: boolean, where: string): WitnessCallError {
    if (timedOut)
      return new WitnessCallError('WITNESS_TIMEOUT', `${where}: no reply within ${this.#timeoutMs} ms`, {
        retryable: true,
        cause: e,
      });
    return new WitnessCallError('WITNESS_UNREACHABLE', `${where} unreachable: ${unreachableDetail(e)}`, {
      retryable: true,
      cause: e,
    });
  }
}
