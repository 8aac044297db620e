/**
 * Errors of rule documents and expressions (docs/detection.md "Bounds on
 * hostile rules"). One class, a stable string-union code, and where: the JSON
 * pointer of the document field and, for an expression, the position inside
 * it. The admin API answers 400 with all of these; the CLI prints
 * `rule.json /match 1:17: …`.
 */
import { AnchorlogError } from '../errors.ts';

export type RuleErrorCode =
  /** The document is more than MAX_RULE_DOCUMENT_BYTES. */
  | 'DOCUMENT_TOO_LARGE'
  /** Not strict I-JSON (syntax, duplicate keys, lone surrogates, too deep). */
  | 'INVALID_JSON'
  /** A field the format does not have (a typo must not silently change a rule). */
  | 'UNKNOWN_FIELD'
  | 'MISSING_FIELD'
  /** A field of the wrong type or out of range. */
  | 'INVALID_FIELD'
  | 'EXPRESSION_TOO_LONG'
  /** Brackets nested deeper than the limit (checked before parsing). */
  | 'EXPRESSION_TOO_DEEP'
  | 'EXPRESSION_SYNTAX'
  /** Too many AST nodes or comprehensions nested too deep. */
  | 'EXPRESSION_TOO_COMPLEX'
  | 'UNKNOWN_VARIABLE'
  | 'UNKNOWN_FUNCTION'
  /** A construct rules do not support (message literals, optional syntax, …). */
  | 'UNSUPPORTED_EXPRESSION';

export interface ExpressionPosition {
  /** UTF-16 offset into the expression. */
  readonly offset: number;
  /** 1-based line and column (column in UTF-16 code units) within the expression. */
  readonly line: number;
  readonly column: number;
}

export class RuleError extends AnchorlogError<RuleErrorCode> {
  /** JSON pointer of the document field ('' = the document). */
  readonly path: string;
  /** Position inside the expression at `path`, when the error is in one. */
  readonly position: ExpressionPosition | undefined;
  constructor(
    code: RuleErrorCode,
    path: string,
    message: string,
    position?: ExpressionPosition,
    options?: { cause?: unknown },
  ) {
    const where = position ? ` (${path} ${position.line}:${position.column})` : path ? ` (${path})` : '';
    super(code, `${message}${where}`, options);
    this.path = path;
    this.position = position;
  }
}

/** Line and column of a UTF-16 offset in `source` (1-based). */
export function positionOf(source: string, offset: number): ExpressionPosition {
  const at = Math.max(0, Math.min(offset, source.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { offset: at, line, column: at - lineStart + 1 };
}
