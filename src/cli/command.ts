/**
 * Running one command: parse its command line (args.ts), answer `--help`,
 * run its body, and turn whatever stops it into the exit-code contract
 * (README "Exit codes"): a UsageError is exit 2 with the command's usage
 * line; any other error is a failed check, exit 1, with a reason code (its
 * own `code` when it has one: CheckError, and the core's NoteError,
 * MerkleError, TimestampError, … — else INTERNAL_ERROR). With `--json` both
 * are also a JSON document on stdout, `{ "ok": false, "error": { "code",
 * "message" } }`; the human-readable reason goes to stderr either way.
 *
 * Messages quote the command line, files and servers: every one reaches the
 * terminal through printable.ts. Nothing here lets a stack trace out.
 */
import {
  type Args,
  asksForJson,
  type CommandSpec,
  commandName,
  type OptionSpecs,
  parseCommandLine,
} from './args.ts';
import { CheckError, UsageError } from './errors.ts';
import { helpDocument, helpText, usageLine } from './help.ts';
import { type CliEnv, type CliIo, EXIT_INVALID, EXIT_OK, EXIT_USAGE } from './io.ts';
import { printable, printableJson } from './printable.ts';

/** A failed check, as the failure view sees it. */
export interface Failure {
  readonly code: string;
  readonly message: string;
  readonly error: unknown;
}

/** How a command shows a failed check beyond the common reason line. */
export interface FailureView {
  /** Fields of the --json document besides `ok: false`; an `error` here replaces `{ code, message }`. */
  readonly json?: (f: Failure) => Record<string, unknown>;
  /** Standard output in text mode (a verdict line, for a command that verifies). */
  readonly text?: (f: Failure) => string;
  /** Appended to the reason on stderr: a hint, or what did not happen. Not escaped: ours, not theirs. */
  readonly note?: (f: Failure) => string;
  /** What the reason line starts with; default `anchorlog <command>`. */
  readonly label?: string;
}

/** Runs `body` with the parsed arguments of `spec`; resolves to the exit code. */
export async function runCommand<O extends OptionSpecs, A>(
  spec: CommandSpec<O, A>,
  argv: readonly string[],
  io: CliIo,
  env: CliEnv,
  body: (args: Args<O, A>) => Promise<number>,
  view: FailureView = {},
): Promise<number> {
  let json = asksForJson(argv);
  try {
    const parsed = parseCommandLine(spec, argv, env);
    if (parsed.help) {
      io.stdout(parsed.json ? printableJson(helpDocument(spec), 2) : helpText(spec));
      return EXIT_OK;
    }
    json = parsed.args.json;
    return await body(parsed.args);
  } catch (err) {
    if (err instanceof UsageError)
      return reportUsage(io, err, json, {
        label: commandName(spec),
        usage: usageLine(spec),
        more: `Run 'anchorlog help ${spec.path.join(' ')}' for options and examples.`,
      });
    return reportFailure(io, err, json, { label: commandName(spec), ...view });
  }
}

/**
 * Exit 2: the reason, then the usage line, on stderr; with --json also
 * `{ ok: false, error: { code, message, usage } }` on stdout.
 */
export function reportUsage(
  io: CliIo,
  err: UsageError,
  json: boolean,
  where: { readonly label: string; readonly usage: string; readonly more?: string },
): number {
  if (json)
    io.stdout(
      printableJson({ ok: false, error: { code: err.code, message: err.message, usage: where.usage } }, 2),
    );
  io.stderr(
    `${where.label}: ${printable(err.message)}\n${where.usage}\n${where.more ? `${where.more}\n` : ''}`,
  );
  return EXIT_USAGE;
}

function failureOf(err: unknown): Failure {
  const own = (err as { code?: unknown } | null)?.code;
  const code = err instanceof CheckError ? err.code : typeof own === 'string' ? own : 'INTERNAL_ERROR';
  return { code, message: err instanceof Error ? err.message : String(err), error: err };
}

/** Exit 1: the reason code and message on stderr, the view's verdict on stdout (or the JSON document). */
function reportFailure(
  io: CliIo,
  err: unknown,
  json: boolean,
  view: FailureView & { label: string },
): number {
  const f = failureOf(err);
  if (json)
    io.stdout(
      printableJson({ ok: false, error: { code: f.code, message: f.message }, ...view.json?.(f) }, 2),
    );
  else if (view.text) io.stdout(view.text(f));
  io.stderr(`${view.label}: ${printable(f.code)}: ${printable(f.message)}${view.note?.(f) ?? ''}\n`);
  return EXIT_INVALID;
}
