/**
 * The evidence-bundle format, version 2 (docs/bundle.md is the normative
 * text; keep the two in step). One uncompressed POSIX ustar archive whose
 * members appear in this fixed order:
 *
 *   README.txt                         how to check the parts by hand
 *   header.json                        what the bundle claims (known before streaming)
 *   keys/log.vkey, keys/log.pem        the log's verifier key (C2SP vkey, PEM SPKI)
 *   checkpoints/<size>.note            signed checkpoints, ascending size
 *   consistency.json                   consistency proofs between consecutive checkpoints
 *   anchors/<size>/<tsa>.tsr           RFC 3161 TimeStampResp over checkpoints/<size>.note
 *   anchors/<size>/<tsa>.chain.pem     the TSA chain (signer … root) as the log saw it
 *   attestations.json                  version 2: every attestation, by kind (RFC 3161, witness cosignatures, Rekor)
 *   proofs.json                        range proof + neighbour records (range mode)
 *   records/<nnnnnn>.jsonl             canonical records, one per line, index order
 *   inclusion/<nnnnnn>.jsonl           per-record inclusion proofs (filtered mode only)
 *   SHA256SUMS                         `sha256sum -c` list of every member above
 *   manifest.json                      header + counts + size and SHA-256 of every other member
 *
 * This module holds the constants, the member-path grammar and the strict
 * parsers for the JSON members; all input here is attacker-controlled.
 */
import { fromBase64, toBase64, utf8 } from '../bytes.ts';
import { parseUtcTimestamp } from '../event.ts';
import { CanonicalJsonError, isWellFormedUnicode, type JsonValue, parseJson } from '../ijson.ts';
import { isValidLogId, isValidTsaName, TSA_NAME_PATTERN } from '../names.ts';
import { MAX_RECORD_BYTES } from '../record.ts';
import { MAX_REKOR_ENTRY_BYTES } from '../rekor/entry.ts';
import { BundleError } from './errors.ts';

export const BUNDLE_FORMAT = 'anchorlog-evidence-bundle';
/** The version the writer writes. */
export const BUNDLE_VERSION = 2;
/**
 * Versions the verifier reads. Version 1 has no attestations.json (its only attestations are the
 * RFC 3161 anchors); everything else is identical (docs/bundle.md §Versions).
 */
export const BUNDLE_VERSIONS = [1, 2] as const;
export type BundleVersion = (typeof BUNDLE_VERSIONS)[number];

export const README = 'README.txt';
export const HEADER = 'header.json';
export const LOG_VKEY = 'keys/log.vkey';
export const LOG_PEM = 'keys/log.pem';
export const CONSISTENCY = 'consistency.json';
export const PROOFS = 'proofs.json';
export const ATTESTATIONS = 'attestations.json';
export const SUMS = 'SHA256SUMS';
export const MANIFEST = 'manifest.json';

export const checkpointPath = (size: number): string => `checkpoints/${size}.note`;
export const anchorPath = (size: number, tsa: string): string => `anchors/${size}/${tsa}.tsr`;
export const anchorChainPath = (size: number, tsa: string): string => `anchors/${size}/${tsa}.chain.pem`;
export const recordsPath = (chunk: number): string => `records/${String(chunk).padStart(6, '0')}.jsonl`;
export const inclusionPath = (chunk: number): string => `inclusion/${String(chunk).padStart(6, '0')}.jsonl`;

// Limits (hostile input): every member is read whole, so these bound memory.
export const KiB = 1024;
export const MiB = 1024 * KiB;
/** Writer's target size of a records chunk; a chunk always holds at least one record. */
export const DEFAULT_CHUNK_BYTES = 4 * MiB;
/** Largest records/inclusion chunk a verifier reads. */
export const MAX_CHUNK_BYTES = 16 * MiB;
export const MAX_SMALL_MEMBER = 64 * KiB;
export const MAX_NOTE_MEMBER = 64 * KiB;
export const MAX_JSON_MEMBER = 16 * MiB;
export const MAX_CHECKPOINTS = 1024;
export const MAX_ANCHORS = 1024;
export const MAX_CHUNKS = 999_999;
/**
 * Most members a bundle that verifies can have. manifest.json (at most
 * MAX_JSON_MEMBER bytes) lists every other member, and encodeManifest writes
 * each entry in at least 140 bytes (131 + the path, and no member path is
 * shorter than `README.txt`); so a bundle with more members must fail at its
 * manifest, and the verifier refuses it as soon as it has one member too many
 * rather than keep a record of each (docs/bundle.md §Memory).
 */
export const MAX_MEMBERS = Math.floor(MAX_JSON_MEMBER / 140) + 1;
/** Longest proof we accept: a tree of 2^53 leaves needs at most ~2×53 hashes. */
const MAX_PROOF_HASHES = 128;
/**
 * proofs.json at its largest: two neighbour records as JSON strings, each up
 * to MAX_RECORD_BYTES of canonical text that JSON escapes again (a record
 * full of `\"` or `\\` doubles: 2 × MAX_RECORD_BYTES), plus four hash arrays
 * of at most MAX_PROOF_HASHES pretty-printed hashes (≤ 56 bytes a line) and
 * the keys. Derived, not chosen: any record ingest accepted may be a
 * neighbour, so the verifier must read the largest proofs.json the writer can
 * produce.
 */
export const MAX_PROOFS_MEMBER = 2 * (2 * MAX_RECORD_BYTES + 2) + 4 * MAX_PROOF_HASHES * 56 + 4 * KiB;

const SIZE_TEXT = '(0|[1-9][0-9]{0,15})';

export type MemberKind =
  | {
      kind:
        | 'readme'
        | 'header'
        | 'vkey'
        | 'pem'
        | 'consistency'
        | 'attestations'
        | 'proofs'
        | 'sums'
        | 'manifest';
    }
  | { kind: 'checkpoint'; size: number }
  | { kind: 'anchor' | 'anchor-chain'; size: number; tsa: string }
  | { kind: 'records' | 'inclusion'; chunk: number };

const FIXED: Record<string, MemberKind> = {
  [README]: { kind: 'readme' },
  [HEADER]: { kind: 'header' },
  [LOG_VKEY]: { kind: 'vkey' },
  [LOG_PEM]: { kind: 'pem' },
  [CONSISTENCY]: { kind: 'consistency' },
  [PROOFS]: { kind: 'proofs' },
  [ATTESTATIONS]: { kind: 'attestations' },
  [SUMS]: { kind: 'sums' },
  [MANIFEST]: { kind: 'manifest' },
};
const CHECKPOINT_RE = new RegExp(`^checkpoints/${SIZE_TEXT}\\.note$`);
// TSA names may hold dots; `.tsr` and `.chain.pem` are not suffixes of each
// other, so each member path still has exactly one (name, kind) reading.
const ANCHOR_RE = new RegExp(`^anchors/${SIZE_TEXT}/(${TSA_NAME_PATTERN})\\.(tsr|chain\\.pem)$`);
const CHUNK_RE = /^(records|inclusion)\/([0-9]{6})\.jsonl$/;

/**
 * What a member path names, or undefined for any path outside the layout.
 * The grammar admits no `..`, no absolute path, no empty segment, so an
 * archive that passes cannot write outside the directory it is extracted to.
 */
export function classifyPath(path: string): MemberKind | undefined {
  if (Object.hasOwn(FIXED, path)) return FIXED[path];
  let m = CHECKPOINT_RE.exec(path);
  if (m) return { kind: 'checkpoint', size: Number(m[1]) };
  m = ANCHOR_RE.exec(path);
  if (m) return { kind: m[3] === 'tsr' ? 'anchor' : 'anchor-chain', size: Number(m[1]), tsa: m[2] as string };
  m = CHUNK_RE.exec(path);
  if (m) return { kind: m[1] === 'records' ? 'records' : 'inclusion', chunk: Number(m[2]) };
  return undefined;
}

/** Size limit for a member, by its path (called before its bytes are read). */
export function memberLimit(path: string): number {
  const k = classifyPath(path);
  if (!k) return MAX_SMALL_MEMBER;
  switch (k.kind) {
    case 'records':
    case 'inclusion':
      return MAX_CHUNK_BYTES;
    case 'checkpoint':
      return MAX_NOTE_MEMBER;
    case 'proofs':
    case 'attestations':
    case 'manifest':
    case 'consistency':
    case 'sums':
      return MAX_JSON_MEMBER;
    default:
      return MAX_SMALL_MEMBER;
  }
}

// ---- JSON members ----

/** Half-open time range [fromTime, toTime) and the inclusive index interval it maps to. */
export interface BundleRange {
  readonly fromTime: string;
  readonly toTime: string;
  /** First index of the interval. */
  readonly firstIndex: number;
  /** Last index (inclusive); firstIndex - 1 when the interval is empty. */
  readonly lastIndex: number;
}

/**
 * A filtered export's selection: at least one criterion; with both, a record
 * must match both. `actorId` was added in a backward-compatible way within
 * version 1 (an optional field): actionPrefix-only bundles are unchanged.
 */
export interface BundleFilter {
  /** Only records whose event.action starts with this prefix. */
  readonly actionPrefix?: string;
  /** Only records whose event.actor.id equals this id. */
  readonly actorId?: string;
}

// C0 controls and DEL: never in an actor id (they would forge lines in text reports).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_RE = /[\x00-\x1f\x7f]/;

/** Whether an event matches a filter (every given criterion holds). */
export function filterMatches(
  filter: BundleFilter,
  event: { readonly action: string; readonly actor: { readonly id: string } },
): boolean {
  if (filter.actionPrefix !== undefined && !event.action.startsWith(filter.actionPrefix)) return false;
  if (filter.actorId !== undefined && event.actor.id !== filter.actorId) return false;
  return true;
}

/** The filter in words, e.g. `action prefix "access." and actor "u-1"`. */
export function describeFilter(filter: BundleFilter): string {
  const parts: string[] = [];
  if (filter.actionPrefix !== undefined) parts.push(`action prefix ${JSON.stringify(filter.actionPrefix)}`);
  if (filter.actorId !== undefined) parts.push(`actor ${JSON.stringify(filter.actorId)}`);
  return parts.join(' and ');
}

/** Checks a filter's shape (at least one criterion, each well formed); returns a reason or null. */
export function filterProblem(filter: BundleFilter): string | null {
  const { actionPrefix: p, actorId: a } = filter;
  if (p === undefined && a === undefined) return 'filter must give actionPrefix, actorId or both';
  if (p !== undefined && (p.length > 128 || !/^[a-z][a-z0-9_.]*$/.test(p)))
    return 'filter.actionPrefix must look like an action prefix';
  if (a !== undefined && (a.length === 0 || a.length > 256 || !isWellFormedUnicode(a) || CONTROL_RE.test(a)))
    return 'filter.actorId must be a non-empty actor id of at most 256 characters without control characters';
  return null;
}

export type Completeness = 'range' | 'inclusion-only';

export interface BundleHeader {
  readonly format: typeof BUNDLE_FORMAT;
  /** The writer writes BUNDLE_VERSION; the verifier reads every BUNDLE_VERSIONS. */
  readonly version: BundleVersion;
  readonly logId: string;
  readonly origin: string;
  /** When the bundle was written (the exporter's clock; informative only). */
  readonly createdAt: string;
  readonly range: BundleRange;
  readonly filter: BundleFilter | null;
  /** 'range' iff filter is null. */
  readonly completeness: Completeness;
  /** Size of the checkpoint every proof in the bundle is relative to. */
  readonly checkpoint: number;
}

export interface MemberEntry {
  readonly path: string;
  readonly size: number;
  /** Lowercase hex SHA-256 of the member's bytes. */
  readonly sha256: string;
}

export interface BundleCounts {
  /** Records in records/*.jsonl (neighbours not included). */
  readonly records: number;
  /** Sum of their canonical byte lengths (newlines not included). */
  readonly recordBytes: number;
  readonly checkpoints: number;
  readonly anchors: number;
  /** Members listed in `members` (every member but manifest.json). */
  readonly members: number;
}

export interface BundleManifest extends BundleHeader {
  readonly counts: BundleCounts;
  readonly members: readonly MemberEntry[];
}

export interface NeighbourProof {
  readonly index: number;
  /** The record's canonical JSON text (its bytes are utf8 of this string). */
  readonly record: string;
  /** Inclusion proof of the record under the checkpoint, RFC 9162 §2.1.3 order. */
  readonly inclusion: readonly Uint8Array[];
}

export interface RangeProofs {
  readonly checkpoint: number;
  /** Compact range of [0, firstIndex): popcount(firstIndex) subtree roots, left to right. */
  readonly left: readonly Uint8Array[];
  /** Consistency proof from tree size lastIndex+1 to the checkpoint (RFC 9162 §2.1.4). */
  readonly consistency: readonly Uint8Array[];
  /** Record firstIndex-1; null iff firstIndex is 0 (or in filtered mode). */
  readonly before: NeighbourProof | null;
  /** Record lastIndex+1; null iff lastIndex+1 equals the checkpoint size (or in filtered mode). */
  readonly after: NeighbourProof | null;
}

export interface ConsistencyEntry {
  readonly from: number;
  readonly to: number;
  readonly hashes: readonly Uint8Array[];
}

export interface InclusionLine {
  readonly index: number;
  readonly hashes: readonly Uint8Array[];
}

// ---- strict readers ----

type Obj = { readonly [k: string]: JsonValue };

function bad(member: string, message: string, cause?: unknown): never {
  throw new BundleError('MANIFEST_INVALID', `${member}: ${message}`, { member, cause });
}

export function parseJsonMember(member: string, bytes: Uint8Array, maxBytes = MAX_JSON_MEMBER): JsonValue {
  try {
    return parseJson(bytes, { maxBytes, maxDepth: 16 });
  } catch (e) {
    if (e instanceof CanonicalJsonError) bad(member, `not strict JSON: ${e.message}`, e);
    throw e;
  }
}

function obj(member: string, v: JsonValue | undefined, where: string, keys: readonly string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(member, `${where} must be an object`);
  for (const k of Object.keys(v))
    if (!keys.includes(k)) bad(member, `${where}: unknown field ${JSON.stringify(k)}`);
  for (const k of keys) if (!(k in v)) bad(member, `${where}: missing field ${k}`);
  return v as Obj;
}

function str(member: string, v: JsonValue | undefined, where: string, max = 1024): string {
  if (typeof v !== 'string' || v.length > max)
    bad(member, `${where} must be a string of at most ${max} characters`);
  return v;
}

function uint(member: string, v: JsonValue | undefined, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    bad(member, `${where} must be a non-negative integer`);
  return v;
}

const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** receivedAt-style instant: fixed-width UTC with milliseconds, so string order is time order. */
function time(member: string, v: JsonValue | undefined, where: string): string {
  const s = str(member, v, where, 32);
  if (!TIME_RE.test(s) || parseUtcTimestamp(s) === undefined)
    bad(member, `${where} must be a UTC time like 2026-03-01T12:00:00.000Z`);
  return s;
}

function hashes(member: string, v: JsonValue | undefined, where: string): Uint8Array[] {
  if (!Array.isArray(v) || v.length > MAX_PROOF_HASHES) bad(member, `${where} must be an array of hashes`);
  return v.map((h, i) => {
    if (typeof h !== 'string' || h.length !== 44) bad(member, `${where}[${i}] must be a base64 32-byte hash`);
    try {
      return fromBase64(h);
    } catch (e) {
      return bad(member, `${where}[${i}] is not base64`, e);
    }
  });
}

const HEADER_KEYS = [
  'format',
  'version',
  'logId',
  'origin',
  'createdAt',
  'range',
  'filter',
  'completeness',
  'checkpoint',
];

function headerFields(member: string, o: Obj): BundleHeader {
  if (o.format !== BUNDLE_FORMAT) bad(member, `format must be ${BUNDLE_FORMAT}`);
  if (!(BUNDLE_VERSIONS as readonly JsonValue[]).includes(o.version as JsonValue))
    bad(member, `unsupported version (this verifier reads ${BUNDLE_VERSIONS.join(' and ')})`);
  if (!isValidLogId(o.logId)) bad(member, 'logId is not a valid log id');
  const origin = str(member, o.origin, 'origin', 256);
  if (origin.length === 0 || /[\s+]/.test(origin)) bad(member, 'origin must be a non-empty key name');
  // The origin is `<origin prefix>/<logId>` (docs/formats.md): it names the log the records say they are of.
  if (!origin.endsWith(`/${o.logId}`)) bad(member, 'origin must end with /<logId>');
  const createdAt = time(member, o.createdAt, 'createdAt');
  const r = obj(member, o.range, 'range', ['fromTime', 'toTime', 'firstIndex', 'lastIndex']);
  const fromTime = time(member, r.fromTime, 'range.fromTime');
  const toTime = time(member, r.toTime, 'range.toTime');
  if (!(fromTime < toTime)) bad(member, 'range.fromTime must be before range.toTime');
  const firstIndex = uint(member, r.firstIndex, 'range.firstIndex');
  if (typeof r.lastIndex !== 'number' || !Number.isSafeInteger(r.lastIndex) || r.lastIndex < firstIndex - 1)
    bad(member, 'range.lastIndex must be an integer ≥ firstIndex - 1');
  let filter: BundleFilter | null = null;
  if (o.filter !== null) {
    const f = o.filter;
    if (typeof f !== 'object' || Array.isArray(f)) bad(member, 'filter must be an object or null');
    for (const k of Object.keys(f))
      if (k !== 'actionPrefix' && k !== 'actorId') bad(member, `filter: unknown field ${JSON.stringify(k)}`);
    const p = 'actionPrefix' in f ? str(member, f.actionPrefix, 'filter.actionPrefix', 128) : undefined;
    const a = 'actorId' in f ? str(member, f.actorId, 'filter.actorId', 256) : undefined;
    filter = { ...(p !== undefined ? { actionPrefix: p } : {}), ...(a !== undefined ? { actorId: a } : {}) };
    const problem = filterProblem(filter);
    if (problem !== null) bad(member, problem);
  }
  const completeness = o.completeness;
  if (completeness !== (filter === null ? 'range' : 'inclusion-only'))
    bad(member, 'completeness must be "range" without a filter and "inclusion-only" with one');
  return {
    format: BUNDLE_FORMAT,
    version: o.version as BundleVersion,
    logId: o.logId,
    origin,
    createdAt,
    range: { fromTime, toTime, firstIndex, lastIndex: r.lastIndex },
    filter,
    completeness,
    checkpoint: uint(member, o.checkpoint, 'checkpoint'),
  };
}

export function parseHeader(bytes: Uint8Array): BundleHeader {
  const o = obj(HEADER, parseJsonMember(HEADER, bytes, MAX_SMALL_MEMBER), 'header', HEADER_KEYS);
  return headerFields(HEADER, o);
}

export function parseManifest(bytes: Uint8Array): BundleManifest {
  const o = obj(MANIFEST, parseJsonMember(MANIFEST, bytes), 'manifest', [
    ...HEADER_KEYS,
    'counts',
    'members',
  ]);
  const header = headerFields(MANIFEST, o);
  const c = obj(MANIFEST, o.counts, 'counts', [
    'records',
    'recordBytes',
    'checkpoints',
    'anchors',
    'members',
  ]);
  const counts: BundleCounts = {
    records: uint(MANIFEST, c.records, 'counts.records'),
    recordBytes: uint(MANIFEST, c.recordBytes, 'counts.recordBytes'),
    checkpoints: uint(MANIFEST, c.checkpoints, 'counts.checkpoints'),
    anchors: uint(MANIFEST, c.anchors, 'counts.anchors'),
    members: uint(MANIFEST, c.members, 'counts.members'),
  };
  if (!Array.isArray(o.members) || o.members.length > MAX_CHUNKS * 2 + 2 * MAX_ANCHORS + MAX_CHECKPOINTS + 16)
    bad(MANIFEST, 'members must be an array');
  const members = o.members.map((m, i) => {
    const e = obj(MANIFEST, m, `members[${i}]`, ['path', 'size', 'sha256']);
    const sha = str(MANIFEST, e.sha256, `members[${i}].sha256`, 64);
    if (!/^[0-9a-f]{64}$/.test(sha)) bad(MANIFEST, `members[${i}].sha256 must be 64 lowercase hex digits`);
    return {
      path: str(MANIFEST, e.path, `members[${i}].path`, 100),
      size: uint(MANIFEST, e.size, `members[${i}].size`),
      sha256: sha,
    };
  });
  return { ...header, counts, members };
}

function neighbour(v: JsonValue | undefined, where: string): NeighbourProof | null {
  if (v === null) return null;
  const o = obj(PROOFS, v, where, ['index', 'record', 'inclusion']);
  return {
    index: uint(PROOFS, o.index, `${where}.index`),
    // UTF-16 length ≤ UTF-8 length, so every record ingest accepted fits; decodeRecord checks the bytes.
    record: str(PROOFS, o.record, `${where}.record`, MAX_RECORD_BYTES),
    inclusion: hashes(PROOFS, o.inclusion, `${where}.inclusion`),
  };
}

export function parseProofs(bytes: Uint8Array): RangeProofs {
  const o = obj(PROOFS, parseJsonMember(PROOFS, bytes, MAX_PROOFS_MEMBER), 'proofs', [
    'checkpoint',
    'left',
    'consistency',
    'before',
    'after',
  ]);
  return {
    checkpoint: uint(PROOFS, o.checkpoint, 'checkpoint'),
    left: hashes(PROOFS, o.left, 'left'),
    consistency: hashes(PROOFS, o.consistency, 'consistency'),
    before: neighbour(o.before, 'before'),
    after: neighbour(o.after, 'after'),
  };
}

export function parseConsistency(bytes: Uint8Array): ConsistencyEntry[] {
  const o = obj(CONSISTENCY, parseJsonMember(CONSISTENCY, bytes), 'consistency', ['proofs']);
  if (!Array.isArray(o.proofs) || o.proofs.length > MAX_CHECKPOINTS)
    bad(CONSISTENCY, 'proofs must be an array');
  return o.proofs.map((p, i) => {
    const e = obj(CONSISTENCY, p, `proofs[${i}]`, ['from', 'to', 'hashes']);
    return {
      from: uint(CONSISTENCY, e.from, `proofs[${i}].from`),
      to: uint(CONSISTENCY, e.to, `proofs[${i}].to`),
      hashes: hashes(CONSISTENCY, e.hashes, `proofs[${i}].hashes`),
    };
  });
}

/**
 * One entry of attestations.json (version 2): the attestation model of src/core/attestation
 * as the bundle carries it. Binary evidence stays in its own members so it can be checked by
 * hand (an RFC 3161 entry names its `.tsr` and `.chain.pem`); text evidence is inline.
 */
export type BundleAttestation =
  | {
      readonly kind: 'rfc3161';
      readonly checkpoint: number;
      readonly party: string;
      readonly evidence: { readonly response: string; readonly chain: string };
    }
  | {
      readonly kind: 'witness-cosignature';
      readonly checkpoint: number;
      readonly party: string;
      /** The signature line, without its newline. */
      readonly evidence: { readonly line: string };
    }
  | {
      readonly kind: 'rekor';
      readonly checkpoint: number;
      readonly party: string;
      /** The Rekor v2 TransparencyLogEntry exactly as the log returned it, standard base64. */
      readonly evidence: { readonly entry: string };
    };

/** Most attestations a bundle carries: MAX_ANCHORS tokens, as many cosignatures and as many Rekor entries. */
export const MAX_ATTESTATIONS = 3 * MAX_ANCHORS;
/** Base64 of a TransparencyLogEntry of at most MAX_REKOR_ENTRY_BYTES (src/core/rekor). */
const MAX_REKOR_EVIDENCE = Math.ceil(MAX_REKOR_ENTRY_BYTES / 3) * 4;
/** A signature line: a key name (≤ 255 bytes here) and base64 of at most a few hundred bytes. */
const MAX_ATTESTATION_LINE = 1024;

/** The order entries must appear in: checkpoint size, then kind, then party (strictly ascending). */
export function attestationOrderKey(a: Pick<BundleAttestation, 'checkpoint' | 'kind' | 'party'>): string {
  return `${String(a.checkpoint).padStart(16, '0')}/${a.kind}/${a.party}`;
}

export function parseAttestations(bytes: Uint8Array): BundleAttestation[] {
  const M = ATTESTATIONS;
  const o = obj(M, parseJsonMember(M, bytes, MAX_JSON_MEMBER), 'attestations', ['attestations']);
  if (!Array.isArray(o.attestations) || o.attestations.length > MAX_ATTESTATIONS)
    bad(M, `attestations must be an array of at most ${MAX_ATTESTATIONS} entries`);
  let last = '';
  return o.attestations.map((v, i): BundleAttestation => {
    const where = `attestations[${i}]`;
    const e = obj(M, v, where, ['kind', 'checkpoint', 'party', 'evidence']);
    const checkpoint = uint(M, e.checkpoint, `${where}.checkpoint`);
    const party = str(M, e.party, `${where}.party`, 63);
    if (!isValidTsaName(party)) bad(M, `${where}.party must be a party name ([a-z0-9][a-z0-9._-]{0,62})`);
    let a: BundleAttestation;
    if (e.kind === 'rfc3161') {
      const ev = obj(M, e.evidence, `${where}.evidence`, ['response', 'chain']);
      const response = str(M, ev.response, `${where}.evidence.response`, 100);
      const chain = str(M, ev.chain, `${where}.evidence.chain`, 100);
      if (response !== anchorPath(checkpoint, party) || chain !== anchorChainPath(checkpoint, party))
        bad(
          M,
          `${where}: an rfc3161 attestation's evidence is anchors/<checkpoint>/<party>.tsr and .chain.pem`,
        );
      a = { kind: 'rfc3161', checkpoint, party, evidence: { response, chain } };
    } else if (e.kind === 'witness-cosignature') {
      const ev = obj(M, e.evidence, `${where}.evidence`, ['line']);
      const line = str(M, ev.line, `${where}.evidence.line`, MAX_ATTESTATION_LINE);
      a = { kind: 'witness-cosignature', checkpoint, party, evidence: { line } };
    } else if (e.kind === 'rekor') {
      const ev = obj(M, e.evidence, `${where}.evidence`, ['entry']);
      const entry = str(M, ev.entry, `${where}.evidence.entry`, MAX_REKOR_EVIDENCE);
      try {
        fromBase64(entry);
      } catch {
        bad(M, `${where}.evidence.entry is not base64`);
      }
      a = { kind: 'rekor', checkpoint, party, evidence: { entry } };
    } else {
      // A kind this verifier does not know cannot be judged, so the bundle is refused rather than
      // half-verified; a new kind comes with a verifier that knows it (docs/bundle.md §Versions).
      return bad(M, `${where}.kind ${JSON.stringify(e.kind)} is not an attestation kind this verifier knows`);
    }
    const key = attestationOrderKey(a);
    if (key <= last) bad(M, `${where} is out of order or repeated (order: checkpoint, kind, party)`);
    last = key;
    return a;
  });
}

export function encodeAttestations(entries: readonly BundleAttestation[]): Uint8Array {
  return encodeJsonMember({
    attestations: entries.map((a) => ({
      kind: a.kind,
      checkpoint: a.checkpoint,
      party: a.party,
      evidence:
        a.kind === 'rfc3161'
          ? { response: a.evidence.response, chain: a.evidence.chain }
          : a.kind === 'rekor'
            ? { entry: a.evidence.entry }
            : { line: a.evidence.line },
    })),
  });
}

export function parseInclusionLine(member: string, line: Uint8Array, n: number): InclusionLine {
  const o = obj(member, parseJsonMember(member, line, 16 * KiB), `line ${n}`, ['index', 'hashes']);
  return {
    index: uint(member, o.index, `line ${n}: index`),
    hashes: hashes(member, o.hashes, `line ${n}: hashes`),
  };
}

// ---- writers (the same shapes, serialised with stable key order) ----

const b64s = (hs: readonly Uint8Array[]): string[] => hs.map(toBase64);

export function headerJson(h: BundleHeader): Record<string, unknown> {
  return {
    format: h.format,
    version: h.version,
    logId: h.logId,
    origin: h.origin,
    createdAt: h.createdAt,
    range: { ...h.range },
    filter:
      h.filter === null
        ? null
        : {
            ...(h.filter.actionPrefix !== undefined ? { actionPrefix: h.filter.actionPrefix } : {}),
            ...(h.filter.actorId !== undefined ? { actorId: h.filter.actorId } : {}),
          },
    completeness: h.completeness,
    checkpoint: h.checkpoint,
  };
}

export function encodeJsonMember(value: unknown): Uint8Array {
  return utf8(`${JSON.stringify(value, null, 2)}\n`);
}

/** manifest.json bytes: the header fields, counts, members, in this key order. */
export function encodeManifest(m: BundleManifest): Uint8Array {
  const c = m.counts;
  return encodeJsonMember({
    ...headerJson(m),
    counts: {
      records: c.records,
      recordBytes: c.recordBytes,
      checkpoints: c.checkpoints,
      anchors: c.anchors,
      members: c.members,
    },
    members: m.members.map((e) => ({ path: e.path, size: e.size, sha256: e.sha256 })),
  });
}

export function encodeProofs(p: RangeProofs): Uint8Array {
  const n = (x: NeighbourProof | null) =>
    x === null ? null : { index: x.index, record: x.record, inclusion: b64s(x.inclusion) };
  return encodeJsonMember({
    checkpoint: p.checkpoint,
    left: b64s(p.left),
    consistency: b64s(p.consistency),
    before: n(p.before),
    after: n(p.after),
  });
}

export function encodeConsistency(entries: readonly ConsistencyEntry[]): Uint8Array {
  return encodeJsonMember({
    proofs: entries.map((e) => ({ from: e.from, to: e.to, hashes: b64s(e.hashes) })),
  });
}

export function encodeInclusionLine(l: InclusionLine): string {
  return `${JSON.stringify({ index: l.index, hashes: b64s(l.hashes) })}\n`;
}

/** `sha256sum` text: `<hex>  <path>` per line (two spaces: binary-safe text mode). */
export function formatSums(members: readonly MemberEntry[]): Uint8Array {
  return utf8(members.map((m) => `${m.sha256}  ${m.path}\n`).join(''));
}
