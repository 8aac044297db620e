/**
 * Verification of a witnessed checkpoint: the log's own signature first
 * (verifyLogCheckpoint: a trusted key named like the origin), then each
 * policy witness's cosignature/v1 over the same note text, then the quorum.
 *
 * What a cosignature means (tlog-cosignature §Ed25519 signed message): as of
 * its timestamp, this is the largest consistent tree head the witness has
 * seen for the origin. A quorum of independent witnesses therefore makes a
 * split view (two diverging checkpoints shown to two audiences) require
 * k colluding or compromised witnesses.
 */
import { toHex } from '../bytes.ts';
import type { Checkpoint } from '../note/checkpoint.ts';
import { parseNote } from '../note/signed-note.ts';
import type { NoteVerifier } from '../note/verifiers.ts';
import { verifyLogCheckpoint } from '../note/verify.ts';
import { isLineOf, verifyCosignature } from './cosignature.ts';
import type { WitnessPolicy } from './policy.ts';

export type WitnessStatus =
  /** A cosignature line by this witness verified. */
  | 'cosigned'
  /** No line names this witness (name and key ID). */
  | 'missing'
  /** Lines name this witness but none verifies (tampered, wrong key, other text). */
  | 'invalid'
  /** It verifies but its timestamp is later than `now + maxFutureSeconds` (tlog-cosignature: MAY reject). */
  | 'future';

export interface WitnessReport {
  readonly name: string;
  /** Key ID, hex. */
  readonly keyId: string;
  readonly status: WitnessStatus;
  /** POSIX seconds the cosignature states (cosigned and future only). */
  readonly timestamp?: number;
}

export interface WitnessedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** The note text every counted cosignature covers. */
  readonly noteText: string;
  /** One report per policy witness, in policy order. */
  readonly witnesses: readonly WitnessReport[];
  /** Witnesses with status `cosigned`. */
  readonly cosigned: number;
  readonly quorum: number;
  readonly quorumMet: boolean;
}

export interface VerifyWitnessedOptions {
  /** The origin the caller expects (default: any origin a trusted log key is named like). */
  readonly origin?: string;
  /** Current time, POSIX seconds: with it, cosignatures from the future are not counted. */
  readonly now?: number;
  /** Allowed clock skew for `now`, seconds. Default 300. */
  readonly maxFutureSeconds?: number;
}

/**
 * Throws NoteError when the log signature does not verify (the note is then
 * not the log's, and no cosignature can matter). Otherwise reports each
 * policy witness and whether the quorum is met; it never throws because of a
 * witness line — a bad cosignature simply does not count.
 */
export function verifyWitnessedCheckpoint(
  note: string | Uint8Array,
  logKeys: readonly NoteVerifier[],
  policy: WitnessPolicy,
  opts: VerifyWitnessedOptions = {},
): WitnessedCheckpoint {
  const verified = verifyLogCheckpoint(
    note,
    logKeys,
    opts.origin !== undefined ? { origin: opts.origin } : {},
  );
  const { text, signatures } = parseNote(note);
  const skew = opts.maxFutureSeconds ?? 300;
  const witnesses = policy.witnesses.map((w): WitnessReport => {
    const base = { name: w.name, keyId: toHex(w.keyId) };
    const lines = signatures.filter((s) => isLineOf(w, s));
    if (lines.length === 0) return { ...base, status: 'missing' };
    let best: number | undefined;
    for (const line of lines) {
      const t = verifyCosignature(w, text, line);
      if (t !== undefined && (best === undefined || t > best)) best = t;
    }
    if (best === undefined) return { ...base, status: 'invalid' };
    if (opts.now !== undefined && best > opts.now + skew)
      return { ...base, status: 'future', timestamp: best };
    return { ...base, status: 'cosigned', timestamp: best };
  });
  const cosigned = witnesses.filter((w) => w.status === 'cosigned').length;
  const { verifiedBy: _, ...checkpoint } = verified;
  return {
    checkpoint,
    noteText: text,
    witnesses,
    cosigned,
    quorum: policy.quorum,
    quorumMet: cosigned >= policy.quorum,
  };
}
