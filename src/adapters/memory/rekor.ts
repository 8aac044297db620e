/**
 * An in-process Rekor v2 log (src/ports/rekor.ts) on the stand-in log of src/core/rekor
 * (the local stack serves the same log over HTTP, src/local/rekor.ts). `faults` make one
 * request fail as a real log or network could.
 */

import { canonicalBytes } from '../../core/canonical.ts';
import type { NoteSigningKey } from '../../core/note/sign.ts';
import { hashedRekordRequest } from '../../core/rekor/entry.ts';
import { parseCreateEntryRequest, RekorRequestError, RekorStandInLog } from '../../core/rekor/stand-in.ts';
import {
  RekorCallError,
  type RekorCallErrorCode,
  type RekorEntryRequest,
  type RekorLog,
} from '../../ports/rekor.ts';
import { FaultPlan } from './faults.ts';

export class MemoryRekor implements RekorLog {
  readonly name: string;
  readonly log: RekorStandInLog;
  /** Injected failures of `createEntry`. */
  readonly faults = new FaultPlan<RekorCallErrorCode>(
    (code, message) =>
      new RekorCallError(code, message, {
        retryable: code === 'REKOR_HTTP_STATUS' || code === 'REKOR_TIMEOUT',
      }),
  );

  constructor(name: string, signer: NoteSigningKey) {
    this.name = name;
    this.log = new RekorStandInLog(signer);
  }

  createEntry(request: RekorEntryRequest): Promise<Uint8Array> {
    return this.faults.run('createEntry', this.name, () => this.#create(request));
  }

  async #create(request: RekorEntryRequest): Promise<Uint8Array> {
    // Through the wire form, so the request is judged exactly as the HTTP stand-in judges it.
    const wire = canonicalBytes(hashedRekordRequest(request.digest, request.signature, request.spki));
    try {
      return await this.log.add(parseCreateEntryRequest(wire));
    } catch (e) {
      if (e instanceof RekorRequestError)
        throw new RekorCallError('REKOR_BAD_REQUEST', `rekor ${this.name}: ${e.message}`, {
          httpStatus: 400,
        });
      throw e;
    }
  }
}
