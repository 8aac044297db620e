/**
 * The command line of every `anchorlog` command, declared once and parsed by
 * node:util parseArgs in strict mode. A command declares its options (each
 * with a value type from values.ts that checks and converts it), which are
 * required, which exclude each other, which fall back to an environment
 * variable, the one positional argument it may take, and its examples; from
 * that declaration come the parsing, every usage error (UsageError: exit 2
 * with the command's usage line, command.ts), `--help` and `--json`
 * (help.ts), so no two commands can disagree about them.
 *
 * Rules every command gets:
 * - `-h`/`--help` anywhere before `--` shows the help and exits 0, whatever
 *   else is on the line; `--json` makes the result, and any error, JSON.
 * - An unknown flag, a flag without its value (or whose "value" is the next
 *   flag), a value given to a plain flag, a positional argument where none
 *   belongs, and a single-valued flag given twice are all usage errors,
 *   never a guess.
 * - An environment fallback fills only an absent flag (the flag wins), is
 *   checked like the flag, and is named in the error if it is bad.
 * - A secret option's value (an API key) is never repeated in a message.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors.ts';
import type { CliEnv } from './io.ts';
import { InvalidValue, type ValueType } from './values.ts';

export type EnvName = keyof CliEnv;

interface Described {
  /** One line, or several; the first line is what a "missing" error quotes. */
  readonly description: string;
  /** A one-letter alias (`o` for `-o`). */
  readonly short?: string;
}

/** A flag without a value (`--allow-untrusted`). */
export interface FlagOption extends Described {
  readonly kind: 'flag';
}

/** An option with a value (`--log LOG`). */
export interface ValueOption<T = unknown, M extends boolean = boolean, R extends boolean = boolean>
  extends Described {
  readonly kind: 'value';
  readonly type: ValueType<T>;
  /** Repeatable: the values in order (possibly none). */
  readonly multiple: M;
  /** Must be given (or come from `env`); with `multiple`, at least once. */
  readonly required: R;
  /** Used when the flag is absent. */
  readonly env: EnvName | undefined;
  /** Never echoed in messages. */
  readonly secret: boolean;
  /** The placeholder in usage and help, when not the type's own. */
  readonly placeholder: string;
}

export type OptionSpec = FlagOption | ValueOption;
export type OptionSpecs = { readonly [name: string]: OptionSpec };

export function flag(description: string, opts: { short?: string } = {}): FlagOption {
  return { kind: 'flag', description, ...opts };
}

export function option<T, M extends boolean = false, R extends boolean = false>(
  type: ValueType<T>,
  description: string,
  opts: {
    short?: string;
    multiple?: M;
    required?: R;
    env?: EnvName;
    secret?: boolean;
    placeholder?: string;
  } = {},
  // NoInfer: inside a command's options the context (any OptionSpec) must not widen `false` to `boolean`.
): ValueOption<T, NoInfer<M>, NoInfer<R>> {
  return {
    kind: 'value',
    type,
    description,
    multiple: (opts.multiple ?? false) as M,
    required: (opts.required ?? false) as R,
    env: opts.env,
    secret: opts.secret ?? false,
    placeholder: opts.placeholder ?? type.placeholder,
    ...(opts.short !== undefined ? { short: opts.short } : {}),
  };
}

/** The one positional argument a command may take (`verify FILE`, `principals get ID`); always required. */
export interface ArgumentSpec<T> {
  readonly name: string;
  readonly type: ValueType<T>;
  readonly description: string;
}

/** Options of which at most one (or, if `required`, exactly one) may be given. */
export interface ExclusiveGroup<K extends string> {
  readonly options: readonly K[];
  readonly required?: boolean;
}

export interface Example {
  /** What it does, shown as a comment above the command. */
  readonly title: string;
  /** The whole command line, starting with `anchorlog`. */
  readonly command: string;
}

export interface CommandSpec<O extends OptionSpecs = OptionSpecs, A = unknown> {
  /** The words that name the command: `['timestamp', 'verify']`. */
  readonly path: readonly string[];
  /** One line for `anchorlog --help`. */
  readonly summary: string;
  /** What it does and what it proves, for `--help`. */
  readonly description: string;
  readonly argument?: ArgumentSpec<A>;
  /** In the order help shows them (`help` and `json` are added to every command). */
  readonly options: O;
  readonly exclusive?: readonly ExclusiveGroup<keyof O & string>[];
  /** What `--json` prints on success. */
  readonly json: string;
  readonly examples: readonly Example[];
  /** The exit-status lines of its help. */
  readonly exitStatus: string;
}

type ValueOf<S> = S extends FlagOption
  ? boolean
  : S extends ValueOption<infer T, infer M, infer R>
    ? M extends true
      ? readonly T[]
      : R extends true
        ? T
        : T | undefined
    : never;

/** What a command's body receives: every option typed by its declaration. */
export type Args<O extends OptionSpecs, A> = { readonly [K in keyof O]: ValueOf<O[K]> } & {
  readonly argument: A;
  readonly json: boolean;
};

/** The arguments of a declared command: `ArgsOf<typeof PROVE>`. */
export type ArgsOf<S> = S extends CommandSpec<infer O, infer A> ? Args<O, A> : never;

export type Parsed<O extends OptionSpecs, A> =
  | { readonly help: true; readonly json: boolean }
  | { readonly help: false; readonly args: Args<O, A> };

const RESERVED = ['help', 'json'];

/** A command's declaration, checked for mistakes a type cannot catch. */
export function defineCommand<O extends OptionSpecs, A = undefined>(
  spec: CommandSpec<O, A>,
): CommandSpec<O, A> {
  for (const name of Object.keys(spec.options))
    if (RESERVED.includes(name)) throw new TypeError(`--${name} is added to every command`);
  for (const g of spec.exclusive ?? [])
    for (const name of g.options) {
      const o = spec.options[name];
      if (o === undefined) throw new TypeError(`exclusive group names unknown --${name}`);
      if (o.kind === 'value' && o.required) throw new TypeError(`--${name} cannot be required and exclusive`);
    }
  return spec;
}

export const commandName = (spec: Pick<CommandSpec, 'path'>): string => `anchorlog ${spec.path.join(' ')}`;

/** The words before `--`: what can be a flag. */
const flagWords = (argv: readonly string[]): readonly string[] => {
  const end = argv.indexOf('--');
  return end < 0 ? argv : argv.slice(0, end);
};

/** `-h` or `--help` on the line: help is shown even if the rest does not parse. */
export const asksForHelp = (argv: readonly string[]): boolean =>
  flagWords(argv).some((a) => a === '--help' || a === '-h');

/** `--json` on the line: a usage error found before parsing finishes is still reported as JSON. */
export const asksForJson = (argv: readonly string[]): boolean => flagWords(argv).includes('--json');

/** `'value'`, shortened: for messages (command.ts escapes them before they reach a terminal). */
export const quote = (text: string): string => `'${text.length > 80 ? `${text.slice(0, 77)}...` : text}'`;

/** The flag as the user should type it: `--output FILE`. */
export const flagWithValue = (name: string, o: OptionSpec): string =>
  o.kind === 'flag' ? `--${name}` : `--${name} ${o.placeholder}`;

type ParseArgsOptions = NonNullable<ParseArgsConfig['options']>;

function parseArgsOptions<O extends OptionSpecs, A>(spec: CommandSpec<O, A>): ParseArgsOptions {
  const config: ParseArgsOptions = {
    help: { type: 'boolean', short: 'h' },
    json: { type: 'boolean' },
  };
  for (const [name, o] of Object.entries(spec.options))
    config[name] = {
      type: o.kind === 'flag' ? 'boolean' : 'string',
      multiple: o.kind === 'value' && o.multiple,
      ...(o.short !== undefined ? { short: o.short } : {}),
    };
  return config;
}

/** Parse `argv` (the words after the command's name) against `spec`; throws UsageError. */
export function parseCommandLine<O extends OptionSpecs, A>(
  spec: CommandSpec<O, A>,
  argv: readonly string[],
  env: CliEnv,
): Parsed<O, A> {
  const config = parseArgsOptions(spec);
  const strict = () =>
    parseArgs({
      args: [...argv],
      options: config,
      strict: true,
      allowPositionals: spec.argument !== undefined,
      tokens: true,
    });
  let parsed: ReturnType<typeof strict>;
  try {
    parsed = strict();
  } catch (e) {
    if (asksForHelp(argv)) return { help: true, json: asksForJson(argv) };
    throw syntaxError(spec, config, argv, e);
  }
  if (parsed.values.help === true) return { help: true, json: parsed.values.json === true };

  const given = new Map<string, number>();
  for (const t of parsed.tokens) if (t.kind === 'option') given.set(t.name, (given.get(t.name) ?? 0) + 1);

  const values: Record<string, unknown> = { json: parsed.values.json === true };
  for (const [name, o] of Object.entries(spec.options)) {
    const raw = parsed.values[name];
    if (o.kind === 'flag') {
      values[name] = raw === true;
      continue;
    }
    if (o.multiple) {
      values[name] = ((raw as string[] | undefined) ?? []).map((t) => parseValue(o, `--${name}`, t));
      continue;
    }
    if ((given.get(name) ?? 0) > 1)
      throw new UsageError('REPEATED_OPTION', `--${name} is given more than once; give it once`);
    const fallback = o.env !== undefined ? env[o.env] : undefined;
    values[name] =
      typeof raw === 'string'
        ? parseValue(o, `--${name}`, raw)
        : o.env !== undefined && fallback !== undefined && fallback !== ''
          ? parseValue(o, o.env, fallback)
          : undefined;
  }

  if (spec.argument) {
    const [first, second] = parsed.positionals;
    const a = spec.argument;
    if (second !== undefined)
      throw new UsageError(
        'UNEXPECTED_ARGUMENT',
        `unexpected argument ${quote(second)}: ${commandName(spec)} takes one ${a.name}`,
      );
    if (first === undefined)
      throw new UsageError('MISSING_ARGUMENT', `missing ${a.name}: ${firstLine(a.description)}`);
    values.argument = parseWith(a.type, a.name, first, false);
  }

  for (const g of spec.exclusive ?? []) {
    const present = g.options.filter((name) => given.has(name));
    const alternatives = g.options.map((n) => flagWithValue(n, spec.options[n] as OptionSpec));
    if (present.length > 1)
      throw new UsageError(
        'CONFLICTING_OPTIONS',
        `${present.map((n) => `--${n}`).join(' and ')} cannot be used together: give ${orList(alternatives, 'one of ')}`,
      );
    if (g.required && present.length === 0)
      throw new UsageError('MISSING_OPTION', `missing ${orList(alternatives, 'one of ')}`);
  }

  for (const [name, o] of Object.entries(spec.options)) {
    if (o.kind !== 'value' || !o.required) continue;
    const v = values[name];
    if (v === undefined || (Array.isArray(v) && v.length === 0))
      throw new UsageError(
        'MISSING_OPTION',
        `missing ${flagWithValue(name, o)}${o.env ? ` (or set ${o.env})` : ''}: ${firstLine(o.description)}`,
      );
  }
  return { help: false, args: values as Args<O, A> };
}

const firstLine = (text: string) => text.split('\n')[0] as string;

/** "A", "A or B", "one of A, B or C". */
function orList(items: readonly string[], manyPrefix: string): string {
  if (items.length <= 2) return items.join(' or ');
  return `${manyPrefix}${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

function parseValue(o: ValueOption, source: string, text: string): unknown {
  return parseWith(o.type, source, text, o.secret);
}

function parseWith<T>(type: ValueType<T>, source: string, text: string, secret: boolean): T {
  try {
    return type.parse(text);
  } catch (e) {
    if (!(e instanceof InvalidValue)) throw e;
    throw new UsageError('BAD_VALUE', `${source}${secret ? '' : ` ${quote(text)}`} ${e.message}`);
  }
}

/**
 * What strict parsing refused, said in the user's terms. The lenient parse
 * of the same words finds the first offending one; parseArgs's own message
 * is the fallback.
 */
function syntaxError<O extends OptionSpecs, A>(
  spec: CommandSpec<O, A>,
  config: ParseArgsOptions,
  argv: readonly string[],
  cause: unknown,
): UsageError {
  const { tokens } = parseArgs({
    args: [...argv],
    options: config,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      if (spec.argument === undefined)
        return new UsageError(
          'UNEXPECTED_ARGUMENT',
          `unexpected argument ${quote(t.value)}: ${commandName(spec)} takes no arguments, only flags`,
        );
      continue;
    }
    const known = Object.hasOwn(config, t.name) ? config[t.name] : undefined;
    if (known === undefined) {
      const near = t.rawName.startsWith('--') ? nearest(t.name, Object.keys(config)) : undefined;
      return new UsageError(
        'UNKNOWN_OPTION',
        `unknown option ${t.rawName}${near ? ` (did you mean --${near}?)` : ''}`,
      );
    }
    if (known.type === 'boolean') {
      if (t.value !== undefined) return new UsageError('BAD_VALUE', `${t.rawName} takes no value`);
      continue;
    }
    const o = spec.options[t.name];
    const placeholder = o?.kind === 'value' ? o.placeholder : 'VALUE';
    if (t.value === undefined)
      return new UsageError('BAD_VALUE', `${t.rawName} needs a value: ${t.rawName} ${placeholder}`);
    // parseArgs refuses a value that looks like a flag: most often the value was forgotten.
    if (!t.inlineValue && t.value.length > 1 && t.value.startsWith('-'))
      return new UsageError(
        'BAD_VALUE',
        `${t.rawName} got no value: the next word ${quote(t.value)} starts with '-' ` +
          `(if that is the value, write --${t.name}=${t.value})`,
      );
  }
  return new UsageError('BAD_VALUE', cause instanceof Error ? cause.message : String(cause));
}

/** The candidate within two edits of `word` (one for short words), if there is a single closest. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const limit = word.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Edits (insert, delete, replace, swap two neighbours) from `a` to `b`; 3 stands for "more than 2". */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => (d[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(
        at(i - 1, j) + 1,
        at(i, j - 1) + 1,
        at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  return at(a.length, b.length);
}
