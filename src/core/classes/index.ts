/**
 * Event classes and their index logs (docs/classes.md): definitions and
 * membership, class-log leaves, class roots as checkpoint extension lines,
 * the sealer's plan, class answers (prove and verify) and the monitor.
 */
export {
  type ClassAnswer,
  type ClassAnswerResult,
  type ClassEntry,
  type ProvedRecord,
  verifyClassAnswer,
} from './answer.ts';
export {
  CLASS_LINE_TAG,
  type ClassCommitment,
  classCommitments,
  classLogPrefix,
  formatClassLine,
  parseClassLine,
} from './commitment.ts';
export {
  type ClassDefinition,
  type ClassMatcher,
  checkClassDefinition,
  checkClassSet,
  classMatcher,
  classMatches,
  classText,
  DEFAULT_AI_CLASSES,
  sameDefinition,
} from './definition.ts';
export { CLASS_EDGES_FORMAT, type ClassEdge, decodeClassEdges, encodeClassEdges } from './edges.ts';
export { ClassError, type ClassErrorCode } from './errors.ts';
export {
  CLASS_LEAF_SIZE,
  type ClassLeaf,
  classLeafHash,
  decodeClassLeaf,
  encodeClassLeaf,
  encodeClassLeaves,
} from './leaf.ts';
export { ClassMonitor, type Divergence, type MonitoredClass } from './monitor.ts';
export {
  INITIAL_MONITOR_STATE,
  type LogSource,
  MonitorError,
  type MonitorErrorCode,
  type MonitorReport,
  type MonitorState,
  monitorLog,
} from './monitor-run.ts';
export { classLeavesOf, planClasses } from './plan.ts';
export { type ClassProverInput, proveClassAnswer } from './prove.ts';
