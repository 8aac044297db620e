/**
 * Witness use case (docs/witnessing.md): submit a log's newest published
 * checkpoint to the configured C2SP tlog-witness witnesses, keep each
 * verified cosignature in the WORM archive next to the RFC 3161 tokens of
 * the same checkpoint, and record per-witness state.
 *
 * What is submitted is the archived checkpoint (`logs/<logId>/checkpoint`)
 * once the log key (or a retired one) verifies it, as for the anchor job:
 * never anything the seal state says.
 *
 * Per witness and run:
 *  1. A cosignature already archived for this size that verifies under the
 *     configured witness key is adopted: no request.
 *  2. Otherwise `add-checkpoint` with old size = our state's size for the
 *     witness (0 if none), proof = RFC 6962 consistency proof old → new
 *     computed from OUR archived tiles.
 *  3. 409: the witness states the size it last cosigned. Above our
 *     checkpoint → WITNESS_AHEAD (it saw a larger tree of this origin than
 *     we published: a rollback of our archive, or someone showed it a
 *     fork); alarm, no retry. Otherwise retry once with that old size and a
 *     proof from it (the same size: an empty proof, and the witness compares
 *     roots).
 *  4. 200: the reply line of the configured key must verify over our note
 *     text with a timestamp > 0 and not in the future (BAD_COSIGNATURE).
 *  5. 422 (WITNESS_INCONSISTENT), 403, 404, 400, timeouts, garbage: failed,
 *     recorded, counted, retried on the next run. Transport failures
 *     (timeouts, 5xx) are retried within the run with backoff.
 *
 * Commit points per witness, and why a crash never makes the log send an
 * inconsistent proof:
 *  A. the witness persisted and cosigned — nothing of ours is written. Next
 *     run: our state still says the old size; the witness answers 409 with
 *     the new size; we resend from it (same size → empty proof, roots
 *     compared) and get a fresh cosignature. (Test: crash between persist
 *     and reply.)
 *  B. cosignature archived (putImmutable, `anchors/<size>/<witness>.cosig`)
 *     — next run adopts it (step 1) and writes the state.
 *  C. state recorded (conditional: the size only rises).
 * The state is only ever written with a size whose cosignature is already
 * archived, so it never runs ahead of what the witness holds; and the only
 * thing taken from the state or a 409 is a SIZE. The proof is always
 * computed from our own tiles between two sizes of the one tree whose
 * checkpoint the log key signed, so it is consistent by construction: if the
 * witness's view at that size differs from our tree, the proof cannot
 * verify for it and the witness answers 422 — reported, never cosigned.
 */
import {
  type BackoffPolicy,
  type Sleep,
  type Uniform,
  uniformFromBytes,
  withBackoff,
} from '../core/backoff.ts';
import { utf8 } from '../core/bytes.ts';
import { AnchorlogError } from '../core/errors.ts';
import { isValidTsaName, TSA_NAME_RULE } from '../core/names.ts';
import { formatSignatureLine, type NoteSignature, parseNote } from '../core/note/signed-note.ts';
import { verifierFromSpki } from '../core/note/verifiers.ts';
import { checkpointFromNote } from '../core/note/verify.ts';
import { checkCosigners, splitCosignature, verifyCosignature } from '../core/witness/cosignature.ts';
import { anchorPrefix } from '../ports/anchor-store.ts';
import { ArchiveError, type ArchiveStore } from '../ports/archive-store.ts';
import { type Clock, MAX_CLOCK_SKEW_MS, systemSleep } from '../ports/clock.ts';
import type { MetricDatum, MetricsSink } from '../ports/metrics.ts';
import { type Witness, WitnessCallError } from '../ports/witness.ts';
import type { WitnessStateStore } from '../ports/witness-state.ts';
import { anchoredCheckpointKey } from './anchor.ts';
import { AppError } from './errors.ts';
import { fromPortError } from './port-errors.ts';

/** Archive key of a witness's cosignature line for the checkpoint at `size`. */
export function cosignatureKey(logId: string, size: number, witness: string): string {
  return `${anchorPrefix(logId, size)}${witness}.cosig`;
}

export interface WitnessRetryPolicy {
  /** Attempts per request on transport failures (timeouts, 5xx), including the first. Default 2. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}
export const DEFAULT_WITNESS_RETRY: WitnessRetryPolicy = { attempts: 2, baseDelayMs: 500, maxDelayMs: 4000 };

export interface WitnessServiceOptions {
  readonly archive: Pick<ArchiveStore, 'get' | 'getCheckpoint' | 'putImmutable'>;
  /** Checkpoint origin = `${originPrefix}/${logId}`. */
  readonly originPrefix: string;
  /** SPKI (DER) of the log signing key and retired ones. */
  readonly logPublicKeys: readonly Uint8Array[];
  readonly witnesses: readonly Witness[];
  /** k: cosignatures needed for a checkpoint to count as witnessed (0 ≤ k ≤ n). */
  readonly quorum: number;
  readonly state: WitnessStateStore;
  /** RFC 6962 consistency proof between two sizes of the log's published tree, from the archive. */
  readonly consistencyProof: (logId: string, from: number, to: number) => Promise<readonly Uint8Array[]>;
  readonly clock: Clock;
  readonly random: (n: number) => Uint8Array;
  readonly metrics: MetricsSink;
  readonly retry?: Partial<WitnessRetryPolicy>;
  readonly sleep?: Sleep;
}

export type WitnessRunStatus = 'no-checkpoint' | 'already-witnessed' | 'witnessed' | 'below-quorum';

/** Failure codes of the use case itself, besides the WitnessCallError codes. */
export type WitnessFailureCode =
  /** The witness cosigned a larger tree of this origin than our published checkpoint. */
  | 'WITNESS_AHEAD'
  /** Two 409s in one run: the witness's size moved under us. */
  | 'WITNESS_CONFLICT'
  /** The reply has no line of the configured key that verifies with a sane timestamp. */
  | 'BAD_COSIGNATURE'
  /** The archive holds a cosignature for this size that does not verify. */
  | 'ARCHIVED_COSIGNATURE_INVALID';

export interface WitnessRunResult {
  readonly witness: string;
  readonly result: 'cosigned' | 'already-cosigned' | 'adopted' | 'failed';
  /** add-checkpoint requests sent this run. */
  readonly requests: number;
  /** The cosignature's timestamp (POSIX seconds). */
  readonly timestamp?: number;
  /** Set when failed: a WitnessCallError code, a WitnessFailureCode, or a store code. */
  readonly failure?: { readonly code: string; readonly message: string };
  /** The size a 409 said the witness had, when one was seen. */
  readonly witnessSize?: number;
}

export interface WitnessOutcome {
  readonly logId: string;
  readonly status: WitnessRunStatus;
  readonly size: number;
  readonly quorum: number;
  readonly witnessCount: number;
  readonly cosigned: number;
  readonly failures: number;
  readonly requests: number;
  readonly witnesses: readonly WitnessRunResult[];
}

/** 422 or a witness ahead of us: what a fork or a rollback looks like from here. Alarmed. */
const SPLIT_VIEW_CODES = new Set(['WITNESS_INCONSISTENT', 'WITNESS_AHEAD']);

class Failed extends AnchorlogError<string> {}

export class WitnessService {
  readonly #o: WitnessServiceOptions;
  readonly #retry: BackoffPolicy;
  readonly #sleep: Sleep;
  readonly #uniform: Uniform;

  constructor(options: WitnessServiceOptions) {
    const names = options.witnesses.map((w) => w.name);
    for (const name of names)
      if (!isValidTsaName(name))
        throw new AppError('INTERNAL', `witness name ${JSON.stringify(name)}: ${TSA_NAME_RULE}`);
    if (new Set(names).size !== names.length) throw new AppError('INTERNAL', 'witness names must be unique');
    try {
      checkCosigners(options.witnesses.map((w) => w.cosigner));
    } catch (err) {
      throw new AppError('INTERNAL', `witness keys: ${err instanceof Error ? err.message : String(err)}`);
    }
    const n = names.length;
    if (!Number.isInteger(options.quorum) || options.quorum < 0 || options.quorum > n)
      throw new AppError('INTERNAL', `witness quorum ${options.quorum} must be within 0..${n}`);
    if (options.logPublicKeys.length === 0)
      throw new AppError('INTERNAL', 'the witness job needs the log public key to verify checkpoints');
    this.#o = options;
    const r = { ...DEFAULT_WITNESS_RETRY, ...options.retry };
    this.#retry = { baseMs: r.baseDelayMs, capMs: r.maxDelayMs, maxRetries: r.attempts - 1 };
    this.#sleep = options.sleep ?? systemSleep;
    this.#uniform = uniformFromBytes(options.random);
  }

  /**
   * Submits the newest published checkpoint of `logId` to every witness.
   * Rejects with an AppError only when the checkpoint cannot be read or
   * does not verify (INTEGRITY), or the archive refuses the checkpoint copy;
   * per-witness failures are in the outcome.
   */
  async witnessLog(logId: string): Promise<WitnessOutcome> {
    try {
      return await this.#witnessLog(logId);
    } catch (err) {
      throw fromPortError(err, `witnessing of log ${logId}`) ?? err;
    }
  }

  async #witnessLog(logId: string): Promise<WitnessOutcome> {
    const o = this.#o;
    const witnessCount = o.witnesses.length;
    const got = await o.archive.getCheckpoint(logId);
    if (got === undefined || witnessCount === 0)
      return this.#finish({
        logId,
        status: 'no-checkpoint',
        size: 0,
        quorum: o.quorum,
        witnessCount,
        cosigned: 0,
        failures: 0,
        requests: 0,
        witnesses: [],
      });
    const origin = `${o.originPrefix}/${logId}`;
    let size: number;
    try {
      const verifiers = o.logPublicKeys.map((spki) => verifierFromSpki(origin, spki));
      size = checkpointFromNote(got.text, origin, verifiers).size;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new AppError(
        'INTEGRITY',
        `log ${logId}: the archived checkpoint does not verify with the log key (${why}); nothing is submitted`,
        { cause: err },
      );
    }
    const checkpoint = got.text;
    const noteText = parseNote(checkpoint).text;
    // The cosigned bytes next to the cosignatures (the anchor job writes the same object).
    try {
      await o.archive.putImmutable(anchoredCheckpointKey(logId, size), utf8(checkpoint));
    } catch (err) {
      if (err instanceof ArchiveError && err.code === 'IMMUTABLE_CONFLICT')
        throw new AppError('INTEGRITY', `log ${logId}: a different checkpoint was archived at size ${size}`, {
          cause: err,
        });
      throw err;
    }
    const results = await Promise.all(
      o.witnesses.map((w) => this.#witnessWith(w, logId, size, checkpoint, noteText)),
    );
    const cosigned = results.filter((r) => r.result !== 'failed').length;
    const anyNew = results.some((r) => r.result !== 'already-cosigned');
    const status: WitnessRunStatus =
      cosigned < o.quorum ? 'below-quorum' : anyNew ? 'witnessed' : 'already-witnessed';
    return this.#finish({
      logId,
      status,
      size,
      quorum: o.quorum,
      witnessCount,
      cosigned,
      failures: witnessCount - cosigned,
      requests: results.reduce((a, r) => a + r.requests, 0),
      witnesses: results,
    });
  }

  /** One witness, start to finish. Never rejects. */
  async #witnessWith(
    w: Witness,
    logId: string,
    size: number,
    checkpoint: string,
    noteText: string,
  ): Promise<WitnessRunResult> {
    const o = this.#o;
    const key = cosignatureKey(logId, size, w.name);
    let requests = 0;
    let witnessSize: number | undefined;
    try {
      // Step 1 / recovery from commit point B.
      const stored = await o.archive.get(key);
      if (stored !== undefined) {
        const t = this.#verifyStored(w, noteText, stored);
        if (t === undefined)
          throw new Failed(
            'ARCHIVED_COSIGNATURE_INVALID',
            `the archived cosignature ${key} does not verify under witness ${w.name}'s key`,
          );
        const state = await o.state.get(logId, w.name);
        if (state?.size === size && state.lastFailure === undefined)
          return { witness: w.name, result: 'already-cosigned', requests: 0, timestamp: t };
        await o.state.recordCosigned({
          logId,
          witness: w.name,
          size,
          cosignedAt: t,
          updatedAt: o.clock.now(),
        });
        return { witness: w.name, result: 'adopted', requests: 0, timestamp: t };
      }
      const state = await o.state.get(logId, w.name);
      // The state is a hint: one above our checkpoint is not used (the witness will say).
      let oldSize = state !== undefined && state.size <= size ? state.size : 0;
      let sig: NoteSignature | undefined;
      for (let round = 1; ; round++) {
        const proof = oldSize > 0 && oldSize < size ? await o.consistencyProof(logId, oldSize, size) : [];
        const reply = await this.#send(w, { oldSize, proof, checkpoint }, () => requests++);
        if (reply.kind === 'cosigned') {
          sig = this.#pick(w, noteText, reply.signatures);
          break;
        }
        witnessSize = reply.size;
        if (reply.size > size)
          throw new Failed(
            'WITNESS_AHEAD',
            `witness ${w.name} has cosigned size ${reply.size} of ${logId}, larger than the published ${size}`,
          );
        if (round === 2)
          throw new Failed('WITNESS_CONFLICT', `witness ${w.name} answered 409 twice (size ${reply.size})`);
        oldSize = reply.size;
      }
      const t = splitCosignature(sig.signature).timestamp;
      // Commit point B: the line exactly as verified, under Object Lock.
      const line = utf8(`${formatSignatureLine(sig)}\n`);
      let result: WitnessRunResult['result'] = 'cosigned';
      let timestamp = t;
      try {
        await o.archive.putImmutable(key, line);
      } catch (err) {
        if (!(err instanceof ArchiveError && err.code === 'IMMUTABLE_CONFLICT')) throw err;
        // A concurrent run archived another (equally valid) cosignature of this size: keep it.
        const other = await o.archive.get(key);
        const ot = other === undefined ? undefined : this.#verifyStored(w, noteText, other);
        if (ot === undefined) throw err;
        result = 'adopted';
        timestamp = ot;
      }
      // Commit point C.
      await o.state.recordCosigned({
        logId,
        witness: w.name,
        size,
        cosignedAt: timestamp,
        updatedAt: o.clock.now(),
      });
      return {
        witness: w.name,
        result,
        requests,
        timestamp,
        ...(witnessSize !== undefined ? { witnessSize } : {}),
      };
    } catch (err) {
      const failure = failureOf(err);
      try {
        await o.state.recordFailure(logId, w.name, { ...failure, at: o.clock.now() });
      } catch {
        // Reported in the outcome and the metrics; the item catches up next run.
      }
      return {
        witness: w.name,
        result: 'failed',
        requests,
        failure,
        ...(witnessSize !== undefined ? { witnessSize } : {}),
      };
    }
  }

  /** One add-checkpoint, retried with backoff on transport failures only (the same request is then safe). */
  #send(w: Witness, req: Parameters<Witness['addCheckpoint']>[0], count: () => void) {
    return withBackoff(
      () => {
        count();
        return w.addCheckpoint(req);
      },
      {
        policy: this.#retry,
        retryable: (err) => err instanceof WitnessCallError && err.retryable,
        sleep: this.#sleep,
        random: this.#uniform,
      },
    );
  }

  /** The reply line of `w`'s configured key that verifies with a sane timestamp; BAD_COSIGNATURE otherwise. */
  #pick(w: Witness, noteText: string, signatures: readonly NoteSignature[]): NoteSignature {
    const latest = Math.floor((this.#o.clock.now() + MAX_CLOCK_SKEW_MS) / 1000);
    for (const s of signatures) {
      const t = verifyCosignature(w.cosigner, noteText, s);
      // tlog-witness: the cosignature "MUST NOT omit the timestamp"; a future one is refused too.
      if (t !== undefined && t > 0 && t <= latest) return s;
    }
    throw new Failed(
      'BAD_COSIGNATURE',
      `witness ${w.name} replied without a valid cosignature by ${w.cosigner.name} (${signatures.length} line(s))`,
    );
  }

  #verifyStored(w: Witness, noteText: string, stored: Uint8Array): number | undefined {
    try {
      const sigs = parseNote(`${noteText}\n${new TextDecoder().decode(stored)}`).signatures;
      return sigs.length === 1 && sigs[0] ? verifyCosignature(w.cosigner, noteText, sigs[0]) : undefined;
    } catch {
      return undefined;
    }
  }

  #finish(outcome: WitnessOutcome): WitnessOutcome {
    const now = this.#o.clock.now();
    const metrics: MetricDatum[] = [
      { name: 'WitnessCosigned', value: outcome.cosigned, unit: 'Count' },
      { name: 'WitnessFailures', value: outcome.failures, unit: 'Count' },
      { name: 'WitnessRequests', value: outcome.requests, unit: 'Count' },
      { name: 'WitnessQuorumMissed', value: outcome.status === 'below-quorum' ? 1 : 0, unit: 'Count' },
    ];
    this.#o.metrics.emit({
      dimensions: { LogId: outcome.logId },
      metrics,
      timestampMs: now,
      properties: { status: outcome.status, size: outcome.size, quorum: outcome.quorum },
    });
    for (const r of outcome.witnesses) {
      if (r.result !== 'failed') continue;
      const code = r.failure?.code ?? 'UNKNOWN';
      this.#o.metrics.emit({
        dimensions: { Witness: r.witness },
        metrics: [
          { name: 'WitnessFailure', value: 1, unit: 'Count' },
          // A possible split view or rollback: alarmed (docs/witnessing.md §Alarms).
          ...(SPLIT_VIEW_CODES.has(code)
            ? [{ name: 'WitnessInconsistent', value: 1, unit: 'Count' as const }]
            : []),
        ],
        timestampMs: now,
        properties: {
          logId: outcome.logId,
          size: outcome.size,
          code,
          message: r.failure?.message ?? '',
          ...(r.witnessSize !== undefined ? { witnessSize: r.witnessSize } : {}),
        },
      });
    }
    return outcome;
  }
}

function failureOf(err: unknown): { code: string; message: string } {
  if (err instanceof WitnessCallError || err instanceof Failed)
    return { code: err.code, message: err.message };
  if (err instanceof ArchiveError) return { code: `ARCHIVE_${err.code}`, message: err.message };
  if (err instanceof AnchorlogError) return { code: err.code, message: err.message };
  const name = err instanceof Error ? err.name : 'Error';
  return {
    code: 'STORE_UNAVAILABLE',
    message: `${name}: ${err instanceof Error ? err.message : String(err)}`,
  };
}
