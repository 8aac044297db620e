/** C2SP tlog-proof files: one record, its inclusion proof and a witnessed checkpoint (docs/formats.md §tlog-proof files). */
export { TlogProofError, type TlogProofErrorCode } from './errors.ts';
export {
  formatTlogProof,
  MAX_TLOG_PROOF_BYTES,
  MAX_TLOG_PROOF_HASHES,
  parseTlogProof,
  startsWithHeader,
  TLOG_PROOF_EXTENSION,
  TLOG_PROOF_HEADER,
  type TlogProof,
} from './format.ts';
export {
  type TlogProofReport,
  type TlogProofTrust,
  type VerifyTlogProofOptions,
  verifyTlogProof,
} from './verify.ts';
