/**
 * WitnessStateStore port: per (log, witness), the latest checkpoint size the
 * witness cosigned for us, and the last failure (docs/witnessing.md §State).
 * Implemented by src/adapters/aws/dynamo-witness-state.ts (items `W#<logId>`,
 * written by the anchor role only) and src/adapters/memory/witness-state.ts.
 *
 * The state is a hint, never the truth: the witness's own state is (a 409
 * tells the log its size), and the cosignatures themselves are in the WORM
 * archive. It saves the 409 round trip on every run and records failures
 * for operators.
 *
 *  - `recordCosigned` MUST be conditional: it writes only when no record
 *    exists or the stored size is ≤ the new one, so a slow concurrent run
 *    never moves the size back. It resolves false when a larger size was
 *    already stored (nothing written). It clears the last failure.
 *  - `recordFailure` MUST NOT change the stored size.
 *  - Methods MUST reject only with a WitnessStateError for a store failure.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */
import { AnchorlogError } from '../core/errors.ts';

/**
 *  - THROTTLED: the store pushed back; nothing was written. Retry later.
 *  - UNAVAILABLE: transient failure; a write MAY have happened.
 *  - INTEGRITY: a stored item is malformed. Needs an operator.
 */
export type WitnessStateErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';
export class WitnessStateError extends AnchorlogError<WitnessStateErrorCode> {}

export interface WitnessFailure {
  /** A WitnessCallError code, or the use case's own (BAD_COSIGNATURE, WITNESS_AHEAD, …). */
  readonly code: string;
  readonly message: string;
  /** Epoch ms. */
  readonly at: number;
}

export interface WitnessState {
  readonly logId: string;
  /** Configured witness name. */
  readonly witness: string;
  /** Largest checkpoint size this witness cosigned for the log, as far as we know (0: none yet). */
  readonly size: number;
  /** The cosignature's own timestamp (POSIX seconds) at `size`; 0 when size is 0. */
  readonly cosignedAt: number;
  /** Epoch ms of the last write. */
  readonly updatedAt: number;
  readonly lastFailure?: WitnessFailure;
}

export interface WitnessStateStore {
  get(logId: string, witness: string): Promise<WitnessState | undefined>;
  /** Every witness's state for the log, by witness name. */
  list(logId: string): Promise<WitnessState[]>;
  recordCosigned(state: {
    logId: string;
    witness: string;
    size: number;
    cosignedAt: number;
    updatedAt: number;
  }): Promise<boolean>;
  recordFailure(logId: string, witness: string, failure: WitnessFailure): Promise<void>;
}
