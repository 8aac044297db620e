/**
 * Creating logs: the one use case that writes a log's metadata and the log
 * registry (src/adapters/aws/dynamo-log-store.ts: `M#<logId>` META and
 * `LOGS`). Called by the admin API (`PUT /v1/admin/logs/{logId}`), by the
 * admin audit sink for the `system` log, and by the local stack — all of them
 * admin paths. Ingest only reads whether a log exists, so in the deployment
 * the ingest role needs no write access to either item family (issue #11;
 * docs/architecture.md lists the grants).
 */
import { formatReceivedAt, isValidLogId } from '../core/record.ts';
import type { Clock } from '../ports/clock.ts';
import { type LogStore, LogStoreError } from '../ports/log-store.ts';
import { AppError } from './errors.ts';

export interface LogAdminDeps {
  readonly store: Pick<LogStore, 'createLog'>;
  readonly clock: Clock;
}

export class LogAdminService {
  readonly #store: Pick<LogStore, 'createLog'>;
  readonly #clock: Clock;

  constructor(deps: LogAdminDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
  }

  /**
   * Creates `logId` if it does not exist; idempotent (`created: false` the
   * second time). BAD_REQUEST for a malformed id; THROTTLED/UNAVAILABLE when
   * the store pushes back (a retry is safe).
   */
  async createLog(logId: string): Promise<{ created: boolean }> {
    if (!isValidLogId(logId)) throw new AppError('BAD_REQUEST', 'logId must match [a-z0-9][a-z0-9-]{0,62}');
    try {
      return await this.#store.createLog(logId, formatReceivedAt(this.#clock.now()));
    } catch (err) {
      if (!(err instanceof LogStoreError)) throw err;
      if (err.code === 'INTEGRITY') throw new AppError('INTEGRITY', err.message, { cause: err });
      throw new AppError(err.code, `creating log ${logId}: ${err.message}`, {
        retryAfterSeconds: 1,
        cause: err,
      });
    }
  }
}
