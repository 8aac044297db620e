/**
 * One log's sealing health, for operators (`GET /v1/logs/{logId}/health`,
 * docs/api.md; the console's logs page, docs/console.md): the sealed size and
 * when it was sealed, the seal lag — the age of the oldest record not yet
 * under a checkpoint, the number the SealLagSeconds metric and the seal-lag
 * health event report (src/app/seal-lag.ts, docs/operations.md) — and, when
 * sealing has stopped, the halt code and message (src/app/seal.ts).
 *
 * Reads only, with the same two consistent reads as the seal-lag job (the
 * seal state, then the batch after the sealed one), so the page and the
 * alarm never disagree about what "lag" means. A log that was never created
 * is NOT_FOUND; a created log with nothing sealed yet is size 0.
 */
import type { Clock } from '../ports/clock.ts';
import type { LogStore } from '../ports/log-store.ts';
import type { SealStateStore } from '../ports/seal-state.ts';
import { AppError } from './errors.ts';
import { fromPortError, RETRY_AFTER_SECONDS } from './port-errors.ts';
import { haltCodeOf, type SealHaltCode } from './seal.ts';

export interface LogHealth {
  readonly logId: string;
  /** When these reads were made (ISO 8601, the injected clock). */
  readonly observedAt: string;
  /** Tree size under the newest checkpoint the sealer wrote (0: nothing sealed yet). */
  readonly sealedSize: number;
  /** When that checkpoint was sealed; null before the first seal. */
  readonly sealedAt: string | null;
  /** Seconds since sealedAt; null before the first seal. */
  readonly checkpointAgeSeconds: number | null;
  /** Whether the sealer's newest checkpoint is in the archive yet (false: a publish is pending). */
  readonly published: boolean;
  readonly sealLag: {
    /** Age of the oldest record not under a checkpoint, whole seconds; 0 when everything is sealed. */
    readonly seconds: number;
    /** The health threshold (ANCHORLOG_HEALTH_SEAL_LAG_SECONDS): at or above it the seal job records seal.lag. */
    readonly thresholdSeconds: number;
    readonly over: boolean;
    /** The oldest unsealed batch, if any. */
    readonly oldestUnsealed: { readonly seq: number; readonly receivedAt: string } | null;
  };
  /** Set when sealing is halted and stays so until an operator acts (docs/operations.md). */
  readonly halted: { readonly code: SealHaltCode; readonly message: string } | null;
}

export interface LogHealthDeps {
  readonly logs: Pick<LogStore, 'logExists' | 'readBatchHeader'>;
  readonly state: Pick<SealStateStore, 'read'>;
  readonly clock: Clock;
  readonly lagThresholdSeconds: number;
}

function toAppError(logId: string, err: unknown): AppError {
  const mapped = fromPortError(err, `health of log ${logId}`);
  if (mapped) return mapped;
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new AppError('UNAVAILABLE', `health of log ${logId} could not be read (${what}); retry`, {
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    cause: err,
  });
}

export async function readLogHealth(deps: LogHealthDeps, logId: string): Promise<LogHealth> {
  const now = deps.clock.now();
  try {
    if (!(await deps.logs.logExists(logId))) throw new AppError('NOT_FOUND', `log ${logId} does not exist`);
    const state = await deps.state.read(logId);
    // The batch after the last sealed one: the oldest not under a checkpoint (as emitSealLag reads it).
    const next = await deps.logs.readBatchHeader(logId, (state?.seq ?? 0) + 1);
    const lagSeconds = next ? Math.floor(Math.max(0, now - Date.parse(next.receivedAt)) / 1000) : 0;
    const sealed = state !== undefined && state.version > 0;
    return {
      logId,
      observedAt: new Date(now).toISOString(),
      sealedSize: state?.size ?? 0,
      sealedAt: sealed ? new Date(state.sealedAt).toISOString() : null,
      checkpointAgeSeconds: sealed ? Math.floor(Math.max(0, now - state.sealedAt) / 1000) : null,
      published: !sealed || state.publishedVersion >= state.version,
      sealLag: {
        seconds: lagSeconds,
        thresholdSeconds: deps.lagThresholdSeconds,
        over: next !== undefined && lagSeconds >= deps.lagThresholdSeconds,
        oldestUnsealed: next ? { seq: next.seq, receivedAt: next.receivedAt } : null,
      },
      halted: state?.halted !== undefined ? { code: haltCodeOf(state.halted), message: state.halted } : null,
    };
  } catch (err) {
    throw toAppError(logId, err);
  }
}
