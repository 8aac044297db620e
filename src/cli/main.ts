/**
 * The `anchorlog` command: the table of commands and the entry point.
 *
 * To add a command, declare its command line with defineCommand (args.ts),
 * run its body with runCommand (command.ts), and add one entry here: `path`
 * is the words that name it, `run` gets the remaining argv and a CliIo and
 * returns the exit code (io.ts: 0 ok, 1 check failed, 2 usage, 3 not against
 * pinned trust, 4 completeness not proved). Dispatch is dispatch.ts.
 * Commands that verify import only src/core (docs/architecture.md: the
 * offline verifier).
 */

import { pathToFileURL } from 'node:url';
import { accessReviewsCommands } from './access-reviews.ts';
import { alertsCommands } from './alerts.ts';
import { CHECKPOINT, runCheckpoint } from './checkpoint.ts';
import { type Command, dispatch } from './dispatch.ts';
import { EXPORT, runExport } from './export.ts';
import { cliFetch } from './http-client.ts';
import { type CliEnv, type CliIo, nodeIo } from './io.ts';
import { logPolicyCommands } from './log-policy.ts';
import { MONITOR, runMonitor } from './monitor.ts';
import { principalsCommands } from './principals.ts';
import { PRODUCERS, runProducers } from './producers.ts';
import { PROVE, runProve } from './prove.ts';
import { INDEX_REBUILD, QUERY, runIndexRebuild, runQuery } from './query.ts';
import { rolesCommands } from './roles.ts';
import { rulesCommands } from './rules.ts';
import { signingKeysCommands } from './signing-keys.ts';
import { runTimestampVerify, TIMESTAMP_VERIFY } from './timestamp-verify.ts';
import { runTrust, TRUST } from './trust.ts';
import { runVerify, VERIFY } from './verify.ts';
import { runWitnessed, WITNESSED } from './witnessed.ts';

export type { Command } from './dispatch.ts';

/** What the commands get from the process: its environment, fetch, and whether stderr is a terminal. */
export interface EntryDeps {
  readonly env: CliEnv;
  readonly fetch: typeof fetch;
  readonly tty: boolean;
}

/** The command table over `deps`, read when a command runs (so a test may change the environment). */
export function commandTable(deps: () => EntryDeps): Command[] {
  const lazy =
    (run: (d: EntryDeps) => Command['run']): Command['run'] =>
    (argv, io) =>
      run(deps())(argv, io);
  return [
    { path: TRUST.path, summary: TRUST.summary, run: lazy((d) => (argv, io) => runTrust(argv, io, d)) },
    {
      path: CHECKPOINT.path,
      summary: CHECKPOINT.summary,
      run: lazy((d) => (argv, io) => runCheckpoint(argv, io, d)),
    },
    {
      path: WITNESSED.path,
      summary: WITNESSED.summary,
      run: lazy((d) => (argv, io) => runWitnessed(argv, io, d)),
    },
    {
      path: PRODUCERS.path,
      summary: PRODUCERS.summary,
      run: lazy((d) => (argv, io) => runProducers(argv, io, d)),
    },
    { path: PROVE.path, summary: PROVE.summary, run: lazy((d) => (argv, io) => runProve(argv, io, d)) },
    { path: EXPORT.path, summary: EXPORT.summary, run: lazy((d) => (argv, io) => runExport(argv, io, d)) },
    { path: MONITOR.path, summary: MONITOR.summary, run: lazy((d) => (argv, io) => runMonitor(argv, io, d)) },
    { path: QUERY.path, summary: QUERY.summary, run: lazy((d) => (argv, io) => runQuery(argv, io, d)) },
    {
      path: INDEX_REBUILD.path,
      summary: INDEX_REBUILD.summary,
      run: lazy((d) => (argv, io) => runIndexRebuild(argv, io, d)),
    },
    { path: VERIFY.path, summary: VERIFY.summary, run: runVerify },
    { path: TIMESTAMP_VERIFY.path, summary: TIMESTAMP_VERIFY.summary, run: runTimestampVerify },
    ...principalsCommands(deps),
    ...rulesCommands(deps),
    ...alertsCommands(deps),
    ...accessReviewsCommands(deps),
    ...rolesCommands(deps),
    ...logPolicyCommands(deps),
    ...signingKeysCommands(deps),
  ];
}

// The one place the CLI reads the environment (test/architecture.test.ts).
const processDeps = (): EntryDeps => ({
  env: {
    ANCHORLOG_API_URL: process.env.ANCHORLOG_API_URL,
    ANCHORLOG_API_KEY: process.env.ANCHORLOG_API_KEY,
  },
  fetch: cliFetch,
  tty: process.stderr.isTTY === true,
});

export const COMMANDS: readonly Command[] = commandTable(processDeps);

/** Dispatch `argv` (without node and script) to a command; resolves to the exit code. */
export function runMain(argv: string[], io: CliIo, commands: readonly Command[] = COMMANDS): Promise<number> {
  return dispatch(argv, io, commands);
}

// Run when executed directly (`tsx src/cli/main.ts …`); bin/anchorlog.mjs imports runMain instead.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runMain(process.argv.slice(2), nodeIo());
}
