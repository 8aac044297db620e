/**
 * Anchor use case (docs/anchoring.md): time-stamp a log's
 * newest signed checkpoint with several independent RFC 3161 TSAs, keep each
 * verified token in the WORM archive, and record per-TSA status.
 *
 * What is stamped is the checkpoint published in the archive
 * (`logs/<logId>/checkpoint`), after its signature verifies with the log key
 * (or a retired one): never the seal state's text, which someone holding the
 * seal role could have written without publishing it (issue #11).
 *
 * Policy: k of n (`quorum` of the configured TSAs). Only the newest checkpoint
 * is anchored; older ones are covered by consistency proofs to it.
 *  - A TSA already granted at this size is not asked again — but a granted
 *    record in DynamoDB counts only when the token at its archive key
 *    verifies over this checkpoint and is the record's token. One that does
 *    not is reported (result `recordMismatch`, metric AnchorRecordMismatch:
 *    someone wrote the anchor items, or a restore brought old ones back), the
 *    token is adopted from the archive or asked for again, and the record is
 *    replaced. Each archived token is checked once per process (tokens are
 *    immutable), so an idle log costs two reads after the first run.
 *  - A TSA that fails is retried within the run (exponential backoff, full
 *    jitter, fresh nonce per attempt) for transport failures, recorded as
 *    failed with its error code, counted in the outcome and the metrics, and
 *    asked again on every later run until it grants or a newer checkpoint
 *    supersedes this one. It is never silently skipped.
 *  - Fewer than k granted → outcome `below-quorum`, `failures > 0`, metric
 *    AnchorQuorumMissed = 1.
 *
 * Commit points, per TSA, and what recovery looks like after a crash there:
 *  1. token obtained and verified — nothing stored; the next run asks again.
 *  2. TimeStampResp stored (putImmutable) — the next run finds it in the
 *     archive, re-verifies it (Timestamper.verify) and adopts it instead of
 *     asking the TSA again (a new token could never be stored under the same
 *     immutable key).
 *  3. chain stored — same as 2.
 *  4. granted recorded in DynamoDB — done; the summary is recomputed from the
 *     per-TSA items on the next run if we die before writing it.
 */
import {
  type BackoffPolicy,
  type Sleep,
  type Uniform,
  uniformFromBytes,
  withBackoff,
} from '../core/backoff.ts';
import { bytesEqual, toHex } from '../core/bytes.ts';
import { AnchorlogError } from '../core/errors.ts';
import { sha256 } from '../core/hash.ts';
import { isValidTsaName, TSA_NAME_RULE } from '../core/names.ts';
import { verifierFromSpki } from '../core/note/verifiers.ts';
import { checkpointFromNote } from '../core/note/verify.ts';
import { encodePemCertificates } from '../core/pem.ts';
import { TimestampError } from '../core/rfc3161/errors.ts';
import {
  type AnchorFailure,
  type AnchorStore,
  anchorPrefix,
  type TsaAnchorRecord,
} from '../ports/anchor-store.ts';
import { ArchiveError, type ArchiveStore } from '../ports/archive-store.ts';
import { type Clock, systemSleep } from '../ports/clock.ts';
import type { MetricDatum, MetricsSink } from '../ports/metrics.ts';
import { type Timestamper, TsaTransportError, type VerifiedAnchorToken } from '../ports/timestamper.ts';
import { AppError } from './errors.ts';
import { fromPortError } from './port-errors.ts';

export interface RetryPolicy {
  /** Attempts per TSA per run, including the first. Default 3. */
  readonly attempts: number;
  /** First backoff ceiling in ms; doubles per retry. Default 500. */
  readonly baseDelayMs: number;
  /** Backoff ceiling cap in ms. Default 8000. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 500, maxDelayMs: 8000 };

export interface AnchorServiceOptions {
  /** The record of truth: the published checkpoint is read from it, tokens go into it. */
  readonly archive: ArchiveStore;
  /** Checkpoint origin = `${originPrefix}/${logId}` (as the sealer's). */
  readonly originPrefix: string;
  /**
   * SPKI (DER) of the log signing key and of any retired ones: the archived
   * checkpoint must verify with one of them before it is time-stamped.
   */
  readonly logPublicKeys: readonly Uint8Array[];
  readonly anchors: AnchorStore;
  /** The configured TSAs, n of them; names unique and key-safe. */
  readonly timestampers: readonly Timestamper[];
  /** k: how many TSAs must grant for a checkpoint to count as anchored (1 ≤ k ≤ n). */
  readonly quorum: number;
  readonly clock: Clock;
  /** Randomness source: n cryptographically random bytes. Used for nonces and jitter. */
  readonly random: (n: number) => Uint8Array;
  readonly metrics: MetricsSink;
  readonly retry?: Partial<RetryPolicy>;
  /** Injected for tests; default a real wait. */
  readonly sleep?: Sleep;
}

export type AnchorRunStatus =
  /** The log has no signed checkpoint yet: nothing to do. */
  | 'no-checkpoint'
  /** Every TSA had already granted this checkpoint: no TSA call, no write. */
  | 'already-anchored'
  /** At least k TSAs have granted this checkpoint (some may still be failing; see `failures`). */
  | 'anchored'
  /** Fewer than k TSAs have granted: the run failed and the next run retries. */
  | 'below-quorum';

export interface TsaRunResult {
  readonly tsa: string;
  /** `granted` this run, `already-granted` earlier, `adopted` from the archive after a crash, or `failed`. */
  readonly result: 'granted' | 'already-granted' | 'adopted' | 'failed';
  /**
   * Set when DynamoDB held a granted record for this TSA and checkpoint that
   * the archive does not back, so it was not trusted: no token at its archive
   * key, a token that does not verify over this checkpoint, or one that is
   * not the record's.
   */
  readonly recordMismatch?: RecordMismatch;
  /** Requests sent this run. */
  readonly attempts: number;
  readonly genTime?: string;
  readonly failure?: AnchorFailure;
}

export interface AnchorOutcome {
  readonly logId: string;
  readonly status: AnchorRunStatus;
  /** Checkpoint size anchored (0 with `no-checkpoint`). */
  readonly size: number;
  readonly quorum: number;
  readonly tsaCount: number;
  /** TSAs holding a verified token for this checkpoint after the run. */
  readonly granted: number;
  /** TSAs without a token for this checkpoint after the run: each is retried next run. */
  readonly failures: number;
  /** TSA requests sent this run (0 when idle). */
  readonly tsaCalls: number;
  readonly tsas: readonly TsaRunResult[];
}

export type RecordMismatch = 'NO_ARCHIVED_TOKEN' | 'ARCHIVED_TOKEN_INVALID' | 'TOKEN_DIFFERS';

/** Archive keys of one TSA's token (the TimeStampResp as received) and its chain (signer … root). */
export function anchorKeys(logId: string, size: number, tsa: string) {
  const p = anchorPrefix(logId, size);
  return { response: `${p}${tsa}.tsr`, chain: `${p}${tsa}.chain.pem` };
}

/** Archive key of the signed checkpoint text the tokens at `size` stamp (`openssl ts -verify -data`). */
export function anchoredCheckpointKey(logId: string, size: number): string {
  return `${anchorPrefix(logId, size)}checkpoint`;
}

function failureOf(err: unknown): AnchorFailure {
  if (err instanceof TsaTransportError || err instanceof TimestampError) {
    return { code: err.code, message: err.message };
  }
  if (err instanceof ArchiveError) return { code: `ARCHIVE_${err.code}`, message: err.message };
  if (err instanceof AnchorlogError) return { code: err.code, message: err.message };
  const name = err instanceof Error ? err.name : 'Error';
  return {
    code: 'STORE_UNAVAILABLE',
    message: `${name}: ${err instanceof Error ? err.message : String(err)}`,
  };
}

export class AnchorService {
  readonly #o: AnchorServiceOptions;
  readonly #retry: BackoffPolicy;
  readonly #sleep: Sleep;
  /** Jitter, drawn from the injected randomness. */
  readonly #uniform: Uniform;
  /**
   * Per log and TSA, the last (size, checkpoint digest, record token) whose
   * archived token this process verified. Archive tokens are write-once, so
   * the fact stays true; bounded by logs × TSAs.
   */
  readonly #backed = new Map<string, string>();

  constructor(options: AnchorServiceOptions) {
    const names = options.timestampers.map((t) => t.name);
    for (const name of names) {
      if (!isValidTsaName(name))
        throw new AppError('INTERNAL', `TSA name ${JSON.stringify(name)}: ${TSA_NAME_RULE}`);
    }
    if (new Set(names).size !== names.length) throw new AppError('INTERNAL', 'TSA names must be unique');
    const n = names.length;
    if (!Number.isInteger(options.quorum) || options.quorum < 1 || options.quorum > n) {
      throw new AppError(
        'INTERNAL',
        `anchor quorum ${options.quorum} must be within 1..${n} (configured TSAs)`,
      );
    }
    if (options.logPublicKeys.length === 0)
      throw new AppError('INTERNAL', 'the anchor job needs the log public key to verify checkpoints');
    this.#o = options;
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#retry = { baseMs: retry.baseDelayMs, capMs: retry.maxDelayMs, maxRetries: retry.attempts - 1 };
    this.#sleep = options.sleep ?? systemSleep;
    this.#uniform = uniformFromBytes(options.random);
  }

  /**
   * Anchors the newest published checkpoint of `logId`. Rejects with an
   * AppError: THROTTLED/UNAVAILABLE when a store fails (retryable), INTEGRITY
   * when the archived checkpoint does not verify with the log key (nothing is
   * stamped) or a different checkpoint was anchored at its size.
   */
  async anchorLog(logId: string): Promise<AnchorOutcome> {
    try {
      return await this.#anchorLog(logId);
    } catch (err) {
      throw fromPortError(err, `anchor of log ${logId}`) ?? err;
    }
  }

  async #anchorLog(logId: string): Promise<AnchorOutcome> {
    const o = this.#o;
    const tsaCount = o.timestampers.length;
    const published = await this.#published(logId);
    if (published === undefined) {
      return this.#finish({
        logId,
        status: 'no-checkpoint',
        size: 0,
        quorum: o.quorum,
        tsaCount,
        granted: 0,
        failures: 0,
        tsaCalls: 0,
        tsas: [],
      });
    }
    const { checkpoint, size } = published;
    const data = new TextEncoder().encode(checkpoint);
    // The imprint is SHA-256 over the full signed checkpoint text
    // (docs/anchoring.md §What is requested and what is kept).
    const digest = sha256(data);

    const before = await o.anchors.read(logId, size);
    // A legacy record (stored before issue #11 where other roles could write)
    // is not trusted here: its TSA goes through #anchorWith again, which
    // adopts the token from the archive (the record of truth) and records it
    // anew, or asks the TSA if the archive has none. A current granted record
    // counts only if the archive backs it; one that is not backed is replaced.
    const grantedBefore = new Set<string>();
    const stale = new Map<string, { token: Uint8Array; why: RecordMismatch }>();
    for (const t of o.timestampers) {
      const rec = before.tsas.find((r) => r.tsa === t.name && r.status === 'granted' && r.legacy !== true);
      if (!rec?.granted) continue;
      const why = await this.#backedByArchive(t, logId, size, digest, rec.granted.token);
      if (why === undefined) grantedBefore.add(t.name);
      else stale.set(t.name, { token: rec.granted.token, why });
    }
    const pending = o.timestampers.filter((t) => !grantedBefore.has(t.name));
    if (pending.length === 0) {
      // Idle: everything was granted on an earlier run. No TSA call, and no
      // write unless a run died between its last token and its summary.
      const sm = before.summary;
      if (
        !sm ||
        sm.legacy === true ||
        sm.granted !== tsaCount ||
        sm.tsaCount !== tsaCount ||
        sm.quorum !== o.quorum
      ) {
        await o.anchors.putSummary({
          logId,
          size,
          checkpoint,
          quorum: o.quorum,
          tsaCount,
          granted: tsaCount,
          quorumMet: true,
          updatedAt: o.clock.now(),
        });
      }
      return this.#finish({
        logId,
        status: 'already-anchored',
        size,
        quorum: o.quorum,
        tsaCount,
        granted: tsaCount,
        failures: 0,
        tsaCalls: 0,
        tsas: o.timestampers.map((t) => ({ tsa: t.name, result: 'already-granted', attempts: 0 })),
      });
    }

    // The stamped bytes themselves, next to the tokens, so `openssl ts -verify
    // -data` works from the archive alone. Deterministic: a rerun rewrites the same bytes.
    try {
      await o.archive.putImmutable(anchoredCheckpointKey(logId, size), data);
    } catch (err) {
      if (err instanceof ArchiveError && err.code === 'IMMUTABLE_CONFLICT') {
        // Two different signed checkpoints of one size: a fork. Stop, alarm.
        throw new AppError('INTEGRITY', `log ${logId}: a different checkpoint was anchored at size ${size}`, {
          cause: err,
        });
      }
      throw err;
    }

    const results = await Promise.all(
      o.timestampers.map(
        (t): Promise<TsaRunResult> =>
          grantedBefore.has(t.name)
            ? Promise.resolve({ tsa: t.name, result: 'already-granted', attempts: 0 })
            : this.#anchorWith(t, logId, size, digest, stale.get(t.name)),
      ),
    );
    const granted = results.filter((r) => r.result !== 'failed').length;
    const quorumMet = granted >= o.quorum;
    await o.anchors.putSummary({
      logId,
      size,
      checkpoint,
      quorum: o.quorum,
      tsaCount,
      granted,
      quorumMet,
      updatedAt: o.clock.now(),
    });
    return this.#finish({
      logId,
      status: quorumMet ? 'anchored' : 'below-quorum',
      size,
      quorum: o.quorum,
      tsaCount,
      granted,
      failures: tsaCount - granted,
      tsaCalls: results.reduce((a, r) => a + r.attempts, 0),
      tsas: results,
    });
  }

  /**
   * The archive's current checkpoint and its size, once its signature by the
   * log key (or a retired one) for this log's origin verifies; undefined when
   * the log has never been published.
   */
  async #published(logId: string): Promise<{ checkpoint: string; size: number } | undefined> {
    const got = await this.#o.archive.getCheckpoint(logId);
    if (got === undefined) return undefined;
    const origin = `${this.#o.originPrefix}/${logId}`;
    try {
      const verifiers = this.#o.logPublicKeys.map((spki) => verifierFromSpki(origin, spki));
      return { checkpoint: got.text, size: checkpointFromNote(got.text, origin, verifiers).size };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new AppError(
        'INTEGRITY',
        `log ${logId}: the archived checkpoint does not verify with the log key (${why}); nothing is time-stamped`,
        { cause: err },
      );
    }
  }

  /**
   * Undefined when the token at the TSA's archive key for this size verifies
   * over `digest` and is `recordToken`; otherwise why not. Only store read
   * failures reject.
   */
  async #backedByArchive(
    t: Timestamper,
    logId: string,
    size: number,
    digest: Uint8Array,
    recordToken: Uint8Array,
  ): Promise<RecordMismatch | undefined> {
    const cacheKey = `${logId}\0${t.name}`;
    const fact = `${size}:${toHex(digest)}:${toHex(sha256(recordToken))}`;
    if (this.#backed.get(cacheKey) === fact) return undefined;
    const stored = await this.#o.archive.get(anchorKeys(logId, size, t.name).response);
    if (stored === undefined) return 'NO_ARCHIVED_TOKEN';
    let token: VerifiedAnchorToken;
    try {
      token = await t.verify(stored, digest);
    } catch (err) {
      if (err instanceof TimestampError) return 'ARCHIVED_TOKEN_INVALID';
      throw err;
    }
    if (!bytesEqual(token.token, recordToken)) return 'TOKEN_DIFFERS';
    this.#backed.set(cacheKey, fact);
    return undefined;
  }

  /**
   * One TSA: adopt an archived token, or request (with retries), store,
   * record — replacing a granted record the archive did not back (`stale`).
   * Never rejects.
   */
  async #anchorWith(
    t: Timestamper,
    logId: string,
    size: number,
    digest: Uint8Array,
    stale?: { token: Uint8Array; why: RecordMismatch },
  ): Promise<TsaRunResult> {
    const o = this.#o;
    const keys = anchorKeys(logId, size, t.name);
    const mismatch = stale ? { recordMismatch: stale.why } : {};
    let attempts = 0;
    try {
      // Recovery (commit points 2–3): a token stored by a run that died before recording it.
      const stored = await o.archive.get(keys.response);
      let token: VerifiedAnchorToken;
      let adopted = false;
      if (stored !== undefined) {
        token = await t.verify(stored, digest);
        adopted = true;
      } else {
        const got = await this.#request(t, digest);
        attempts = got.attempts;
        if ('error' in got) throw got.error;
        token = got.token;
        // Commit point 2: the token, exactly as the TSA sent it, under Object Lock.
        await o.archive.putImmutable(keys.response, token.response);
      }
      const chainPem = encodePemCertificates(token.chain);
      // Commit point 3.
      await o.archive.putImmutable(keys.chain, new TextEncoder().encode(chainPem));
      // Commit point 4. A stale record (granted, not backed by the archive)
      // is replaced, conditional on the exact token we found not backed.
      const record: TsaAnchorRecord & { status: 'granted' } = {
        logId,
        size,
        tsa: t.name,
        status: 'granted',
        attempts,
        updatedAt: o.clock.now(),
        granted: {
          genTime: token.genTime,
          serialNumber: token.serialNumber,
          policy: token.policy,
          signerSubject: token.signerSubject,
          token: token.token,
          chainPem,
          responseKey: keys.response,
          chainKey: keys.chain,
        },
      };
      if (!(await o.anchors.putGranted(record)) && stale) await o.anchors.replaceGranted(record, stale.token);
      await o.anchors.markAnchored(logId, size);
      return {
        tsa: t.name,
        result: adopted ? 'adopted' : 'granted',
        attempts,
        genTime: token.genTime,
        ...mismatch,
      };
    } catch (err) {
      const failure = failureOf(err);
      try {
        await o.anchors.putFailed({
          logId,
          size,
          tsa: t.name,
          status: 'failed',
          attempts,
          updatedAt: o.clock.now(),
          failure,
        });
      } catch {
        // The failure is still reported in the outcome and the metrics; the
        // status item catches up on the next run.
      }
      return { tsa: t.name, result: 'failed', attempts, failure, ...mismatch };
    }
  }

  /** Requests with retries on transient transport failures; a fresh nonce per attempt. */
  async #request(
    t: Timestamper,
    digest: Uint8Array,
  ): Promise<{ token: VerifiedAnchorToken; attempts: number } | { error: unknown; attempts: number }> {
    let attempts = 0;
    try {
      const token = await withBackoff(
        (attempt) => {
          attempts = attempt;
          return t.timestamp({ digest, nonce: this.#o.random(8) });
        },
        {
          policy: this.#retry,
          retryable: (err) => err instanceof TsaTransportError && err.retryable,
          sleep: this.#sleep,
          random: this.#uniform,
        },
      );
      return { token, attempts };
    } catch (error) {
      return { error, attempts };
    }
  }

  #finish(outcome: AnchorOutcome): AnchorOutcome {
    const now = this.#o.clock.now();
    const metrics: MetricDatum[] = [
      { name: 'AnchorTsaGranted', value: outcome.granted, unit: 'Count' },
      { name: 'AnchorTsaFailures', value: outcome.failures, unit: 'Count' },
      { name: 'AnchorTsaCalls', value: outcome.tsaCalls, unit: 'Count' },
      { name: 'AnchorQuorumMissed', value: outcome.status === 'below-quorum' ? 1 : 0, unit: 'Count' },
    ];
    this.#o.metrics.emit({
      dimensions: { LogId: outcome.logId },
      metrics,
      timestampMs: now,
      properties: { status: outcome.status, size: outcome.size, quorum: outcome.quorum },
    });
    // Alarmed (docs/operations.md): the anchor records said granted and the archive disagreed.
    for (const r of outcome.tsas) {
      if (r.recordMismatch === undefined) continue;
      this.#o.metrics.emit({
        dimensions: { LogId: outcome.logId },
        metrics: [{ name: 'AnchorRecordMismatch', value: 1, unit: 'Count' }],
        timestampMs: now,
        properties: { tsa: r.tsa, size: outcome.size, reason: r.recordMismatch, result: r.result },
      });
    }
    // Per TSA, so an alarm names the failing authority.
    for (const r of outcome.tsas) {
      if (r.result !== 'failed') continue;
      this.#o.metrics.emit({
        dimensions: { Tsa: r.tsa },
        metrics: [{ name: 'AnchorTsaFailure', value: 1, unit: 'Count' }],
        timestampMs: now,
        properties: {
          logId: outcome.logId,
          size: outcome.size,
          code: r.failure?.code ?? 'UNKNOWN',
          message: r.failure?.message ?? '',
        },
      });
    }
    return outcome;
  }
}
