/**
 * What the sealer does with classes on a run (pure; src/app/seal.ts does the
 * I/O): which class logs continue, which start, and which leaves each gets.
 */
import { emptyRoot } from '../merkle/hasher.ts';
import type { LogRecord } from '../record.ts';
import type { ClassCommitment } from './commitment.ts';
import { type ClassDefinition, checkClassSet, classMatches, sameDefinition } from './definition.ts';
import { ClassError } from './errors.ts';
import type { ClassLeaf } from './leaf.ts';

/**
 * The class logs a run at main size `oldSize` builds on, from the signed
 * commitments of the previous checkpoint and the configured set:
 *  - a configured class with the same rule as a signed one continues it;
 *  - a new name, or a higher version of a signed one, is declared at
 *    `oldSize` (an empty class log): it covers records from index oldSize on;
 *  - a signed class no longer configured is retired: its line is not carried
 *    forward (every earlier checkpoint stays in the archive);
 *  - the same name and version with another rule, or a lower version, is
 *    CLASS_CONFLICT: definitions are changed by a new version only.
 */
export function planClasses(
  previous: readonly ClassCommitment[],
  configured: readonly ClassDefinition[],
  oldSize: number,
): ClassCommitment[] {
  const byName = new Map(previous.map((c) => [c.def.name, c]));
  return checkClassSet(configured).map((def) => {
    const prev = byName.get(def.name);
    if (prev !== undefined) {
      if (sameDefinition(prev.def, def)) return prev;
      if (def.version <= prev.def.version)
        throw new ClassError(
          'CLASS_CONFLICT',
          `class ${def.name} version ${def.version} differs from the signed version ${prev.def.version}; ` +
            'change a class by raising its version',
        );
    }
    return { def, fromSize: oldSize, size: 0, rootHash: emptyRoot() };
  });
}

/** The new leaves of each planned class for records (index order) appended after the plan's size. */
export function classLeavesOf(
  plan: readonly ClassCommitment[],
  records: readonly { record: Pick<LogRecord, 'index' | 'event'>; leafHash: Uint8Array }[],
): ClassLeaf[][] {
  return plan.map((c) => {
    const out: ClassLeaf[] = [];
    for (const r of records)
      if (r.record.index >= c.fromSize && classMatches(c.def, r.record.event))
        out.push({ index: r.record.index, leafHash: r.leafHash });
    return out;
  });
}
