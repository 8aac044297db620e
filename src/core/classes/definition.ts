/**
 * Event classes (docs/classes.md): a named, versioned rule selecting events by
 * action (exact, or a `prefix.*` pattern) and optionally the actor's type and
 * the target's type. A log's class index logs (./commitment.ts) hold, for each
 * class, every record of the class from the tree size it was declared at.
 *
 * Pure and deterministic: membership depends only on the record's event, so
 * anyone holding the main log can recompute every class log (the monitor,
 * src/core/classes/monitor.ts).
 */
import { ACTOR_TYPES, type ActorType, type AuditEvent } from '../event.ts';
import { ClassError } from './errors.ts';

export interface ClassDefinition {
  /** [a-z][a-z0-9_-]{0,31}: how exports and checkpoints name the class. */
  readonly name: string;
  /** 1, 2, …: a changed rule is a new version, never an edit of one in force. */
  readonly version: number;
  /**
   * `access.*` (the action starts with `access.`; the dot is part of the
   * prefix, so `accessory.x` does not match) or an exact action (`data.export`).
   */
  readonly action: string;
  /** Optional: the actor's type must equal it. */
  readonly actorType?: ActorType;
  /** Optional: the event must have a target of exactly this type. */
  readonly targetType?: string;
}

const NAME_RE = /^[a-z][a-z0-9_-]{0,31}$/;
// An action (src/core/event.ts's grammar) or its dotted prefix followed by `.*`.
const ACTION_PATTERN_RE = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*(?:\.\*)?$/;
// No spaces: a definition travels as space-separated tokens on a checkpoint line.
const TARGET_TYPE_RE = /^[A-Za-z0-9._:/-]{1,128}$/;
const MAX_VERSION = 999_999;

/** Validates and normalises (drops absent optionals) a definition from config or a checkpoint. */
export function checkClassDefinition(d: ClassDefinition): ClassDefinition {
  const bad = (why: string) => new ClassError('INVALID_CLASS', `class ${JSON.stringify(d.name)}: ${why}`);
  if (typeof d.name !== 'string' || !NAME_RE.test(d.name)) throw bad('name must match [a-z][a-z0-9_-]{0,31}');
  if (!Number.isSafeInteger(d.version) || d.version < 1 || d.version > MAX_VERSION)
    throw bad(`version must be an integer 1…${MAX_VERSION}`);
  if (typeof d.action !== 'string' || d.action.length > 128 || !ACTION_PATTERN_RE.test(d.action))
    throw bad('action must be an action (a.b) or a prefix pattern (a.*)');
  if (d.actorType !== undefined && !(ACTOR_TYPES as readonly string[]).includes(d.actorType))
    throw bad(`actorType must be one of ${ACTOR_TYPES.join(', ')}`);
  if (d.targetType !== undefined && (typeof d.targetType !== 'string' || !TARGET_TYPE_RE.test(d.targetType)))
    throw bad('targetType must be 1–128 characters of [A-Za-z0-9._:/-]');
  return {
    name: d.name,
    version: d.version,
    action: d.action,
    ...(d.actorType !== undefined ? { actorType: d.actorType } : {}),
    ...(d.targetType !== undefined ? { targetType: d.targetType } : {}),
  };
}

/** Checks a set: valid definitions, names unique. Returns them sorted by name (checkpoint line order). */
export function checkClassSet(defs: readonly ClassDefinition[]): ClassDefinition[] {
  const out = defs.map(checkClassDefinition).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < out.length; i++)
    if (out[i]?.name === out[i - 1]?.name)
      throw new ClassError('INVALID_CLASS', `class ${JSON.stringify(out[i]?.name)} is declared twice`);
  return out;
}

/** True when the two definitions state the same rule (name and version included). */
export function sameDefinition(a: ClassDefinition, b: ClassDefinition): boolean {
  return (
    a.name === b.name &&
    a.version === b.version &&
    a.action === b.action &&
    a.actorType === b.actorType &&
    a.targetType === b.targetType
  );
}

/** An event predicate for one class, compiled once (the sealer tests every new record against every class). */
export type ClassMatcher = (event: Pick<AuditEvent, 'action' | 'actor' | 'target'>) => boolean;

/**
 * The class's rule as a predicate. Total: any event value gives true or false.
 * The pattern is split once here, not per event: `access.*` becomes the
 * prefix `access.` (dot included), an exact action stays a string compare.
 */
export function classMatcher(d: ClassDefinition): ClassMatcher {
  const prefix = d.action.endsWith('.*') ? d.action.slice(0, -1) : undefined;
  const exact = d.action;
  const { actorType, targetType } = d;
  return (event) => {
    const action = event.action;
    if (typeof action !== 'string') return false;
    if (prefix !== undefined ? !action.startsWith(prefix) : action !== exact) return false;
    if (actorType !== undefined && event.actor?.type !== actorType) return false;
    if (targetType !== undefined && event.target?.type !== targetType) return false;
    return true;
  };
}

/** Whether an event belongs to the class. Total: any event value gives true or false. */
export function classMatches(
  d: ClassDefinition,
  event: Pick<AuditEvent, 'action' | 'actor' | 'target'>,
): boolean {
  return classMatcher(d)(event);
}

/** The rule in words, as the verifier prints it: `access.*`, `data.export by agent on dataset`. */
export function classText(d: ClassDefinition): string {
  let s = d.action;
  if (d.actorType !== undefined) s += ` by ${d.actorType}`;
  if (d.targetType !== undefined) s += ` on ${d.targetType}`;
  return s;
}

/**
 * The default set for an AI platform (ANCHORLOG_CLASSES=default): the sample
 * requests auditors send — privileged access changes, configuration changes,
 * data exports, administrative actions, and what agents did with tools.
 */
export const DEFAULT_AI_CLASSES: readonly ClassDefinition[] = [
  { name: 'access', version: 1, action: 'access.*' },
  { name: 'admin', version: 1, action: 'admin.*' },
  { name: 'agent-tools', version: 1, action: 'tool.*', actorType: 'agent' },
  { name: 'config', version: 1, action: 'config.*' },
  { name: 'data-export', version: 1, action: 'data.export' },
];
