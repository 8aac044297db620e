/**
 * AdminAuditSink over the ingest path: every admin change becomes an event in
 * the `system` log, submitted by the acting principal. The event id doubles
 * as the Idempotency-Key, so re-recording after a crash never duplicates it
 * (the sink contract in principals.ts). Runs on the admin path only: it
 * creates the `system` log (LogAdminService) and appends to it, which the
 * ingest role may not (docs/architecture.md).
 */
import { SYSTEM_LOG_ID } from '../core/principal.ts';
import type { IngestService } from './ingest.ts';
import type { LogAdminService } from './logs.ts';
import type { AdminAuditEvent, AdminAuditSink } from './principals.ts';

export class SystemLogAuditSink implements AdminAuditSink {
  constructor(
    private readonly logs: LogAdminService,
    private readonly ingest: IngestService,
  ) {}

  async record(event: AdminAuditEvent): Promise<void> {
    await this.logs.createLog(SYSTEM_LOG_ID);
    await this.ingest.append({
      logId: SYSTEM_LOG_ID,
      submitter: event.actor.id,
      body: new TextEncoder().encode(JSON.stringify({ events: [event] })),
      idempotencyKey: event.id,
    });
  }
}
