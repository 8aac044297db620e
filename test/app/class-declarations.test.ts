/**
 * Class declarations as the `system` log's trail (docs/classes.md §Versions):
 * the sealer reports what each run declared or retired, the seal job puts one
 * event per change in the outbox, and the deliver job's recording appends it
 * as `system:classes` — once, however often it is observed — and refuses a
 * forged one. In memory, with the admin path's real sink and reader.
 */
import { describe, expect, it } from 'vitest';
import { MemoryHealthOutbox } from '../../src/adapters/memory/health-outbox.ts';
import { MemoryPrincipalStore } from '../../src/adapters/memory/principal-store.ts';
import { putClassDeclarations } from '../../src/app/class-declarations.ts';
import { recordHealthObservations } from '../../src/app/health.ts';
import {
  CLASSES_ACTOR,
  classChanges,
  classDeclarationEvent,
  isClassDeclarationEvent,
} from '../../src/core/classes/declaration.ts';
import { validateEvent } from '../../src/core/event.ts';
import { emptyRoot } from '../../src/core/merkle/hasher.ts';
import { SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { adminEnvOn } from './admin-harness.ts';
import { appendEvents, localSigner, memorySealEnv, newLog, sealer } from './seal-support.ts';

const ACCESS = { name: 'access', version: 1, action: 'access.*' };
const CONFIG = { name: 'config', version: 1, action: 'config.*' };
const NOW = Date.UTC(2026, 2, 1, 12, 30);
const at = (def: typeof ACCESS, fromSize: number, size = 0) => ({
  def,
  fromSize,
  size,
  rootHash: emptyRoot(),
});

describe('class changes (pure)', () => {
  it('a new class or version is declared at its fromSize; one no longer carried is retired at the old size', () => {
    const v2 = { ...ACCESS, version: 2, action: 'access.grant' };
    expect(classChanges([], [at(ACCESS, 0)], 0)).toEqual([
      { kind: 'declared', commitment: at(ACCESS, 0), atSize: 0 },
    ]);
    // A continued class is no change, whatever its size now.
    expect(classChanges([at(ACCESS, 0, 3)], [at(ACCESS, 0, 3)], 10)).toEqual([]);
    expect(classChanges([at(ACCESS, 0, 3), at(CONFIG, 4, 1)], [at(v2, 10)], 10)).toEqual([
      { kind: 'retired', commitment: at(ACCESS, 0, 3), atSize: 10 },
      { kind: 'retired', commitment: at(CONFIG, 4, 1), atSize: 10 },
      { kind: 'declared', commitment: at(v2, 10), atSize: 10 },
    ]);
  });

  it('the event is a valid Event v1 by the classes actor, with a stable id, and only such events pass the check', () => {
    const change = { kind: 'declared' as const, commitment: at(ACCESS, 7), atSize: 7 };
    const e = classDeclarationEvent('acme', change, NOW);
    expect(() => validateEvent(JSON.parse(JSON.stringify(e)))).not.toThrow();
    expect(e).toMatchObject({
      actor: CLASSES_ACTOR,
      action: 'anchorlog.class.declared',
      target: { type: 'log', id: 'acme' },
      metadata: { class: 'access', version: 1, action: 'access.*', rule: 'access.*', fromSize: 7, atSize: 7 },
    });
    // Observed again later: same id (the append is idempotent by it); another log or size: another id.
    expect(classDeclarationEvent('acme', change, NOW + 60_000).id).toBe(e.id);
    expect(classDeclarationEvent('other', change, NOW).id).not.toBe(e.id);
    expect(
      classDeclarationEvent('acme', { ...change, commitment: at(ACCESS, 8), atSize: 8 }, NOW).id,
    ).not.toBe(e.id);
    expect(isClassDeclarationEvent(e)).toBe(true);
    expect(isClassDeclarationEvent({ ...e, actor: { type: 'human', id: 'admin-1', name: 'A' } })).toBe(false);
    expect(isClassDeclarationEvent({ ...e, action: 'principal.create' })).toBe(false);
    expect(isClassDeclarationEvent({ ...e, action: 'anchorlog.class.retired' })).toBe(false);
    expect(isClassDeclarationEvent({ ...e, id: 'health.seal_lag.0123' })).toBe(false);
  });
});

describe('class declarations through the sealer, the outbox and the system log', () => {
  it('each declaration and retirement is recorded once as system:classes; a forged one is refused', async () => {
    const env = memorySealEnv();
    await newLog(env, 'c1');
    await appendEvents(env, 'c1', 10, 0, () => 'access.grant');
    const first = await sealer(env, localSigner, { classes: [ACCESS, CONFIG] }).sealMany(
      ['c1'],
      NOW + 3_600_000,
    );
    const r1 = first.results[0];
    expect(r1?.ok && r1.classChanges.map((c) => [c.kind, c.commitment.def.name, c.atSize])).toEqual([
      ['declared', 'access', 0],
      ['declared', 'config', 0],
    ]);
    await appendEvents(env, 'c1', 5, 0, () => 'access.grant');
    const second = await sealer(env, localSigner, { classes: [ACCESS, CONFIG] }).sealMany(
      ['c1'],
      NOW + 3_600_000,
    );
    expect(second.results[0]?.ok && second.results[0].classChanges).toEqual([]);
    await appendEvents(env, 'c1', 5, 0, () => 'access.grant');
    const v2 = { ...ACCESS, version: 2, action: 'access.grant' };
    const third = await sealer(env, localSigner, { classes: [v2] }).sealMany(['c1'], NOW + 3_600_000);
    const r3 = third.results[0];
    expect(
      r3?.ok &&
        r3.classChanges.map((c) => [c.kind, c.commitment.def.name, c.commitment.def.version, c.atSize]),
    ).toEqual([
      ['retired', 'access', 1, 15],
      ['retired', 'config', 1, 15],
      ['declared', 'access', 2, 15],
    ]);

    const outbox = new MemoryHealthOutbox();
    const outcomes = [...first.results, ...second.results, ...third.results];
    expect(await putClassDeclarations(outbox, outcomes, NOW)).toBe(5);
    // What a compromised seal role could put: a class id with a person as actor.
    const forged = classDeclarationEvent(
      'c1',
      { kind: 'declared', commitment: at(CONFIG, 3), atSize: 3 },
      NOW,
    );
    await outbox.put({ ...forged, actor: { type: 'human', id: 'admin-1', name: 'Admin' } } as never);

    const admin = adminEnvOn(env.logs, new MemoryPrincipalStore());
    const deps = { outbox, audit: admin.sink, recorded: admin.auditLog };
    expect(await recordHealthObservations(deps)).toEqual({ recorded: 5, refused: 1, repeated: 0 });
    const trail = (await admin.records(SYSTEM_LOG_ID)).filter((r) =>
      r.event.action.startsWith('anchorlog.class.'),
    );
    // The outbox does not promise an order: compare as a set.
    const rows = trail.map((r) =>
      [
        r.submitter,
        r.event.action,
        r.event.metadata?.class,
        r.event.metadata?.version,
        r.event.metadata?.atSize,
      ].join(' '),
    );
    expect(rows.sort()).toEqual(
      [
        'system:classes anchorlog.class.declared access 1 0',
        'system:classes anchorlog.class.declared config 1 0',
        'system:classes anchorlog.class.retired access 1 15',
        'system:classes anchorlog.class.retired config 1 15',
        'system:classes anchorlog.class.declared access 2 15',
      ].sort(),
    );

    // The same runs observed again (a job retried after a WARN): nothing recorded twice.
    await putClassDeclarations(outbox, outcomes, NOW + 60_000);
    expect(await recordHealthObservations(deps)).toEqual({ recorded: 0, refused: 0, repeated: 5 });
  });
});
