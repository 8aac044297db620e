/**
 * Rekor use case (docs/anchoring.md §Rekor): submit each log's newest published checkpoint to a
 * Rekor v2 transparency log as a `hashedrekord` v0.0.2 — digest SHA-256 of the whole signed
 * checkpoint file (the RFC 3161 imprint), signed with the deployment's anchor key (ECDSA P-256,
 * a NoteSigner: KMS in AWS) — verify the returned TransparencyLogEntry with the core
 * (src/core/rekor: body binds this digest and our key, signature, inclusion proof, checkpoint
 * signed by a pinned Rekor key) and keep it, exactly as received, in the Object Lock archive at
 * `logs/<logId>/anchors/<size>/<party>.rekor.json` next to the TSA tokens and cosignatures.
 *
 * Nothing unverified is stored as an attestation: a reply that is garbage, an error status, a
 * timeout, an entry for another digest or key, a broken proof or an untrusted checkpoint is a
 * failure with a stable code (the transport's RekorCallError code or the core's RekorError
 * code), recorded in the anchor store's per-party status for this size (as a TSA's failure,
 * under the Rekor party's name), reported in the outcome and the metrics, and retried on the
 * next run. Transport failures marked retryable are retried within the run (backoff, jitter).
 *
 * Commit points: (1) entry verified — nothing stored, the next run submits again (a second
 * entry in Rekor for the same digest is harmless: both are valid evidence); (2) entry stored
 * (putImmutable) — done; the next run finds it, verifies it again and makes no call.
 */
import {
  type BackoffPolicy,
  type Sleep,
  type Uniform,
  uniformFromBytes,
  withBackoff,
} from '../core/backoff.ts';
import { AnchorlogError } from '../core/errors.ts';
import { sha256 } from '../core/hash.ts';
import { isValidTsaName, TSA_NAME_RULE } from '../core/names.ts';
import { isEd25519Spki } from '../core/note/der.ts';
import type { NoteVerifier } from '../core/note/verifiers.ts';
import { verifierFromSpki } from '../core/note/verifiers.ts';
import { checkpointFromNote } from '../core/note/verify.ts';
import { parseRekorEntry, RekorError, verifyRekorEntry } from '../core/rekor/index.ts';
import { type AnchorFailure, type AnchorStore, anchorPrefix } from '../ports/anchor-store.ts';
import { ArchiveError, type ArchiveStore } from '../ports/archive-store.ts';
import { type Clock, systemSleep } from '../ports/clock.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import { RekorCallError, type RekorLog } from '../ports/rekor.ts';
import { type NoteSigner, SignerError } from '../ports/signer.ts';
import { DEFAULT_RETRY, type RetryPolicy } from './anchor.ts';
import { AppError } from './errors.ts';
import { fromPortError } from './port-errors.ts';

export interface RekorServiceOptions {
  readonly archive: ArchiveStore;
  /** Checkpoint origin = `${originPrefix}/${logId}`. */
  readonly originPrefix: string;
  /** SPKI of the log key and any retired ones: the archived checkpoint must verify first. */
  readonly logPublicKeys: readonly Uint8Array[];
  readonly rekor: RekorLog;
  /** The pinned Rekor log keys: an entry counts only under a checkpoint one of them signed. */
  readonly rekorKeys: readonly NoteVerifier[];
  /** The anchor key (ECDSA P-256): signs SHA-256 of the checkpoint file. Never the log key. */
  readonly anchorSigner: NoteSigner;
  /** Failures are recorded here, per party and size (`putFailed`). */
  readonly anchors: Pick<AnchorStore, 'putFailed'>;
  readonly clock: Clock;
  readonly random: (n: number) => Uint8Array;
  readonly metrics: MetricsSink;
  readonly retry?: Partial<RetryPolicy>;
  readonly sleep?: Sleep;
}

export interface RekorOutcome {
  readonly logId: string;
  readonly party: string;
  /** `no-checkpoint`, `submitted` this run, `already-submitted` (archived and verified), or `failed`. */
  readonly result: 'no-checkpoint' | 'submitted' | 'already-submitted' | 'failed';
  readonly size: number;
  /** CreateEntry requests sent this run. */
  readonly attempts: number;
  /** The entry's index in the Rekor log, when there is one. */
  readonly logIndex?: number;
  readonly failure?: AnchorFailure;
}

/** Archive key of the TransparencyLogEntry of `party` for checkpoint `size`. */
export function rekorEntryKey(logId: string, size: number, party: string): string {
  return `${anchorPrefix(logId, size)}${party}.rekor.json`;
}

function failureOf(err: unknown): AnchorFailure {
  if (err instanceof RekorCallError || err instanceof RekorError || err instanceof SignerError)
    return { code: err.code, message: err.message };
  if (err instanceof ArchiveError) return { code: `ARCHIVE_${err.code}`, message: err.message };
  if (err instanceof AnchorlogError) return { code: err.code, message: err.message };
  const name = err instanceof Error ? err.name : 'Error';
  return {
    code: 'STORE_UNAVAILABLE',
    message: `${name}: ${err instanceof Error ? err.message : String(err)}`,
  };
}

export class RekorService {
  readonly #o: RekorServiceOptions;
  readonly #retry: BackoffPolicy;
  readonly #sleep: Sleep;
  readonly #uniform: Uniform;

  constructor(options: RekorServiceOptions) {
    if (!isValidTsaName(options.rekor.name))
      throw new AppError('INTERNAL', `Rekor name ${JSON.stringify(options.rekor.name)}: ${TSA_NAME_RULE}`);
    if (options.rekorKeys.length === 0)
      throw new AppError('INTERNAL', 'Rekor needs at least one pinned Rekor log key');
    if (isEd25519Spki(options.anchorSigner.publicKeySpki))
      throw new AppError(
        'INTERNAL',
        'the Rekor anchor key must be ECDSA P-256 (hashedrekord signs a digest)',
      );
    if (options.logPublicKeys.length === 0)
      throw new AppError('INTERNAL', 'the Rekor submitter needs the log public key to verify checkpoints');
    this.#o = options;
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#retry = { baseMs: retry.baseDelayMs, capMs: retry.maxDelayMs, maxRetries: retry.attempts - 1 };
    this.#sleep = options.sleep ?? systemSleep;
    this.#uniform = uniformFromBytes(options.random);
  }

  /** Submits (or confirms) the newest published checkpoint of `logId`. Rejects only for store failures and INTEGRITY. */
  async submitLog(logId: string): Promise<RekorOutcome> {
    try {
      return this.#finish(await this.#submitLog(logId));
    } catch (err) {
      throw fromPortError(err, `Rekor submission of log ${logId}`) ?? err;
    }
  }

  async #submitLog(logId: string): Promise<RekorOutcome> {
    const o = this.#o;
    const party = o.rekor.name;
    const got = await o.archive.getCheckpoint(logId);
    if (got === undefined) return { logId, party, result: 'no-checkpoint', size: 0, attempts: 0 };
    const origin = `${o.originPrefix}/${logId}`;
    let size: number;
    try {
      const verifiers = o.logPublicKeys.map((spki) => verifierFromSpki(origin, spki));
      size = checkpointFromNote(got.text, origin, verifiers).size;
    } catch (err) {
      throw new AppError(
        'INTEGRITY',
        `log ${logId}: the archived checkpoint does not verify with the log key; nothing is submitted to Rekor`,
        { cause: err },
      );
    }
    const data = new TextEncoder().encode(got.text);
    const digest = sha256(data);
    const key = rekorEntryKey(logId, size, party);
    const trust = { logKeys: o.rekorKeys, anchorKeys: [o.anchorSigner.publicKeySpki] };
    const verify = (bytes: Uint8Array) => verifyRekorEntry(parseRekorEntry(bytes), digest, trust);

    const stored = await o.archive.get(key);
    if (stored !== undefined) {
      // Write-once evidence: it must still verify (pinned keys may have changed since).
      try {
        return {
          logId,
          party,
          result: 'already-submitted',
          size,
          attempts: 0,
          logIndex: verify(stored).logIndex,
        };
      } catch (err) {
        if (!(err instanceof RekorError)) throw err;
        return this.#failed(logId, size, 0, err);
      }
    }

    let attempts = 0;
    try {
      const signature = await o.anchorSigner.sign(data);
      const request = { digest, signature, spki: o.anchorSigner.publicKeySpki };
      const entry = await withBackoff(
        (attempt) => {
          attempts = attempt;
          return o.rekor.createEntry(request);
        },
        {
          policy: this.#retry,
          retryable: (err) => err instanceof RekorCallError && err.retryable,
          sleep: this.#sleep,
          random: this.#uniform,
        },
      );
      // Verified before anything is stored: a bad reply never becomes an attestation.
      const v = verify(entry);
      try {
        await o.archive.putImmutable(key, entry);
      } catch (err) {
        // A concurrent run stored its entry first: that one is the attestation if it verifies.
        if (!(err instanceof ArchiveError && err.code === 'IMMUTABLE_CONFLICT')) throw err;
        const theirs = await o.archive.get(key);
        if (theirs === undefined) throw err;
        return {
          logId,
          party,
          result: 'already-submitted',
          size,
          attempts,
          logIndex: verify(theirs).logIndex,
        };
      }
      return { logId, party, result: 'submitted', size, attempts, logIndex: v.logIndex };
    } catch (err) {
      if (err instanceof ArchiveError && err.code !== 'IMMUTABLE_CONFLICT') throw err;
      return this.#failed(logId, size, attempts, err);
    }
  }

  async #failed(logId: string, size: number, attempts: number, err: unknown): Promise<RekorOutcome> {
    const o = this.#o;
    const failure = failureOf(err);
    try {
      await o.anchors.putFailed({
        logId,
        size,
        tsa: o.rekor.name,
        status: 'failed',
        attempts,
        updatedAt: o.clock.now(),
        failure,
      });
    } catch {
      // Still in the outcome and the metrics; the status item catches up on the next run.
    }
    return { logId, party: o.rekor.name, result: 'failed', size, attempts, failure };
  }

  #finish(outcome: RekorOutcome): RekorOutcome {
    if (outcome.result === 'no-checkpoint') return outcome;
    this.#o.metrics.emit({
      dimensions: { Rekor: outcome.party },
      metrics: [
        { name: 'RekorSubmitted', value: outcome.result === 'submitted' ? 1 : 0, unit: 'Count' },
        { name: 'RekorFailure', value: outcome.result === 'failed' ? 1 : 0, unit: 'Count' },
      ],
      timestampMs: this.#o.clock.now(),
      properties: {
        logId: outcome.logId,
        size: outcome.size,
        result: outcome.result,
        ...(outcome.failure ? { code: outcome.failure.code, message: outcome.failure.message } : {}),
      },
    });
    return outcome;
  }
}
