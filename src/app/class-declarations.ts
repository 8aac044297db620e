/**
 * After every seal run: each class a run declared or retired becomes a
 * ClassDeclarationEvent (src/core/classes/declaration.ts) put in the outbox,
 * which the deliver job appends to the `system` log (src/app/health.ts), as
 * health observations are. The seal role may put, not append (the outbox port
 * says why).
 *
 * Crash window: a seal job that dies between a run's CAS and this put loses
 * the trail event, never the declaration, whose binding record is the class
 * line of every signed checkpoint from then on, kept under Object Lock
 * (docs/classes.md §Versions); a failing put is the job's WARN line.
 */
import { classDeclarationEvent } from '../core/classes/declaration.ts';
import type { HealthOutbox } from '../ports/health-outbox.ts';
import type { SealManyResult } from './seal.ts';

export async function putClassDeclarations(
  outbox: Pick<HealthOutbox, 'put'>,
  outcomes: readonly SealManyResult['results'][number][],
  now: number,
): Promise<number> {
  const failures: unknown[] = [];
  let put = 0;
  for (const o of outcomes) {
    if (!o.ok) continue;
    for (const change of o.classChanges)
      await outbox.put(classDeclarationEvent(o.logId, change, now)).then(
        () => put++,
        (err: unknown) => failures.push(err),
      );
  }
  if (failures.length > 0) throw failures[0];
  return put;
}
