/**
 * Log administration (`PUT /v1/admin/logs/{logId}`). Creating a log is an
 * admin change, so it is audited like a principal change (SOC 2 CC8.1; see
 * src/app/principals.ts): the `log.create` event is durable in the `system`
 * log BEFORE the log exists, so no log exists without its record.
 *
 * There is no STAGE step: the event's id, `log/<logId>/create`, is fixed per
 * log, so it alone makes the two steps idempotent. Crash analysis:
 *   - before or during RECORD: nothing exists; the caller got an error and
 *     retries;
 *   - after RECORD, before the log is created: the log says "created" but
 *     the log is absent. A retry finds the record (its id conflicts with the
 *     retry's event, whose time differs), accepts it as this log's record and
 *     creates the log — still exactly one record. Without a retry the record
 *     names a log that was never created: an over-report, never an
 *     unrecorded effect.
 * Logs that already exist are left alone and nothing is recorded (logs
 * created before this audit existed stay without a record).
 */

import { isValidLogId, LOG_ID_RULE } from '../core/names.ts';
import { hasScope, type Principal, SYSTEM_LOG_ID } from '../core/principal.ts';
import type { Clock } from '../ports/clock.ts';
import type { LogStore } from '../ports/log-store.ts';
import { AppError } from './errors.ts';
import type { LogRegistry } from './log-registry.ts';
import { type AdminAuditEvent, type AdminAuditLog, type AdminAuditSink, actorOf } from './principals.ts';

export interface LogAdminDeps {
  registry: Pick<LogRegistry, 'createLog'>;
  logs: Pick<LogStore, 'logExists'>;
  audit: AdminAuditSink;
  auditLog: AdminAuditLog;
  clock: Clock;
}

export class LogAdminService {
  constructor(private readonly deps: LogAdminDeps) {}

  /** Creates `logId` (idempotent; `created` says whether this call created it). Needs `admin` on `*`. */
  async createLog(
    actor: Principal,
    logId: string,
    opts: { requestId?: string } = {},
  ): Promise<{ created: boolean }> {
    if (!hasScope(actor, '*', 'admin')) {
      throw new AppError('FORBIDDEN', `principal ${actor.id} lacks scope admin on log *`);
    }
    if (!isValidLogId(logId)) throw new AppError('BAD_REQUEST', LOG_ID_RULE);
    // The system log is created by its first record (the audit sink), never recorded in itself.
    if (logId === SYSTEM_LOG_ID || (await this.deps.logs.logExists(logId))) {
      return this.deps.registry.createLog(logId);
    }
    const event: AdminAuditEvent = {
      id: `log/${logId}/create`,
      occurredAt: new Date(this.deps.clock.now()).toISOString(),
      actor: actorOf(actor),
      action: 'log.create',
      target: { type: 'log', id: logId, name: logId },
      outcome: 'success',
      changes: { before: {}, after: { logId } },
      ...(opts.requestId ? { context: { requestId: opts.requestId } } : {}),
    };
    await this.#record(event);
    return this.deps.registry.createLog(logId);
  }

  async #record(event: AdminAuditEvent): Promise<void> {
    try {
      await this.deps.audit.record(event);
    } catch (err) {
      if (err instanceof AppError && err.code === 'CONFLICT') {
        // An earlier attempt (ours or another admin's) recorded this log's creation.
        const at = await this.deps.auditLog.find(event.id);
        const recorded = at && (await this.deps.auditLog.read(at));
        if (recorded?.action === 'log.create' && recorded.target?.id === event.target.id) return;
        throw new AppError('INTEGRITY', `audit event ${event.id} conflicts with the system log`, {
          cause: err,
        });
      }
      const retry = err instanceof AppError ? err.retryAfterSeconds : undefined;
      throw new AppError('UNAVAILABLE', 'the audit log is unavailable, so the log was not created; retry', {
        retryAfterSeconds: retry ?? 5,
        cause: err,
      });
    }
  }
}
