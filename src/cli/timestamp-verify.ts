/**
 * `anchorlog timestamp verify` — check an RFC 3161 time-stamp offline, like
 * `openssl ts -verify -in TOKEN (-data FILE | -digest HEX) -CAfile ROOTS.pem
 * [-untrusted CERTS.pem]`, but with the full anchorlog rule set (ESSCertID,
 * critical id-kp-timeStamping EKU, chain valid at genTime) and -token_in
 * detected automatically. Uses only the pure core.
 *
 * Unlike OpenSSL it refuses SHA-1 in the imprint, the CMS digest and the
 * signature (WEAK_HASH) unless --allow-sha1 is given: the policy is explicit.
 * The roots are always pinned (--ca is required), so exit 3 never applies.
 *
 * Exit: 0 valid, 1 invalid (reason code + message), 2 usage error.
 */
import { parseArgs } from 'node:util';
import { EncodingError, fromHex, toBase64, toHex } from '../core/bytes.ts';
import {
  decodePem,
  decodePemCertificates,
  looksLikePem,
  TimestampError,
  type VerifiedTimestamp,
  verifyTimestamp,
} from '../core/rfc3161/index.ts';
import { type CliIo, EXIT_INVALID, EXIT_OK, EXIT_USAGE } from './io.ts';
import { printable, printableJson, printableLines } from './printable.ts';

export const TIMESTAMP_VERIFY_USAGE = `usage: anchorlog timestamp verify --in TOKEN (--data FILE | --digest HEX) --ca ROOTS.pem
                                 [--untrusted CERTS.pem] [--allow-sha1] [--json]

  --in TOKEN          TimeStampResp or bare TimeStampToken (ContentInfo), DER or PEM
  --data FILE         the time-stamped data (hashed with the token's algorithm)
  --digest HEX        the messageImprint digest itself
  --ca ROOTS.pem      pinned TSA roots (PEM, several allowed; or one DER certificate)
  --untrusted CERTS   extra intermediates / TSA certificate (PEM or DER); not trusted
  --allow-sha1        accept SHA-1 in the imprint, CMS digest or signature
                      (default: refused with WEAK_HASH; SHA-256 or stronger only)
  --json              machine-readable result on stdout

exit status: 0 valid, 1 invalid, 2 usage error
`;

class UsageError extends Error {}

async function readInput(io: CliIo, path: string, flag: string): Promise<Uint8Array> {
  try {
    return await io.readFile(path);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new UsageError(`${flag}: cannot read ${path}: ${why}`);
  }
}

/** Certificates from a PEM bundle (any number) or a single DER certificate. */
async function readCerts(io: CliIo, path: string, flag: string): Promise<Uint8Array[]> {
  const bytes = await readInput(io, path, flag);
  let certs: Uint8Array[];
  try {
    certs = looksLikePem(bytes) ? decodePemCertificates(new TextDecoder().decode(bytes)) : [bytes];
  } catch (e) {
    throw new UsageError(`${flag}: ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (certs.length === 0) throw new UsageError(`${flag}: no certificates in ${path}`);
  return certs;
}

/** Token bytes: DER as is, or the first PEM block (any label). Damaged PEM is an invalid token, not usage. */
function tokenBytes(bytes: Uint8Array): Uint8Array {
  if (!looksLikePem(bytes)) return bytes;
  const block = decodePem(new TextDecoder().decode(bytes))[0];
  if (!block) throw new TimestampError('MALFORMED', 'PEM input has no complete block');
  return block.der;
}

/** Whether the token relied on SHA-1 (it verified, so only with --allow-sha1). */
const weak = (r: VerifiedTimestamp) => r.weakHashes.length > 0;

function report(r: VerifiedTimestamp): string {
  const lines = [
    'Verification: OK',
    ...(weak(r) ? [`WARNING: accepted SHA-1 (${r.weakHashes.join(', ')}) because of --allow-sha1`] : []),
    `genTime:   ${r.genTime}`,
    `TSA:       ${r.tsaName ?? r.signerSubject}`,
    `signer:    ${r.signerSubject}`,
    `serial:    ${r.serialNumber}`,
    `policy:    ${r.policy}`,
    `imprint:   ${r.hashAlgorithm} ${toHex(r.messageImprint)}`,
  ];
  if (r.accuracy) {
    lines.push(`accuracy:  ${r.accuracy.seconds}s ${r.accuracy.millis}ms ${r.accuracy.micros}us`);
  }
  lines.push(`chain:     ${r.chain.length} certificate(s) to a pinned root`);
  // TSA and signer names come from the token.
  return printableLines(lines);
}

function jsonResult(r: VerifiedTimestamp): string {
  return printableJson({
    ok: true,
    genTime: r.genTime,
    genTimeMs: r.genTimeMs,
    tsaName: r.tsaName,
    signerSubject: r.signerSubject,
    serialNumber: r.serialNumber,
    policy: r.policy,
    accuracy: r.accuracy,
    ordering: r.ordering,
    nonce: r.nonce,
    hashAlgorithm: r.hashAlgorithm,
    messageImprint: toHex(r.messageImprint),
    form: r.form,
    weakHashes: r.weakHashes,
    signerCertificate: toBase64(r.signerCertificate),
    chain: r.chain.map(toBase64),
  });
}

interface Parsed {
  readonly in: string;
  readonly data: string | undefined;
  readonly digest: Uint8Array | undefined;
  readonly ca: string;
  readonly untrusted: string[];
  readonly allowSha1: boolean;
  readonly json: boolean;
  readonly help: boolean;
}

function parse(argv: string[]): Parsed {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        in: { type: 'string' },
        data: { type: 'string' },
        digest: { type: 'string' },
        ca: { type: 'string' },
        untrusted: { type: 'string', multiple: true },
        'allow-sha1': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const help = values.help === true;
  const json = values.json === true;
  const allowSha1 = values['allow-sha1'] === true;
  if (help)
    return { in: '', data: undefined, digest: undefined, ca: '', untrusted: [], allowSha1, json, help };
  const input = str('in');
  if (!input) throw new UsageError('missing --in TOKEN');
  const data = str('data');
  const digestHex = str('digest');
  if ((data === undefined) === (digestHex === undefined))
    throw new UsageError('give exactly one of --data or --digest');
  let digest: Uint8Array | undefined;
  if (digestHex !== undefined) {
    try {
      digest = fromHex(digestHex);
    } catch (e) {
      if (e instanceof EncodingError) throw new UsageError(`--digest: ${e.message}`);
      throw e;
    }
    if (digest.length === 0) throw new UsageError('--digest: empty');
  }
  const ca = str('ca');
  if (!ca) throw new UsageError('missing --ca ROOTS.pem');
  const untrusted = Array.isArray(values.untrusted) ? values.untrusted : [];
  return { in: input, data, digest, ca, untrusted, allowSha1, json, help };
}

export async function runTimestampVerify(argv: string[], io: CliIo): Promise<number> {
  let args: Parsed;
  let json = argv.includes('--json');
  try {
    args = parse(argv);
    json = args.json;
    if (args.help) {
      io.stdout(TIMESTAMP_VERIFY_USAGE);
      return EXIT_OK;
    }
    const tokenFile = await readInput(io, args.in, '--in');
    const expected = args.digest
      ? { digest: args.digest }
      : { data: await readInput(io, args.data as string, '--data') };
    const roots = await readCerts(io, args.ca, '--ca');
    const untrusted: Uint8Array[] = [];
    for (const u of args.untrusted) untrusted.push(...(await readCerts(io, u, '--untrusted')));
    const result = await verifyTimestamp(tokenBytes(tokenFile), {
      expected,
      roots,
      untrusted,
      allowSha1: args.allowSha1,
    });
    io.stdout(json ? jsonResult(result) : report(result));
    return EXIT_OK;
  } catch (e) {
    if (e instanceof UsageError || (e instanceof TimestampError && e.code === 'INVALID_ARGUMENT')) {
      io.stderr(`anchorlog timestamp verify: ${e.message}\n${TIMESTAMP_VERIFY_USAGE}`);
      return EXIT_USAGE;
    }
    if (e instanceof TimestampError) {
      if (json) io.stdout(printableJson({ ok: false, error: { code: e.code, message: e.message } }));
      else io.stdout('Verification: FAILED\n');
      const hint = e.code === 'WEAK_HASH' ? ' (--allow-sha1 accepts it, if you must)' : '';
      io.stderr(`anchorlog timestamp verify: ${e.code}: ${printable(e.message)}${hint}\n`);
      return EXIT_INVALID;
    }
    throw e;
  }
}
