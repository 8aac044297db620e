/**
 * Builders for detection tests: rule documents with defaults, records, steps,
 * and one-call evaluation over the in-memory state store.
 */
import { MemoryDetectionStateStore } from '../../../src/adapters/memory/detection-state.ts';
import { type RunDetectionOptions, runDetection } from '../../../src/app/detection.ts';
import type { AlertDocument, OutboxEntry } from '../../../src/core/detect/alert.ts';
import { type CompiledRule, loadRule } from '../../../src/core/detect/compile.ts';
import { DetectionEngine, type Step } from '../../../src/core/detect/engine.ts';
import type { AuditEvent } from '../../../src/core/event.ts';
import { type LogRecord, ZERO_HASH_B64 } from '../../../src/core/record.ts';

export const T0 = Date.parse('2026-03-01T00:00:00.000Z');
export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

export function ruleDoc(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema: 'anchorlog.rule/v1',
    id: 'test.rule',
    version: 1,
    title: 'Test rule',
    severity: 'medium',
    owner: 'secops',
    runbook: 'https://runbooks.example/test',
    match: 'true',
    kind: 'match',
    ...overrides,
  };
}

export const rule = (overrides: Record<string, unknown> = {}): CompiledRule => loadRule(ruleDoc(overrides));

export interface EventSpec {
  action?: string;
  actor?: string;
  actorType?: AuditEvent['actor']['type'];
  outcome?: AuditEvent['outcome'];
  target?: { type: string; id: string };
  metadata?: AuditEvent['metadata'];
  changes?: AuditEvent['changes'];
  submitter?: string;
  producer?: AuditEvent['producer'];
}

export function record(index: number, atMs: number, e: EventSpec = {}, logId = 'acme'): LogRecord {
  const event: AuditEvent = {
    occurredAt: new Date(atMs).toISOString(),
    actor: { type: e.actorType ?? 'agent', id: e.actor ?? 'agent-1' },
    action: e.action ?? 'tool.call',
    outcome: e.outcome ?? 'success',
    ...(e.target ? { target: e.target } : {}),
    ...(e.metadata ? { metadata: e.metadata } : {}),
    ...(e.changes ? { changes: e.changes } : {}),
    ...(e.producer ? { producer: e.producer } : {}),
  };
  return {
    v: 1,
    logId,
    index,
    receivedAt: new Date(atMs).toISOString(),
    submitter: e.submitter ?? 'svc-producer',
    prev: ZERO_HASH_B64,
    event,
  };
}

/** Records at the given times (ms after T0), numbered from `first`. */
export function records(specs: ReadonlyArray<[number, EventSpec?]>, first = 0, logId = 'acme'): Step[] {
  return specs.map(([dt, e], i) => ({ kind: 'record', record: record(first + i, T0 + dt, e, logId) }));
}

export const tick = (dtMs: number): Step => ({ kind: 'tick', atMs: T0 + dtMs });

export interface Evaluated {
  store: MemoryDetectionStateStore;
  outbox: OutboxEntry[];
  alerts: AlertDocument[];
}

export async function evaluate(
  rules: CompiledRule[],
  steps: Step[],
  opts: RunDetectionOptions & { logId?: string; store?: MemoryDetectionStateStore } = {},
): Promise<Evaluated> {
  const store = opts.store ?? new MemoryDetectionStateStore();
  const logId = opts.logId ?? 'acme';
  const result = await runDetection(store, new DetectionEngine(logId, rules), steps, opts);
  if (result.lostRace) throw new Error('lost race');
  const outbox = store.outbox(logId);
  return {
    store,
    outbox,
    alerts: outbox.flatMap((e) => (e.type === 'alert' ? [e.alert] : [])),
  };
}
