/** Evidence bundles (docs/bundle.md): format, streaming writer, offline verifier. */
export { BundleError, type BundleErrorCode } from './errors.ts';
export {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
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
export { type AnchorReport, type BundleReport, type BundleTrust, verifyBundle } from './verify.ts';
export { type BundleAnchorInput, type BundleWriterInput, bundleBytes, writeBundle } from './writer.ts';
