/**
 * From argv to a command: the longest command path that prefixes argv wins
 * and gets the rest of it. `anchorlog --help` / `anchorlog help` list the
 * commands; `anchorlog help <command…>` is `anchorlog <command…> --help`; a
 * command group (`anchorlog principals`) lists its subcommands. An unknown
 * word is a usage error (UNKNOWN_COMMAND, exit 2), as JSON with `--json`.
 */
import { asksForJson, nearest } from './args.ts';
import { reportUsage } from './command.ts';
import { UsageError } from './errors.ts';
import { type CliIo, type CommandRunner, EXIT_OK } from './io.ts';
import { printableJson } from './printable.ts';

export interface Command {
  /** The words that name it: `['verify']`, `['principals', 'create']`. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Gets argv after the path; resolves to the exit code (io.ts). */
  readonly run: CommandRunner;
}

const isHelp = (a: string | undefined) => a === '--help' || a === '-h' || a === 'help';

/** `usage: anchorlog <command> [options]` and one line a command; `prefix` for a group. */
function listing(commands: readonly Command[], prefix: readonly string[] = []): string {
  const names = commands.map((c) => `anchorlog ${c.path.join(' ')}`);
  const width = Math.max(...names.map((n) => n.length)) + 3;
  const rows = commands.map((c, i) => `  ${(names[i] as string).padEnd(width)}${c.summary}`);
  const what = prefix.length > 0 ? `${prefix.join(' ')} <subcommand>` : '<command>';
  return `usage: anchorlog ${what} [options]

commands:
${rows.join('\n')}

Every command takes --help (its options and examples) and --json (a machine-readable result on
stdout; usage and other errors as JSON too, with the same exit codes).
'anchorlog help <command>' is the same as 'anchorlog <command> --help'.
exit status: 0 ok, 1 failure, 2 usage error, 3 verified but not against pinned trust,
             4 verified but completeness not proved (README "Exit codes")
`;
}

function listingDocument(commands: readonly Command[]): Record<string, unknown> {
  return {
    ok: true,
    commands: commands.map((c) => ({ command: `anchorlog ${c.path.join(' ')}`, summary: c.summary })),
  };
}

/** Dispatch `argv` (without node and script) to one of `commands`; resolves to the exit code. */
export async function dispatch(
  argv: readonly string[],
  io: CliIo,
  commands: readonly Command[],
): Promise<number> {
  const json = asksForJson(argv);
  const unknown = (message: string, among: readonly Command[], prefix: readonly string[] = []) =>
    reportUsage(io, new UsageError('UNKNOWN_COMMAND', message), json, {
      label: 'anchorlog',
      usage: listing(among, prefix).trimEnd(),
    });
  const first = argv[0];
  if (first === undefined) return unknown('no command given', commands);
  if (isHelp(first) || (first === '--json' && isHelp(argv[1]))) {
    const words = argv.slice(1).filter((a) => !a.startsWith('-'));
    if (first === 'help' && words.length > 0)
      return dispatch([...words, '--help', ...(json ? ['--json'] : [])], io, commands);
    io.stdout(json ? printableJson(listingDocument(commands), 2) : listing(commands));
    return EXIT_OK;
  }

  // Longest path that prefixes argv wins, so `timestamp verify` and a future `timestamp` can coexist.
  const match = commands
    .filter((c) => c.path.every((w, i) => argv[i] === w))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (match) return match.run(argv.slice(match.path.length), io);

  const group = commands.filter((c) => c.path[0] === first && c.path.length > 1);
  if (group.length > 0) {
    const sub = argv[1];
    if (isHelp(sub)) {
      io.stdout(json ? printableJson(listingDocument(group), 2) : listing(group, [first]));
      return EXIT_OK;
    }
    if (sub === undefined || sub.startsWith('-'))
      return unknown(`'anchorlog ${first}' needs a subcommand`, group, [first]);
    const near = nearest(
      sub,
      group.map((c) => c.path[1] as string),
    );
    return unknown(
      `unknown subcommand '${first} ${sub}'${near ? ` (did you mean '${first} ${near}'?)` : ''}`,
      group,
      [first],
    );
  }
  const near = nearest(
    first,
    commands.map((c) => c.path[0] as string),
  );
  return unknown(`unknown command '${first}'${near ? ` (did you mean '${near}'?)` : ''}`, commands);
}
