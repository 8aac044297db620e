/**
 * Errors for event classes and their index logs (docs/classes.md). Callers and
 * tests match on `code`, never on message text.
 */
import { AnchorlogError } from '../errors.ts';

export type ClassErrorCode =
  /** A class definition (name, version, action pattern, actor or target type) is malformed. */
  | 'INVALID_CLASS'
  /**
   * A configured definition contradicts the signed one: same name and version
   * with a different rule, or a version lower than the one in force.
   * Definitions change only by a higher version (docs/classes.md §Versions).
   */
  | 'CLASS_CONFLICT'
  /** A checkpoint extension line that names itself a class line but does not parse. */
  | 'MALFORMED_CLASS_LINE'
  /**
   * The class-log right edges a seal state keeps (src/core/classes/edges.ts)
   * do not parse, or one contradicts its class's signed line: the state
   * contradicts itself (the sealer halts, STORE_INCONSISTENT).
   */
  | 'MALFORMED_CLASS_EDGES'
  /**
   * A class answer leaves out a class record: a gap in class-log positions, or
   * a boundary entry that does not close the range (it lies inside it).
   */
  | 'CLASS_OMISSION'
  /** A record in a class answer that is not of the class, or outside the time range. */
  | 'CLASS_SMUGGLED'
  /**
   * The class proof does not hold: the class is not committed in the
   * checkpoint, an inclusion or range proof fails, or entries are out of order.
   */
  | 'CLASS_PROOF_INVALID';

export class ClassError extends AnchorlogError<ClassErrorCode> {}
