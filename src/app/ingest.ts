/**
 * The append use case: raw request body → validated events → canonical,
 * hash-chained records → one conditional commit per batch (docs/ingest.md).
 *
 * Invariants this file maintains, given a LogStore that keeps its contract:
 *  - gap-free and fork-free: a batch is only ever committed at tip.seq + 1,
 *    conditionally, after reading the tip consistently;
 *  - chained: the batch's first record's `prev` is the tip's lastLeafHash,
 *    each later record's `prev` is the leaf hash before it;
 *  - receivedAt never decreases: max(clock, tip.lastReceivedAt), and is
 *    never later than clock + MAX_CLOCK_SKEW_MS (a tip further ahead is
 *    refused, not carried forward);
 *  - the tip a batch continues is made from committed batches only (the
 *    store's commit items, or our own commit), never from the head hint;
 *  - a 2xx means durable (the commit resolved, or we read our batch back);
 *  - a retry with the same Idempotency-Key (or the same event ids) returns
 *    the original receipts and never appends twice;
 *  - the whole batch is refused, and nothing stored, if any event is bad.
 *
 * Errors are AppError only. Store failures are sorted the sunlight way:
 * before the commit point they are retried and, when retries run out,
 * surface as THROTTLED/UNAVAILABLE with Retry-After; after the commit point
 * they are non-fatal (logged via onWarning) because the records are durable
 * and every post-commit write is a hint or is repaired by a later retry.
 */
import { type Sleep, type Uniform, uniformFromBytes } from '../core/backoff.ts';
import { bytesEqual, concatBytes, toBase64, toBase64Url, utf8 } from '../core/bytes.ts';
import { canonicalBytes } from '../core/canonical.ts';
import type { Catalog, CatalogProblem } from '../core/catalog.ts';
import { type AuditEvent, EventValidationError, validateBatch } from '../core/event.ts';
import { sha256 } from '../core/hash.ts';
import { CanonicalJsonError, parseJson } from '../core/ijson.ts';
import { IDEMPOTENCY_KEY_RULE, isValidIdempotencyKey, isValidLogId, LOG_ID_RULE } from '../core/names.ts';
import { SYSTEM_LOG_ID } from '../core/principal.ts';
import type { ProducerKeyRecord } from '../core/producer-key.ts';
import {
  defaultSignatureVerifier,
  type PreparedKey,
  prepareKey,
  SignatureError,
  type SignatureVerifier,
  signatureInput,
  signatureMismatch,
} from '../core/producer-signature.ts';
import {
  decodeRecord,
  encodeRecord,
  formatReceivedAt,
  leafHash,
  MAX_RECEIVED_AT_MS,
  MAX_RECORD_BYTES,
  MAX_RECORD_DEPTH,
  RecordError,
} from '../core/record.ts';
import { type Clock, MAX_CLOCK_SKEW_MS, systemSleep } from '../ports/clock.ts';
import {
  type BatchHeader,
  type CommitOutcome,
  type IdempotencyClaim,
  type LogStore,
  LogStoreError,
  type LogTip,
  nextTip,
  type Receipt,
  type StoredBatch,
} from '../ports/log-store.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import type { EntryReceipt, PendingStore } from '../ports/pending-store.ts';
import { AppError } from './errors.ts';
import { fromPortError } from './port-errors.ts';
import type { SignaturePolicySource } from './producer-keys.ts';
import type { ProducerService } from './producers.ts';
import { receiptsOfEntry, Sequencer, type SequencerDeps, type SequencerLimits } from './sequencer.ts';
import { StoreCalls } from './store-calls.ts';

interface PendingPath {
  store: PendingStore;
  sequencer: Sequencer;
  defaultWaitMs: number;
  maxPendingEntries: number;
  sequenceOnAccept: boolean;
}

/**
 * The namespace a client event id is unique in (LogStore.readEventIds). On a
 * producers' log it is the submitter, so one writer cannot squat the ids of
 * another. The `system` log is written by the admin path alone, and there an id
 * names one admin change (`principal/<id>/v<n>`, `log/<id>/create`) whoever
 * records it: two admins recording the same change must collide, and
 * authentication finds a change's record by its id alone (admin-audit.ts). So
 * the system log's ids are one namespace for the whole log: the empty scope,
 * which no submitter can have (submitters are non-empty).
 */
export function eventIdScope(logId: string, submitter: string): string {
  return logId === SYSTEM_LOG_ID ? SYSTEM_EVENT_ID_SCOPE : submitter;
}
export const SYSTEM_EVENT_ID_SCOPE = '';

export interface IngestLimits {
  /**
   * Largest request body accepted, bytes: 2 MiB by default, at least 1 MiB
   * (ANCHORLOG_MAX_BODY_BYTES, src/config.ts; docs/formats.md §Limits).
   */
  maxBodyBytes: number;
  /** Most events per request (at least 1000). */
  maxEventsPerBatch: number;
  /** JSON nesting bound for the whole body; at least MAX_RECORD_DEPTH + 1 (the events array). */
  maxDepth: number;
  /**
   * Time budget of one append from its start. No commit is *started* after
   * it, so an idempotency lease longer than budget + SDK request timeout
   * guarantees an expired claim's owner can no longer commit.
   */
  attemptBudgetMs: number;
  /** Idempotency claim lease. MUST exceed attemptBudgetMs + the SDK request timeout. */
  leaseMs: number;
  /** Retries of a store call after THROTTLED/UNAVAILABLE. */
  maxRetries: number;
  /** Commit races lost (someone else took tip+1) before pushing back. */
  maxConflicts: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Most batches scanned for an abandoned claim's attempt. */
  claimScanMax: number;
}

/**
 * Largest request (canonical event bytes, before compression) queued as one
 * pending entry; larger ones take the direct append (docs/ingest.md §9).
 */
export const PENDING_ENTRY_MAX_BYTES = 300_000;

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxBodyBytes: 2 * 1024 * 1024,
  maxEventsPerBatch: 1000,
  maxDepth: 64,
  attemptBudgetMs: 10_000,
  leaseMs: 60_000,
  maxRetries: 6,
  maxConflicts: 100,
  backoffBaseMs: 20,
  backoffCapMs: 1_000,
  claimScanMax: 1_000,
};

export interface AppendRequest {
  logId: string;
  /** Authenticated principal id (never client-claimed). */
  submitter: string;
  /** Raw request body bytes. */
  body: Uint8Array;
  /** The Idempotency-Key header, if sent. */
  idempotencyKey?: string;
}

/** A receipt as the API returns it: in catalog mode `warn`, with the event's catalog problems. */
export interface IngestReceipt extends Receipt {
  problems?: readonly CatalogProblem[];
}

export interface AppendResult {
  /**
   * 201 for a new append; 200 for a replay of an earlier one; 202 when the
   * request was accepted durably but not yet sequenced within the wait
   * (pending path only, docs/ingest.md §9): `receipts` is empty and
   * `accepted` names the entry, whose receipts GET …/receipts returns later.
   */
  status: 200 | 201 | 202;
  /** True when the receipts are those of an earlier identical request (HTTP: `Idempotent-Replayed: true`). */
  replay: boolean;
  receipts: IngestReceipt[];
  accepted?: { acceptId: string; count: number };
}

/** What GET /v1/logs/{logId}/receipts answers (docs/ingest.md §9). */
export interface ReceiptLookup {
  /** Receipts of the entries already sequenced, by accept id. */
  receipts: Record<string, Receipt[]>;
  /** Accept ids of this submitter's entries queued and not sequenced yet. */
  pending: string[];
  /**
   * Accept ids that are neither: never accepted, another submitter's, or a
   * request whose writer waited and was answered 201 (its receipts were in
   * that answer; docs/ingest.md §9). Polling them again will not help.
   */
  unknown: string[];
}

/** docs/events.md §Modes. */
export const CATALOG_MODES = ['enforce', 'warn', 'off'] as const;
export type CatalogMode = (typeof CATALOG_MODES)[number];

/**
 * Where ingest gets the event catalog and a log's mode. Asked once per batch;
 * implementations cache (the catalog is compiled once, src/core/catalog.ts).
 */
export interface CatalogPolicy {
  forLog(
    logId: string,
  ): Promise<{ mode: CatalogMode; catalog: Catalog }> | { mode: CatalogMode; catalog: Catalog };
}

/**
 * What ingest uses of the log store: everything but creating logs and
 * listing the registry (src/app/log-registry.ts does those, on the admin path), so
 * the ingest role never needs to write a log's metadata or the registry.
 */
export type IngestStore = Omit<LogStore, 'createLog' | 'listLogs'>;

export interface IngestDeps {
  store: IngestStore;
  clock: Clock;
  limits?: Partial<IngestLimits>;
  /** Cryptographic randomness (attempt ids, jitter). Default: crypto.getRandomValues. */
  random?: (n: number) => Uint8Array;
  sleep?: Sleep;
  /** Non-fatal problems after the commit point (counted/logged by the caller). */
  onWarning?: (message: string, cause: unknown) => void;
  /** The event catalog and each log's mode (docs/events.md); absent: no catalog checks (mode off). */
  catalog?: CatalogPolicy;
  /** `CatalogProblems` (warn mode) is emitted here. */
  metrics?: MetricsSink;
  /**
   * Producer streams (docs/events.md §Producer streams): each committed
   * batch's `producer` positions are folded in after the commit point, once
   * per batch per stream; absent: not tracked.
   */
  producers?: Pick<ProducerService, 'observe'>;
  /**
   * Producer signatures (docs/producer-signatures.md): every signed event is
   * verified against the submitter's registered key, and a log's policy may
   * require signatures; absent: a signed event is refused (nothing could check it).
   */
  signatures?: {
    keys: { keyFor(principalId: string, keyId: string): Promise<ProducerKeyRecord | undefined> };
    policy?: SignaturePolicySource;
    verifier?: SignatureVerifier;
  };
  /**
   * The accept-then-sequence path (docs/ingest.md §9). Present: producers'
   * logs are appended by accepting a pending entry and sequencing it with
   * every other pending one; absent: the direct append (one commit per request).
   * The `system` log always takes the direct path.
   */
  pending?: {
    store: PendingStore;
    limits?: Partial<SequencerLimits>;
    /** How long a request waits for its receipts when it does not say (Prefer: wait). */
    defaultWaitMs: number;
    /** Most entries a log may have pending; above it requests get 429 (back-pressure). */
    maxPendingEntries: number;
    /**
     * Whether a request runs the sequencer after its accept (default true).
     * False only in tests that need entries left pending.
     */
    sequenceOnAccept?: boolean;
  };
}

/** The validated request, ready to be turned into records at any tip. */
interface Prepared {
  logId: string;
  submitter: string;
  events: AuditEvent[];
  /** Client ids, in event order, when every event has one. */
  ids: string[] | undefined;
  requestHash: Uint8Array;
  key: { keyHash: string; key: string } | undefined;
}

interface Built {
  /** The tip these records continue. */
  tipSeq: number;
  records: Uint8Array[];
  receipts: Receipt[];
  receivedAt: string;
  lastLeafHash: Uint8Array;
}

interface Committed {
  seq: number;
  receipts: Receipt[];
  tip: LogTip;
}

export class IngestService {
  readonly #pending: PendingPath | undefined;
  readonly #store: IngestStore;
  readonly #clock: Clock;
  readonly #limits: IngestLimits;
  readonly #random: (n: number) => Uint8Array;
  readonly #sleep: Sleep;
  /** Jitter, drawn from #random. */
  readonly #uniform: Uniform;
  readonly #warn: (message: string, cause: unknown) => void;
  /** Store calls with the one retry rule (src/app/store-calls.ts). */
  readonly #calls: StoreCalls;
  readonly #catalog: CatalogPolicy | undefined;
  readonly #metrics: MetricsSink | undefined;
  readonly #producers: Pick<ProducerService, 'observe'> | undefined;
  readonly #signatures: IngestDeps['signatures'];
  /** Logs are never deleted, so a positive existence check can be cached. */
  readonly #knownLogs = new Set<string>();
  /**
   * The last tip this instance saw per log. A committed tip stays committed,
   * so probing forward from it is always correct; it saves the head-hint
   * read on a warm instance (readTip costs one GetItem instead of two).
   */
  readonly #tips = new Map<string, LogTip>();

  constructor(deps: IngestDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#limits = { ...DEFAULT_INGEST_LIMITS, ...deps.limits };
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
    this.#catalog = deps.catalog;
    this.#metrics = deps.metrics;
    this.#producers = deps.producers;
    this.#signatures = deps.signatures;
    if (deps.pending) {
      const seqDeps: SequencerDeps = {
        store: deps.store,
        pending: deps.pending.store,
        clock: deps.clock,
        limits: { maxEventsPerBatch: this.#limits.maxEventsPerBatch, ...deps.pending.limits },
        random: this.#random,
        sleep: this.#sleep,
        onWarning: this.#warn,
        eventIdScope,
      };
      if (deps.producers) seqDeps.producers = deps.producers;
      this.#pending = {
        store: deps.pending.store,
        sequencer: new Sequencer(seqDeps),
        defaultWaitMs: deps.pending.defaultWaitMs,
        maxPendingEntries: deps.pending.maxPendingEntries,
        sequenceOnAccept: deps.pending.sequenceOnAccept ?? true,
      };
    }
    if (this.#limits.leaseMs <= this.#limits.attemptBudgetMs)
      throw new RangeError('leaseMs must exceed attemptBudgetMs (see IngestLimits.leaseMs)');
    // The body adds one level (the events array) above the record's own nesting.
    if (this.#limits.maxDepth < MAX_RECORD_DEPTH + 1)
      throw new RangeError(`maxDepth must be at least ${MAX_RECORD_DEPTH + 1}: the deepest valid event`);
  }

  /**
   * Appends a client batch. The `system` log is reserved for admin audit
   * events (src/core/principal.ts SYSTEM_LOG_ID): an append to it is refused
   * with FORBIDDEN whoever the submitter, before anything is read or
   * written, so no client can register the predictable ids of admin events.
   */
  async append(req: AppendRequest & { waitMs?: number }): Promise<AppendResult> {
    if (req.logId === SYSTEM_LOG_ID) {
      throw new AppError('FORBIDDEN', `log ${SYSTEM_LOG_ID} is reserved for admin audit events`);
    }
    try {
      if (this.#pending)
        return await this.#submit(req, this.#pending, req.waitMs ?? this.#pending.defaultWaitMs);
      return await this.#append(req);
    } catch (err) {
      throw toAppError(err);
    }
  }

  /**
   * The one way into the `system` log: used by the admin audit sink
   * (src/app/admin-audit.ts) only, never by a request handler. In AWS only
   * the admin role may write the system log's items (docs/deploy.md).
   */
  async appendToSystemLog(req: Omit<AppendRequest, 'logId'>): Promise<AppendResult> {
    try {
      return await this.#append({ ...req, logId: SYSTEM_LOG_ID });
    } catch (err) {
      throw toAppError(err);
    }
  }

  async #append(req: AppendRequest): Promise<AppendResult> {
    return this.#appendChecked(req);
  }

  /**
   * The scheduled sweep (docs/ingest.md §9 "The sweep"): sequences what is
   * pending on `logId` if nobody holds its lease, so a 202 writer's entry is
   * sequenced even when no later request comes to that log. Undefined on
   * the direct path (nothing is ever pending). The system log is never
   * pending (its appends are direct), so it is skipped.
   */
  async sequencePending(logId: string): Promise<{ ran: boolean; entries: number } | undefined> {
    const path = this.#pending;
    if (!path || logId === SYSTEM_LOG_ID) return undefined;
    try {
      // Reads before writes: an idle log costs the sweep a listing, not a lease write.
      if ((await this.#calls.retry(() => path.store.listPending(logId, 1))).length === 0)
        return { ran: false, entries: 0 };
      const r = await path.sequencer.runOnce(logId);
      return { ran: r.ran, entries: r.entries };
    } catch (err) {
      throw toAppError(err);
    }
  }

  /** True on the pending path: concurrent requests are batched by the sequencer, not serialised. */
  get sequencesAcrossRequests(): boolean {
    return this.#pending !== undefined;
  }

  /**
   * Receipts of accepted entries by accept id (GET …/receipts). Only the
   * submitter's own entries are answered; another submitter's id reads as
   * unknown, so the answer says nothing about other writers' requests.
   * The queue is read before the receipts: an entry leaves the queue only
   * after its receipt is written, so an id absent from both was not pending.
   */
  async receipts(logId: string, submitter: string, acceptIds: readonly string[]): Promise<ReceiptLookup> {
    try {
      if (!isValidLogId(logId)) throw new AppError('BAD_REQUEST', LOG_ID_RULE);
      const out: ReceiptLookup = { receipts: {}, pending: [], unknown: [] };
      const path = this.#pending;
      if (!path) {
        out.unknown.push(...acceptIds);
        return out;
      }
      const queued = await this.#calls.retry(() => path.store.readQueued(logId, acceptIds));
      const found = await this.#calls.retry(() => path.store.readReceipts(logId, acceptIds));
      for (const id of acceptIds) {
        const r = found.get(id);
        if (r && r.submitter === submitter) out.receipts[id] = receiptsOfEntry(r);
        else if (!r && queued.get(id)?.submitter === submitter) out.pending.push(id);
        else out.unknown.push(id);
      }
      return out;
    } catch (err) {
      throw toAppError(err);
    }
  }

  /**
   * The pending path (docs/ingest.md §9): validate as the direct append
   * does, refuse with 429 when the log's queue is too deep (before anything
   * is written), accept the request as one pending entry in one conditional
   * write (durable; a keyed retry lands on the same entry), then wait up to
   * `waitMs` for its receipts, sequencing the log ourselves whenever its
   * lease is free. Nothing after the accept turns into an error.
   */
  async #submit(req: AppendRequest, path: PendingPath, waitMs: number): Promise<AppendResult> {
    const p = this.#prepare(req);
    const problems = await this.#checkCatalog(p);
    const gate = this.#startSignatureCheck(p);
    return this.#gated(gate, () => this.#submitChecked(p, problems, path, waitMs, gate));
  }

  /** #submit after the catalog check, with the signature check `gate` running: awaited before any write. */
  async #submitChecked(
    p: Prepared,
    problems: Map<number, CatalogProblem[]> | undefined,
    path: PendingPath,
    waitMs: number,
    gate: Promise<void>,
  ): Promise<AppendResult> {
    await this.#requireLog(p.logId);
    // Record size is checked at accept, at the largest index, prev and
    // receivedAt a record can have, so sequencing never meets a record too large.
    p.events.forEach((event, i) => {
      this.#encode(
        {
          v: 1,
          logId: p.logId,
          index: Number.MAX_SAFE_INTEGER,
          receivedAt: formatReceivedAt(MAX_RECEIVED_AT_MS),
          submitter: p.submitter,
          prev: toBase64(new Uint8Array(32)),
          event,
        },
        i,
      );
    });
    const flag = (r: AppendResult): AppendResult =>
      problems
        ? {
            ...r,
            receipts: r.receipts.map((x, i) => (problems.has(i) ? { ...x, problems: problems.get(i) } : x)),
          }
        : r;
    const acceptId = p.key ? p.key.keyHash : toBase64Url(this.#random(16));
    // A keyed request already sequenced: its receipts (or 409 for another body).
    if (p.key) {
      const done = (await this.#calls.retry(() => path.store.readReceipts(p.logId, [acceptId]))).get(
        acceptId,
      );
      if (done) {
        this.#sameRequestOr409(p, done.requestHash);
        return flag({ status: 200, replay: true, receipts: receiptsOfEntry(done) });
      }
    }
    if (p.ids) {
      const replay = await this.#checkEventIds(p);
      if (replay) return flag({ status: 200, replay: true, receipts: replay });
    }
    // Back-pressure before anything is written: the depth a sequencer last
    // saw. This process's own runs and lease reads keep a hint fresh for
    // DEPTH_HINT_MS (src/app/sequencer.ts), so a busy process reads the lease
    // item about once a second per log, not once per request.
    let depth = path.sequencer.depthHint(p.logId);
    if (depth === undefined) {
      depth = (await this.#calls.retry(() => path.store.readLease(p.logId)))?.depth ?? 0;
      path.sequencer.noteDepth(p.logId, depth);
    }
    if (depth >= path.maxPendingEntries)
      throw new AppError('THROTTLED', `log ${p.logId} has ${depth} requests waiting to be sequenced`, {
        retryAfterSeconds: 1,
      });
    const events = p.events.map((e) => canonicalBytes(e));
    // No write before every signature of the batch verified.
    await gate;
    // A large request is already efficient as its own batch, and its entry
    // might not fit one queue item (DynamoDB items are at most 400 KB): it
    // takes the direct append, which spills into part items.
    if (events.reduce((n, b) => n + b.length, 0) > PENDING_ENTRY_MAX_BYTES)
      return flag(await this.#appendPrepared(p, this.#clock.now() + this.#limits.attemptBudgetMs, gate));
    const started = this.#clock.now();
    const out = await this.#calls.retry(() =>
      path.store.accept({
        logId: p.logId,
        acceptId,
        submitter: p.submitter,
        requestHash: p.requestHash,
        ...(p.key ? { idempotencyKey: p.key.key } : {}),
        acceptedAt: started,
        events,
      }),
    );
    // A keyed retry of a request still pending: wait for the original.
    if (!out.accepted) this.#sameRequestOr409(p, out.existing.requestHash);
    const replay = !out.accepted;
    // DURABLE from here on: every failure below answers 202, never an error.
    let receipt: EntryReceipt | undefined;
    try {
      // A writer that does not wait still drives the queue (no timer needed),
      // but registers no waiter: its receipt item must be written for the lookup.
      if (path.sequenceOnAccept && waitMs <= 0) await path.sequencer.runOnce(p.logId);
      else if (path.sequenceOnAccept)
        receipt = await path.sequencer.waitFor(p.logId, acceptId, started + waitMs, p.key !== undefined);
    } catch (err) {
      this.#warn('non-fatal: sequencing failed after the accept', err);
    }
    // A writer that did not wait always hears 202 (one shape to handle), even
    // when its entry was sequenced by the run it drove.
    if (!receipt || waitMs <= 0)
      return { status: 202, replay, receipts: [], accepted: { acceptId, count: p.events.length } };
    return flag({ status: replay ? 200 : 201, replay, receipts: receiptsOfEntry(receipt) });
  }

  #sameRequestOr409(p: Prepared, requestHash: Uint8Array): void {
    if (!bytesEqual(requestHash, p.requestHash))
      throw new AppError(
        'CONFLICT',
        p.key?.key.startsWith('ids:')
          ? 'these event ids were already submitted with a different request body'
          : 'Idempotency-Key was already used with a different request body',
      );
  }

  /**
   * Catalog check of a validated batch (docs/events.md §Modes), before
   * anything is read or written: `enforce` refuses the whole batch naming the
   * first problem's field; `warn` returns the problems per event index, for
   * the receipts. Pure given the catalog, so a replay gets the same problems.
   * The `system` log holds anchorlog's own admin events and is never checked.
   */
  async #checkCatalog(p: Prepared): Promise<Map<number, CatalogProblem[]> | undefined> {
    if (!this.#catalog || p.logId === SYSTEM_LOG_ID) return undefined;
    const { mode, catalog } = await this.#catalog.forLog(p.logId);
    if (mode === 'off') return undefined;
    const out = new Map<number, CatalogProblem[]>();
    let total = 0;
    for (let i = 0; i < p.events.length; i++) {
      const problems = catalog.check(p.events[i] as AuditEvent, `/events/${i}`);
      if (problems.length === 0) continue;
      if (mode === 'enforce') {
        const first = problems[0] as CatalogProblem;
        throw new AppError(
          'BAD_REQUEST',
          `event ${i}: ${first.message} (${first.code}; catalog mode enforce)`,
          {
            path: first.path,
          },
        );
      }
      out.set(i, problems);
      total += problems.length;
    }
    if (total > 0)
      this.#metrics?.emit({
        dimensions: { LogId: p.logId },
        metrics: [
          { name: 'CatalogProblems', value: total, unit: 'Count' },
          { name: 'CatalogEventsFlagged', value: out.size, unit: 'Count' },
        ],
        timestampMs: this.#clock.now(),
      });
    return out.size > 0 ? out : undefined;
  }

  /**
   * Producer signatures of a validated batch (docs/producer-signatures.md
   * §Ingest): each signed event must verify with a key registered to the
   * submitter and active now, and each event the log's policy names must be
   * signed. The first failing event (in event order) refuses the whole batch
   * with its code (400) and the event's path.
   *
   * The checks that need no cryptography run first, in order, each key read
   * and prepared once per batch; then the verifications of every event before
   * the first such failure start together (node:crypto runs them in the
   * threadpool) and are awaited together. The caller may overlap this with
   * READS of the log, never with a write: every write waits for it
   * (#appendChecked, #submit, #appendPrepared's `gate`).
   */
  async #checkSignatures(p: Prepared): Promise<void> {
    if (p.logId === SYSTEM_LOG_ID) return;
    const policy = await this.#signatures?.policy?.forLog(p.logId);
    const bySubmitter = policy?.principals.includes(p.submitter) ?? false;
    const now = this.#clock.now();
    const sigs = this.#signatures;
    const verifier = sigs?.verifier ?? defaultSignatureVerifier;
    // Each distinct key id read once per batch, concurrently.
    const keyIds = new Set<string>();
    for (const e of p.events) if (e.signature) keyIds.add(e.signature.keyId);
    // A key the reader refuses (SignatureError: its store item and the system log disagree,
    // src/app/producer-keys.ts BoundProducerKeys) refuses the events signed with it.
    const keys = new Map<string, PreparedKey | SignatureError | undefined>();
    if (sigs && keyIds.size > 0) {
      const ids = [...keyIds];
      const records = await Promise.all(
        ids.map((id) =>
          sigs.keys.keyFor(p.submitter, id).then(
            (r) => (r ? prepareKey(r, now) : undefined),
            (e: unknown) => {
              if (e instanceof SignatureError) return e;
              throw e;
            },
          ),
        ),
      );
      ids.forEach((id, i) => {
        keys.set(id, records[i]);
      });
    }
    const refuse = (i: number, e: unknown): never => {
      if (e instanceof SignatureError)
        throw new AppError(e.code, `event ${i}: ${e.message}`, { path: `/events/${i}/signature`, cause: e });
      throw e;
    };
    const pending: { i: number; ok: Promise<boolean> }[] = [];
    let firstProblem: (() => never) | undefined;
    for (let i = 0; i < p.events.length && !firstProblem; i++) {
      const event = p.events[i] as AuditEvent;
      const path = `/events/${i}/signature`;
      if (!event.signature) {
        if (bySubmitter || policy?.actorTypes.includes(event.actor.type)) {
          const at = i;
          firstProblem = () => {
            throw new AppError(
              'SIGNATURE_REQUIRED',
              `event ${at}: log ${p.logId} requires a producer signature on events ${bySubmitter ? `of ${p.submitter}` : `of actor type ${event.actor.type}`}`,
              { path },
            );
          };
        }
        continue;
      }
      if (!sigs) {
        const at = i;
        firstProblem = () => {
          throw new AppError('SIGNATURE_KEY_UNKNOWN', `event ${at}: this deployment has no producer keys`, {
            path,
          });
        };
        continue;
      }
      try {
        const key = keys.get(event.signature.keyId);
        if (key instanceof SignatureError) throw key;
        const input = signatureInput(event, key);
        pending.push({ i, ok: verifier.verify(input.alg, input.spki, input.message, input.sig) });
      } catch (e) {
        const at = i;
        firstProblem = () => refuse(at, e);
      }
    }
    const results = await Promise.all(pending.map((x) => x.ok));
    const bad = results.indexOf(false);
    if (bad >= 0) {
      const i = (pending[bad] as { i: number }).i;
      refuse(i, signatureMismatch(p.events[i] as AuditEvent));
    }
    firstProblem?.();
  }

  /**
   * Starts the signature check of `p` (#checkSignatures); the promise is
   * marked handled so that a failure surfaces where it is awaited, not as an
   * unhandled rejection while the caller is still reading.
   */
  #startSignatureCheck(p: Prepared): Promise<void> {
    const gate = this.#checkSignatures(p);
    gate.catch(() => {});
    return gate;
  }

  /**
   * Runs `body` (which may read the log but awaits `gate` before any write)
   * with the signature check `gate` running alongside. A signature failure
   * wins over whatever else `body` met (it was checked first before the two
   * overlapped), and nothing is answered before the check passed.
   */
  async #gated<T>(gate: Promise<void>, body: () => Promise<T>): Promise<T> {
    let out: T;
    try {
      out = await body();
    } catch (e) {
      await gate;
      throw e;
    }
    await gate;
    return out;
  }

  async #appendChecked(req: AppendRequest): Promise<AppendResult> {
    const deadline = this.#clock.now() + this.#limits.attemptBudgetMs;
    const p = this.#prepare(req);
    const problems = await this.#checkCatalog(p);
    const gate = this.#startSignatureCheck(p);
    const flag = (r: AppendResult): AppendResult =>
      problems
        ? {
            ...r,
            receipts: r.receipts.map((x, i) => (problems.has(i) ? { ...x, problems: problems.get(i) } : x)),
          }
        : r;
    return flag(await this.#gated(gate, () => this.#appendPrepared(p, deadline, gate)));
  }

  /**
   * `gate`: the batch's signature check, still running; it is awaited before
   * the first write (the idempotency claim or the commit), so the reads and
   * the record building above overlap the verification.
   */
  async #appendPrepared(p: Prepared, deadline: number, gate?: Promise<void>): Promise<AppendResult> {
    await this.#requireLog(p.logId);
    const attemptId = toBase64Url(this.#random(16));
    let tip = await this.#readTip(p.logId);
    // Build at the tip we just read, before any write: an event whose record
    // would exceed MAX_RECORD_BYTES (what an entry bundle can hold) is refused
    // (413) with nothing stored, and the first commit try reuses these bytes
    // when the tip has not moved. Every rebuild at a later tip (#commit) runs
    // the same check on the bytes it will commit, so no oversized record is
    // ever stored whatever the index grows to.
    let first: Built | undefined = this.#build(p, tip);

    // No write before every signature of the batch verified.
    await gate;
    let claim: IdempotencyClaim | undefined;
    if (p.key) {
      const c = await this.#claimOrReplay(p, p.key, tip, attemptId);
      if ('replay' in c) return { status: 200, replay: true, receipts: c.replay };
      claim = c.claim;
      if (c.tip.seq !== tip.seq) first = undefined;
      tip = c.tip;
    }

    let committed: Committed;
    try {
      if (p.ids) {
        const replay = await this.#checkEventIds(p);
        if (replay) {
          if (claim)
            await this.#calls.nonFatal('release key', () =>
              this.#store.releaseKey(p.logId, claim.keyHash, attemptId),
            );
          return { status: 200, replay: true, receipts: replay };
        }
      }
      committed = await this.#commit(p, tip, first, attemptId, deadline, claim?.key);
    } catch (err) {
      // Release the claim only when we know nothing of ours can land (see
      // #commit: ambiguous failures keep it until the lease runs out, and a
      // retry then finds the batch by attemptId).
      if (claim && !(err instanceof AmbiguousCommitError)) {
        const c = claim;
        await this.#calls.nonFatal('release key', () =>
          this.#store.releaseKey(p.logId, c.keyHash, attemptId),
        );
      }
      throw err instanceof AmbiguousCommitError ? err.appError : err;
    }

    // The batch is durable. Nothing below may turn this into an error: every
    // write is idempotent, and each one missing is repaired by a later retry
    // (an IN_PROGRESS claim is finished by whoever finds our batch) or is a
    // hint (HEAD). Order matters: event ids before COMMITTED, so a COMMITTED
    // claim implies its event ids are recorded.
    // If we die right after the commit: HEAD lags (readTip probes past it),
    // the claim stays IN_PROGRESS and the next retry with the key finds the
    // batch by attemptId, writes the event ids and finishes the claim.
    let idsOk = true;
    if (p.ids) {
      const ids = p.ids;
      idsOk = await this.#calls.nonFatal('write event ids', () =>
        this.#store.writeEventIds(
          p.logId,
          eventIdScope(p.logId, p.submitter),
          ids.map((id, i) => ({ id, index: committed.tip.nextIndex - ids.length + i, seq: committed.seq })),
        ),
      );
    }
    if (claim && idsOk) {
      const c = claim;
      await this.#calls.nonFatal('finish key', async () => {
        if (!(await this.#store.finishKey(p.logId, c.keyHash, attemptId, committed.seq)))
          this.#warn(`idempotency claim ${c.keyHash} was taken over after our commit`, undefined);
      });
    }
    await this.#calls.nonFatal('advance head', () => this.#store.advanceHead(committed.tip));
    // After the commit point, so the streams' state is folded from committed records only; a
    // failure leaves it behind (those seqs show as a gap), never ahead (src/app/producers.ts).
    const producers = this.#producers;
    const receivedAt = committed.receipts[0]?.receivedAt;
    if (producers && receivedAt !== undefined && p.logId !== SYSTEM_LOG_ID)
      await this.#calls.nonFatal('producer streams', () =>
        producers.observe(p.logId, p.events, Date.parse(receivedAt)),
      );
    return { status: 201, replay: false, receipts: committed.receipts };
  }

  // --- validation (no store access; the whole batch or nothing) ---

  #prepare(req: AppendRequest): Prepared {
    const L = this.#limits;
    if (!isValidLogId(req.logId)) throw new AppError('BAD_REQUEST', LOG_ID_RULE);
    if (req.body.length > L.maxBodyBytes)
      throw new AppError('PAYLOAD_TOO_LARGE', `body is ${req.body.length} bytes; limit ${L.maxBodyBytes}`);
    if (req.idempotencyKey !== undefined && !isValidIdempotencyKey(req.idempotencyKey))
      throw new AppError('BAD_REQUEST', IDEMPOTENCY_KEY_RULE, { path: 'Idempotency-Key' });

    let value: unknown;
    try {
      value = parseJson(req.body, { maxBytes: L.maxBodyBytes, maxDepth: L.maxDepth });
    } catch (e) {
      if (e instanceof CanonicalJsonError) {
        const code = e.code === 'TOO_LARGE' ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
        throw new AppError(code, `${e.message}${e.path ? ` at ${e.path}` : ''}`, { path: e.path, cause: e });
      }
      throw e;
    }
    let events: AuditEvent[];
    try {
      events = validateBatch(value, { maxEvents: L.maxEventsPerBatch });
    } catch (e) {
      if (e instanceof EventValidationError) {
        const code = e.code === 'BATCH_TOO_LARGE' ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
        throw new AppError(code, `${e.message}${e.path ? ` at ${e.path}` : ''}`, { path: e.path, cause: e });
      }
      throw e;
    }

    // Client ids are unique per (log, submitter), so certainly within one request.
    const seen = new Map<string, number>();
    events.forEach((e, i) => {
      if (e.id === undefined) return;
      const first = seen.get(e.id);
      if (first !== undefined)
        throw new AppError('BAD_REQUEST', `event id ${JSON.stringify(e.id)} repeats /events/${first}/id`, {
          path: `/events/${i}/id`,
        });
      seen.set(e.id, i);
    });
    const ids = seen.size === events.length ? events.map((e) => e.id as string) : undefined;

    const requestHash = sha256(concatBytes(utf8(req.submitter), new Uint8Array([0]), req.body));
    let key: Prepared['key'];
    // The key is scoped to the submitter (and hashed, so client text never
    // shapes a table key). Domain tags keep an explicit key from colliding
    // with an implicit one.
    if (req.idempotencyKey !== undefined) {
      key = { key: req.idempotencyKey, keyHash: keyHash('explicit', req.submitter, req.idempotencyKey) };
    } else if (ids) {
      // No header but every event has an id: a plain retry must still be safe.
      const implicit = `ids:${toBase64Url(sha256(canonicalBytes(ids)))}`;
      key = { key: implicit, keyHash: keyHash('implicit', req.submitter, implicit) };
    }
    return { logId: req.logId, submitter: req.submitter, events, ids, requestHash, key };
  }

  #encode(record: Parameters<typeof encodeRecord>[0], position: number): Uint8Array {
    try {
      return encodeRecord(record);
    } catch (e) {
      if (e instanceof RecordError && e.code === 'RECORD_TOO_LARGE')
        throw new AppError(
          'PAYLOAD_TOO_LARGE',
          `event ${position}: its record would be ${e.size ?? 'more than'} bytes; a record (the event ` +
            `plus the index, prev, receivedAt, submitter and logId the log adds) holds at most ${MAX_RECORD_BYTES}`,
          { path: `/events/${position}`, cause: e },
        );
      if (e instanceof RecordError && e.path.startsWith('/event'))
        throw new AppError('BAD_REQUEST', `${e.message}`, {
          path: `/events/${position}${e.path.slice(6)}`,
          cause: e,
        });
      // submitter/logId come from the server side: a bad one is our bug.
      throw new AppError('INTERNAL', `cannot build record: ${(e as Error).message}`, { cause: e });
    }
  }

  async #requireLog(logId: string): Promise<void> {
    if (this.#knownLogs.has(logId)) return;
    if (!(await this.#calls.retry(() => this.#store.logExists(logId))))
      throw new AppError('NOT_FOUND', `log ${logId} does not exist`);
    this.#knownLogs.add(logId);
  }

  // --- the sequencer ---

  /** Records for `p` continuing `tip`, with their receipts. */
  #build(p: Prepared, tip: LogTip): Built {
    const now = this.#clock.now();
    const last = tip.lastReceivedAt === undefined ? 0 : Date.parse(tip.lastReceivedAt);
    // The chain's last time is carried forward (below), so one committed in
    // the future would stamp every later record with it and move honest
    // events out of the range they arrived in. Past the allowed skew it is
    // not carried but refused: an operator must look (the sealer halts the
    // log on the same record, docs/operations.md §Clock skew).
    if (!Number.isFinite(last) || last > now + MAX_CLOCK_SKEW_MS)
      throw new AppError(
        'INTEGRITY',
        `log ${p.logId}: its last record (index ${tip.nextIndex - 1}) says it was received at ` +
          `${tip.lastReceivedAt}, more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes after this server's clock ` +
          `(${formatReceivedAt(now)}); no record is appended after it`,
      );
    // Never decreasing along the log, even when this host's clock is behind
    // the last committer's (by at most the skew, checked above).
    const at = Math.max(now, last);
    if (at > MAX_RECEIVED_AT_MS)
      throw new AppError('INTERNAL', `the clock (${now} ms) is past the last receivedAt a log assigns`);
    const receivedAt = formatReceivedAt(at);
    let prev = tip.lastLeafHash;
    const records: Uint8Array[] = [];
    const receipts: Receipt[] = [];
    p.events.forEach((event, i) => {
      const index = tip.nextIndex + i;
      const prevB64 = toBase64(prev);
      const bytes = this.#encode(
        { v: 1, logId: p.logId, index, receivedAt, submitter: p.submitter, prev: prevB64, event },
        i,
      );
      const leaf = leafHash(bytes);
      records.push(bytes);
      receipts.push({ index, leafHash: toBase64(leaf), prev: prevB64, receivedAt });
      prev = leaf;
    });
    return { tipSeq: tip.seq, records, receipts, receivedAt, lastLeafHash: prev };
  }

  /**
   * Commits `p` at the tip, however many tries it takes. One linear loop;
   * recovery after an ambiguous failure and a lost race share the same path:
   * read what is committed, recognise our own batch by attemptId, else
   * rebuild at the new tip.
   */
  async #commit(
    p: Prepared,
    tip: LogTip,
    prebuilt: Built | undefined,
    attemptId: string,
    deadline: number,
    idempotencyKey: string | undefined,
  ): Promise<Committed> {
    // Two budgets of full-jitter backoff: store failures, and lost races.
    const transient = this.#calls.backoff(this.#limits.maxRetries);
    const conflicts = this.#calls.backoff(this.#limits.maxConflicts);
    let ambiguous = false;
    let lastError: LogStoreError | undefined;
    for (let tryNumber = 1; ; tryNumber++) {
      const pushback = (why: string, code: 'THROTTLED' | 'UNAVAILABLE') => {
        const e = new AppError(code, `could not append to log ${p.logId}: ${why}`, {
          retryAfterSeconds: 1,
          cause: lastError,
        });
        return ambiguous ? new AmbiguousCommitError(e) : e;
      };
      // Refuse to *start* a commit after the deadline: the idempotency lease
      // (> budget) then guarantees an expired claim's owner is done writing.
      if (this.#clock.now() > deadline) throw pushback('deadline exceeded', 'UNAVAILABLE');

      const built = prebuilt?.tipSeq === tip.seq ? prebuilt : this.#build(p, tip);
      prebuilt = undefined;
      const seq = tip.seq + 1;
      let outcome: CommitOutcome;
      try {
        // COMMIT POINT (see DynamoLogStore.commitBatch). If we die before it
        // resolves, the batch either exists with our attemptId or not at all;
        // with a key, the claim stays IN_PROGRESS and a retry finds out which.
        // Invariant: prevHash is the lastLeafHash of committed batch seq-1 as
        // its own commit item states it. `tip` only ever comes from
        // store.readTip (which takes it from commit items, never from the
        // head hint), from nextTip over the winner's committed header, or
        // from our own commit; the code never rewrites a committed batch, so
        // the batch we commit here chains.
        outcome = await this.#store.commitBatch({
          logId: p.logId,
          seq,
          firstIndex: tip.nextIndex,
          count: p.events.length,
          prevHash: tip.lastLeafHash,
          lastLeafHash: built.lastLeafHash,
          receivedAt: built.receivedAt,
          submitter: p.submitter,
          attemptId,
          ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
          tryNumber,
          records: built.records,
        });
      } catch (err) {
        if (!(err instanceof LogStoreError) || err.code === 'INTEGRITY') throw err;
        lastError = err;
        if (err.code === 'UNAVAILABLE') ambiguous = true;
        if (!(await transient.wait()))
          throw pushback(
            `store kept failing (${err.code})`,
            err.code === 'THROTTLED' ? 'THROTTLED' : 'UNAVAILABLE',
          );
        // The write may have landed (timeout after success): look before retrying.
        const h = await this.#calls.retry(() => this.#store.readBatchHeader(p.logId, seq));
        if (h?.attemptId === attemptId) return this.#committedFrom(h);
        tip = await this.#readTip(p.logId, h ? nextTip(tip, h) : tip);
        continue;
      }
      if (outcome.committed) {
        const newTip: LogTip = {
          logId: p.logId,
          seq,
          nextIndex: tip.nextIndex + p.events.length,
          lastLeafHash: built.lastLeafHash,
          lastReceivedAt: built.receivedAt,
        };
        this.#tips.set(p.logId, newTip);
        return { seq, receipts: built.receipts, tip: newTip };
      }
      // Lost the race for seq — possibly to an earlier try of ours that
      // timed out client-side but landed late.
      const winner =
        outcome.existing ?? (await this.#calls.retry(() => this.#store.readBatchHeader(p.logId, seq)));
      if (winner?.attemptId === attemptId) return this.#committedFrom(winner);
      // Someone else made progress. Full-jitter exponential backoff spreads
      // the losers of this round so they do not collide again in lockstep.
      if (!(await conflicts.wait())) throw pushback('log is too busy', 'THROTTLED');
      tip = await this.#readTip(p.logId, winner ? nextTip(tip, winner) : tip);
    }
  }

  /** Reads the tip (from our cached one when we have it) and caches it. */
  async #readTip(logId: string, from?: LogTip): Promise<LogTip> {
    const start = from ?? this.#tips.get(logId);
    const tip = await this.#calls.retry(() => this.#store.readTip(logId, start));
    const cached = this.#tips.get(logId);
    if (!cached || cached.seq < tip.seq) this.#tips.set(logId, tip);
    return tip;
  }

  /** Our batch `h` landed (we learned it by reading it back): its receipts. */
  async #committedFrom(h: BatchHeader): Promise<Committed> {
    const batch = await this.#readBatch(h.logId, h.seq);
    const tip: LogTip = {
      logId: h.logId,
      seq: h.seq,
      nextIndex: batch.firstIndex + batch.count,
      lastLeafHash: batch.lastLeafHash,
      lastReceivedAt: batch.receivedAt,
    };
    return { seq: h.seq, receipts: receiptsOf(batch), tip };
  }

  async #readBatch(logId: string, seq: number): Promise<StoredBatch> {
    const b = await this.#calls.retry(() => this.#store.readBatch(logId, seq));
    if (!b) throw new AppError('INTEGRITY', `batch ${seq} of log ${logId} is referenced but missing`);
    return b;
  }

  // --- idempotency ---

  async #claimOrReplay(
    p: Prepared,
    k: { keyHash: string; key: string },
    tip: LogTip,
    attemptId: string,
  ): Promise<{ replay: Receipt[] } | { claim: IdempotencyClaim; tip: LogTip }> {
    for (let round = 0; round < 4; round++) {
      const claim: IdempotencyClaim = {
        logId: p.logId,
        keyHash: k.keyHash,
        key: k.key,
        submitter: p.submitter,
        requestHash: p.requestHash,
        attemptId,
        tipSeqAtClaim: tip.seq,
        expiresAt: this.#clock.now() + this.#limits.leaseMs,
      };
      const r = await this.#calls.retry(() => this.#store.claimKey(claim));
      if (r.claimed) return { claim, tip };
      const ex = r.existing;
      // Our own claim: an earlier put of ours landed but its answer was lost.
      if (ex.attemptId === attemptId) return { claim: ex, tip };
      if (!bytesEqual(ex.requestHash, p.requestHash))
        throw new AppError(
          'CONFLICT',
          k.key.startsWith('ids:')
            ? 'these event ids were already submitted with a different request body'
            : 'Idempotency-Key was already used with a different request body',
        );
      if (ex.state === 'COMMITTED' && ex.seq !== undefined) {
        return { replay: receiptsOf(await this.#readBatch(p.logId, ex.seq)) };
      }
      // IN_PROGRESS: its owner may have committed and died before finishing.
      tip = await this.#readTip(p.logId, tip);
      const to = Math.min(tip.seq, ex.tipSeqAtClaim + this.#limits.claimScanMax);
      const found = await this.#calls.retry(() =>
        this.#store.findBatchByAttempt(p.logId, ex.attemptId, ex.tipSeqAtClaim + 1, to),
      );
      if (found) {
        const batch = await this.#readBatch(p.logId, found.seq);
        await this.#finishFor(p.logId, ex.keyHash, ex.attemptId, batch);
        return { replay: receiptsOf(batch) };
      }
      const now = this.#clock.now();
      if (ex.expiresAt > now) {
        throw new AppError('IN_PROGRESS', 'a request with this Idempotency-Key is still being processed', {
          retryAfterSeconds: Math.max(1, Math.ceil((ex.expiresAt - now) / 1000)),
        });
      }
      // The lease ran out and no batch of that attempt exists: its owner can
      // no longer commit (deadline < lease), so the key is ours to take.
      const mine = { ...claim, tipSeqAtClaim: tip.seq, expiresAt: now + this.#limits.leaseMs };
      if (await this.#calls.retry(() => this.#store.takeOverKey(mine, ex.attemptId)))
        return { claim: mine, tip };
      // Someone else took it over (or finished) first: look again.
    }
    throw new AppError('IN_PROGRESS', 'Idempotency-Key is contended', { retryAfterSeconds: 1 });
  }

  /** Completes a claim whose owner committed `batch` but did not finish. */
  async #finishFor(logId: string, keyHash: string, attemptId: string, batch: StoredBatch): Promise<void> {
    const entries = batch.records.flatMap((r) => {
      const id = decodeRecord(r.bytes).event.id;
      return id === undefined ? [] : [{ id, index: r.index, seq: batch.seq }];
    });
    if (
      entries.length > 0 &&
      !(await this.#calls.nonFatal('write event ids', () =>
        this.#store.writeEventIds(logId, eventIdScope(logId, batch.submitter), entries),
      ))
    )
      return;
    await this.#calls.nonFatal('finish key', () =>
      this.#store.finishKey(logId, keyHash, attemptId, batch.seq),
    );
  }

  /**
   * Before committing, look the batch's client ids up among the submitter's
   * own (event ids are scoped to the submitter, so another writer cannot
   * squat an id and get this batch refused): all already stored with
   * identical events → the earlier receipts; some → 409 naming them.
   */
  async #checkEventIds(p: Prepared): Promise<Receipt[] | undefined> {
    const ids = p.ids ?? [];
    const found = await this.#calls.retry(() =>
      this.#store.readEventIds(p.logId, eventIdScope(p.logId, p.submitter), ids),
    );
    if (found.size === 0) return undefined;
    const batches = new Map<number, StoredBatch>();
    const batch = async (seq: number) => {
      const known = batches.get(seq);
      if (known) return known;
      const b = await this.#readBatch(p.logId, seq);
      batches.set(seq, b);
      return b;
    };
    // A legacy (per-log) id counts for this submitter only if it recorded it — except on the
    // system log, whose ids are log-wide in both layouts.
    for (const [id, at] of found)
      if (
        at.legacy &&
        p.logId !== SYSTEM_LOG_ID &&
        recordSubmitter(await batch(at.seq), at.index) !== p.submitter
      )
        found.delete(id);
    if (found.size === 0) return undefined;
    if (found.size < ids.length) {
      const dup = ids.filter((id) => found.has(id));
      throw new AppError(
        'CONFLICT',
        `event ids you already used in log ${p.logId}: ${dup
          .slice(0, 10)
          .map((d) => JSON.stringify(d))
          .join(', ')}${dup.length > 10 ? ', …' : ''}`,
      );
    }
    for (const at of found.values()) await batch(at.seq);
    return ids.map((id, i) => {
      const at = found.get(id);
      const b = at && batches.get(at.seq);
      const rec = b?.records.find((r) => r.index === at?.index);
      if (!at || !b || !rec) throw new AppError('INTEGRITY', `event id ${id} points at a missing record`);
      // On the system log ids are log-wide: another admin's record of the same change is a conflict.
      const stored = decodeRecord(rec.bytes);
      // The record's submitter, not the batch's: a sequenced batch holds several (docs/ingest.md §9).
      if (stored.submitter !== p.submitter && p.logId === SYSTEM_LOG_ID)
        throw new AppError(
          'CONFLICT',
          `event id ${JSON.stringify(id)} was already recorded by ${stored.submitter}`,
        );
      if (stored.submitter !== p.submitter)
        throw new AppError(
          'INTEGRITY',
          `event id ${id} of ${p.submitter} points at a record of ${stored.submitter}`,
        );
      const event = p.events[i];
      if (stored.event.id !== id || !bytesEqual(canonicalBytes(stored.event), canonicalBytes(event)))
        throw new AppError(
          'CONFLICT',
          `event id ${JSON.stringify(id)} was already used for a different event`,
          {
            path: `/events/${i}/id`,
          },
        );
      return {
        index: rec.index,
        leafHash: toBase64(leafHash(rec.bytes)),
        prev: stored.prev,
        receivedAt: stored.receivedAt,
      };
    });
  }

  // --- retry plumbing ---
}

/** A pushback raised after a commit try whose outcome we could not learn. */
class AmbiguousCommitError extends Error {
  constructor(readonly appError: AppError) {
    super(appError.message);
  }
}

/** The submitter of record `index` in `batch` (undefined if the batch does not hold it). */
function recordSubmitter(batch: StoredBatch, index: number): string | undefined {
  const rec = batch.records.find((r) => r.index === index);
  return rec ? decodeRecord(rec.bytes).submitter : undefined;
}

function receiptsOf(batch: StoredBatch): Receipt[] {
  let prev = toBase64(batch.prevHash);
  return batch.records.map((r) => {
    const leaf = toBase64(leafHash(r.bytes));
    const receipt = { index: r.index, leafHash: leaf, prev, receivedAt: batch.receivedAt };
    prev = leaf;
    return receipt;
  });
}

function keyHash(domain: 'explicit' | 'implicit', submitter: string, key: string): string {
  return toBase64Url(sha256(utf8(`anchorlog idempotency v1\0${domain}\0${submitter}\0${key}`)));
}

function toAppError(err: unknown): AppError {
  return (
    fromPortError(err, 'append') ??
    new AppError('INTERNAL', 'unexpected error while appending', { cause: err })
  );
}
