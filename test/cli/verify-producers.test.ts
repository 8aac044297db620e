/**
 * `anchorlog verify --producer-keys SYSTEM.tar` (src/cli/verify-producers.ts,
 * src/core/bundle/producer-signatures.ts; docs/producer-signatures.md
 * §Offline verification): every producer signature of a bundle is re-checked
 * offline against the keys the system log's own bundle registered, with
 * counts per producer; a bad one is PRODUCER_SIGNATURE_INVALID (exit 1); an
 * edited signature breaks the chain first; without the system bundle signed
 * records are reported as not checked (exit 3).
 */
import { generateKeyPairSync, type KeyObject, sign as nodeSign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/cli/verify.ts';
import { toBase64, toBase64Url, utf8 } from '../../src/core/bytes.ts';
import type { AuditEvent } from '../../src/core/event.ts';
import { vkeyFromSpki } from '../../src/core/note/index.ts';
import { type ProducerKeyRecord, parsePublicKey, type SignatureAlg } from '../../src/core/producer-key.ts';
import { signEvent } from '../../src/core/producer-signature.ts';
import {
  encodeRecord,
  formatReceivedAt,
  type LogRecord,
  leafHash,
  ZERO_HASH_B64,
} from '../../src/core/record.ts';
import {
  exportBundle,
  find,
  lines,
  MINUTE,
  members,
  repack,
  setLines,
  signerFor,
  T0,
  type TestLog,
  TSA_ROOTS_PEM,
} from '../core/bundle/fixture.ts';
import { captureIo } from './support.ts';

interface Entry {
  submitter: string;
  event: AuditEvent;
  atMs?: number;
}

function buildLog(logId: string, entries: Entry[]): TestLog {
  const origin = `anchorlog.test/${logId}`;
  const records: Uint8Array[] = [];
  const leaves: Uint8Array[] = [];
  const receivedAt: string[] = [];
  let prev = ZERO_HASH_B64;
  entries.forEach((e, i) => {
    const at = formatReceivedAt(e.atMs ?? T0 + i * MINUTE);
    const rec: LogRecord = {
      v: 1,
      logId,
      index: i,
      receivedAt: at,
      submitter: e.submitter,
      prev,
      event: e.event,
    };
    const bytes = encodeRecord(rec);
    const leaf = leafHash(bytes);
    records.push(bytes);
    leaves.push(leaf);
    receivedAt.push(at);
    prev = toBase64(leaf);
  });
  return { logId, origin, signer: signerFor(origin), records, leaves, receivedAt, notes: new Map() };
}

function producerKey(alg: SignatureAlg, principalId: string) {
  const { privateKey, publicKey } =
    alg === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const parsed = parsePublicKey(publicKey.export({ format: 'pem', type: 'spki' }).toString());
  const record: ProducerKeyRecord = {
    keyId: parsed.keyId,
    principalId,
    alg,
    spki: toBase64(parsed.spki),
    notBefore: '2025-05-01T00:00:00.000Z',
    version: 1,
  };
  const signer = {
    keyId: parsed.keyId,
    alg,
    sign: async (m: Uint8Array) =>
      new Uint8Array(
        alg === 'Ed25519'
          ? nodeSign(null, m, privateKey as KeyObject)
          : nodeSign('sha256', m, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
      ),
  };
  return { record, signer };
}

function keyEvent(before: ProducerKeyRecord | undefined, after: ProducerKeyRecord): AuditEvent {
  return {
    id: `producer-key/${after.keyId}/v${after.version}`,
    occurredAt: '2025-05-01T00:00:00.000Z',
    actor: { type: 'human', id: 'admin-1' },
    action: before ? 'producer_key.revoke' : 'producer_key.register',
    target: { type: 'producer_key', id: after.keyId, name: after.principalId },
    outcome: 'success',
    changes: { before: before ? { ...before } : {}, after: { ...after } },
  } as AuditEvent;
}

let n = 0;
const plain = (): AuditEvent => ({
  occurredAt: '2025-06-01T00:00:00.000Z',
  actor: { type: 'agent', id: 'agent-1' },
  action: 'tool.call',
  outcome: 'success',
  metadata: { n: n++ },
});

const files: Record<string, Uint8Array> = {};
const range = (count: number) => ({
  fromTime: formatReceivedAt(T0 - 60 * MINUTE),
  toTime: formatReceivedAt(T0 + count * MINUTE + 60 * MINUTE),
});

beforeAll(async () => {
  const ed = producerKey('Ed25519', 'app-1');
  const ec = producerKey('ES256', 'app-1');
  const other = producerKey('Ed25519', 'app-2');
  const revoked = producerKey('Ed25519', 'app-1');
  const revokedV2: ProducerKeyRecord = {
    ...revoked.record,
    revokedAt: formatReceivedAt(T0 + 2 * MINUTE),
    version: 2,
  };
  const system = buildLog('system', [
    { submitter: 'admin-1', event: keyEvent(undefined, ed.record), atMs: T0 - 30 * MINUTE },
    { submitter: 'admin-1', event: keyEvent(undefined, ec.record), atMs: T0 - 29 * MINUTE },
    { submitter: 'admin-1', event: keyEvent(undefined, other.record), atMs: T0 - 28 * MINUTE },
    { submitter: 'admin-1', event: keyEvent(undefined, revoked.record), atMs: T0 - 27 * MINUTE },
    { submitter: 'admin-1', event: keyEvent(revoked.record, revokedV2), atMs: T0 - 26 * MINUTE },
  ]);
  files['/mem/system.tar'] = await exportBundle(system, range(0));

  const good: Entry[] = [
    { submitter: 'app-1', event: await signEvent(plain(), ed.signer) },
    { submitter: 'app-1', event: await signEvent(plain(), ec.signer) },
    { submitter: 'app-1', event: await signEvent(plain(), ed.signer) },
    { submitter: 'app-2', event: plain() },
    { submitter: 'app-2', event: await signEvent(plain(), other.signer) },
    { submitter: 'app-1', event: plain() },
  ];
  files['/mem/good.tar'] = await exportBundle(buildLog('tenant-a', good), range(good.length));

  // The log stored what ingest should have refused (e.g. a compromised ingest): each alone.
  const bad = async (name: string, entry: Entry) => {
    const entries = [...good.slice(0, 2), entry];
    files[`/mem/${name}.tar`] = await exportBundle(buildLog('tenant-a', entries), range(entries.length));
  };
  const signed = await signEvent(plain(), ed.signer);
  await bad('garbage', {
    submitter: 'app-1',
    event: {
      ...signed,
      signature: {
        ...(signed.signature as NonNullable<AuditEvent['signature']>),
        sig: toBase64Url(new Uint8Array(64)),
      },
    },
  });
  await bad('changed', { submitter: 'app-1', event: { ...signed, outcome: 'failure' } });
  await bad('foreign-key', { submitter: 'app-1', event: await signEvent(plain(), other.signer) });
  await bad('unregistered', {
    submitter: 'app-1',
    event: await signEvent(plain(), producerKey('ES256', 'app-1').signer),
  });
  // Received 1 h after the key's revocation (far beyond the grace).
  await bad('revoked', {
    submitter: 'app-1',
    event: await signEvent(plain(), revoked.signer),
    atMs: T0 + 62 * MINUTE,
  });

  // An edited signature in an exported bundle: caught by the chain before any signature check.
  const ms = await members(files['/mem/good.tar'] as Uint8Array);
  const chunk = find(ms, 'records/000000.jsonl');
  const ls = lines(chunk);
  const rec = JSON.parse(ls[0] as string) as LogRecord;
  (rec.event.signature as { sig: string }).sig = toBase64Url(new Uint8Array(64));
  ls[0] = new TextDecoder().decode(encodeRecord(rec));
  setLines(chunk, ls);
  files['/mem/edited.tar'] = repack(ms, { fix: true });

  const vkeys = ['system', 'tenant-a'].map((l) => {
    const origin = `anchorlog.test/${l}`;
    return vkeyFromSpki(origin, signerFor(origin).publicKeySpki);
  });
  files['/mem/trust.json'] = utf8(JSON.stringify({ logKeys: vkeys, tsaRoots: TSA_ROOTS_PEM }));
});

/** Every bundle here ends at its checkpoint (RANGE_NOT_CLOSED): accepted, so exit codes speak of signatures. */
async function run(...argv: string[]) {
  const io = captureIo(files);
  const code = await runVerify([...argv, '--allow-incomplete'], io);
  return { code, out: io.out(), err: io.err() };
}

describe('anchorlog verify: producer signatures', () => {
  it('re-checks every signature against the system log’s keys and reports per producer', async () => {
    const r = await run(
      '/mem/good.tar',
      '--trust',
      '/mem/trust.json',
      '--producer-keys',
      '/mem/system.tar',
      '--json',
    );
    expect(r.code, r.out + r.err).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.producerSignatures).toEqual({
      checked: true,
      keys: 4,
      producers: [
        { producer: 'app-1', verified: 3, unsigned: 1, failed: 0 },
        { producer: 'app-2', verified: 1, unsigned: 1, failed: 0 },
      ],
    });
    const text = await run(
      '/mem/good.tar',
      '--trust',
      '/mem/trust.json',
      '--producer-keys',
      '/mem/system.tar',
    );
    expect(text.out).toContain('app-1: 3 verified, 1 unsigned, 0 failed');
  });

  it('without the system log’s bundle, signed records are reported as not checked (exit 3)', async () => {
    const r = await run('/mem/good.tar', '--trust', '/mem/trust.json', '--json');
    expect(r.code, r.out + r.err).toBe(3);
    const doc = JSON.parse(r.out);
    expect(doc.verdict.shortfalls.map((s: { code: string }) => s.code)).toEqual([
      'RANGE_NOT_CLOSED',
      'PRODUCER_SIGNATURES_NOT_CHECKED',
    ]);
    expect(doc.producerSignatures).toEqual({
      checked: false,
      signed: 4,
      producers: [
        { producer: 'app-1', signed: 3 },
        { producer: 'app-2', signed: 1 },
      ],
    });
  });

  it.each(['garbage', 'changed', 'foreign-key', 'unregistered', 'revoked'])(
    'a record whose signature fails (%s) is PRODUCER_SIGNATURE_INVALID, exit 1, naming the record',
    async (name) => {
      const r = await run(
        `/mem/${name}.tar`,
        '--trust',
        '/mem/trust.json',
        '--producer-keys',
        '/mem/system.tar',
        '--json',
      );
      expect(r.code, r.out + r.err).toBe(1);
      const doc = JSON.parse(r.out);
      expect(doc.error).toMatchObject({ code: 'PRODUCER_SIGNATURE_INVALID', index: 2 });
    },
  );

  it('a signature edited in an exported bundle breaks the chain before any signature is checked', async () => {
    const r = await run(
      '/mem/edited.tar',
      '--trust',
      '/mem/trust.json',
      '--producer-keys',
      '/mem/system.tar',
      '--json',
    );
    expect(r.code).toBe(1);
    expect(['CHAIN_BROKEN', 'INCLUSION_FAILED']).toContain(JSON.parse(r.out).error.code);
  });

  it('the keys must come from a bundle of the system log', async () => {
    const r = await run('/mem/good.tar', '--trust', '/mem/trust.json', '--producer-keys', '/mem/good.tar');
    expect(r.code).toBe(2);
  });
});
