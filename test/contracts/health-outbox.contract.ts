/**
 * The HealthOutbox contract (src/ports/health-outbox.ts), run against every
 * implementation by test/contracts/memory.test.ts and aws.test.ts. The
 * factory gives each test an empty outbox (its own table on the emulator).
 */
import { describe, expect, it } from 'vitest';
import { type HealthAuditEvent, sealLagEvent, tsaFailureEvent } from '../../src/core/health.ts';
import type { HealthOutbox } from '../../src/ports/health-outbox.ts';

function lag(logId: string, seq: number, lagSeconds = 400): HealthAuditEvent {
  return sealLagEvent({
    logId,
    seq,
    oldestReceivedAt: '2026-03-01T12:00:00.000Z',
    lagSeconds,
    thresholdSeconds: 300,
    observedAt: Date.parse('2026-03-01T12:06:40.000Z'),
  });
}

export function healthOutboxContract(name: string, make: () => Promise<HealthOutbox>): void {
  describe(`HealthOutbox contract: ${name}`, () => {
    it('an empty outbox has nothing pending', async () => {
      const outbox = await make();
      expect(await outbox.pending(10)).toEqual([]);
    });

    it('a put observation is pending, read back equal', async () => {
      const outbox = await make();
      const tsa = tsaFailureEvent({
        tsa: 'freetsa',
        logId: 'payments',
        size: 12,
        code: 'TSA_TIMEOUT',
        message: 'no answer in 10 s',
        attempts: 3,
        observedAt: 1_772_366_400_000,
      });
      await outbox.put(lag('payments', 3));
      await outbox.put(tsa);
      const pending = await outbox.pending(10);
      expect([...pending].sort((a, b) => a.id.localeCompare(b.id))).toEqual(
        [lag('payments', 3), tsa].sort((a, b) => a.id.localeCompare(b.id)),
      );
    });

    it('put is first-writer-wins per id: observing the same occurrence again changes nothing', async () => {
      const outbox = await make();
      const first = lag('orders', 7, 301);
      await outbox.put(first);
      await outbox.put({ ...lag('orders', 7, 900) });
      expect(await outbox.pending(10)).toEqual([first]);
    });

    it('remove takes exactly the named observations; unknown ids are ignored', async () => {
      const outbox = await make();
      const a = lag('a', 1);
      const b = lag('b', 1);
      const c = lag('c', 1);
      for (const e of [a, b, c]) await outbox.put(e);
      await outbox.remove([a.id, 'health.seal_lag.00000000000000000000000000000000']);
      expect((await outbox.pending(10)).map((e) => e.id).sort()).toEqual([b.id, c.id].sort());
      await outbox.remove([b.id, c.id]);
      expect(await outbox.pending(10)).toEqual([]);
    });

    it('pending returns at most `limit`, and nothing for a limit of 0', async () => {
      const outbox = await make();
      for (let seq = 1; seq <= 5; seq++) await outbox.put(lag('many', seq));
      expect(await outbox.pending(2)).toHaveLength(2);
      expect(await outbox.pending(0)).toEqual([]);
      expect(await outbox.pending(10)).toHaveLength(5);
    });
  });
}
