/**
 * What the sealer does with classes on a run (pure; src/app/seal.ts does the
 * I/O): which class logs continue, which start, and which leaves each gets.
 */
import { emptyRoot } from '../merkle/hasher.ts';
import type { ClassCommitment } from './commitment.ts';
import {
  type ClassDefinition,
  type ClassMatcher,
  checkClassSet,
  classMatcher,
  sameDefinition,
} from './definition.ts';
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

/**
 * The new leaves of each planned class for records (index order) appended
 * after the plan's size. One pass over the records with each class's rule
 * compiled once (classMatcher); the result is the same as testing every
 * record against every class with classMatches.
 */
export function classLeavesOf(
  plan: readonly ClassCommitment[],
  records: readonly { record: { index: number; event: Parameters<ClassMatcher>[0] }; leafHash: Uint8Array }[],
): ClassLeaf[][] {
  const matchers = plan.map((c) => classMatcher(c.def));
  const out: ClassLeaf[][] = plan.map(() => []);
  for (const r of records) {
    const { index, event } = r.record;
    for (let k = 0; k < plan.length; k++)
      if (index >= (plan[k] as ClassCommitment).fromSize && (matchers[k] as ClassMatcher)(event))
        (out[k] as ClassLeaf[]).push({ index, leafHash: r.leafHash });
  }
  return out;
}
