/**
 * The per-log sequencer of accepted entries (docs/ingest.md §9): takes every
 * entry pending for a log and gives it indexes, `prev` and `receivedAt` in
 * one LogStore commit, then writes a receipt per entry and removes it from
 * the queue. Opportunistic: whoever accepted an entry (an ingest request)
 * calls `runOnce`; one caller at a time holds the log's lease and sequences
 * for everybody, the others wait for their receipts.
 *
 * Invariants, given stores that keep their contracts:
 *  - gap-free, fork-free, chained, receivedAt never decreasing: the same
 *    conditional commit at tip+1 as the direct append (src/app/ingest.ts),
 *    records built here from a tip read from committed batches;
 *  - exactly once per accepted entry: a batch names its members in the
 *    commit itself. Before committing, a sequencer finishes every batch after
 *    the lease's doneSeq (so any entry already in the log has a receipt and is
 *    skipped), and after losing a race it reads the winners' members and drops
 *    those entries. Two sequencers at once (an expired lease whose holder is
 *    still running) therefore cost a lost race, never a duplicate: each commit
 *    is at its own tip+1, so the second one to land conflicts and learns the
 *    first's members;
 *  - the lease's doneSeq is recorded before a holder's first commit, and
 *    advanced only after the batches up to it are finished;
 *  - every step after a commit (event ids, producer streams, receipts,
 *    queue removal, progress) is idempotent and redone by the next holder if
 *    it did not happen, so a crash at any step loses and duplicates nothing.
 */
import { type Sleep, type Uniform, uniformFromBytes } from '../core/backoff.ts';
import { bytesEqual, fromBase64, toBase64, toBase64Url } from '../core/bytes.ts';
import type { AuditEvent } from '../core/event.ts';
import { parseJson } from '../core/ijson.ts';
import {
  decodeRecord,
  encodeRecord,
  formatReceivedAt,
  leafHash,
  MAX_RECEIVED_AT_MS,
} from '../core/record.ts';
import { type Clock, MAX_CLOCK_SKEW_MS, systemSleep } from '../ports/clock.ts';
import {
  type BatchHeader,
  type BatchMember,
  type LogStore,
  LogStoreError,
  type LogTip,
  nextTip,
  type Receipt,
} from '../ports/log-store.ts';
import type { EntryReceipt, PendingEntry, PendingStore } from '../ports/pending-store.ts';
import { AppError } from './errors.ts';
import type { ProducerService } from './producers.ts';
import { StoreCalls } from './store-calls.ts';

export interface SequencerLimits {
  /** Lease of a log's sequencer; a holder starts no commit in its last quarter. */
  leaseMs: number;
  /** Most records in one sequenced batch (an entry is never split). */
  maxEventsPerBatch: number;
  /** Most entries read from the queue per batch. */
  maxEntriesPerBatch: number;
  /** Commit races lost in one run before giving up (the next run continues). */
  maxConflicts: number;
  maxRetries: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** First pause between looks for a receipt while waiting; doubles up to 16×. */
  pollMs: number;
}

/** A waiter tries the lease at every this many looks for its receipt. */
const LEASE_TRY_EVERY = 3;

export const DEFAULT_SEQUENCER_LIMITS: SequencerLimits = {
  leaseMs: 10_000,
  maxEventsPerBatch: 1000,
  maxEntriesPerBatch: 1000,
  maxConflicts: 20,
  maxRetries: 6,
  backoffBaseMs: 20,
  backoffCapMs: 1_000,
  pollMs: 20,
};

export interface SequencerDeps {
  store: Pick<
    LogStore,
    'readTip' | 'commitBatch' | 'readBatchHeader' | 'readBatch' | 'advanceHead' | 'writeEventIds'
  >;
  pending: PendingStore;
  clock: Clock;
  limits?: Partial<SequencerLimits>;
  random?: (n: number) => Uint8Array;
  sleep?: Sleep;
  onWarning?: (message: string, cause: unknown) => void;
  producers?: Pick<ProducerService, 'observe'>;
  /** The namespace of a submitter's event ids in a log (src/app/ingest.ts eventIdScope). */
  eventIdScope: (logId: string, submitter: string) => string;
}

/** What one run did (tests, metrics). */
export interface RunResult {
  /** False when another holder had the lease (nothing done). */
  ran: boolean;
  batches: number;
  entries: number;
}

interface Waiter {
  /** False: the run may skip the receipt item when it answers in memory (see waitFor). */
  needsReceipt: boolean;
  /** Claimed by a run: `promise` settles with the receipt, or undefined if that run failed first. */
  done: boolean;
  promise: Promise<EntryReceipt | undefined>;
  resolve: (r: EntryReceipt | undefined) => void;
}

const waiterKey = (logId: string, acceptId: string) => `${logId}\0${acceptId}`;

/** How long a depth learned by this process stands in for reading the lease item (back-pressure). */
export const DEPTH_HINT_MS = 1_000;

interface Chosen {
  entries: PendingEntry[];
  events: number;
}

export class Sequencer {
  readonly #store: SequencerDeps['store'];
  readonly #pending: PendingStore;
  readonly #clock: Clock;
  readonly #limits: SequencerLimits;
  readonly #random: (n: number) => Uint8Array;
  readonly #sleep: Sleep;
  readonly #uniform: Uniform;
  readonly #warn: (message: string, cause: unknown) => void;
  /** Store calls with the one retry rule (src/app/store-calls.ts). */
  readonly #calls: StoreCalls;
  readonly #producers: SequencerDeps['producers'];
  readonly #scope: SequencerDeps['eventIdScope'];
  /** Last tip seen per log: committed stays committed, so probing on from it is correct and saves reads. */
  readonly #tips = new Map<string, LogTip>();
  /** Writers waiting in this process, by waiterKey; a run that commits an entry claims and answers its waiter. */
  readonly #waiters = new Map<string, Waiter>();
  /** Logs with a run of this Sequencer going on; the promise settles when it ends. */
  readonly #active = new Map<string, Promise<void>>();
  /** The queue depth this process last learned per log, and when (the back-pressure hint). */
  readonly #depths = new Map<string, { depth: number; at: number }>();

  constructor(deps: SequencerDeps) {
    this.#store = deps.store;
    this.#pending = deps.pending;
    this.#clock = deps.clock;
    this.#limits = { ...DEFAULT_SEQUENCER_LIMITS, ...deps.limits };
    this.#random = deps.random ?? ((n) => crypto.getRandomValues(new Uint8Array(n)));
    this.#sleep = deps.sleep ?? systemSleep;
    this.#uniform = uniformFromBytes(this.#random);
    this.#warn = deps.onWarning ?? (() => {});
    this.#calls = new StoreCalls(
      {
        baseMs: this.#limits.backoffBaseMs,
        capMs: this.#limits.backoffCapMs,
        maxRetries: this.#limits.maxRetries,
      },
      this.#sleep,
      this.#uniform,
      this.#warn,
    );
    this.#producers = deps.producers;
    this.#scope = deps.eventIdScope;
  }

  /**
   * Waits until entry `acceptId` has a receipt or `untilMs` (epoch ms) passes,
   * sequencing the log itself whenever the lease is free. Undefined when the
   * wait ran out (the entry stays accepted; its receipt comes later).
   *
   * In-process answers (docs/ingest.md §9 "Receipts and latency"): the waiter
   * registers under its accept id, and a run *of this Sequencer* that
   * commits the entry hands it the receipt directly, no store read. While a
   * run of this Sequencer is going on the log, a waiter neither polls nor
   * tries the lease: it waits for that run (which lists the queue again
   * after every batch, so it takes the entry) or for its end, then tries the
   * lease itself. Only when another process holds the lease does it poll
   * the entry's receipt, backing off from `pollMs` to 16×.
   *
   * `needsReceipt` false (an entry with no idempotency key: no retry can
   * land on it and nobody else knows its accept id) lets the run skip the
   * entry's receipt item when it answers the waiter in memory; the waiter
   * MUST then return the receipt it was handed (201), never 202. A waiter
   * that gives up unregisters first (synchronously, so a run either claimed
   * it before, and it gets the receipt, or writes the receipt item).
   */
  async waitFor(
    logId: string,
    acceptId: string,
    untilMs: number,
    needsReceipt = true,
  ): Promise<EntryReceipt | undefined> {
    const key = waiterKey(logId, acceptId);
    let me = this.#register(key, needsReceipt);
    let pause = this.#limits.pollMs;
    let tryLease = true;
    let polls = 0;
    try {
      for (;;) {
        if (me.done) {
          const got = await me.promise;
          if (got) return got;
          // The run that claimed us failed before answering: wait on as before.
          me = this.#register(key, needsReceipt);
        }
        const local = this.#active.get(logId);
        if (local) {
          // A run of ours is going on this log: it lists the queue before
          // every batch, so it takes our entry in its next batch, or ends
          // (then we try the lease). No timer: that run is bounded by its
          // lease (it starts no batch in the lease's last quarter), so a
          // waiter may overrun its wait by at most that run's remainder.
          await Promise.race([me.promise, local]);
          tryLease = true;
        } else if (tryLease) {
          tryLease = false;
          const run = await this.runOnce(logId);
          // Our run may have stopped before our entry (lease nearly over): go again.
          if (run.ran && !me.done) tryLease = true;
        } else {
          // Another process holds the lease: its run has no waiter for us,
          // so it writes our receipt item. Poll it.
          const found = (await this.#calls.retry(() => this.#pending.readReceipts(logId, [acceptId]))).get(
            acceptId,
          );
          if (found && !me.done) {
            this.#waiters.delete(key);
            return found;
          }
          if (!me.done) {
            const slept = this.#sleep(Math.min(pause, Math.max(1, untilMs - this.#clock.now())));
            await Promise.race([me.promise, slept]);
            pause = Math.min(pause * 2, this.#limits.pollMs * 16);
            tryLease = ++polls % LEASE_TRY_EVERY === 0;
          }
        }
        if (!me.done && this.#clock.now() >= untilMs) {
          this.#waiters.delete(key);
          return undefined;
        }
      }
    } catch (err) {
      // A run we drove failed. Claimed before it failed: the claim settles
      // (a receipt we must return, or undefined when the run answered nobody
      // and the next run writes the receipt item). Unclaimed: unregister, so
      // the next run writes our receipt item for the 202 lookup.
      if (me.done) {
        const got = await me.promise;
        if (got) return got;
      } else if (this.#waiters.get(key) === me) this.#waiters.delete(key);
      throw err;
    }
  }

  #register(key: string, needsReceipt: boolean): Waiter {
    let resolve!: (r: EntryReceipt | undefined) => void;
    const promise = new Promise<EntryReceipt | undefined>((r) => {
      resolve = r;
    });
    const w: Waiter = { needsReceipt, done: false, promise, resolve };
    this.#waiters.set(key, w);
    return w;
  }

  /**
   * The queue depth of `logId` as this process last learned it (its own
   * runs: the lease as taken, progress as recorded), if learned within
   * DEPTH_HINT_MS; undefined otherwise (the caller reads the lease item).
   */
  depthHint(logId: string): number | undefined {
    const d = this.#depths.get(logId);
    return d && this.#clock.now() - d.at < DEPTH_HINT_MS ? d.depth : undefined;
  }

  /** Records a depth read elsewhere (the back-pressure check's own lease read). */
  noteDepth(logId: string, depth: number): void {
    this.#depths.set(logId, { depth, at: this.#clock.now() });
  }

  /**
   * One sequencing run: takes the lease (or returns `ran: false`), finishes
   * what an earlier holder left, then commits pending entries batch by batch
   * until the queue is empty or the lease nears its end.
   */
  async runOnce(logId: string): Promise<RunResult> {
    // One run per log per Sequencer: a second would only lose the lease race.
    // Set before the first await, so waiters that look after this see it.
    if (this.#active.has(logId)) return { ran: false, batches: 0, entries: 0 };
    let ended!: () => void;
    this.#active.set(
      logId,
      new Promise<void>((r) => {
        ended = r;
      }),
    );
    try {
      return await this.#runHeld(logId);
    } finally {
      this.#active.delete(logId);
      ended();
    }
  }

  async #runHeld(logId: string): Promise<RunResult> {
    const holder = toBase64Url(this.#random(12));
    const now = this.#clock.now();
    const lease = await this.#calls.retry(() =>
      this.#pending.acquireLease(logId, holder, now, this.#limits.leaseMs),
    );
    if (!lease) return { ran: false, batches: 0, entries: 0 };
    this.noteDepth(logId, lease.depth);
    const stopAt = lease.expiresAt - this.#limits.leaseMs / 4;
    const result: RunResult = { ran: true, batches: 0, entries: 0 };
    try {
      let tip = await this.#calls.retry(() => this.#store.readTip(logId, this.#tips.get(logId)));
      let done = lease.doneSeq;
      if (done === undefined) {
        // First holder ever: nothing before this tip has members. Recorded
        // before our first commit, so a crash after it is still finished by
        // the next holder from here.
        if (!(await this.#calls.retry(() => this.#pending.recordProgress(logId, holder, tip.seq, 0))))
          return result;
        done = tip.seq;
      }
      await this.#finishRange(logId, done, tip.seq);
      done = tip.seq;
      let conflicts = 0;
      // What is left when the run stops: 0 when it stopped on an empty queue.
      let depth = 0;
      while (this.#clock.now() < stopAt) {
        const chosen = await this.#choose(logId);
        if (!chosen) {
          depth = 0;
          break;
        }
        const step = await this.#commit(logId, tip, chosen, holder);
        tip = step.tip;
        if (step.committed) {
          result.batches++;
          result.entries += step.committed;
        } else if (++conflicts > this.#limits.maxConflicts) break;
        done = tip.seq;
        depth = step.depth;
        await this.#calls.retry(() => this.#pending.recordProgress(logId, holder, done as number, depth));
        this.noteDepth(logId, depth);
      }
      this.#tips.set(logId, tip);
      await this.#calls.nonFatal('advance head', () => this.#store.advanceHead(tip));
      await this.#calls.retry(() => this.#pending.recordProgress(logId, holder, done as number, depth));
      this.noteDepth(logId, depth);
    } finally {
      await this.#calls.nonFatal('release lease', () => this.#pending.releaseLease(logId, holder));
    }
    return result;
  }

  /**
   * Pending entries not yet in the log, oldest first, up to the batch limits.
   * An entry with a receipt is already in the log (its removal was lost):
   * removed now, never chosen.
   */
  async #choose(logId: string): Promise<(Chosen & { depth: number }) | undefined> {
    for (let round = 0; round < 3; round++) {
      const listed = await this.#calls.retry(() =>
        this.#pending.listPending(logId, this.#limits.maxEntriesPerBatch),
      );
      if (listed.length === 0) return undefined;
      // Only a keyed entry can be queued while it has a receipt: a keyed
      // retry re-accepted after the original's removal, or a removal lost.
      // An unkeyed entry's accept id is random and never re-accepted, and a
      // lost removal is redone by #finishRange before anyone lists (the
      // lease's doneSeq moves only after a batch's removals), so an unkeyed
      // entry listed here is not in the log.
      const keyed = listed.filter((e) => e.idempotencyKey !== undefined).map((e) => e.acceptId);
      const had =
        keyed.length === 0
          ? new Map<string, EntryReceipt>()
          : await this.#calls.retry(() => this.#pending.readReceipts(logId, keyed));
      if (had.size > 0) await this.#calls.retry(() => this.#pending.removePending(logId, [...had.keys()]));
      const fresh = listed.filter((e) => !had.has(e.acceptId));
      if (fresh.length === 0) continue;
      const entries: PendingEntry[] = [];
      let events = 0;
      for (const e of fresh) {
        if (entries.length > 0 && events + e.events.length > this.#limits.maxEventsPerBatch) break;
        entries.push(e);
        events += e.events.length;
      }
      return { entries, events, depth: fresh.length };
    }
    return undefined;
  }

  /**
   * Commits `chosen` at tip+1. A lost race (or an ambiguous failure whose
   * batch is not ours) finishes the winners and drops their members from
   * `chosen`; the caller tries again with what is left.
   */
  async #commit(
    logId: string,
    tip: LogTip,
    chosen: Chosen & { depth: number },
    holder: string,
  ): Promise<{ tip: LogTip; committed: number; depth: number }> {
    const attemptId = `seq-${holder}-${toBase64Url(this.#random(6))}`;
    const built = this.#build(logId, tip, chosen.entries);
    const seq = tip.seq + 1;
    const submitters = new Set(chosen.entries.map((e) => e.submitter));
    const header: BatchHeader = {
      logId,
      seq,
      firstIndex: tip.nextIndex,
      count: chosen.events,
      prevHash: tip.lastLeafHash,
      lastLeafHash: built.lastLeafHash,
      receivedAt: built.receivedAt,
      // One submitter → it; several → '*' (every record names its own submitter).
      submitter: submitters.size === 1 ? (chosen.entries[0] as PendingEntry).submitter : '*',
      attemptId,
      members: chosen.entries.map((e) => ({
        acceptId: e.acceptId,
        count: e.events.length,
        requestHash: toBase64(e.requestHash),
      })),
    };
    let landed: boolean;
    try {
      // COMMIT POINT, as in the direct append: conditional on batch seq's absence.
      const out = await this.#store.commitBatch({ ...header, tryNumber: 1, records: built.records });
      landed = out.committed;
    } catch (err) {
      if (!(err instanceof LogStoreError) || err.code === 'INTEGRITY') throw err;
      // The write may have landed: look.
      const h = await this.#calls.retry(() => this.#store.readBatchHeader(logId, seq));
      landed = h?.attemptId === attemptId;
    }
    if (landed) {
      const newTip = nextTip(tip, header);
      await this.#finish(header, built.records);
      return { tip: newTip, committed: chosen.entries.length, depth: chosen.depth - chosen.entries.length };
    }
    // Someone else took seq (a stale holder, or a direct append): finish what
    // landed up to the new tip; its members get receipts and leave the queue,
    // so the next #choose does not see them.
    const newTip = await this.#calls.retry(() => this.#store.readTip(logId, tip));
    await this.#finishRange(logId, tip.seq, newTip.seq);
    await this.#calls.backoff().wait();
    return { tip: newTip, committed: 0, depth: chosen.depth };
  }

  /** Finishes every sequenced batch in (from, to]. */
  async #finishRange(logId: string, from: number, to: number): Promise<void> {
    for (let seq = from + 1; seq <= to; seq++) {
      const h = await this.#calls.retry(() => this.#store.readBatchHeader(logId, seq));
      if (!h) throw new AppError('INTEGRITY', `batch ${seq} of log ${logId} is below the tip but missing`);
      if (!h.members) continue;
      const batch = await this.#calls.retry(() => this.#store.readBatch(logId, seq));
      if (!batch) throw new AppError('INTEGRITY', `batch ${seq} of log ${logId} vanished`);
      await this.#finish(
        h,
        batch.records.map((r) => r.bytes),
      );
    }
  }

  /**
   * After a sequenced batch is committed: event ids, producer streams,
   * receipts, then queue removal. Each is idempotent; the order makes a
   * receipt imply recorded event ids, and a removed entry imply a receipt.
   */
  async #finish(h: BatchHeader, records: Uint8Array[]): Promise<void> {
    const members = h.members as BatchMember[];
    const decoded = records.map((b) => decodeRecord(b));
    const leaves = records.map((b) => leafHash(b));
    const receipts: EntryReceipt[] = [];
    let at = 0;
    const idWrites: Array<Promise<unknown>> = [];
    for (const m of members) {
      const slice = decoded.slice(at, at + m.count);
      const first = slice[0];
      if (!first || slice.length !== m.count)
        throw new AppError('INTEGRITY', `batch ${h.seq} of log ${h.logId}: members do not match its records`);
      const submitter = first.submitter;
      const ids = slice.flatMap((r, i) =>
        r.event.id === undefined ? [] : [{ id: r.event.id, index: h.firstIndex + at + i, seq: h.seq }],
      );
      if (ids.length > 0)
        idWrites.push(
          this.#calls.retry(() => this.#store.writeEventIds(h.logId, this.#scope(h.logId, submitter), ids)),
        );
      receipts.push({
        logId: h.logId,
        acceptId: m.acceptId,
        submitter,
        requestHash: fromBase64(m.requestHash),
        seq: h.seq,
        firstIndex: h.firstIndex + at,
        receivedAt: h.receivedAt,
        prevHash: at === 0 ? h.prevHash : (leaves[at - 1] as Uint8Array),
        leafHashes: leaves.slice(at, at + m.count),
      });
      at += m.count;
    }
    await Promise.all(idWrites);
    const producers = this.#producers;
    if (producers)
      await this.#calls.nonFatal('producer streams', async () => {
        const bySubmitter = new Map<string, AuditEvent[]>();
        for (const r of decoded) {
          const list = bySubmitter.get(r.submitter) ?? [];
          list.push(r.event);
          bySubmitter.set(r.submitter, list);
        }
        for (const events of bySubmitter.values())
          await producers.observe(h.logId, events, Date.parse(h.receivedAt));
      });
    // Claim this process's waiters (synchronously: a waiter gives up only
    // while unclaimed). An unkeyed waiter answered here needs no receipt item.
    const claimed: Array<[Waiter, EntryReceipt]> = [];
    for (const r of receipts) {
      const w = this.#waiters.get(waiterKey(r.logId, r.acceptId));
      if (!w) continue;
      this.#waiters.delete(waiterKey(r.logId, r.acceptId));
      w.done = true;
      claimed.push([w, r]);
    }
    const answered = new Set(claimed.filter(([w]) => !w.needsReceipt).map(([, r]) => r.acceptId));
    try {
      const items = receipts.filter((r) => !answered.has(r.acceptId));
      if (items.length > 0) await this.#calls.retry(() => this.#pending.writeReceipts(items));
    } catch (err) {
      // Nobody answered: the claimed waiters wait on (re-registering), and the
      // next run finishes this batch again, writing or handing out the receipts.
      for (const [w] of claimed) w.resolve(undefined);
      throw err;
    }
    // The batch is committed and its event ids recorded: answer the waiters.
    for (const [w, r] of claimed) w.resolve(r);
    await this.#calls.retry(() =>
      this.#pending.removePending(
        h.logId,
        members.map((m) => m.acceptId),
      ),
    );
  }

  /** Records for `entries` continuing `tip`, in order: the same rules as the direct append's #build. */
  #build(
    logId: string,
    tip: LogTip,
    entries: PendingEntry[],
  ): { records: Uint8Array[]; receivedAt: string; lastLeafHash: Uint8Array } {
    const now = this.#clock.now();
    const last = tip.lastReceivedAt === undefined ? 0 : Date.parse(tip.lastReceivedAt);
    if (!Number.isFinite(last) || last > now + MAX_CLOCK_SKEW_MS)
      throw new AppError(
        'INTEGRITY',
        `log ${logId}: its last record (index ${tip.nextIndex - 1}) says it was received at ` +
          `${tip.lastReceivedAt}, more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes after this server's clock ` +
          `(${formatReceivedAt(now)}); no record is appended after it`,
      );
    const at = Math.max(now, last);
    if (at > MAX_RECEIVED_AT_MS)
      throw new AppError('INTERNAL', `the clock (${now} ms) is past the last receivedAt a log assigns`);
    const receivedAt = formatReceivedAt(at);
    let prev = tip.lastLeafHash;
    let index = tip.nextIndex;
    const records: Uint8Array[] = [];
    for (const e of entries)
      for (const ev of e.events) {
        const event = parseJson(ev) as unknown as AuditEvent;
        const bytes = encodeRecord({
          v: 1,
          logId,
          index,
          receivedAt,
          submitter: e.submitter,
          prev: toBase64(prev),
          event,
        });
        records.push(bytes);
        prev = leafHash(bytes);
        index++;
      }
    return { records, receivedAt, lastLeafHash: prev };
  }
}

/** The receipts of an entry's events (the API shape), from its entry receipt. */
export function receiptsOfEntry(r: EntryReceipt): Receipt[] {
  let prev = toBase64(r.prevHash);
  return r.leafHashes.map((h, i) => {
    const leaf = toBase64(h);
    const out = { index: r.firstIndex + i, leafHash: leaf, prev, receivedAt: r.receivedAt };
    prev = leaf;
    return out;
  });
}

/** True when two request hashes are the same request. */
export function sameRequest(a: Uint8Array, b: Uint8Array): boolean {
  return bytesEqual(a, b);
}
