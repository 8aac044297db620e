/**
 * Class declarations as `system`-log events (docs/classes.md §Versions, "The
 * audit trail"): each time a seal declares a class (a new name or a higher
 * version, from the size it starts at) or retires one (no longer configured),
 * the seal job puts one of these in the outbox and the deliver job appends it
 * to the `system` log, as it does health observations (src/app/health.ts):
 *
 *   anchorlog.class.declared   a class version applies from main size `fromSize`
 *   anchorlog.class.retired    a class version is no longer carried from `atSize`
 *
 * The binding record of a class definition is its line in the signed
 * checkpoint (docs/formats.md §Class roots): an answer is verified against
 * that line, and every checkpoint version is kept under Object Lock. These
 * events are the administrative trail next to it — who reads the `system`
 * log (reviews, detection rules, a bundle of it) sees when each rule took
 * effect without reading checkpoints. The id is a function of the log, the
 * definition and the size, and the append is idempotent by it, so a job that
 * observes the same declaration twice records it once.
 *
 * Pure: no clock, no I/O.
 */
import { toHex, utf8 } from '../bytes.ts';
import { sha256 } from '../hash.ts';
import type { ClassCommitment } from './commitment.ts';
import { classText } from './definition.ts';

/** The submitter and actor of every class declaration event: the sealer applying the configuration. */
export const CLASSES_ACTOR = {
  type: 'system',
  id: 'system:classes',
  name: 'anchorlog classes',
} as const;

export type ClassDeclarationAction = 'anchorlog.class.declared' | 'anchorlog.class.retired';

/** A declaration or retirement a seal made: the class line's definition, and the main size it took effect at. */
export interface ClassChange {
  readonly kind: 'declared' | 'retired';
  readonly commitment: ClassCommitment;
  /**
   * Declared: the size it applies from (= commitment.fromSize), which the
   * first checkpoint carrying it builds on. Retired: the size its class log
   * covered records up to; the checkpoint built on that size no longer
   * carries it.
   */
  readonly atSize: number;
}

/** An Event v1 (src/core/event.ts) for the `system` log. */
export interface ClassDeclarationEvent {
  readonly id: string;
  readonly occurredAt: string;
  readonly actor: typeof CLASSES_ACTOR;
  readonly action: ClassDeclarationAction;
  readonly target: { readonly type: 'log'; readonly id: string };
  readonly outcome: 'success';
  readonly metadata: Readonly<Record<string, string | number>>;
}

const ACTIONS: ReadonlySet<string> = new Set<ClassDeclarationAction>([
  'anchorlog.class.declared',
  'anchorlog.class.retired',
]);
const ID_RE = /^class\.(declared|retired)\.[0-9a-f]{32}$/;

/**
 * The event of one change of one log, observed at `observedAt` (epoch ms).
 * Metadata carries the definition exactly as the checkpoint line states it,
 * so the trail can be matched to the line field by field.
 */
export function classDeclarationEvent(
  logId: string,
  change: ClassChange,
  observedAt: number,
): ClassDeclarationEvent {
  const { def, fromSize } = change.commitment;
  const actorType = def.actorType ?? '*';
  const targetType = def.targetType ?? '*';
  const digest = sha256(
    utf8(
      [logId, change.kind, def.name, def.version, def.action, actorType, targetType, fromSize, change.atSize]
        .map(String)
        .join('\u0000'),
    ),
  );
  return {
    id: `class.${change.kind}.${toHex(digest).slice(0, 32)}`,
    occurredAt: new Date(observedAt).toISOString(),
    actor: CLASSES_ACTOR,
    action: change.kind === 'declared' ? 'anchorlog.class.declared' : 'anchorlog.class.retired',
    target: { type: 'log', id: logId },
    outcome: 'success',
    metadata: {
      class: def.name,
      version: def.version,
      rule: classText(def),
      action: def.action,
      actorType,
      targetType,
      fromSize,
      atSize: change.atSize,
    },
  };
}

/**
 * Whether a stored observation is a class declaration event as the builder
 * makes it: one of the two actions, the classes actor exactly, a class id.
 * The outbox is written by the seal role and read by the deliver role, which
 * appends to the `system` log: anything else is refused there, never recorded.
 */
export function isClassDeclarationEvent(e: unknown): e is ClassDeclarationEvent {
  if (typeof e !== 'object' || e === null) return false;
  const o = e as Partial<ClassDeclarationEvent>;
  return (
    typeof o.id === 'string' &&
    ID_RE.test(o.id) &&
    typeof o.action === 'string' &&
    ACTIONS.has(o.action) &&
    o.id.startsWith(`class.${o.action.slice('anchorlog.class.'.length)}.`) &&
    o.outcome === 'success' &&
    typeof o.actor === 'object' &&
    o.actor !== null &&
    Object.keys(o.actor).length === 3 &&
    o.actor.type === CLASSES_ACTOR.type &&
    o.actor.id === CLASSES_ACTOR.id &&
    o.actor.name === CLASSES_ACTOR.name
  );
}

/**
 * What a seal changed: the classes the new checkpoint declares (not in the
 * previous checkpoint under the same definition and declaration size) and
 * those the previous one carried that the new one drops.
 */
export function classChanges(
  previous: readonly ClassCommitment[],
  next: readonly ClassCommitment[],
  oldSize: number,
): ClassChange[] {
  const key = (c: ClassCommitment) =>
    [
      c.def.name,
      c.def.version,
      c.def.action,
      c.def.actorType ?? '*',
      c.def.targetType ?? '*',
      c.fromSize,
    ].join(' ');
  const before = new Set(previous.map(key));
  const after = new Set(next.map(key));
  return [
    ...previous
      .filter((c) => !after.has(key(c)))
      .map((c): ClassChange => ({ kind: 'retired', commitment: c, atSize: oldSize })),
    ...next
      .filter((c) => !before.has(key(c)))
      .map((c): ClassChange => ({ kind: 'declared', commitment: c, atSize: c.fromSize })),
  ];
}
