/**
 * anchorlog's own health as `system`-log events (docs/detection.md
 * "Self-monitoring"), so the self-monitoring rules of the starter pack have
 * something to match and their alerts get the same lifecycle and review
 * evidence as any other:
 *
 *   anchorlog.health.seal_lag              a log's oldest unsealed batch waited ≥ the threshold
 *   anchorlog.health.seal_halted           sealing of a log is halted for integrity
 *   anchorlog.health.anchor_quorum_missed  an anchor run got fewer time-stamps than the quorum
 *   anchorlog.health.tsa_failure           one TSA failed one anchor run
 *
 * Events are recorded when a condition *occurs*, not sampled: the id is a
 * function of what identifies the occurrence, and it is the idempotency key
 * of the append, so observing the same condition again adds nothing:
 *   - seal lag: (log, seq of the oldest unsealed batch) — one event per
 *     stuck batch however many runs see it stuck; once that batch is sealed,
 *     the next stuck one is a new occurrence;
 *   - halt: (log, halted text, state version) — one per halt, not per run
 *     that finds the log still halted;
 *   - quorum missed, TSA failure: (log, checkpoint size, [TSA,] run time) —
 *     one per failed run, since the rules count runs.
 * Pure: no clock, no I/O; the jobs pass the times in.
 */
import { toHex, utf8 } from './bytes.ts';
import { sha256 } from './hash.ts';

/** The submitter and actor of every health event: anchorlog itself, not a person. */
export const HEALTH_ACTOR = {
  type: 'system',
  id: 'system:health',
  name: 'anchorlog health',
} as const;

export type HealthAction =
  | 'anchorlog.health.seal_lag'
  | 'anchorlog.health.seal_halted'
  | 'anchorlog.health.anchor_quorum_missed'
  | 'anchorlog.health.tsa_failure';

/** An Event v1 (src/core/event.ts) for the `system` log. */
export interface HealthAuditEvent {
  readonly id: string;
  readonly occurredAt: string;
  readonly actor: typeof HEALTH_ACTOR;
  readonly action: HealthAction;
  readonly target: { readonly type: 'log' | 'tsa'; readonly id: string };
  readonly outcome: 'failure';
  readonly metadata: Readonly<Record<string, string | number | boolean>>;
}

const HEALTH_ACTIONS: ReadonlySet<string> = new Set<HealthAction>([
  'anchorlog.health.seal_lag',
  'anchorlog.health.seal_halted',
  'anchorlog.health.anchor_quorum_missed',
  'anchorlog.health.tsa_failure',
]);
const HEALTH_ID_RE = /^health\.[a-z_]+\.[0-9a-f]{32}$/;

/**
 * Whether a stored observation is a health event as the builders below make
 * it: one of the four actions, the health actor exactly, a health id. The
 * outbox is written by the seal and anchor roles and read by the one that
 * appends to the `system` log, so anything else — an observation naming a
 * person as its actor, another action — is refused there, never recorded.
 */
export function isHealthEvent(e: unknown): e is HealthAuditEvent {
  if (typeof e !== 'object' || e === null) return false;
  const o = e as Partial<HealthAuditEvent>;
  return (
    typeof o.id === 'string' &&
    HEALTH_ID_RE.test(o.id) &&
    typeof o.action === 'string' &&
    HEALTH_ACTIONS.has(o.action) &&
    o.outcome === 'failure' &&
    typeof o.actor === 'object' &&
    o.actor !== null &&
    Object.keys(o.actor).length === 3 &&
    o.actor.type === HEALTH_ACTOR.type &&
    o.actor.id === HEALTH_ACTOR.id &&
    o.actor.name === HEALTH_ACTOR.name
  );
}

/** Default seal-lag threshold: the starter pack's seal-lag rule fires at 5 minutes. */
export const DEFAULT_SEAL_LAG_THRESHOLD_SECONDS = 300;

/**
 * `health.<kind>.<32 hex>`: printable ASCII, far below the 128-character id
 * limit whatever the log or TSA name; the hash input separates its parts with
 * NUL, which no part contains.
 */
function healthId(kind: string, ...parts: readonly (string | number)[]): string {
  const digest = sha256(utf8(parts.map(String).join('\u0000')));
  return `health.${kind}.${toHex(digest).slice(0, 32)}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

export interface SealLagObservation {
  readonly logId: string;
  /** Seq of the oldest batch not yet under a checkpoint. */
  readonly seq: number;
  /** That batch's receivedAt. */
  readonly oldestReceivedAt: string;
  readonly lagSeconds: number;
  readonly thresholdSeconds: number;
  readonly observedAt: number;
}

export function sealLagEvent(o: SealLagObservation): HealthAuditEvent {
  return {
    id: healthId('seal_lag', o.logId, o.seq),
    occurredAt: iso(o.observedAt),
    actor: HEALTH_ACTOR,
    action: 'anchorlog.health.seal_lag',
    target: { type: 'log', id: o.logId },
    outcome: 'failure',
    metadata: {
      lagSeconds: o.lagSeconds,
      thresholdSeconds: o.thresholdSeconds,
      oldestUnsealedSeq: o.seq,
      oldestUnsealedReceivedAt: o.oldestReceivedAt,
    },
  };
}

export interface SealHaltObservation {
  readonly logId: string;
  /** The seal state's `halted` text (starts with the SealHaltCode). */
  readonly halted: string;
  readonly haltCode: string;
  /** Seal-state version the halt sits on (0: never sealed). */
  readonly stateVersion: number;
  readonly sealedSize: number;
  readonly observedAt: number;
}

export function sealHaltedEvent(o: SealHaltObservation): HealthAuditEvent {
  return {
    id: healthId('seal_halted', o.logId, o.stateVersion, o.halted),
    occurredAt: iso(o.observedAt),
    actor: HEALTH_ACTOR,
    action: 'anchorlog.health.seal_halted',
    target: { type: 'log', id: o.logId },
    outcome: 'failure',
    metadata: {
      haltCode: o.haltCode,
      // Bounded: the halted text is the sealer's own message, but an event field has limits.
      halted: o.halted.slice(0, 1_000),
      sealedSize: o.sealedSize,
    },
  };
}

export interface AnchorRunObservation {
  readonly logId: string;
  /** Checkpoint size the run tried to anchor. */
  readonly size: number;
  readonly quorum: number;
  readonly granted: number;
  readonly tsaCount: number;
  /** Epoch ms the run was observed (its end): one event per failed run. */
  readonly observedAt: number;
}

export function anchorQuorumMissedEvent(o: AnchorRunObservation): HealthAuditEvent {
  return {
    id: healthId('anchor_quorum_missed', o.logId, o.size, o.observedAt),
    occurredAt: iso(o.observedAt),
    actor: HEALTH_ACTOR,
    action: 'anchorlog.health.anchor_quorum_missed',
    target: { type: 'log', id: o.logId },
    outcome: 'failure',
    metadata: { size: o.size, quorum: o.quorum, granted: o.granted, tsaCount: o.tsaCount },
  };
}

export interface TsaFailureObservation {
  readonly tsa: string;
  readonly logId: string;
  readonly size: number;
  /** The AnchorFailure code (src/app/anchor.ts). */
  readonly code: string;
  readonly message: string;
  readonly attempts: number;
  readonly observedAt: number;
}

export function tsaFailureEvent(o: TsaFailureObservation): HealthAuditEvent {
  return {
    id: healthId('tsa_failure', o.tsa, o.logId, o.size, o.observedAt),
    occurredAt: iso(o.observedAt),
    actor: HEALTH_ACTOR,
    action: 'anchorlog.health.tsa_failure',
    target: { type: 'tsa', id: o.tsa.slice(0, 512) },
    outcome: 'failure',
    metadata: {
      logId: o.logId,
      size: o.size,
      code: o.code,
      message: o.message.slice(0, 1_000),
      attempts: o.attempts,
    },
  };
}
