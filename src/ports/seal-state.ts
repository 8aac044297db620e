/**
 * SealStateStore port: the sealer's per-log state and its lock, in one item
 * (sunlight's `LockBackend`: compare-and-swap, read-after-write consistent).
 * The item is the sealer's working state; the archive's `checkpoint` object
 * (Object Lock, every version kept) is what the world has seen. A state may
 * be ahead of the archive (its publish is pending) but never behind it: a
 * store can be rolled back (point-in-time restore, a write by someone other
 * than the sealer), the archive cannot, so the sealer checks every state it
 * builds on against the archive (src/app/seal.ts).
 *
 * Implemented by src/adapters/aws/dynamo-seal-state-store.ts. Every method
 * MUST reject only with a SealStateError (below) for a store failure.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */
import { AnchorlogError } from '../core/errors.ts';
import { ZERO_HASH } from '../core/record.ts';

/**
 * Errors a seal-state store raises. Anything else it throws is a bug or a
 * misconfiguration (INTERNAL). A lost compare-and-swap is not an error: the
 * methods resolve false.
 *  - THROTTLED: the store pushed back; nothing was written. Retry later.
 *  - UNAVAILABLE: transient failure; a write MAY have happened (timeouts).
 *  - INTEGRITY: a stored state is malformed. Not retryable; needs an operator.
 */
export type SealStateErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';
export class SealStateError extends AnchorlogError<SealStateErrorCode> {}

export interface SealState {
  readonly logId: string;
  /** CAS version: 0 = never sealed (no item), +1 per published tree head. */
  readonly version: number;
  /** Tree size covered by `checkpoint`. */
  readonly size: number;
  /** MTH at `size`. */
  readonly rootHash: Uint8Array;
  /** CompactRange.toBytes() of the right edge at `size` (src/core/merkle). */
  readonly rightEdge: Uint8Array;
  /** Last batch seq whose records are all sealed (sealing stops at batch boundaries); 0 = none. */
  readonly seq: number;
  /** Leaf hash of record size-1 (zero hash at size 0): the next record's `prev`. */
  readonly lastLeafHash: Uint8Array;
  /** receivedAt of record size-1; undefined at size 0. */
  readonly lastReceivedAt: string | undefined;
  /** Signed checkpoint text at `size`; undefined only at version 0. */
  readonly checkpoint: string | undefined;
  /** Highest version known to be in the archive; < version means "publish pending". */
  readonly publishedVersion: number;
  /** Epoch ms of the seal that produced this version (injected clock). */
  readonly sealedAt: number;
  /**
   * The right edges of the class logs `checkpoint` commits to
   * (src/core/classes/edges.ts, format byte first), written in the same CAS
   * as the checkpoint; undefined in a state written before it existed or
   * without classes. A hint the sealer checks against the signed class lines
   * before using (docs/classes.md §Sealing); a store MUST return the bytes
   * it was given, unchanged.
   */
  readonly classEdges?: Uint8Array;
  /**
   * Set when sealing found the stored state contradicting itself or the
   * archive; sealing stays stopped. Starts with a SealHaltCode and ': '
   * (src/app/seal.ts) for halts recorded since issue #11.
   */
  readonly halted: string | undefined;
  /**
   * True when the state was read from where it lived before issue #11 (a
   * deployment that has not sealed since upgrading). The sealer checks such a
   * state against the archive and `adopt`s it before building on it.
   */
  readonly legacy?: boolean;
}

export interface SealStateStore {
  /**
   * Consistent read; undefined when the log has never been sealed nor halted.
   * When the current location holds nothing, the store MAY fall back,
   * read-only, to a legacy location and MUST then mark the state `legacy`.
   * Once the current location holds a state, a legacy one MUST NOT be read.
   */
  read(logId: string): Promise<SealState | undefined>;

  /**
   * Copies `state` (a legacy state the caller has verified) to the current
   * location iff nothing is stored there yet. Resolves false, writing
   * nothing, otherwise (another sealer adopted it first, or a halt landed).
   */
  adopt(state: SealState): Promise<boolean>;

  /**
   * Writes `next` iff the stored version is `expectedVersion` (no item for 0)
   * and the log is not halted. `next.version` MUST be expectedVersion + 1.
   * Resolves false, writing nothing, when the condition fails. On a thrown
   * error the write MAY have happened: callers re-read (the next run does).
   */
  compareAndSwap(next: SealState, expectedVersion: number): Promise<boolean>;

  /**
   * Records that `version`'s checkpoint is in the archive. MUST change nothing
   * and resolve false when the stored version is no longer `version` (a newer
   * seal owns publishing now).
   */
  markPublished(logId: string, version: number): Promise<boolean>;

  /** Stops sealing of `logId` until an operator clears it. Idempotent. */
  halt(logId: string, reason: string, atMs: number): Promise<void>;
}

/** The state of a log that has never been sealed (version 0). */
export function initialSealState(logId: string, halted?: string): SealState {
  return {
    logId,
    version: 0,
    size: 0,
    rootHash: new Uint8Array(0),
    rightEdge: new Uint8Array(0),
    seq: 0,
    lastLeafHash: ZERO_HASH,
    lastReceivedAt: undefined,
    checkpoint: undefined,
    publishedVersion: 0,
    sealedAt: 0,
    halted,
  };
}
