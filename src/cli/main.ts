/**
 * The `anchorlog` command: a table-driven subcommand dispatcher.
 *
 * To add a command, add one entry to COMMANDS — `path` is the words that name
 * it (`['verify']`, `['checkpoint', 'show']`, …), `run` gets the remaining
 * argv and a CliIo and returns the exit code (io.ts: 0 ok, 1 check failed,
 * 2 usage, 3 not against pinned trust, 4 completeness not proved).
 * Commands that verify import only src/core (DESIGN §5: offline verifier).
 */
import { pathToFileURL } from 'node:url';
import { runCheckpoint } from './checkpoint.ts';
import { runExport } from './export.ts';
import { cliFetch } from './http-client.ts';
import { type CliIo, type CommandRunner, EXIT_OK, EXIT_USAGE, nodeIo } from './io.ts';
import { runPrincipals } from './principals.ts';
import { runProve } from './prove.ts';
import type { ReadApiDeps } from './read-api.ts';
import { runTimestampVerify } from './timestamp-verify.ts';
import { runTrust } from './trust.ts';
import { runVerify } from './verify.ts';

export interface Command {
  readonly path: readonly string[];
  readonly summary: string;
  readonly run: CommandRunner;
}

// The entry's environment, read here and passed in (commands never read process.env).
const readApi = (): ReadApiDeps => ({
  env: {
    ANCHORLOG_API_URL: process.env.ANCHORLOG_API_URL,
    ANCHORLOG_API_KEY: process.env.ANCHORLOG_API_KEY,
  },
  fetch: cliFetch,
});

export const COMMANDS: readonly Command[] = [
  {
    path: ['trust'],
    summary: 'build TRUST.json for a log from a deployment and print fingerprints to compare',
    run: (argv, io) => runTrust(argv, io, readApi()),
  },
  {
    path: ['checkpoint'],
    summary: "fetch a log's latest checkpoint and verify it against a pinned key",
    run: (argv, io) => runCheckpoint(argv, io, readApi()),
  },
  {
    path: ['prove'],
    summary: 'verify that record N is in the log (inclusion proof to a signed checkpoint)',
    run: (argv, io) => runProve(argv, io, readApi()),
  },
  {
    path: ['export'],
    summary: 'export an evidence bundle for a time range and download it (checks its SHA-256)',
    run: (argv, io) => runExport(argv, io, { ...readApi(), tty: process.stderr.isTTY === true }),
  },
  {
    path: ['verify'],
    summary: 'verify an evidence bundle offline (completeness, chain, proofs, signatures, time-stamps)',
    run: runVerify,
  },
  {
    path: ['timestamp', 'verify'],
    summary: 'verify an RFC 3161 time-stamp offline against pinned TSA roots',
    run: runTimestampVerify,
  },
  {
    path: ['principals'],
    summary: 'create, list, rotate, revoke principals and set their scopes (admin API)',
    // The entry point is the one place that reads the environment.
    run: (argv, io) =>
      runPrincipals(argv, {
        ...io,
        env: {
          ANCHORLOG_API_URL: process.env.ANCHORLOG_API_URL,
          ANCHORLOG_API_KEY: process.env.ANCHORLOG_API_KEY,
        },
      }),
  },
];

function helpText(commands: readonly Command[], prefix: readonly string[] = []): string {
  const rows = commands.map((c) => `  anchorlog ${c.path.join(' ')}`.padEnd(34) + c.summary);
  const title =
    prefix.length > 0 ? `anchorlog ${prefix.join(' ')}: subcommands` : 'usage: anchorlog <command> [options]';
  return `${title}\n\n${rows.join('\n')}\n\nRun 'anchorlog <command> --help' for a command's options.\n`;
}

const isHelp = (a: string | undefined) => a === '--help' || a === '-h' || a === 'help';

/** Dispatch `argv` (without node and script) to a command; resolves to the exit code. */
export async function runMain(
  argv: string[],
  io: CliIo,
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  if (argv.length === 0) {
    io.stderr(helpText(commands));
    return EXIT_USAGE;
  }
  if (isHelp(argv[0])) {
    io.stdout(helpText(commands));
    return EXIT_OK;
  }
  // Longest path that prefixes argv wins, so `timestamp verify` and a future
  // `timestamp` could coexist.
  const match = commands
    .filter((c) => c.path.every((w, i) => argv[i] === w))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (match) return match.run(argv.slice(match.path.length), io);

  // A command group (`anchorlog timestamp`) or an unknown word: list what exists there.
  const group = commands.filter((c) => c.path[0] === argv[0]);
  if (group.length > 0) {
    const help = helpText(group, [argv[0] as string]);
    if (isHelp(argv[1])) {
      io.stdout(help);
      return EXIT_OK;
    }
    io.stderr(`anchorlog: unknown subcommand '${argv.slice(0, 2).join(' ')}'\n${help}`);
    return EXIT_USAGE;
  }
  io.stderr(`anchorlog: unknown command '${argv[0]}'\n${helpText(commands)}`);
  return EXIT_USAGE;
}

// Run when executed directly (`tsx src/cli/main.ts …`); bin/anchorlog.mjs imports runMain instead.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runMain(process.argv.slice(2), nodeIo());
}
