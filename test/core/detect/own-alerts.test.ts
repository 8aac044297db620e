/**
 * Detection never evaluates its own alert records (docs/detection.md
 * "Self-monitoring", "No alerts about alerts"): a rule on the `system` log
 * that matches everything fires on admin changes and health events, not on
 * the `alert.*` records delivery appends as `system:detection` — which would
 * otherwise feed back into alerts about alerts without end.
 */
import { describe, expect, it } from 'vitest';
import { DETECTION_ACTOR } from '../../../src/core/deliver/events.ts';
import { evaluate, MIN, record, rule, T0 } from './support.ts';

describe('own alert records', () => {
  it('are skipped by every rule, while the records around them are evaluated', async () => {
    const everything = rule({ id: 'system.everything', logs: ['system'], match: 'true' });
    const steps = [
      record(
        0,
        T0,
        { action: 'principal.create', actorType: 'human', actor: 'admin-1', submitter: 'admin-1' },
        'system',
      ),
      record(
        1,
        T0 + MIN,
        {
          action: 'alert.fire',
          actorType: 'system',
          actor: DETECTION_ACTOR.id,
          submitter: DETECTION_ACTOR.id,
        },
        'system',
      ),
      record(
        2,
        T0 + 2 * MIN,
        {
          action: 'anchorlog.health.seal_halted',
          actorType: 'system',
          actor: 'system:health',
          submitter: 'system:health',
        },
        'system',
      ),
    ].map((r) => ({ kind: 'record' as const, record: r }));
    const { alerts } = await evaluate([everything], steps, { logId: 'system' });
    expect(alerts.map((a) => a.trigger?.index)).toEqual([0, 2]);
  });
});
