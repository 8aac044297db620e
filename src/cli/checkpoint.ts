/**
 * `anchorlog checkpoint` — fetch a log's latest checkpoint from the read API
 * and verify its signature against a pinned verifier key named like its
 * origin (or, loudly and with exit 3, the server's own key). Prints origin,
 * size and root.
 *
 * Exit: 0 verified against a pinned key, 1 verification failed (reason code),
 * 2 usage error, 3 verified against the server's own key (verdict.ts).
 */
import { toBase64 } from '../core/bytes.ts';
import { defineCommand, option } from './args.ts';
import { runCommand } from './command.ts';
import type { CliIo } from './io.ts';
import { printableJson, printableLines } from './printable.ts';
import {
  apiOptions,
  fetchVerifiedCheckpoint,
  PIN_GROUP,
  PIN_OPTIONS,
  pinnedLogKeys,
  type ReadApiDeps,
} from './read-api.ts';
import { logId } from './values.ts';
import { EXIT_USAGE_TEXT, logKeyHeadline, logKeyVerdict, VERIFICATION_FAILED } from './verdict.ts';

export const CHECKPOINT = defineCommand({
  path: ['checkpoint'],
  summary: "fetch a log's latest checkpoint and verify it against a pinned key",
  description: `Fetches the latest checkpoint of a log from the read API and verifies its signature
against a pinned verifier key named like its origin, then prints origin, size and root.
A pinned key vouches only for the log whose origin is its name. Without a pinned key the
server's own key from /v1/keys is used, with a warning, and the exit status is 3.`,
  options: {
    log: option(logId, 'the log id', { required: true }),
    ...PIN_OPTIONS,
    ...apiOptions('with proofs:read on the log'),
  },
  exclusive: [PIN_GROUP],
  json: '{ ok, verified, verdict, origin, size, rootHash, verifiedBy, trustedServerKey, checkpoint }',
  examples: [
    {
      title: 'the live head of log prod, against the TRUST.json you pinned (anchorlog trust)',
      command: 'anchorlog checkpoint --log prod --trust TRUST.json',
    },
    {
      title: 'the same against keys kept one a line, for a script that reads the size',
      command: 'anchorlog checkpoint --log prod --vkey-file vkeys.txt --api https://audit.example.com --json',
    },
  ],
  exitStatus: EXIT_USAGE_TEXT,
});

export function runCheckpoint(argv: string[], io: CliIo, deps: ReadApiDeps): Promise<number> {
  return runCommand(
    CHECKPOINT,
    argv,
    io,
    deps.env,
    async (args) => {
      const pinned = await pinnedLogKeys(io, args);
      const r = await fetchVerifiedCheckpoint(deps, io, { url: args.api, key: args.key }, args.log, pinned);
      const verdict = logKeyVerdict(r.trustedServerKey, args['allow-untrusted']);
      const out = {
        // As in `verify --json`: `ok` follows the exit code, `verified` says the checks passed.
        ok: verdict.exitCode === 0,
        verified: true,
        verdict,
        origin: r.checkpoint.origin,
        size: r.checkpoint.size,
        rootHash: toBase64(r.checkpoint.rootHash),
        verifiedBy: r.verifiedBy,
        trustedServerKey: r.trustedServerKey,
        checkpoint: r.text,
      };
      if (args.json) io.stdout(printableJson(out, 2));
      else
        io.stdout(
          printableLines([
            logKeyHeadline(verdict),
            `origin:  ${out.origin}`,
            `size:    ${out.size}`,
            `root:    ${out.rootHash}`,
            ...r.verifiedBy.map((v) => `key:     ${v}`),
          ]),
        );
      return verdict.exitCode;
    },
    VERIFICATION_FAILED,
  );
}
