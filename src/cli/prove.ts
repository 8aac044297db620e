/**
 * `anchorlog prove` — show that record N is in the log: fetch and verify the
 * latest checkpoint, fetch the inclusion proof, and verify it (RFC 9162
 * §2.1.3.2) for the leaf given (--leaf-hash, --record) or read from the entry
 * bundle that holds N (then the record is printed).
 *
 * With --size S below the checkpoint size, the root at S is derived from the
 * inclusion proof and tied to the signed root by a consistency proof S → size
 * (RFC 9162 §2.1.4.2), so the proof still ends at a signed tree head.
 *
 * With --format tlog-proof -o FILE, the verified proof is also written as a
 * C2SP tlog-proof file (docs/formats.md §tlog-proof files): the record (the
 * `extra` line), N, the inclusion path, and the checkpoint exactly as served,
 * witnesses' cosignature lines included — `anchorlog verify FILE` checks it
 * offline. The file is written only after every check above passed.
 *
 * Exit: 0 verified against a pinned key, 1 verification failed (reason code),
 * 2 usage error, 3 verified against the server's own key (verdict.ts).
 */
import { rename, writeFile } from 'node:fs/promises';
import { fromBase64, fromUtf8, toBase64 } from '../core/bytes.ts';
import { decodeEntryBundle } from '../core/merkle/entry-bundle.ts';
import { entryBundlePath, TILE_WIDTH } from '../core/merkle/tile-path.ts';
import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from '../core/merkle/verify.ts';
import { decodeRecord, leafHash } from '../core/record.ts';
import { formatTlogProof } from '../core/tlog-proof/index.ts';
import { type ArgsOf, defineCommand, option } from './args.ts';
import { runCommand } from './command.ts';
import { UsageError } from './errors.ts';
import { type CliIo, readInput } from './io.ts';
import { printableJson, printableLines } from './printable.ts';
import {
  type ApiTarget,
  apiGet,
  apiJson,
  apiOptions,
  CheckError,
  fetchVerifiedCheckpoint,
  PIN_GROUP,
  PIN_OPTIONS,
  pinnedLogKeys,
  type ReadApiDeps,
} from './read-api.ts';
import { base64Hash, choice, inputFile, logId, outputFile, wholeNumber } from './values.ts';
import { EXIT_USAGE_TEXT, logKeyHeadline, logKeyVerdict, VERIFICATION_FAILED } from './verdict.ts';

export const PROVE = defineCommand({
  path: ['prove'],
  summary: 'verify that record N is in the log (inclusion proof to a signed checkpoint)',
  description: `Fetches and verifies the latest checkpoint (as anchorlog checkpoint does), then the
inclusion proof of record N, and verifies it (RFC 9162 §2.1.3.2) for the leaf given by --leaf-hash
or --record, or read from the entry bundle that holds N (then the record is printed too).
With --size S below the checkpoint's size, the root at S is derived from the inclusion proof and
tied to the signed root by a consistency proof S → size, so the proof still ends at a signed head.
With --format tlog-proof -o FILE, the verified proof is also written as a C2SP tlog-proof file:
the record, its inclusion proof and the checkpoint with the witnesses' cosignatures, which
anchorlog verify FILE --trust TRUST.json checks offline.`,
  options: {
    log: option(logId, 'the log id', { required: true }),
    index: option(wholeNumber(), '0-based record index', { required: true }),
    size: option(wholeNumber('S'), "tree size to prove in (default: the latest checkpoint's)"),
    ...PIN_OPTIONS,
    'leaf-hash': option(base64Hash, 'the expected leaf hash (RFC 6962, base64)'),
    record: option(inputFile(), "the record's canonical bytes (as exported)"),
    format: option(
      choice(['tlog-proof'] as const, 'FORMAT'),
      'also write the proof to --output as a C2SP tlog-proof file (record, proof, cosigned checkpoint)',
    ),
    output: option(
      outputFile(),
      'where --format writes the proof file (.tlog-proof); replaced if it exists',
      {
        short: 'o',
      },
    ),
    ...apiOptions('with proofs:read on the log'),
  },
  exclusive: [
    PIN_GROUP,
    { options: ['leaf-hash', 'record'] },
    // A tlog-proof carries the record and ends at the checkpoint itself.
    { options: ['format', 'leaf-hash'] },
    { options: ['format', 'size'] },
  ],
  json: '{ ok, verified, verdict, log, origin, index, size, checkpointSize, rootHash, leafHash, proofLength, trustedServerKey, record?, output? }',
  examples: [
    {
      title: 'record 1234 of log prod: proved, and printed from its entry bundle',
      command: 'anchorlog prove --log prod --index 1234 --trust TRUST.json',
    },
    {
      title: 'an exported record, in the tree an older checkpoint signed',
      command:
        'anchorlog prove --log prod --index 1234 --size 5000 --record record.json --vkey-file vkeys.txt',
    },
    {
      title: 'record 1234 as a proof file an auditor verifies offline (anchorlog verify)',
      command:
        'anchorlog prove --log prod --index 1234 --trust TRUST.json --format tlog-proof -o 1234.tlog-proof',
    },
  ],
  exitStatus: EXIT_USAGE_TEXT,
});

/** base64 hashes from a proof response, each 32 bytes (checked again by the verifier). */
function hashesOf(doc: unknown, what: string): Uint8Array[] {
  const hashes = (doc as { hashes?: unknown })?.hashes;
  if (!Array.isArray(hashes) || hashes.length > 128 || !hashes.every((h) => typeof h === 'string'))
    throw new CheckError('API_MALFORMED', `${what}: no hashes array`);
  try {
    return (hashes as string[]).map(fromBase64);
  } catch {
    throw new CheckError('API_MALFORMED', `${what}: a hash is not base64`);
  }
}

/**
 * Record N's bytes from the entry bundle holding it in the tree of the
 * verified checkpoint's `size`: at that width the bundle is always stored
 * (a partial at an older size may not be, and would have to be cut). Its
 * bytes may come through a redirect to S3; either way they are only a
 * candidate: the caller hashes the record and proves it against the signed root.
 */
async function leafFromBundle(
  deps: ReadApiDeps,
  target: ApiTarget,
  logId: string,
  index: number,
  size: number,
): Promise<Uint8Array> {
  const n = Math.floor(index / TILE_WIDTH);
  const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
  const bytes = await apiGet(deps, target, `/v1/logs/${logId}/${entryBundlePath(n, width)}`, {
    followRedirect: true,
  });
  return decodeEntryBundle(bytes, width)[index % TILE_WIDTH] as Uint8Array;
}

export function runProve(argv: string[], io: CliIo, deps: ReadApiDeps): Promise<number> {
  return runCommand(PROVE, argv, io, deps.env, (args) => prove(args, io, deps), VERIFICATION_FAILED);
}

async function prove(args: ArgsOf<typeof PROVE>, io: CliIo, deps: ReadApiDeps): Promise<number> {
  const { log: logId, index } = args;
  if ((args.format === undefined) !== (args.output === undefined))
    throw new UsageError(
      'MISSING_OPTION',
      args.format === undefined ? '--output needs --format tlog-proof' : '--format needs --output FILE',
    );
  const record0 = args.record === undefined ? undefined : await readInput(io, '--record', args.record);
  const target: ApiTarget = { url: args.api, key: args.key };
  const pinned = await pinnedLogKeys(io, args);

  // 1. A signed tree head we believe.
  const head = await fetchVerifiedCheckpoint(deps, io, target, logId, pinned);
  const cp = head.checkpoint;
  const size = args.size ?? cp.size;
  if (size > cp.size)
    throw new CheckError(
      'SIZE_BEYOND_CHECKPOINT',
      `--size ${size} is beyond the verified checkpoint size ${cp.size}`,
    );
  if (index >= size)
    throw new CheckError('INDEX_OUT_OF_RANGE', `index ${index} is not below tree size ${size}`);

  // 2. The leaf: given, or from the entry bundle (and then the record is shown).
  const givenLeaf = args['leaf-hash'];
  const fromBundle = givenLeaf === undefined && record0 === undefined;
  const record = fromBundle ? await leafFromBundle(deps, target, logId, index, cp.size) : record0;
  const leaf = givenLeaf ?? leafHash(record as Uint8Array);

  // 3. The record is the one it claims to be: canonical bytes naming this log and index.
  let parsed: unknown;
  if (record !== undefined) {
    const r = decodeRecord(record);
    if (r.index !== index || r.logId !== logId)
      throw new CheckError('RECORD_MISMATCH', `record says log ${r.logId} index ${r.index}`);
    parsed = r;
  }

  // 4. Inclusion in the tree of `size`, ending at the signed root.
  const incl = await apiJson(deps, target, `/v1/logs/${logId}/proof/inclusion?index=${index}&size=${size}`);
  const path = hashesOf(incl, 'inclusion proof');
  if (size === cp.size) verifyInclusion(leaf, index, size, path, cp.rootHash);
  else {
    const root = rootFromInclusionProof(leaf, index, size, path);
    const cons = await apiJson(
      deps,
      target,
      `/v1/logs/${logId}/proof/consistency?from=${size}&to=${cp.size}`,
    );
    verifyConsistency(size, cp.size, hashesOf(cons, 'consistency proof'), root, cp.rootHash);
  }

  // 5. The proof file: only now that every check passed, with the checkpoint as served.
  // Written beside the target and renamed, so FILE is never a half-written proof.
  if (args.format === 'tlog-proof' && args.output !== undefined) {
    const part = `${args.output}.part`;
    await writeFile(
      part,
      formatTlogProof({ extra: record as Uint8Array, index, proof: path, checkpoint: head.text }),
    );
    await rename(part, args.output);
  }

  const verdict = logKeyVerdict(head.trustedServerKey, args['allow-untrusted']);
  const out = {
    // As in `verify --json`: `ok` follows the exit code, `verified` says the checks passed.
    ok: verdict.exitCode === 0,
    verified: true,
    verdict,
    log: logId,
    origin: cp.origin,
    index,
    size,
    checkpointSize: cp.size,
    rootHash: toBase64(cp.rootHash),
    leafHash: toBase64(leaf),
    proofLength: path.length,
    trustedServerKey: head.trustedServerKey,
    ...(parsed !== undefined ? { record: parsed } : {}),
    ...(args.output !== undefined ? { output: { format: args.format, file: args.output } } : {}),
  };
  if (args.json) io.stdout(printableJson(out, 2));
  else {
    const lines = [
      logKeyHeadline(verdict),
      `origin:     ${cp.origin}`,
      `checkpoint: size ${cp.size}, root ${out.rootHash}`,
      `index:      ${index} in tree of size ${size}${size < cp.size ? ` (consistent with ${cp.size})` : ''}`,
      `leaf hash:  ${out.leafHash}`,
      `proof:      ${path.length} hashes`,
    ];
    if (fromBundle && record !== undefined) lines.push(`record:     ${fromUtf8(record)}`);
    if (args.output !== undefined) lines.push(`written:    ${args.output} (${args.format})`);
    io.stdout(printableLines(lines));
  }
  return verdict.exitCode;
}
