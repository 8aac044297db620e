/**
 * CEL expressions of rules (docs/detection.md "The CEL environment", "Bounds
 * on hostile rules"), on @bufbuild/cel (docs/detection.md "Choosing a CEL
 * library").
 *
 * Compilation is a chain of checks, each refusing with a RuleError that names
 * the position, cheapest first:
 *   1. length, then a lexical scan (strings, comments, brackets) that refuses
 *      nesting deeper than MAX_NESTING before the recursive-descent parser
 *      can overflow the stack on it, and reports unclosed strings and
 *      brackets at their opening position (the PEG parser reports where it
 *      gave up, which for these is far from the mistake);
 *   2. the CEL parser;
 *   3. a walk of the standard `cel.expr` AST: node count, comprehension
 *      nesting, variables in scope, functions of the standard library only;
 *   4. a rewrite: each comprehension's loop condition is wrapped in a counting
 *      function, so an evaluation stops after MAX_STEPS iterations in all. The
 *      bound is a count, not a timer, so it is deterministic: a redo after a
 *      crash reaches the same verdict as the first run.
 *
 * Evaluation never throws: @bufbuild/cel returns errors as values, and a
 * result is `{ ok: false }` with the error's position when it has one.
 */
import { CelScalar, type CelValue, celEnv, celFunc, isCelError, isCelUint, parse, plan } from '@bufbuild/cel';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import { type ExpressionPosition, positionOf, RuleError } from './errors.ts';

export const EXPRESSION_LIMITS = {
  /** Characters (UTF-16 code units) of one expression. */
  maxChars: 2048,
  /** Brackets ( [ { nested. */
  maxNesting: 24,
  /** AST nodes after macro expansion. */
  maxNodes: 400,
  /** Comprehensions (all, exists, exists_one, map, filter) nested in each other. */
  maxComprehensionNesting: 2,
  /** Comprehension iterations per evaluation, all comprehensions together. */
  maxSteps: 10_000,
} as const;

/** The variables every rule expression sees (docs/detection.md). */
export interface Bindings {
  readonly event: unknown;
  readonly submitter: string;
  readonly receivedAt: Timestamp;
  readonly logId: string;
  readonly index: bigint;
}
export const VARIABLES: readonly string[] = ['event', 'submitter', 'receivedAt', 'logId', 'index'];

/** Type names that are also values in CEL (`type(x) == string`). */
const TYPE_IDENTS = ['bool', 'int', 'uint', 'double', 'string', 'bytes', 'list', 'map', 'null_type', 'type'];

/** Operators (internal names) and functions of the CEL standard library that rules may call. */
const FUNCTIONS = new Set([
  '_+_',
  '_-_',
  '_*_',
  '_/_',
  '_%_',
  '_==_',
  '_!=_',
  '_<_',
  '_<=_',
  '_>_',
  '_>=_',
  '_&&_',
  '_||_',
  '!_',
  '-_',
  '_?_:_',
  '_[_]',
  '@in',
  '_in_',
  '@not_strictly_false',
  '__not_strictly_false__',
  'size',
  'contains',
  'startsWith',
  'endsWith',
  'matches',
  'int',
  'uint',
  'double',
  'string',
  'bytes',
  'bool',
  'type',
  'dyn',
  'duration',
  'timestamp',
  'getFullYear',
  'getMonth',
  'getDayOfYear',
  'getDayOfMonth',
  'getDate',
  'getDayOfWeek',
  'getHours',
  'getMinutes',
  'getSeconds',
  'getMilliseconds',
]);

/** The name the rewrite wraps loop conditions in; not callable from a rule (not in FUNCTIONS). */
const STEP_FUNCTION = '@anchorlog_step';

/**
 * The budget of the evaluation in progress. Evaluation is synchronous and
 * single-threaded, so one module-level counter is exact: `evaluate` resets
 * it, the step function spends it.
 */
const budget = { left: 0, exhausted: false };

const env = celEnv({
  funcs: [
    celFunc(STEP_FUNCTION, [CelScalar.DYN], CelScalar.DYN, (cond) => {
      if (--budget.left < 0) {
        budget.exhausted = true;
        // An error value stops the loop at once (a loop condition that is an
        // error ends the comprehension), and every enclosing loop's next
        // condition fails the same way. `exhausted` decides the verdict even if
        // an enclosing `||` absorbs the error.
        throw new Error(`more than ${EXPRESSION_LIMITS.maxSteps} comprehension iterations`);
      }
      return cond;
    }),
  ],
});

export type ExprResult =
  | { readonly ok: true; readonly value: CelValue }
  | {
      readonly ok: false;
      readonly code: 'EVAL_ERROR' | 'BUDGET_EXCEEDED';
      readonly message: string;
      readonly position: ExpressionPosition | undefined;
    };

/**
 * A necessary condition on `event.action` taken from a top-level conjunct of
 * a match expression: when it is false the expression is false (CEL's `&&`
 * is false if any side is false, even next to an error), so the engine skips
 * the rule without evaluating it.
 */
export type ActionFilter =
  | { readonly kind: 'exact'; readonly actions: ReadonlySet<string> }
  | { readonly kind: 'prefix'; readonly prefix: string };

export interface CompiledExpression {
  readonly source: string;
  /** JSON pointer of the expression in its rule document. */
  readonly path: string;
  /** AST nodes after macro expansion. */
  readonly nodes: number;
  readonly actionFilter: ActionFilter | undefined;
  evaluate(bindings: Bindings): ExprResult;
}

// Structural view of the protobuf `cel.expr.Expr` messages the parser returns
// (protobuf-es v2 messages are plain objects); only what the walk reads.
interface Expr {
  $typeName: 'cel.expr.Expr';
  id: bigint;
  exprKind: ExprKind;
}
type ExprKind =
  | { case: 'constExpr'; value: { constantKind: { case: string | undefined; value?: unknown } } }
  | { case: 'identExpr'; value: { name: string } }
  | { case: 'selectExpr'; value: { operand?: Expr; field: string; testOnly: boolean } }
  | { case: 'callExpr'; value: { target?: Expr; function: string; args: Expr[] } }
  | { case: 'listExpr'; value: { elements: Expr[]; optionalIndices: number[] } }
  | {
      case: 'structExpr';
      value: { messageName: string; entries: Array<{ mapKey?: Expr; value?: Expr; optionalEntry: boolean }> };
    }
  | {
      case: 'comprehensionExpr';
      value: {
        iterVar: string;
        iterVar2?: string;
        iterRange?: Expr;
        accuVar: string;
        accuInit?: Expr;
        loopCondition?: Expr;
        loopStep?: Expr;
        result?: Expr;
      };
    }
  | { case: undefined; value?: undefined };

/** Compiles one expression; throws RuleError (with `path` and the position) when it is refused. */
export function compileExpression(source: string, path: string): CompiledExpression {
  const L = EXPRESSION_LIMITS;
  if (source.length > L.maxChars)
    throw new RuleError(
      'EXPRESSION_TOO_LONG',
      path,
      `expression is ${source.length} characters; at most ${L.maxChars}`,
    );
  if (source.trim() === '') throw new RuleError('EXPRESSION_SYNTAX', path, 'expression is empty');
  lexicalScan(source, path);

  let parsed: { expr?: Expr; sourceInfo?: { positions: Record<string, number> } };
  try {
    parsed = parse(source) as unknown as typeof parsed;
  } catch (err) {
    throw syntaxError(source, path, err);
  }
  const positions = parsed.sourceInfo?.positions ?? {};
  const at = (e: Expr | undefined): ExpressionPosition =>
    positionOf(source, e === undefined ? 0 : (positions[String(e.id)] ?? 0));
  const root = parsed.expr;
  if (root === undefined) throw new RuleError('EXPRESSION_SYNTAX', path, 'expression is empty');

  let nodes = 0;
  let nextId = 1n << 40n; // ids for the nodes the rewrite adds, far above the parser's
  const walk = (e: Expr | undefined, scope: ReadonlySet<string>, loops: number): void => {
    if (e === undefined) return;
    if (++nodes > L.maxNodes)
      throw new RuleError(
        'EXPRESSION_TOO_COMPLEX',
        path,
        `expression has more than ${L.maxNodes} nodes (after macro expansion)`,
        at(e),
      );
    const k = e.exprKind;
    switch (k.case) {
      case 'constExpr':
        return;
      case 'identExpr':
        if (
          !scope.has(k.value.name) &&
          !VARIABLES.includes(k.value.name) &&
          !TYPE_IDENTS.includes(k.value.name)
        )
          throw new RuleError(
            'UNKNOWN_VARIABLE',
            path,
            `unknown name ${JSON.stringify(k.value.name)}; rules see ${VARIABLES.join(', ')}`,
            at(e),
          );
        return;
      case 'selectExpr':
        walk(k.value.operand, scope, loops);
        return;
      case 'callExpr':
        if (!FUNCTIONS.has(k.value.function))
          throw new RuleError(
            k.value.function.startsWith('_?') || k.value.function.startsWith('optional')
              ? 'UNSUPPORTED_EXPRESSION'
              : 'UNKNOWN_FUNCTION',
            path,
            `function ${JSON.stringify(k.value.function)} is not in the CEL standard library rules may use`,
            at(e),
          );
        walk(k.value.target, scope, loops);
        for (const a of k.value.args) walk(a, scope, loops);
        return;
      case 'listExpr':
        if (k.value.optionalIndices.length > 0)
          throw new RuleError(
            'UNSUPPORTED_EXPRESSION',
            path,
            'optional list elements are not supported',
            at(e),
          );
        for (const x of k.value.elements) walk(x, scope, loops);
        return;
      case 'structExpr':
        if (k.value.messageName !== '')
          throw new RuleError(
            'UNSUPPORTED_EXPRESSION',
            path,
            `message literals (${k.value.messageName}{…}) are not supported`,
            at(e),
          );
        for (const entry of k.value.entries) {
          if (entry.optionalEntry)
            throw new RuleError(
              'UNSUPPORTED_EXPRESSION',
              path,
              'optional map entries are not supported',
              at(e),
            );
          walk(entry.mapKey, scope, loops);
          walk(entry.value, scope, loops);
        }
        return;
      case 'comprehensionExpr': {
        const c = k.value;
        if (loops + 1 > L.maxComprehensionNesting)
          throw new RuleError(
            'EXPRESSION_TOO_COMPLEX',
            path,
            `comprehensions (all, exists, map, filter, …) nested more than ${L.maxComprehensionNesting} deep`,
            at(e),
          );
        walk(c.iterRange, scope, loops);
        walk(c.accuInit, scope, loops);
        const inner = new Set(scope);
        inner.add(c.iterVar);
        if (c.iterVar2) inner.add(c.iterVar2);
        inner.add(c.accuVar);
        walk(c.loopCondition, inner, loops + 1);
        walk(c.loopStep, inner, loops + 1);
        const resultScope = new Set(scope);
        resultScope.add(c.accuVar);
        walk(c.result, resultScope, loops + 1);
        // The rewrite: count every iteration (the planner evaluates the loop
        // condition once per element, before the step).
        const cond = c.loopCondition;
        if (cond !== undefined) {
          c.loopCondition = {
            $typeName: 'cel.expr.Expr',
            id: nextId++,
            exprKind: {
              case: 'callExpr',
              value: { function: STEP_FUNCTION, args: [cond] } as never,
            },
          };
        }
        return;
      }
      default:
        throw new RuleError('UNSUPPORTED_EXPRESSION', path, 'unsupported expression', at(e));
    }
  };
  walk(root, new Set(), 0);

  const actionFilter = actionFilterOf(root);
  const program = plan(env, root as never) as unknown as (ctx: Bindings) => unknown;
  return {
    source,
    path,
    nodes,
    actionFilter,
    evaluate(bindings: Bindings): ExprResult {
      budget.left = L.maxSteps;
      budget.exhausted = false;
      const value = program(bindings);
      if (budget.exhausted)
        return {
          ok: false,
          code: 'BUDGET_EXCEEDED',
          message: `more than ${L.maxSteps} comprehension iterations`,
          position: undefined,
        };
      if (isCelError(value)) {
        const id = value.exprId;
        const offset = id === undefined ? undefined : positions[String(id)];
        return {
          ok: false,
          code: 'EVAL_ERROR',
          message: value.message,
          position: offset === undefined ? undefined : positionOf(source, offset),
        };
      }
      return { ok: true, value: value as CelValue };
    },
  };
}

/** A parser failure as EXPRESSION_SYNTAX at the parser's position (without its "<input>:l:c:" prefix). */
function syntaxError(source: string, path: string, err: unknown): RuleError {
  const loc = (err as { location?: { start?: { offset?: unknown } } } | null)?.location?.start?.offset;
  const offset = typeof loc === 'number' ? loc : 0;
  if (err instanceof RangeError)
    // Stack exhaustion the lexical scan did not foresee (a long chain of unary operators).
    return new RuleError(
      'EXPRESSION_TOO_COMPLEX',
      path,
      'expression is too deeply nested to parse',
      undefined,
      {
        cause: err,
      },
    );
  const raw = err instanceof Error ? err.message.replace(/^<input>:\d+:\d+: /, '') : String(err);
  return new RuleError('EXPRESSION_SYNTAX', path, `syntax error: ${raw}`, positionOf(source, offset), {
    cause: err,
  });
}

const OPEN = '([{';
const CLOSE = ')]}';
const IDENT_CHAR = /[A-Za-z0-9_]/;

/**
 * Strings, comments and brackets, without parsing: refuses nesting deeper
 * than maxNesting (at the bracket that goes too deep), a closing bracket that
 * does not match, and a string or bracket never closed (at its opening).
 */
function lexicalScan(source: string, path: string): void {
  const stack: number[] = [];
  const n = source.length;
  let i = 0;
  /** Offset of the last character outside strings and comments that is not white space. */
  let last = -1;
  const fail = (
    code: 'EXPRESSION_SYNTAX' | 'EXPRESSION_TOO_DEEP',
    offset: number,
    message: string,
  ): never => {
    throw new RuleError(code, path, message, positionOf(source, offset));
  };
  while (i < n) {
    const ch = source[i] as string;
    if (ch === '/' && source[i + 1] === '/') {
      while (i < n && source[i] !== '\n') i++;
      continue;
    }
    if (ch === '"' || ch === "'") {
      // Prefix letters r/R (raw) and b/B (bytes), themselves not part of an identifier.
      let p = i;
      while (p > 0 && i - p < 2 && /[rRbB]/.test(source[p - 1] as string)) p--;
      const raw =
        p < i && !(p > 0 && IDENT_CHAR.test(source[p - 1] as string)) && /[rR]/.test(source.slice(p, i));
      const triple = source[i + 1] === ch && source[i + 2] === ch;
      const start = i;
      i += triple ? 3 : 1;
      for (;;) {
        if (i >= n) fail('EXPRESSION_SYNTAX', start, 'string literal is never closed');
        const c = source[i] as string;
        if (!raw && c === '\\') {
          i += 2;
          continue;
        }
        if (!triple && (c === '\n' || c === '\r'))
          fail('EXPRESSION_SYNTAX', start, 'string literal is not closed on its line');
        if (c === ch && (!triple || (source[i + 1] === ch && source[i + 2] === ch))) {
          i += triple ? 3 : 1;
          last = i - 1;
          break;
        }
        i++;
      }
      continue;
    }
    if (ch === '=' && source[i + 1] !== '=' && !'=!<>'.includes(source[i - 1] ?? ''))
      fail('EXPRESSION_SYNTAX', i, "'=' is not an operator; compare with '=='");
    if (!/\s/.test(ch)) last = i;
    const open = OPEN.indexOf(ch);
    if (open >= 0) {
      stack.push(i);
      if (stack.length > EXPRESSION_LIMITS.maxNesting)
        fail('EXPRESSION_TOO_DEEP', i, `brackets nested more than ${EXPRESSION_LIMITS.maxNesting} deep`);
    } else {
      const close = CLOSE.indexOf(ch);
      if (close >= 0) {
        const top = stack.pop();
        if (top === undefined)
          fail('EXPRESSION_SYNTAX', i, `unexpected ${JSON.stringify(ch)}: nothing to close`);
        else if (OPEN.indexOf(source[top] as string) !== close)
          fail('EXPRESSION_SYNTAX', i, `${JSON.stringify(ch)} does not close ${JSON.stringify(source[top])}`);
      }
    }
    i++;
  }
  const unclosed = stack.pop();
  if (unclosed !== undefined)
    fail('EXPRESSION_SYNTAX', unclosed, `${JSON.stringify(source[unclosed])} is never closed`);
  const end = source[last] ?? '';
  if ('+-*/%&|!<>?:,.'.includes(end))
    fail(
      'EXPRESSION_SYNTAX',
      last + 1,
      `expression ends after ${JSON.stringify(end)}: an operand is missing`,
    );
}

function isEventAction(e: Expr | undefined): boolean {
  if (e?.exprKind.case !== 'selectExpr') return false;
  const s = e.exprKind.value;
  return (
    !s.testOnly &&
    s.field === 'action' &&
    s.operand?.exprKind.case === 'identExpr' &&
    s.operand.exprKind.value.name === 'event'
  );
}

function stringConst(e: Expr | undefined): string | undefined {
  if (e?.exprKind.case !== 'constExpr') return undefined;
  const c = e.exprKind.value.constantKind;
  return c.case === 'stringValue' ? (c.value as string) : undefined;
}

/** The first top-level conjunct that constrains `event.action` to literals (see ActionFilter). */
function actionFilterOf(root: Expr): ActionFilter | undefined {
  const conjuncts: Expr[] = [];
  const flatten = (e: Expr) => {
    if (e.exprKind.case === 'callExpr' && e.exprKind.value.function === '_&&_' && !e.exprKind.value.target) {
      for (const a of e.exprKind.value.args) flatten(a);
    } else conjuncts.push(e);
  };
  flatten(root);
  for (const c of conjuncts) {
    if (c.exprKind.case !== 'callExpr') continue;
    const { function: fn, args, target } = c.exprKind.value;
    if (fn === '_==_' && args.length === 2) {
      const [a, b] = args;
      const lit = isEventAction(a) ? stringConst(b) : isEventAction(b) ? stringConst(a) : undefined;
      if (lit !== undefined) return { kind: 'exact', actions: new Set([lit]) };
    }
    if ((fn === '@in' || fn === '_in_') && args.length === 2 && isEventAction(args[0])) {
      const list = args[1];
      if (list?.exprKind.case === 'listExpr') {
        const lits = list.exprKind.value.elements.map(stringConst);
        if (lits.every((x) => x !== undefined)) return { kind: 'exact', actions: new Set(lits as string[]) };
      }
    }
    if (fn === 'startsWith' && args.length === 1 && isEventAction(target)) {
      const lit = stringConst(args[0]);
      if (lit !== undefined) return { kind: 'prefix', prefix: lit };
    }
  }
  return undefined;
}

export function actionPasses(filter: ActionFilter | undefined, action: string): boolean {
  if (filter === undefined) return true;
  return filter.kind === 'exact' ? filter.actions.has(action) : action.startsWith(filter.prefix);
}

/** A CEL value as a key string (group, first-seen key and value, absence key); undefined if it cannot be one. */
export function keyString(v: CelValue): string | undefined {
  switch (typeof v) {
    case 'string':
      return v;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'number':
      return Number.isFinite(v) ? String(v) : undefined;
    default:
      return isCelUint(v) ? v.value.toString() : undefined;
  }
}

/** A CEL value as a finite JavaScript number (sums); undefined if it is not a number. */
export function numberOf(v: CelValue): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (isCelUint(v)) return Number(v.value);
  return undefined;
}
