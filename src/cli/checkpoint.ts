/**
 * `anchorlog checkpoint` — fetch a log's latest checkpoint from the read API
 * and verify its signature against a pinned verifier key named like its
 * origin (or, loudly and with exit 3, the server's own key). Prints origin,
 * size and root.
 *
 * Exit: 0 verified against a pinned key, 1 verification failed (reason code),
 * 2 usage error, 3 verified against the server's own key (verdict.ts).
 */
import { parseArgs } from 'node:util';
import { toBase64 } from '../core/bytes.ts';
import { type CliIo, EXIT_OK } from './io.ts';
import { printableJson, printableLines } from './printable.ts';
import {
  apiTarget,
  fetchVerifiedCheckpoint,
  pinnedLogKeys,
  type ReadApiDeps,
  reportFailure,
  requireLogId,
  UsageError,
} from './read-api.ts';
import { EXIT_USAGE_TEXT, logKeyHeadline, logKeyVerdict } from './verdict.ts';

export const CHECKPOINT_USAGE = `usage: anchorlog checkpoint --log LOG [--vkey VKEY | --vkey-file FILE | --trust TRUST.json]
                            [--allow-untrusted] [--api URL] [--key KEY] [--json]

  --log LOG          the log id
  --vkey VKEY        pinned verifier key (origin+keyid+key); repeatable
  --vkey-file FILE   pinned verifier keys, one a line
  --trust TRUST.json pinned logKeys (and origins) from a trust file (anchorlog trust)
  --allow-untrusted  exit 0 instead of 3 when no key is pinned
  --api URL          read API base URL (default: $ANCHORLOG_API_URL)
  --key KEY          API key with proofs:read (default: $ANCHORLOG_API_KEY)
  --json             machine-readable result on stdout

A pinned key vouches only for the log whose origin is its name.
Without a pinned key the server's own key from /v1/keys is used, with a warning.
${EXIT_USAGE_TEXT}`;

export async function runCheckpoint(argv: string[], io: CliIo, deps: ReadApiDeps): Promise<number> {
  let json = false;
  try {
    let values: Record<string, string | boolean | string[] | undefined>;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          log: { type: 'string' },
          vkey: { type: 'string', multiple: true },
          'vkey-file': { type: 'string' },
          trust: { type: 'string' },
          'allow-untrusted': { type: 'boolean' },
          api: { type: 'string' },
          key: { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (e) {
      throw new UsageError(`${e instanceof Error ? e.message : String(e)}\n${CHECKPOINT_USAGE}`);
    }
    if (values.help) {
      io.stdout(CHECKPOINT_USAGE);
      return EXIT_OK;
    }
    json = values.json === true;
    const logId = requireLogId(values.log as string | undefined);
    const target = apiTarget(
      { api: values.api as string | undefined, key: values.key as string | undefined },
      deps.env,
    );
    const pinned = await pinnedLogKeys(io, {
      vkeys: (values.vkey as string[] | undefined) ?? [],
      vkeyFile: values['vkey-file'] as string | undefined,
      trust: values.trust as string | undefined,
    });

    const r = await fetchVerifiedCheckpoint(deps, io, target, logId, pinned);
    const verdict = logKeyVerdict(r.trustedServerKey, values['allow-untrusted'] === true);
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
    if (json) io.stdout(printableJson(out, 2));
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
  } catch (err) {
    return reportFailure(io, 'checkpoint', err, json);
  }
}
