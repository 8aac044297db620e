/**
 * A Timestamper in process (src/ports/timestamper.ts): an RFC 3161
 * authority (`MemoryTsa`, keys and certificates from ./tsa-pki.ts) that
 * answers TimeStampReqs with real tokens, and `MemoryTimestamper`, which is
 * the HTTP adapter (src/adapters/tsa/http-timestamper.ts) talking to that
 * authority through an in-process `fetch` instead of the network. So every
 * token a use case gets has been through the same full verification
 * (src/core/rfc3161 verifyTimestamp against the pinned root) as in
 * production, and every failure is the one the port names:
 *  - transport faults (`faults`, codes TsaTransportErrorCode) become what a
 *    real TSA does wrong — refusing the connection, never answering, an HTTP
 *    error, a wrong content type, an oversized reply — and HttpTimestamper
 *    turns each into its TsaTransportError;
 *  - reply faults (codes ReplyFault) make the authority answer wrongly —
 *    refuse, time-stamp other data, echo another nonce, sign with a key the
 *    caller does not trust, send garbage — and verification refuses each with
 *    its TimestampError code.
 * genTime comes from the injected clock, serial numbers count up from 1.
 */
import * as pkijs from 'pkijs';
import { encodePemCertificates } from '../../core/pem.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type {
  Timestamper,
  TimestampQuery,
  TsaTransportErrorCode,
  VerifiedAnchorToken,
} from '../../ports/timestamper.ts';
import { DEFAULT_TSA_MAX_RESPONSE_BYTES, HttpTimestamper } from '../tsa/http-timestamper.ts';
import { FaultPlan } from './faults.ts';
import { createPki, issueToken, type KeyAlgorithm, type MockPki, response } from './tsa-pki.ts';

/** Ways the authority itself answers wrongly (see the header). */
export type ReplyFault =
  | 'STATUS_NOT_GRANTED'
  | 'IMPRINT_MISMATCH'
  | 'NONCE_MISMATCH'
  | 'UNTRUSTED_ROOT'
  | 'MALFORMED';
export type MemoryTsaFault = TsaTransportErrorCode | ReplyFault;

export interface MemoryTsaOptions {
  /** 'ecdsa' (P-256, ESSCertIDv2; default) or 'rsa' (RSA-2048, ESSCertID v1). */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** genTime of every token; default the system clock. */
  readonly clock?: Clock;
  /** TSTInfo policy; default 1.3.6.1.4.1.4146.2.3. */
  readonly policy?: string;
  /** CN of the TSA certificate; default 'Memory TSA'. */
  readonly cn?: string;
}

const SHA256_OID = '2.16.840.1.101.3.4.2.1';
/** PKIFailureInfo bits (RFC 3161 §2.4.2). */
const BAD_ALG = 0;
const BAD_REQUEST = 2;
const VALID_UNTIL = new Date('2049-12-31T00:00:00Z');

/** An RFC 3161 authority in process. Create with `MemoryTsa.create` (key generation is asynchronous). */
export class MemoryTsa {
  readonly pki: MockPki;
  readonly faults = new FaultPlan<MemoryTsaFault>((code, message) => new Error(`${code}: ${message}`));
  readonly #clock: Clock;
  readonly #policy: string | undefined;
  /** Signs like us under a root nobody pinned; made only when an UNTRUSTED_ROOT fault fires. */
  #impostor: Promise<MockPki> | undefined;
  #serial = 0;
  #requests = 0;

  private constructor(pki: MockPki, opts: MemoryTsaOptions) {
    this.pki = pki;
    this.#clock = opts.clock ?? systemClock;
    this.#policy = opts.policy;
  }

  static async create(opts: MemoryTsaOptions = {}): Promise<MemoryTsa> {
    const pki = await createPki({
      keyAlgorithm: opts.keyAlgorithm ?? 'ecdsa',
      validUntil: VALID_UNTIL,
      tsaCn: opts.cn ?? 'Memory TSA',
    });
    return new MemoryTsa(pki, opts);
  }

  /** The root callers pin, PEM. */
  get rootsPem(): string {
    return encodePemCertificates([this.pki.root.der]);
  }

  /** TSA certificate first, root last (DER): what a bundle carries as the chain. */
  get chain(): Uint8Array[] {
    return [this.pki.tsa.der, this.pki.intermediate.der, this.pki.root.der];
  }

  /** Time-stamp requests answered (faulted ones included). */
  get requests(): number {
    return this.#requests;
  }

  /** The TimeStampResp (DER) for a TimeStampReq (DER), as RFC 3161 §2.4 says, reply faults applied. */
  async reply(request: Uint8Array, fault?: ReplyFault): Promise<Uint8Array> {
    let req: pkijs.TimeStampReq;
    try {
      req = pkijs.TimeStampReq.fromBER(request.slice().buffer);
    } catch {
      return response({ status: 2, failInfoBit: BAD_REQUEST, text: 'not a TimeStampReq' });
    }
    const imprint = req.messageImprint;
    if (imprint.hashAlgorithm.algorithmId !== SHA256_OID)
      return response({ status: 2, failInfoBit: BAD_ALG, text: 'SHA-256 only' });
    if (fault === 'STATUS_NOT_GRANTED') return response({ status: 2, text: 'refused (injected)' });
    if (fault === 'MALFORMED') return new Uint8Array([0x30, 0x03, 0x02, 0x01]);
    let digest = new Uint8Array(imprint.hashedMessage.valueBlock.valueHexView);
    if (fault === 'IMPRINT_MISMATCH') digest = digest.map((b) => b ^ 0xff);
    let nonce = req.nonce ? new Uint8Array(req.nonce.valueBlock.valueHexView) : undefined;
    if (fault === 'NONCE_MISMATCH') nonce = Uint8Array.from([0x7f, ...(nonce ?? [])]);
    let pki = this.pki;
    if (fault === 'UNTRUSTED_ROOT') {
      this.#impostor ??= createPki({
        keyAlgorithm: pki.keyAlgorithm,
        validUntil: VALID_UNTIL,
        tsaCn: 'Impostor',
      });
      pki = await this.#impostor;
    }
    const token = await issueToken(pki, {
      digest,
      genTime: new Date(this.#clock.now()),
      serial: ++this.#serial,
      ...(nonce ? { nonce } : {}),
      ...(this.#policy ? { policy: this.#policy } : {}),
      // certReq FALSE: the TSA MUST NOT include its certificate (RFC 3161 §2.4.1).
      embed: req.certReq ? [pki.tsa, pki.intermediate] : [],
    });
    return response({ token });
  }

  /**
   * Answers a POST as an RFC 3161 HTTP TSA would (§3.4), transport faults
   * applied. Requests never leave the process.
   */
  readonly fetch = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    this.#requests++;
    const rule = this.faults.pick('timestamp', String(_url));
    const fault = rule?.code;
    const signal = init?.signal ?? undefined;
    switch (fault) {
      case 'TSA_UNREACHABLE':
        throw new TypeError('fetch failed', {
          cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' },
        });
      case 'TSA_TIMEOUT':
        // Never answers; the caller's deadline aborts the request.
        return new Promise<Response>((_, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      case 'TSA_HTTP_STATUS':
        return new Response('unavailable (injected)', {
          status: 503,
          headers: { 'content-type': 'text/plain' },
        });
      case 'TSA_BAD_CONTENT_TYPE':
        return new Response('<html>a proxy login page</html>', {
          status: 200,
          headers: { 'content-type': 'text/html' },
        });
      case 'TSA_RESPONSE_TOO_LARGE':
        return new Response(new Uint8Array(DEFAULT_TSA_MAX_RESPONSE_BYTES + 1), {
          status: 200,
          headers: { 'content-type': 'application/timestamp-reply' },
        });
    }
    if (init?.method !== 'POST' || !(init.body instanceof Uint8Array))
      return new Response('POST a TimeStampReq', { status: 405 });
    const reply = await this.reply(init.body, fault);
    return new Response(reply.slice().buffer, {
      status: 200,
      headers: { 'content-type': 'application/timestamp-reply' },
    });
  };
}

export interface MemoryTimestamperOptions extends MemoryTsaOptions {
  /** The authority to use; default a new one made with these options. */
  readonly tsa?: MemoryTsa;
  /** Deadline of one request (what a TSA_TIMEOUT fault waits for); default 1 s. */
  readonly timeoutMs?: number;
}

/** The Timestamper port over a MemoryTsa (see the header). */
export class MemoryTimestamper implements Timestamper {
  readonly name: string;
  readonly tsa: MemoryTsa;
  readonly #http: HttpTimestamper;

  private constructor(name: string, tsa: MemoryTsa, timeoutMs: number) {
    this.name = name;
    this.tsa = tsa;
    this.#http = new HttpTimestamper({
      name,
      url: `memory://${name}/tsr`,
      rootsPem: tsa.rootsPem,
      timeoutMs,
      fetch: tsa.fetch as typeof fetch,
    });
  }

  static async create(name: string, opts: MemoryTimestamperOptions = {}): Promise<MemoryTimestamper> {
    return new MemoryTimestamper(name, opts.tsa ?? (await MemoryTsa.create(opts)), opts.timeoutMs ?? 1_000);
  }

  /** The pinned root, PEM (config `tsas[].rootsPem`). */
  get rootsPem(): string {
    return this.tsa.rootsPem;
  }

  timestamp(query: TimestampQuery): Promise<VerifiedAnchorToken> {
    return this.#http.timestamp(query);
  }

  verify(response: Uint8Array, digest: Uint8Array): Promise<VerifiedAnchorToken> {
    return this.#http.verify(response, digest);
  }
}
