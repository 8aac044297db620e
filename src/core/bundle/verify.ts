/**
 * Offline evidence-bundle verifier (docs/bundle.md §Verification order and errors). Pure: runs in the CLI and in
 * a browser; needs no network and trusts neither the log operator nor the
 * exporter — only the log keys and TSA roots the caller pins (or, flagged in
 * the report, the bundle's own copies).
 *
 * The archive is read as a stream, one member at a time (members are size
 * bounded, see format.ts), in the fixed order of the format, and each member
 * is checked as it passes by a small function that throws a BundleError:
 *
 *   header → keys → checkpoints (signatures) → consistency → anchors (RFC 3161)
 *   → attestations (version 2: every attestation by kind, witness cosignatures) → proofs (neighbours, range proof setup) → records (canonical, chain, range,
 *   filter, time-stamp order, inclusion) → SHA256SUMS → manifest (member hashes,
 *   counts, claims)
 *
 * State kept across members is O(log n) for a contiguous range (a compact
 * range of the leaves) plus one chunk's leaf hashes in filtered mode. The
 * first failure in stream order is reported.
 */

import { AttestationError, verifyAttestation } from '../attestation/index.ts';
import { bytesEqual, fromBase64, fromUtf8, toBase64, toHex, utf8 } from '../bytes.ts';
import { sha256 } from '../hash.ts';
import { CompactRange, MerkleError, verifyConsistency, verifyInclusion } from '../merkle/index.ts';
import { popcount } from '../merkle/numbers.ts';
import {
  isValidKeyName,
  NoteError,
  type NoteVerifier,
  parseVerifierKey,
  pemToSpki,
  type VerifiedCheckpoint,
  verifyLogCheckpoint,
  vkeyFromSpki,
} from '../note/index.ts';
import {
  decodeRecord,
  decodeRecordFast,
  type LogRecord,
  leafHash,
  RecordError,
  ZERO_HASH,
} from '../record.ts';
import { RekorError, type RekorTrust } from '../rekor/index.ts';
import { decodePemCertificates, TimestampError } from '../rfc3161/index.ts';
import { type Cosigner, checkCosigners, parseCosignerKey } from '../witness/cosignature.ts';
import type { ChunkCheck, ChunkChecker, ChunkParams, ChunkSummary } from './chunk.ts';
import { BundleError, type BundleErrorCode } from './errors.ts';
import {
  ATTESTATIONS,
  type BundleAttestation,
  type BundleFilter,
  type BundleHeader,
  type ConsistencyEntry,
  classifyPath,
  describeFilter,
  encodeManifest,
  filterMatches,
  formatSums,
  headerJson,
  MAX_ANCHORS,
  MAX_CHECKPOINTS,
  MAX_JSON_MEMBER,
  MAX_MEMBERS,
  type MemberEntry,
  type MemberKind,
  memberLimit,
  type NeighbourProof,
  parseAttestations,
  parseConsistency,
  parseHeader,
  parseInclusionLine,
  parseManifest,
  parseProofs,
  README as README_PATH,
} from './format.ts';
import { readTar, type TarMember } from './tar.ts';

/**
 * What the caller pins (TRUST.json, docs/bundle.md §Verifying). A pinned vkey
 * `<name>+<id>+<key>` means exactly: "this key signs the checkpoints of the
 * log whose origin is <name>", and of no other log.
 */
export interface BundleTrust {
  /** Pinned log verifier keys (C2SP vkeys). Absent: the bundle's keys/log.vkey is trusted (flagged). */
  readonly logKeys?: readonly string[];
  /**
   * The logs (checkpoint origins) the caller accepts. Absent: the names of
   * `logKeys`. Each must be the name of a pinned log key.
   */
  readonly origins?: readonly string[];
  /** Pinned TSA roots (DER). Absent: each chain.pem's last certificate is trusted (flagged). */
  readonly tsaRoots?: readonly Uint8Array[];
  /**
   * How many distinct TSAs (distinct roots) must have time-stamped a checkpoint
   * covering the records for "existed by" to be proved; it is then the k-th
   * earliest of their times. Default: min(2, distinct pinned roots), as the
   * deployment's `AnchorQuorum` defaults to min(2, TSAs); 1 without pinned roots.
   * At most the number of distinct pinned roots (else INVALID_TRUST).
   */
  readonly tsaQuorum?: number;
  /**
   * Pinned witness keys (C2SP cosignature/v1 vkeys, docs/witnessing.md). Cosignatures by other
   * keys are reported as unknown and never counted.
   */
  readonly witnesses?: readonly string[];
  /**
   * How many pinned witnesses must have cosigned one checkpoint covering the records
   * (WITNESS_QUORUM_NOT_MET otherwise). Default: min(2, pinned witnesses), as the deployment's
   * WitnessQuorum; 0 without pinned witnesses (nothing is required, cosignatures are not checked).
   * At most the number of pinned witnesses (else INVALID_TRUST).
   */
  readonly witnessQuorum?: number;
  /**
   * Pinned Rekor trust (docs/anchoring.md §Rekor): the Rekor v2 log keys (C2SP vkeys) and the
   * deployment's Rekor anchor keys (DER SPKI, P-256). Absent: Rekor entries are reported as
   * `unknown-rekor` and not judged; present: every Rekor entry must verify (REKOR_ENTRY_INVALID).
   */
  readonly rekor?: { readonly logKeys: readonly string[]; readonly anchorKeys: readonly Uint8Array[] };
}

/** How to verify; the verdict (report or BundleError code, index, member) is the same for every choice. */
export interface VerifyOptions {
  /**
   * Decode every record with the reference parser (decodeRecord: strict I-JSON
   * parse, shape, canonical re-serialisation) instead of the fast path
   * (decodeRecordFast, record.ts). The reference, kept for tests and comparison.
   */
  readonly strict?: boolean;
  /**
   * Check range-mode records chunks through this checker (e.g. a worker pool)
   * while the archive is read on; the verifier joins the results in stream
   * order at the seams (chunk.ts). Ignored with `strict` and for filtered bundles.
   */
  readonly checkChunk?: ChunkChecker;
  /** Most records chunks checked at once (default 3): with the 16 MiB member limit, the memory they hold. */
  readonly maxChunksInFlight?: number;
  /**
   * Allocates the buffer each member is read into (default: a plain
   * Uint8Array). The CLI passes shared memory, so a worker thread reads a
   * records chunk without a copy; nothing writes a member after it is read.
   */
  readonly allocate?: (size: number) => Uint8Array;
  /**
   * Sees every member's path and bytes as it is read, before it is checked
   * (e.g. the CLI counts signed records in the same read instead of a second
   * one). It must not keep or change `data`; what it throws is ignored, so it
   * cannot change a verdict. Members of a bundle that fails were seen too:
   * use what it gathered only when verification succeeds.
   */
  readonly onMember?: (path: string, data: Uint8Array) => void;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A records chunk handed to the checker, waiting to be joined in stream order. */
interface InFlight {
  readonly data: Uint8Array;
  readonly path: string;
  readonly entry: { path: string; size: number; sha256: string };
  readonly result: Promise<ChunkCheck | undefined>;
}

/**
 * The most of a token's own `accuracy` the verifier credits when it checks that
 * the token is not older than the records it covers (docs/bundle.md
 * §Time-stamps). RFC 3161 leaves accuracy unbounded; without a cap a TSA could
 * claim "±3 months" and date a checkpoint before the records it contains.
 */
export const MAX_CREDITED_ACCURACY_MS = 60_000;

export interface AnchorReport {
  readonly checkpointSize: number;
  /** TSA name from the member path. */
  readonly tsa: string;
  /** TSTInfo.tsa or the signer subject. */
  readonly tsaName: string;
  readonly genTime: string;
  /** TSTInfo.accuracy in milliseconds (micros rounded up); null when the token states none. */
  readonly accuracyMs: number | null;
  /**
   * The latest moment the token allows: genTime + accuracy, + 999 ms when
   * genTime is a whole second (it may be truncated). What "existed by" means.
   */
  readonly existedBy: string;
  /** Lowercase hex SHA-256 of the root certificate (DER) the token chains to: one TSA per root. */
  readonly tsaRoot: string;
  readonly serialNumber: string;
  /** Records of the bundle this time-stamp covers (index < checkpoint size). */
  readonly coversThroughIndex: number | null;
}

/** One attestation of the bundle, as judged (docs/bundle.md §attestations.json). */
export interface AttestationReport {
  readonly kind: 'rfc3161' | 'witness-cosignature' | 'rekor';
  readonly checkpointSize: number;
  readonly party: string;
  /**
   * 'verified': checked against pinned trust (or, for RFC 3161 without pinned roots, the
   * bundle's own chain: `trustedBundleTsaRoots`). 'unknown-witness': a cosignature by a key
   * that is not pinned, ignored (never counted). 'unknown-rekor': a Rekor entry while no Rekor
   * trust is pinned, read but not judged.
   */
  readonly status: 'verified' | 'unknown-witness' | 'unknown-rekor';
  /**
   * Who: the TSA root (hex SHA-256), the witness key `<name>+<keyid hex>`, or the Rekor log
   * `<origin>#<log index>` (for `unknown-rekor`, the origin its checkpoint claims).
   */
  readonly by: string;
  /** The time the attestation states: genTime, or the cosignature's timestamp (ISO 8601); '' for Rekor v2 (none). */
  readonly time: string;
}

export interface BundleReport {
  readonly ok: true;
  readonly format: number;
  readonly logId: string;
  readonly origin: string;
  readonly createdAt: string;
  readonly mode: 'range' | 'filtered';
  /** The recorded filter (actionPrefix, actorId or both; both = AND), null in range mode. */
  readonly filter: BundleFilter | null;
  /** The filter in words, e.g. `action prefix "access." and actor "u-1"`; null in range mode. */
  readonly filterText: string | null;
  /** What was proved, in words. */
  readonly proved: readonly string[];
  /** Declared range; in range mode it is exactly what was proved. */
  readonly range: {
    readonly fromTime: string;
    readonly toTime: string;
    readonly firstIndex: number;
    readonly lastIndex: number;
  };
  readonly records: {
    readonly count: number;
    readonly bytes: number;
    readonly firstReceivedAt: string | null;
    readonly lastReceivedAt: string | null;
  };
  /**
   * Range mode: how each end of the range is closed. 'record' = the neighbour
   * record is included and outside the time range; 'log-start' = the range
   * starts at index 0; 'checkpoint-end' = the range ends at the checkpoint's
   * last leaf, so records appended after that checkpoint are not covered.
   * `proved` is true iff every record of the declared time range is proved
   * present: range mode with both ends closed (`end` is not 'checkpoint-end').
   */
  readonly completeness: {
    readonly proved: boolean;
    readonly start: 'record' | 'log-start' | null;
    readonly end: 'record' | 'checkpoint-end' | null;
  };
  readonly checkpoint: {
    readonly size: number;
    readonly rootHash: string;
    readonly signedBy: readonly string[];
  };
  readonly checkpoints: readonly { readonly size: number; readonly rootHash: string }[];
  readonly anchors: readonly AnchorReport[];
  /**
   * The time claim: `distinctTsas` TSAs (distinct roots) time-stamped a
   * checkpoint covering the range; `existedBy` is the `quorum`-th earliest of
   * their times (each TSA's earliest `existedBy`), so no fewer than `quorum`
   * TSAs vouch that the records existed by then.
   */
  readonly timeStamps: {
    readonly quorum: number;
    readonly distinctTsas: number;
    readonly existedBy: string;
  };
  /** Every attestation of the bundle, in attestations.json order (version 1: the RFC 3161 anchors). */
  readonly attestations: readonly AttestationReport[];
  /**
   * The witness claim: `quorum` of `pinned` witnesses required; `checkpointSize` is the covering
   * checkpoint with the most pinned cosignatures (`cosigned`, by `by`), null when none has any.
   */
  readonly witnesses: {
    readonly pinned: number;
    readonly quorum: number;
    readonly checkpointSize: number | null;
    readonly cosigned: number;
    readonly by: readonly string[];
  };
  /** The log key(s) came from the bundle itself, not from the caller. */
  readonly trustedBundleKeys: boolean;
  /** The TSA roots came from the bundle's chain files, not from the caller. */
  readonly trustedBundleTsaRoots: boolean;
  /**
   * README.txt differs from its SHA256SUMS / manifest entry. README.txt is
   * informative and never trusted: this is reported (also in `warnings`) and
   * changes nothing else in the report.
   */
  readonly readmeAltered: boolean;
  readonly warnings: readonly string[];
}

type Input = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

function fail(
  code: BundleErrorCode,
  message: string,
  details: { index?: number; member?: string; cause?: unknown } = {},
): never {
  throw new BundleError(code, message, details);
}

const why = (e: unknown): string =>
  e instanceof Error
    ? `${'code' in e ? `${String((e as { code: unknown }).code)}: ` : ''}${e.message}`
    : String(e);

async function* toStream(input: Input): AsyncGenerator<Uint8Array> {
  if (input instanceof Uint8Array) {
    yield input;
    return;
  }
  for await (const c of input) yield c;
}

// Phases of the fixed member order (format.ts).
const PHASE: Record<MemberKind['kind'], number> = {
  readme: 0,
  header: 1,
  vkey: 2,
  pem: 3,
  checkpoint: 4,
  consistency: 5,
  anchor: 6,
  'anchor-chain': 6,
  // Between the anchors it indexes and the proofs; version 2 only (checked in #enter / finish).
  attestations: 6.5,
  proofs: 7,
  records: 8,
  inclusion: 8,
  sums: 9,
  manifest: 10,
};
const REQUIRED: ReadonlyArray<[number, string]> = [
  [0, 'README.txt'],
  [1, 'header.json'],
  [2, 'keys/log.vkey'],
  [3, 'keys/log.pem'],
  [4, 'checkpoints/<size>.note'],
  [5, 'consistency.json'],
  [7, 'proofs.json'],
  [9, 'SHA256SUMS'],
  [10, 'manifest.json'],
];

interface CheckpointState {
  readonly size: number;
  readonly root: Uint8Array;
  readonly bytes: Uint8Array;
  readonly signedBy: string[];
}

interface AnchorState {
  readonly size: number;
  readonly tsa: string;
  readonly tsaName: string;
  readonly genTime: string;
  readonly genTimeMs: number;
  readonly accuracyMs: number | null;
  /** The latest time an honest TSA may have issued it, crediting at most MAX_CREDITED_ACCURACY_MS. */
  readonly plausibleMs: number;
  /** genTime + the full accuracy + truncation: the latest moment the token allows. */
  readonly existedByMs: number;
  readonly tsaRoot: string;
  readonly serialNumber: string;
  coversThrough: number | null;
}

/** ECMAScript's largest time value (8.64e15 ms, year 275760). */
const MAX_DATE_MS = 8.64e15;

type Accuracy = { seconds: number; millis: number; micros: number };

const accuracyMs = (acc: Accuracy): number => acc.seconds * 1000 + acc.millis + Math.ceil(acc.micros / 1000);

/** RFC 3161 lets a TSA omit fractions of a second: a whole-second genTime may be up to 999 ms early. */
const truncationMs = (genTimeMs: number): number => (genTimeMs % 1000 === 0 ? 999 : 0);

/**
 * Distinct certificates by their DER bytes. A verifier's unit of "one TSA" is
 * the root its tokens chain to: two signer certificates under one root are one
 * authority, which could also issue itself any number of them.
 */
const certId = (der: Uint8Array): string => toHex(sha256(der));

function witnessQuorumOf(trust: BundleTrust, pinned: number): number {
  const k = trust.witnessQuorum;
  if (k === undefined) return Math.min(2, pinned);
  if (!Number.isSafeInteger(k) || k < 0)
    fail('INVALID_TRUST', `witnessQuorum ${String(k)} is not a non-negative integer`);
  if (k > pinned)
    fail('INVALID_TRUST', `witnessQuorum ${k} can never be met: only ${pinned} witness key(s) are pinned`);
  return k;
}

function quorumOf(trust: BundleTrust): number {
  const pinned = trust.tsaRoots ? new Set(trust.tsaRoots.map(certId)).size : undefined;
  const k = trust.tsaQuorum;
  if (k === undefined) return pinned === undefined ? 1 : Math.min(2, pinned);
  if (!Number.isSafeInteger(k) || k < 1)
    fail('INVALID_TRUST', `tsaQuorum ${String(k)} is not a positive integer`);
  if (pinned !== undefined && k > pinned)
    fail('INVALID_TRUST', `tsaQuorum ${k} can never be met: only ${pinned} distinct TSA root(s) are pinned`);
  return k;
}

class Verifier {
  readonly #trust: BundleTrust;
  #phase = -1;
  readonly #seen = new Set<number>();
  readonly #members: { path: string; size: number; sha256: string }[] = [];
  readonly #paths = new Set<string>();
  #header: BundleHeader | undefined;
  #bundleVkey = '';
  #verifiers: NoteVerifier[] = [];
  readonly #checkpoints = new Map<number, CheckpointState>();
  #lastCheckpointSize = -1;
  readonly #anchors: AnchorState[] = [];
  #pendingTsr: { size: number; tsa: string; data: Uint8Array; path: string } | undefined;
  #lastAnchorKey = '';
  readonly #attestations: AttestationReport[] = [];
  /** Per checkpoint size: the pinned witnesses (`name+keyid`) whose cosignature verified. */
  readonly #cosigned = new Map<number, Set<string>>();
  /** Parsed pinned witness keys (empty when none are pinned). */
  readonly #witnesses: readonly Cosigner[];
  /** Pinned Rekor trust, parsed; undefined when none is pinned. */
  readonly #rekor: RekorTrust | undefined;
  /** Pinned witnesses that must have cosigned a covering checkpoint. */
  readonly #witnessQuorum: number;
  // proofs / records state
  #proofsSeen = false;
  #cp: CheckpointState | undefined;
  #range: CompactRange | undefined;
  #consistency: readonly Uint8Array[] = [];
  #after: { rec: LogRecord; bytes: Uint8Array } | undefined;
  #before: LogRecord | undefined;
  #expected = 0;
  #prevLeaf: Uint8Array | undefined;
  #prevIndex = -1;
  #lastReceivedAt = '';
  #count = 0;
  #recordBytes = 0;
  #firstReceivedAt: string | null = null;
  #chunkNo = 0;
  #pending: { index: number; leaf: Uint8Array }[] | undefined;
  #recordsDone = false;
  readonly warnings: string[] = [];
  trustedBundleKeys = false;
  trustedBundleTsaRoots = false;
  /** README.txt differs from its SHA256SUMS / manifest entry (reported; never part of the verdict). */
  readmeAltered = false;

  /** Parsed pinned log keys; undefined when none are pinned. */
  readonly #pinnedKeys: readonly NoteVerifier[] | undefined;
  /** Origins the caller accepts; undefined when nothing is pinned. */
  readonly #pinnedOrigins: readonly string[] | undefined;
  /** Distinct TSAs needed for the "existed by" claim. */
  readonly #quorum: number;

  readonly #strict: boolean;
  readonly #checkChunk: ChunkChecker | undefined;
  readonly #maxInFlight: number;
  readonly #inFlight: InFlight[] = [];

  constructor(trust: BundleTrust, options: VerifyOptions = {}) {
    this.#trust = trust;
    this.#strict = options.strict === true;
    this.#checkChunk = this.#strict ? undefined : options.checkChunk;
    this.#maxInFlight = Math.max(1, options.maxChunksInFlight ?? 3);
    this.#pinnedKeys = trust.logKeys?.map((k) => {
      try {
        return parseVerifierKey(k);
      } catch (e) {
        return fail('INVALID_TRUST', `pinned log key ${JSON.stringify(k.slice(0, 40))}: ${why(e)}`, {
          cause: e,
        });
      }
    });
    const named = this.#pinnedKeys?.map((v) => v.name);
    for (const o of trust.origins ?? []) {
      if (!isValidKeyName(o)) fail('INVALID_TRUST', `pinned origin ${JSON.stringify(o)} is not a key name`);
      // An origin no pinned key is named after could never verify: a mistake, not a policy.
      if (named && !named.includes(o))
        fail('INVALID_TRUST', `pinned origin ${JSON.stringify(o)} has no pinned log key named after it`);
    }
    this.#pinnedOrigins = trust.origins ?? named;
    this.#quorum = quorumOf(trust);
    this.#witnesses = (trust.witnesses ?? []).map((k) => {
      try {
        return parseCosignerKey(k);
      } catch (e) {
        return fail('INVALID_TRUST', `pinned witness key ${JSON.stringify(k.slice(0, 40))}: ${why(e)}`, {
          cause: e,
        });
      }
    });
    try {
      checkCosigners(this.#witnesses);
    } catch (e) {
      fail('INVALID_TRUST', `pinned witnesses: ${why(e)}`, { cause: e });
    }
    this.#witnessQuorum = witnessQuorumOf(trust, this.#witnesses.length);
    if (trust.rekor !== undefined) {
      const logKeys = trust.rekor.logKeys.map((k) => {
        try {
          return parseVerifierKey(k);
        } catch (e) {
          return fail('INVALID_TRUST', `pinned Rekor key ${JSON.stringify(k.slice(0, 40))}: ${why(e)}`, {
            cause: e,
          });
        }
      });
      if (logKeys.length === 0 || trust.rekor.anchorKeys.length === 0)
        fail('INVALID_TRUST', 'pinned Rekor trust needs at least one log key and one anchor key');
      this.#rekor = { logKeys, anchorKeys: trust.rekor.anchorKeys };
    }
  }

  get header(): BundleHeader {
    return this.#header as BundleHeader;
  }

  // ---- ordering ----

  #memberCount = 0;

  /** Refuses the member beyond MAX_MEMBERS: no manifest could list them all (format.ts). */
  #countMember(path: string): void {
    if (++this.#memberCount > MAX_MEMBERS)
      fail(
        'ARCHIVE_INVALID',
        `more than ${MAX_MEMBERS} members: more than manifest.json can list within its ${MAX_JSON_MEMBER} bytes`,
        { member: path },
      );
  }

  #enter(kind: MemberKind, path: string): void {
    const phase = PHASE[kind.kind];
    if (phase < this.#phase || (phase === this.#phase && ![4, 6, 8].includes(phase)))
      fail('UNEXPECTED_MEMBER', `${path} is out of order or repeated`, { member: path });
    if (this.#paths.has(path)) fail('UNEXPECTED_MEMBER', `${path} appears twice`, { member: path });
    for (const [p, name] of REQUIRED)
      if (p < phase && !this.#seen.has(p))
        fail('MISSING_MEMBER', `${name} is missing (before ${path})`, { member: name });
    if (this.#pendingTsr && kind.kind !== 'anchor-chain') this.#missingChain();
    if (kind.kind === 'attestations' && this.#header?.version === 1)
      fail('UNEXPECTED_MEMBER', `${path} is not a member of a version 1 bundle`, { member: path });
    if (phase > PHASE.attestations && this.#header?.version !== 1 && !this.#seen.has(PHASE.attestations))
      fail('MISSING_MEMBER', `${ATTESTATIONS} is missing (before ${path})`, { member: ATTESTATIONS });
    if (this.#pending && kind.kind !== 'inclusion')
      fail('MISSING_MEMBER', `inclusion proofs for records chunk ${this.#chunkNo} are missing`, {
        member: path,
      });
    if (phase > 8 && !this.#recordsDone) this.#finishRecords();
    this.#phase = phase;
    this.#seen.add(phase);
  }

  #missingChain(): never {
    const t = this.#pendingTsr as { size: number; tsa: string };
    return fail('MISSING_MEMBER', `anchors/${t.size}/${t.tsa}.chain.pem is missing`, {
      member: `anchors/${t.size}/${t.tsa}.chain.pem`,
    });
  }

  async member(path: string, data: Uint8Array): Promise<void> {
    const kind = classifyPath(path);
    if (kind?.kind === 'records' && this.#checkChunk && this.#header?.filter === null)
      return this.#dispatch(kind.chunk, data, path);
    // Every other member is checked after the records chunks before it (stream order).
    await this.#drain(0);
    this.#countMember(path);
    if (!kind) fail('UNEXPECTED_MEMBER', `${JSON.stringify(path)} is not a bundle member`, { member: path });
    this.#enter(kind, path);
    this.#paths.add(path);
    if (kind.kind !== 'manifest')
      this.#members.push({ path, size: data.length, sha256: toHex(sha256(data)) });
    switch (kind.kind) {
      case 'readme':
        // Informative only (docs/bundle.md §README.txt): never read, never trusted. Its
        // bytes are still hashed above so that a change can be reported against SHA256SUMS.
        return;
      case 'header':
        this.#header = parseHeader(data);
        return this.#checkOrigin();
      case 'vkey':
        return this.#vkey(data);
      case 'pem':
        return this.#pem(data);
      case 'checkpoint':
        return this.#checkpoint(kind.size, data, path);
      case 'consistency':
        return this.#consistencyMember(data);
      case 'anchor':
        return this.#anchor(kind.size, kind.tsa, data, path);
      case 'anchor-chain':
        return this.#anchorChain(kind.size, kind.tsa, data, path);
      case 'attestations':
        return this.#attestationsMember(data);
      case 'proofs':
        return this.#proofs(data);
      case 'records':
        return this.#records(kind.chunk, data, path);
      case 'inclusion':
        return this.#inclusion(kind.chunk, data, path);
      case 'sums':
        return this.#sums(data);
      case 'manifest':
        return this.#manifest(data);
    }
  }

  // ---- keys ----

  /**
   * The bundle names its own log; with pinned trust that claim must be one of
   * the pinned logs, or a bundle of log B would be checked against B's origin
   * while the caller believes it holds log A.
   */
  #checkOrigin(): void {
    const origins = this.#pinnedOrigins;
    if (origins !== undefined && !origins.includes(this.header.origin))
      fail(
        'ORIGIN_NOT_PINNED',
        `the bundle is of log ${JSON.stringify(this.header.origin)}, which is not pinned (pinned: ${origins.map((o) => JSON.stringify(o)).join(', ')})`,
        { member: 'header.json' },
      );
  }

  #vkey(data: Uint8Array): void {
    let text: string;
    try {
      text = fromUtf8(data);
    } catch (e) {
      fail('KEY_INVALID', 'keys/log.vkey is not UTF-8', { member: 'keys/log.vkey', cause: e });
    }
    if (!text.endsWith('\n') || text.slice(0, -1).includes('\n'))
      fail('KEY_INVALID', 'keys/log.vkey must be one line', { member: 'keys/log.vkey' });
    const vkey = text.slice(0, -1);
    let v: NoteVerifier;
    try {
      v = parseVerifierKey(vkey);
    } catch (e) {
      fail('KEY_INVALID', `keys/log.vkey: ${why(e)}`, { member: 'keys/log.vkey', cause: e });
    }
    if (v.name !== this.header.origin)
      fail('KEY_INVALID', 'keys/log.vkey is not named after the origin', { member: 'keys/log.vkey' });
    this.#bundleVkey = vkey;
    const pinned = this.#trust.logKeys;
    if (!pinned || !this.#pinnedKeys) {
      this.trustedBundleKeys = true;
      this.#verifiers = [v];
      this.warnings.push('the log key was taken from the bundle itself (keys/log.vkey): pin it with --trust');
    } else {
      // Only the keys pinned for this log count (the origin was checked against the pinned ones).
      this.#verifiers = this.#pinnedKeys.filter((k) => k.name === this.header.origin);
      if (!pinned.includes(vkey))
        this.warnings.push(
          'keys/log.vkey is not one of the pinned log keys (checkpoints were checked against the pinned keys)',
        );
    }
  }

  #pem(data: Uint8Array): void {
    let same = false;
    try {
      same = vkeyFromSpki(this.header.origin, pemToSpki(fromUtf8(data))) === this.#bundleVkey;
    } catch (e) {
      fail('KEY_INVALID', `keys/log.pem: ${why(e)}`, { member: 'keys/log.pem', cause: e });
    }
    if (!same)
      fail('KEY_INVALID', 'keys/log.pem is not the key of keys/log.vkey', { member: 'keys/log.pem' });
  }

  // ---- checkpoints ----

  #checkpoint(size: number, data: Uint8Array, path: string): void {
    if (size <= this.#lastCheckpointSize)
      fail('UNEXPECTED_MEMBER', `${path} is out of order`, { member: path });
    if (this.#checkpoints.size >= MAX_CHECKPOINTS)
      fail('UNEXPECTED_MEMBER', 'too many checkpoints', { member: path });
    this.#lastCheckpointSize = size;
    let cp: VerifiedCheckpoint;
    try {
      cp = verifyLogCheckpoint(data, this.#verifiers, { origin: this.header.origin });
    } catch (e) {
      if (e instanceof NoteError) {
        const code: BundleErrorCode =
          e.code === 'NO_TRUSTED_SIGNATURE' || e.code === 'ORIGIN_MISMATCH' || e.code === 'KEY_NAME_MISMATCH'
            ? 'UNTRUSTED_KEY'
            : 'CHECKPOINT_SIGNATURE_INVALID';
        fail(code, `${path}: ${e.code}: ${e.message}`, { member: path, cause: e });
      }
      throw e;
    }
    if (cp.size !== size)
      fail('MANIFEST_INVALID', `${path} holds a checkpoint of size ${cp.size}`, { member: path });
    this.#checkpoints.set(size, {
      size,
      root: cp.rootHash,
      bytes: data,
      signedBy: cp.verifiedBy.map((v) => `${v.name}+${toHex(v.keyId)}`),
    });
  }

  #consistencyMember(data: Uint8Array): void {
    const entries = parseConsistency(data);
    const sizes = [...this.#checkpoints.keys()];
    const used = new Set<ConsistencyEntry>();
    for (let i = 1; i < sizes.length; i++) {
      const a = this.#checkpoints.get(sizes[i - 1] as number) as CheckpointState;
      const b = this.#checkpoints.get(sizes[i] as number) as CheckpointState;
      if (a.size === 0) continue; // the empty tree is a prefix of every tree
      const e = entries.find((x) => x.from === a.size && x.to === b.size);
      if (!e)
        fail('CONSISTENCY_FAILED', `no consistency proof from checkpoint ${a.size} to ${b.size}`, {
          member: 'consistency.json',
        });
      used.add(e);
      try {
        verifyConsistency(a.size, b.size, e.hashes, a.root, b.root);
      } catch (err) {
        fail('CONSISTENCY_FAILED', `checkpoints ${a.size} and ${b.size} are not consistent: ${why(err)}`, {
          member: 'consistency.json',
          cause: err,
        });
      }
    }
    if (used.size !== entries.length)
      fail(
        'MANIFEST_INVALID',
        'consistency.json has proofs between checkpoints that are not consecutive in the bundle',
        {
          member: 'consistency.json',
        },
      );
  }

  // ---- anchors ----

  #anchor(size: number, tsa: string, data: Uint8Array, path: string): void {
    const key = `${String(size).padStart(16, '0')}/${tsa}`;
    if (key <= this.#lastAnchorKey) fail('UNEXPECTED_MEMBER', `${path} is out of order`, { member: path });
    if (this.#anchors.length >= MAX_ANCHORS) fail('UNEXPECTED_MEMBER', 'too many anchors', { member: path });
    this.#lastAnchorKey = key;
    if (!this.#checkpoints.has(size))
      fail('MISSING_MEMBER', `${path} time-stamps checkpoints/${size}.note, which is not in the bundle`, {
        member: path,
      });
    this.#pendingTsr = { size, tsa, data, path };
  }

  async #anchorChain(size: number, tsa: string, data: Uint8Array, path: string): Promise<void> {
    const t = this.#pendingTsr;
    if (!t || t.size !== size || t.tsa !== tsa)
      fail('MISSING_MEMBER', `anchors/${size}/${tsa}.tsr is missing for ${path}`, {
        member: `anchors/${size}/${tsa}.tsr`,
      });
    this.#pendingTsr = undefined;
    let chain: Uint8Array[];
    try {
      chain = decodePemCertificates(fromUtf8(data));
    } catch (e) {
      fail('TIMESTAMP_INVALID', `${path}: ${why(e)}`, { member: path, cause: e });
    }
    let roots = this.#trust.tsaRoots;
    if (roots === undefined) {
      const last = chain[chain.length - 1];
      if (!last) fail('TIMESTAMP_INVALID', `${path} holds no certificate`, { member: path });
      roots = [last];
      if (!this.trustedBundleTsaRoots)
        this.warnings.push(
          'TSA roots were taken from the bundle itself (anchors/*.chain.pem): pin them with --trust',
        );
      this.trustedBundleTsaRoots = true;
    }
    const cp = this.#checkpoints.get(size) as CheckpointState;
    try {
      // SHA-256 or stronger only, with no way to relax it: a bundle is evidence, not a legacy token.
      const verdict = await verifyAttestation(
        { kind: 'rfc3161', checkpoint: size, party: tsa, evidence: { response: t.data, chain } },
        cp.bytes,
        { tsaRoots: roots },
      );
      if (verdict.kind !== 'rfc3161') throw new Error('rfc3161 attestation judged as another kind');
      const v = verdict.timestamp;
      const acc = v.accuracy ? accuracyMs(v.accuracy) : null;
      const root = verdict.root;
      this.#anchors.push({
        size,
        tsa,
        tsaName: v.tsaName ?? v.signerSubject,
        genTime: v.genTime,
        genTimeMs: v.genTimeMs,
        accuracyMs: acc,
        plausibleMs: v.genTimeMs + Math.min(acc ?? 0, MAX_CREDITED_ACCURACY_MS) + truncationMs(v.genTimeMs),
        // Clamped to the last instant a Date can show: an absurd accuracy makes a weak claim, not a crash.
        existedByMs: Math.min(MAX_DATE_MS, v.genTimeMs + (acc ?? 0) + truncationMs(v.genTimeMs)),
        tsaRoot: certId(root),
        serialNumber: v.serialNumber,
        coversThrough: null,
      });
    } catch (err) {
      // The dispatcher wraps the kind's own error; the verdict codes follow the TimestampError.
      const e = err instanceof AttestationError && err.cause instanceof TimestampError ? err.cause : err;
      if (e instanceof TimestampError && e.code === 'INVALID_ARGUMENT' && this.#trust.tsaRoots !== undefined)
        fail('INVALID_TRUST', `pinned TSA roots: ${e.message}`, { cause: e });
      if (e instanceof TimestampError && e.code === 'WEAK_HASH')
        fail('TIMESTAMP_WEAK_HASH', `${t.path}: ${e.message}`, { member: t.path, cause: e });
      if (e instanceof TimestampError)
        fail('TIMESTAMP_INVALID', `${t.path}: ${e.code}: ${e.message}`, { member: t.path, cause: e });
      throw e;
    }
  }

  /**
   * attestations.json (version 2): every attestation of the bundle, by kind. The `rfc3161`
   * entries index the anchors already verified above and must name exactly them, in order;
   * each `witness-cosignature` is judged by the attestation dispatcher against the pinned
   * witnesses: a line by a pinned witness that does not verify over its checkpoint is
   * COSIGNATURE_INVALID (never skipped), a line by any other key is reported and not counted.
   */
  async #attestationsMember(data: Uint8Array): Promise<void> {
    const entries = parseAttestations(data);
    const tokens = entries.filter((a) => a.kind === 'rfc3161');
    const same =
      tokens.length === this.#anchors.length &&
      tokens.every((a, i) => a.checkpoint === this.#anchors[i]?.size && a.party === this.#anchors[i]?.tsa);
    if (!same)
      fail('MANIFEST_INVALID', `${ATTESTATIONS}: its rfc3161 entries are not exactly the anchors/ members`, {
        member: ATTESTATIONS,
      });
    let token = 0;
    for (const a of entries) {
      if (a.kind === 'rfc3161') {
        const s = this.#anchors[token++] as AnchorState;
        this.#attestations.push({
          kind: 'rfc3161',
          checkpointSize: s.size,
          party: s.tsa,
          status: 'verified',
          by: s.tsaRoot,
          time: s.genTime,
        });
        continue;
      }
      if (a.kind === 'rekor') {
        await this.#rekorAttestation(a);
        continue;
      }
      const cp = this.#checkpoints.get(a.checkpoint);
      if (!cp)
        fail(
          'MISSING_MEMBER',
          `${ATTESTATIONS}: the cosignature by ${a.party} is over checkpoints/${a.checkpoint}.note, which is not in the bundle`,
          { member: ATTESTATIONS },
        );
      let verdict: Awaited<ReturnType<typeof verifyAttestation>>;
      try {
        verdict = await verifyAttestation(a, cp.bytes, { witnesses: this.#witnesses });
      } catch (e) {
        if (e instanceof AttestationError)
          fail(
            'COSIGNATURE_INVALID',
            `${ATTESTATIONS}: ${a.party} over checkpoint ${a.checkpoint}: ${e.message}`,
            {
              member: ATTESTATIONS,
              cause: e,
            },
          );
        throw e;
      }
      if (verdict.kind !== 'witness-cosignature') throw new Error('cosignature judged as another kind');
      if (verdict.status === 'unknown-party') {
        this.#attestations.push({
          kind: a.kind,
          checkpointSize: a.checkpoint,
          party: a.party,
          status: 'unknown-witness',
          by: `${verdict.name}+${verdict.keyId}`,
          time: '',
        });
        continue;
      }
      const id = `${verdict.witness.name}+${toHex(verdict.witness.keyId)}`;
      const set = this.#cosigned.get(a.checkpoint) ?? new Set<string>();
      // One witness counts once per checkpoint, however many lines (under however many party names) it has.
      if (set.has(id))
        fail(
          'MANIFEST_INVALID',
          `${ATTESTATIONS}: two cosignatures by ${id} over checkpoint ${a.checkpoint}`,
          {
            member: ATTESTATIONS,
          },
        );
      set.add(id);
      this.#cosigned.set(a.checkpoint, set);
      this.#attestations.push({
        kind: a.kind,
        checkpointSize: a.checkpoint,
        party: a.party,
        status: 'verified',
        by: id,
        time: iso(Math.min(MAX_DATE_MS, verdict.timestamp * 1000)),
      });
    }
  }

  /**
   * A Rekor entry (docs/anchoring.md §Rekor): judged by the attestation dispatcher against the
   * pinned Rekor trust — every binding must hold (REKOR_ENTRY_INVALID) — or, with none pinned,
   * reported as `unknown-rekor` and not judged.
   */
  async #rekorAttestation(a: Extract<BundleAttestation, { kind: 'rekor' }>): Promise<void> {
    const cp = this.#checkpoints.get(a.checkpoint);
    if (!cp)
      fail(
        'MISSING_MEMBER',
        `${ATTESTATIONS}: the Rekor entry by ${a.party} is over checkpoints/${a.checkpoint}.note, which is not in the bundle`,
        { member: ATTESTATIONS },
      );
    let verdict: Awaited<ReturnType<typeof verifyAttestation>>;
    try {
      verdict = await verifyAttestation(
        {
          kind: 'rekor',
          checkpoint: a.checkpoint,
          party: a.party,
          evidence: { entry: fromBase64(a.evidence.entry) },
        },
        cp.bytes,
        this.#rekor ? { rekor: this.#rekor } : {},
      );
    } catch (e) {
      if (e instanceof AttestationError) {
        const code = e.cause instanceof RekorError ? e.cause.code : e.code;
        fail(
          'REKOR_ENTRY_INVALID',
          `${ATTESTATIONS}: ${a.party} over checkpoint ${a.checkpoint}: ${code}: ${e.message}`,
          {
            member: ATTESTATIONS,
            cause: e,
          },
        );
      }
      throw e;
    }
    if (verdict.kind !== 'rekor') throw new Error('Rekor entry judged as another kind');
    this.#attestations.push({
      kind: 'rekor',
      checkpointSize: a.checkpoint,
      party: a.party,
      status: verdict.status === 'verified' ? 'verified' : 'unknown-rekor',
      by: verdict.status === 'verified' ? `${verdict.entry.origin}#${verdict.entry.logIndex}` : verdict.name,
      time: '',
    });
  }

  /**
   * The witness claim: the covering checkpoint (size > lastIndex) with the most pinned
   * cosignatures. Any covering checkpoint will do: the consistency proofs tie every checkpoint
   * of the bundle into one history, so a witnessed checkpoint past the records fixes them.
   */
  #witnessClaim(lastIndex: number): BundleReport['witnesses'] {
    let best: { size: number; by: string[] } | undefined;
    for (const [size, set] of this.#cosigned) {
      if (size <= lastIndex || size === 0) continue;
      if (!best || set.size > best.by.length || (set.size === best.by.length && size > best.size))
        best = { size, by: [...set].sort() };
    }
    const cosigned = best?.by.length ?? 0;
    if (cosigned < this.#witnessQuorum)
      fail(
        'WITNESS_QUORUM_NOT_MET',
        `${this.#witnessQuorum} of the ${this.#witnesses.length} pinned witnesses must have cosigned a checkpoint covering the records; ` +
          (best ? `at most ${cosigned} did (checkpoint ${best.size})` : 'none did'),
        { member: ATTESTATIONS },
      );
    return {
      pinned: this.#witnesses.length,
      quorum: this.#witnessQuorum,
      checkpointSize: best?.size ?? null,
      cosigned,
      by: best?.by ?? [],
    };
  }

  /**
   * Every verified time-stamp over a checkpoint that contains record `index`
   * must be no earlier than its receivedAt: the checkpoint cannot be stamped
   * before it existed. Only MAX_CREDITED_ACCURACY_MS of a token's accuracy
   * counts, whatever it claims.
   */
  #checkTimestamps(index: number, receivedAt: string): void {
    const at = Date.parse(receivedAt);
    for (const a of this.#anchors) {
      if (index >= a.size) continue;
      if (a.plausibleMs < at)
        fail(
          'TIMESTAMP_BEFORE_RECORDS',
          `record ${index} was received at ${receivedAt}, after the time-stamp by ${a.tsa} (genTime ${a.genTime}${a.accuracyMs === null ? '' : `, accuracy ${a.accuracyMs} ms of which at most ${MAX_CREDITED_ACCURACY_MS} ms count`}) over checkpoint ${a.size}`,
          { index, member: `anchors/${a.size}/${a.tsa}.tsr` },
        );
      if (a.coversThrough === null || index > a.coversThrough) a.coversThrough = index;
    }
  }

  // ---- proofs and records ----

  #neighbour(
    p: NeighbourProof | null,
    index: number,
    which: 'before' | 'after',
  ): { rec: LogRecord; bytes: Uint8Array } | undefined {
    const h = this.header;
    const cp = this.#cp as CheckpointState;
    const needed = which === 'before' ? h.range.firstIndex > 0 : h.range.lastIndex + 1 < cp.size;
    if (p === null) {
      if (needed)
        fail(
          'RANGE_INCOMPLETE',
          `proofs.json lacks record ${index}, which must show the range ${which === 'before' ? 'starts' : 'ends'} where it claims`,
          {
            index,
            member: 'proofs.json',
          },
        );
      return undefined;
    }
    if (!needed)
      fail('MANIFEST_INVALID', `proofs.json: unexpected ${which} neighbour`, { member: 'proofs.json' });
    if (p.index !== index)
      fail('RANGE_INCOMPLETE', `proofs.json: the ${which} neighbour is record ${p.index}, not ${index}`, {
        index,
        member: 'proofs.json',
      });
    const bytes = utf8(p.record);
    const rec = this.#decode(bytes, index, 'proofs.json');
    if (rec.index !== index)
      fail('RANGE_INCOMPLETE', `proofs.json: the ${which} neighbour says it is record ${rec.index}`, {
        index,
        member: 'proofs.json',
      });
    if (which === 'before' && !(rec.receivedAt < h.range.fromTime))
      fail(
        'RANGE_INCOMPLETE',
        `record ${index} (received ${rec.receivedAt}) is inside the range but not in the bundle`,
        { index },
      );
    if (which === 'after' && !(rec.receivedAt >= h.range.toTime))
      fail(
        'RANGE_INCOMPLETE',
        `record ${index} (received ${rec.receivedAt}) is inside the range but not in the bundle`,
        { index },
      );
    try {
      verifyInclusion(leafHash(bytes), index, cp.size, p.inclusion, cp.root);
    } catch (e) {
      fail('INCLUSION_FAILED', `record ${index} is not included in checkpoint ${cp.size}: ${why(e)}`, {
        index,
        cause: e,
      });
    }
    this.#checkTimestamps(index, rec.receivedAt);
    return { rec, bytes };
  }

  #decode(bytes: Uint8Array, index: number, member: string): LogRecord {
    let rec: LogRecord;
    try {
      rec = this.#strict ? decodeRecord(bytes) : decodeRecordFast(bytes);
    } catch (e) {
      if (e instanceof RecordError)
        fail('RECORD_INVALID', `record ${index}: ${e.code}: ${e.message}`, { index, member, cause: e });
      throw e;
    }
    if (rec.logId !== this.header.logId)
      fail('RECORD_INVALID', `record ${rec.index} belongs to log ${rec.logId}`, { index: rec.index, member });
    return rec;
  }

  #proofs(data: Uint8Array): void {
    const h = this.header;
    const p = parseProofs(data);
    if (p.checkpoint !== h.checkpoint)
      fail(
        'MANIFEST_INVALID',
        `proofs.json uses checkpoint ${p.checkpoint}, header.json says ${h.checkpoint}`,
        { member: 'proofs.json' },
      );
    const cp = this.#checkpoints.get(h.checkpoint);
    if (!cp)
      fail('MISSING_MEMBER', `checkpoints/${h.checkpoint}.note is missing`, {
        member: `checkpoints/${h.checkpoint}.note`,
      });
    this.#cp = cp;
    if (h.range.lastIndex >= cp.size)
      fail(
        'CHECKPOINT_STALE',
        `checkpoint ${cp.size} is older than the records (range ends at index ${h.range.lastIndex})`,
        {
          index: h.range.lastIndex,
        },
      );
    this.#proofsSeen = true;
    this.#expected = h.range.firstIndex;
    if (h.filter !== null) {
      if (p.left.length > 0 || p.consistency.length > 0 || p.before !== null || p.after !== null)
        fail('MANIFEST_INVALID', 'proofs.json of a filtered bundle must hold no range proof', {
          member: 'proofs.json',
        });
      return;
    }
    const before = this.#neighbour(p.before, h.range.firstIndex - 1, 'before');
    this.#after = this.#neighbour(p.after, h.range.lastIndex + 1, 'after');
    this.#before = before?.rec;
    this.#prevLeaf = before ? leafHash(before.bytes) : ZERO_HASH;
    this.#lastReceivedAt = before?.rec.receivedAt ?? '';
    if (p.left.length !== popcount(h.range.firstIndex))
      fail(
        'INCLUSION_FAILED',
        `range proof: left edge has ${p.left.length} hashes, index ${h.range.firstIndex} needs ${popcount(h.range.firstIndex)}`,
        {
          member: 'proofs.json',
        },
      );
    this.#range = CompactRange.fromParts(h.range.firstIndex, p.left);
    this.#consistency = p.consistency;
  }

  /** The checks of a records member that come before its records. */
  #recordsPrecheck(chunk: number, data: Uint8Array, path: string): void {
    if (!this.#proofsSeen) fail('MISSING_MEMBER', 'proofs.json is missing', { member: 'proofs.json' });
    if (chunk !== this.#chunkNo || this.#pending)
      fail('UNEXPECTED_MEMBER', `${path} is out of order (expected records chunk ${this.#chunkNo})`, {
        member: path,
      });
    if (data.length === 0 || data[data.length - 1] !== 0x0a)
      fail('RECORD_INVALID', `${path} does not end with a newline`, { member: path, index: this.#expected });
  }

  #records(chunk: number, data: Uint8Array, path: string): void {
    this.#recordsPrecheck(chunk, data, path);
    const filtered = this.header.filter !== null;
    if (filtered) this.#pending = [];
    this.#recordLines(data, path);
    if (!filtered) this.#chunkNo++;
  }

  /** The sequential reference: every record of a chunk, in order. */
  #recordLines(data: Uint8Array, path: string): void {
    // Lines are visited, never collected: a 16 MiB member of newlines is 16 M lines (docs/bundle.md §Memory).
    for (const line of linesOf(data)) this.#record(line.bytes, path, data, line.next);
  }

  // ---- parallel records chunks (range mode; chunk.ts states what a check proves) ----

  /**
   * A range-mode records member, checked by #checkChunk while the archive is
   * read on. Everything the sequential code checks before the records
   * (#enter, #recordsPrecheck) is checked here, in the same order; if one of
   * those fails, the chunks already in flight are joined first, so an earlier
   * record's failure is still the one reported (stream order).
   */
  async #dispatch(chunk: number, data: Uint8Array, path: string): Promise<void> {
    const kind: MemberKind = { kind: 'records', chunk };
    try {
      this.#countMember(path);
      this.#enter(kind, path);
      this.#recordsPrecheck(chunk, data, path);
    } catch (e) {
      await this.#drain(0);
      throw e;
    }
    this.#paths.add(path);
    // Its SHA-256 is filled in when the chunk is joined (the checker hashes it where it runs).
    const entry = { path, size: data.length, sha256: '' };
    this.#members.push(entry);
    this.#chunkNo++;
    const checker = this.#checkChunk as ChunkChecker;
    const result = checker(data, this.#chunkParams()).then(
      (r) => r,
      () => undefined,
    );
    this.#inFlight.push({ data, path, entry, result });
    await this.#drain(this.#maxInFlight - 1);
  }

  #chunkParams(): ChunkParams {
    const h = this.header;
    return {
      logId: h.logId,
      fromTime: h.range.fromTime,
      toTime: h.range.toTime,
      lastIndex: h.range.lastIndex,
      anchors: this.#anchors.map((a) => ({ size: a.size, plausibleMs: a.plausibleMs })),
    };
  }

  /** Joins in-flight chunks, oldest first, until at most `keep` remain. */
  async #drain(keep: number): Promise<void> {
    while (this.#inFlight.length > keep) {
      const job = this.#inFlight.shift() as InFlight;
      const r = await job.result;
      job.entry.sha256 = r && SHA256_HEX.test(r.sha256) ? r.sha256 : toHex(sha256(job.data));
      if (r?.ok && this.#seamHolds(r)) this.#join(r);
      // Not proved by the checker, or the seam fails: the reference names the failure (or passes).
      else this.#recordLines(job.data, job.path);
    }
  }

  /** The three facts a chunk check leaves to the verifier (chunk.ts). */
  #seamHolds(r: ChunkSummary): boolean {
    return (
      r.firstIndex === this.#expected &&
      r.firstPrev === toBase64(this.#prevLeaf as Uint8Array) &&
      r.firstReceivedAt >= this.#lastReceivedAt
    );
  }

  /** Folds a proved chunk into the state exactly as #record would have, record by record. */
  #join(r: ChunkSummary): void {
    for (const a of this.#anchors) {
      if (r.firstIndex >= a.size) continue;
      const covered = Math.min(a.size - 1, r.lastIndex);
      if (a.coversThrough === null || covered > a.coversThrough) a.coversThrough = covered;
    }
    (this.#range as CompactRange).appendPacked(r.leaves);
    this.#prevLeaf = r.leaves.slice(r.leaves.length - 32);
    this.#prevIndex = r.lastIndex;
    this.#expected = r.lastIndex + 1;
    this.#lastReceivedAt = r.lastReceivedAt;
    this.#firstReceivedAt ??= r.firstReceivedAt;
    this.#count += r.count;
    this.#recordBytes += r.bytes;
  }

  /** Waits for whatever is in flight (after a failure), so no checker work outlives the call. */
  async settle(): Promise<void> {
    const jobs = this.#inFlight.splice(0);
    await Promise.all(jobs.map((j) => j.result));
  }

  /** `data` and `next`: the chunk and where the line after this one starts (to look ahead on a gap). */
  #record(bytes: Uint8Array, path: string, data: Uint8Array, next: number): void {
    const h = this.header;
    const filtered = h.filter !== null;
    const expected = this.#expected;
    const rec = this.#decode(bytes, expected, path);
    const at = rec.index;
    if (!filtered) {
      if (at < expected)
        fail('CHAIN_BROKEN', `record ${at} is duplicated or out of order (expected ${expected})`, {
          index: at,
          member: path,
        });
      if (at > expected) {
        // Out of order (the expected record comes later in this chunk) or missing?
        let later = false;
        for (const l of linesOf(data, next)) {
          try {
            later = decodeRecord(l.bytes).index === expected;
          } catch {
            later = false;
          }
          if (later) break;
        }
        if (later)
          fail('CHAIN_BROKEN', `records are out of order: ${at} comes before ${expected}`, {
            index: expected,
            member: path,
          });
        fail('RANGE_INCOMPLETE', `record ${expected} is missing (found ${at} in its place)`, {
          index: expected,
          member: path,
        });
      }
      if (at > h.range.lastIndex)
        fail(
          'RANGE_MISMATCH',
          `record ${at} is beyond the declared range (last index ${h.range.lastIndex})`,
          { index: at, member: path },
        );
      if (rec.prev !== toBase64(this.#prevLeaf as Uint8Array))
        fail('CHAIN_BROKEN', `record ${at}: prev is not the leaf hash of record ${at - 1}`, {
          index: at,
          member: path,
        });
    } else {
      if (at <= this.#prevIndex)
        fail('CHAIN_BROKEN', `record ${at} is duplicated or out of order`, { index: at, member: path });
      if (at < h.range.firstIndex || at > h.range.lastIndex)
        fail('RANGE_MISMATCH', `record ${at} is outside the declared index interval`, {
          index: at,
          member: path,
        });
      if (at === this.#prevIndex + 1 && this.#prevLeaf && rec.prev !== toBase64(this.#prevLeaf))
        fail('CHAIN_BROKEN', `record ${at}: prev is not the leaf hash of record ${at - 1}`, {
          index: at,
          member: path,
        });
      const filter = h.filter as BundleFilter;
      if (!filterMatches(filter, rec.event))
        fail(
          'RANGE_MISMATCH',
          `record ${at} (action ${rec.event.action}, actor ${JSON.stringify(rec.event.actor.id)}) does not match the filter (${describeFilter(filter)})`,
          {
            index: at,
            member: path,
          },
        );
    }
    if (rec.receivedAt < this.#lastReceivedAt)
      fail('CHAIN_BROKEN', `record ${at} goes back in time (${rec.receivedAt} < ${this.#lastReceivedAt})`, {
        index: at,
        member: path,
      });
    if (rec.receivedAt < h.range.fromTime || rec.receivedAt >= h.range.toTime)
      fail(
        'RANGE_MISMATCH',
        `record ${at} (received ${rec.receivedAt}) is outside [${h.range.fromTime}, ${h.range.toTime})`,
        {
          index: at,
          member: path,
        },
      );
    this.#checkTimestamps(at, rec.receivedAt);
    const leaf = leafHash(bytes);
    if (filtered) this.#pending?.push({ index: at, leaf });
    else this.#range?.append(leaf);
    this.#prevLeaf = leaf;
    this.#prevIndex = at;
    this.#expected = at + 1;
    this.#lastReceivedAt = rec.receivedAt;
    this.#firstReceivedAt ??= rec.receivedAt;
    this.#count++;
    this.#recordBytes += bytes.length;
  }

  #inclusion(chunk: number, data: Uint8Array, path: string): void {
    const pending = this.#pending;
    if (this.header.filter === null || !pending || chunk !== this.#chunkNo)
      fail('UNEXPECTED_MEMBER', `${path} is not expected here`, { member: path });
    const cp = this.#cp as CheckpointState;
    if (!endsWithNewline(data) || countLines(data) !== pending.length)
      fail(
        'MANIFEST_INVALID',
        `${path} must have one line per record of ${path.replace('inclusion', 'records')}`,
        { member: path },
      );
    let i = 0;
    for (const { bytes: line } of linesOf(data)) {
      const want = pending[i] as { index: number; leaf: Uint8Array };
      const l = parseInclusionLine(path, line, i + 1);
      if (l.index !== want.index)
        fail('INCLUSION_FAILED', `${path} line ${i + 1} proves index ${l.index}, not record ${want.index}`, {
          index: want.index,
          member: path,
        });
      try {
        verifyInclusion(want.leaf, want.index, cp.size, l.hashes, cp.root);
      } catch (e) {
        fail('INCLUSION_FAILED', `record ${want.index} is not included in checkpoint ${cp.size}: ${why(e)}`, {
          index: want.index,
          member: path,
          cause: e,
        });
      }
      i++;
    }
    this.#pending = undefined;
    this.#chunkNo++;
  }

  /** End of the records: completeness and the range proof (range mode). */
  #finishRecords(): void {
    this.#recordsDone = true;
    const h = this.header;
    if (h.filter !== null) return;
    const cp = this.#cp as CheckpointState;
    const end = h.range.lastIndex + 1;
    if (this.#expected !== end)
      fail(
        'RANGE_INCOMPLETE',
        `records ${this.#expected}..${h.range.lastIndex} are missing (the bundle ends at ${this.#expected - 1})`,
        {
          index: this.#expected,
        },
      );
    if (this.#after && this.#after.rec.prev !== toBase64(this.#prevLeaf as Uint8Array))
      fail('CHAIN_BROKEN', `record ${end}: prev is not the leaf hash of record ${end - 1}`, { index: end });
    const range = this.#range as CompactRange;
    try {
      if (end === cp.size) {
        if (this.#consistency.length > 0)
          throw new MerkleError('BAD_PROOF_SIZE', 'range ends at the checkpoint: no proof expected');
        if (!bytesEqual(range.root(), cp.root))
          throw new MerkleError('ROOT_MISMATCH', 'range does not reproduce the checkpoint root');
      } else if (end === 0) {
        if (this.#consistency.length > 0)
          throw new MerkleError('BAD_PROOF_SIZE', 'empty prefix: no proof expected');
      } else {
        verifyConsistency(end, cp.size, this.#consistency, range.root(), cp.root);
      }
    } catch (e) {
      fail(
        'INCLUSION_FAILED',
        `records ${h.range.firstIndex}..${h.range.lastIndex} are not the leaves of checkpoint ${cp.size} at those indexes: ${why(e)}`,
        {
          index: h.range.firstIndex,
          cause: e,
        },
      );
    }
  }

  // ---- trailer ----

  /** Reports (once) that README.txt was changed after export; the verdict does not depend on it. */
  #readmeAltered(): void {
    if (this.readmeAltered) return;
    this.readmeAltered = true;
    this.warnings.push(
      'README.txt does not match its SHA256SUMS/manifest entry: it was changed after export. It is informative only; the verifier does not read it and the verdict does not depend on it',
    );
  }

  /**
   * The members as SHA256SUMS should list them, except that README.txt's
   * listed hash is taken as given (a different one is reported, not refused):
   * its entry must still be there, first, with that path.
   */
  #expectedSums(data: Uint8Array): MemberEntry[] {
    const members = this.#members.slice(0, -1);
    const first = members[0];
    const listed = /^([0-9a-f]{64}) {2}README\.txt\n/.exec(fromUtf8Safe(data.subarray(0, 80)));
    if (first?.path !== README_PATH || !listed || listed[1] === first.sha256) return members;
    this.#readmeAltered();
    return [{ ...first, sha256: listed[1] as string }, ...members.slice(1)];
  }

  #sums(data: Uint8Array): void {
    const want = formatSums(this.#expectedSums(data));
    if (!bytesEqual(want, data)) {
      // The first differing line (as splitting both texts on newlines would find it), one line at a time.
      const got = segments(data);
      let line = '';
      for (const l of segments(want)) {
        const g = got.next();
        if (g.done || g.value !== l) {
          line = l;
          break;
        }
      }
      const path = line.split('  ')[1] ?? 'SHA256SUMS';
      fail('MEMBER_HASH_MISMATCH', `SHA256SUMS does not match the members (first difference: ${path})`, {
        member: path,
      });
    }
  }

  #manifest(data: Uint8Array): void {
    const m = parseManifest(data);
    const h = this.header;
    // manifest.json is covered by no hash: accept only the exact bytes the writer produces.
    if (!bytesEqual(encodeManifest(m), data))
      fail('MANIFEST_INVALID', 'manifest.json is not in the canonical layout', { member: 'manifest.json' });
    const { members: _m, counts: _c, ...claims } = m;
    if (JSON.stringify(headerJson(claims).range) !== JSON.stringify(headerJson(h).range))
      fail('RANGE_MISMATCH', 'manifest.json and header.json declare different ranges', {
        member: 'manifest.json',
      });
    if (JSON.stringify(headerJson(claims)) !== JSON.stringify(headerJson(h)))
      fail('MANIFEST_INVALID', 'manifest.json and header.json disagree', { member: 'manifest.json' });
    const actual = new Map(this.#members.map((e) => [e.path, e]));
    const listed = new Set<string>();
    for (const e of m.members) {
      if (listed.has(e.path))
        fail('MANIFEST_INVALID', `manifest lists ${e.path} twice`, { member: 'manifest.json' });
      listed.add(e.path);
      const a = actual.get(e.path);
      if (!a)
        fail('MISSING_MEMBER', `${e.path} is listed in the manifest but not in the bundle`, {
          member: e.path,
        });
      const differs = a.size !== e.size || a.sha256 !== e.sha256;
      if (differs && e.path === README_PATH) this.#readmeAltered();
      else if (differs)
        fail('MEMBER_HASH_MISMATCH', `${e.path}: SHA-256 ${a.sha256} does not match the manifest`, {
          member: e.path,
        });
    }
    for (const a of this.#members)
      if (!listed.has(a.path))
        fail('UNEXPECTED_MEMBER', `${a.path} is not listed in the manifest`, { member: a.path });
    const c = m.counts;
    const real = {
      records: this.#count,
      recordBytes: this.#recordBytes,
      checkpoints: this.#checkpoints.size,
      anchors: this.#anchors.length,
      members: this.#members.length,
    };
    for (const k of Object.keys(real) as (keyof typeof real)[])
      if (c[k] !== real[k])
        fail('COUNT_MISMATCH', `manifest counts.${k} is ${c[k]}, the bundle has ${real[k]}`, {
          member: 'manifest.json',
        });
  }

  // ---- end ----

  /**
   * The "existed by" claim over the covering tokens: each distinct TSA (root)
   * votes with its earliest existedBy, and the claim is the quorum-th earliest
   * vote, i.e. the first moment by which `quorum` independent TSAs all say the
   * records existed. One TSA alone can move it only within the others' times.
   */
  #existedBy(covering: readonly AnchorState[]): { kth: AnchorState; distinct: number } {
    const vote = new Map<string, AnchorState>();
    for (const a of covering) {
      const v = vote.get(a.tsaRoot);
      if (!v || a.existedByMs < v.existedByMs) vote.set(a.tsaRoot, a);
    }
    const votes = [...vote.values()].sort((a, b) => a.existedByMs - b.existedByMs);
    const kth = votes[this.#quorum - 1];
    if (!kth)
      fail(
        'TIMESTAMP_QUORUM_NOT_MET',
        `the time-stamps covering the range come from ${votes.length} distinct TSA(s) (${votes.map((v) => v.tsa).join(', ')}); the quorum is ${this.#quorum}`,
      );
    return { kth, distinct: votes.length };
  }

  /** End of the archive: joins the records chunks still in flight (stream order). */
  async endOfArchive(): Promise<void> {
    await this.#drain(0);
  }

  finish(): BundleReport {
    if (this.#pendingTsr) this.#missingChain();
    for (const [p, name] of REQUIRED)
      if (!this.#seen.has(p)) fail('MISSING_MEMBER', `${name} is missing`, { member: name });
    const h = this.header;
    if (h.version !== 1 && !this.#seen.has(PHASE.attestations))
      fail('MISSING_MEMBER', `${ATTESTATIONS} is missing`, { member: ATTESTATIONS });
    const cp = this.#cp as CheckpointState;
    const covering = this.#anchors.filter((a) => a.size > h.range.lastIndex && a.size > 0);
    if (covering.length === 0)
      fail(
        'TIMESTAMP_MISSING',
        `no verified time-stamp covers the range (a checkpoint of size > ${h.range.lastIndex})`,
        {
          index: h.range.lastIndex >= h.range.firstIndex ? h.range.lastIndex : undefined,
        } as { index?: number },
      );
    const range = h.filter === null;
    const start = range ? (h.range.firstIndex === 0 ? 'log-start' : 'record') : null;
    const end = range ? (this.#after ? 'record' : 'checkpoint-end') : null;
    if (end === 'checkpoint-end')
      this.warnings.push(
        `the range ends at the last leaf of checkpoint ${cp.size}: records appended after that checkpoint with receivedAt < ${h.range.toTime} are not covered`,
      );
    if (!range)
      this.warnings.push(
        `filtered export: each record is proved included, but NOT that every record matching ${describeFilter(h.filter as BundleFilter)} is present`,
      );
    const claim = this.#existedBy(covering);
    const witnessed = this.#witnessClaim(h.range.lastIndex);
    const proved: string[] = [];
    const idx =
      h.range.lastIndex >= h.range.firstIndex
        ? `indexes ${h.range.firstIndex}..${h.range.lastIndex}`
        : `no index (empty range at ${h.range.firstIndex})`;
    if (range) {
      proved.push(
        `complete: ${this.#count} record(s), ${idx}, are every record of log ${h.logId} with ${h.range.fromTime} <= receivedAt < ${h.range.toTime}` +
          (end === 'checkpoint-end' ? ` up to checkpoint ${cp.size}` : ''),
      );
      proved.push(
        `chained: each record's prev is the leaf hash of the one before${this.#before ? ` (from record ${h.range.firstIndex - 1})` : ''}`,
      );
    } else {
      proved.push(
        `included: ${this.#count} record(s) with ${describeFilter(h.filter as BundleFilter)} in ${idx}, each with an inclusion proof`,
      );
    }
    proved.push(
      `included in checkpoint ${cp.size} signed by ${cp.signedBy.join(', ')}${this.trustedBundleKeys ? ' (key from the bundle)' : ' (pinned key)'}`,
    );
    proved.push(`consistent: ${this.#checkpoints.size} checkpoint(s) form one append-only history`);
    const k = claim.kth;
    proved.push(
      `existed by ${iso(k.existedByMs)}: ${this.#quorum} of ${claim.distinct} distinct TSA(s) time-stamped a checkpoint covering the range by then (quorum ${this.#quorum}); ` +
        `the last of them: ${k.tsaName} (${k.tsa}) over checkpoint ${k.size}, genTime ${k.genTime}` +
        (k.accuracyMs === null ? '' : ` ± ${k.accuracyMs} ms`) +
        (this.trustedBundleTsaRoots ? ' (TSA roots from the bundle)' : ' (pinned TSA roots)'),
    );
    if (witnessed.checkpointSize !== null)
      proved.push(
        `witnessed: ${witnessed.cosigned} of ${witnessed.pinned} pinned witness(es) cosigned checkpoint ${witnessed.checkpointSize}, which covers the range (quorum ${witnessed.quorum}): ${witnessed.by.join(', ')}`,
      );
    return {
      ok: true,
      format: h.version,
      logId: h.logId,
      origin: h.origin,
      createdAt: h.createdAt,
      mode: range ? 'range' : 'filtered',
      filter: h.filter,
      filterText: h.filter === null ? null : describeFilter(h.filter),
      proved,
      range: { ...h.range },
      records: {
        count: this.#count,
        bytes: this.#recordBytes,
        firstReceivedAt: this.#firstReceivedAt,
        lastReceivedAt: this.#count > 0 ? this.#lastReceivedAt : null,
      },
      completeness: { proved: range && end === 'record', start, end },
      checkpoint: { size: cp.size, rootHash: toBase64(cp.root), signedBy: cp.signedBy },
      checkpoints: [...this.#checkpoints.values()].map((c) => ({ size: c.size, rootHash: toBase64(c.root) })),
      anchors: this.#anchors.map((a) => ({
        checkpointSize: a.size,
        tsa: a.tsa,
        tsaName: a.tsaName,
        genTime: a.genTime,
        accuracyMs: a.accuracyMs,
        existedBy: iso(a.existedByMs),
        tsaRoot: a.tsaRoot,
        serialNumber: a.serialNumber,
        coversThroughIndex: a.coversThrough,
      })),
      timeStamps: {
        quorum: this.#quorum,
        distinctTsas: claim.distinct,
        existedBy: iso(claim.kth.existedByMs),
      },
      attestations:
        h.version === 1
          ? this.#anchors.map((a) => ({
              kind: 'rfc3161' as const,
              checkpointSize: a.size,
              party: a.tsa,
              status: 'verified' as const,
              by: a.tsaRoot,
              time: a.genTime,
            }))
          : this.#attestations,
      witnesses: witnessed,
      trustedBundleKeys: this.trustedBundleKeys,
      trustedBundleTsaRoots: this.trustedBundleTsaRoots,
      readmeAltered: this.readmeAltered,
      warnings: this.warnings,
    };
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

function fromUtf8Safe(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

/**
 * Verifies an evidence bundle (bytes, or a stream of chunks) against pinned
 * trust. Resolves with a report of what was proved; rejects only with
 * BundleError naming the failing check (code), record (index) and member.
 */
export async function verifyBundle(
  input: Input,
  trust: BundleTrust = {},
  options: VerifyOptions = {},
): Promise<BundleReport> {
  const v = new Verifier(trust, options);
  try {
    const members = readTar(toStream(input), memberLimit, options.allocate);
    for (;;) {
      let next: IteratorResult<TarMember>;
      try {
        next = await members.next();
      } catch (e) {
        // A sequential verifier had checked every member before this archive error: so do we.
        await v.endOfArchive();
        throw e;
      }
      if (next.done) break;
      if (options.onMember) {
        try {
          options.onMember(next.value.path, next.value.data);
        } catch {
          // An observer, not a check (VerifyOptions.onMember).
        }
      }
      await v.member(next.value.path, next.value.data);
    }
    // Records chunks still in flight are joined before the final checks.
    await v.endOfArchive();
    return v.finish();
  } catch (e) {
    await v.settle();
    if (e instanceof BundleError) throw e;
    // Anything else on hostile input is still a refusal with a code, never a crash.
    throw new BundleError('ARCHIVE_INVALID', `bundle could not be processed: ${why(e)}`, { cause: e });
  }
}

/**
 * The newline-terminated lines of a records.jsonl / inclusion.jsonl member
 * from byte `from` on, each with where the next one starts. A generator, so a
 * member of millions of tiny lines costs no memory per line; bytes after the
 * last newline are not a line (callers check endsWithNewline: a truncated
 * final line is an error for every member, never silently dropped).
 */
function* linesOf(data: Uint8Array, from = 0): Generator<{ bytes: Uint8Array; next: number }> {
  let start = from;
  for (;;) {
    const nl = data.indexOf(0x0a, start);
    if (nl < 0) return;
    yield { bytes: data.subarray(start, nl), next: nl + 1 };
    start = nl + 1;
  }
}

/** The texts between newlines, the last one after the final newline included (as String.split gives them). */
function* segments(b: Uint8Array): Generator<string> {
  let start = 0;
  for (;;) {
    const nl = b.indexOf(0x0a, start);
    yield fromUtf8Safe(b.subarray(start, nl < 0 ? b.length : nl));
    if (nl < 0) return;
    start = nl + 1;
  }
}

const endsWithNewline = (data: Uint8Array): boolean => data.length === 0 || data[data.length - 1] === 0x0a;

function countLines(data: Uint8Array): number {
  let n = 0;
  for (let at = data.indexOf(0x0a); at >= 0; at = data.indexOf(0x0a, at + 1)) n++;
  return n;
}
