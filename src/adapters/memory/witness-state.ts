/**
 * WitnessStateStore in memory (src/ports/witness-state.ts), with the
 * semantics of src/adapters/aws/dynamo-witness-state.ts: the size only
 * rises, a failure never changes it. THROTTLED and UNAVAILABLE come only
 * from injected faults (`faults`).
 */
import {
  type WitnessFailure,
  type WitnessState,
  WitnessStateError,
  type WitnessStateErrorCode,
  type WitnessStateStore,
} from '../../ports/witness-state.ts';
import { FaultPlan } from './faults.ts';

const key = (logId: string, witness: string) => `${logId}\0${witness}`;

export class MemoryWitnessStateStore implements WitnessStateStore {
  readonly #items = new Map<string, WitnessState>();
  readonly faults = new FaultPlan<WitnessStateErrorCode>(
    (code, message) => new WitnessStateError(code, message),
  );

  get(logId: string, witness: string): Promise<WitnessState | undefined> {
    return this.faults.run('get', logId, () => this.#items.get(key(logId, witness)));
  }

  list(logId: string): Promise<WitnessState[]> {
    return this.faults.run('list', logId, () =>
      [...this.#items.values()]
        .filter((s) => s.logId === logId)
        .sort((a, b) => (a.witness < b.witness ? -1 : a.witness > b.witness ? 1 : 0)),
    );
  }

  recordCosigned(s: {
    logId: string;
    witness: string;
    size: number;
    cosignedAt: number;
    updatedAt: number;
  }): Promise<boolean> {
    return this.faults.run('recordCosigned', s.logId, () => {
      const k = key(s.logId, s.witness);
      const prev = this.#items.get(k);
      if (prev && prev.size > s.size) return false;
      this.#items.set(k, {
        logId: s.logId,
        witness: s.witness,
        size: s.size,
        cosignedAt: s.cosignedAt,
        updatedAt: s.updatedAt,
      });
      return true;
    });
  }

  recordFailure(logId: string, witness: string, failure: WitnessFailure): Promise<void> {
    return this.faults.run('recordFailure', logId, () => {
      const k = key(logId, witness);
      const prev = this.#items.get(k);
      const f = { code: failure.code, message: failure.message.slice(0, 2000), at: failure.at };
      this.#items.set(k, {
        logId,
        witness,
        size: prev?.size ?? 0,
        cosignedAt: prev?.cosignedAt ?? 0,
        updatedAt: failure.at,
        lastFailure: f,
      });
    });
  }
}
