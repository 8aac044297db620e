/**
 * SealStateStore in memory (src/ports/seal-state.ts), with the semantics of
 * src/adapters/aws/dynamo-seal-state-store.ts: one record per log, written by
 * compare-and-swap on `version`; a halt lands in the same record (creating a
 * halt-only record on a log never sealed), is kept first-writer-wins, and
 * blocks every later swap and adoption. Reads and writes are copies.
 * THROTTLED and UNAVAILABLE come only from injected faults (`faults`).
 *
 * `plantLegacy` stands in for a state a deployment from before issue #11
 * left at its old location: `read` returns it, marked `legacy`, only while
 * the current location holds nothing, as the port allows.
 */
import {
  initialSealState,
  type SealState,
  SealStateError,
  type SealStateErrorCode,
  type SealStateStore,
} from '../../ports/seal-state.ts';
import { FaultPlan } from './faults.ts';

/** What is stored: a sealed state (version ≥ 1), or only a halt (version 0). */
interface Stored {
  readonly state: SealState | undefined;
  readonly halted: string | undefined;
  readonly haltedAt: number | undefined;
}

/** The fields a store keeps of a state (`halted` and `legacy` are the store's, not the writer's). */
function kept(s: SealState): SealState {
  return {
    logId: s.logId,
    version: s.version,
    size: s.size,
    rootHash: Uint8Array.from(s.rootHash),
    rightEdge: Uint8Array.from(s.rightEdge),
    seq: s.seq,
    lastLeafHash: Uint8Array.from(s.lastLeafHash),
    lastReceivedAt: s.lastReceivedAt,
    checkpoint: s.checkpoint,
    publishedVersion: s.publishedVersion,
    sealedAt: s.sealedAt,
    ...(s.classEdges !== undefined ? { classEdges: Uint8Array.from(s.classEdges) } : {}),
    halted: undefined,
  };
}

export class MemorySealStateStore implements SealStateStore {
  readonly #current = new Map<string, Stored>();
  readonly #legacy = new Map<string, SealState>();
  readonly faults = new FaultPlan<SealStateErrorCode>((code, message) => new SealStateError(code, message));

  read(logId: string): Promise<SealState | undefined> {
    return this.faults.run('read', logId, () => {
      const cur = this.#current.get(logId);
      if (cur) {
        if (cur.state === undefined) return initialSealState(logId, cur.halted);
        return { ...kept(cur.state), halted: cur.halted };
      }
      const legacy = this.#legacy.get(logId);
      return legacy ? { ...kept(legacy), legacy: true } : undefined;
    });
  }

  adopt(state: SealState): Promise<boolean> {
    if (state.version === 0 || state.halted !== undefined)
      return Promise.reject(new TypeError('adopt: only a sealed, running state is adopted'));
    return this.#put('adopt', state, () => !this.#current.has(state.logId));
  }

  compareAndSwap(next: SealState, expectedVersion: number): Promise<boolean> {
    if (next.version !== expectedVersion + 1)
      return Promise.reject(new TypeError('compareAndSwap: version must advance by one'));
    return this.#put('compareAndSwap', next, () => {
      const cur = this.#current.get(next.logId);
      if (expectedVersion === 0) return cur === undefined;
      return cur?.state?.version === expectedVersion && cur.halted === undefined;
    });
  }

  #put(op: string, next: SealState, condition: () => boolean): Promise<boolean> {
    if (next.checkpoint === undefined)
      return Promise.reject(new TypeError('a sealed state has a checkpoint'));
    return this.faults.run(op, next.logId, () => {
      if (!condition()) return false;
      this.#current.set(next.logId, { state: kept(next), halted: undefined, haltedAt: undefined });
      return true;
    });
  }

  markPublished(logId: string, version: number): Promise<boolean> {
    return this.faults.run('markPublished', logId, () => {
      const cur = this.#current.get(logId);
      if (cur?.state?.version !== version) return false;
      this.#current.set(logId, { ...cur, state: { ...cur.state, publishedVersion: version } });
      return true;
    });
  }

  halt(logId: string, reason: string, atMs: number): Promise<void> {
    return this.faults.run('halt', logId, () => {
      const cur = this.#current.get(logId);
      // The first halt's reason and time are kept (idempotent).
      this.#current.set(logId, {
        state: cur?.state,
        halted: cur?.halted ?? reason.slice(0, 1000),
        haltedAt: cur?.haltedAt ?? atMs,
      });
    });
  }

  /** When the log was halted (epoch ms), for tests; the port does not return it. */
  haltedAt(logId: string): number | undefined {
    return this.#current.get(logId)?.haltedAt;
  }

  /** Puts `state` where a deployment from before issue #11 kept it (see the header). */
  plantLegacy(state: SealState): void {
    this.#legacy.set(state.logId, kept(state));
  }

  /**
   * Replaces the stored state with `state` outside the compare-and-swap, as a
   * point-in-time restore or a write by someone other than the sealer would
   * (the sealer must notice: src/app/seal.ts checks states against the archive).
   */
  overwrite(state: SealState): void {
    const cur = this.#current.get(state.logId);
    this.#current.set(state.logId, {
      state: kept(state),
      halted: cur?.halted,
      haltedAt: cur?.haltedAt,
    });
  }
}
