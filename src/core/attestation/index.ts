/** The attestation model (model.ts) and its verifier dispatch (verify.ts): docs/anchoring.md §Attestations. */
export { AttestationError, type AttestationErrorCode } from './errors.ts';
export {
  ATTESTATION_KINDS,
  type Attestation,
  type AttestationKind,
  type AttestationOf,
  type CosignatureAttestation,
  isAttestationKind,
  type RekorAttestation,
  type Rfc3161Attestation,
} from './model.ts';
export { type AttestationTrust, type AttestationVerdict, verifyAttestation } from './verify.ts';
