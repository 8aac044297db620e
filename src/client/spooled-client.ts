/**
 * SpooledAuditClient: a producer client that never blocks on the API and
 * never drops an event (docs/sdk.md). `append()` resolves once the event is
 * numbered (producer stream seq), signed if a signer is given, and fsynced to
 * the on-disk spool (./spool.ts); a background sender delivers the spool in
 * order, in batches, retrying with full-jitter backoff for as long as it
 * takes, and acknowledges entries in the spool only after the log answered
 * 2xx for them.
 *
 * At-least-once becomes exactly-once in the log: every spooled event has an
 * id, and ingest treats a batch whose ids are all stored as a replay (200
 * with the original receipts) — so a batch re-sent after a crash or a lost
 * response is stored once. A re-sent batch grouped differently from the one
 * that landed (some ids stored, some not) is a 409 CONFLICT; the sender then
 * sends its events one by one, each a replay or a new append.
 *
 * An event the API refuses for good (a 4xx other than 408/409/425/429: a
 * signature or catalog error) can never be stored; it is not silently
 * dropped but written to `rejected.jsonl` in the spool directory with the
 * error, reported to `onRejected` and counted, and the stream moves on (its
 * seq then shows as a gap at the source: docs/events.md §Producer streams).
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backoffDelay } from '../core/backoff.ts';
import type { AuditEvent } from '../core/event.ts';
import { type EventSigner, signEvent } from '../core/producer-signature.ts';
import { Spool, type SpoolEntry, type SpoolOptions } from './spool.ts';

export interface SpooledClientOptions {
  apiUrl: string;
  apiKey: string;
  logId: string;
  spool: SpoolOptions;
  signer?: EventSigner;
  maxBatchEvents?: number;
  /** How long a partial batch waits for more events before it is sent. */
  flushIntervalMs?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  requestTimeoutMs?: number;
  onRejected?: (entry: SpoolEntry, error: { status: number; code: string; message: string }) => void;
  fetch?: typeof fetch;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const REFUSED = new Set([400, 409, 413]);

export class SpooledAuditClient {
  readonly #o: Required<Omit<SpooledClientOptions, 'signer' | 'onRejected' | 'fetch' | 'random' | 'sleep'>>;
  readonly #spool: Spool;
  readonly #signer: EventSigner | undefined;
  readonly #onRejected: SpooledClientOptions['onRejected'];
  readonly #fetch: typeof fetch;
  readonly #random: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #wake: (() => void) | undefined;
  #wakeOnClose: (() => void) | undefined;
  #running = true;
  #loop: Promise<void>;
  readonly stats = { requests: 0, retries: 0, delivered: 0, rejected: 0, conflictsSplit: 0 };

  private constructor(o: SpooledClientOptions, spool: Spool) {
    this.#o = {
      maxBatchEvents: 100,
      flushIntervalMs: 50,
      baseBackoffMs: 100,
      maxBackoffMs: 30_000,
      requestTimeoutMs: 30_000,
      ...o,
      apiUrl: o.apiUrl.replace(/\/+$/, ''),
    };
    this.#spool = spool;
    this.#signer = o.signer;
    this.#onRejected = o.onRejected;
    this.#fetch = o.fetch ?? fetch;
    this.#random = o.random ?? Math.random;
    this.#sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#loop = this.#run();
  }

  /** Opens the spool (recovering what a crash left) and starts delivering it. */
  static async open(options: SpooledClientOptions): Promise<SpooledAuditClient> {
    return new SpooledAuditClient(options, await Spool.open(options.spool));
  }

  get spool(): Spool {
    return this.#spool;
  }

  /** Durably spools one event; resolves with its place in the stream. */
  async append(event: Record<string, unknown>): Promise<{ stream: string; seq: number }> {
    return (await this.appendMany([event]))[0] as { stream: string; seq: number };
  }

  /** Durably spools events with one fsync. */
  async appendMany(events: readonly Record<string, unknown>[]): Promise<{ stream: string; seq: number }[]> {
    const signer = this.#signer;
    const entries = await this.#spool.appendMany(
      events,
      signer
        ? async (e) =>
            (await signEvent(e as unknown as AuditEvent, signer)) as unknown as Record<string, unknown>
        : undefined,
    );
    this.#wake?.();
    return entries.map((e) => ({ stream: this.#spool.stream, seq: e.seq }));
  }

  /** Waits until everything spooled so far is in the log (or rejected for good). */
  async flush(): Promise<void> {
    while (this.#spool.pending().length > 0) {
      if (!this.#running) throw new Error('client is closed');
      this.#wake?.();
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Stops the sender (after flushing, unless `flush: false`); what is unsent stays spooled. */
  async close(opts: { flush?: boolean } = {}): Promise<void> {
    if (opts.flush ?? true) await this.flush();
    this.#running = false;
    this.#wake?.();
    this.#wakeOnClose?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (this.#running) {
      const pending = this.#spool.pending();
      if (pending.length === 0) {
        await new Promise<void>((r) => {
          this.#wake = r;
          setTimeout(r, this.#o.flushIntervalMs * 10);
        });
        this.#wake = undefined;
        continue;
      }
      if (pending.length < this.#o.maxBatchEvents && attempt === 0)
        await this.#sleep(this.#o.flushIntervalMs);
      const batch = this.#spool.pending().slice(0, this.#o.maxBatchEvents);
      const outcome = await this.#deliver(batch);
      if (outcome.ok) {
        attempt = 0;
        continue;
      }
      attempt++;
      this.stats.retries++;
      const delay = backoffDelay(
        attempt,
        { baseMs: this.#o.baseBackoffMs, capMs: this.#o.maxBackoffMs },
        this.#random,
      );
      await this.#interruptibleSleep(Math.max(outcome.retryAfterMs ?? 0, delay));
    }
  }

  /** A backoff sleep that `close()` cuts short. */
  async #interruptibleSleep(ms: number): Promise<void> {
    if (!this.#running) return;
    await Promise.race([
      this.#sleep(ms),
      new Promise<void>((r) => {
        this.#wakeOnClose = r;
      }),
    ]);
    this.#wakeOnClose = undefined;
  }

  /** Sends `batch`; acknowledges what the log stored or refused for good. */
  async #deliver(batch: readonly SpoolEntry[]): Promise<{ ok: boolean; retryAfterMs?: number }> {
    const r = await this.#post(batch);
    if (r.kind === 'stored') {
      await this.#spool.ack((batch[batch.length - 1] as SpoolEntry).seq);
      this.stats.delivered += batch.length;
      return { ok: true };
    }
    if (r.kind === 'retry')
      return { ok: false, ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}) };
    // Refused (409 after a regrouping, or a 4xx): one by one, so each entry gets its own answer.
    if (batch.length > 1) {
      this.stats.conflictsSplit++;
      for (const entry of batch) {
        const one = await this.#deliver([entry]);
        if (!one.ok) return one;
      }
      return { ok: true };
    }
    const entry = batch[0] as SpoolEntry;
    this.stats.rejected++;
    await appendFile(
      join(this.#o.spool.dir, 'rejected.jsonl'),
      `${JSON.stringify({ ...entry, error: r.error })}\n`,
    );
    this.#onRejected?.(entry, r.error);
    await this.#spool.ack(entry.seq);
    return { ok: true };
  }

  async #post(
    batch: readonly SpoolEntry[],
  ): Promise<
    | { kind: 'stored' }
    | { kind: 'retry'; retryAfterMs?: number }
    | { kind: 'refused'; error: { status: number; code: string; message: string } }
  > {
    try {
      this.stats.requests++;
      const res = await this.#fetch(`${this.#o.apiUrl}/v1/logs/${encodeURIComponent(this.#o.logId)}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#o.apiKey}` },
        body: JSON.stringify({ events: batch.map((e) => e.event) }),
        signal: AbortSignal.timeout(this.#o.requestTimeoutMs),
      });
      const text = await res.text();
      // 202: accepted durably, sequenced later (docs/ingest.md §9): as good as stored for the spool.
      if (res.status === 200 || res.status === 201 || res.status === 202) return { kind: 'stored' };
      const ra = res.headers.get('retry-after');
      const retryAfterMs = ra && /^\d+$/.test(ra) ? Number(ra) * 1000 : undefined;
      let code = 'HTTP_ERROR';
      let message = text.slice(0, 500);
      try {
        const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
        code = body.error?.code ?? code;
        message = body.error?.message ?? message;
      } catch {
        // not a JSON error body
      }
      // Refused for good: the event itself (400, 413) or a regrouped batch (409 CONFLICT).
      // 409 IN_PROGRESS waits for the earlier attempt; 401/403/404 are configuration an
      // operator fixes, so the events stay spooled and are retried meanwhile.
      if (REFUSED.has(res.status) && code !== 'IN_PROGRESS')
        return { kind: 'refused', error: { status: res.status, code, message } };
      return { kind: 'retry', ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    } catch {
      return { kind: 'retry' };
    }
  }
}
