/**
 * The witness service: anchorlog as a C2SP tlog-witness witness for other
 * logs (https://c2sp.org/tlog-witness §add-checkpoint, main at 95978ca;
 * docs/witnessing.md §Running a witness on AWS). One instance serves the node:http
 * witness of the local stack and tests (src/local/witness.ts) and the Lambda
 * (lambdas/witness.ts), both through src/http/witness-http.ts, so they run
 * the same code over a WitnessLedgerStore (memory or DynamoDB).
 *
 * Per request:
 *  1. read the head stored for the checkpoint's origin;
 *  2. decide with the pure core (decideAddCheckpoint: 404/403/400/409/422);
 *  3. on acceptance, cosign (nothing is released yet) and write the new head
 *     with compareAndSet FROM THE HEAD READ in 1 — atomic check-and-update;
 *  4. only if that write succeeded, return the cosignature. If another
 *     request moved the head in between, go back to 1: the decision is taken
 *     again on the new head (typically a 409 with its size, or a 422 for a
 *     conflicting root of the same size). A store failure is a 503 and no
 *     cosignature leaves the service.
 *
 * Hence, whatever crashes or races: (a) the state is durable before a
 * cosignature is returned, (b) the stored size never goes back, and (c) the
 * witness never releases cosignatures for two different roots of one size:
 * a second root at a stored size is refused by the core (422), and two
 * requests racing from the same head cannot both write (the store's
 * contract). A crash after 3 and before 4 loses only the reply; the log's
 * retry gets a 409 with the new size and resends from it (empty proof, same
 * root) for a fresh cosignature of the same checkpoint.
 */
import { formatSignatureLine } from '../core/note/signed-note.ts';
import type { NoteVerifier } from '../core/note/verifiers.ts';
import { type Cosigner, cosignerFromSecret } from '../core/witness/cosignature.ts';
import type { AddCheckpointRequest } from '../core/witness/protocol.ts';
import {
  cosignAccepted,
  decideAddCheckpoint,
  type LogKeyLookup,
  originHash,
  originOf,
} from '../core/witness/witness.ts';
import type { Clock } from '../ports/clock.ts';
import { WitnessLedgerError, type WitnessLedgerStore } from '../ports/witness-ledger-store.ts';

/**
 * The largest checkpoint note a witness keeps (with every signature line the log sent): far above
 * any real checkpoint (a few hundred bytes plus ~100 per signature, ~3.3 kB per ML-DSA line),
 * and well inside a DynamoDB item (400 KB).
 */
export const MAX_WITNESSED_NOTE_BYTES = 64 * 1024;

/** compareAndSet attempts per request before answering 503 (each lost one means another request moved the head). */
const CAS_ATTEMPTS = 4;

export type WitnessServiceAnswer =
  | { readonly status: 200; readonly body: string; readonly size: number }
  | { readonly status: 409; readonly size: number; readonly reason: string }
  | { readonly status: 400 | 403 | 404 | 422; readonly reason: string }
  /** The state store failed or stayed contended; nothing was released. */
  | { readonly status: 503; readonly reason: string; readonly code: string };

export interface WitnessServiceOptions {
  /** The witness key name on its signature lines (a schema-less URL by convention). */
  readonly keyName: string;
  /** 32-byte Ed25519 seed. */
  readonly secretKey: Uint8Array;
  /** The log keys trusted per origin (undefined: an unknown log, 404). */
  readonly logs: LogKeyLookup | ReadonlyMap<string, readonly NoteVerifier[]>;
  readonly store: WitnessLedgerStore;
  readonly clock: Clock;
}

export class WitnessService {
  readonly cosigner: Cosigner;
  readonly #secret: Uint8Array;
  readonly #logs: LogKeyLookup | ReadonlyMap<string, readonly NoteVerifier[]>;
  readonly #store: WitnessLedgerStore;
  readonly #clock: Clock;

  constructor(opts: WitnessServiceOptions) {
    this.cosigner = cosignerFromSecret(opts.keyName, opts.secretKey);
    this.#secret = opts.secretKey.slice();
    this.#logs = opts.logs;
    this.#store = opts.store;
    this.#clock = opts.clock;
  }

  async addCheckpoint(req: AddCheckpointRequest): Promise<WitnessServiceAnswer> {
    const origin = originOf(req.checkpoint);
    if (origin === undefined) return { status: 400, reason: 'no origin line' };
    if (new TextEncoder().encode(req.checkpoint).length > MAX_WITNESSED_NOTE_BYTES)
      return { status: 400, reason: `checkpoint note larger than ${MAX_WITNESSED_NOTE_BYTES} bytes` };
    const key = originHash(origin);
    try {
      for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        const head = await this.#store.get(key);
        if (head && head.origin !== origin)
          return { status: 503, code: 'INTEGRITY', reason: 'stored head is for another origin' };
        const current = head ? { size: head.size, rootHash: head.rootHash } : undefined;
        const d = decideAddCheckpoint(req, this.#logs, (o) => (o === origin ? current : undefined));
        if (d.status !== 200) return d;
        // Signed now, released only after the write below succeeded.
        const sig = cosignAccepted(
          d,
          this.cosigner.name,
          this.#secret,
          Math.max(1, Math.floor(this.#clock.now() / 1000)),
        );
        const line = `${formatSignatureLine(sig)}\n`;
        const written = await this.#store.compareAndSet(key, current, {
          origin,
          size: d.next.size,
          rootHash: d.next.rootHash,
          checkpoint: `${req.checkpoint}${line}`,
          updatedAt: this.#clock.now(),
        });
        if (written) return { status: 200, body: line, size: d.next.size };
      }
    } catch (err) {
      if (err instanceof WitnessLedgerError)
        return { status: 503, code: err.code, reason: `witness state: ${err.code}` };
      throw err;
    }
    return { status: 503, code: 'CONTENDED', reason: 'witness state kept changing; retry' };
  }

  /**
   * The checkpoint last cosigned for the log whose origin hashes to `hash`
   * (tlog-witness monitoring), with the log's signature lines and ours: 200,
   * 404 when it never cosigned one, 503 when the store failed.
   */
  async latest(
    hash: string,
  ): Promise<
    { readonly status: 200; readonly body: string } | { readonly status: 404 | 503; readonly reason: string }
  > {
    try {
      const head = await this.#store.get(hash);
      if (head) return { status: 200, body: head.checkpoint };
      return { status: 404, reason: 'never cosigned a checkpoint of this log' };
    } catch (err) {
      if (err instanceof WitnessLedgerError) return { status: 503, reason: `witness state: ${err.code}` };
      throw err;
    }
  }
}
