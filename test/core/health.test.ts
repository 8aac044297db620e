/**
 * Health events (src/core/health.ts): valid Event v1 documents for the
 * `system` log, ids that name the occurrence (the same occurrence → the same
 * id, a different one → a different id), and — what they exist for — the
 * starter pack's self-monitoring rules fire on them as the jobs build them.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CompiledRule, loadRule } from '../../src/core/detect/compile.ts';
import type { Step } from '../../src/core/detect/engine.ts';
import { validateEvent } from '../../src/core/event.ts';
import {
  anchorQuorumMissedEvent,
  type HealthAuditEvent,
  sealHaltedEvent,
  sealLagEvent,
  tsaFailureEvent,
} from '../../src/core/health.ts';
import { ZERO_HASH_B64 } from '../../src/core/record.ts';
import { evaluate, MIN, T0 } from './detect/support.ts';

const packRule = (id: string): CompiledRule =>
  loadRule(readFileSync(new URL(`../../rules/anchorlog/${id}.json`, import.meta.url)));

/** The events as `system`-log records, submitted by the health actor at their occurredAt. */
function steps(events: readonly HealthAuditEvent[]): Step[] {
  return events.map((event, index) => ({
    kind: 'record',
    record: {
      v: 1,
      logId: 'system',
      index,
      receivedAt: event.occurredAt,
      submitter: event.actor.id,
      prev: ZERO_HASH_B64,
      event: validateEvent(JSON.parse(JSON.stringify(event))),
    },
  }));
}

const lag = (logId: string, seq: number, lagSeconds: number, observedAt = T0) =>
  sealLagEvent({
    logId,
    seq,
    oldestReceivedAt: new Date(observedAt - lagSeconds * 1000).toISOString(),
    lagSeconds,
    thresholdSeconds: 300,
    observedAt,
  });
const halt = (logId: string, halted: string, stateVersion = 4) =>
  sealHaltedEvent({
    logId,
    halted,
    haltCode: halted.slice(0, halted.indexOf(':')),
    stateVersion,
    sealedSize: 40,
    observedAt: T0,
  });
const missed = (logId: string, observedAt: number) =>
  anchorQuorumMissedEvent({ logId, size: 40, quorum: 2, granted: 1, tsaCount: 3, observedAt });
const tsaFailed = (tsa: string, observedAt: number, logId = 'acme') =>
  tsaFailureEvent({
    tsa,
    logId,
    size: 40,
    code: 'TSA_HTTP_STATUS',
    message: 'HTTP 503',
    attempts: 3,
    observedAt,
  });

describe('health events', () => {
  it('are valid events with bounded, printable ids', () => {
    const long = 'x'.repeat(5_000);
    for (const e of [
      lag('acme', 3, 400),
      halt('acme', `FORK: ${long}`),
      missed('acme', T0),
      tsaFailed(long, T0),
    ]) {
      expect(() => validateEvent(JSON.parse(JSON.stringify(e)))).not.toThrow();
      expect(e.id).toMatch(/^health\.[a-z_]+\.[0-9a-f]{32}$/);
      expect(e.actor.id).toBe('system:health');
    }
  });

  it('name the occurrence: the same one twice is one id, different ones differ', () => {
    // Observed by two runs a minute apart, a stuck batch is one occurrence.
    expect(lag('acme', 3, 400, T0).id).toBe(lag('acme', 3, 460, T0 + MIN).id);
    expect(halt('acme', 'FORK: a').id).toBe(halt('acme', 'FORK: a').id);
    fc.assert(
      fc.property(
        fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,8}$/), fc.nat(1_000)),
        fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,8}$/), fc.nat(1_000)),
        ([l1, s1], [l2, s2]) => {
          fc.pre(l1 !== l2 || s1 !== s2);
          expect(lag(l1, s1, 400).id).not.toBe(lag(l2, s2, 400).id);
          expect(missed(l1, T0 + s1).id).not.toBe(missed(l2, T0 + s2).id);
          expect(tsaFailed(l1, T0 + s1).id).not.toBe(tsaFailed(l2, T0 + s2).id);
        },
      ),
    );
    // A halt cleared by an operator and hit again at another state is a new occurrence.
    expect(halt('acme', 'FORK: a', 4).id).not.toBe(halt('acme', 'FORK: a', 5).id);
  });
});

describe('the self-monitoring rules on the events the jobs record', () => {
  it('seal lag: fires at the threshold, not below it', async () => {
    const rule = packRule('anchorlog.self.seal-lag');
    const fired = await evaluate([rule], steps([lag('acme', 3, 300)]), { logId: 'system' });
    expect(fired.alerts.map((a) => a.rule.id)).toEqual(['anchorlog.self.seal-lag']);
    const quiet = await evaluate([rule], steps([lag('acme', 3, 299)]), { logId: 'system' });
    expect(quiet.alerts).toEqual([]);
  });

  it('log halted: fires on a halt', async () => {
    const fired = await evaluate([packRule('anchorlog.self.log-halted')], steps([halt('acme', 'FORK: x')]), {
      logId: 'system',
    });
    expect(fired.alerts.map((a) => a.rule.id)).toEqual(['anchorlog.self.log-halted']);
  });

  it('anchor quorum: two missed runs of one log in 30 minutes fire; of two logs, they do not', async () => {
    const rule = packRule('anchorlog.self.anchor-quorum-missed');
    const fired = await evaluate([rule], steps([missed('acme', T0), missed('acme', T0 + 10 * MIN)]), {
      logId: 'system',
    });
    expect(fired.alerts.map((a) => a.rule.id)).toEqual(['anchorlog.self.anchor-quorum-missed']);
    const quiet = await evaluate([rule], steps([missed('acme', T0), missed('other', T0 + 10 * MIN)]), {
      logId: 'system',
    });
    expect(quiet.alerts).toEqual([]);
  });

  it('TSA failing: three failed runs of one TSA in 30 minutes fire, whatever the log', async () => {
    const rule = packRule('anchorlog.self.tsa-failing');
    const three = [
      tsaFailed('freetsa', T0, 'a'),
      tsaFailed('freetsa', T0 + MIN, 'b'),
      tsaFailed('freetsa', T0 + 2 * MIN),
    ];
    const fired = await evaluate([rule], steps(three), { logId: 'system' });
    expect(fired.alerts.map((a) => a.rule.id)).toEqual(['anchorlog.self.tsa-failing']);
    const quiet = await evaluate(
      [rule],
      steps([tsaFailed('freetsa', T0), tsaFailed('digicert', T0 + MIN), tsaFailed('freetsa', T0 + 2 * MIN)]),
      { logId: 'system' },
    );
    expect(quiet.alerts).toEqual([]);
  });
});
