/**
 * The `system` log events that record detection's outbox (docs/detection.md
 * "Delivery"): an alert is itself evidence, recorded before anyone is told.
 *
 *   alert       → `alert.fire`        id = alert id
 *   occurrence  → `alert.occurrence`  id = `<alert id>#<record index>` (the entry's id)
 *   suppressed  → `alert.suppressed`  id = alert id
 *
 * The event id is the idempotency key of the append, so recording an entry
 * again after a crash adds nothing. Every field is a function of the outbox
 * entry (log time, never the clock), so a repeat is byte-identical.
 */
import type { OutboxEntry } from '../detect/alert.ts';
import { oneLine } from './payloads.ts';

/** The submitter and actor of every alert event: detection, not a person. */
export const DETECTION_ACTOR = {
  type: 'system',
  id: 'system:detection',
  name: 'anchorlog detection',
} as const;

export type AlertAction = 'alert.fire' | 'alert.occurrence' | 'alert.suppressed';

/** An Event v1 (src/core/event.ts) for the `system` log. */
export interface AlertAuditEvent {
  readonly id: string;
  readonly occurredAt: string;
  readonly actor: typeof DETECTION_ACTOR;
  readonly action: AlertAction;
  readonly target: { readonly type: 'alert'; readonly id: string; readonly name: string };
  readonly outcome: 'success';
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface CitedEntry {
  readonly entry: OutboxEntry;
  /** The signed checkpoint the entry's records are under. */
  readonly checkpoint: { readonly size: number; readonly checkpoint: string } | null;
}

const ACTIONS: Record<OutboxEntry['type'], AlertAction> = {
  alert: 'alert.fire',
  occurrence: 'alert.occurrence',
  suppressed: 'alert.suppressed',
};

export function alertAction(entry: OutboxEntry): AlertAction {
  return ACTIONS[entry.type];
}

export function alertEvent({ entry, checkpoint }: CitedEntry): AlertAuditEvent {
  const cited = checkpoint ? { size: checkpoint.size, note: checkpoint.checkpoint } : null;
  if (entry.type === 'occurrence')
    return {
      id: entry.id,
      occurredAt: entry.receivedAt,
      actor: DETECTION_ACTOR,
      action: 'alert.occurrence',
      target: { type: 'alert', id: entry.alertId, name: oneLine(entry.ruleId, 256) },
      outcome: 'success',
      metadata: {
        alertId: entry.alertId,
        logId: entry.logId,
        ruleId: entry.ruleId,
        trigger: { index: entry.index, receivedAt: entry.receivedAt },
        checkpoint: cited,
      },
    };
  return {
    id: entry.id,
    occurredAt: entry.alert.firedAt,
    actor: DETECTION_ACTOR,
    action: ACTIONS[entry.type],
    target: { type: 'alert', id: entry.alert.id, name: oneLine(entry.alert.rule.title, 256) },
    outcome: 'success',
    metadata: { alert: entry.alert, checkpoint: cited },
  };
}
