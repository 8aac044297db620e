/**
 * `anchorlog trust --log L [-o TRUST.json]` — build the TRUST.json that
 * `verify`, `checkpoint` and `prove` pin (trust-file.ts) from a deployment:
 * the log's verifier key(s) from `GET /v1/keys?log=L`, its origin, the
 * self-signed root of each TSA chain in `GET /v1/logs/L/anchors`, and the
 * deployment's anchor quorum (`quorum.required` there) as `tsaQuorum`, so that
 * `verify` proves "existed by" only with as many independent TSAs as the
 * deployment itself requires.
 *
 * Everything comes from the server being audited, so the file proves nothing
 * by itself: the command prints the SHA-256 fingerprints of the log key (DER
 * SPKI) and of each TSA root for comparison with independent sources (the
 * operator's published key, each TSA's published root), and says so loudly.
 * What it does check is that the pieces fit: every key is named after the
 * log's origin and matches its PEM, the anchored checkpoint verifies under
 * those keys (with the origin binding), each granted token verifies
 * against the root taken from its own chain, and there are at least as many
 * distinct roots as the quorum (else the file could never verify a bundle).
 *
 * Rekor v2 (docs/anchoring.md §Rekor) is pinned like the witnesses: from keys the auditor
 * obtained elsewhere, never from this server — `--rekor-log-key` (the Rekor log's checkpoint
 * vkey, from its operator) and `--rekor-anchor-key` (the deployment's anchor public key as PEM,
 * published by the operator from the RekorAnchorKeyArn output). They are checked to be usable
 * keys (the anchor key P-256, and not the log's own checkpoint key) and written as `rekor`.
 *
 * Exit: 0 written, 1 the API failed or sent something malformed or
 * inconsistent (reason code), 2 usage error.
 */
import { writeFile } from 'node:fs/promises';
import { bytesEqual, fromBase64, fromUtf8, toHex, utf8 } from '../core/bytes.ts';
import { sha256 } from '../core/hash.ts';
import {
  NoteError,
  type NoteVerifier,
  parseVerifierKey,
  pemToSpki,
  spkiToPem,
  verifyLogCheckpoint,
} from '../core/note/index.ts';
import { p256PublicPoint } from '../core/note/verifiers.ts';
import { formatVerifierKey } from '../core/note/vkey.ts';
import { encodePem } from '../core/pem.ts';
import {
  decodePemCertificates,
  selfSignedRoot,
  TimestampError,
  verifyTimestamp,
} from '../core/rfc3161/index.ts';
import { formatCosignerKey } from '../core/witness/cosignature.ts';
import { verifyWitnessedCheckpoint, witnessPolicy } from '../core/witness/index.ts';
import { type ArgsOf, defineCommand, option } from './args.ts';
import { runCommand } from './command.ts';
import { CheckError, UsageError } from './errors.ts';
import { type CliIo, EXIT_OK, readInput } from './io.ts';
import { printable, printableJson, printableLines } from './printable.ts';
import { apiGet, apiJson, apiOptions, logVkeys, type ReadApiDeps } from './read-api.ts';
import {
  cosignerVkey,
  inputFile,
  logId as logIdType,
  outputFile,
  vkey as vkeyType,
  wholeNumber,
} from './values.ts';

export const TRUST = defineCommand({
  path: ['trust'],
  summary: 'build TRUST.json for a log from a deployment and print fingerprints to compare',
  description: `Builds { logKeys, origins, tsaRoots, tsaQuorum } from GET /v1/keys?log=LOG and the TSA
chains and quorum of GET /v1/logs/LOG/anchors, checks that the pieces fit (the anchored checkpoint
verifies under the keys, each token under the root of its own chain), and prints the SHA-256
fingerprints of the log key and of each TSA root. With --rekor-log-key and --rekor-anchor-key
(keys obtained from the Rekor log's operator and the deployment's operator, never from this
server) it also writes "rekor" and prints the anchor key's fingerprint. THE FILE IS ONLY AS TRUSTWORTHY AS YOUR
COMPARISON OF THOSE FINGERPRINTS WITH SOURCES INDEPENDENT OF THIS SERVER.`,
  options: {
    log: option(logIdType, 'the log id', { required: true }),
    output: option(
      outputFile('TRUST.json'),
      'write TRUST.json there (never replaces a file); default: stdout',
      {
        short: 'o',
      },
    ),
    witness: option(
      cosignerVkey,
      'a witness key to pin (repeatable), obtained from the witness operator (docs/witnessing.md)',
      { multiple: true },
    ),
    'witness-quorum': option(
      wholeNumber('K'),
      'cosignatures a checkpoint needs (written as witnessQuorum; default min(2, witnesses))',
    ),
    'rekor-log-key': option(
      vkeyType,
      "a Rekor v2 log's checkpoint vkey to pin (repeatable), from its operator (docs/anchoring.md §Rekor)",
      { multiple: true },
    ),
    'rekor-anchor-key': option(
      inputFile('PEM'),
      "the deployment's Rekor anchor public key, a PEM file (repeatable), published by its operator",
      { multiple: true },
    ),
    ...apiOptions('with proofs:read on the log'),
  },
  json: '{ ok, log, origin, output, trust, logKeys: [{ vkey, keyId, spkiSha256 }], tsaRoots: [{ tsas, subject, sha256 }], witnesses: [{ vkey, status }], rekor: { logKeys: [{ vkey, name, keyId }], anchorKeys: [{ spkiSha256 }] }, warning }',
  examples: [
    {
      title: 'pin log prod: write TRUST.json, then compare the printed fingerprints out of band',
      command: 'anchorlog trust --log prod -o TRUST.json --api https://audit.example.com',
    },
    {
      title: 'also pin two witnesses (keys from their operators), both required',
      command:
        "anchorlog trust --log prod -o TRUST.json --witness 'w1.example+…' --witness 'w2.example+…' --witness-quorum 2",
    },
    {
      title: 'also pin Rekor v2: its log key, and the anchor key the operator published as PEM',
      command:
        "anchorlog trust --log prod -o TRUST.json --rekor-log-key 'log2025-1.rekor.sigstore.dev+…' --rekor-anchor-key rekor-anchor.pem",
    },
    {
      title: 'the fingerprints for a script that compares them with published ones',
      command: 'anchorlog trust --log prod --json',
    },
  ],
  exitStatus: 'exit status: 0 written, 1 API failure or malformed/inconsistent data, 2 usage error',
});

export const TRUST_WARNING = `!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
WARNING: everything in this TRUST.json came from the server you are about to
audit. It is ONLY AS TRUSTWORTHY AS YOUR COMPARISON of the fingerprints above
with ones you obtained independently: the operator's published log key, each
TSA's published root certificate. Until then, a verification against it proves
only that the server is consistent with itself.
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
`;

/** TRUST.json as `anchorlog trust` writes it. */
export interface TrustDocument {
  readonly logKeys: string[];
  readonly origins: string[];
  readonly tsaRoots: string[];
  /** The deployment's anchor quorum: distinct TSA roots needed for "existed by". */
  readonly tsaQuorum: number;
  /** Witness cosigner vkeys given with --witness (never taken from the server). */
  readonly witnesses?: string[];
  readonly witnessQuorum?: number;
  /** Rekor v2 pins given with --rekor-log-key / --rekor-anchor-key (never taken from the server). */
  readonly rekor?: { readonly logKeys: string[]; readonly anchorKeys: string[] };
}

interface KeyFinding {
  readonly vkey: string;
  readonly keyId: string;
  /** Lowercase hex SHA-256 of the DER SPKI (what `openssl dgst -sha256` prints for it). */
  readonly spkiSha256: string;
}

interface RootFinding {
  /** The TSAs (anchor names) whose chain ends at this root. */
  readonly tsas: string[];
  readonly subject: string;
  /** `AB:CD:…` SHA-256 of the DER certificate (what `openssl x509 -fingerprint -sha256` prints). */
  readonly sha256: string;
  readonly pem: string;
  readonly der: Uint8Array;
}

const colonHex = (b: Uint8Array) => (toHex(b).toUpperCase().match(/../g) ?? []).join(':');

const certificatePem = (der: Uint8Array): string => encodePem('CERTIFICATE', der);

const malformed = (what: string): never => {
  throw new CheckError('API_MALFORMED', what);
};

/** The log's keys from /v1/keys?log=: each parsed, named after one origin that names this log, and equal to its PEM. */
async function logKeys(
  deps: ReadApiDeps,
  target: { url: string; key: string },
  logId: string,
  io: CliIo,
): Promise<{ origin: string; keys: NoteVerifier[]; findings: KeyFinding[] }> {
  const entries = logVkeys(await apiJson(deps, target, `/v1/keys?log=${logId}`), logId);
  const keys: NoteVerifier[] = [];
  const findings: KeyFinding[] = [];
  for (const { vkey, pem } of entries) {
    let v: NoteVerifier;
    try {
      v = parseVerifierKey(vkey);
    } catch (e) {
      if (e instanceof NoteError && e.code === 'UNSUPPORTED_KEY_TYPE') {
        io.stderr(`anchorlog trust: skipped a key of a type this verifier cannot use: ${printable(vkey)}\n`);
        continue;
      }
      return malformed(`/v1/keys: not a usable vkey: ${JSON.stringify(vkey.slice(0, 80))}`);
    }
    if (v.type !== 'ecdsa-p256') {
      io.stderr(`anchorlog trust: skipped a ${v.type} key: anchorlog logs sign with ECDSA P-256\n`);
      continue;
    }
    if (!v.name.endsWith(`/${logId}`))
      malformed(
        `/v1/keys: the key for log ${logId} is named ${JSON.stringify(v.name)}, not <prefix>/${logId}`,
      );
    if (pem !== undefined) {
      let spki: Uint8Array;
      try {
        spki = pemToSpki(pem);
      } catch {
        return malformed(`/v1/keys: the PEM of ${v.name}+${toHex(v.keyId)} is not a PUBLIC KEY`);
      }
      if (!bytesEqual(spki, v.publicKey))
        malformed(`/v1/keys: the PEM and the vkey of ${v.name}+${toHex(v.keyId)} are different keys`);
    }
    keys.push(v);
    findings.push({ vkey, keyId: toHex(v.keyId), spkiSha256: toHex(sha256(v.publicKey)) });
  }
  if (keys.length === 0) malformed(`/v1/keys: no usable key for log ${logId}`);
  const origins = [...new Set(keys.map((k) => k.name))];
  if (origins.length !== 1)
    malformed(`/v1/keys: the keys for log ${logId} name different origins: ${origins.join(', ')}`);
  return { origin: origins[0] as string, keys, findings };
}

interface AnchorsDoc {
  readonly checkpoint: string;
  readonly quorum: { readonly required: number };
  readonly tsas: readonly { name: string; status: string; token?: string; chain?: readonly string[] }[];
}

function anchorsShape(doc: unknown, logId: string): AnchorsDoc {
  const path = `/v1/logs/${logId}/anchors`;
  const d = doc as { checkpoint?: unknown; tsas?: unknown } | null;
  if (typeof d !== 'object' || d === null) return malformed(`${path}: not an object`);
  if (typeof d.checkpoint !== 'string') malformed(`${path}: no checkpoint text`);
  const required = (d as { quorum?: { required?: unknown } }).quorum?.required;
  if (typeof required !== 'number' || !Number.isSafeInteger(required) || required < 1)
    malformed(`${path}: quorum.required is not a positive integer`);
  if (!Array.isArray(d.tsas)) malformed(`${path}: no tsas array`);
  for (const t of d.tsas as unknown[]) {
    const e = t as { name?: unknown; status?: unknown; token?: unknown; chain?: unknown } | null;
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string' || typeof e.status !== 'string')
      malformed(`${path}: a tsas entry lacks name or status`);
    const x = e as { name: string; status: string; token?: unknown; chain?: unknown };
    if (x.status !== 'granted') continue;
    if (typeof x.token !== 'string') malformed(`${path}: TSA ${x.name} is granted but has no token`);
    if (!Array.isArray(x.chain) || x.chain.length === 0 || !x.chain.every((c) => typeof c === 'string'))
      malformed(`${path}: TSA ${x.name} is granted but has no chain of PEM certificates`);
  }
  return d as AnchorsDoc;
}

/**
 * The self-signed root of each granted TSA's chain, each shown to anchor that
 * TSA's token over the anchored checkpoint (so a root that signs nothing here
 * is not pinned by mistake).
 */
async function tsaRoots(doc: AnchorsDoc, io: CliIo): Promise<RootFinding[]> {
  const found: RootFinding[] = [];
  for (const t of doc.tsas) {
    if (t.status !== 'granted') continue;
    let chain: Uint8Array[];
    let root: Awaited<ReturnType<typeof selfSignedRoot>>;
    try {
      chain = (t.chain ?? []).flatMap((p) => decodePemCertificates(p));
      root = await selfSignedRoot(chain);
    } catch (e) {
      return malformed(
        `TSA ${t.name}: its chain is not PEM certificates (${e instanceof Error ? e.message : e})`,
      );
    }
    if (!root) {
      io.stderr(
        `anchorlog trust: TSA ${printable(t.name)}: its chain holds no self-signed root; not pinned\n`,
      );
      continue;
    }
    try {
      await verifyTimestamp(fromBase64(t.token ?? ''), {
        expected: { data: utf8(doc.checkpoint) },
        roots: [root.der],
        untrusted: chain,
      });
    } catch (e) {
      const code = e instanceof TimestampError ? e.code : 'MALFORMED';
      throw new CheckError(
        'TSA_TOKEN_INVALID',
        `TSA ${t.name}: its token does not verify against the root of its own chain (${code})`,
      );
    }
    const known = found.find((f) => bytesEqual(f.der, root.der));
    if (known) known.tsas.push(t.name);
    else
      found.push({
        tsas: [t.name],
        subject: root.subject,
        sha256: colonHex(sha256(root.der)),
        pem: certificatePem(root.der),
        der: root.der,
      });
  }
  if (found.length === 0)
    throw new CheckError(
      'NO_TSA_ROOT',
      'no granted time-stamp with a self-signed root: nothing to pin for the TSAs',
    );
  return found;
}

function fingerprints(
  origin: string,
  keys: readonly KeyFinding[],
  roots: readonly RootFinding[],
  tsaQuorum: number,
): string {
  const l = [`log origin: ${origin}`, 'log key(s):'];
  for (const k of keys) {
    l.push(`  ${origin}+${k.keyId}`);
    l.push(`    SHA-256 of the DER public key (SPKI): ${k.spkiSha256}`);
  }
  l.push('    (check: openssl pkey -pubin -in log.pem -outform DER | openssl dgst -sha256)');
  l.push('TSA root(s):');
  for (const r of roots) {
    l.push(`  ${r.subject}   (TSA ${r.tsas.join(', ')})`);
    l.push(`    SHA-256 fingerprint: ${r.sha256}`);
  }
  l.push('    (check: openssl x509 -in root.pem -noout -fingerprint -sha256)');
  l.push(
    `TSA quorum: ${tsaQuorum} distinct TSA root(s) must agree for "existed by" (the deployment's AnchorQuorum)`,
  );
  // Origins, subjects and TSA names are the server's.
  return printableLines(l);
}

export function runTrust(argv: string[], io: CliIo, deps: ReadApiDeps): Promise<number> {
  return runCommand(TRUST, argv, io, deps.env, (args) => buildTrust(args, io, deps), {
    note: () => '\nNo TRUST.json was written.',
  });
}

async function buildTrust(args: ArgsOf<typeof TRUST>, io: CliIo, deps: ReadApiDeps): Promise<number> {
  const { log: logId, output } = args;
  const target = { url: args.api, key: args.key };
  const { origin, keys, findings } = await logKeys(deps, target, logId, io);
  const anchors = anchorsShape(await apiJson(deps, target, `/v1/logs/${logId}/anchors`), logId);
  // The anchored checkpoint must be this log's and signed by these keys, named like its origin.
  try {
    verifyLogCheckpoint(anchors.checkpoint, keys, { origin });
  } catch (e) {
    if (e instanceof NoteError)
      throw new CheckError(
        e.code,
        `the anchored checkpoint of log ${logId} does not verify under its keys: ${e.message}`,
      );
    throw e;
  }
  const roots = await tsaRoots(anchors, io);
  const tsaQuorum = anchors.quorum.required;
  if (roots.length < tsaQuorum)
    throw new CheckError(
      'TSA_QUORUM_NOT_PINNABLE',
      `the deployment requires ${tsaQuorum} TSAs per anchor, but the newest anchors of log ${logId} show only ${roots.length} distinct TSA root(s) (${roots.flatMap((r) => r.tsas).join(', ')}); retry after an anchor run that meets the quorum`,
    );

  const witnesses = await witnessFindings(args, deps, target, logId, keys);
  const rekor = await rekorFindings(args, io, keys);
  const trust: TrustDocument = {
    logKeys: findings.map((f) => f.vkey),
    origins: [origin],
    tsaRoots: roots.map((r) => r.pem),
    tsaQuorum,
    ...(witnesses ? { witnesses: witnesses.found.map((w) => w.vkey), witnessQuorum: witnesses.quorum } : {}),
    ...(rekor
      ? {
          rekor: {
            logKeys: rekor.logKeys.map((k) => k.vkey),
            anchorKeys: rekor.anchorKeys.map((k) => k.pem),
          },
        }
      : {}),
  };
  const text = printableJson(trust, 2);
  if (output !== undefined) {
    try {
      // 'wx': never replace a TRUST.json someone may already have compared and pinned.
      await writeFile(output, text, { flag: 'wx' });
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      throw new UsageError(
        'BAD_OUTPUT',
        code === 'EEXIST'
          ? `-o ${output}: the file exists; remove it or choose another name`
          : `-o ${output}: cannot write: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  const report = `${fingerprints(origin, findings, roots, tsaQuorum)}${witnesses ? witnessReport(witnesses) : ''}${rekor ? rekorReport(rekor) : ''}`;
  if (args.json) {
    io.stdout(
      printableJson(
        {
          ok: true,
          log: logId,
          origin,
          output: output ?? null,
          trust,
          logKeys: findings,
          tsaRoots: roots.map(({ pem: _pem, der: _der, ...r }) => r),
          ...(witnesses ? { witnesses: witnesses.found, witnessQuorum: witnesses.quorum } : {}),
          ...(rekor
            ? {
                rekor: {
                  logKeys: rekor.logKeys,
                  anchorKeys: rekor.anchorKeys.map(({ spkiSha256 }) => ({ spkiSha256 })),
                },
              }
            : {}),
          warning:
            'Everything here came from the server being audited. It is only as trustworthy as your comparison of these fingerprints with sources independent of it.',
        },
        2,
      ),
    );
    io.stderr(TRUST_WARNING);
  } else if (output !== undefined) {
    io.stdout(`TRUST.json for log ${logId} written to ${printable(output)}\n${report}`);
    io.stderr(TRUST_WARNING);
  } else {
    // TRUST.json on stdout (pipe it to a file); everything else on stderr.
    io.stdout(text);
    io.stderr(`${report}${TRUST_WARNING}`);
  }
  return EXIT_OK;
}

interface WitnessFindings {
  readonly quorum: number;
  /** Each pinned witness and what the served checkpoint shows of it (a check, not a condition). */
  readonly found: { vkey: string; status: string }[];
  readonly met: boolean;
}

/**
 * The --witness keys and quorum, checked to fit (distinct keys, 0 ≤ k ≤ n),
 * and each witness's status on the checkpoint the server serves now. A
 * quorum not met there is only reported: cosignatures lag a seal by up to
 * one anchor period, and the keys come from the witness operators, not from
 * this server, so there is nothing to cross-check them with here.
 */
async function witnessFindings(
  args: ArgsOf<typeof TRUST>,
  deps: ReadApiDeps,
  target: { url: string; key: string },
  logId: string,
  keys: readonly NoteVerifier[],
): Promise<WitnessFindings | undefined> {
  const cosigners = args.witness;
  if (cosigners.length === 0) {
    if (args['witness-quorum'] !== undefined)
      throw new UsageError('BAD_VALUE', '--witness-quorum needs at least one --witness');
    return undefined;
  }
  let policy: ReturnType<typeof witnessPolicy>;
  try {
    policy = witnessPolicy(cosigners, args['witness-quorum'] ?? Math.min(2, cosigners.length));
  } catch (e) {
    throw new UsageError('BAD_VALUE', e instanceof Error ? e.message : String(e));
  }
  const served = await apiGet(deps, target, `/v1/logs/${logId}/checkpoint`);
  let report: ReturnType<typeof verifyWitnessedCheckpoint>;
  try {
    report = verifyWitnessedCheckpoint(served, keys, policy);
  } catch (e) {
    if (e instanceof NoteError)
      throw new CheckError(
        e.code,
        `the served checkpoint of log ${logId} does not verify under its keys: ${e.message}`,
      );
    throw e;
  }
  return {
    quorum: policy.quorum,
    met: report.quorumMet,
    found: policy.witnesses.map((w, i) => ({
      vkey: formatCosignerKey(w),
      status: report.witnesses[i]?.status ?? 'missing',
    })),
  };
}

function witnessReport(w: WitnessFindings): string {
  const l = [
    "witness(es), keys as given with --witness (compare them with their operators' published keys):",
  ];
  for (const f of w.found) l.push(`  ${f.vkey}   on the served checkpoint: ${f.status}`);
  l.push(
    `witness quorum: ${w.quorum}${w.met ? '' : '   (NOT met by the checkpoint served now; cosignatures follow a seal within one anchor period)'}`,
  );
  return printableLines(l);
}

interface RekorFindings {
  readonly logKeys: { vkey: string; name: string; keyId: string }[];
  readonly anchorKeys: { pem: string; spkiSha256: string }[];
}

/**
 * The --rekor-log-key and --rekor-anchor-key pins, both or neither (TRUST.json `rekor` needs
 * both: docs/anchoring.md §Rekor). Each anchor key must be one P-256 public key, and none may
 * be the log's checkpoint key: the deployment signs Rekor entries with a key of its own, so
 * pinning the log key there is a mistake that would make every entry fail. The keys are
 * rewritten in one canonical form (vkey as parsed, PEM re-encoded) and deduplicated.
 */
async function rekorFindings(
  args: ArgsOf<typeof TRUST>,
  io: CliIo,
  logKeys: readonly NoteVerifier[],
): Promise<RekorFindings | undefined> {
  const given = args['rekor-log-key'];
  const files = args['rekor-anchor-key'];
  if (given.length === 0 && files.length === 0) return undefined;
  if (given.length === 0)
    throw new UsageError('BAD_VALUE', '--rekor-anchor-key needs at least one --rekor-log-key');
  if (files.length === 0)
    throw new UsageError('BAD_VALUE', '--rekor-log-key needs at least one --rekor-anchor-key');
  const vkeys = [...new Set(given.map((v) => formatVerifierKey(v)))];
  const anchorKeys: RekorFindings['anchorKeys'] = [];
  for (const file of files) {
    let spki: Uint8Array;
    try {
      spki = pemToSpki(fromUtf8(await readInput(io, '--rekor-anchor-key', file)));
      p256PublicPoint(spki);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(
        'BAD_FILE',
        `--rekor-anchor-key ${file}: not a P-256 PUBLIC KEY PEM (${e instanceof Error ? e.message : String(e)})`,
      );
    }
    if (logKeys.some((k) => bytesEqual(k.publicKey, spki)))
      throw new UsageError(
        'BAD_VALUE',
        `--rekor-anchor-key ${file}: this is the log's checkpoint key, not the Rekor anchor key (output RekorAnchorKeyArn)`,
      );
    const pem = spkiToPem(spki);
    if (!anchorKeys.some((k) => k.pem === pem)) anchorKeys.push({ pem, spkiSha256: toHex(sha256(spki)) });
  }
  return {
    logKeys: vkeys.map((vkey) => {
      const v = parseVerifierKey(vkey);
      return { vkey, name: v.name, keyId: toHex(v.keyId) };
    }),
    anchorKeys,
  };
}

function rekorReport(r: RekorFindings): string {
  const l = [
    "Rekor log key(s), as given with --rekor-log-key (compare with the Rekor operator's published keys):",
  ];
  for (const k of r.logKeys) l.push(`  ${k.name}+${k.keyId}`);
  l.push('Rekor anchor key(s), as given with --rekor-anchor-key:');
  for (const k of r.anchorKeys) l.push(`  SHA-256 of the DER public key (SPKI): ${k.spkiSha256}`);
  l.push(
    '    (check: aws kms get-public-key --key-id <RekorAnchorKeyArn> --query PublicKey --output text | base64 -d | sha256sum)',
  );
  return printableLines(l);
}
