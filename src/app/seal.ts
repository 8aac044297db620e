/**
 * Seal use case (docs/architecture.md §Sealing): turn a log's newly appended records into
 * C2SP tlog-tiles in the WORM archive and publish a KMS-signed checkpoint.
 *
 * One linear function, `sealLog`, in the style of sunlight's `sequencePool`:
 * each commit point carries a comment saying what recovery looks like if the
 * process dies right there. Recovery *is* the next run: there is no separate
 * repair path. Everything a run writes before its CAS is a deterministic
 * function of (sealed state, records), so a rerun rewrites byte-identical
 * tiles and `putImmutable` accepts them.
 *
 * Single writer per log: the CAS on the seal-state version. Two concurrent
 * runs write identical tiles; one CAS wins, the other publishes nothing. The
 * deployment does not limit the seal Lambda's concurrency, so overlapping runs
 * (a slow run still going when the next schedule fires) rely on the CAS alone.
 *
 * The archive is the anchor, not the seal state (issue #11). DynamoDB can be
 * rolled back — a point-in-time restore, or a write by anyone who can reach
 * the item — and a sealer that trusted a rolled-back state would sign a tree
 * that forks from one it already published. S3 Object Lock cannot be rolled
 * back. So every run that writes first reads the archive's current
 * checkpoint, verifies it with the log's own key, and refuses a state that is
 * behind it; before signing it proves, with a consistency proof built from
 * the immutable tiles, that the new tree extends the newest archived
 * checkpoint; and it publishes by compare-and-swap on that checkpoint's ETag,
 * so it can never replace a checkpoint it has not verified.
 *
 * Errors are sorted:
 *  - fatal (SealHaltError, an AppError INTEGRITY with a stable SealHaltCode):
 *    stored records, tiles, state or archive contradict each other. The log
 *    is halted (seal state `halted`), nothing is signed or published, an
 *    operator must look. Never retried.
 *  - retryable (AppError UNAVAILABLE): anything else from a dependency. We do
 *    not know what landed; the next run converges.
 *  - misconfiguration (AppError INTERNAL): e.g. the KMS key is wrong. Retrying
 *    does not help; no data is suspect.
 */
import { bytesEqual } from '../core/bytes.ts';
import {
  CLASS_LINE_TAG,
  type ClassCommitment,
  classCommitments,
  classLogPrefix,
  formatClassLine,
} from '../core/classes/commitment.ts';
import { type ClassChange, classChanges } from '../core/classes/declaration.ts';
import type { ClassDefinition } from '../core/classes/definition.ts';
import { decodeClassEdges, encodeClassEdges } from '../core/classes/edges.ts';
import { ClassError } from '../core/classes/errors.ts';
import { encodeClassLeaves } from '../core/classes/leaf.ts';
import { classLeavesOf, planClasses } from '../core/classes/plan.ts';
import { CompactRange } from '../core/merkle/compact-range.ts';
import { decodeEntryBundle, encodeEntryBundle } from '../core/merkle/entry-bundle.ts';
import { MerkleError } from '../core/merkle/errors.ts';
import { decodeHashTile } from '../core/merkle/hash-tile.ts';
import { hashLeaf } from '../core/merkle/hasher.ts';
import { consistencyProofFromOracle } from '../core/merkle/proof-nodes.ts';
import {
  checkGrowthPartials,
  rightEdgeFromTiles,
  type TileWrite,
  tilesForGrowth,
} from '../core/merkle/tile-growth.ts';
import { tileNodeOracle } from '../core/merkle/tile-nodes.ts';
import { entryBundlePath, TILE_WIDTH, tilePath } from '../core/merkle/tile-path.ts';
import { verifyConsistency } from '../core/merkle/verify.ts';
import { formatCheckpoint, parseCheckpoint } from '../core/note/checkpoint.ts';
import { NoteError } from '../core/note/errors.ts';
import { signNote } from '../core/note/sign.ts';
import { parseNote } from '../core/note/signed-note.ts';
import { type NoteVerifier, verifierFromSpki } from '../core/note/verifiers.ts';
import { checkpointFromNote } from '../core/note/verify.ts';
import { ChainError, type LogRecord, verifyChain } from '../core/record.ts';
import { ArchiveError, type ArchiveStore, archiveKey } from '../ports/archive-store.ts';
import { type Clock, MAX_CLOCK_SKEW_MS } from '../ports/clock.ts';
import { type LogStore, LogStoreError, type StoredBatch } from '../ports/log-store.ts';
import { initialSealState, type SealState, type SealStateStore } from '../ports/seal-state.ts';
import type { NoteSigner } from '../ports/signer.ts';
import { AppError } from './errors.ts';
import { fromPortError, RETRY_AFTER_SECONDS } from './port-errors.ts';

export interface SealServiceOptions {
  /** Only reads are used: the sealer never writes to the log. */
  readonly logs: Pick<LogStore, 'readBatches'>;
  readonly state: SealStateStore;
  readonly archive: ArchiveStore;
  /**
   * The log signing key; its key name is replaced per log by the origin. Its
   * public key is also the one archived checkpoints are verified with.
   */
  readonly signer: NoteSigner;
  /**
   * SPKI (DER) of retired log keys (ANCHORLOG_RETIRED_SIGNING_KEYS): a
   * checkpoint in the archive or the seal state signed by one of them is
   * accepted, so changing the signing key does not halt every log with
   * CHECKPOINT_INVALID (docs/operations.md §Key rotation). Never used to sign:
   * every new checkpoint is signed by `signer` only.
   */
  readonly retiredPublicKeys?: readonly Uint8Array[];
  readonly clock: Clock;
  /** Checkpoint origin = `${originPrefix}/${logId}`. */
  readonly originPrefix: string;
  /**
   * Upper bound on records sealed per run (whole batches; a single batch larger
   * than this is still sealed whole). Bounds a run's time so a Lambda never
   * times out; the next run continues. Default 16,384 (64 full tiles).
   */
  readonly maxRecordsPerRun?: number;
  /** Batches per log-store read. Default 100 (BatchGetItem's limit). */
  readonly batchPage?: number;
  /** Concurrent archive writes. Default 16. */
  readonly writeConcurrency?: number;
  /**
   * Event classes to index (ANCHORLOG_CLASSES, docs/classes.md). Default none:
   * checkpoints then carry no class lines. A class not in the previous
   * checkpoint is declared at the size this run starts from.
   */
  readonly classes?: readonly ClassDefinition[];
}

export type SealStatus =
  /** Nothing new: no writes, no KMS call. */
  | 'idle'
  /** A new checkpoint was published. */
  | 'sealed'
  /** Another writer's CAS won; this run published nothing. */
  | 'lost-race';

export interface SealOutcome {
  readonly logId: string;
  readonly status: SealStatus;
  /** Tree size before and after this run. */
  readonly previousSize: number;
  readonly size: number;
  /** Signed checkpoint text now in force (undefined if the log was never sealed). */
  readonly checkpoint: string | undefined;
  /** True when a pending publish of an earlier run was completed (recovery). */
  readonly republished: boolean;
  /** True when the run stopped at maxRecordsPerRun with records left: run again. */
  readonly more: boolean;
  /** What this run wrote (for metrics and the benchmark). */
  readonly stats: SealStats;
  /**
   * Classes this run's checkpoint declared or retired (empty unless it
   * sealed): the seal job records each in the `system` log (docs/classes.md
   * §Versions).
   */
  readonly classChanges: readonly ClassChange[];
}

export interface SealStats {
  /** Archive objects created and their bytes, class logs included. */
  tilesWritten: number;
  bytesWritten: number;
  signatures: number;
  /** Of the above, what the class logs added (docs/classes.md §Cost). */
  classObjectsWritten: number;
  classBytesWritten: number;
}

/**
 * Why sealing of a log stopped. Stable: alarms and runbooks key on it
 * (docs/operations.md), and the seal state's `halted` text starts with it.
 */
export type SealHaltCode =
  /** Stored records, batches, tiles or the seal state contradict each other. */
  | 'STORE_INCONSISTENT'
  /**
   * The seal state is older than the newest checkpoint in the archive: it was
   * rolled back (a point-in-time restore of the table, or a write by someone
   * other than the sealer). Building on it would fork the published log.
   */
  | 'STATE_BEHIND_ARCHIVE'
  /** A tree (about to be signed, or held by the seal state) does not extend the archived checkpoint. */
  | 'FORK'
  /** A checkpoint in the archive or in the seal state does not verify with this log's key. */
  | 'CHECKPOINT_INVALID'
  /**
   * A record says it was received later than the sealer's clock plus
   * MAX_CLOCK_SKEW_MS. Signing it would let one write of a future time move
   * records out of the range they arrived in (bundle completeness is keyed on
   * receivedAt); waiting for the clock to catch up would let it through.
   */
  | 'RECEIVED_AT_IN_FUTURE';

const HALT_CODES: readonly SealHaltCode[] = [
  'STORE_INCONSISTENT',
  'STATE_BEHIND_ARCHIVE',
  'FORK',
  'CHECKPOINT_INVALID',
  'RECEIVED_AT_IN_FUTURE',
];

/** A halt: AppError INTEGRITY (HTTP 500, never retried) that says why. */
export class SealHaltError extends AppError {
  readonly haltCode: SealHaltCode;
  constructor(haltCode: SealHaltCode, message: string, opts: { cause?: unknown } = {}) {
    super('INTEGRITY', message, opts);
    this.haltCode = haltCode;
  }
}

/** The code a stored `halted` text starts with (halts recorded before codes existed: STORE_INCONSISTENT). */
export function haltCodeOf(halted: string): SealHaltCode {
  const code = halted.slice(0, halted.indexOf(':'));
  return (HALT_CODES as readonly string[]).includes(code) ? (code as SealHaltCode) : 'STORE_INCONSISTENT';
}

export interface SealManyResult {
  readonly results: Array<
    | {
        logId: string;
        ok: true;
        status: SealStatus;
        previousSize: number;
        size: number;
        runs: number;
        more: boolean;
        /** Declarations and retirements of every run that sealed, in order. */
        classChanges: readonly ClassChange[];
      }
    | { logId: string; ok: false; code: AppError['code']; message: string; haltCode?: SealHaltCode }
  >;
  /** Logs whose sealing is halted for integrity: page an operator. */
  readonly integrityFailures: string[];
}

const DEFAULT_MAX_RECORDS = 16_384;

/** Thrown inside a run for stored state that contradicts itself; becomes a halt + SealHaltError. */
class Integrity extends Error {
  readonly code: SealHaltCode;
  constructor(code: SealHaltCode, message: string, options?: { cause: unknown }) {
    super(message, options);
    this.code = code;
  }
}

function integrity(message: string, cause?: unknown, code: SealHaltCode = 'STORE_INCONSISTENT'): Integrity {
  return new Integrity(code, message, cause === undefined ? undefined : { cause });
}

/** A verified tree head: a checkpoint whose signature, origin, size and root have been checked. */
interface Head {
  readonly text: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** Extension lines (class roots); absent on a head this run built itself. */
  readonly extensions?: readonly string[];
}

/** A class log's writes for this run, and its commitment and right edge afterwards. */
interface ClassGrowth {
  readonly writes: Array<{ path: string; bytes: Uint8Array }>;
  readonly commitment: ClassCommitment;
  /** classLogPrefix of the class log: its archive folder, and its key in the kept edges. */
  readonly folder: string;
  readonly edge: CompactRange;
}

/** The archive's current checkpoint, verified, with the ETag that replaces exactly it. */
interface Archived extends Head {
  readonly etag: string;
}

/** A record that passed the chain check, with its main-log leaf hash. */
interface DecodedRecord {
  readonly record: LogRecord;
  readonly leafHash: Uint8Array;
}

type ReadTile = (level: number, index: number, width: number) => Promise<Uint8Array>;

/**
 * Sorts any failure into the three kinds above. The sealer's own meanings
 * come first: what says the stored history contradicts itself halts the log.
 * The port errors left follow the one table (src/app/port-errors.ts): store
 * pushback and transient failures are retryable, a misconfigured archive or
 * key is INTERNAL, and a malformed seal-state item is INTEGRITY without a
 * halt (the item itself is what an operator must look at). Anything else
 * is taken as an interruption the next run resumes from.
 */
function toAppError(logId: string, err: unknown): AppError {
  const halt = (code: SealHaltCode, e: Error) =>
    new SealHaltError(code, `seal of log ${logId}: ${e.message}`, { cause: e });
  if (err instanceof Integrity) return halt(err.code, err);
  if (
    err instanceof ChainError ||
    err instanceof MerkleError ||
    (err instanceof ArchiveError && err.code === 'IMMUTABLE_CONFLICT') ||
    (err instanceof LogStoreError && err.code === 'INTEGRITY')
  )
    return halt('STORE_INCONSISTENT', err);
  const mapped = fromPortError(err, `seal of log ${logId}`);
  if (mapped) return mapped;
  if (err instanceof NoteError)
    return new AppError('INTERNAL', `seal of log ${logId}: signing failed: ${err.message}`, { cause: err });
  // A configured class set that contradicts the signed one (or does not
  // parse): misconfiguration, nothing is suspect; fix ANCHORLOG_CLASSES.
  if (err instanceof ClassError && (err.code === 'CLASS_CONFLICT' || err.code === 'INVALID_CLASS'))
    return new AppError('INTERNAL', `seal of log ${logId}: ${err.message}`, { cause: err });
  // Class lines of a checkpoint that verified under the log key do not parse:
  // the signed history contradicts the format.
  if (err instanceof ClassError) return halt('STORE_INCONSISTENT', err);
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new AppError('UNAVAILABLE', `seal of log ${logId} interrupted (${what}); the next run resumes`, {
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    cause: err,
  });
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class SealService {
  readonly #o: Required<SealServiceOptions>;

  constructor(options: SealServiceOptions) {
    this.#o = {
      retiredPublicKeys: [],
      maxRecordsPerRun: DEFAULT_MAX_RECORDS,
      batchPage: 100,
      writeConcurrency: 16,
      classes: [],
      ...options,
    };
    if (!Number.isSafeInteger(this.#o.maxRecordsPerRun) || this.#o.maxRecordsPerRun < 1)
      throw new RangeError('maxRecordsPerRun must be a positive integer');
  }

  origin(logId: string): string {
    return `${this.#o.originPrefix}/${logId}`;
  }

  /**
   * The log key under this log's name (the note key name is the origin, docs/formats.md
   * §Checkpoints). The key ID is computed for that name: a 0x02 (P-256) ID does not depend on
   * it, a 0x01 (Ed25519) ID does.
   */
  #signerFor(logId: string): NoteSigner {
    const base = this.#o.signer;
    return {
      keyName: this.origin(logId),
      keyId: verifierFromSpki(this.origin(logId), base.publicKeySpki).keyId,
      publicKeySpki: base.publicKeySpki,
      sign: (message) => base.sign(message),
    };
  }

  /** The keys a stored checkpoint of this log may be signed by: the log key, then retired ones. */
  #verifiersFor(logId: string): NoteVerifier[] {
    return [this.#o.signer.publicKeySpki, ...this.#o.retiredPublicKeys].map((spki) =>
      verifierFromSpki(this.origin(logId), spki),
    );
  }

  /**
   * Seals each log in turn, running a log again while it has more to seal and
   * the deadline (epoch ms, from the injected clock) allows another run. One
   * log's failure never stops the others; INTEGRITY failures are reported for
   * alarming. Used by the seal job (src/compose/seal.ts).
   */
  async sealMany(logIds: readonly string[], deadlineMs: number): Promise<SealManyResult> {
    const results: SealManyResult['results'] = [];
    for (const logId of logIds) {
      if (this.#o.clock.now() >= deadlineMs) {
        results.push({ logId, ok: false, code: 'UNAVAILABLE', message: 'deadline reached before this log' });
        continue;
      }
      try {
        let out = await this.sealLog(logId);
        const previousSize = out.previousSize;
        const classChanges = [...out.classChanges];
        let runs = 1;
        while (out.more && this.#o.clock.now() < deadlineMs) {
          out = await this.sealLog(logId);
          classChanges.push(...out.classChanges);
          runs++;
        }
        results.push({
          logId,
          ok: true,
          status: out.status,
          previousSize,
          size: out.size,
          runs,
          more: out.more,
          classChanges,
        });
      } catch (err) {
        const e = err instanceof AppError ? err : toAppError(logId, err);
        results.push({
          logId,
          ok: false,
          code: e.code,
          message: e.message,
          ...(e instanceof SealHaltError ? { haltCode: e.haltCode } : {}),
        });
      }
    }
    return {
      results,
      integrityFailures: results.filter((r) => !r.ok && r.code === 'INTEGRITY').map((r) => r.logId),
    };
  }

  /**
   * Seals what is new in `logId`, up to maxRecordsPerRun. Safe to call
   * concurrently, repeatedly and after any crash. Throws AppError: INTEGRITY
   * (a SealHaltError: fatal, the log is halted), UNAVAILABLE/THROTTLED (retry
   * later), INTERNAL.
   */
  async sealLog(logId: string): Promise<SealOutcome> {
    try {
      return await this.#run(logId);
    } catch (err) {
      const e = toAppError(logId, err);
      // (A SealHaltError thrown as such is a halt already in place; a corrupt
      // seal-state item is a plain INTEGRITY: nothing to add.)
      if (e instanceof SealHaltError && !(err instanceof AppError)) {
        // Stop: no later run may publish on top of state we cannot explain.
        // Best effort: if this write fails, the next run finds the same
        // contradiction and halts then.
        await this.#o.state
          .halt(logId, `${e.haltCode}: ${e.message}`, this.#o.clock.now())
          .catch(() => undefined);
      }
      throw e;
    }
  }

  async #run(logId: string): Promise<SealOutcome> {
    const o = this.#o;
    const stats: SealStats = {
      tilesWritten: 0,
      bytesWritten: 0,
      signatures: 0,
      classObjectsWritten: 0,
      classBytesWritten: 0,
    };
    let st = (await o.state.read(logId)) ?? initialSealState(logId);
    if (st.halted !== undefined)
      throw new SealHaltError(haltCodeOf(st.halted), `sealing of log ${logId} is halted: ${st.halted}`);
    const lostRace = (republished: boolean): SealOutcome => ({
      logId,
      status: 'lost-race',
      previousSize: st.size,
      size: st.size,
      checkpoint: st.checkpoint,
      republished,
      more: true,
      stats,
      classChanges: [],
    });

    // Archive objects this run read or wrote, by path. Tiles and bundles are
    // immutable, so a copy is as good as a re-read for the whole run.
    const tiles = new Map<string, Uint8Array>();
    const readTile: ReadTile = async (level, index, width) => {
      const path = tilePath(level, index, width);
      let body = tiles.get(path);
      if (body === undefined) {
        body = await o.archive.get(archiveKey(logId, path));
        if (body === undefined) throw integrity(`sealed tile ${path} is missing from the archive`);
        tiles.set(path, body);
      }
      return body;
    };

    // A state is checked against the archive before anything is built on it
    // or published from it (see #checkState). An idle run writes and signs
    // nothing, so it skips the check and costs two small reads.
    let archived: Archived | undefined;
    let checked = false;
    const pending = st.version > st.publishedVersion;
    if (pending || st.legacy === true) {
      archived = await this.#checkState(logId, st, readTile);
      checked = true;
    }

    // COMMIT POINT 0 — adoption of a state stored where it lived before issue
    // #11 (checked above exactly like any other state). Dies before it: the
    // next run reads the legacy state again and redoes the checks. Dies after
    // it: the state is current; the legacy item is never read again.
    if (st.legacy === true) {
      if (!(await o.state.adopt(st))) return lostRace(false);
      st = { ...st, legacy: false };
    }

    // Recovery of commit points 3–4 of an earlier run: its CAS landed, so its
    // checkpoint is in force, but may be missing from the archive.
    let republished = false;
    if (pending && st.checkpoint !== undefined) {
      archived = await this.#publish(logId, st.version, headOf(st), archived, readTile);
      republished = true;
    }

    // Read new batches, whole ones, up to the per-run bound.
    const { batches, more } = await this.#readNew(logId, st.seq);
    if (batches.length === 0) {
      return {
        logId,
        status: 'idle',
        previousSize: st.size,
        size: st.size,
        checkpoint: st.checkpoint,
        republished,
        more: false,
        stats,
        classChanges: [],
      };
    }

    // Verify the chain from the sealed tip: contiguous seqs and indexes, batch
    // headers agreeing with their records, each record's prev = leaf hash of the
    // one before, receivedAt never decreasing. Any mismatch is fatal.
    const records = checkBatches(logId, st, batches);
    // The chain check decodes every record; the class logs keep the decoded
    // ones (index and event only) instead of decoding each record again.
    // Kept only when this run may have class logs to grow (classes configured,
    // or class lines on the checkpoint it builds on).
    const decoded: DecodedRecord[] = [];
    const keep = o.classes.length > 0 || (st.checkpoint ?? '').includes(`\n${CLASS_LINE_TAG} `);
    const chain = verifyChain(records, st.lastLeafHash, {
      firstIndex: st.size,
      logId,
      ...(st.lastReceivedAt !== undefined ? { notBefore: st.lastReceivedAt } : {}),
      ...(keep
        ? { onRecord: (record: LogRecord, leafHash: Uint8Array) => decoded.push({ record, leafHash }) }
        : {}),
    });
    const last = batches[batches.length - 1] as StoredBatch;
    if (!bytesEqual(chain.lastLeafHash, last.lastLeafHash))
      throw integrity(`batch ${last.seq}: lastLeafHash does not match its records`);
    const newSize = st.size + chain.count;
    // receivedAt never decreases (verified), so the newest is the latest. It
    // must not be ahead of this clock by more than the skew a host's clock
    // may have: nothing else bounds it (see RECEIVED_AT_IN_FUTURE).
    const now = o.clock.now();
    const newest = chain.lastReceivedAt ?? '';
    if (!(Date.parse(newest) <= now + MAX_CLOCK_SKEW_MS))
      throw integrity(
        `record ${newSize - 1} says it was received at ${newest}, more than ` +
          `${MAX_CLOCK_SKEW_MS / 60_000} minutes after this sealer's clock (${new Date(now).toISOString()})`,
        undefined,
        'RECEIVED_AT_IN_FUTURE',
      );

    // The state we build on: not behind the archive, its right edge the one
    // the archived partial tiles give (read: one partial tile per tile level,
    // never the whole log). Checked before commit point 1, so a rolled-back
    // state never gets a forked tile into the immutable archive.
    if (!checked) archived = await this.#checkState(logId, st, readTile);
    const edge = st.version === 0 ? CompactRange.empty() : parseEdge(st);
    const growth = await tilesForGrowth(st.size, newSize, chain.leafHashes, readTile, edge);

    // Entry bundles: old entries of a partial bundle come from the archive and
    // are checked against the level-0 partial tile; new entries are the records.
    const bundles = await this.#entryBundles(logId, st.size, records, growth.tiles, readTile);

    // Class logs (docs/classes.md): what the previous checkpoint committed,
    // continued or declared per the configured set, grown by this run's class
    // records. Computed before any write, from checked inputs only: the signed
    // class lines of the state's checkpoint (verified by #checkState) and the
    // verified records.
    const classes = await this.#classGrowth(logId, st, decoded);
    const classGrowth = classes.growth;

    // COMMIT POINT 1 — tiles and bundles, written before anything refers to them.
    // Dies here: some objects exist, the seal state is unchanged. The next run
    // reads the same records and computes byte-identical objects (or, with more
    // records, objects at new partial widths); identical existing objects are
    // success, a different one means history changed underneath us (fatal).
    // Objects past the sealed size are unreferenced until a checkpoint covers them.
    const writes = [...bundles, ...growth.tiles.map((t) => ({ path: t.path, bytes: t.bytes }))];
    await pool(writes, o.writeConcurrency, async (w) => {
      const r = await o.archive.putImmutable(archiveKey(logId, w.path), w.bytes);
      if (r.created) {
        stats.tilesWritten++;
        stats.bytesWritten += w.bytes.length;
      }
    });
    // The archive now holds exactly these bytes (created, or found identical).
    for (const t of growth.tiles) tiles.set(t.path, t.bytes);

    // COMMIT POINT 1c — class-log tiles and entry bundles (under
    // classes/<name>/<key>/, same tlog-tiles layout), after the main tree's
    // and before the checkpoint that commits their roots. Dies here: some
    // class objects exist, nothing refers to them; the state is unchanged. The
    // next run recomputes them from the same signed class lines and the same
    // records, so they are byte-identical (accepted) or at new partial widths;
    // a class declared by this run gets the same folder only under the same
    // definition and declaration size (classLogPrefix), so leftovers of a run
    // under another configuration never collide. A different existing object
    // is IMMUTABLE_CONFLICT: history changed underneath us (fatal, as above).
    const classWrites = classGrowth.flatMap((g) => g.writes);
    await pool(classWrites, o.writeConcurrency, async (w) => {
      const r = await o.archive.putImmutable(archiveKey(logId, w.path), w.bytes);
      if (r.created) {
        stats.tilesWritten++;
        stats.bytesWritten += w.bytes.length;
        stats.classObjectsWritten++;
        stats.classBytesWritten += w.bytes.length;
      }
    });

    // THE FORK CHECK, the last step before the signature (not a commit point:
    // nothing is written; dies here: as for commit point 1). The newest
    // archived checkpoint is read again (another run may have published since
    // this one started) and the new tree must extend it: a consistency proof
    // from its size to newSize, built from the immutable tiles just written
    // (no extra reads when this run holds them), verified against both roots.
    // A tree that does not extend it, or an archive ahead of the tree, is
    // never signed.
    const latest = await this.#readArchived(logId);
    if (latest === undefined && archived !== undefined)
      throw integrity('the archived checkpoint disappeared during the run');
    if (latest !== undefined && latest.size > newSize) {
      // Someone published past this run's tree. A concurrent sealer whose
      // CAS won explains it; a state that did not move does not.
      const now = await o.state.read(logId);
      if (now !== undefined && now.version !== st.version) return lostRace(republished);
      throw integrity(
        `seal state at size ${st.size} is behind the archived checkpoint at size ${latest.size}`,
        undefined,
        'STATE_BEHIND_ARCHIVE',
      );
    }
    archived = latest;
    const extensions = classGrowth.map((g) => formatClassLine(g.commitment));
    const body = formatCheckpoint({
      origin: this.origin(logId),
      size: newSize,
      rootHash: growth.root,
      extensions,
    });
    if (archived !== undefined)
      await this.#proveExtends(archived, { text: body, size: newSize, rootHash: growth.root }, readTile);

    // Sign. Dies here or KMS fails: nothing new is referenced; the next run
    // re-signs (ECDSA is randomised, so the signature differs; no one has seen
    // this one).
    const checkpoint = await signNote(body, [this.#signerFor(logId)]);
    stats.signatures++;

    // COMMIT POINT 2 — the CAS makes the new tree head the log's truth.
    // Dies before it lands: as above, the next run redoes the same work.
    // Dies after it lands (or a timeout hides success): the next run reads
    // version > publishedVersion, checks the state against the archive (it is
    // ahead: legal, and proven consistent with the archived checkpoint) and
    // publishes this exact text (recovery above).
    const next: SealState = {
      logId,
      version: st.version + 1,
      size: newSize,
      rootHash: growth.root,
      rightEdge: growth.edge.toBytes(),
      seq: last.seq,
      lastLeafHash: chain.lastLeafHash,
      lastReceivedAt: chain.lastReceivedAt,
      checkpoint,
      publishedVersion: st.publishedVersion,
      sealedAt: o.clock.now(),
      // The class logs' right edges at this checkpoint, in the same CAS: the
      // next run continues each class log from its edge instead of reading
      // and folding the archived partial tiles (docs/classes.md §Sealing).
      ...(classGrowth.length > 0
        ? { classEdges: encodeClassEdges(classGrowth.map((g) => ({ folder: g.folder, edge: g.edge }))) }
        : {}),
      halted: undefined,
    };
    if (!(await o.state.compareAndSwap(next, st.version))) return lostRace(republished);

    // COMMIT POINTS 3–4 — archive copy, then the publish marker (see #publish).
    await this.#publish(logId, next.version, headOf(next), archived, readTile);
    stats.bytesWritten += checkpoint.length;
    stats.classBytesWritten += extensions.reduce((n, l) => n + l.length + 1, 0);

    return {
      logId,
      status: 'sealed',
      previousSize: st.size,
      size: newSize,
      checkpoint,
      republished,
      more,
      stats,
      classChanges: classes.changes,
    };
  }

  /**
   * Checks the state a run starts from against the archive, and returns the
   * archive's current checkpoint (verified), or undefined when there is none.
   *
   *  - the state's own checkpoint (version ≥ 1) verifies with the log key and
   *    names exactly the state's size and root;
   *  - no archived checkpoint: the log was never published, or this is the
   *    crash window of its first seal (CAS landed, publish did not); either
   *    way there is nothing to be behind;
   *  - state smaller than the archived checkpoint: rolled back
   *    (STATE_BEHIND_ARCHIVE) — this includes a missing state (version 0);
   *  - same size: same root, or FORK;
   *  - state larger: the crash window of commit points 2–3, legal only if the
   *    state's tree extends the archived one (consistency proof from the
   *    tiles of the state's tree, which were written before its CAS), or FORK;
   *  - finally the state's right edge agrees with the archived partial tiles.
   */
  async #checkState(logId: string, st: SealState, readTile: ReadTile): Promise<Archived | undefined> {
    const archived = await this.#readArchived(logId);
    let head: Head | undefined;
    if (st.version > 0) {
      head = this.#verifyCheckpoint(logId, st.checkpoint ?? '', 'the seal state');
      if (head.size !== st.size || !bytesEqual(head.rootHash, st.rootHash))
        throw integrity(
          `the seal state's checkpoint names size ${head.size}, the state ${st.size}`,
          undefined,
          'CHECKPOINT_INVALID',
        );
    }
    if (archived !== undefined) {
      if (head === undefined || head.size < archived.size) {
        const what = head === undefined ? 'is missing' : `at size ${head.size} is behind the archive,`;
        throw integrity(
          `seal state ${what} which holds a checkpoint at size ${archived.size}`,
          undefined,
          'STATE_BEHIND_ARCHIVE',
        );
      }
      await this.#proveExtends(archived, head, readTile);
    }
    if (st.version > 0 && !(await rightEdgeFromTiles(st.size, readTile)).equals(parseEdge(st)))
      throw integrity(`archived partial tiles at size ${st.size} disagree with the sealed right edge`);
    return archived;
  }

  /** The archive's current checkpoint, verified with the log key; undefined when there is none. */
  async #readArchived(logId: string): Promise<Archived | undefined> {
    const got = await this.#o.archive.getCheckpoint(logId);
    if (got === undefined) return undefined;
    return { ...this.#verifyCheckpoint(logId, got.text, 'the archived'), etag: got.etag };
  }

  /**
   * The tree head a checkpoint text states, once its signature by the log key
   * (or a retired one) for this log's origin verifies.
   */
  #verifyCheckpoint(logId: string, text: string, whose: string): Head & { extensions: readonly string[] } {
    try {
      const cp = checkpointFromNote(text, this.origin(logId), this.#verifiersFor(logId));
      return { text, size: cp.size, rootHash: cp.rootHash, extensions: cp.extensions };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw integrity(
        `${whose} checkpoint does not verify with the log key or a retired one: ${why}`,
        err,
        'CHECKPOINT_INVALID',
      );
    }
  }

  /**
   * Throws FORK unless the tree `newer` extends `older` (older.size ≤ newer.size):
   * equal roots at equal sizes, otherwise an RFC 9162 consistency proof built
   * from the tiles of the newer tree and verified against both roots.
   */
  async #proveExtends(older: Head, newer: Head, readTile: ReadTile): Promise<void> {
    if (older.size > newer.size) throw new TypeError('proveExtends: older tree is larger');
    const fork = (why: string, cause?: unknown) =>
      integrity(
        `the tree at size ${newer.size} does not extend the archived checkpoint at size ${older.size}: ${why}`,
        cause,
        'FORK',
      );
    if (older.size === newer.size) {
      if (!bytesEqual(older.rootHash, newer.rootHash)) throw fork('same size, different roots');
      return;
    }
    if (older.size === 0) return;
    let proof: Uint8Array[];
    try {
      proof = await consistencyProofFromOracle(older.size, newer.size, tileNodeOracle(newer.size, readTile));
    } catch (err) {
      if (err instanceof MerkleError)
        throw integrity(`tiles at size ${newer.size} are malformed: ${err.message}`);
      throw err;
    }
    try {
      verifyConsistency(older.size, newer.size, proof, older.rootHash, newer.rootHash);
    } catch (err) {
      if (err instanceof MerkleError) throw fork(err.message, err);
      throw err;
    }
  }

  /**
   * COMMIT POINT 3 — the checkpoint object in the archive, by compare-and-swap
   * on the checkpoint this run verified (`expected`; none: `If-None-Match: *`).
   * Every version is retained. Dies before it: the next run sees
   * version > publishedVersion and publishes again. Dies after it: the next
   * run finds this exact tree head in the archive and only sets the marker.
   * If the condition fails, someone published since `expected` was read: the
   * new current checkpoint is read and verified; a newer one stays (a newer
   * seal owns publishing now), an older one must be extended by ours (else
   * FORK) and is replaced by name.
   * COMMIT POINT 4 — the marker. Dies before it: as for point 3.
   * Returns the archive's current checkpoint afterwards.
   */
  async #publish(
    logId: string,
    version: number,
    head: Head,
    expected: Archived | undefined,
    readTile: ReadTile,
  ): Promise<Archived | undefined> {
    let current = expected;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (current !== undefined && current.size > head.size) return current;
      if (current !== undefined && current.size === head.size) {
        // This tree head is already in the archive (an earlier attempt whose
        // answer we lost): only the marker is missing.
        await this.#proveExtends(current, head, readTile);
      } else {
        const r = await this.#o.archive.putCheckpoint(
          logId,
          head.text,
          current === undefined ? { ifNoneMatch: '*' } : { ifMatch: current.etag },
        );
        if (!r.written) {
          current = await this.#readArchived(logId);
          if (current !== undefined && current.size <= head.size)
            await this.#proveExtends(current, head, readTile);
          continue;
        }
        current = { ...head, etag: r.etag };
      }
      await this.#o.state.markPublished(logId, version);
      return current;
    }
    throw new AppError(
      'UNAVAILABLE',
      `publishing the checkpoint of log ${logId} kept racing; the next run resumes`,
      {
        retryAfterSeconds: 1,
      },
    );
  }

  /** Whole batches after `seq`, up to maxRecordsPerRun records (at least one batch). */
  async #readNew(logId: string, seq: number): Promise<{ batches: StoredBatch[]; more: boolean }> {
    const o = this.#o;
    const out: StoredBatch[] = [];
    let records = 0;
    // First page small: an idle log costs one small read.
    let page = Math.min(8, o.batchPage);
    let from = seq + 1;
    for (;;) {
      const got = await o.logs.readBatches(logId, from, page);
      for (const b of got) {
        if (out.length > 0 && records + b.count > o.maxRecordsPerRun) return { batches: out, more: true };
        out.push(b);
        records += b.count;
      }
      if (got.length < page) return { batches: out, more: false };
      if (records >= o.maxRecordsPerRun) return { batches: out, more: true };
      from += got.length;
      page = o.batchPage;
    }
  }

  /**
   * The class logs after this run, and the objects to write for them. The
   * class lines of the state's checkpoint are the truth about each class log
   * (signed; the state was checked against the archive before this is
   * called). A continued log's right edge comes from the state's kept edges
   * when one is there at exactly the signed size and folds to the signed root
   * (anything else kept for it contradicts the checkpoint beside it: halt);
   * without one (a state from before kept edges, or a class log the state has
   * none for) it is rebuilt from the archived partial tiles, which must fold
   * to the signed root. Either way a class log is never grown from tiles
   * that disagree with what was published: the partial tiles growth copies
   * from are checked against the edge (rebuilt from them, or by
   * checkGrowthPartials), and the old entries of a partial bundle against
   * the level-0 tile (#entryBundles). A class that gains no record this run
   * reads nothing when its edge is kept.
   */
  async #classGrowth(
    logId: string,
    st: SealState,
    decoded: readonly DecodedRecord[],
  ): Promise<{ growth: ClassGrowth[]; changes: ClassChange[] }> {
    const o = this.#o;
    // The state's checkpoint was verified with the log key by #checkState
    // before this is called; here it is only parsed again for its lines.
    const previous =
      st.version > 0
        ? classCommitments(parseCheckpoint(parseNote(st.checkpoint ?? '').text).extensions, st.size)
        : [];
    if (previous.length === 0 && o.classes.length === 0) return { growth: [], changes: [] };
    const plan = planClasses(previous, o.classes, st.size);
    const changes = classChanges(previous, plan, st.size);
    // Undefined: none kept (or another format's, a newer sealer's): rebuild from tiles.
    const kept = st.classEdges === undefined ? undefined : decodeClassEdges(st.classEdges);
    // One pass over the records, each rule compiled once.
    const leaves = classLeavesOf(plan, decoded);
    // Class logs are independent: their archive reads (partial tiles, partial
    // bundle) run concurrently, so a seal waits for one round of class reads,
    // not one per class.
    const growth = await Promise.all(
      plan.map(async (c, k): Promise<ClassGrowth> => {
        const added = leaves[k] ?? [];
        const folder = classLogPrefix(c);
        const classTiles = new Map<string, Uint8Array>();
        const readClassTile: ReadTile = async (level, index, width) => {
          const path = folder + tilePath(level, index, width);
          let body = classTiles.get(path);
          if (body === undefined) {
            body = await o.archive.get(archiveKey(logId, path));
            if (body === undefined) throw integrity(`sealed class tile ${path} is missing from the archive`);
            classTiles.set(path, body);
          }
          return body;
        };
        const keptEdge = c.size === 0 ? undefined : kept?.get(folder);
        let edge: CompactRange;
        if (c.size === 0) edge = CompactRange.empty();
        else if (keptEdge !== undefined) {
          if (keptEdge.size !== c.size || !bytesEqual(keptEdge.root(), c.rootHash))
            throw new ClassError(
              'MALFORMED_CLASS_EDGES',
              `the seal state's kept edge of class ${c.def.name} (size ${keptEdge.size}) disagrees with ` +
                `the class line of its checkpoint (size ${c.size})`,
            );
          edge = keptEdge;
        } else {
          edge = await rightEdgeFromTiles(c.size, readClassTile);
          if (!bytesEqual(edge.root(), c.rootHash))
            throw integrity(
              `archived tiles of class ${c.def.name} at size ${c.size} disagree with the signed class root`,
            );
        }
        if (added.length === 0) return { writes: [], commitment: c, folder, edge };
        const newSize = c.size + added.length;
        if (keptEdge !== undefined) {
          try {
            await checkGrowthPartials(edge, newSize, readClassTile);
          } catch (err) {
            if (err instanceof MerkleError)
              throw integrity(`archived tiles of class ${c.def.name} at size ${c.size}: ${err.message}`, err);
            throw err;
          }
        }
        // Each leaf is encoded once: its bytes go into the entry bundle, their hash into the tiles.
        const leafBytes = encodeClassLeaves(added);
        const g = await tilesForGrowth(c.size, newSize, leafBytes.map(hashLeaf), readClassTile, edge);
        const bundles = await this.#entryBundles(logId, c.size, leafBytes, g.tiles, readClassTile, folder);
        return {
          writes: [...bundles, ...g.tiles.map((t) => ({ path: folder + t.path, bytes: t.bytes }))],
          commitment: { def: c.def, fromSize: c.fromSize, size: newSize, rootHash: g.root },
          folder,
          edge: g.edge,
        };
      }),
    );
    return { growth, changes };
  }

  /**
   * Entry bundles for the level-0 tiles that change (c2sp.org/tlog-tiles "Log
   * entries"): bundle N holds leaves N·256 … N·256+W−1. `prefix`: the class
   * log's folder (docs/classes.md), '' for the main log.
   */
  async #entryBundles(
    logId: string,
    oldSize: number,
    newRecords: readonly Uint8Array[],
    changed: readonly TileWrite[],
    readTile: (level: number, index: number, width: number) => Promise<Uint8Array>,
    prefix = '',
  ): Promise<Array<{ path: string; bytes: Uint8Array }>> {
    const out: Array<{ path: string; bytes: Uint8Array }> = [];
    for (const t of changed) {
      if (t.coord.level !== 0) continue;
      const start = t.coord.index * TILE_WIDTH;
      let entries: Uint8Array[] = [];
      if (start < oldSize) {
        // The old partial bundle: read it and check every entry against the
        // sealed level-0 partial tile before building on it.
        const width = oldSize - start;
        const path = prefix + entryBundlePath(t.coord.index, width);
        const bytes = await this.#o.archive.get(archiveKey(logId, path));
        if (bytes === undefined) throw integrity(`sealed entry bundle ${path} is missing from the archive`);
        entries = decodeEntryBundle(bytes, width);
        const hashes = decodeHashTile(await readTile(0, t.coord.index, width), width);
        entries.forEach((e, i) => {
          if (!bytesEqual(hashLeaf(e), hashes[i] as Uint8Array))
            throw integrity(`entry ${start + i} of ${path} does not match tile/0 hash`);
        });
      }
      const from = Math.max(start, oldSize) - oldSize;
      const to = start + t.coord.width - oldSize;
      entries = entries.concat(newRecords.slice(from, to));
      out.push({
        path: prefix + entryBundlePath(t.coord.index, t.coord.width),
        bytes: encodeEntryBundle(entries),
      });
    }
    return out;
  }
}

/** The tree head a state claims (checked by #checkState before it is used). */
function headOf(st: SealState): Head {
  return { text: st.checkpoint ?? '', size: st.size, rootHash: st.rootHash };
}

function parseEdge(st: SealState): CompactRange {
  let edge: CompactRange;
  try {
    edge = CompactRange.fromBytes(st.rightEdge);
  } catch (cause) {
    throw integrity('stored right edge does not parse', cause);
  }
  if (edge.size !== st.size)
    throw integrity(`stored right edge is at size ${edge.size}, state at ${st.size}`);
  if (!bytesEqual(edge.root(), st.rootHash))
    throw integrity('stored right edge does not fold to the stored root');
  return edge;
}

/** Batch-level continuity; returns the record bytes in index order. */
function checkBatches(logId: string, st: SealState, batches: readonly StoredBatch[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let seq = st.seq;
  let index = st.size;
  let prev = st.lastLeafHash;
  for (const b of batches) {
    if (b.logId !== logId || b.seq !== seq + 1) throw integrity(`expected batch ${seq + 1}, got ${b.seq}`);
    if (b.firstIndex !== index || b.count !== b.records.length)
      throw integrity(`batch ${b.seq} does not start at index ${index} or miscounts its records`);
    if (!bytesEqual(b.prevHash, prev))
      throw integrity(`batch ${b.seq} does not chain from index ${index - 1}`);
    b.records.forEach((r, i) => {
      if (r.index !== index + i) throw integrity(`batch ${b.seq} record ${i} has index ${r.index}`);
      out.push(r.bytes);
    });
    seq = b.seq;
    index += b.count;
    prev = b.lastLeafHash;
  }
  return out;
}
