/**
 * The Notifier contract (src/ports/notifier.ts), run against the in-memory
 * notifier by memory.test.ts and against the HTTP notifier and a real local
 * receiver by aws.test.ts: one attempt per call, the notification id reaches
 * the destination unchanged on every attempt (receivers de-duplicate on it),
 * and a destination that refuses or cannot be reached is an AttemptResult,
 * never a rejection.
 */
import { describe, expect, it } from 'vitest';
import type { Notifier } from '../../src/ports/notifier.ts';
import { NOTICE } from '../core/deliver/alerts.ts';

export interface NotifierFixture {
  readonly notifier: Notifier;
  /** Ids the destination has received, in order. */
  received(): Promise<string[]>;
  /** From now on the destination refuses every attempt with `status`. */
  refuse(status: number): void;
}

export interface NotifierFactories {
  /** A notifier whose destination accepts until told otherwise. */
  make(): Promise<NotifierFixture>;
  /** A notifier whose destination cannot be reached at all. */
  unreachable(): Promise<Notifier>;
}

export function notifierContract(name: string, f: NotifierFactories): void {
  describe(`Notifier contract: ${name}`, () => {
    it('delivers one notification per attempt, with its id, the same on every attempt', async () => {
      const { notifier, received } = await f.make();
      const first = await notifier.send({ id: 'alr_contract_1', notice: NOTICE, attempt: 1 });
      const again = await notifier.send({ id: 'alr_contract_1', notice: NOTICE, attempt: 2 });
      expect(first.ok).toBe(true);
      expect(again.ok).toBe(true);
      expect(await received()).toEqual(['alr_contract_1', 'alr_contract_1']);
    });

    it('a refusal resolves as a failure with its status; a 5xx may be retried, a 4xx not', async () => {
      const fx = await f.make();
      fx.refuse(503);
      const busy = await fx.notifier.send({ id: 'alr_contract_2', notice: NOTICE, attempt: 1 });
      expect(busy).toMatchObject({ ok: false, code: 'HTTP_STATUS', status: 503, retryable: true });
      fx.refuse(400);
      const bad = await fx.notifier.send({ id: 'alr_contract_3', notice: NOTICE, attempt: 1 });
      expect(bad).toMatchObject({ ok: false, code: 'HTTP_STATUS', status: 400, retryable: false });
    });

    it('an unreachable destination resolves as a retryable failure, never a rejection', async () => {
      const notifier = await f.unreachable();
      const r = await notifier.send({ id: 'alr_contract_4', notice: NOTICE, attempt: 1 });
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.retryable).toBe(true);
        expect(r.message.length).toBeGreaterThan(0);
      }
    });
  });
}
