/**
 * Streaming evidence-bundle writer (format: ./format.ts, docs/bundle.md).
 *
 * Inputs are abstract so the export use case can feed it from DynamoDB/S3
 * (or tests from memory): records as an async iterable of canonical bytes,
 * proofs through injected functions. The output is the ustar archive as an
 * async iterable of chunks. Memory is bounded by one records chunk and, in
 * filtered mode, its inclusion proofs, each at most `chunkBytes` (default
 * 4 MiB, at most MAX_CHUNK_BYTES / 2, so the verifier reads every member):
 * every member is hashed as it is emitted, and manifest.json — which lists
 * every member's hash — is written last.
 *
 * The writer checks what it writes (canonical records, chain, index order,
 * time range, filter, neighbours) and refuses inconsistent input with
 * BundleError('INVALID_INPUT'), so it never produces a bundle that the
 * verifier would reject for a reason the exporter could have seen.
 */
import { toBase64, toHex, utf8 } from '../bytes.ts';
import { sha256 } from '../hash.ts';
import { CompactRange, inclusionProofLength } from '../merkle/index.ts';
import { isValidTsaName, TSA_NAME_RULE } from '../names.ts';
import { isEd25519Spki, parseCheckpoint, parseNote, spkiToPem, vkeyFromSpki } from '../note/index.ts';
import { encodePemCertificates } from '../pem.ts';
import { decodeRecordFast, isValidLogId, type LogRecord, leafHash, ZERO_HASH } from '../record.ts';
import { BundleError } from './errors.ts';
import {
  ATTESTATIONS,
  anchorChainPath,
  anchorPath,
  attestationOrderKey,
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  type BundleAttestation,
  type BundleFilter,
  type BundleHeader,
  type BundleManifest,
  type BundleRange,
  CONSISTENCY,
  type ConsistencyEntry,
  checkpointPath,
  DEFAULT_CHUNK_BYTES,
  describeFilter,
  encodeAttestations,
  encodeConsistency,
  encodeInclusionLine,
  encodeJsonMember,
  encodeManifest,
  encodeProofs,
  filterMatches,
  filterProblem,
  formatSums,
  HEADER,
  headerJson,
  inclusionPath,
  LOG_PEM,
  LOG_VKEY,
  MANIFEST,
  MAX_CHUNK_BYTES,
  MAX_CHUNKS,
  type MemberEntry,
  type NeighbourProof,
  PROOFS,
  type RangeProofs,
  README,
  recordsPath,
  SUMS,
} from './format.ts';
import { readmeText } from './readme.ts';
import { tarEnd, tarHeader, tarPadding } from './tar.ts';

export interface BundleAnchorInput {
  /** Size of the checkpoint the token time-stamps (its full signed-note text). */
  readonly size: number;
  /** TSA name (the anchor service's configured name; the rule is in src/core/names.ts). */
  readonly tsa: string;
  /** The TimeStampResp as received (DER). */
  readonly response: Uint8Array;
  /** The TSA chain, signer first (DER certificates). */
  readonly chain: readonly Uint8Array[];
}

/** A witness cosignature over one of the checkpoints (docs/witnessing.md). */
export interface BundleCosignatureInput {
  /** Size of the checkpoint it cosigns. */
  readonly size: number;
  /** The witness's configured short name (the TSA name rule, src/core/names.ts). */
  readonly witness: string;
  /** The signature line as archived, `— <key name> <base64>`, without a newline. */
  readonly line: string;
}

/** A Rekor v2 entry over one of the checkpoints (docs/anchoring.md §Rekor). */
export interface BundleRekorInput {
  /** Size of the checkpoint whose SHA-256 the entry records. */
  readonly size: number;
  /** The Rekor party's configured short name (the TSA name rule). */
  readonly party: string;
  /** The TransparencyLogEntry as archived (as the log returned it). */
  readonly entry: Uint8Array;
}

export interface BundleWriterInput {
  readonly logId: string;
  /** Checkpoint origin and log key name (`<origin prefix>/<logId>`). */
  readonly origin: string;
  /** Bundle creation time from the caller's clock, e.g. 2026-03-01T12:00:00.000Z. */
  readonly createdAt: string;
  /**
   * Half-open time range [fromTime, toTime) and the index interval it maps to
   * (lastIndex = firstIndex - 1 when no record falls in the range). The
   * exporter resolves it from the store before calling (it needs the
   * neighbours anyway).
   */
  readonly range: BundleRange;
  /** Filtered export: only these records, each with its own inclusion proof. */
  readonly filter?: BundleFilter | null;
  /** The log's public key, DER SubjectPublicKeyInfo (ECDSA P-256, or Ed25519 per RFC 8410). */
  readonly logKeySpki: Uint8Array;
  /** Signed checkpoint notes, any order; distinct sizes; all of this log. */
  readonly checkpoints: readonly (string | Uint8Array)[];
  /** Size of the checkpoint the record proofs are relative to; default the largest. */
  readonly checkpointSize?: number;
  /** RFC 3161 anchors over some of the checkpoints. */
  readonly anchors: readonly BundleAnchorInput[];
  /**
   * Witness cosignatures over some of the checkpoints (default none). Written as they come:
   * the verifier, not the writer, judges them against the witness keys an auditor pins.
   */
  readonly cosignatures?: readonly BundleCosignatureInput[];
  /** Rekor entries over some of the checkpoints (default none); judged by the verifier. */
  readonly rekorEntries?: readonly BundleRekorInput[];
  /**
   * Canonical record bytes, ascending index. Range mode: exactly indexes
   * firstIndex..lastIndex. Filtered mode: the selected records in that interval.
   */
  readonly records: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Record firstIndex-1 (range mode, required iff firstIndex > 0). */
  readonly before?: Uint8Array | null;
  /** Record lastIndex+1 (range mode, required iff lastIndex+1 < checkpoint size). */
  readonly after?: Uint8Array | null;
  /** RFC 9162 inclusion proof of leaf `index` in the tree of `size` (size ≤ checkpoint size). */
  getInclusionProof(index: number, size: number): Promise<readonly Uint8Array[]>;
  /** RFC 9162 consistency proof from tree size `from` (> 0) to `to`. */
  getConsistencyProof(from: number, to: number): Promise<readonly Uint8Array[]>;
  /** Target records-chunk size in bytes (default 4 MiB; at most 16 MiB). */
  readonly chunkBytes?: number;
}

function invalid(message: string, index?: number): never {
  throw new BundleError('INVALID_INPUT', message, index === undefined ? {} : { index });
}

interface CheckpointIn {
  readonly size: number;
  readonly bytes: Uint8Array;
}

function prepareCheckpoints(input: BundleWriterInput): CheckpointIn[] {
  const out = input.checkpoints.map((note) => {
    const bytes = typeof note === 'string' ? utf8(note) : note;
    const cp = parseCheckpoint(parseNote(bytes).text);
    if (cp.origin !== input.origin) invalid(`checkpoint of ${cp.origin} is not of origin ${input.origin}`);
    return { size: cp.size, bytes };
  });
  out.sort((a, b) => a.size - b.size);
  if (out.length === 0) invalid('a bundle needs at least one checkpoint');
  for (let i = 1; i < out.length; i++)
    if (out[i]?.size === out[i - 1]?.size) invalid('two checkpoints of the same size');
  return out;
}

function certificatesPem(ders: readonly Uint8Array[]): Uint8Array {
  return utf8(encodePemCertificates(ders));
}

const ms = (t: string): number => Date.parse(t);

async function* fromIterable<T>(it: AsyncIterable<T> | Iterable<T>): AsyncGenerator<T> {
  for await (const x of it) yield x;
}

/**
 * Writes a bundle. Resolves lazily: proofs are requested and records read
 * as the consumer pulls chunks. Throws BundleError('INVALID_INPUT') on
 * inconsistent input (possibly after some chunks were emitted: the consumer
 * must then discard the partial output, e.g. abort the multipart upload).
 */
export async function* writeBundle(input: BundleWriterInput): AsyncGenerator<Uint8Array> {
  if (!isValidLogId(input.logId)) invalid('invalid logId');
  const r = input.range;
  const given = input.filter ?? null;
  const filter: BundleFilter | null =
    given === null
      ? null
      : {
          ...(given.actionPrefix !== undefined ? { actionPrefix: given.actionPrefix } : {}),
          ...(given.actorId !== undefined ? { actorId: given.actorId } : {}),
        };
  if (filter !== null) {
    const problem = filterProblem(filter);
    if (problem !== null) invalid(problem);
  }
  if (!(r.fromTime < r.toTime)) invalid('range.fromTime must be before range.toTime');
  if (!Number.isSafeInteger(r.firstIndex) || r.firstIndex < 0 || !Number.isSafeInteger(r.lastIndex))
    invalid('range indexes must be integers');
  if (r.lastIndex < r.firstIndex - 1) invalid('range.lastIndex < firstIndex - 1');
  const chunkBytes = input.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!(chunkBytes > 0 && chunkBytes <= MAX_CHUNK_BYTES / 2)) invalid('chunkBytes must be in (0, 8 MiB]');
  const checkpoints = prepareCheckpoints(input);
  const n = input.checkpointSize ?? (checkpoints[checkpoints.length - 1] as CheckpointIn).size;
  if (!checkpoints.some((c) => c.size === n)) invalid(`no checkpoint of size ${n}`);
  if (r.lastIndex >= n) invalid(`checkpoint ${n} does not cover index ${r.lastIndex}`);
  const sizes = new Set(checkpoints.map((c) => c.size));
  const anchorKeys = new Set<string>();
  for (const a of input.anchors) {
    if (!sizes.has(a.size)) invalid(`anchor over checkpoint ${a.size}, which is not in the bundle`);
    if (!isValidTsaName(a.tsa)) invalid(`invalid TSA name ${JSON.stringify(a.tsa)}: ${TSA_NAME_RULE}`);
    if (anchorKeys.has(`${a.size}/${a.tsa}`)) invalid(`two anchors by ${a.tsa} over checkpoint ${a.size}`);
    anchorKeys.add(`${a.size}/${a.tsa}`);
  }
  const anchors = [...input.anchors].sort((a, b) => a.size - b.size || (a.tsa < b.tsa ? -1 : 1));
  const attestations = attestationsOf(anchors, input.cosignatures ?? [], sizes, input.rekorEntries ?? []);
  const header: BundleHeader = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    logId: input.logId,
    origin: input.origin,
    createdAt: input.createdAt,
    range: { fromTime: r.fromTime, toTime: r.toTime, firstIndex: r.firstIndex, lastIndex: r.lastIndex },
    filter,
    completeness: filter === null ? 'range' : 'inclusion-only',
    checkpoint: n,
  };
  const mtime = Math.floor(ms(input.createdAt) / 1000);
  if (!Number.isFinite(mtime)) invalid('createdAt is not a time');

  const members: MemberEntry[] = [];
  function* member(path: string, data: Uint8Array): Generator<Uint8Array> {
    members.push({ path, size: data.length, sha256: toHex(sha256(data)) });
    yield tarHeader(path, data.length, mtime);
    if (data.length > 0) yield data;
    const pad = tarPadding(data.length);
    if (pad.length > 0) yield pad;
  }

  const first = anchors.find((a) => a.size === n) ?? anchors[0];
  yield* member(
    README,
    readmeText({
      header,
      ...(first ? { anchor: { size: first.size, tsa: first.tsa } } : {}),
      keyType: isEd25519Spki(input.logKeySpki) ? 'ed25519' : 'ecdsa-p256',
    }),
  );
  yield* member(HEADER, encodeJsonMember(headerJson(header)));
  yield* member(LOG_VKEY, utf8(`${vkeyFromSpki(input.origin, input.logKeySpki)}\n`));
  yield* member(LOG_PEM, utf8(spkiToPem(input.logKeySpki)));
  for (const c of checkpoints) yield* member(checkpointPath(c.size), c.bytes);

  const consistency: ConsistencyEntry[] = [];
  for (let i = 1; i < checkpoints.length; i++) {
    const from = (checkpoints[i - 1] as CheckpointIn).size;
    const to = (checkpoints[i] as CheckpointIn).size;
    if (from > 0) consistency.push({ from, to, hashes: await input.getConsistencyProof(from, to) });
  }
  yield* member(CONSISTENCY, encodeConsistency(consistency));

  for (const a of anchors) {
    yield* member(anchorPath(a.size, a.tsa), a.response);
    yield* member(anchorChainPath(a.size, a.tsa), certificatesPem(a.chain));
  }
  yield* member(ATTESTATIONS, encodeAttestations(attestations));

  // proofs.json, before the records, so a streaming verifier can check them as they pass.
  let beforeRec: LogRecord | undefined;
  let afterRec: LogRecord | undefined;
  let proofs: RangeProofs;
  if (filter === null) {
    const neighbour = async (bytes: Uint8Array | null | undefined, index: number, what: string) => {
      if (!bytes) invalid(`the ${what} neighbour (record ${index}) is required`);
      const rec = decodeRecordFast(bytes);
      if (rec.index !== index || rec.logId !== input.logId)
        invalid(`${what} neighbour is not record ${index}`);
      const p: NeighbourProof = {
        index,
        record: new TextDecoder().decode(bytes),
        inclusion: await input.getInclusionProof(index, n),
      };
      return { rec, p };
    };
    let before: NeighbourProof | null = null;
    let after: NeighbourProof | null = null;
    let left: Uint8Array[] = [];
    if (r.firstIndex > 0) {
      const b = await neighbour(input.before, r.firstIndex - 1, 'before');
      if (!(b.rec.receivedAt < r.fromTime)) invalid('the before neighbour is inside the time range');
      beforeRec = b.rec;
      before = b.p;
      // The compact range of [0, a): leaf a-1's path in the tree of size a has only
      // left siblings (bottom-up); reversed and followed by leaf a-1 itself.
      const path = await input.getInclusionProof(r.firstIndex - 1, r.firstIndex);
      const cr = CompactRange.fromParts(r.firstIndex - 1, [...path].reverse());
      cr.append(leafHash(input.before as Uint8Array));
      left = cr.hashes();
    }
    if (r.lastIndex + 1 < n) {
      const a = await neighbour(input.after, r.lastIndex + 1, 'after');
      if (!(a.rec.receivedAt >= r.toTime)) invalid('the after neighbour is inside the time range');
      afterRec = a.rec;
      after = a.p;
    }
    const end = r.lastIndex + 1;
    const cons = end > 0 && end < n ? await input.getConsistencyProof(end, n) : [];
    proofs = { checkpoint: n, left, consistency: cons, before, after };
  } else {
    proofs = { checkpoint: n, left: [], consistency: [], before: null, after: null };
  }
  yield* member(PROOFS, encodeProofs(proofs));

  // Records, chunked.
  let count = 0;
  let recordBytes = 0;
  let expected = r.firstIndex;
  let prevLeaf: Uint8Array | undefined =
    filter !== null ? undefined : r.firstIndex === 0 ? ZERO_HASH : leafHash(input.before as Uint8Array);
  let lastReceivedAt = beforeRec?.receivedAt ?? '';
  let chunk: Uint8Array[] = [];
  let chunkIndexes: number[] = [];
  let chunkSize = 0;
  /** Upper bound of the inclusion member's size for the records in `chunk` (filtered mode). */
  let inclusionSize = 0;
  let chunkNo = 0;
  const flush = async function* (): AsyncGenerator<Uint8Array> {
    if (chunk.length === 0) return;
    if (chunkNo >= MAX_CHUNKS) invalid('too many records chunks');
    const body = new Uint8Array(chunkSize);
    let o = 0;
    for (const line of chunk) {
      body.set(line, o);
      o += line.length;
      body[o++] = 0x0a;
    }
    yield* member(recordsPath(chunkNo), body);
    if (filter !== null) {
      let text = '';
      for (const index of chunkIndexes)
        text += encodeInclusionLine({ index, hashes: await input.getInclusionProof(index, n) });
      yield* member(inclusionPath(chunkNo), utf8(text));
    }
    chunkNo++;
    chunk = [];
    chunkIndexes = [];
    chunkSize = 0;
    inclusionSize = 0;
  };
  for await (const bytes of fromIterable(input.records)) {
    const rec = decodeRecordFast(bytes);
    const at = rec.index;
    if (rec.logId !== input.logId) invalid(`record ${at} is of log ${rec.logId}`, at);
    if (filter === null ? at !== expected : at < expected || at > r.lastIndex)
      invalid(`record ${at} is out of order or outside the interval (expected ${expected})`, at);
    if (rec.receivedAt < r.fromTime || rec.receivedAt >= r.toTime)
      invalid(`record ${at} is outside the time range`, at);
    if (rec.receivedAt < lastReceivedAt) invalid(`record ${at} goes back in time`, at);
    if (filter !== null && !filterMatches(filter, rec.event))
      invalid(`record ${at} does not match the filter (${describeFilter(filter)})`, at);
    const leaf = leafHash(bytes);
    if (filter === null) {
      if (rec.prev !== toBase64(prevLeaf as Uint8Array)) invalid(`record ${at}: prev breaks the chain`, at);
      prevLeaf = leaf;
    }
    lastReceivedAt = rec.receivedAt;
    expected = at + 1;
    // In filtered mode the inclusion member grows faster than the records
    // chunk when records are small and the tree deep (~47 bytes per proof
    // hash per record), so it bounds the chunk too: otherwise a 4 MiB chunk of
    // 300-byte records in a tree of 2^24 carries 16+ MiB of proofs, more than
    // the verifier reads (MAX_CHUNK_BYTES).
    const line = filter === null ? 0 : inclusionLineBound(at, n);
    if (chunk.length > 0 && (chunkSize + bytes.length + 1 > chunkBytes || inclusionSize + line > chunkBytes))
      yield* flush();
    chunk.push(bytes);
    chunkIndexes.push(at);
    chunkSize += bytes.length + 1;
    inclusionSize += line;
    count++;
    recordBytes += bytes.length;
  }
  yield* flush();
  if (filter === null) {
    if (expected !== r.lastIndex + 1) invalid(`records end at ${expected - 1}, range ends at ${r.lastIndex}`);
    if (afterRec && afterRec.prev !== toBase64(prevLeaf as Uint8Array))
      invalid('the after neighbour does not continue the chain');
  }

  yield* member(SUMS, formatSums(members));
  const manifest: BundleManifest = {
    ...header,
    counts: {
      records: count,
      recordBytes,
      checkpoints: checkpoints.length,
      anchors: anchors.length,
      members: members.length,
    },
    members: [...members],
  };
  const bytes = encodeManifest(manifest);
  yield tarHeader(MANIFEST, bytes.length, mtime);
  yield bytes;
  const pad = tarPadding(bytes.length);
  if (pad.length > 0) yield pad;
  yield tarEnd();
}

/**
 * attestations.json's entries (docs/bundle.md §attestations.json): every anchor, as an
 * `rfc3161` attestation naming its members, and every cosignature, in the order the verifier
 * requires (checkpoint, kind, party).
 */
function attestationsOf(
  anchors: readonly BundleAnchorInput[],
  cosignatures: readonly BundleCosignatureInput[],
  sizes: ReadonlySet<number>,
  rekorEntries: readonly BundleRekorInput[],
): BundleAttestation[] {
  const out: BundleAttestation[] = anchors.map((a) => ({
    kind: 'rfc3161',
    checkpoint: a.size,
    party: a.tsa,
    evidence: { response: anchorPath(a.size, a.tsa), chain: anchorChainPath(a.size, a.tsa) },
  }));
  const seen = new Set<string>();
  for (const c of cosignatures) {
    if (!sizes.has(c.size)) invalid(`cosignature over checkpoint ${c.size}, which is not in the bundle`);
    if (!isValidTsaName(c.witness))
      invalid(`invalid witness name ${JSON.stringify(c.witness)}: ${TSA_NAME_RULE}`);
    if (seen.has(`${c.size}/${c.witness}`))
      invalid(`two cosignatures by ${c.witness} over checkpoint ${c.size}`);
    seen.add(`${c.size}/${c.witness}`);
    if (!c.line.startsWith('\u2014 ') || /[\n\r]/.test(c.line))
      invalid(`the cosignature by ${c.witness} is not one signature line`);
    out.push({
      kind: 'witness-cosignature',
      checkpoint: c.size,
      party: c.witness,
      evidence: { line: c.line },
    });
  }
  for (const r of rekorEntries) {
    if (!sizes.has(r.size)) invalid(`Rekor entry over checkpoint ${r.size}, which is not in the bundle`);
    if (!isValidTsaName(r.party)) invalid(`invalid Rekor name ${JSON.stringify(r.party)}: ${TSA_NAME_RULE}`);
    if (seen.has(`rekor/${r.size}/${r.party}`))
      invalid(`two Rekor entries by ${r.party} over checkpoint ${r.size}`);
    seen.add(`rekor/${r.size}/${r.party}`);
    out.push({ kind: 'rekor', checkpoint: r.size, party: r.party, evidence: { entry: toBase64(r.entry) } });
  }
  const key = new Map(out.map((a) => [a, attestationOrderKey(a)]));
  return out.sort((a, b) => ((key.get(a) as string) < (key.get(b) as string) ? -1 : 1));
}

/** Collects a bundle stream into one byte array (tests, small exports). */
export async function bundleBytes(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const c of chunks) {
    parts.push(c);
    total += c.length;
  }
  // Not concatBytes(...parts): a bundle of many members is more parts than a call takes arguments.
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Bytes of `encodeInclusionLine` for leaf `index` of a tree of `size`, or a
 * little more: `{"index":<digits>,"hashes":[` + h quoted base64 hashes (46
 * bytes each) and their commas + `]}` + newline.
 */
function inclusionLineBound(index: number, size: number): number {
  return 23 + String(index).length + 47 * inclusionProofLength(index, size);
}
