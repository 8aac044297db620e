/** Witnessed checkpoints (C2SP tlog-cosignature, tlog-witness, tlog-policy): see docs/witnessing.md. */
export {
  COSIGNATURE_V1_BYTES,
  type Cosigner,
  checkCosigners,
  cosignedMessage,
  cosigner,
  cosignerFromSecret,
  cosignerKeyId,
  formatCosignerKey,
  isLineOf,
  parseCosignerKey,
  SIG_TYPE_COSIGNATURE_V1,
  signCosignature,
  splitCosignature,
  type VerifiedCosignature,
  verifyCosignature,
} from './cosignature.ts';
export { WitnessError, type WitnessErrorCode } from './errors.ts';
export { cosignerId, formatTlogPolicy, quorumMet, type WitnessPolicy, witnessPolicy } from './policy.ts';
export {
  type AddCheckpointRequest,
  formatAddCheckpointRequest,
  formatConflictBody,
  formatCosignatureResponse,
  MAX_ADD_CHECKPOINT_BYTES,
  MAX_PROOF_LINES,
  MAX_WITNESS_REPLY_BYTES,
  parseAddCheckpointRequest,
  parseConflictBody,
  parseCosignatureResponse,
  TLOG_SIZE_CONTENT_TYPE,
} from './protocol.ts';
export {
  type VerifyWitnessedOptions,
  verifyWitnessedCheckpoint,
  type WitnessedCheckpoint,
  type WitnessReport,
  type WitnessStatus,
} from './verify.ts';
export {
  type AddCheckpointDecision,
  cosignAccepted,
  decideAddCheckpoint,
  originHash,
  originOf,
  type WitnessedHead,
} from './witness.ts';
