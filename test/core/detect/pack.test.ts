/**
 * The starter rule pack (rules/, docs/detection.md "The starter rule pack"):
 * every file is a valid rule, and every rule has a stream that fires it and a
 * close one that does not. A rule without both cases fails this file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CompiledRule, checkRuleSet, loadRule } from '../../../src/core/detect/compile.ts';
import type { Step } from '../../../src/core/detect/engine.ts';
import { DAY, type EventSpec, evaluate, HOUR, MIN, record, SEC, T0, tick } from './support.ts';

const root = new URL('../../../rules/', import.meta.url).pathname;
const files = readdirSync(root).flatMap((dir) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(dir, f)),
);
const pack = new Map<string, CompiledRule>(
  files.map((f) => {
    const r = loadRule(readFileSync(join(root, f)));
    return [r.id, r];
  }),
);

/** A stream of records: [ms after T0, event] pairs, numbered from 0, in `logId`. */
function stream(specs: ReadonlyArray<[number, EventSpec] | Step>, logId = 'acme'): Step[] {
  let index = 0;
  return specs.map((s) =>
    Array.isArray(s) ? ({ kind: 'record', record: record(index++, T0 + s[0], s[1], logId) } as Step) : s,
  );
}
const times = (n: number, every: number, e: EventSpec, from = 0): Array<[number, EventSpec]> =>
  Array.from({ length: n }, (_, i) => [from + i * every, e]);

// 2026-03-01 is a Sunday: T0 + 1 day + 10 h is Monday 10:00 UTC, inside the change window.
const MONDAY_10H = DAY + 10 * HOUR;

const exportOf = (actor: string, bytes: number): EventSpec => ({
  action: 'data.export',
  actor,
  metadata: { bytes },
});
const toolCall = (actor: string, tool: string): EventSpec => ({
  action: 'tool.call',
  actor,
  actorType: 'agent',
  target: { type: 'tool', id: tool },
});
const grant = (metadata: EventSpec['metadata']): EventSpec => ({
  action: 'access.grant',
  actorType: 'human',
  actor: 'u-1',
  target: { type: 'role', id: 'prod-admin' },
  metadata,
});
const heartbeat = (streamId: string, seq: number): EventSpec => ({
  action: 'producer.heartbeat',
  actorType: 'service',
  actor: 'svc-agents',
  metadata: { intervalSeconds: 60 },
  producer: { stream: streamId, seq },
});
const denial = (actor: string): EventSpec => ({ action: 'guardrail.prompt', actor, outcome: 'denied' });
const principalEvent = (action: string, before: unknown, after: unknown): EventSpec => ({
  action,
  actorType: 'human',
  actor: 'admin-1',
  target: { type: 'principal', id: 'p-7' },
  changes: { before: before as never, after: after as never },
});
const health = (action: string, target: string, metadata: EventSpec['metadata'] = {}): EventSpec => ({
  action,
  actorType: 'system',
  actor: 'anchorlog',
  target: { type: action.includes('tsa') ? 'tsa' : 'log', id: target },
  metadata,
});

interface Case {
  log?: string;
  fires: Step[];
  quiet: Step[];
}

const CASES: Record<string, Case> = {
  'ai.data-export.volume': {
    fires: stream(times(6, 5 * MIN, exportOf('agent-7', 1e9))),
    quiet: stream([...times(5, 5 * MIN, exportOf('agent-7', 1e9)), [30 * MIN, exportOf('agent-8', 1e9)]]),
  },
  'ai.data-export.frequency': {
    fires: stream(times(21, 20 * SEC, exportOf('agent-7', 10))),
    quiet: stream(times(21, 40 * SEC, exportOf('agent-7', 10))),
  },
  'ai.agent.first-tool': {
    fires: stream([
      [0, toolCall('agent-1', 'search')],
      [8 * DAY, toolCall('agent-1', 'shell')],
    ]),
    quiet: stream([
      [0, toolCall('agent-1', 'search')],
      [HOUR, toolCall('agent-1', 'shell')], // learning period
      [8 * DAY, toolCall('agent-1', 'shell')],
      [9 * DAY, { ...toolCall('agent-1', 'mail'), actorType: 'human' }],
    ]),
  },
  'ai.agent.tool-rate': {
    fires: stream([
      ...times(12 * 5, MIN, toolCall('agent-1', 's')),
      ...times(60, SEC, toolCall('agent-1', 's'), HOUR),
    ]),
    quiet: stream([
      ...times(12 * 5, MIN, toolCall('agent-1', 's')),
      ...times(50, SEC, toolCall('agent-1', 's'), HOUR),
    ]),
  },
  'ai.budget.breach-unapproved': {
    fires: stream([
      [0, { action: 'workflow.approve', target: { type: 'workflow', id: 'wf-1' } }],
      [HOUR, { action: 'budget.threshold.breach', metadata: { workflowId: 'wf-2' } }],
    ]),
    quiet: stream([
      [0, { action: 'workflow.approve', target: { type: 'workflow', id: 'wf-1' } }],
      [HOUR, { action: 'budget.threshold.breach', metadata: { workflowId: 'wf-1' } }],
    ]),
  },
  'ai.access.privileged-grant-outside-window': {
    fires: stream([[2 * HOUR, grant({ privileged: true, grantorRoles: ['admin'] })]]), // Sunday 02:00
    quiet: stream([
      [MONDAY_10H, grant({ privileged: true, grantorRoles: ['admin'] })],
      [2 * HOUR, grant({ privileged: false })],
    ]),
  },
  'ai.access.privileged-grant-by-non-admin': {
    fires: stream([[MONDAY_10H, grant({ privileged: true, grantorRoles: ['support'] })]]),
    quiet: stream([
      [MONDAY_10H, grant({ privileged: true, grantorRoles: ['support', 'admin'] })],
      [MONDAY_10H, grant({ privileged: false, grantorRoles: ['support'] })],
    ]),
  },
  'ai.guardrail.denials-spike': {
    fires: stream([...times(6, 10 * MIN, denial('agent-3')), ...times(11, SEC, denial('agent-3'), HOUR)]),
    quiet: stream([
      ...times(6 * 4, 150 * SEC, denial('agent-3')),
      ...times(11, SEC, denial('agent-3'), HOUR),
    ]),
  },
  'anchorlog.admin.actions': {
    log: 'system',
    fires: stream([[0, principalEvent('principal.rotate', {}, {})]], 'system'),
    quiet: stream([[0, { action: 'anchorlog.health.seal_lag', metadata: { lagSeconds: 1 } }]], 'system'),
  },
  'anchorlog.admin.break-glass-used': {
    log: 'system',
    fires: stream(
      [
        [
          0,
          { ...principalEvent('principal.break_glass.use', {}, {}), outcome: 'denied', actor: 'ops-admin' },
        ],
      ],
      'system',
    ),
    quiet: stream([[0, principalEvent('principal.rotate', {}, {})]], 'system'),
  },
  'anchorlog.admin.admin-scope-granted': {
    log: 'system',
    fires: stream(
      [
        [
          0,
          principalEvent(
            'principal.scopes.update',
            { scopes: { acme: ['events:read'] } },
            { scopes: { acme: ['events:read'], '*': ['admin'] } },
          ),
        ],
      ],
      'system',
    ),
    quiet: stream(
      [
        [
          0,
          principalEvent(
            'principal.scopes.update',
            { scopes: { '*': ['admin'] } },
            { scopes: { '*': ['admin', 'export'] } },
          ),
        ],
        [1, principalEvent('principal.create', {}, { scopes: { acme: ['events:write'] } })],
      ],
      'system',
    ),
  },
  'anchorlog.self.seal-lag': {
    log: 'system',
    fires: stream([[0, health('anchorlog.health.seal_lag', 'acme', { lagSeconds: 300 })]], 'system'),
    quiet: stream([[0, health('anchorlog.health.seal_lag', 'acme', { lagSeconds: 299 })]], 'system'),
  },
  'anchorlog.self.log-halted': {
    log: 'system',
    fires: stream([[0, health('anchorlog.health.seal_halted', 'acme', { haltCode: 'FORK' })]], 'system'),
    quiet: stream([[0, health('anchorlog.health.seal_lag', 'acme', { lagSeconds: 1 })]], 'system'),
  },
  'anchorlog.self.anchor-quorum-missed': {
    log: 'system',
    fires: stream(times(2, 5 * MIN, health('anchorlog.health.anchor_quorum_missed', 'acme')), 'system'),
    quiet: stream(times(2, 31 * MIN, health('anchorlog.health.anchor_quorum_missed', 'acme')), 'system'),
  },
  'anchorlog.self.tsa-failing': {
    log: 'system',
    fires: stream(times(3, 5 * MIN, health('anchorlog.health.tsa_failure', 'freetsa.org')), 'system'),
    quiet: stream(
      [
        ...times(2, 5 * MIN, health('anchorlog.health.tsa_failure', 'freetsa.org')),
        [11 * MIN, health('anchorlog.health.tsa_failure', 'digicert.com')],
      ],
      'system',
    ),
  },
  'anchorlog.self.producer-heartbeat-missed': {
    // Stream a beats, then stops; stream b keeps beating.
    fires: stream([
      [0, heartbeat('svc/a', 1)],
      [0, heartbeat('svc/b', 1)],
      [10 * MIN, heartbeat('svc/b', 2)],
      [20 * MIN, heartbeat('svc/b', 3)],
      tick(21 * MIN),
    ]),
    quiet: stream([
      [0, heartbeat('svc/a', 1)],
      [10 * MIN, heartbeat('svc/a', 2)],
      [20 * MIN, heartbeat('svc/a', 3)],
      tick(21 * MIN),
    ]),
  },
  'anchorlog.self.producer-silence': {
    fires: stream([[0, { submitter: 'svc-a' }], [30 * MIN, { submitter: 'svc-b' }], tick(61 * MIN)]),
    quiet: stream([[0, { submitter: 'svc-a' }], [50 * MIN, { submitter: 'svc-a' }], tick(61 * MIN)]),
  },
};

describe('the starter rule pack', () => {
  it('names each file after its rule, and no two rules share an id', () => {
    for (const f of files) {
      const id = f.slice(f.indexOf('/') + 1).replace(/\.json$/, '');
      expect(pack.get(id)?.id, f).toBe(id);
    }
    expect(pack.size).toBe(files.length);
    checkRuleSet([...pack.values()]);
  });

  it('tests every rule', () => {
    expect(Object.keys(CASES).sort()).toEqual([...pack.keys()].sort());
  });

  for (const [id, c] of Object.entries(CASES)) {
    describe(id, () => {
      const r = () => pack.get(id) as CompiledRule;
      it('fires', async () => {
        const { alerts } = await evaluate([r()], c.fires, { logId: c.log ?? 'acme' });
        expect(alerts.map((a) => a.rule.id)).toEqual([id]);
      });
      it('does not fire', async () => {
        const { outbox, store } = await evaluate([r()], c.quiet, { logId: c.log ?? 'acme' });
        expect(outbox).toEqual([]);
        expect(await store.readCursor(c.log ?? 'acme')).toBeDefined();
      });
      it('has no expression errors on its own cases', async () => {
        const { runDetection } = await import('../../../src/app/detection.ts');
        const { MemoryDetectionStateStore } = await import('../../../src/adapters/memory/detection-state.ts');
        const { DetectionEngine } = await import('../../../src/core/detect/engine.ts');
        for (const steps of [c.fires, c.quiet]) {
          const res = await runDetection(
            new MemoryDetectionStateStore(),
            new DetectionEngine(c.log ?? 'acme', [r()]),
            steps,
          );
          for (const s of res.stats)
            expect(s.rules[id]?.errors, JSON.stringify(s.rules[id]?.firstError)).toBe(0);
        }
      });
    });
  }
});
