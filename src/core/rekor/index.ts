/** Rekor v2 hashedrekord entries, verified offline: docs/anchoring.md §Rekor. */
export {
  encodeRekorEntry,
  type HashedRekordBody,
  hashedRekordBody,
  hashedRekordRequest,
  MAX_REKOR_ENTRY_BYTES,
  parseHashedRekordBody,
  parseRekorEntry,
  REKOR_KEY_DETAILS,
  type RekorEntry,
  type RekorTrust,
  type VerifiedRekorEntry,
  verifyDigestSignature,
  verifyRekorEntry,
  verifyRekorInclusion,
} from './entry.ts';
export { RekorError, type RekorErrorCode } from './errors.ts';
