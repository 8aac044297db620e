/**
 * The `system` log as the admin path's audit trail: the sink appends admin
 * audit events (the only writer of that log), the reader gives them back to
 * authentication, which accepts a principal version only if its record is
 * there (src/app/principals.ts, "Binding").
 */
import type { ClassDeclarationEvent } from '../core/classes/declaration.ts';
import type { AlertAuditEvent } from '../core/deliver/events.ts';
import type { AuditEvent } from '../core/event.ts';
import type { HealthAuditEvent } from '../core/health.ts';
import { SYSTEM_LOG_ID } from '../core/principal.ts';
import { decodeRecord, RecordError } from '../core/record.ts';
import type { LogStore } from '../ports/log-store.ts';
import type { AuditPosition } from '../ports/principal-store.ts';
import { AppError } from './errors.ts';
import { type IngestService, SYSTEM_EVENT_ID_SCOPE } from './ingest.ts';
import type { LogRegistry } from './log-registry.ts';
import { fromPortError } from './port-errors.ts';
import type { AdminAuditEvent, AdminAuditLog, AdminAuditSink } from './principals.ts';

/**
 * Reads admin audit records from the system log's batches through the
 * LogStore, which verifies record bytes against the batch's commit item
 * (LogStore.readBatch). Each call is one consistent read: `find` one event-id
 * item, `read` one batch item.
 */
export class SystemLogAuditReader implements AdminAuditLog {
  constructor(private readonly logs: Pick<LogStore, 'readEventIds' | 'readBatch'>) {}

  async find(eventId: string): Promise<AuditPosition | undefined> {
    return (await this.findMany([eventId])).get(eventId);
  }

  /** The positions of those of `eventIds` the log holds (one consistent batch read). */
  async findMany(eventIds: readonly string[]): Promise<Map<string, AuditPosition>> {
    if (eventIds.length === 0) return new Map();
    const found = await storeCall(() =>
      this.logs.readEventIds(SYSTEM_LOG_ID, SYSTEM_EVENT_ID_SCOPE, eventIds),
    );
    return new Map([...found].map(([id, at]) => [id, { seq: at.seq, index: at.index }]));
  }

  async read(at: AuditPosition): Promise<AuditEvent | undefined> {
    const batch = await storeCall(() => this.logs.readBatch(SYSTEM_LOG_ID, at.seq));
    const stored = batch?.records.find((r) => r.index === at.index);
    if (!stored) return undefined;
    try {
      const record = decodeRecord(stored.bytes);
      if (record.logId !== SYSTEM_LOG_ID || record.index !== at.index) {
        throw new AppError('INTEGRITY', `system log batch ${at.seq} holds a record of another position`);
      }
      return record.event;
    } catch (err) {
      if (err instanceof RecordError) {
        throw new AppError('INTEGRITY', `system log record ${at.index} does not decode: ${err.message}`, {
          cause: err,
        });
      }
      throw err;
    }
  }
}

/**
 * AdminAuditSink over the ingest path: every admin change becomes an event in
 * the `system` log, submitted by the acting principal; so does every alert
 * detection raised (src/app/deliver.ts, actor `system:detection`) and every
 * health observation (src/app/health.ts, actor `system:health`). The event id doubles
 * as the Idempotency-Key, so re-recording after a crash never duplicates it
 * (the sink contract in principals.ts). The position comes from the event-id
 * index, which ingest writes before it returns; if that write was lost, the
 * recording fails (retryable) and the retry, replaying the append, repairs it.
 */
export class SystemLogAuditSink implements AdminAuditSink {
  /** The system log exists (createLog is idempotent, and logs are never deleted): asked once per container. */
  #created: Promise<unknown> | undefined;

  constructor(
    private readonly registry: Pick<LogRegistry, 'createLog'>,
    private readonly ingest: IngestService,
    private readonly reader: Pick<SystemLogAuditReader, 'find' | 'findMany'>,
  ) {}

  #ensureLog(): Promise<unknown> {
    this.#created ??= this.registry.createLog(SYSTEM_LOG_ID).catch((err: unknown) => {
      this.#created = undefined;
      throw err;
    });
    return this.#created;
  }

  /**
   * Records events of one actor (detection's alerts, health observations) in
   * as few appends as the request limits allow, skipping those the log
   * already holds; returns how many were appended. Deduplication is by event
   * id, whatever the content (an alert recorded earlier under another
   * checkpoint citation is recorded). Each append carries every event's id,
   * so ingest keys it implicitly on them: a retry adds nothing, and an id
   * recorded by someone else meanwhile makes it fail whole (CONFLICT), never
   * half-applied — the caller then records one by one.
   */
  async recordMany(
    events: readonly (AlertAuditEvent | HealthAuditEvent | ClassDeclarationEvent)[],
  ): Promise<number> {
    if (events.length === 0) return 0;
    const submitter = events[0]?.actor.id as string;
    if (events.some((e) => e.actor.id !== submitter))
      throw new TypeError('recordMany records the events of one actor');
    await this.#ensureLog();
    const held = await this.reader.findMany(events.map((e) => e.id));
    const missing = events.filter((e) => !held.has(e.id));
    let appended = 0;
    for (const chunk of byteChunks(missing)) {
      await this.ingest.appendToSystemLog({
        submitter,
        body: new TextEncoder().encode(JSON.stringify({ events: chunk })),
      });
      appended += chunk.length;
    }
    return appended;
  }

  async record(
    event: AdminAuditEvent | AlertAuditEvent | HealthAuditEvent | ClassDeclarationEvent,
  ): Promise<AuditPosition> {
    await this.#ensureLog();
    await this.ingest.appendToSystemLog({
      submitter: event.actor.id,
      body: new TextEncoder().encode(JSON.stringify({ events: [event] })),
      idempotencyKey: event.id,
    });
    const at = await this.reader.find(event.id);
    if (!at) {
      throw new AppError('UNAVAILABLE', `audit event ${event.id} is recorded but not yet indexed; retry`, {
        retryAfterSeconds: 1,
      });
    }
    return at;
  }
}

/**
 * Splits events into appends of at most RECORD_MANY_EVENTS events and about
 * RECORD_MANY_BYTES of JSON: well inside ingest's defaults (1,000 events,
 * 2 MiB), whatever a deployment lowers them to within reason.
 */
const RECORD_MANY_EVENTS = 100;
const RECORD_MANY_BYTES = 512 * 1024;
function* byteChunks<T>(events: readonly T[]): Generator<T[]> {
  let chunk: T[] = [];
  let bytes = 0;
  for (const e of events) {
    const size = JSON.stringify(e).length;
    if (chunk.length > 0 && (chunk.length >= RECORD_MANY_EVENTS || bytes + size > RECORD_MANY_BYTES)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(e);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/** LogStore failures as AppErrors: pushback stays retryable, INTEGRITY stays INTEGRITY. */
async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fromPortError(err, 'system log') ?? err;
  }
}
