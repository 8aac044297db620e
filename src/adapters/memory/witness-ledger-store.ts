/**
 * WitnessLedgerStore in memory (src/ports/witness-ledger-store.ts), with the
 * semantics of the DynamoDB adapter: `compareAndSet` checks and writes in
 * one synchronous step (no await in between), so it is atomic in one
 * process. The local witness (src/local/witness.ts) runs on it and keeps a
 * copy on disk through `onWrite`, called inside that step, before the
 * caller hears true. THROTTLED and UNAVAILABLE come only from injected
 * faults (`faults`).
 */
import { bytesEqual } from '../../core/bytes.ts';
import {
  WitnessLedgerError,
  type WitnessLedgerErrorCode,
  type WitnessLedgerHead,
  type WitnessLedgerStore,
} from '../../ports/witness-ledger-store.ts';
import { FaultPlan } from './faults.ts';

const copy = (h: WitnessLedgerHead): WitnessLedgerHead => ({ ...h, rootHash: h.rootHash.slice() });

export class MemoryWitnessLedgerStore implements WitnessLedgerStore {
  readonly #heads = new Map<string, WitnessLedgerHead>();
  readonly #onWrite: ((heads: ReadonlyMap<string, WitnessLedgerHead>) => void) | undefined;
  readonly faults = new FaultPlan<WitnessLedgerErrorCode>(
    (code, message) => new WitnessLedgerError(code, message),
  );

  constructor(
    opts: {
      /** Heads to start from (a restart), by origin hash. */
      initial?: ReadonlyMap<string, WitnessLedgerHead>;
      /** Called with every head after each write, before compareAndSet resolves (persistence). */
      onWrite?: (heads: ReadonlyMap<string, WitnessLedgerHead>) => void;
    } = {},
  ) {
    for (const [k, h] of opts.initial ?? []) this.#heads.set(k, copy(h));
    this.#onWrite = opts.onWrite;
  }

  get(originHash: string): Promise<WitnessLedgerHead | undefined> {
    return this.faults.run('get', originHash, () => {
      const h = this.#heads.get(originHash);
      return h ? copy(h) : undefined;
    });
  }

  compareAndSet(
    originHash: string,
    expected: { readonly size: number; readonly rootHash: Uint8Array } | undefined,
    next: WitnessLedgerHead,
  ): Promise<boolean> {
    return this.faults.run('compareAndSet', originHash, () => {
      const have = this.#heads.get(originHash);
      const holds = expected
        ? have !== undefined && have.size === expected.size && bytesEqual(have.rootHash, expected.rootHash)
        : have === undefined;
      if (!holds) return false;
      this.#heads.set(originHash, copy(next));
      this.#onWrite?.(this.#heads);
      return true;
    });
  }

  /** Synchronous read for tests and the local stack. */
  peek(originHash: string): WitnessLedgerHead | undefined {
    const h = this.#heads.get(originHash);
    return h ? copy(h) : undefined;
  }

  /** Test hook: forget (undefined) or overwrite a head, as a restore from an old backup would. */
  setHead(originHash: string, head: WitnessLedgerHead | undefined): void {
    if (head === undefined) this.#heads.delete(originHash);
    else this.#heads.set(originHash, copy(head));
  }
}
