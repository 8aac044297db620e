/**
 * Alert delivery (docs/detection.md "Delivery"): detection's outbox, per
 * log, in position order →
 *
 *   1. record   the entry as an event in the `system` log (alert.fire,
 *               alert.occurrence, alert.suppressed; event id = entry id, so a
 *               repeat adds nothing): the alert is evidence before anyone is told;
 *   2. deliver  an `alert` entry to each of its destinations (the rule's, or
 *               by severity), retrying with the core backoff — a few seconds
 *               within a run, longer waits across runs — until it is delivered
 *               or, after the last attempt or a permanent failure, dead-lettered;
 *   3. progress written (compare-and-swap), then the entry acknowledged.
 *
 * Exactly-once-ish: at least once to every destination, each attempt with
 * the same idempotency key (the alert id: webhook-id, PagerDuty dedup_key,
 * the SNS alert_id attribute), and never lost:
 *  - a crash after 1 records again (idempotent) and delivers;
 *  - a crash between an attempt and 3 repeats the attempt (same id);
 *  - a crash after 3 and before the acknowledgement finds the progress
 *    terminal and acknowledges without sending again — as it does for an
 *    entry a late detection redo brings back after its acknowledgement
 *    (progress is kept PROGRESS_RETENTION_MS after it ends).
 * An entry is acknowledged only when it is recorded and every destination is
 * delivered or dead-lettered. A lease per log keeps two runs from sending the
 * same log's alerts at once.
 *
 * Occurrences and suppressed alerts are recorded, not delivered: de-duplication
 * and suppression exist so that nobody is paged again.
 */
import type { Sleep, Uniform } from '../core/backoff.ts';
import { type DeliveryRouting, routeAlert } from '../core/deliver/destinations.ts';
import { type AlertAuditEvent, alertEvent } from '../core/deliver/events.ts';
import type { AlertNotice } from '../core/deliver/payloads.ts';
import {
  type AttemptResult,
  afterAttempt,
  DEFAULT_DELIVERY_RETRY,
  type DeadLetter,
  type DeliveryRetryPolicy,
  type DestinationProgress,
  deadLetterId,
  dueDestinations,
  type EntryProgress,
  isTerminal,
  newProgress,
} from '../core/deliver/progress.ts';
import type { AlertDocument } from '../core/detect/alert.ts';
import type { Clock } from '../ports/clock.ts';
import type { DeliveryStore, StoredProgress } from '../ports/delivery-store.ts';
import type { DetectionStateStore, OutboxRecord } from '../ports/detection-state.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import type { Notifier } from '../ports/notifier.ts';
import type { AuditPosition } from '../ports/principal-store.ts';
import { AppError } from './errors.ts';
import { fromPortError, RETRY_AFTER_SECONDS } from './port-errors.ts';

/** Where recorded alerts go: the `system` log (SystemLogAuditSink), idempotent on the event id. */
export interface AlertEventSink {
  record(event: AlertAuditEvent): Promise<AuditPosition>;
  /**
   * Records many in few appends, skipping ids the log holds; all or nothing
   * per append (a CONFLICT means: record them one by one).
   */
  recordMany?(events: readonly AlertAuditEvent[]): Promise<number>;
}

/** The points a test may crash at (afterStep throws): after them, nothing later in that entry has happened. */
export type DeliveryStep =
  /** The entry's event is in the system log; its progress is not written. */
  | 'recorded'
  /** One destination was attempted (delivered or failed); progress not written. */
  | 'attempted'
  /** A dead letter was stored; progress not written. */
  | 'dead-lettered'
  /** The entry's progress is written; it is not acknowledged. */
  | 'progress-written'
  /** A batch of entries was acknowledged. */
  | 'acked';

export interface DeliveryServiceOptions {
  readonly outbox: Pick<DetectionStateStore, 'readOutbox' | 'ackOutbox'>;
  readonly store: DeliveryStore;
  readonly audit: AlertEventSink;
  /** Opens each recorded alert for review (AlertReviewService.open); idempotent. */
  readonly alerts?: { open(alert: AlertDocument): Promise<unknown> };
  readonly routing: DeliveryRouting;
  /** By destination name: one per configured destination. */
  readonly notifiers: ReadonlyMap<string, Notifier>;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly random: Uniform;
  readonly metrics?: MetricsSink;
  readonly retry?: Partial<DeliveryRetryPolicy>;
  /**
   * A retry due within this many ms is waited for in the same run; a later
   * one is left to a later run (the schedule is the long wait). Default 5 s.
   */
  readonly maxInRunWaitMs?: number;
  /** This service's lease owner id (default a random UUID: one per container). */
  readonly owner?: string;
  /** Test seam: a throw is a crash at that step. */
  readonly afterStep?: (step: DeliveryStep, entryId: string) => void;
}

export type DeliverStatus =
  /** Nothing in the outbox. */
  | 'idle'
  /** Entries were processed (some may still be pending a retry: see `pending`). */
  | 'processed'
  /** Another run holds this log's lease; nothing was done. */
  | 'busy';

export interface DeliverOutcome {
  readonly logId: string;
  readonly status: DeliverStatus;
  /** Outbox entries looked at. */
  readonly entries: number;
  /** Events appended to the system log in this run (repeats included: they add nothing). */
  readonly recorded: number;
  /** Destination deliveries that succeeded, attempts that failed, dead letters stored. */
  readonly delivered: number;
  readonly failedAttempts: number;
  readonly deadLettered: number;
  /** Entries acknowledged (removed from the outbox). */
  readonly acked: number;
  /** Entries left in the outbox waiting for a retry. */
  readonly pending: number;
  /** True when the deadline stopped the run with entries left: run again. */
  readonly more: boolean;
  /** Alerts that had no destination at all (recorded only: the routing should say where they go). */
  readonly unrouted: number;
}

export interface RedriveOutcome {
  readonly attempted: number;
  readonly delivered: number;
  readonly failed: number;
  /** Ids that were not found or not open. */
  readonly skipped: readonly string[];
  /** True when the deadline stopped the re-drive with letters left. */
  readonly more: boolean;
}

/** Terminal progress is kept this long, so a late redo of an acknowledged entry is recognised (30 days). */
export const PROGRESS_RETENTION_MS = 30 * 86_400_000;
/** A run's lease outlives its deadline by this much: one attempt (its timeout) may still be in flight. */
export const LEASE_SLACK_MS = 60_000;
const PAGE = 100;
/** Entries of one page delivered at once: their destinations' round trips overlap. */
const DELIVERY_CONCURRENCY = 8;
/** Acknowledge in batches of this many positions (one BatchWriteItem). */
const ACK_BATCH = 25;

/** Store and audit failures become AppErrors; the job reports them and the next run resumes. */
function toAppError(logId: string, err: unknown): AppError {
  const mapped = fromPortError(err, `delivery of log ${logId}`);
  if (mapped) return mapped;
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new AppError('UNAVAILABLE', `delivery of log ${logId} interrupted (${what}); the next run resumes`, {
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    cause: err,
  });
}

interface Counters {
  recorded: number;
  delivered: number;
  failedAttempts: number;
  deadLettered: number;
  unrouted: number;
  /** Per destination, for the metrics. */
  perDestination: Map<string, { delivered: number; failures: number; dead: number }>;
}

export class DeliveryService {
  readonly #o: DeliveryServiceOptions;
  readonly #policy: DeliveryRetryPolicy;
  readonly #inRunWaitMs: number;
  readonly #owner: string;

  constructor(options: DeliveryServiceOptions) {
    this.#o = options;
    this.#policy = { ...DEFAULT_DELIVERY_RETRY, ...options.retry };
    if (!(this.#policy.maxAttempts >= 1)) throw new RangeError('retry.maxAttempts must be at least 1');
    this.#inRunWaitMs = options.maxInRunWaitMs ?? 5_000;
    this.#owner = options.owner ?? crypto.randomUUID();
  }

  /**
   * One run over a log's outbox until the deadline (no attempt starts after
   * it). Throws AppError when a store or the system log fails: what was
   * done is kept, and the next run resumes.
   */
  async deliverLog(logId: string, deadlineMs: number): Promise<DeliverOutcome> {
    const { store, clock } = this.#o;
    const c = newCounters();
    let entries = 0;
    let acked = 0;
    let pending = 0;
    let more = false;
    const nothing = (status: DeliverStatus): DeliverOutcome => ({
      logId,
      status,
      entries: 0,
      recorded: 0,
      delivered: 0,
      failedAttempts: 0,
      deadLettered: 0,
      unrouted: 0,
      acked: 0,
      pending: 0,
      more: false,
    });
    try {
      // Most logs have nothing waiting on most runs: look before writing a lease.
      if ((await this.#o.outbox.readOutbox(logId, { limit: 1 })).records.length === 0) return nothing('idle');
      if (!(await store.acquireLease(logId, this.#owner, deadlineMs + LEASE_SLACK_MS, clock.now())))
        return nothing('busy');
      try {
        let acks: string[] = [];
        // Takes the batch before awaiting, so positions pushed meanwhile (by another entry of
        // the page, delivered concurrently) wait for the next flush instead of being dropped.
        const flush = async () => {
          if (acks.length === 0) return;
          const batch = acks;
          acks = [];
          await this.#o.outbox.ackOutbox(logId, batch);
          acked += batch.length;
          this.#o.afterStep?.('acked', batch.at(-1) as string);
        };
        // Progress read this run, by entry id: an id seen twice (a redo brought it back) is current.
        const known = new Map<string, StoredProgress>();
        let after: string | undefined;
        for (;;) {
          const page = await this.#o.outbox.readOutbox(logId, {
            ...(after !== undefined ? { after } : {}),
            limit: PAGE,
          });
          if (page.records.length === 0) break;
          const unread = [...new Set(page.records.map((r) => r.entry.id))].filter((id) => !known.has(id));
          if (unread.length > 0)
            for (const [id, p] of await store.readProgress(logId, unread)) known.set(id, p);
          const preRecorded = await this.#recordPage(page.records, known);
          // Entries of a page are delivered DELIVERY_CONCURRENCY at a time (one destination's
          // round trip no longer waits for another's); a page holding one entry id twice (a redo
          // brought it back) goes one at a time, so its progress is never raced by itself.
          // Each entry's steps keep their order (record → attempts → progress → ack), which is
          // all the crash-safety argument above needs; a failure stops the page from starting
          // more entries, lets those in flight finish, then fails the run.
          const distinct = new Set(page.records.map((r) => r.entry.id)).size === page.records.length;
          let next = 0;
          let stopped = false;
          let failure: { err: unknown } | undefined;
          const worker = async () => {
            while (!stopped && failure === undefined && next < page.records.length) {
              const rec = page.records[next++] as OutboxRecord;
              if (clock.now() >= deadlineMs) {
                more = true;
                stopped = true;
                return;
              }
              entries++;
              try {
                const done = await this.#entry(logId, rec, known, deadlineMs, c, preRecorded);
                if (done) {
                  acks.push(rec.position);
                  if (acks.length >= ACK_BATCH) await flush();
                } else pending++;
              } catch (err) {
                failure ??= { err };
              }
            }
          };
          await Promise.all(Array.from({ length: distinct ? DELIVERY_CONCURRENCY : 1 }, () => worker()));
          if (failure) throw failure.err;
          if (stopped) break;
          if (page.next === undefined) break;
          after = page.next;
        }
        await flush();
      } finally {
        await store.releaseLease(logId, this.#owner).catch(() => {});
      }
    } catch (err) {
      this.#emit(logId, c);
      throw toAppError(logId, err);
    }
    this.#emit(logId, c);
    return {
      logId,
      status: entries === 0 ? 'idle' : 'processed',
      entries,
      recorded: c.recorded,
      delivered: c.delivered,
      failedAttempts: c.failedAttempts,
      deadLettered: c.deadLettered,
      unrouted: c.unrouted,
      acked,
      pending,
      more,
    };
  }

  /** One entry: record, deliver what is due, write progress. True when it may be acknowledged. */
  async #entry(
    logId: string,
    rec: OutboxRecord,
    known: Map<string, StoredProgress>,
    deadlineMs: number,
    c: Counters,
    preRecorded: ReadonlySet<string>,
  ): Promise<boolean> {
    const { clock, afterStep } = this.#o;
    const id = rec.entry.id;
    const stored = known.get(id);
    if (stored?.progress.recorded && isTerminal(stored.progress)) return true;
    let p: EntryProgress =
      stored?.progress ??
      newProgress(
        id,
        rec.entry.type === 'alert' ? routeAlert(this.#o.routing, rec.entry.alert) : [],
        clock.now(),
      );
    if (!stored && rec.entry.type === 'alert' && Object.keys(p.destinations).length === 0) c.unrouted++;
    const version = stored?.version ?? 0;

    if (!p.recorded) {
      if (!preRecorded.has(id)) await this.#record(rec);
      // Reviewers can see it before anyone is told (src/app/alerts.ts); an open
      // that fails is repeated with the record, as `recorded` is not yet written.
      if (rec.entry.type === 'alert') await this.#o.alerts?.open(rec.entry.alert);
      c.recorded++;
      afterStep?.('recorded', id);
      p = { ...p, recorded: true };
    }

    if (rec.entry.type === 'alert') {
      const notice: AlertNotice = { alert: rec.entry.alert, checkpoint: rec.checkpoint };
      const destinations = { ...p.destinations };
      for (const name of dueDestinations(p, clock.now())) {
        if (clock.now() >= deadlineMs) break;
        const before = destinations[name] as DestinationProgress;
        const after = await this.#attempt(name, notice, before, deadlineMs, c);
        if (after.state === 'dead') {
          await this.#o.store.putDeadLetter(this.#deadLetter(rec, name, p, after));
          c.deadLettered++;
          this.#count(c, name, 'dead');
          afterStep?.('dead-lettered', id);
        }
        destinations[name] = after;
        afterStep?.('attempted', id);
      }
      p = { ...p, destinations };
    }

    const terminal = isTerminal(p);
    const written = await this.#o.store.writeProgress(
      logId,
      p,
      version,
      terminal ? clock.now() + PROGRESS_RETENTION_MS : undefined,
    );
    if (!written) {
      // Someone else moved this entry's progress (a run that lost the lease by
      // overrunning it): ours is stale. Leave the entry for the next run, which
      // reads theirs; anything we sent meanwhile was sent with the same id.
      known.delete(id);
      return false;
    }
    known.set(id, { progress: p, version: version + 1 });
    afterStep?.('progress-written', id);
    return terminal;
  }

  /**
   * Records every entry of a page whose progress does not say recorded in
   * one go (recordMany), before any of them is delivered: a page of alerts
   * costs one or two appends instead of one each, which is most of a run's
   * time. Returns the ids now in the system log; on CONFLICT (an id someone
   * else recorded meanwhile) it records them one by one, in position order.
   */
  async #recordPage(
    records: readonly OutboxRecord[],
    known: ReadonlyMap<string, StoredProgress>,
  ): Promise<ReadonlySet<string>> {
    const recordMany = this.#o.audit.recordMany?.bind(this.#o.audit);
    if (!recordMany) return new Set();
    const byId = new Map<string, OutboxRecord>();
    for (const rec of records) if (!known.get(rec.entry.id)?.progress.recorded) byId.set(rec.entry.id, rec);
    if (byId.size < 2) return new Set();
    try {
      await recordMany([...byId.values()].map(alertEvent));
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
      // One by one, still in position order (entries are then delivered concurrently).
      for (const rec of byId.values()) await this.#record(rec);
    }
    return new Set(byId.keys());
  }

  async #record(rec: OutboxRecord): Promise<void> {
    try {
      await this.#o.audit.record(alertEvent(rec));
    } catch (err) {
      // CONFLICT: this id is in the system log with other content. Event ids
      // are the entries' ids, which are unique per alert (a hash of the log,
      // rule version and trigger), so it is this entry recorded under an
      // earlier checkpoint citation: recorded is recorded.
      if (err instanceof AppError && err.code === 'CONFLICT') return;
      throw err;
    }
  }

  /**
   * Attempts one destination, retrying in this run while the next attempt is
   * due within maxInRunWaitMs and before the deadline; returns its new state.
   */
  async #attempt(
    name: string,
    notice: AlertNotice,
    start: DestinationProgress,
    deadlineMs: number,
    c: Counters,
  ): Promise<DestinationProgress> {
    const { clock, random } = this.#o;
    let d = start;
    for (;;) {
      if (d.state !== 'pending') return d;
      const result = await this.#send(name, notice, d.attempts + 1);
      const now = clock.now();
      d = afterAttempt(d, result, now, this.#policy, random);
      if (result.ok) {
        c.delivered++;
        this.#count(c, name, 'delivered');
      } else {
        c.failedAttempts++;
        this.#count(c, name, 'failures');
      }
      if (d.state !== 'pending') return d;
      const wait = d.nextAtMs - now;
      if (wait > this.#inRunWaitMs || d.nextAtMs >= deadlineMs) return d;
      await this.#o.sleep(wait);
    }
  }

  async #send(name: string, notice: AlertNotice, attempt: number): Promise<AttemptResult> {
    const notifier = this.#o.notifiers.get(name);
    if (!notifier)
      return {
        ok: false,
        code: 'UNKNOWN_DESTINATION',
        message: `no destination named ${name} is configured (ANCHORLOG_ALERT_DESTINATIONS)`,
        retryable: false,
      };
    try {
      return await notifier.send({ id: notice.alert.id, notice, attempt });
    } catch (err) {
      // The port says a notifier resolves; a throw is a bug in it. Retried.
      return {
        ok: false,
        code: 'INTERNAL',
        message: `notifier ${name} threw: ${err instanceof Error ? err.message : String(err)}`,
        retryable: true,
      };
    }
  }

  #deadLetter(
    rec: OutboxRecord,
    destination: string,
    p: EntryProgress,
    d: Extract<DestinationProgress, { state: 'dead' }>,
  ): DeadLetter {
    if (rec.entry.type !== 'alert') throw new TypeError('only alerts are delivered');
    return {
      v: 1,
      id: deadLetterId(rec.entry.alert.id, destination),
      logId: rec.logId,
      position: rec.position,
      destination,
      alert: rec.entry.alert,
      checkpoint: rec.checkpoint,
      attempts: d.attempts,
      firstAttemptAtMs: p.startedAtMs,
      deadAtMs: d.atMs,
      lastError: d.lastError,
      state: 'open',
      redrives: 0,
    };
  }

  #count(c: Counters, name: string, what: 'delivered' | 'failures' | 'dead'): void {
    let n = c.perDestination.get(name);
    if (!n) {
      n = { delivered: 0, failures: 0, dead: 0 };
      c.perDestination.set(name, n);
    }
    n[what]++;
  }

  /**
   * Per destination: AlertsDelivered, AlertDeliveryFailures (failed attempts;
   * the alarm "delivery keeps failing" sums it), AlertsDeadLettered (an
   * alert a destination never took; alarmed at once).
   */
  #emit(logId: string, c: Counters): void {
    const metrics = this.#o.metrics;
    if (!metrics) return;
    const now = this.#o.clock.now();
    for (const [destination, n] of c.perDestination)
      metrics.emit({
        dimensions: { Destination: destination },
        metrics: [
          { name: 'AlertsDelivered', value: n.delivered, unit: 'Count' },
          { name: 'AlertDeliveryFailures', value: n.failures, unit: 'Count' },
          { name: 'AlertsDeadLettered', value: n.dead, unit: 'Count' },
        ],
        timestampMs: now,
        properties: { logId },
      });
    if (c.unrouted > 0)
      metrics.emit({
        dimensions: { LogId: logId },
        metrics: [{ name: 'AlertsUnrouted', value: c.unrouted, unit: 'Count' }],
        timestampMs: now,
      });
  }

  /** Dead letters, for operators (`state` open by default). */
  listDeadLetters(opts: { state?: DeadLetter['state'] | 'all'; after?: string; limit?: number } = {}) {
    const { state = 'open', ...rest } = opts;
    return this.#o.store.listDeadLetters({ ...rest, ...(state === 'all' ? {} : { state }) });
  }

  /**
   * Re-drives dead letters (by id, or every open one): one attempt each, with
   * the in-run retries of a normal delivery, with the same idempotency key.
   * A delivered letter becomes `redriven`; a failed one stays open with its
   * new error. Run it once the destination is fixed (docs/operations.md).
   */
  async redrive(ids: readonly string[] | 'all', deadlineMs: number): Promise<RedriveOutcome> {
    const { store, clock } = this.#o;
    let attempted = 0;
    let delivered = 0;
    let failed = 0;
    let more = false;
    const skipped: string[] = [];
    const c = newCounters();
    try {
      const letters = async function* (): AsyncGenerator<DeadLetter | string> {
        if (ids !== 'all') {
          for (const id of ids) yield (await store.readDeadLetter(id)) ?? id;
          return;
        }
        let after: string | undefined;
        do {
          const page = await store.listDeadLetters({
            state: 'open',
            ...(after !== undefined ? { after } : {}),
          });
          yield* page.items;
          after = page.next;
        } while (after !== undefined);
      };
      for await (const l of letters()) {
        if (typeof l === 'string' || l.state !== 'open') {
          skipped.push(typeof l === 'string' ? l : l.id);
          continue;
        }
        if (clock.now() >= deadlineMs) {
          more = true;
          break;
        }
        attempted++;
        const notice: AlertNotice = { alert: l.alert, checkpoint: l.checkpoint };
        // A fresh budget of attempts for this run only: the letter stays dead until one succeeds.
        const d = await this.#attempt(
          l.destination,
          notice,
          { state: 'pending', attempts: 0, nextAtMs: clock.now() },
          deadlineMs,
          c,
        );
        const ok = d.state === 'delivered';
        if (ok) delivered++;
        else failed++;
        const lastError = d.state === 'delivered' ? l.lastError : (d.lastError ?? l.lastError);
        const updated: DeadLetter = ok
          ? { ...l, redrives: l.redrives + 1, state: 'redriven', redrivenAtMs: clock.now() }
          : { ...l, redrives: l.redrives + 1, lastError };
        await store.updateDeadLetter(updated, l.redrives);
      }
    } catch (err) {
      throw toAppError('(dead letters)', err);
    } finally {
      this.#emit('(redrive)', c);
    }
    return { attempted, delivered, failed, skipped, more };
  }
}

function newCounters(): Counters {
  return {
    recorded: 0,
    delivered: 0,
    failedAttempts: 0,
    deadLettered: 0,
    unrouted: 0,
    perDestination: new Map(),
  };
}
