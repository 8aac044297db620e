/**
 * HealthOutbox in memory (src/ports/health-outbox.ts), with the semantics of
 * src/adapters/aws/dynamo-health-outbox.ts: first writer wins per id, reads
 * are copies. THROTTLED and UNAVAILABLE come only from injected faults.
 */
import {
  type HealthOutbox,
  HealthOutboxError,
  type HealthOutboxErrorCode,
  type SystemObservation,
} from '../../ports/health-outbox.ts';
import { FaultPlan } from './faults.ts';

export class MemoryHealthOutbox implements HealthOutbox {
  readonly #pending = new Map<string, string>();
  readonly faults = new FaultPlan<HealthOutboxErrorCode>(
    (code, message) => new HealthOutboxError(code, message),
  );

  put(event: SystemObservation): Promise<void> {
    return this.faults.run('put', event.id, () => {
      if (!this.#pending.has(event.id)) this.#pending.set(event.id, JSON.stringify(event));
    });
  }

  pending(limit: number): Promise<readonly SystemObservation[]> {
    return this.faults.run('pending', '', () =>
      [...this.#pending.keys()]
        .sort()
        .slice(0, Math.max(0, limit))
        .map((id) => JSON.parse(this.#pending.get(id) as string) as SystemObservation),
    );
  }

  remove(ids: readonly string[]): Promise<void> {
    return this.faults.run('remove', ids.join(','), () => {
      for (const id of ids) this.#pending.delete(id);
    });
  }
}
