/**
 * Builds real logs and real bundles in-process for the bundle tests:
 * canonical chained records from the core, checkpoints signed with a
 * LocalNoteSigner, and real RFC 3161 tokens from two in-process TSAs
 * (src/adapters/memory/timestamper.ts), one per key family the OpenSSL TSAs
 * of the test harness have: ECDSA with ESSCertIDv2, RSA with ESSCertID v1.
 * (Tokens from OpenSSL itself: test/adapters/tsa-http.test.ts, the anchor
 * and export tests.) Plus `repack`, which rewrites members of a bundle and
 * (optionally) fixes SHA256SUMS and manifest.json so tampering reaches the
 * deeper checks instead of stopping at a member hash.
 */
import { LocalNoteSigner } from '../../../src/adapters/memory/local-signer.ts';
import { MemoryTsa } from '../../../src/adapters/memory/timestamper.ts';
import { formatSums } from '../../../src/core/bundle/format.ts';
import {
  type BundleAnchorInput,
  type BundleCosignatureInput,
  type BundleFilter,
  type BundleRekorInput,
  type BundleTrust,
  bundleBytes,
  filterMatches,
  writeBundle,
} from '../../../src/core/bundle/index.ts';
import { readTar, tarEnd, tarHeader, tarPadding } from '../../../src/core/bundle/tar.ts';
import { fromUtf8, toBase64, toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hash.ts';
import type { JsonObject } from '../../../src/core/ijson.ts';
import { consistencyProof, inclusionProof, rootOf } from '../../../src/core/merkle/index.ts';
import {
  formatCheckpoint,
  type NoteSigningKey,
  signNote,
  vkeyFromSpki,
} from '../../../src/core/note/index.ts';
import { formatSignatureLine, parseNote } from '../../../src/core/note/signed-note.ts';
import {
  encodeRecord,
  formatReceivedAt,
  type LogRecord,
  leafHash,
  ZERO_HASH_B64,
} from '../../../src/core/record.ts';
import { buildTimestampRequest } from '../../../src/core/rfc3161/index.ts';
import { cosignerFromSecret, formatCosignerKey, signCosignature } from '../../../src/core/witness/index.ts';

export const T0 = Date.parse('2025-06-01T00:00:00.000Z');
export const MINUTE = 60_000;

export interface TestLog {
  readonly logId: string;
  readonly origin: string;
  readonly signer: NoteSigningKey;
  readonly records: Uint8Array[];
  readonly leaves: Uint8Array[];
  readonly receivedAt: string[];
  readonly notes: Map<number, string>;
}

export interface LogOptions {
  readonly logId?: string;
  readonly startMs?: number;
  readonly stepMs?: number;
  readonly action?: (i: number) => string;
  readonly signer?: NoteSigningKey;
  /** Event metadata of record i (default: a counter and a note that needs escaping). */
  readonly metadata?: (i: number) => JsonObject;
}

const signers = new Map<string, LocalNoteSigner>();
export function signerFor(origin: string): LocalNoteSigner {
  let s = signers.get(origin);
  if (!s) {
    s = LocalNoteSigner.generate(origin);
    signers.set(origin, s);
  }
  return s;
}

/**
 * The same key under another key name, as one KMS key signs every log of a
 * deployment: a 0x02 key ID is SHA-256(SPKI)[:4], so it does not change.
 */
export function sameKeyNamed(signer: NoteSigningKey, keyName: string): NoteSigningKey {
  return {
    keyName,
    keyId: signer.keyId,
    publicKeySpki: signer.publicKeySpki,
    sign: (m) => signer.sign(m),
  };
}

export function makeLog(n: number, o: LogOptions = {}): TestLog {
  const logId = o.logId ?? 'tenant-a';
  const origin = `anchorlog.test/${logId}`;
  const records: Uint8Array[] = [];
  const leaves: Uint8Array[] = [];
  const receivedAt: string[] = [];
  let prev = ZERO_HASH_B64;
  for (let i = 0; i < n; i++) {
    const at = formatReceivedAt((o.startMs ?? T0) + i * (o.stepMs ?? MINUTE));
    const rec: LogRecord = {
      v: 1,
      logId,
      index: i,
      receivedAt: at,
      submitter: 'svc-ingest',
      prev,
      event: {
        occurredAt: at,
        actor: { type: 'agent', id: `agent-${i % 7}` },
        action: o.action ? o.action(i) : i % 3 === 0 ? 'access.grant' : 'tool.call',
        target: { type: 'dataset', id: `ds-${i}` },
        outcome: 'success',
        metadata: o.metadata ? o.metadata(i) : { n: i, note: 'quoted "text" and \\ and\nnewline' },
      },
    };
    const bytes = encodeRecord(rec);
    const leaf = leafHash(bytes);
    records.push(bytes);
    leaves.push(leaf);
    receivedAt.push(at);
    prev = toBase64(leaf);
  }
  return {
    logId,
    origin,
    signer: o.signer ?? signerFor(origin),
    records,
    leaves,
    receivedAt,
    notes: new Map(),
  };
}

export async function checkpointNote(log: TestLog, size: number, signer = log.signer): Promise<string> {
  const body = formatCheckpoint({ origin: log.origin, size, rootHash: rootOf(log.leaves.slice(0, size)) });
  return signNote(body, [signer]);
}

const tsa = {
  ecdsa: await MemoryTsa.create({ keyAlgorithm: 'ecdsa', cn: 'Bundle Test TSA (ECDSA)' }),
  rsa: await MemoryTsa.create({ keyAlgorithm: 'rsa', cn: 'Bundle Test TSA (RSA)' }),
};
export const TSA_ROOTS: Uint8Array[] = [tsa.ecdsa.pki.root.der, tsa.rsa.pki.root.der];
export const TSA_ROOTS_PEM = [tsa.ecdsa.rootsPem, tsa.rsa.rootsPem];

let nonceCounter = 1;
/** A real RFC 3161 reply over `data` from one of the fixture's TSAs, with its chain (signer first, root last). */
export async function timestamp(
  data: Uint8Array,
  which: 'ecdsa' | 'rsa',
): Promise<{ response: Uint8Array; chain: Uint8Array[] }> {
  const nonce = new Uint8Array(8);
  new DataView(nonce.buffer).setUint32(4, nonceCounter++);
  nonce[0] = 0x42;
  const response = await tsa[which].reply(buildTimestampRequest({ imprint: { data }, nonce }));
  return { response, chain: tsa[which].chain };
}

export async function anchorsFor(note: string, size: number): Promise<BundleAnchorInput[]> {
  const out: BundleAnchorInput[] = [];
  for (const which of ['ecdsa', 'rsa'] as const) {
    const t = await timestamp(utf8(note), which);
    out.push({ size, tsa: `test-${which}`, response: t.response, chain: t.chain });
  }
  return out;
}

export interface ExportOptions {
  readonly fromTime: string;
  readonly toTime: string;
  readonly filter?: BundleFilter | null;
  /** Sizes of the checkpoints in the bundle (default [log size]). */
  readonly checkpoints?: number[];
  readonly checkpointSize?: number;
  readonly anchors?: BundleAnchorInput[];
  /** Witness cosignatures to carry (default none). */
  readonly cosignatures?: BundleCosignatureInput[];
  /** Rekor entries to carry (default none). */
  readonly rekorEntries?: BundleRekorInput[];
  readonly notes?: string[];
  readonly chunkBytes?: number;
  readonly createdAt?: string;
}

/** The inclusive index interval of [fromTime, toTime) in a log. */
export function resolve(
  log: TestLog,
  fromTime: string,
  toTime: string,
): { firstIndex: number; lastIndex: number } {
  let firstIndex = log.receivedAt.findIndex((t) => t >= fromTime);
  if (firstIndex < 0) firstIndex = log.receivedAt.length;
  let lastIndex = firstIndex - 1;
  while (lastIndex + 1 < log.receivedAt.length && (log.receivedAt[lastIndex + 1] as string) < toTime)
    lastIndex++;
  return { firstIndex, lastIndex };
}

export async function exportBundle(log: TestLog, o: ExportOptions): Promise<Uint8Array> {
  const sizes = o.checkpoints ?? [log.records.length];
  const notes = o.notes ?? (await Promise.all(sizes.map((s) => checkpointNote(log, s))));
  const n = o.checkpointSize ?? Math.max(...sizes);
  const { firstIndex, lastIndex } = resolve(log, o.fromTime, o.toTime);
  const filter = o.filter ?? null;
  const selected = log.records.filter((b, i) => {
    if (i < firstIndex || i > lastIndex) return false;
    if (!filter) return true;
    return filterMatches(filter, (JSON.parse(fromUtf8(b)) as LogRecord).event);
  });
  const anchors = o.anchors ?? (await anchorsFor(notes[sizes.indexOf(n)] as string, n));
  return bundleBytes(
    writeBundle({
      logId: log.logId,
      origin: log.origin,
      createdAt: o.createdAt ?? '2026-01-01T00:00:00.000Z',
      range: { fromTime: o.fromTime, toTime: o.toTime, firstIndex, lastIndex },
      filter,
      logKeySpki: log.signer.publicKeySpki,
      checkpoints: notes,
      checkpointSize: n,
      anchors,
      ...(o.cosignatures ? { cosignatures: o.cosignatures } : {}),
      ...(o.rekorEntries ? { rekorEntries: o.rekorEntries } : {}),
      records: (async function* () {
        for (const r of selected) yield r;
      })(),
      before: firstIndex > 0 ? log.records[firstIndex - 1] : null,
      after: lastIndex + 1 < n ? log.records[lastIndex + 1] : null,
      getInclusionProof: async (i, s) => inclusionProof(log.leaves, i, s),
      getConsistencyProof: async (a, b) => consistencyProof(log.leaves, a, b),
      ...(o.chunkBytes ? { chunkBytes: o.chunkBytes } : {}),
    }),
  );
}

/** A test witness: a fixed Ed25519 key per name (the seed is derived from the name). */
export interface TestWitness {
  /** Short name (party): archive keys, attestations.json. */
  readonly party: string;
  /** Key name on signature lines. */
  readonly name: string;
  readonly secret: Uint8Array;
  readonly vkey: string;
}

export function testWitness(party: string, name = `${party}.witness.test`): TestWitness {
  const secret = sha256(utf8(`witness seed ${name}`));
  return { party, name, secret, vkey: formatCosignerKey(cosignerFromSecret(name, secret)) };
}

/** Cosignature attestations by `witnesses` over the checkpoint note `note` of size `size`. */
export function cosign(
  witnesses: readonly TestWitness[],
  note: string,
  size: number,
  timestamp = 1_780_000_000,
): BundleCosignatureInput[] {
  const text = parseNote(note).text;
  return witnesses.map((w) => ({
    size,
    witness: w.party,
    line: formatSignatureLine(signCosignature(w.name, w.secret, text, timestamp)),
  }));
}

export function trustFor(log: TestLog): BundleTrust {
  return { logKeys: [vkeyFromSpki(log.origin, log.signer.publicKeySpki)], tsaRoots: TSA_ROOTS };
}

// ---- tampering ----

export interface Member {
  path: string;
  data: Uint8Array;
}

export async function members(bundle: Uint8Array): Promise<Member[]> {
  const out: Member[] = [];
  for await (const m of readTar(
    (async function* () {
      yield bundle;
    })(),
    () => 1 << 30,
  ))
    out.push({ path: m.path, data: m.data });
  return out;
}

export const text = (m: Member): string => fromUtf8(m.data);
export const json = (m: Member): Record<string, unknown> =>
  JSON.parse(fromUtf8(m.data)) as Record<string, unknown>;
export const setJson = (m: Member, v: unknown): void => {
  m.data = utf8(`${JSON.stringify(v, null, 2)}\n`);
};
export const find = (ms: Member[], path: string): Member => {
  const m = ms.find((x) => x.path === path);
  if (!m) throw new Error(`no member ${path}`);
  return m;
};

/** Tar the members again. With fix: recompute SHA256SUMS and the manifest's member list and member count. */
export function repack(
  ms: Member[],
  opts: { fix?: boolean; manifest?: (m: Record<string, unknown>) => void } = {},
): Uint8Array {
  const list = ms.map((m) => ({ ...m }));
  if (opts.fix) {
    const entries = (upTo: number) =>
      list.slice(0, upTo).map((m) => ({ path: m.path, size: m.data.length, sha256: toHex(sha256(m.data)) }));
    const si = list.findIndex((m) => m.path === 'SHA256SUMS');
    if (si >= 0) (list[si] as Member).data = formatSums(entries(si));
    const mi = list.findIndex((m) => m.path === 'manifest.json');
    if (mi >= 0) {
      const man = json(list[mi] as Member);
      man.members = entries(mi);
      (man.counts as Record<string, number>).members = mi;
      opts.manifest?.(man);
      setJson(list[mi] as Member, man);
    }
  } else if (opts.manifest) {
    const m = find(list, 'manifest.json');
    const man = json(m);
    opts.manifest(man);
    setJson(m, man);
  }
  const parts: Uint8Array[] = [];
  for (const m of list) parts.push(tarHeader(m.path, m.data.length, 0), m.data, tarPadding(m.data.length));
  parts.push(tarEnd());
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Lines of a records chunk (without newlines) and back. */
export const lines = (m: Member): string[] => text(m).slice(0, -1).split('\n');
export const setLines = (m: Member, ls: string[]): void => {
  m.data = utf8(`${ls.join('\n')}\n`);
};
