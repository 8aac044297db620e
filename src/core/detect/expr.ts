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
import {
  CelScalar,
  type CelValue,
  celEnv,
  celFunc,
  celList,
  celMap,
  isCelError,
  isCelUint,
  parse,
  plan,
} from '@bufbuild/cel';
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
  /**
   * The record as JSON, for guards and field-path expressions evaluated
   * without CEL. Not a CEL variable: an expression naming `raw` is refused.
   */
  readonly raw: GuardInput;
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
 * A condition taken from a top-level conjunct of an expression and checked
 * on the raw record in plain JavaScript: `event.action == 'x'`,
 * `event.outcome in ['denied', 'failure']`, `event.action != 'x'`,
 * `event.action.startsWith('tool.')`, `event.metadata.bytes > 1e9`,
 * `has(event.target)`, `submitter == 'svc'`.
 *
 * Each is *necessary*: CEL's `&&` is false if any side is false, even next to
 * an error, and such a conjunct whose field is absent or of another type is
 * false or an error — never true — so when a guard fails the expression
 * cannot be true and the engine skips it (the way Falco indexes rules by
 * event type). Each is also *exact* when it passes: the field is there, of
 * the compared type, and the comparison holds, which is what CEL computes
 * (JSON numbers are doubles, compared exactly with int and double literals).
 * So an expression whose conjuncts are all guards (`exact`) is decided by its
 * guards alone, without CEL.
 */
export type Guard =
  | { readonly kind: 'in'; readonly path: readonly string[]; readonly values: ReadonlySet<string | boolean> }
  | { readonly kind: 'ne'; readonly path: readonly string[]; readonly value: string | boolean }
  | { readonly kind: 'prefix'; readonly path: readonly string[]; readonly prefix: string }
  | {
      readonly kind: 'cmp';
      readonly path: readonly string[];
      readonly op: '<' | '<=' | '>' | '>=';
      readonly value: number | bigint;
    }
  | { readonly kind: 'has'; readonly path: readonly string[] };

/** The raw values guards read: the record's event, submitter and log id. */
export interface GuardInput {
  readonly event: unknown;
  readonly submitter: string;
  readonly logId: string;
}

export interface CompiledExpression {
  readonly source: string;
  /** JSON pointer of the expression in its rule document. */
  readonly path: string;
  /** AST nodes after macro expansion. */
  readonly nodes: number;
  /** Necessary conditions on the record (see Guard); empty when none could be taken. */
  readonly guards: readonly Guard[];
  /** Every top-level conjunct is a guard: the guards decide the expression (it is true iff they pass). */
  readonly exact: boolean;
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

  const { guards, exact } = guardsOf(root);
  // A bare field path (`event.actor.id`, `submitter`) is read without CEL: what most keys are.
  const bare = fieldPath(root);
  const program = plan(env, root as never) as unknown as (ctx: Bindings) => unknown;
  return {
    source,
    path,
    nodes,
    guards,
    exact,
    evaluate(bindings: Bindings): ExprResult {
      if (bare !== undefined) {
        const v = readPath(bindings.raw, bare);
        if (v !== MISSING) return { ok: true, value: celJson(v) as CelValue };
        // As CEL says it (a missing map key), at the expression.
        return {
          ok: false,
          code: 'EVAL_ERROR',
          message: `no such key: ${bare.at(-1)}`,
          position: positionOf(source, 0),
        };
      }
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

const GUARD_ROOTS = ['event', 'submitter', 'logId'];
const MISSING = Symbol('missing');

/** The field path of `event.a.b` / `submitter` / `logId`, or undefined. */
function fieldPath(e: Expr | undefined): string[] | undefined {
  const path: string[] = [];
  let cur = e;
  while (cur?.exprKind.case === 'selectExpr') {
    if (cur.exprKind.value.testOnly) return undefined;
    path.unshift(cur.exprKind.value.field);
    cur = cur.exprKind.value.operand;
  }
  if (cur?.exprKind.case !== 'identExpr' || !GUARD_ROOTS.includes(cur.exprKind.value.name)) return undefined;
  path.unshift(cur.exprKind.value.name);
  return path;
}

/** The JSON value at `path` of the record, or MISSING (an absent key, or a step into a non-object). */
function readPath(input: GuardInput, path: readonly string[]): unknown {
  let v: unknown = (input as unknown as Record<string, unknown>)[path[0] as string];
  for (let i = 1; i < path.length; i++) {
    const k = path[i] as string;
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, k)) return MISSING;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function constant(e: Expr | undefined): { case: string | undefined; value?: unknown } | undefined {
  return e?.exprKind.case === 'constExpr' ? e.exprKind.value.constantKind : undefined;
}

function literal(e: Expr | undefined): string | boolean | undefined {
  const c = constant(e);
  return c?.case === 'stringValue' || c?.case === 'boolValue' ? (c.value as string | boolean) : undefined;
}

function numberLiteral(e: Expr | undefined): number | bigint | undefined {
  const c = constant(e);
  if (c?.case === 'doubleValue') return Number.isNaN(c.value) ? undefined : (c.value as number);
  if (c?.case === 'int64Value' || c?.case === 'uint64Value') return BigInt(c.value as bigint | string);
  return undefined;
}

const FLIP = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as const;
const CMP: Record<string, '<' | '<=' | '>' | '>='> = { '_<_': '<', '_<=_': '<=', '_>_': '>', '_>=_': '>=' };

/** One conjunct as a guard, or undefined. */
function guardOf(c: Expr): Guard | undefined {
  if (c.exprKind.case === 'selectExpr' && c.exprKind.value.testOnly) {
    // has(event.a.b)
    const operand = fieldPath(c.exprKind.value.operand);
    return operand ? { kind: 'has', path: [...operand, c.exprKind.value.field] } : undefined;
  }
  if (c.exprKind.case !== 'callExpr') return undefined;
  const { function: fn, args, target } = c.exprKind.value;
  if ((fn === '_==_' || fn === '_!=_') && args.length === 2 && !target) {
    const [a, b] = args;
    const pa = fieldPath(a);
    const pb = pa ? undefined : fieldPath(b);
    const path = pa ?? pb;
    const lit = pa ? literal(b) : pb ? literal(a) : undefined;
    if (!path || lit === undefined) return undefined;
    return fn === '_==_' ? { kind: 'in', path, values: new Set([lit]) } : { kind: 'ne', path, value: lit };
  }
  if ((fn === '@in' || fn === '_in_') && args.length === 2 && !target) {
    const path = fieldPath(args[0]);
    const list = args[1];
    if (!path || list?.exprKind.case !== 'listExpr') return undefined;
    const lits = list.exprKind.value.elements.map(literal);
    return lits.every((x) => x !== undefined)
      ? { kind: 'in', path, values: new Set(lits as Array<string | boolean>) }
      : undefined;
  }
  if (fn === 'startsWith' && args.length === 1) {
    const path = fieldPath(target);
    const lit = literal(args[0]);
    return path && typeof lit === 'string' ? { kind: 'prefix', path, prefix: lit } : undefined;
  }
  const op = CMP[fn];
  if (op !== undefined && args.length === 2 && !target) {
    const [a, b] = args;
    const pa = fieldPath(a);
    if (pa) {
      const n = numberLiteral(b);
      return n === undefined ? undefined : { kind: 'cmp', path: pa, op, value: n };
    }
    const pb = fieldPath(b);
    const n = numberLiteral(a);
    return pb && n !== undefined ? { kind: 'cmp', path: pb, op: FLIP[op], value: n } : undefined;
  }
  return undefined;
}

/** The guards among the top-level conjuncts, and whether they are all of them. */
function guardsOf(root: Expr): { guards: Guard[]; exact: boolean } {
  const conjuncts: Expr[] = [];
  const flatten = (e: Expr) => {
    if (e.exprKind.case === 'callExpr' && e.exprKind.value.function === '_&&_' && !e.exprKind.value.target) {
      for (const a of e.exprKind.value.args) flatten(a);
    } else conjuncts.push(e);
  };
  flatten(root);
  const guards: Guard[] = [];
  for (const c of conjuncts) {
    const g = guardOf(c);
    if (g) guards.push(g);
  }
  return { guards, exact: guards.length === conjuncts.length };
}

/** What the guards say about a record. */
export enum Verdict {
  /** A guard is false: so is the expression (false, not an error). Skip it. */
  False = 0,
  /** Every guard holds: an exact expression is true. */
  True = 1,
  /** A guard's field is absent or of a type its comparison is an error for: only CEL can tell. */
  Unknown = 2,
}

/**
 * The guards on a record. `False` means the expression evaluates to false —
 * not true, and not an error either, so skipping it changes no count — and
 * `True` with an exact expression means it evaluates to true. In every other
 * case the caller evaluates the expression.
 */
export function guardVerdict(guards: readonly Guard[], input: GuardInput): Verdict {
  let verdict = Verdict.True;
  for (const g of guards) {
    const v = g.kind === 'has' ? readPath(input, g.path.slice(0, -1)) : readPath(input, g.path);
    if (v === MISSING) {
      verdict = Verdict.Unknown;
      continue;
    }
    switch (g.kind) {
      case 'has':
        // has() on a map: whether the key is there, and (as @bufbuild/cel
        // evaluates it) not JSON null; on anything else: an error.
        if (typeof v !== 'object' || v === null || Array.isArray(v)) verdict = Verdict.Unknown;
        else {
          const k = g.path.at(-1) as string;
          if (!Object.hasOwn(v, k) || (v as Record<string, unknown>)[k] === null) return Verdict.False;
        }
        break;
      case 'in':
        // Equality across types is false in CEL, never an error.
        if ((typeof v !== 'string' && typeof v !== 'boolean') || !g.values.has(v)) return Verdict.False;
        break;
      case 'ne':
        if (v === g.value) return Verdict.False;
        break;
      case 'prefix':
        if (typeof v !== 'string') verdict = Verdict.Unknown;
        else if (!v.startsWith(g.prefix)) return Verdict.False;
        break;
      case 'cmp': {
        if (typeof v !== 'number') {
          verdict = Verdict.Unknown;
          break;
        }
        const x = g.value;
        if (!(g.op === '<' ? v < x : g.op === '<=' ? v <= x : g.op === '>' ? v > x : v >= x))
          return Verdict.False;
        break;
      }
    }
  }
  return verdict;
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

/**
 * A JSON object as a CEL map whose members are converted on first access and
 * kept, for one record's evaluations. @bufbuild/cel converts a plain object
 * into a new map on every access (`event.actor.id` in 13 rules: 26 maps per
 * record); this converts `event` once per record, and only the parts read.
 */
class JsonMembers extends Map<string, unknown> {
  override get(key: string): unknown {
    const v = super.get(key);
    if (typeof v !== 'object' || v === null) return v;
    const converted = celJson(v);
    if (converted !== v) super.set(key, converted);
    return converted;
  }
}

/** A JSON value (a record's event) as a CEL value, converted lazily (see JsonMembers). */
export function celJson(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  // Elements too: @bufbuild/cel refuses objects without Object.prototype (and converts on every access).
  if (Array.isArray(v)) return celList(v.map(celJson) as never);
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v;
  return celMap(new JsonMembers(Object.entries(v)) as unknown as ReadonlyMap<string, never>);
}
