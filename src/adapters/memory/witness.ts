/**
 * A Witness (src/ports/witness.ts) in process: a WitnessLedger (the same
 * decision and cosigning code the witness service runs), called directly, so use
 * cases are tested in milliseconds against real cosignatures and the real
 * add-checkpoint decisions. Transport failures (WITNESS_TIMEOUT, 5xx, …)
 * come only from injected faults (`faults`); `when: 'after'` makes the
 * witness cosign and persist, then the caller hears the error — the crash
 * between the witness's persist and its reply.
 */
import type { NoteVerifier } from '../../core/note/verifiers.ts';
import type { Cosigner } from '../../core/witness/cosignature.ts';
import type { AddCheckpointRequest } from '../../core/witness/protocol.ts';
import { parseConflictBody, parseCosignatureResponse } from '../../core/witness/protocol.ts';
import { type LogKeyLookup, WitnessLedger } from '../../core/witness/witness.ts';
import type { Clock } from '../../ports/clock.ts';
import {
  type AddCheckpointReply,
  type Witness,
  WitnessCallError,
  type WitnessCallErrorCode,
} from '../../ports/witness.ts';
import { FaultPlan } from './faults.ts';

const STATUS_CODES: Record<number, WitnessCallErrorCode> = {
  400: 'WITNESS_BAD_REQUEST',
  403: 'WITNESS_FORBIDDEN',
  404: 'WITNESS_UNKNOWN_LOG',
  422: 'WITNESS_INCONSISTENT',
};

export interface MemoryWitnessOptions {
  /** Configured name (archive keys, metrics). */
  readonly name: string;
  /** The witness key name on its signature lines. */
  readonly keyName: string;
  /** 32-byte Ed25519 seed. */
  readonly secretKey: Uint8Array;
  /** origin → the log keys this witness trusts. */
  readonly logs: LogKeyLookup | ReadonlyMap<string, readonly NoteVerifier[]>;
  readonly clock: Clock;
}

export class MemoryWitness implements Witness {
  readonly name: string;
  readonly cosigner: Cosigner;
  readonly ledger: WitnessLedger;
  readonly #clock: Clock;
  readonly faults = new FaultPlan<WitnessCallErrorCode>(
    (code, message) => new WitnessCallError(code, message, { retryable: code === 'WITNESS_TIMEOUT' }),
  );

  constructor(opts: MemoryWitnessOptions) {
    this.name = opts.name;
    this.ledger = new WitnessLedger({ name: opts.keyName, secretKey: opts.secretKey, logs: opts.logs });
    this.cosigner = this.ledger.cosigner;
    this.#clock = opts.clock;
  }

  addCheckpoint(request: AddCheckpointRequest): Promise<AddCheckpointReply> {
    return this.faults.run('addCheckpoint', this.name, (): AddCheckpointReply => {
      const answer = this.ledger.addCheckpoint(request, Math.floor(this.#clock.now() / 1000));
      if (answer.status === 200) {
        const text = request.checkpoint.slice(0, request.checkpoint.lastIndexOf('\n\n') + 1);
        return { kind: 'cosigned', signatures: parseCosignatureResponse(text, answer.body) };
      }
      if (answer.status === 409) return { kind: 'conflict', size: parseConflictBody(`${answer.size}\n`) };
      throw new WitnessCallError(
        STATUS_CODES[answer.status] ?? 'WITNESS_HTTP_STATUS',
        `witness ${this.name} answered ${answer.status}: ${answer.reason}`,
        { httpStatus: answer.status },
      );
    });
  }
}
