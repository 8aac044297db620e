/**
 * WitnessLedgerStore port: the durable state of a witness anchorlog RUNS,
 * the service side of C2SP tlog-witness (docs/witnessing.md §Running a
 * witness on AWS). Per log origin, the latest checkpoint the witness cosigned.
 * Not to be confused with WitnessStateStore (src/ports/witness-state.ts),
 * the log's own hint of what each witness it submits to has cosigned.
 * Implemented by src/adapters/aws/dynamo-witness-ledger-store.ts and
 * src/adapters/memory/witness-ledger-store.ts.
 *
 * The witness's safety rests on `compareAndSet` alone: tlog-witness
 * requires that the check of a request and the update of the state be
 * atomic, or two concurrent requests could roll the witness's view back
 * (or have it cosign two roots for one size). The use case
 * (src/app/witness-service.ts) reads a head, decides with the pure core
 * (decideAddCheckpoint), and releases a cosignature only after
 * `compareAndSet` from the head it read resolved true.
 *
 *  - Heads are keyed by the SHA-256 of the origin, lower-case hex (the
 *    monitoring path `GET <prefix>/<hash>/checkpoint` names a log that way).
 *  - `compareAndSet(key, expected, next)` MUST write `next` only if the
 *    stored head is still `expected` — same size and same root hash — or,
 *    when `expected` is undefined, only if no head is stored. It resolves
 *    true when it wrote, false when the condition failed (nothing written).
 *    Two concurrent calls from the same `expected` MUST NOT both resolve true.
 *  - A head read back MUST equal the last one written, byte for byte.
 *  - Methods MUST reject only with a WitnessLedgerError for a store failure;
 *    after UNAVAILABLE a write MAY have happened, so the caller must not
 *    release a cosignature (it re-reads on the next request).
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
export type WitnessLedgerErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';
export class WitnessLedgerError extends AnchorlogError<WitnessLedgerErrorCode> {}

export interface WitnessLedgerHead {
  /** The log's origin line. */
  readonly origin: string;
  /** Size of the latest checkpoint cosigned (> 0 except for an accepted empty tree). */
  readonly size: number;
  /** Its root hash (32 bytes). */
  readonly rootHash: Uint8Array;
  /** The checkpoint as cosigned: the log's note with the log's signature lines and ours (monitoring). */
  readonly checkpoint: string;
  /** Epoch ms of the write. */
  readonly updatedAt: number;
}

export interface WitnessLedgerStore {
  /** The head stored under `originHash` (hex SHA-256 of the origin), or undefined. */
  get(originHash: string): Promise<WitnessLedgerHead | undefined>;
  compareAndSet(
    originHash: string,
    expected: { readonly size: number; readonly rootHash: Uint8Array } | undefined,
    next: WitnessLedgerHead,
  ): Promise<boolean>;
}
