/**
 * `anchorlog verify FILE [--trust TRUST.json] [--json]` — verify an evidence
 * bundle offline (DESIGN §5). No network: only the pure core and the files
 * named on the command line.
 *
 * TRUST.json pins what the auditor trusts: `{ "logKeys": ["<vkey>", …],
 * "tsaRoots": ["<PEM>", …] }`. Whatever is not pinned is taken from the
 * bundle itself, and the command says so loudly on stderr.
 *
 * Exit: 0 every check passed, 1 a check failed (code, record, reason),
 * 2 usage error (missing file, bad trust file, unknown flag).
 */
import { parseArgs } from 'node:util';
import { BundleError, type BundleReport, type BundleTrust, verifyBundle } from '../core/bundle/index.ts';
import { fromUtf8 } from '../core/bytes.ts';
import { parseVerifierKey } from '../core/note/index.ts';
import { decodePemCertificates } from '../core/rfc3161/index.ts';
import { type CliIo, EXIT_INVALID, EXIT_OK, EXIT_USAGE } from './io.ts';

export const VERIFY_USAGE = `usage: anchorlog verify FILE [--trust TRUST.json] [--json]

  FILE               an evidence bundle (.tar) exported by anchorlog
  --trust TRUST.json pinned trust: { "logKeys": ["<vkey>", ...], "tsaRoots": ["<PEM>", ...] }
                     without it the bundle's own keys and TSA roots are used (WARNING)
  --json             machine-readable report on stdout

exit status: 0 verified, 1 verification failed, 2 usage error
`;

class UsageError extends Error {}

const WARNING_BAR = '!'.repeat(78);

function parseTrust(bytes: Uint8Array, path: string): BundleTrust {
  let v: unknown;
  try {
    v = JSON.parse(fromUtf8(bytes));
  } catch (e) {
    throw new UsageError(`--trust ${path}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new UsageError(`--trust ${path}: must be an object`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== 'logKeys' && k !== 'tsaRoots')
      throw new UsageError(`--trust ${path}: unknown field ${JSON.stringify(k)}`);
  const strings = (k: string): string[] | undefined => {
    const a = o[k];
    if (a === undefined) return undefined;
    if (!Array.isArray(a) || a.length === 0 || !a.every((s) => typeof s === 'string'))
      throw new UsageError(`--trust ${path}: ${k} must be a non-empty array of strings`);
    return a as string[];
  };
  const logKeys = strings('logKeys');
  const rootsPem = strings('tsaRoots');
  if (!logKeys && !rootsPem) throw new UsageError(`--trust ${path}: give logKeys and/or tsaRoots`);
  for (const k of logKeys ?? []) {
    try {
      parseVerifierKey(k);
    } catch (e) {
      throw new UsageError(
        `--trust ${path}: bad log key ${JSON.stringify(k.slice(0, 40))}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  let tsaRoots: Uint8Array[] | undefined;
  if (rootsPem) {
    tsaRoots = [];
    for (const p of rootsPem) {
      let certs: Uint8Array[];
      try {
        certs = decodePemCertificates(p);
      } catch (e) {
        throw new UsageError(
          `--trust ${path}: bad TSA root PEM: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      if (certs.length === 0) throw new UsageError(`--trust ${path}: a tsaRoots entry holds no certificate`);
      tsaRoots.push(...certs);
    }
  }
  return { ...(logKeys ? { logKeys } : {}), ...(tsaRoots ? { tsaRoots } : {}) };
}

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

function readable(r: BundleReport): string {
  const l: string[] = ['Bundle: OK'];
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
      `  - ${a.tsa}: ${a.genTime} by ${a.tsaName}, serial ${a.serialNumber}, over checkpoint ${a.checkpointSize}`,
    );
  if (r.warnings.length > 0) {
    l.push('warnings:');
    for (const w of r.warnings) l.push(`  - ${w}`);
  }
  return `${l.join('\n')}\n`;
}

interface Args {
  readonly file: string;
  readonly trust: string | undefined;
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
    const trust: BundleTrust = args.trust
      ? parseTrust(await read(io, args.trust, '--trust'), args.trust)
      : {};
    const bundle = await read(io, args.file, 'FILE');
    const warn = warning(trust);
    if (warn) io.stderr(warn);
    try {
      const report = await verifyBundle(bundle, trust);
      io.stdout(json ? `${JSON.stringify(report)}\n` : readable(report));
      return EXIT_OK;
    } catch (e) {
      if (!(e instanceof BundleError)) throw e;
      if (e.code === 'INVALID_TRUST') throw new UsageError(`--trust: ${e.message}`);
      const where = [e.index !== undefined ? `record ${e.index}` : '', e.member ? `member ${e.member}` : '']
        .filter(Boolean)
        .join(', ');
      if (json)
        io.stdout(
          `${JSON.stringify({ ok: false, error: { code: e.code, message: e.message, index: e.index ?? null, member: e.member ?? null } })}\n`,
        );
      else
        io.stdout(
          `Bundle: FAILED\ncode:   ${e.code}\n${where ? `where:  ${where}\n` : ''}reason: ${e.message}\n`,
        );
      io.stderr(`anchorlog verify: ${e.code}: ${e.message}\n`);
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
