/**
 * AuditClient: the producer side of `POST /v1/logs/{logId}/events`.
 *
 * - Batching: events are buffered and sent as one request when the batch
 *   reaches `maxBatchEvents` / `maxBatchBytes`, or after `flushIntervalMs`.
 * - Safe retries: every batch gets one random Idempotency-Key that is reused
 *   for all of its retries, so a retry after a lost response returns the
 *   original receipts instead of appending the events twice.
 * - Backoff: exponential with full jitter, honouring `Retry-After` on 409
 *   IN_PROGRESS, 429 and 503; transport errors and 5xx are retried too.
 *   Other 4xx are the caller's bug and fail the batch at once.
 * - Backpressure: at most `maxInFlightBatches` requests run at once and at
 *   most `maxQueuedEvents` events wait; beyond that `append()` waits for room,
 *   so a producer faster than the log slows down instead of growing memory.
 *
 * - Signing: given a `signer`, every event is signed before it is queued
 *   (docs/producer-signatures.md §Client): a detached signature over the
 *   RFC 8785 bytes of the event without `signature`.
 *
 * Every `append()` resolves with its own receipt once the log has durably
 * stored the event (the server answered 201/200), or rejects with an
 * AuditClientError once retries are exhausted.
 *
 * - Receipt modes (docs/ingest.md §9): by default the server waits a short
 *   while for the receipts (201). `waitSeconds` sends `Prefer: wait=N`; a
 *   202 (accepted durably, not sequenced yet, or `waitSeconds: 0`) is
 *   followed by polling `GET …/receipts?ids=` until the receipts are there,
 *   so `append()` still resolves with the event's receipt. `receipts(ids)`
 *   fetches them for accept ids kept elsewhere.
 */
import { backoffDelay } from '../core/backoff.ts';
import type { AuditEvent } from '../core/event.ts';
import { type EventSigner, signEvent } from '../core/producer-signature.ts';

export type { EventSigner };

export interface Receipt {
  index: number;
  leafHash: string;
  prev: string;
  receivedAt: string;
}

export interface AuditClientOptions {
  apiUrl: string;
  apiKey: string;
  logId: string;
  maxBatchEvents?: number;
  maxBatchBytes?: number;
  flushIntervalMs?: number;
  maxInFlightBatches?: number;
  maxQueuedEvents?: number;
  maxAttempts?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Per-request timeout. */
  requestTimeoutMs?: number;
  /** Sent as `Prefer: wait=N` (0..20); absent: the server's default wait. */
  waitSeconds?: number;
  /** After a 202: first pause between receipt lookups (doubles up to 1 s). Default 50 ms. */
  receiptPollMs?: number;
  /** After a 202: give up looking for the receipts after this long (RECEIPT_TIMEOUT). Default 120 s. */
  receiptTimeoutMs?: number;
  /** Signs every event (src/client/node-signer.ts makes one from a node:crypto key; KMS works too). */
  signer?: EventSigner;
  fetch?: typeof fetch;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class AuditClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'AuditClientError';
  }
}

interface Pending {
  event: unknown;
  bytes: number;
  resolve: (r: Receipt) => void;
  reject: (e: unknown) => void;
}

const RETRYABLE = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

export class AuditClient {
  private readonly opts: Required<
    Omit<
      AuditClientOptions,
      'fetch' | 'random' | 'sleep' | 'signer' | 'waitSeconds' | 'receiptPollMs' | 'receiptTimeoutMs'
    >
  > &
    Pick<AuditClientOptions, 'waitSeconds' | 'receiptPollMs' | 'receiptTimeoutMs'>;
  private readonly signer: EventSigner | undefined;
  private readonly fetchFn: typeof fetch;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private buffer: Pending[] = [];
  private bufferBytes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight = new Set<Promise<void>>();
  private roomWaiters: Array<() => void> = [];
  private queued = 0;
  private closed = false;
  /** Counters for benchmarks and operators. */
  /** `accepted`: batches answered 202, whose receipts were fetched afterwards. */
  readonly stats = { requests: 0, retries: 0, batches: 0, events: 0, accepted: 0 };

  constructor(options: AuditClientOptions) {
    this.opts = {
      maxBatchEvents: 100,
      maxBatchBytes: 512 * 1024,
      flushIntervalMs: 50,
      maxInFlightBatches: 4,
      maxQueuedEvents: 10_000,
      maxAttempts: 8,
      baseBackoffMs: 50,
      maxBackoffMs: 5_000,
      requestTimeoutMs: 30_000,
      ...options,
      apiUrl: options.apiUrl.replace(/\/+$/, ''),
    };
    this.signer = options.signer;
    this.fetchFn = options.fetch ?? fetch;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Queues one event; resolves with its receipt once it is durably in the log. */
  async append(input: unknown): Promise<Receipt> {
    if (this.closed) throw new AuditClientError('CLOSED', 'client is closed');
    const event = this.signer ? await this.sign(input) : input;
    while (this.queued >= this.opts.maxQueuedEvents) {
      await new Promise<void>((r) => this.roomWaiters.push(r));
    }
    const bytes = JSON.stringify(event).length + 1;
    this.queued++;
    const receipt = new Promise<Receipt>((resolve, reject) => {
      this.buffer.push({ event, bytes, resolve, reject });
    });
    this.bufferBytes += bytes;
    if (this.buffer.length >= this.opts.maxBatchEvents || this.bufferBytes >= this.opts.maxBatchBytes) {
      await this.dispatch();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.dispatch();
      }, this.opts.flushIntervalMs);
    }
    return receipt;
  }

  /** The event with its producer signature; a value with no JSON form is refused here, not by the server. */
  private async sign(event: unknown): Promise<AuditEvent> {
    const signer = this.signer as EventSigner;
    try {
      return await signEvent(event as AuditEvent, signer);
    } catch (e) {
      throw new AuditClientError('SIGNING_FAILED', `cannot sign event: ${(e as Error).message}`);
    }
  }

  /** Sends everything buffered and waits until every request has finished. */
  async flush(): Promise<void> {
    while (this.buffer.length > 0) await this.dispatch();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private async dispatch(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.buffer.length === 0) return;
    while (this.inFlight.size >= this.opts.maxInFlightBatches) await Promise.race([...this.inFlight]);
    // Another dispatcher may have taken the buffer while this one waited for a slot.
    if (this.buffer.length === 0) return;
    const batch = this.buffer.splice(0, this.opts.maxBatchEvents);
    this.bufferBytes = this.buffer.reduce((n, p) => n + p.bytes, 0);
    const p: Promise<void> = this.send(batch).finally(() => {
      this.inFlight.delete(p);
      this.queued -= batch.length;
      const waiters = this.roomWaiters.splice(0);
      for (const w of waiters) w();
    });
    this.inFlight.add(p);
  }

  private async send(batch: Pending[]): Promise<void> {
    const idempotencyKey = randomKey(this.random);
    const body = JSON.stringify({ events: batch.map((p) => p.event) });
    let lastError: AuditClientError | undefined;
    for (let attempt = 1; attempt <= this.opts.maxAttempts; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        this.stats.requests++;
        const res = await this.fetchFn(
          `${this.opts.apiUrl}/v1/logs/${encodeURIComponent(this.opts.logId)}/events`,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${this.opts.apiKey}`,
              'idempotency-key': idempotencyKey,
              ...(this.opts.waitSeconds !== undefined ? { prefer: `wait=${this.opts.waitSeconds}` } : {}),
            },
            body,
            signal: AbortSignal.timeout(this.opts.requestTimeoutMs),
          },
        );
        const text = await res.text();
        if (res.status === 202) {
          // Accepted durably, not sequenced yet: the same batch is never re-sent;
          // its receipts are looked up by accept id.
          const accepted = (JSON.parse(text) as { accepted?: { id?: unknown } }).accepted;
          if (typeof accepted?.id !== 'string')
            throw new AuditClientError('BAD_RESPONSE', 'a 202 without an accepted id');
          const receipts = await this.awaitReceipts(accepted.id);
          if (receipts.length !== batch.length)
            throw new AuditClientError(
              'BAD_RESPONSE',
              'server returned a receipt count that does not match the batch',
            );
          batch.forEach((p, i) => {
            p.resolve(receipts[i] as Receipt);
          });
          this.stats.batches++;
          this.stats.events += batch.length;
          this.stats.accepted++;
          return;
        }
        if (res.status === 200 || res.status === 201) {
          const parsed = JSON.parse(text) as { receipts: Receipt[] };
          if (!Array.isArray(parsed.receipts) || parsed.receipts.length !== batch.length) {
            throw new AuditClientError(
              'BAD_RESPONSE',
              'server returned a receipt count that does not match the batch',
            );
          }
          batch.forEach((p, i) => {
            p.resolve(parsed.receipts[i] as Receipt);
          });
          this.stats.batches++;
          this.stats.events += batch.length;
          return;
        }
        const err = parseError(text, res.status);
        if (!RETRYABLE.has(res.status)) {
          for (const p of batch) p.reject(err);
          return;
        }
        lastError = err;
        const ra = res.headers.get('retry-after');
        if (ra && /^\d+$/.test(ra)) retryAfterMs = Number(ra) * 1000;
      } catch (err) {
        if (
          err instanceof AuditClientError &&
          (err.code === 'BAD_RESPONSE' || err.code === 'RECEIPT_TIMEOUT' || err.code === 'RECEIPT_UNKNOWN')
        ) {
          for (const p of batch) p.reject(err);
          return;
        }
        lastError = new AuditClientError('TRANSPORT', `request failed: ${(err as Error).message}`);
      }
      if (attempt < this.opts.maxAttempts) {
        this.stats.retries++;
        const policy = { baseMs: this.opts.baseBackoffMs, capMs: this.opts.maxBackoffMs };
        await this.sleep(Math.max(retryAfterMs ?? 0, backoffDelay(attempt, policy, this.random)));
      }
    }
    const err = lastError ?? new AuditClientError('RETRIES_EXHAUSTED', 'retries exhausted');
    for (const p of batch) p.reject(err);
  }

  /**
   * Receipts of accepted requests by accept id (`GET …/receipts?ids=`, at
   * most 100 ids): those sequenced so far, the ids still pending, and the
   * ids the log does not know as this caller's pending request (`unknown`;
   * absent from older servers' answers).
   */
  async receipts(
    ids: readonly string[],
  ): Promise<{ receipts: Record<string, Receipt[]>; pending: string[]; unknown?: string[] }> {
    const res = await this.fetchFn(
      `${this.opts.apiUrl}/v1/logs/${encodeURIComponent(this.opts.logId)}/receipts?ids=${ids.map(encodeURIComponent).join(',')}`,
      {
        headers: { authorization: `Bearer ${this.opts.apiKey}` },
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs),
      },
    );
    const text = await res.text();
    if (res.status !== 200) throw parseError(text, res.status);
    return JSON.parse(text) as { receipts: Record<string, Receipt[]>; pending: string[]; unknown?: string[] };
  }

  /** Polls for one accepted request's receipts until they are there or receiptTimeoutMs passes. */
  private async awaitReceipts(id: string): Promise<Receipt[]> {
    const until = Date.now() + (this.opts.receiptTimeoutMs ?? 120_000);
    let pause = this.opts.receiptPollMs ?? 50;
    for (;;) {
      try {
        const got = await this.receipts([id]);
        const mine = got.receipts[id];
        if (mine) return mine;
        if (got.unknown?.includes(id))
          throw new AuditClientError('RECEIPT_UNKNOWN', `the log does not know accepted request ${id}`);
      } catch (err) {
        // Transient lookup failures are retried like the POST's; others are final.
        if (
          !(err instanceof AuditClientError) ||
          err.code === 'RECEIPT_UNKNOWN' ||
          (err.status !== undefined && !RETRYABLE.has(err.status))
        )
          throw err;
      }
      if (Date.now() >= until)
        throw new AuditClientError('RECEIPT_TIMEOUT', `request ${id} was accepted but not sequenced in time`);
      await this.sleep(pause);
      pause = Math.min(pause * 2, 1_000);
    }
  }
}

function parseError(text: string, status: number): AuditClientError {
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    return new AuditClientError(body.error?.code ?? 'HTTP_ERROR', body.error?.message ?? text, status);
  } catch {
    return new AuditClientError('HTTP_ERROR', `HTTP ${status}: ${text.slice(0, 200)}`, status);
  }
}

function randomKey(random: () => number): string {
  const bytes = new Uint8Array(16);
  if (globalThis.crypto?.getRandomValues) globalThis.crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
