/**
 * Rule management on in-memory adapters: the RuleStore's memory adapter and
 * the `system` log's AdminAuditSink contract in memory (idempotent on the
 * event id, CONFLICT for an id reused with other content), with fault hooks.
 */
import { MemoryRuleStore } from '../../src/adapters/memory/rule-store.ts';
import { AppError } from '../../src/app/errors.ts';
import type { AdminAuditEvent, AdminAuditLog, AdminAuditSink } from '../../src/app/principals.ts';
import { RuleService } from '../../src/app/rules.ts';
import { type AuditEvent, validateEvent } from '../../src/core/event.ts';
import type { Principal } from '../../src/core/principal.ts';
import type { AuditPosition } from '../../src/ports/principal-store.ts';

/**
 * The system log's contract in memory, one record per batch. `failNext`
 * fails without recording; `failAfterNext` records, then fails (a timeout
 * after a write that landed).
 */
export class MemoryAuditSink implements AdminAuditSink, AdminAuditLog {
  readonly events: AdminAuditEvent[] = [];
  failNext = 0;
  failAfterNext = 0;
  async record(event: AdminAuditEvent): Promise<AuditPosition> {
    await Promise.resolve();
    if (this.failNext > 0) {
      this.failNext--;
      throw new AppError('UNAVAILABLE', 'system log down', { retryAfterSeconds: 3 });
    }
    let index = this.events.findIndex((e) => e.id === event.id);
    if (index >= 0) {
      if (JSON.stringify(this.events[index]) !== JSON.stringify(event))
        throw new AppError('CONFLICT', 'event id reused with other content');
    } else {
      index = this.events.push(structuredClone(event)) - 1;
    }
    if (this.failAfterNext > 0) {
      this.failAfterNext--;
      throw new Error('socket hang up');
    }
    return { seq: index + 1, index };
  }
  async find(eventId: string): Promise<AuditPosition | undefined> {
    const index = this.events.findIndex((e) => e.id === eventId);
    return index < 0 ? undefined : { seq: index + 1, index };
  }
  async read(at: AuditPosition): Promise<AuditEvent | undefined> {
    const event = at.seq === at.index + 1 ? this.events[at.index] : undefined;
    return event && validateEvent(JSON.parse(JSON.stringify(event)));
  }
}

export function principal(id: string, scopes: Principal['scopes'] = { '*': ['admin'] }): Principal {
  return {
    id,
    name: `name of ${id}`,
    kind: 'human',
    owner: 'secops',
    purpose: 'tests',
    scopes,
    status: 'active',
    keyId: 'k_0123456789abcdef',
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'system:bootstrap',
  };
}

export const ADMIN = principal('admin-1');
export const OTHER_ADMIN = principal('admin-2');

export interface RulesEnv {
  store: MemoryRuleStore;
  sink: MemoryAuditSink;
  rules: RuleService;
  clock: { t: number; now(): number };
}

export function rulesEnv(): RulesEnv {
  const store = new MemoryRuleStore();
  const sink = new MemoryAuditSink();
  const clock = {
    t: Date.UTC(2026, 2, 1, 12),
    now() {
      this.t += 1000;
      return this.t;
    },
  };
  return { store, sink, clock, rules: new RuleService({ store, audit: sink, auditLog: sink, clock }) };
}

/** A valid rule document as a plain object (what a client sends). */
export function ruleInput(
  id: string,
  version = 1,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    schema: 'anchorlog.rule/v1',
    id,
    version,
    title: 'Large data export volume by one principal',
    severity: 'high',
    owner: 'secops',
    runbook: 'https://runbooks.example/ai/data-export',
    match: "event.action == 'data.export' && event.outcome == 'success'",
    kind: 'threshold',
    threshold: {
      aggregate: 'sum',
      field: 'event.metadata.bytes',
      groupBy: 'event.actor.id',
      window: '1h',
      windowType: 'sliding',
      op: '>',
      value: 5e9,
    },
    ...over,
  };
}
