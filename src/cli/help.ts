/**
 * A command's usage line and `--help`, as text and as JSON, generated from
 * its declaration (args.ts) so they cannot drift from what it parses.
 */
import { type CommandSpec, commandName, type OptionSpec, type OptionSpecs } from './args.ts';

const WIDTH = 100;
/** Where option descriptions start. */
const COLUMN = 26;

const JSON_OPTION: OptionSpec = {
  kind: 'flag',
  description: 'machine-readable output on stdout; usage and other errors are JSON too (same exit codes)',
};
const HELP_OPTION: OptionSpec = { kind: 'flag', short: 'h', description: 'show this help and exit 0' };

/** Every option as shown: the command's, then --json and --help. */
function shownOptions<O extends OptionSpecs, A>(spec: CommandSpec<O, A>): [string, OptionSpec][] {
  return [...Object.entries(spec.options), ['json', JSON_OPTION], ['help', HELP_OPTION]];
}

/** `-o FILE`, `--vkey VKEY...`, `--allow-untrusted`: one option as a usage term. */
function term(name: string, o: OptionSpec): string {
  const flag = o.short !== undefined && o.kind === 'value' ? `-${o.short}` : `--${name}`;
  if (o.kind === 'flag') return flag;
  return `${flag} ${o.placeholder}${o.multiple ? '...' : ''}`;
}

/**
 * `usage: anchorlog checkpoint --log LOG [--vkey VKEY... | …] …`, wrapped.
 * Required options stand bare (an environment fallback makes one optional
 * to type), exclusive groups in one bracket, `(a | b)` when one is required.
 */
export function usageLine<O extends OptionSpecs, A>(spec: CommandSpec<O, A>): string {
  const terms: string[] = spec.argument ? [spec.argument.name] : [];
  const done = new Set<string>();
  for (const [name, o] of Object.entries(spec.options)) {
    if (done.has(name)) continue;
    const group = spec.exclusive?.find((g) => g.options.includes(name));
    if (group) {
      for (const n of group.options) done.add(n);
      const alternatives = group.options.map((n) => term(n, spec.options[n] as OptionSpec)).join(' | ');
      terms.push(group.required ? `(${alternatives})` : `[${alternatives}]`);
      continue;
    }
    const bare = o.kind === 'value' && o.required && o.env === undefined;
    terms.push(bare ? term(name, o) : `[${term(name, o)}]`);
  }
  terms.push('[--json]');
  const head = `usage: ${commandName(spec)}`;
  const lines = [head];
  for (const t of terms) {
    const last = lines.length - 1;
    if (`${lines[last]} ${t}`.length > WIDTH && (lines[last] as string).trim() !== '')
      lines.push(`${' '.repeat(head.length)} ${t}`);
    else lines[last] = `${lines[last]} ${t}`;
  }
  return lines.join('\n');
}

function optionNote(o: OptionSpec): string {
  if (o.kind === 'flag') return '';
  const notes = [
    o.required ? 'required' : undefined,
    o.env ? `default: $${o.env}` : undefined,
    o.multiple ? 'repeatable' : undefined,
  ].filter(Boolean);
  return notes.length > 0 ? ` (${notes.join('; ')})` : '';
}

/** `text` in lines of at most `width` characters, broken between words; its own newlines kept. */
function wrap(text: string, width: number): string[] {
  return text.split('\n').flatMap((paragraph) => {
    const lines: string[] = [];
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line !== '' && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    return [...lines, line];
  });
}

/** `  left      description`, the description wrapped in one column. */
function row(left: string, description: string): string {
  const text = wrap(description, WIDTH - COLUMN);
  const pad = ' '.repeat(COLUMN);
  const first = left.length < COLUMN ? `${left.padEnd(COLUMN)}${text[0]}` : `${left}\n${pad}${text[0]}`;
  return [first, ...text.slice(1).map((l) => `${pad}${l}`)].join('\n');
}

function optionRow(name: string, o: OptionSpec): string {
  const value = o.kind === 'value' ? ` ${o.placeholder}` : '';
  return row(
    `  ${o.short !== undefined ? `-${o.short}, ` : ''}--${name}${value}`,
    `${o.description}${optionNote(o)}`,
  );
}

/** `anchorlog <command> --help`. */
export function helpText<O extends OptionSpecs, A>(spec: CommandSpec<O, A>): string {
  const sections = [usageLine(spec), spec.description.trimEnd()];
  if (spec.argument) sections.push(`argument:\n${row(`  ${spec.argument.name}`, spec.argument.description)}`);
  sections.push(
    `options:\n${shownOptions(spec)
      .map(([n, o]) => optionRow(n, o))
      .join('\n')}`,
  );
  sections.push(wrap(`--json prints: ${spec.json}`, WIDTH).join('\n  '));
  sections.push(`examples:\n${spec.examples.map((e) => `  # ${e.title}\n  ${e.command}`).join('\n\n')}`);
  sections.push(spec.exitStatus.trimEnd());
  return `${sections.join('\n\n')}\n`;
}

/** `anchorlog <command> --help --json`: the same, as data. */
export function helpDocument<O extends OptionSpecs, A>(spec: CommandSpec<O, A>): Record<string, unknown> {
  return {
    ok: true,
    command: commandName(spec),
    summary: spec.summary,
    usage: usageLine(spec),
    description: spec.description.trimEnd(),
    argument: spec.argument ? { name: spec.argument.name, description: spec.argument.description } : null,
    options: shownOptions(spec).map(([name, o]) => ({
      flag: `--${name}`,
      short: o.short !== undefined ? `-${o.short}` : null,
      value: o.kind === 'value' ? o.placeholder : null,
      required: o.kind === 'value' && o.required,
      repeatable: o.kind === 'value' && o.multiple,
      env: o.kind === 'value' ? (o.env ?? null) : null,
      description: o.description,
    })),
    exclusive: (spec.exclusive ?? []).map((g) => ({
      options: g.options.map((n) => `--${n}`),
      required: g.required === true,
    })),
    json: spec.json,
    examples: spec.examples,
    exitStatus: spec.exitStatus.trimEnd(),
  };
}
