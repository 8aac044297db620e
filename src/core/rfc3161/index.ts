/**
 * RFC 3161 time-stamping for the pure core: build requests, parse responses
 * and tokens, verify them fully and offline against pinned roots.
 */
export { TimestampError, type TimestampErrorCode } from './errors.ts';
export { ALL_HASHES, type HashName } from './hashes.ts';
export { type ParsedTimestamp, type ParsedToken, parseTimestamp, parseTimestampToken } from './parse.ts';
export { decodePem, decodePemCertificates, looksLikePem, type PemBlock } from './pem.ts';
export { buildTimestampRequest, type Imprint, type TimestampRequestInput } from './request.ts';
export { type ChainRoot, selfSignedRoot } from './roots.ts';
export type { PkiStatus } from './status.ts';
export type { HashUse } from './strength.ts';
export type { Accuracy, TstInfoFields } from './tstinfo.ts';
export { type VerifiedTimestamp, type VerifyTimestampOptions, verifyTimestamp } from './verify.ts';
