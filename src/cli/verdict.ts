/**
 * The exit status of a command that verifies (README "Exit codes"): 0 only
 * when every claim it prints was proved against trust the caller pinned, and
 * (for a bundle) the range was proved complete. Anything short of that is a
 * named shortfall with its own exit code, which the caller may accept
 * explicitly (`--allow-untrusted`, `--allow-incomplete`); accepted shortfalls
 * are still printed.
 *
 *   0  verified against pinned trust, completeness proved (where it applies)
 *   1  verification failed, or the API failed (reason code printed)
 *   2  usage error
 *   3  verified, but not against pinned trust (the bundle's own keys or TSA
 *      roots, or the server's /v1/keys)
 *   4  verified against pinned trust, but completeness not proved (a filtered
 *      export, or a range that ends at the checkpoint's last leaf)
 *
 * When both 3 and 4 apply, 3 wins: what is not pinned proves nothing at all.
 */
import type { FailureView } from './command.ts';
import { EXIT_INCOMPLETE, EXIT_INVALID, EXIT_OK, EXIT_UNTRUSTED } from './exit-codes.ts';

export type ShortfallCode =
  /** The bundle's keys/log.vkey was used: no log key pinned. */
  | 'UNTRUSTED_LOG_KEY'
  /** The bundle's anchors/*.chain.pem roots were used: no TSA root pinned. */
  | 'UNTRUSTED_TSA_ROOTS'
  /** The server's own /v1/keys was used: no log key pinned. */
  | 'UNTRUSTED_SERVER_KEY'
  /** A filtered export: each record is included, but not every matching record is shown to be there. */
  | 'COMPLETENESS_NOT_PROVED'
  /** A range export that ends at the checkpoint's last leaf: later records before toTime are not covered. */
  | 'RANGE_NOT_CLOSED'
  /** Records carry producer signatures, but no system-log bundle was given to check them against. */
  | 'PRODUCER_SIGNATURES_NOT_CHECKED';

export interface Shortfall {
  readonly code: ShortfallCode;
  readonly exitCode: typeof EXIT_UNTRUSTED | typeof EXIT_INCOMPLETE;
  readonly message: string;
}

export interface Verdict {
  readonly exitCode: number;
  readonly status: 'ok' | 'untrusted' | 'incomplete';
  /** Everything short of a full proof, in the order found. */
  readonly shortfalls: readonly Shortfall[];
  /** The shortfalls the caller accepted with a flag (a subset of `shortfalls`). */
  readonly accepted: readonly Shortfall[];
}

export interface Allowances {
  readonly untrusted: boolean;
  readonly incomplete: boolean;
}

export const untrusted = (code: ShortfallCode, message: string): Shortfall => ({
  code,
  exitCode: EXIT_UNTRUSTED,
  message,
});

export const incomplete = (code: ShortfallCode, message: string): Shortfall => ({
  code,
  exitCode: EXIT_INCOMPLETE,
  message,
});

export function verdictOf(shortfalls: readonly Shortfall[], allow: Allowances): Verdict {
  const allowed = (s: Shortfall) => (s.exitCode === EXIT_UNTRUSTED ? allow.untrusted : allow.incomplete);
  const accepted = shortfalls.filter(allowed);
  const open = shortfalls.filter((s) => !allowed(s));
  const exitCode = open.length === 0 ? EXIT_OK : Math.min(...open.map((s) => s.exitCode));
  const status =
    exitCode === EXIT_UNTRUSTED ? 'untrusted' : exitCode === EXIT_INCOMPLETE ? 'incomplete' : 'ok';
  return { exitCode, status, shortfalls, accepted };
}

/** "(accepted with --allow-untrusted and --allow-incomplete)" or ''. */
export function acceptedNote(v: Verdict): string {
  const flags = [
    v.accepted.some((s) => s.exitCode === EXIT_UNTRUSTED) ? '--allow-untrusted' : undefined,
    v.accepted.some((s) => s.exitCode === EXIT_INCOMPLETE) ? '--allow-incomplete' : undefined,
  ].filter(Boolean);
  return flags.length > 0 ? ` (accepted with ${flags.join(' and ')})` : '';
}

/** Usage lines shared by every command that verifies. */
export const EXIT_USAGE_TEXT = `exit status: 0 verified against pinned trust (and complete, for bundles),
             1 verification or API failure, 2 usage error,
             3 verified but NOT against pinned trust (--allow-untrusted accepts it),
             4 verified but completeness NOT proved (--allow-incomplete accepts it)
`;

/** The verdict of `checkpoint` / `prove`: only the log key can be unpinned there. */
export function logKeyVerdict(trustedServerKey: boolean, allowUntrusted: boolean): Verdict {
  const shortfalls = trustedServerKey
    ? [untrusted('UNTRUSTED_SERVER_KEY', "the log key was the server's own (GET /v1/keys), not a pinned one")]
    : [];
  return verdictOf(shortfalls, { untrusted: allowUntrusted, incomplete: false });
}

/** First line of `checkpoint` / `prove` output for a verified result. */
export function logKeyHeadline(v: Verdict): string {
  if (v.status !== 'ok') return 'Verification: VERIFIED, BUT NOT AGAINST A PINNED KEY (exit 3)';
  if (v.accepted.length > 0)
    return `Verification: OK${acceptedNote(v)}: against the server-published key, NOT a pinned one`;
  return 'Verification: OK';
}

/**
 * A failed `checkpoint` / `prove` (and `export`): "Verification: FAILED" on
 * stdout, and in JSON the verdict a script reads as for a success. The
 * top-level `code` and `message` repeat `error` for scripts written against
 * the document before `error` was common to every command.
 */
export const VERIFICATION_FAILED: FailureView = {
  json: (f) => ({
    verified: false,
    verdict: { exitCode: EXIT_INVALID, status: 'failed' },
    code: f.code,
    message: f.message,
  }),
  text: () => 'Verification: FAILED\n',
};
