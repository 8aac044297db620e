/**
 * One model for everything that attests to a checkpoint (docs/anchoring.md §Attestations):
 * an attestation has a **kind**, the **checkpoint** it binds (the size of a checkpoint of the
 * log it belongs to; the signed checkpoint bytes are what its evidence covers), the **party**
 * that made it, and kind-specific **evidence**.
 *
 *  - `rfc3161`: a TSA's RFC 3161 TimeStampResp over the whole signed checkpoint file, and the
 *    chain the log saw. It proves *when* the checkpoint existed.
 *  - `witness-cosignature`: a C2SP `cosignature/v1` line by a witness over the checkpoint's
 *    note text. It proves the witness saw this checkpoint as the latest, consistent with every
 *    one it saw before (no split view towards it).
 *  - `rekor`: a Rekor v2 TransparencyLogEntry for a `hashedrekord` whose digest is SHA-256 of
 *    the whole signed checkpoint file, signed with the log's anchor key. It proves a public
 *    transparency log recorded this checkpoint (docs/anchoring.md §Rekor).
 *
 * Adding a kind means: a member of `Attestation` here, one verifier function in verify.ts
 * (the table there does not compile until it has one), and its trust in `AttestationTrust`.
 */

export const ATTESTATION_KINDS = ['rfc3161', 'witness-cosignature', 'rekor'] as const;
export type AttestationKind = (typeof ATTESTATION_KINDS)[number];

export const isAttestationKind = (k: unknown): k is AttestationKind =>
  typeof k === 'string' && (ATTESTATION_KINDS as readonly string[]).includes(k);

interface AttestationBase {
  /** Size of the checkpoint this attestation binds. */
  readonly checkpoint: number;
  /**
   * The attesting party's configured short name (a TSA, witness or Rekor name: the rule of
   * src/core/names.ts). Informative: verification identifies the party by its key (TSA root,
   * witness key), never by this name.
   */
  readonly party: string;
}

export interface Rfc3161Attestation extends AttestationBase {
  readonly kind: 'rfc3161';
  readonly evidence: {
    /** The TimeStampResp as received (DER); its imprint is SHA-256 of the signed checkpoint file. */
    readonly response: Uint8Array;
    /** The TSA chain the log saw, signer first (DER). Untrusted input to the verifier. */
    readonly chain: readonly Uint8Array[];
  };
}

export interface CosignatureAttestation extends AttestationBase {
  readonly kind: 'witness-cosignature';
  readonly evidence: {
    /** One signed-note signature line, `— <witness key name> base64(keyID ‖ u64 time ‖ sig)`, no newline. */
    readonly line: string;
  };
}

export interface RekorAttestation extends AttestationBase {
  readonly kind: 'rekor';
  readonly evidence: {
    /** The TransparencyLogEntry (protojson) as the Rekor log returned it. Untrusted input. */
    readonly entry: Uint8Array;
  };
}

export type Attestation = Rfc3161Attestation | CosignatureAttestation | RekorAttestation;
export type AttestationOf<K extends AttestationKind> = Extract<Attestation, { kind: K }>;
