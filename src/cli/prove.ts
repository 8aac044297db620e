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
 * Exit: 0 verified against a pinned key, 1 verification failed (reason code),
 * 2 usage error, 3 verified against the server's own key (verdict.ts).
 */
import { parseArgs } from 'node:util';
import { fromBase64, fromUtf8, toBase64 } from '../core/bytes.ts';
import { decodeEntryBundle } from '../core/merkle/entry-bundle.ts';
import { parseSafeUint } from '../core/merkle/numbers.ts';
import { entryBundlePath, TILE_WIDTH } from '../core/merkle/tile-path.ts';
import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from '../core/merkle/verify.ts';
import { decodeRecord, leafHash } from '../core/record.ts';
import { type CliIo, EXIT_OK } from './io.ts';
import { printableJson, printableLines } from './printable.ts';
import {
  type ApiTarget,
  apiGet,
  apiJson,
  apiTarget,
  CheckError,
  fetchVerifiedCheckpoint,
  pinnedLogKeys,
  type ReadApiDeps,
  reportFailure,
  requireLogId,
  UsageError,
} from './read-api.ts';
import { EXIT_USAGE_TEXT, logKeyHeadline, logKeyVerdict } from './verdict.ts';

export const PROVE_USAGE = `usage: anchorlog prove --log LOG --index N [--size S]
                       [--vkey VKEY | --vkey-file FILE | --trust TRUST.json] [--allow-untrusted]
                       [--leaf-hash B64 | --record FILE] [--api URL] [--key KEY] [--json]

  --log LOG          the log id
  --index N          0-based record index
  --size S           tree size to prove in (default: the latest checkpoint's)
  --vkey VKEY        pinned verifier key (origin+keyid+key); repeatable
  --vkey-file FILE   pinned verifier keys, one a line
  --trust TRUST.json pinned logKeys (and origins) from a trust file (anchorlog trust)
  --allow-untrusted  exit 0 instead of 3 when no key is pinned
  --leaf-hash B64    the expected leaf hash (RFC 6962, base64)
  --record FILE      the record's canonical bytes (as exported)
  --api URL          read API base URL (default: $ANCHORLOG_API_URL)
  --key KEY          API key with proofs:read (default: $ANCHORLOG_API_KEY)
  --json             machine-readable result on stdout

Without --leaf-hash or --record the leaf is read from the log's entry bundle.
Without a pinned key the server's own key from /v1/keys is used, with a warning.
${EXIT_USAGE_TEXT}`;

function uint(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseSafeUint(text, flag, 'BAD_ARGUMENT');
  } catch {
    throw new UsageError(`${flag} must be a non-negative decimal integer`);
  }
}

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

export async function runProve(argv: string[], io: CliIo, deps: ReadApiDeps): Promise<number> {
  let json = false;
  try {
    let values: Record<string, string | boolean | string[] | undefined>;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          log: { type: 'string' },
          index: { type: 'string' },
          size: { type: 'string' },
          vkey: { type: 'string', multiple: true },
          'vkey-file': { type: 'string' },
          trust: { type: 'string' },
          'allow-untrusted': { type: 'boolean' },
          'leaf-hash': { type: 'string' },
          record: { type: 'string' },
          api: { type: 'string' },
          key: { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (e) {
      throw new UsageError(`${e instanceof Error ? e.message : String(e)}\n${PROVE_USAGE}`);
    }
    if (values.help) {
      io.stdout(PROVE_USAGE);
      return EXIT_OK;
    }
    json = values.json === true;
    const str = (k: string) => values[k] as string | undefined;
    const logId = requireLogId(str('log'));
    const index = uint(str('index'), '--index');
    if (index === undefined) throw new UsageError('--index is required');
    const wantSize = uint(str('size'), '--size');
    if (str('leaf-hash') !== undefined && str('record') !== undefined)
      throw new UsageError('give --leaf-hash or --record, not both');
    let givenLeaf: Uint8Array | undefined;
    if (str('leaf-hash') !== undefined) {
      try {
        givenLeaf = fromBase64(str('leaf-hash') as string);
      } catch {
        throw new UsageError('--leaf-hash is not base64');
      }
      if (givenLeaf.length !== 32) throw new UsageError('--leaf-hash must be 32 bytes');
    }
    let record: Uint8Array | undefined;
    if (str('record') !== undefined) {
      try {
        record = await io.readFile(str('record') as string);
      } catch (e) {
        throw new UsageError(
          `--record: cannot read ${str('record')}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    const target = apiTarget({ api: str('api'), key: str('key') }, deps.env);
    const pinned = await pinnedLogKeys(io, {
      vkeys: (values.vkey as string[] | undefined) ?? [],
      vkeyFile: str('vkey-file'),
      trust: str('trust'),
    });

    // 1. A signed tree head we believe.
    const head = await fetchVerifiedCheckpoint(deps, io, target, logId, pinned);
    const cp = head.checkpoint;
    const size = wantSize ?? cp.size;
    if (size > cp.size)
      throw new CheckError(
        'SIZE_BEYOND_CHECKPOINT',
        `--size ${size} is beyond the verified checkpoint size ${cp.size}`,
      );
    if (index >= size)
      throw new CheckError('INDEX_OUT_OF_RANGE', `index ${index} is not below tree size ${size}`);

    // 2. The leaf: given, or from the entry bundle (and then the record is shown).
    const fromBundle = givenLeaf === undefined && record === undefined;
    if (fromBundle) record = await leafFromBundle(deps, target, logId, index, cp.size);
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

    const verdict = logKeyVerdict(head.trustedServerKey, values['allow-untrusted'] === true);
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
    };
    if (json) io.stdout(printableJson(out, 2));
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
      io.stdout(printableLines(lines));
    }
    return verdict.exitCode;
  } catch (err) {
    return reportFailure(io, 'prove', err, json);
  }
}
