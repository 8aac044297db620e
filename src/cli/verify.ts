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
import { parseArgs } from 'node:util';
import { BundleError, type BundleReport, type BundleTrust, verifyBundle } from '../core/bundle/index.ts';
import { UsageError } from './errors.ts';
import { type CliIo, EXIT_INVALID, EXIT_OK, EXIT_USAGE } from './io.ts';
import { printable, printableJson, printableLines } from './printable.ts';
import { parseTrustFile } from './trust-file.ts';
import {
  acceptedNote,
  EXIT_USAGE_TEXT,
  incomplete,
  type Shortfall,
  untrusted,
  type Verdict,
  verdictOf,
} from './verdict.ts';

export const VERIFY_USAGE = `usage: anchorlog verify FILE [--trust TRUST.json] [--allow-untrusted] [--allow-incomplete] [--json]

  FILE                an evidence bundle (.tar) exported by anchorlog
  --trust TRUST.json  pinned trust: { "logKeys": ["<vkey>", ...], "origins": ["<origin>", ...],
                      "tsaRoots": ["<PEM>", ...], "tsaQuorum": k } (anchorlog trust builds one);
                      "existed by" needs tokens from k distinct TSA roots (default min(2, roots))
                      without it the bundle's own keys and TSA roots are used (WARNING, exit 3)
  --allow-untrusted   exit 0 instead of 3 when something was not pinned
  --allow-incomplete  exit 0 instead of 4 for a filtered export or a range that
                      ends at its checkpoint (completeness not proved)
  --json              machine-readable report on stdout, with verdict.exitCode

${EXIT_USAGE_TEXT}`;

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

/** What the report proves short of everything, in the order a reader needs it. */
function shortfallsOf(r: BundleReport): Shortfall[] {
  const out: Shortfall[] = [];
  if (r.trustedBundleKeys)
    out.push(
      untrusted('UNTRUSTED_LOG_KEY', 'the log key was taken from the bundle (keys/log.vkey), not pinned'),
    );
  if (r.trustedBundleTsaRoots)
    out.push(
      untrusted(
        'UNTRUSTED_TSA_ROOTS',
        'the TSA roots were taken from the bundle (anchors/*.chain.pem), not pinned',
      ),
    );
  if (r.mode === 'filtered')
    out.push(
      incomplete(
        'COMPLETENESS_NOT_PROVED',
        `filtered export: nothing shows that every record with ${r.filterText} is present`,
      ),
    );
  else if (r.completeness.end === 'checkpoint-end')
    out.push(
      incomplete(
        'RANGE_NOT_CLOSED',
        `the range ends at the last leaf of checkpoint ${r.checkpoint.size}: records appended after it with receivedAt < ${r.range.toTime} are not covered`,
      ),
    );
  return out;
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

interface Args {
  readonly file: string;
  readonly trust: string | undefined;
  readonly allowUntrusted: boolean;
  readonly allowIncomplete: boolean;
  readonly json: boolean;
  readonly help: boolean;
}

function parse(argv: string[]): Args {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        trust: { type: 'string' },
        'allow-untrusted': { type: 'boolean' },
        'allow-incomplete': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const help = values.help === true;
  if (!help && positionals.length !== 1) throw new UsageError('give exactly one bundle FILE');
  return {
    file: positionals[0] ?? '',
    trust: typeof values.trust === 'string' ? values.trust : undefined,
    allowUntrusted: values['allow-untrusted'] === true,
    allowIncomplete: values['allow-incomplete'] === true,
    json: values.json === true,
    help,
  };
}

async function read(io: CliIo, path: string, what: string): Promise<Uint8Array> {
  try {
    return await io.readFile(path);
  } catch (e) {
    throw new UsageError(`${what}: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export async function runVerify(argv: string[], io: CliIo): Promise<number> {
  let json = argv.includes('--json');
  try {
    const args = parse(argv);
    json = args.json;
    if (args.help) {
      io.stdout(VERIFY_USAGE);
      return EXIT_OK;
    }
    const file = args.trust ? parseTrustFile(await read(io, args.trust, '--trust'), args.trust) : {};
    const trust: BundleTrust = {
      ...(file.logKeys ? { logKeys: file.logKeys } : {}),
      ...(file.origins ? { origins: file.origins } : {}),
      ...(file.tsaRoots ? { tsaRoots: file.tsaRoots } : {}),
      ...(file.tsaQuorum !== undefined ? { tsaQuorum: file.tsaQuorum } : {}),
    };
    const bundle = await read(io, args.file, 'FILE');
    const warn = warning(trust);
    if (warn) io.stderr(warn);
    try {
      const report = await verifyBundle(bundle, trust);
      const verdict = verdictOf(shortfallsOf(report), {
        untrusted: args.allowUntrusted,
        incomplete: args.allowIncomplete,
      });
      // `ok` is the exit code's word for it, so a script reading `.ok` cannot mistake exit 3 or 4
      // for a proof; `verified` says every check that ran passed.
      const doc = { ...report, ok: verdict.exitCode === EXIT_OK, verified: true, verdict };
      io.stdout(json ? printableJson(doc) : readable(report, verdict));
      return verdict.exitCode;
    } catch (e) {
      if (!(e instanceof BundleError)) throw e;
      if (e.code === 'INVALID_TRUST') throw new UsageError(`--trust: ${e.message}`);
      const where = [e.index !== undefined ? `record ${e.index}` : '', e.member ? `member ${e.member}` : '']
        .filter(Boolean)
        .join(', ');
      if (json)
        io.stdout(
          printableJson({
            ok: false,
            verified: false,
            verdict: { exitCode: EXIT_INVALID, status: 'failed' },
            error: { code: e.code, message: e.message, index: e.index ?? null, member: e.member ?? null },
          }),
        );
      else
        io.stdout(
          printableLines([
            'Bundle: FAILED',
            `code:   ${e.code}`,
            ...(where ? [`where:  ${where}`] : []),
            `reason: ${e.message}`,
          ]),
        );
      io.stderr(`anchorlog verify: ${e.code}: ${printable(e.message)}\n`);
      return EXIT_INVALID;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`anchorlog verify: ${e.message}\n${VERIFY_USAGE}`);
      return EXIT_USAGE;
    }
    throw e;
  }
}
