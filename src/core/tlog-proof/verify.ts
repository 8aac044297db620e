/**
 * Offline verification of an anchorlog tlog-proof (C2SP tlog-proof
 * §Verifying a tlog proof), against what the caller pinned: the log keys
 * (and origins), and a witness policy (k of n cosigner keys).
 *
 * Order, each step a distinct code so an auditor learns what was tampered:
 *  1. the log's signature on the checkpoint, by a pinned key named like its
 *     origin (NoteError: INVALID_SIGNATURE for an edited body, …);
 *  2. the origin is pinned, when origins are (ORIGIN_NOT_PINNED);
 *  3. the witnesses' cosignatures, then the quorum (WITNESS_QUORUM_NOT_MET);
 *  4. the record in `extra`: canonical (RecordError), of this index
 *     (RECORD_INDEX_MISMATCH) and of the log the origin names
 *     (RECORD_LOG_MISMATCH) — checked before the proof, so an edited `index`
 *     line is named as such rather than as a failed proof;
 *  5. the inclusion of SHA-256(0x00 ‖ record) at `index` under the signed
 *     root (MerkleError INCLUSION_PROOF_INVALID for an edited record or hash).
 * Every accepted byte of the record is thus bound to a root the log signed
 * and the quorum cosigned.
 */
import { toBase64, toHex } from '../bytes.ts';
import { verifyInclusion } from '../merkle/verify.ts';
import type { NoteVerifier } from '../note/verifiers.ts';
import { verifyLogCheckpoint } from '../note/verify.ts';
import { decodeRecord, type LogRecord, leafHash } from '../record.ts';
import type { WitnessPolicy } from '../witness/policy.ts';
import { verifyWitnessedCheckpoint, type WitnessReport } from '../witness/verify.ts';
import { TlogProofError } from './errors.ts';
import { parseTlogProof, type TlogProof } from './format.ts';

export interface TlogProofTrust {
  /** Pinned log keys; each vouches only for the log whose origin is its name. */
  readonly logKeys: readonly NoteVerifier[];
  /** When given, only checkpoints of these origins are accepted. */
  readonly origins?: readonly string[];
  /** Pinned witnesses and quorum; quorum 0 reports cosignatures without requiring any. */
  readonly witnesses: WitnessPolicy;
}

export interface VerifyTlogProofOptions {
  /** Current time, POSIX seconds: cosignatures dated later (beyond the skew) are not counted. */
  readonly now?: number;
}

export interface TlogProofReport {
  readonly origin: string;
  readonly logId: string;
  readonly index: number;
  /** The checkpoint's tree size and root (base64). */
  readonly size: number;
  readonly rootHash: string;
  readonly leafHash: string;
  readonly proofLength: number;
  /** Names of the pinned log keys whose signature verified. */
  readonly signedBy: readonly string[];
  readonly witnesses: readonly WitnessReport[];
  readonly cosigned: number;
  readonly quorum: number;
  /** The record, proved to be entry `index` of the log. */
  readonly record: LogRecord;
}

/** Verifies a tlog-proof file (bytes) or parsed proof; throws on the first failed check. */
export function verifyTlogProof(
  input: Uint8Array | TlogProof,
  trust: TlogProofTrust,
  opts: VerifyTlogProofOptions = {},
): TlogProofReport {
  const p = input instanceof Uint8Array ? parseTlogProof(input) : input;

  // 1–3. The checkpoint: the log's signature (thrown), then the witnesses (counted).
  const w = verifyWitnessedCheckpoint(
    p.checkpoint,
    trust.logKeys,
    trust.witnesses,
    opts.now !== undefined ? { now: opts.now } : {},
  );
  const cp = w.checkpoint;
  if (trust.origins && !trust.origins.includes(cp.origin))
    throw new TlogProofError(
      'ORIGIN_NOT_PINNED',
      `checkpoint origin ${JSON.stringify(cp.origin)} is not one of the pinned origins`,
    );
  if (!w.quorumMet)
    throw new TlogProofError(
      'WITNESS_QUORUM_NOT_MET',
      `${w.cosigned} of the ${trust.witnesses.witnesses.length} pinned witnesses cosigned the checkpoint; ${w.quorum} required`,
    );

  // 4. The record it claims to prove.
  if (p.extra === undefined)
    throw new TlogProofError('RECORD_MISSING', 'no extra line: the proof carries no record');
  const record = decodeRecord(p.extra);
  if (record.index !== p.index)
    throw new TlogProofError(
      'RECORD_INDEX_MISMATCH',
      `the proof is for index ${p.index}; the record says ${record.index}`,
    );
  if (!cp.origin.endsWith(`/${record.logId}`))
    throw new TlogProofError(
      'RECORD_LOG_MISMATCH',
      `the record is of log ${record.logId}; the checkpoint is of ${JSON.stringify(cp.origin)}`,
    );

  // 5. The record is leaf `index` of the signed tree.
  const leaf = leafHash(p.extra);
  verifyInclusion(leaf, p.index, cp.size, p.proof, cp.rootHash);

  return {
    origin: cp.origin,
    logId: record.logId,
    index: p.index,
    size: cp.size,
    rootHash: toBase64(cp.rootHash),
    leafHash: toBase64(leaf),
    proofLength: p.proof.length,
    signedBy: verifiedNames(p.checkpoint, trust.logKeys, cp.origin),
    witnesses: w.witnesses,
    cosigned: w.cosigned,
    quorum: w.quorum,
    record,
  };
}

/** `name+keyid` of the pinned log keys that signed (verified above already; re-run for the names). */
function verifiedNames(note: string, keys: readonly NoteVerifier[], origin: string): string[] {
  return verifyLogCheckpoint(note, keys, { origin }).verifiedBy.map((v) => `${v.name}+${toHex(v.keyId)}`);
}
