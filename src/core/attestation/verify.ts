/**
 * One verifier dispatch for attestations (model.ts): `verifyAttestation` checks an
 * attestation's evidence against the signed checkpoint it binds and the caller's trust, by
 * kind, through the table `VERIFIERS` — one function per kind. Pure and synchronous in what
 * it trusts: no network, no clock (a cosignature's time and a token's genTime are reported,
 * and judged by the caller).
 *
 * Attacker-controlled input: the evidence and the checkpoint bytes. Every verifier throws only
 * AttestationError (the kind's own error as `cause`) or returns a verdict.
 */
import { toHex } from '../bytes.ts';
import { sha256 } from '../hash.ts';
import { NoteError } from '../note/errors.ts';
import { type NoteSignature, parseNote } from '../note/signed-note.ts';
import {
  parseRekorEntry,
  RekorError,
  type RekorTrust,
  type VerifiedRekorEntry,
  verifyRekorEntry,
} from '../rekor/index.ts';
import { TimestampError, type VerifiedTimestamp, verifyTimestamp } from '../rfc3161/index.ts';
import { type Cosigner, isLineOf, verifyCosignature } from '../witness/cosignature.ts';
import { AttestationError } from './errors.ts';
import type { Attestation, AttestationKind, AttestationOf } from './model.ts';

/** What the caller trusts, per kind. */
export interface AttestationTrust {
  /**
   * RFC 3161: the TSA roots (DER) a token must chain to. Absent: the last certificate of the
   * attestation's own chain (the caller MUST then say the roots were not pinned).
   */
  readonly tsaRoots?: readonly Uint8Array[];
  /** Witness cosignatures: the pinned witness keys. A line by any other key is `unknown-party`. */
  readonly witnesses?: readonly Cosigner[];
  /**
   * Rekor: the pinned Rekor log keys and the log's anchor keys (the keys entries are signed
   * with). Absent: a rekor attestation is `unknown-party` (not judged, not counted).
   */
  readonly rekor?: RekorTrust;
}

export type AttestationVerdict =
  | {
      readonly kind: 'rfc3161';
      readonly status: 'verified';
      /** The root the token chains to (DER): one TSA per root. */
      readonly root: Uint8Array;
      readonly timestamp: VerifiedTimestamp;
    }
  | {
      readonly kind: 'witness-cosignature';
      readonly status: 'verified';
      readonly witness: Cosigner;
      /** POSIX seconds the cosignature states. */
      readonly timestamp: number;
    }
  | {
      readonly kind: 'witness-cosignature';
      /** No trusted witness has this line's name and key ID: ignored, as signed-note ignores unknown keys. */
      readonly status: 'unknown-party';
      readonly name: string;
      readonly keyId: string;
    }
  | {
      readonly kind: 'rekor';
      readonly status: 'verified';
      readonly entry: VerifiedRekorEntry;
    }
  | {
      readonly kind: 'rekor';
      /** No Rekor trust was given: the entry is read but not judged. */
      readonly status: 'unknown-party';
      /** The origin the entry's checkpoint claims (unverified) and the entry's logId key ID (hex). */
      readonly name: string;
      readonly keyId: string;
    };

type KindVerifier<K extends AttestationKind> = (
  a: AttestationOf<K>,
  signedCheckpoint: Uint8Array,
  trust: AttestationTrust,
) => Promise<AttestationVerdict>;

/**
 * RFC 3161 (docs/anchoring.md §What is requested and what is kept): status, CMS signature,
 * ESSCertID, timeStamping EKU, chain valid at genTime to a trusted root, imprint = SHA-256 of
 * the whole signed checkpoint file; SHA-256 or stronger only.
 */
const verifyRfc3161: KindVerifier<'rfc3161'> = async (a, signedCheckpoint, trust) => {
  const chain = a.evidence.chain;
  let roots = trust.tsaRoots;
  if (roots === undefined) {
    const last = chain[chain.length - 1];
    if (!last) throw new AttestationError('MALFORMED_EVIDENCE', `${a.party}: the chain holds no certificate`);
    roots = [last];
  }
  try {
    const v = await verifyTimestamp(a.evidence.response, {
      expected: { data: signedCheckpoint },
      roots,
      untrusted: chain,
      allowSha1: false,
    });
    return {
      kind: 'rfc3161',
      status: 'verified',
      root: v.chain[v.chain.length - 1] as Uint8Array,
      timestamp: v,
    };
  } catch (e) {
    if (e instanceof TimestampError)
      throw new AttestationError(
        e.code === 'INVALID_ARGUMENT' && trust.tsaRoots !== undefined ? 'INVALID_TRUST' : 'BAD_ATTESTATION',
        `${a.party}: ${e.code}: ${e.message}`,
        { cause: e },
      );
    throw e;
  }
};

/**
 * The one signature line of `line`, read with the signed-note parser (appended to the
 * checkpoint's text, so the same syntax rules apply), or MALFORMED_EVIDENCE.
 */
function signatureLine(text: string, line: string): NoteSignature {
  if (line.includes('\n'))
    throw new AttestationError('MALFORMED_EVIDENCE', 'a cosignature is one signature line');
  try {
    const sigs = parseNote(`${text}\n${line}\n`).signatures;
    if (sigs.length !== 1)
      throw new AttestationError('MALFORMED_EVIDENCE', 'a cosignature is one signature line');
    return sigs[0] as NoteSignature;
  } catch (e) {
    if (e instanceof NoteError)
      throw new AttestationError('MALFORMED_EVIDENCE', `cosignature line: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * C2SP tlog-cosignature `cosignature/v1` (src/core/witness/cosignature.ts) over the note text
 * of the signed checkpoint. Matched to a trusted witness by name and key ID (signed-note);
 * a line by a trusted witness that does not verify is BAD_ATTESTATION (a forgery, a line
 * moved from another checkpoint, or corruption), never silently skipped.
 */
const verifyWitnessCosignature: KindVerifier<'witness-cosignature'> = async (a, signedCheckpoint, trust) => {
  let text: string;
  try {
    text = parseNote(signedCheckpoint).text;
  } catch (e) {
    if (e instanceof NoteError)
      throw new AttestationError('MALFORMED_EVIDENCE', `the checkpoint is not a signed note: ${e.message}`, {
        cause: e,
      });
    throw e;
  }
  const sig = signatureLine(text, a.evidence.line);
  const witness = (trust.witnesses ?? []).find((w) => isLineOf(w, sig));
  if (!witness)
    return { kind: 'witness-cosignature', status: 'unknown-party', name: sig.name, keyId: toHex(sig.keyId) };
  const timestamp = verifyCosignature(witness, text, sig);
  if (timestamp === undefined)
    throw new AttestationError(
      'BAD_ATTESTATION',
      `${a.party}: the cosignature by ${witness.name} does not verify over checkpoint ${a.checkpoint}`,
    );
  return { kind: 'witness-cosignature', status: 'verified', witness, timestamp };
};

/**
 * Rekor v2 (src/core/rekor): the entry's hashedrekord body binds SHA-256 of the whole signed
 * checkpoint file and a pinned anchor key, its signature verifies, its inclusion proof leads to
 * the root of a checkpoint signed by a pinned Rekor key. A failed binding is BAD_ATTESTATION
 * with the RekorError (its code names the binding) as cause; an unreadable entry is
 * MALFORMED_EVIDENCE.
 */
const verifyRekor: KindVerifier<'rekor'> = async (a, signedCheckpoint, trust) => {
  try {
    const entry = parseRekorEntry(a.evidence.entry);
    if (trust.rekor === undefined) {
      let name = '';
      try {
        name = parseNote(entry.inclusionProof.checkpoint).text.split('\n', 1)[0] ?? '';
      } catch {
        // Informative only.
      }
      return { kind: 'rekor', status: 'unknown-party', name, keyId: toHex(entry.logKeyId) };
    }
    if (trust.rekor.logKeys.length === 0 || trust.rekor.anchorKeys.length === 0)
      throw new AttestationError(
        'INVALID_TRUST',
        'Rekor trust needs at least one log key and one anchor key',
      );
    return {
      kind: 'rekor',
      status: 'verified',
      entry: verifyRekorEntry(entry, sha256(signedCheckpoint), trust.rekor),
    };
  } catch (e) {
    if (e instanceof RekorError)
      throw new AttestationError(
        e.code === 'REKOR_MALFORMED_ENTRY' ? 'MALFORMED_EVIDENCE' : 'BAD_ATTESTATION',
        `${a.party}: ${e.code}: ${e.message}`,
        { cause: e },
      );
    throw e;
  }
};

/** One verifier per kind; a kind without one does not compile. */
const VERIFIERS: { readonly [K in AttestationKind]: KindVerifier<K> } = {
  rfc3161: verifyRfc3161,
  'witness-cosignature': verifyWitnessCosignature,
  rekor: verifyRekor,
};

/**
 * Verifies `a` against `signedCheckpoint` — the exact signed note of checkpoint `a.checkpoint`
 * (the caller matched the size and checked the log's signature) — and `trust`.
 */
export function verifyAttestation(
  a: Attestation,
  signedCheckpoint: Uint8Array,
  trust: AttestationTrust,
): Promise<AttestationVerdict> {
  // TypeScript cannot tie `a`'s kind to the entry it selects; VERIFIERS' mapped type does.
  const verify = VERIFIERS[a.kind] as (
    a: Attestation,
    signedCheckpoint: Uint8Array,
    trust: AttestationTrust,
  ) => Promise<AttestationVerdict>;
  return verify(a, signedCheckpoint, trust);
}
