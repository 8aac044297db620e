/** Evidence bundles (docs/bundle.md): format, streaming writer, offline verifier. */

export {
  type ChunkCheck,
  type ChunkChecker,
  type ChunkParams,
  checkRecordsChunk,
  inThreadChunkChecker,
  jsonChunkChecker,
} from './chunk.ts';
export { BundleError, type BundleErrorCode } from './errors.ts';
export {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  BUNDLE_VERSIONS,
  type BundleAttestation,
  type BundleFilter,
  type BundleHeader,
  type BundleManifest,
  type BundleRange,
  classifyPath,
  DEFAULT_CHUNK_BYTES,
  describeFilter,
  filterMatches,
  filterProblem,
} from './format.ts';
export {
  checkProducerSignatures,
  KEY_TIME_GRACE_MS,
  type ProducerKeyDirectory,
  type ProducerSignatureCounts,
  type ProducerSignatureReport,
  producerKeysFromSystemRecords,
} from './producer-signatures.ts';
export { bundleRecords, bundleRecordsFrom } from './records.ts';
export {
  type AnchorReport,
  type AttestationReport,
  type BundleReport,
  type BundleTrust,
  type VerifyOptions,
  verifyBundle,
} from './verify.ts';
export {
  type BundleAnchorInput,
  type BundleCosignatureInput,
  type BundleRekorInput,
  type BundleWriterInput,
  bundleBytes,
  writeBundle,
} from './writer.ts';
