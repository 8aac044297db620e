/**
 * `anchorlog verify FILE [--trust TRUST.json] [--json]` — verify an evidence
 * bundle offline (docs/bundle.md). No network: only the pure core and the
 * files named on the command line.
 *
 * TRUST.json (trust-file.ts) pins what the auditor trusts. Whatever is not
 * pinned is taken from the bundle itself: the command says so loudly on
 * stderr and exits 3, so a script that checks the exit code cannot mistake
 * "the bundle vouched for itself" for a proof (verdict.ts).
 *
 * Exit: 0 every claim printed was proved against pinned trust and the range
 * is complete; 1 a check failed (code, record, reason); 2 usage error; 3
 * verified but not against pinned trust; 4 verified, completeness not proved.
 * `--allow-untrusted` / `--allow-incomplete` accept 3 / 4 explicitly.
 */
import { BundleError, type BundleReport, type BundleTrust, verifyBundle } from '../core/bundle/index.ts';
import { MAX_CLASS_ANSWER_BYTES } from '../core/classes/answer-doc.ts';
import { defineCommand, flag, option } from './args.ts';
import { bundleShortfalls } from './bundle-verdict.ts';
import { type Failure, runCommand } from './command.ts';
import { UsageError } from './errors.ts';
import { type CliIo, EXIT_INVALID, EXIT_OK, readInput, readInputAtMost, streamInput } from './io.ts';
import { printableJson, printableLines } from './printable.ts';
import { parseTrustFile } from './trust-file.ts';
import { inputFile, wholeNumberIn } from './values.ts';
import { acceptedNote, EXIT_USAGE_TEXT, type Verdict, verdictOf } from './verdict.ts';
import { verifyClassAnswerFile } from './verify-class.ts';
import { producerLines, producerSignatures, signedRecordCounter } from './verify-producers.ts';
import { tlogProofInput, verifyTlogProofFile } from './verify-tlog-proof.ts';
import { allocateShared, startChunkPool } from './verify-workers.ts';

export const VERIFY = defineCommand({
  path: ['verify'],
  summary: 'verify an evidence bundle offline (completeness, chain, proofs, signatures, time-stamps)',
  description: `Verifies an evidence bundle offline (docs/bundle.md): every record, the hash chain, each
inclusion proof, the checkpoint signatures and consistency, the RFC 3161 time-stamps, the witness
cosignatures against the witness keys TRUST.json pins (and their quorum) and, for a
range export, that no record of the range is missing. No network: only the files named here.
A FILE ending in .json is a class answer (docs/bundle.md §Class answers): it needs --trust with
logKeys, and says "complete for class C over [from, to)" only when that is proved.
A FILE named .tlog-proof or starting with "c2sp.org/tlog-proof@v1" is a C2SP tlog-proof (anchorlog
prove --format tlog-proof): one record, its inclusion proof and the cosigned checkpoint; it needs
--trust with logKeys, and counts the pinned witnesses' cosignatures against witnessQuorum.
What TRUST.json does not pin is taken from the bundle itself, with a loud warning and exit 3:
anyone can build a bundle that passes that way.`,
  argument: {
    name: 'FILE',
    type: inputFile(),
    description:
      'an evidence bundle (.tar), a class answer (.json) or a C2SP tlog-proof (.tlog-proof) exported by anchorlog',
  },
  options: {
    trust: option(
      inputFile('TRUST.json'),
      `pinned trust: { "logKeys": ["<vkey>", ...], "origins": ["<origin>", ...],
"tsaRoots": ["<PEM>", ...], "tsaQuorum": k, "witnesses": ["<vkey>", ...],
"witnessQuorum": w } (anchorlog trust builds one); "existed by" needs tokens
from k distinct TSA roots (default min(2, roots)); with witnesses pinned, w of
them must have cosigned a checkpoint covering the records (default min(2, n))`,
    ),
    threads: option(
      wholeNumberIn(0, 16),
      `worker threads that check records chunks (default: the machine's
available parallelism, at most 4; 0: check them in the main thread). The
verdict is the same for every value; only speed and memory change`,
    ),
    'producer-keys': option(
      inputFile('SYSTEM.tar'),
      `an evidence bundle of the system log (verified with the same trust): its
producer_key records give the keys every producer signature is re-checked with
(docs/producer-signatures.md); without it signed records are not checked (exit 3)`,
    ),
    'allow-untrusted': flag('exit 0 instead of 3 when something was not pinned'),
    'allow-incomplete': flag(
      'exit 0 instead of 4 for a filtered export or a range that\nends at its checkpoint (completeness not proved)',
    ),
  },
  json: 'the report: { ok, verified, verdict: { exitCode, status, shortfalls, accepted }, logId, range, records, completeness, checkpoint, anchors, … }',
  examples: [
    {
      title: 'a bundle against the trust you pinned: exit 0 only if everything is proved',
      command: 'anchorlog verify march.tar --trust TRUST.json',
    },
    {
      title: 'a filtered export, accepting that completeness is not proved, for a script',
      command: 'anchorlog verify access-q1.tar --trust TRUST.json --allow-incomplete --json',
    },
  ],
  exitStatus: EXIT_USAGE_TEXT,
});

const WARNING_BAR = '!'.repeat(78);

function warning(trust: BundleTrust): string {
  const what = [
    trust.logKeys ? undefined : 'the LOG KEY (keys/log.vkey)',
    trust.tsaRoots ? undefined : 'the TSA ROOTS (anchors/*.chain.pem)',
  ].filter(Boolean);
  if (what.length === 0) return '';
  return `${WARNING_BAR}
WARNING: ${what.join(' and ')} were taken from the bundle itself.
Anyone can build a bundle that passes this way. Pin the log key and the TSA
roots you obtained independently: anchorlog verify FILE --trust TRUST.json
${WARNING_BAR}
`;
}

const HEADLINE: Record<Verdict['status'], string> = {
  ok: 'Bundle: OK',
  untrusted: 'Bundle: VERIFIED, BUT NOT AGAINST PINNED TRUST (exit 3)',
  incomplete: 'Bundle: VERIFIED, COMPLETENESS NOT PROVED (exit 4)',
};

function readable(r: BundleReport, v: Verdict): string {
  const l: string[] = [`${HEADLINE[v.status]}${v.status === 'ok' ? acceptedNote(v) : ''}`];
  l.push(`log:         ${r.logId} (origin ${r.origin})`);
  l.push(`time range:  [${r.range.fromTime}, ${r.range.toTime})`);
  l.push(
    `indexes:     ${r.range.firstIndex}..${r.range.lastIndex} (${r.records.count} record(s), ${r.records.bytes} bytes)` +
      (r.filterText !== null ? `, filter ${r.filterText}` : ''),
  );
  l.push(
    `checkpoint:  size ${r.checkpoint.size}, root ${r.checkpoint.rootHash}, signed by ${r.checkpoint.signedBy.join(', ')}`,
  );
  l.push('proved:');
  for (const p of r.proved) l.push(`  - ${p}`);
  l.push('anchors:');
  for (const a of r.anchors)
    l.push(
      `  - ${a.tsa}: ${a.genTime}${a.accuracyMs === null ? '' : ` ± ${a.accuracyMs} ms`} by ${a.tsaName}, serial ${a.serialNumber}, over checkpoint ${a.checkpointSize}; existed by ${a.existedBy}`,
    );
  const cosignatures = r.attestations.filter((a) => a.kind === 'witness-cosignature');
  if (cosignatures.length > 0 || r.witnesses.pinned > 0) {
    l.push(
      `witnesses:   ${r.witnesses.cosigned} of ${r.witnesses.pinned} pinned cosigned` +
        (r.witnesses.checkpointSize === null ? '' : ` checkpoint ${r.witnesses.checkpointSize}`) +
        ` (quorum ${r.witnesses.quorum})`,
    );
    for (const a of cosignatures)
      l.push(
        `  - ${a.party}: ${a.status === 'verified' ? `cosigned at ${a.time}` : 'not a pinned witness, not counted'} (${a.by}), checkpoint ${a.checkpointSize}`,
      );
  }
  if (v.shortfalls.length > 0) {
    l.push('not proved:');
    for (const s of v.shortfalls)
      l.push(
        `  - ${s.code}: ${s.message}${v.accepted.includes(s) ? ' (accepted)' : ` (exit ${s.exitCode})`}`,
      );
  }
  if (r.warnings.length > 0) {
    l.push('warnings:');
    for (const w of r.warnings) l.push(`  - ${w}`);
  }
  // Origins, TSA names, filter values and messages come from the bundle: one escaped line each.
  return printableLines(l);
}

function failureLines(f: Failure, what: 'Bundle' | 'Proof'): string {
  const e = f.error instanceof BundleError ? f.error : undefined;
  const where = [e?.index !== undefined ? `record ${e.index}` : '', e?.member ? `member ${e.member}` : '']
    .filter(Boolean)
    .join(', ');
  return printableLines([
    `${what}: FAILED`,
    `code:   ${f.code}`,
    ...(where ? [`where:  ${where}`] : []),
    `reason: ${f.message}`,
  ]);
}

export function runVerify(argv: string[], io: CliIo): Promise<number> {
  // What FILE turned out to be, for the failure headline.
  let what: 'Bundle' | 'Proof' = 'Bundle';
  return runCommand(
    VERIFY,
    argv,
    io,
    {},
    async (args) => {
      const file = args.trust ? parseTrustFile(await readInput(io, '--trust', args.trust), args.trust) : {};
      const trust: BundleTrust = {
        ...(file.logKeys ? { logKeys: file.logKeys } : {}),
        ...(file.origins ? { origins: file.origins } : {}),
        ...(file.tsaRoots ? { tsaRoots: file.tsaRoots } : {}),
        ...(file.tsaQuorum !== undefined ? { tsaQuorum: file.tsaQuorum } : {}),
        // Witness keys come from the witness operators (docs/witnessing.md §What an auditor checks).
        ...(file.witnesses ? { witnesses: file.witnesses } : {}),
        ...(file.witnessQuorum !== undefined ? { witnessQuorum: file.witnessQuorum } : {}),
        // Rekor log keys from the Rekor operator, anchor keys from the deployment (docs/anchoring.md §Rekor).
        ...(file.rekor ? { rekor: file.rekor } : {}),
      };
      // A class answer document (docs/bundle.md §Class answers) is JSON, not a tar.
      if (args.argument.endsWith('.json'))
        return verifyClassAnswerFile(
          io,
          (await readInputAtMost(io, 'FILE', args.argument, MAX_CLASS_ANSWER_BYTES)) as Uint8Array,
          file,
          {
            json: args.json,
            allowUntrusted: args['allow-untrusted'],
            allowIncomplete: args['allow-incomplete'],
          },
        );
      // A C2SP tlog-proof (docs/formats.md §tlog-proof files): named *.tlog-proof or starting with its header.
      const tlogProof = await tlogProofInput(io, args.argument);
      if (tlogProof !== undefined) {
        what = 'Proof';
        return verifyTlogProofFile(io, tlogProof, file, {
          json: args.json,
          allowUntrusted: args['allow-untrusted'],
          allowIncomplete: args['allow-incomplete'],
        });
      }
      // Streamed from the file: memory is bounded by the format's member limits, not the
      // bundle's size (docs/bundle.md §Memory); records chunks are checked by worker threads.
      const bundle = await streamInput(io, 'FILE', args.argument);
      const warn = warning(trust);
      if (warn) io.stderr(warn);
      let report: BundleReport;
      const pool = args.threads === 0 ? undefined : startChunkPool(args.threads);
      // Without --producer-keys, signed records are counted in this read (no second read of the bundle).
      const counter = args['producer-keys'] === undefined ? signedRecordCounter() : undefined;
      try {
        // One chunk queued per thread beyond those being checked: threads + 1 in flight (docs/bundle.md §Memory).
        report = await verifyBundle(bundle, trust, {
          ...(pool
            ? { checkChunk: pool.check, maxChunksInFlight: pool.threads + 1, allocate: allocateShared }
            : {}),
          ...(counter ? { onMember: counter.onMember } : {}),
        });
      } catch (e) {
        if (e instanceof BundleError && e.code === 'INVALID_TRUST')
          throw new UsageError('BAD_FILE', `--trust: ${e.message}`);
        throw e;
      } finally {
        await Promise.all([pool?.close(), bundle.close()]);
      }
      // Producer signatures: a second read of the records the verifier just accepted.
      const producers = await producerSignatures(
        io,
        args.argument,
        args['producer-keys'],
        trust,
        counter?.signedBy,
      );
      const shortfalls = [...bundleShortfalls(report), ...(producers.shortfall ? [producers.shortfall] : [])];
      const verdict = verdictOf(shortfalls, {
        untrusted: args['allow-untrusted'],
        incomplete: args['allow-incomplete'],
      });
      // `ok` is the exit code's word for it, so a script reading `.ok` cannot mistake exit 3 or 4
      // for a proof; `verified` says every check that ran passed.
      const doc = {
        ...report,
        producerSignatures: producers.section,
        ok: verdict.exitCode === EXIT_OK,
        verified: true,
        verdict,
      };
      const producerText = producerLines(producers.section);
      io.stdout(
        args.json
          ? printableJson(doc)
          : readable(report, verdict) + (producerText.length > 0 ? printableLines(producerText) : ''),
      );
      return verdict.exitCode;
    },
    {
      json: (f) => {
        const e = f.error instanceof BundleError ? f.error : undefined;
        return {
          verified: false,
          verdict: { exitCode: EXIT_INVALID, status: 'failed' },
          error: { code: f.code, message: f.message, index: e?.index ?? null, member: e?.member ?? null },
        };
      },
      text: (f) => failureLines(f, what),
    },
  );
}
