/**
 * Witness port: one C2SP tlog-witness witness as the log's client sees it
 * (https://c2sp.org/tlog-witness §add-checkpoint; docs/witnessing.md).
 * Implemented by src/adapters/witness/http-witness.ts (HTTP) and
 * src/adapters/memory/witness.ts (in process, same decision code as the
 * local witness).
 *
 * Contract:
 *  - `addCheckpoint` sends exactly one add-checkpoint request. It MUST NOT
 *    retry on its own: a retry after a 409 needs a new old size and a new
 *    proof, which only the caller can compute.
 *  - 200 resolves `{ kind: 'cosigned', signatures }` with every signature
 *    line of the reply, parsed but NOT verified: the caller picks the line
 *    of the witness key it trusts and verifies it (a reply is attacker-
 *    controlled, and the adapter holds no trust policy).
 *  - 409 resolves `{ kind: 'conflict', size }` with the size the witness
 *    says it last cosigned (a body that is not `<decimal>\n` is
 *    WITNESS_BAD_RESPONSE).
 *  - Every other outcome rejects with a WitnessCallError whose code names
 *    it; nothing else is thrown.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */
import { AnchorlogError } from '../core/errors.ts';
import type { NoteSignature } from '../core/note/signed-note.ts';
import type { Cosigner } from '../core/witness/cosignature.ts';
import type { AddCheckpointRequest } from '../core/witness/protocol.ts';

export type WitnessCallErrorCode =
  /** 400: the witness found the request malformed (old size above the checkpoint, bad framing). */
  | 'WITNESS_BAD_REQUEST'
  /** 403: no trusted log signature verified (the witness does not know this log key). */
  | 'WITNESS_FORBIDDEN'
  /** 404: the witness does not know this log's origin. */
  | 'WITNESS_UNKNOWN_LOG'
  /** 422: the proof did not verify, or the same size with another root: possible fork. */
  | 'WITNESS_INCONSISTENT'
  /** Any other HTTP status (5xx, 429, redirects…). */
  | 'WITNESS_HTTP_STATUS'
  /** No complete reply within the deadline. */
  | 'WITNESS_TIMEOUT'
  /** Connection refused, reset, DNS… */
  | 'WITNESS_UNREACHABLE'
  /** A reply that is not what the protocol says (garbage body, wrong content type on 409, too large). */
  | 'WITNESS_BAD_RESPONSE';

export class WitnessCallError extends AnchorlogError<WitnessCallErrorCode> {
  readonly httpStatus: number | undefined;
  /** True when the same request may succeed later unchanged (timeouts, 5xx, 429). */
  readonly retryable: boolean;
  constructor(
    code: WitnessCallErrorCode,
    message: string,
    opts: { httpStatus?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.httpStatus = opts.httpStatus;
    this.retryable = opts.retryable ?? false;
  }
}

export type AddCheckpointReply =
  | { readonly kind: 'cosigned'; readonly signatures: readonly NoteSignature[] }
  | { readonly kind: 'conflict'; readonly size: number };

export interface Witness {
  /** Stable configured name (config `witnesses[].name`): key-safe, used in archive keys and metrics. */
  readonly name: string;
  /** The witness's cosigning key (from config, never from the witness). */
  readonly cosigner: Cosigner;
  addCheckpoint(request: AddCheckpointRequest): Promise<AddCheckpointReply>;
}
