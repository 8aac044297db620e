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
import { toBase64, toHex } from '../core/bytes.ts';
import {
  decodePem,
  decodePemCertificates,
  looksLikePem,
  TimestampError,
  type VerifiedTimestamp,
  verifyTimestamp,
} from '../core/rfc3161/index.ts';
import { defineCommand, flag, option } from './args.ts';
import { runCommand } from './command.ts';
import { UsageError } from './errors.ts';
import { type CliIo, EXIT_OK, readInput } from './io.ts';
import { printableJson, printableLines } from './printable.ts';
import { hexDigest, inputFile } from './values.ts';

export const TIMESTAMP_VERIFY = defineCommand({
  path: ['timestamp', 'verify'],
  summary: 'verify an RFC 3161 time-stamp offline against pinned TSA roots',
  description: `Checks an RFC 3161 time-stamp offline, like openssl ts -verify, with anchorlog's full rule
set (ESSCertID, a critical id-kp-timeStamping EKU, a chain valid at genTime); a bare token
(-token_in) is detected by itself. Unlike OpenSSL it refuses SHA-1 in the imprint, the CMS digest
and the signature (WEAK_HASH) unless --allow-sha1 is given. The roots are always pinned (--ca),
so exit 3 never applies.`,
  options: {
    in: option(inputFile('TOKEN'), 'TimeStampResp or bare TimeStampToken (ContentInfo), DER or PEM', {
      required: true,
    }),
    data: option(inputFile(), "the time-stamped data (hashed with the token's algorithm)"),
    digest: option(hexDigest, 'the messageImprint digest itself'),
    ca: option(inputFile('ROOTS.pem'), 'pinned TSA roots (PEM, several allowed; or one DER certificate)', {
      required: true,
    }),
    untrusted: option(inputFile('CERTS'), 'extra intermediates / TSA certificate (PEM or DER); not trusted', {
      multiple: true,
    }),
    'allow-sha1': flag(
      'accept SHA-1 in the imprint, CMS digest or signature\n(default: refused with WEAK_HASH; SHA-256 or stronger only)',
    ),
  },
  exclusive: [{ options: ['data', 'digest'], required: true }],
  json: '{ ok, genTime, genTimeMs, tsaName, signerSubject, serialNumber, policy, accuracy, hashAlgorithm, messageImprint, chain, … }',
  examples: [
    {
      title: 'an anchor of checkpoint.txt, against the TSA roots you pinned',
      command: 'anchorlog timestamp verify --in anchor.tsr --data checkpoint.txt --ca tsa-roots.pem',
    },
    {
      title: 'a token over a known SHA-256, with the TSA certificate shipped apart',
      command:
        'anchorlog timestamp verify --in token.der --digest 5f2b9c6e0d1a4b7c8e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d --ca root.pem --untrusted tsa.pem --json',
    },
  ],
  exitStatus: 'exit status: 0 valid, 1 invalid, 2 usage error',
});

/** Certificates from a PEM bundle (any number) or a single DER certificate. */
async function readCerts(io: CliIo, path: string, flag: string): Promise<Uint8Array[]> {
  const bytes = await readInput(io, flag, path);
  let certs: Uint8Array[];
  try {
    certs = looksLikePem(bytes) ? decodePemCertificates(new TextDecoder().decode(bytes)) : [bytes];
  } catch (e) {
    throw new UsageError('BAD_FILE', `${flag}: ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (certs.length === 0) throw new UsageError('BAD_FILE', `${flag}: no certificates in ${path}`);
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

export function runTimestampVerify(argv: string[], io: CliIo): Promise<number> {
  return runCommand(
    TIMESTAMP_VERIFY,
    argv,
    io,
    {},
    async (args) => {
      const tokenFile = await readInput(io, '--in', args.in);
      const expected = args.digest
        ? { digest: args.digest }
        : { data: await readInput(io, '--data', args.data as string) };
      const roots = await readCerts(io, args.ca, '--ca');
      const untrusted: Uint8Array[] = [];
      for (const u of args.untrusted) untrusted.push(...(await readCerts(io, u, '--untrusted')));
      let result: VerifiedTimestamp;
      try {
        result = await verifyTimestamp(tokenBytes(tokenFile), {
          expected,
          roots,
          untrusted,
          allowSha1: args['allow-sha1'],
        });
      } catch (e) {
        // The verifier's own complaint about what it was asked: the command line's fault.
        if (e instanceof TimestampError && e.code === 'INVALID_ARGUMENT')
          throw new UsageError('BAD_VALUE', e.message);
        throw e;
      }
      io.stdout(args.json ? jsonResult(result) : report(result));
      return EXIT_OK;
    },
    {
      text: () => 'Verification: FAILED\n',
      note: (f) => (f.code === 'WEAK_HASH' ? ' (--allow-sha1 accepts it, if you must)' : ''),
    },
  );
}
