/**
 * The log registry: the one piece of code that writes a log's metadata and the
 * registry (src/adapters/aws/dynamo-log-store.ts: `M#<logId>` META and
 * `LOGS`). Called by LogAdminService (src/app/log-admin.ts, which records
 * `log.create` in the `system` log first) and by the admin audit sink for the
 * `system` log itself — both on the admin path. Ingest only reads whether a log exists, so in the deployment
 * the ingest role needs no write access to either item family (issue #11;
 * docs/architecture.md lists the grants).
 */
import { isValidLogId, LOG_ID_RULE } from '../core/names.ts';
import { formatReceivedAt } from '../core/record.ts';
import type { Clock } from '../ports/clock.ts';
import type { LogStore } from '../ports/log-store.ts';
import { AppError } from './errors.ts';
import { fromPortError } from './port-errors.ts';

export interface LogRegistryDeps {
  readonly store: Pick<LogStore, 'createLog'>;
  readonly clock: Clock;
}

export class LogRegistry {
  readonly #store: Pick<LogStore, 'createLog'>;
  readonly #clock: Clock;

  constructor(deps: LogRegistryDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
  }

  /**
   * Creates `logId` if it does not exist; idempotent (`created: false` the
   * second time). BAD_REQUEST for a malformed id; THROTTLED/UNAVAILABLE when
   * the store pushes back (a retry is safe).
   */
  async createLog(logId: string): Promise<{ created: boolean }> {
    if (!isValidLogId(logId)) throw new AppError('BAD_REQUEST', LOG_ID_RULE);
    try {
      return await this.#store.createLog(logId, formatReceivedAt(this.#clock.now()));
    } catch (err) {
      throw fromPortError(err, `creating log ${logId}`) ?? err;
    }
  }
}
