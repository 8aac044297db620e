/**
 * The witness side of tlog-witness `add-checkpoint`, as a pure decision
 * (https://c2sp.org/tlog-witness §add-checkpoint, main at 95978ca). A
 * witness (src/app/witness-service.ts, behind the node:http witness and the
 * Lambda) parses the request, calls `decideAddCheckpoint` with the state it
 * holds for the origin, and MUST persist `next` atomically with the check —
 * compare-and-swap on the head it read — before returning the cosignature:
 * otherwise two concurrent requests could roll its view of the log back
 * (§add-checkpoint, the race of steps 1–6).
 *
 * Order of checks, each answered by the spec's status:
 *  1. origin unknown                                  → 404
 *  2. no verifying signature by a trusted log key, or
 *     a line by a trusted key that does not verify    → 403
 *  3. old size > checkpoint size                      → 400
 *  4. old size ≠ the size this witness last cosigned  → 409 (body: that size)
 *  5. size 0 without the empty-tree root, a non-empty
 *     proof from 0, a proof that does not verify, or
 *     the same size with another root                 → 422
 *  6. cosign; `next` is the new state.
 */
import { bytesEqual, toHex } from '../bytes.ts';
import { sha256 } from '../hash.ts';
import { emptyRoot } from '../merkle/hasher.ts';
import { verifyConsistency } from '../merkle/verify.ts';
import { type Checkpoint, parseCheckpoint } from '../note/checkpoint.ts';
import { NoteError } from '../note/errors.ts';
import { formatSignatureLine, type NoteSignature } from '../note/signed-note.ts';
import type { NoteVerifier } from '../note/verifiers.ts';
import { verifyNote } from '../note/verify.ts';
import { type Cosigner, cosignerFromSecret, signCosignature } from './cosignature.ts';
import type { AddCheckpointRequest } from './protocol.ts';

/** What a witness remembers per log: the latest checkpoint it cosigned. */
export interface WitnessedHead {
  readonly size: number;
  readonly rootHash: Uint8Array;
}

export type AddCheckpointDecision =
  | {
      readonly status: 200;
      readonly checkpoint: Checkpoint;
      readonly next: WitnessedHead;
      readonly noteText: string;
    }
  | { readonly status: 409; readonly size: number; readonly reason: string }
  | { readonly status: 400 | 403 | 404 | 422; readonly reason: string };

/** origin → the log keys a witness trusts for it (undefined: an unknown log, 404). */
export type LogKeyLookup = (origin: string) => readonly NoteVerifier[] | undefined;

/**
 * `logs`: the log keys trusted per origin. `current`: what this witness
 * cosigned last for that origin (undefined: never).
 */
export function decideAddCheckpoint(
  req: AddCheckpointRequest,
  logs: LogKeyLookup | ReadonlyMap<string, readonly NoteVerifier[]>,
  current: (origin: string) => WitnessedHead | undefined,
): AddCheckpointDecision {
  // The origin is read before verification only to pick the keys; nothing
  // else of the text is trusted until a trusted key's signature verifies.
  const eol = req.checkpoint.indexOf('\n');
  if (eol <= 0) return { status: 400, reason: 'no origin line' };
  const origin = req.checkpoint.slice(0, eol);
  const keys = typeof logs === 'function' ? logs(origin) : logs.get(origin);
  if (!keys || keys.length === 0)
    return { status: 404, reason: `unknown log origin ${JSON.stringify(origin.slice(0, 100))}` };
  let noteText: string;
  try {
    // verifyNote ignores unknown keys' lines (other witnesses' cosignatures),
    // and throws INVALID_SIGNATURE for a bad line by a trusted key.
    noteText = verifyNote(req.checkpoint, keys).text;
  } catch (err) {
    if (err instanceof NoteError) return { status: 403, reason: `checkpoint signature: ${err.code}` };
    throw err;
  }
  let cp: Checkpoint;
  try {
    cp = parseCheckpoint(noteText);
  } catch (err) {
    if (err instanceof NoteError) return { status: 400, reason: `not a checkpoint: ${err.code}` };
    throw err;
  }
  if (cp.origin !== origin) return { status: 400, reason: 'origin line mismatch' };
  if (req.oldSize > cp.size)
    return { status: 400, reason: `old size ${req.oldSize} > checkpoint size ${cp.size}` };
  const have = current(origin);
  const haveSize = have?.size ?? 0;
  if (req.oldSize !== haveSize)
    return { status: 409, size: haveSize, reason: `old size ${req.oldSize}, witness has ${haveSize}` };
  if (cp.size === 0 && !bytesEqual(cp.rootHash, emptyRoot()))
    return { status: 422, reason: 'a checkpoint of size 0 must carry the empty-tree root' };
  if (req.oldSize === 0) {
    if (req.proof.length !== 0) return { status: 422, reason: 'a proof from old size 0 must be empty' };
  } else if (have) {
    try {
      verifyConsistency(have.size, cp.size, req.proof, have.rootHash, cp.rootHash);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return { status: 422, reason: `consistency proof from ${have.size} to ${cp.size}: ${why}` };
    }
  }
  return { status: 200, checkpoint: cp, next: { size: cp.size, rootHash: cp.rootHash }, noteText };
}

/** The cosignature a witness returns for an accepted checkpoint (timestamp: now, POSIX seconds, > 0). */
export function cosignAccepted(
  decision: Extract<AddCheckpointDecision, { status: 200 }>,
  witnessName: string,
  secretKey: Uint8Array,
  timestamp: number,
): NoteSignature {
  return signCosignature(witnessName, secretKey, decision.noteText, timestamp);
}

export type AddCheckpointAnswer =
  | { readonly status: 200; readonly body: string; readonly size: number }
  | { readonly status: 409; readonly size: number; readonly reason: string }
  | { readonly status: 400 | 403 | 404 | 422; readonly reason: string };

/**
 * A whole witness over in-memory state, for the memory Witness adapter
 * (src/adapters/memory/witness.ts, the log side's tests): decide, persist,
 * cosign, in one synchronous step, so the check and the update are atomic
 * (no await in between). The witness service (src/app/witness-service.ts)
 * keeps the same order over a WitnessLedgerStore with a conditional write
 * on the head it read.
 */
export class WitnessLedger {
  readonly cosigner: Cosigner;
  readonly #secret: Uint8Array;
  readonly #logs: LogKeyLookup | ReadonlyMap<string, readonly NoteVerifier[]>;
  readonly #heads = new Map<string, WitnessedHead>();
  /** Per origin, the checkpoint last cosigned, with the log's signatures and ours (the monitoring view). */
  readonly #latest = new Map<string, string>();

  constructor(opts: {
    name: string;
    secretKey: Uint8Array;
    logs: LogKeyLookup | ReadonlyMap<string, readonly NoteVerifier[]>;
  }) {
    this.cosigner = cosignerFromSecret(opts.name, opts.secretKey);
    this.#secret = opts.secretKey.slice();
    this.#logs = opts.logs;
  }

  /** What this witness last cosigned for `origin`. */
  head(origin: string): WitnessedHead | undefined {
    return this.#heads.get(origin);
  }

  /** Every origin's state, for persisting it. */
  heads(): ReadonlyMap<string, WitnessedHead> {
    return this.#heads;
  }

  /**
   * The checkpoint last cosigned for `origin`, carrying the log's signature
   * lines it verified and this witness's cosignature (tlog-witness §Monitor
   * Retrieval Mechanism); undefined when it never cosigned one.
   */
  latest(origin: string): string | undefined {
    return this.#latest.get(origin);
  }

  /** Test hook: forget (undefined) or overwrite the state of an origin, as a restore from backup would. */
  setHead(origin: string, head: WitnessedHead | undefined): void {
    if (head === undefined) this.#heads.delete(origin);
    else this.#heads.set(origin, { size: head.size, rootHash: head.rootHash.slice() });
  }

  /** Handles one request as of `nowSeconds` (POSIX, > 0: tlog-witness forbids a zero timestamp). */
  addCheckpoint(req: AddCheckpointRequest, nowSeconds: number): AddCheckpointAnswer {
    const d = decideAddCheckpoint(req, this.#logs, (o) => this.#heads.get(o));
    if (d.status !== 200) return d;
    // Persist before replying (tlog-witness: "MUST persist the new checkpoint before responding").
    this.#heads.set(d.checkpoint.origin, d.next);
    const sig = cosignAccepted(d, this.cosigner.name, this.#secret, Math.max(1, Math.floor(nowSeconds)));
    const line = `${formatSignatureLine(sig)}\n`;
    this.#latest.set(d.checkpoint.origin, `${req.checkpoint}${line}`);
    return { status: 200, body: line, size: d.next.size };
  }
}

/** How a witness names a log in its monitoring path and state: SHA-256 of the origin line, lower-case hex. */
export function originHash(origin: string): string {
  return toHex(sha256(new TextEncoder().encode(origin)));
}

/** The origin line of a checkpoint note, read before any signature is checked (to pick keys and state); undefined without one. */
export function originOf(checkpoint: string): string | undefined {
  const eol = checkpoint.indexOf('\n');
  return eol > 0 ? checkpoint.slice(0, eol) : undefined;
}
