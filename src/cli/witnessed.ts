/**
 * `anchorlog witnessed` — fetch a log's latest checkpoint as the read API
 * serves it (with the witnesses' cosignature lines appended,
 * docs/witnessing.md §Serving), verify the log signature against the pinned
 * log key, then each pinned witness's cosignature/v1, and report per
 * witness: cosigned (with its time), missing, invalid, or from the future.
 * The quorum (TRUST.json `witnessQuorum`, or --witness-quorum) decides the
 * exit status.
 *
 * A separate command rather than a mode of `checkpoint`: `checkpoint`
 * answers "is this the log's signed head"; this one answers "did k
 * independent witnesses see the same head", which needs witness keys the
 * server cannot supply (they must come from the witness operators).
 *
 * Exit: 0 log key pinned and the quorum met, 1 verification failed or the
 * quorum was not met (WITNESS_QUORUM_NOT_MET), 2 usage error, 3 verified
 * against the server's own log key.
 */
import { toBase64 } from '../core/bytes.ts';
import { parseVerifierKey } from '../core/note/vkey.ts';
import type { Cosigner } from '../core/witness/cosignature.ts';
import { verifyWitnessedCheckpoint, witnessPolicy } from '../core/witness/index.ts';
import { defineCommand, option } from './args.ts';
import { runCommand } from './command.ts';
import { UsageError } from './errors.ts';
import { type CliIo, EXIT_INVALID, readInput } from './io.ts';
import { printableJson, printableLines } from './printable.ts';
import {
  apiOptions,
  fetchVerifiedCheckpoint,
  PIN_GROUP,
  PIN_OPTIONS,
  pinnedLogKeys,
  type ReadApiDeps,
} from './read-api.ts';
import { parseTrustFile } from './trust-file.ts';
import { cosignerVkey, logId, wholeNumber } from './values.ts';
import { EXIT_USAGE_TEXT, logKeyHeadline, logKeyVerdict, VERIFICATION_FAILED } from './verdict.ts';

export const WITNESSED = defineCommand({
  path: ['witnessed'],
  summary: "verify the witnesses' cosignatures on a log's latest checkpoint against pinned keys",
  description: `Fetches the latest checkpoint of a log (it carries the witnesses' cosignature lines),
verifies the log signature against the pinned log key, then each pinned witness's C2SP
cosignature/v1 over the same checkpoint, and reports per witness. Witness keys and the
quorum come from TRUST.json (witnesses, witnessQuorum) or --witness / --witness-quorum.
The exit status is 0 only when the log key is pinned and at least the quorum cosigned.`,
  options: {
    log: option(logId, 'the log id', { required: true }),
    ...PIN_OPTIONS,
    witness: option(cosignerVkey, 'a pinned witness key (repeatable; added to those in --trust)', {
      multiple: true,
    }),
    'witness-quorum': option(
      wholeNumber('K'),
      'cosignatures required (default: TRUST.json, else min(2, witnesses))',
    ),
    ...apiOptions('with proofs:read on the log'),
  },
  exclusive: [PIN_GROUP],
  json: '{ ok, verified, verdict, origin, size, rootHash, quorum, cosigned, quorumMet, witnesses: [{ name, keyId, status, timestamp }] }',
  examples: [
    {
      title: 'the live head of log prod, its witnesses and quorum pinned in TRUST.json',
      command: 'anchorlog witnessed --log prod --trust TRUST.json',
    },
    {
      title: 'two witnesses pinned on the command line, both required',
      command:
        "anchorlog witnessed --log prod --vkey 'audit.example.com/prod+…' --witness 'w1.example+…' --witness 'w2.example+…' --witness-quorum 2",
    },
  ],
  exitStatus: EXIT_USAGE_TEXT,
});

export function runWitnessed(argv: string[], io: CliIo, deps: ReadApiDeps): Promise<number> {
  return runCommand(
    WITNESSED,
    argv,
    io,
    deps.env,
    async (args) => {
      const pinned = await pinnedLogKeys(io, args);
      let cosigners: Cosigner[] = [...args.witness];
      let quorum = args['witness-quorum'];
      if (args.trust !== undefined) {
        const t = parseTrustFile(await readInput(io, '--trust', args.trust), args.trust);
        cosigners = [...(t.cosigners ?? []), ...cosigners];
        quorum ??= t.witnessQuorum;
      }
      if (cosigners.length === 0)
        throw new UsageError(
          'MISSING_OPTION',
          'no witness key pinned: give --witness or a TRUST.json with witnesses',
        );
      quorum ??= Math.min(2, cosigners.length);
      let policy: ReturnType<typeof witnessPolicy>;
      try {
        policy = witnessPolicy(cosigners, quorum);
      } catch (e) {
        throw new UsageError('BAD_VALUE', e instanceof Error ? e.message : String(e));
      }
      const r = await fetchVerifiedCheckpoint(deps, io, { url: args.api, key: args.key }, args.log, pinned);
      // The log signature was checked above against the same keys; this adds the cosignatures.
      const keys = pinned.keys.length > 0 ? pinned.keys : r.verifiedBy.map((v) => parseVerifierKey(v));
      const w = verifyWitnessedCheckpoint(r.text, keys, policy, { now: Math.floor(Date.now() / 1000) });
      const verdict = logKeyVerdict(r.trustedServerKey, args['allow-untrusted']);
      const out = {
        ok: verdict.exitCode === 0 && w.quorumMet,
        ...(w.quorumMet ? {} : { error: { code: 'WITNESS_QUORUM_NOT_MET' } }),
        verified: w.quorumMet,
        verdict,
        origin: w.checkpoint.origin,
        size: w.checkpoint.size,
        rootHash: toBase64(w.checkpoint.rootHash),
        quorum: w.quorum,
        cosigned: w.cosigned,
        quorumMet: w.quorumMet,
        witnesses: w.witnesses.map((x) => ({
          name: x.name,
          keyId: x.keyId,
          status: x.status,
          ...(x.timestamp !== undefined ? { timestamp: new Date(x.timestamp * 1000).toISOString() } : {}),
        })),
      };
      if (args.json) io.stdout(printableJson(out, 2));
      else
        io.stdout(
          printableLines([
            logKeyHeadline(verdict),
            `origin:  ${out.origin}`,
            `size:    ${out.size}`,
            `root:    ${out.rootHash}`,
            `quorum:  ${out.cosigned} of ${policy.witnesses.length} witnesses cosigned, ${out.quorum} required: ${out.quorumMet ? 'MET' : 'NOT MET'}`,
            ...out.witnesses.map(
              (x) =>
                `witness: ${x.name}+${x.keyId}  ${x.status}${'timestamp' in x ? `  ${x.timestamp}` : ''}`,
            ),
          ]),
        );
      if (!w.quorumMet) {
        io.stderr(
          printableLines([
            `anchorlog witnessed: WITNESS_QUORUM_NOT_MET: ${w.cosigned} of the ${policy.witnesses.length} pinned witnesses cosigned this checkpoint; ${w.quorum} required`,
          ]),
        );
        return EXIT_INVALID;
      }
      return verdict.exitCode;
    },
    VERIFICATION_FAILED,
  );
}
