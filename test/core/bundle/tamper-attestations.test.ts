/**
 * The tamper suite for attestations.json (format version 2): witness cosignatures checked
 * offline against pinned witness keys, the witness quorum, and the section's own shape. Every
 * case runs on the reference and the fast verify paths (all-paths.ts), with identical verdicts
 * required; class + code asserted, never message text. Edits fix up SHA256SUMS and the
 * manifest so the attestation check, not a member hash, is what fails.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleError, type BundleErrorCode, type BundleTrust } from '../../../src/core/bundle/index.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hash.ts';
import { cosignerFromSecret, formatCosignerKey } from '../../../src/core/witness/index.ts';
import { verifyBundle } from './all-paths.ts';
import {
  checkpointNote,
  cosign,
  exportBundle,
  find,
  json,
  type Member,
  makeLog,
  members,
  repack,
  setJson,
  type TestLog,
  type TestWitness,
  testWitness,
  trustFor,
} from './fixture.ts';

const FROM = '2025-06-01T00:10:00.000Z';
const TO = '2025-06-01T00:30:00.000Z'; // indexes 10..29
const ATT = 'attestations.json';

type Entry = { kind: string; checkpoint: number; party: string; evidence: Record<string, string> };

const WA = testWitness('wit-a');
const WB = testWitness('wit-b');
const WC = testWitness('wit-c');
const WD = testWitness('wit-d'); // never pinned

let log: TestLog;
let notes: Map<number, string>;
/** Checkpoints 20, 45, 60; WA and WB cosigned 60, WC cosigned 45. */
let witnessed: Uint8Array;
/** The same log and checkpoints, no cosignatures. */
let plain: Uint8Array;
let trust: BundleTrust;
let wtrust: BundleTrust;

beforeAll(async () => {
  log = makeLog(60);
  notes = new Map();
  for (const s of [20, 45, 60]) notes.set(s, await checkpointNote(log, s));
  const ns = [20, 45, 60].map((s) => notes.get(s) as string);
  witnessed = await exportBundle(log, {
    fromTime: FROM,
    toTime: TO,
    checkpoints: [20, 45, 60],
    notes: ns,
    cosignatures: [...cosign([WA, WB], ns[2] as string, 60), ...cosign([WC], ns[1] as string, 45)],
  });
  plain = await exportBundle(log, { fromTime: FROM, toTime: TO, checkpoints: [20, 45, 60], notes: ns });
  trust = trustFor(log);
  wtrust = { ...trust, witnesses: [WA.vkey, WB.vkey, WC.vkey], witnessQuorum: 2 };
});

async function expectCode(
  b: Uint8Array,
  code: BundleErrorCode,
  t: BundleTrust = wtrust,
): Promise<BundleError> {
  try {
    await verifyBundle(b, t);
  } catch (e) {
    expect(e).toBeInstanceOf(BundleError);
    expect((e as BundleError).code, (e as BundleError).message).toBe(code);
    return e as BundleError;
  }
  throw new Error(`bundle verified but should have failed with ${code}`);
}

/** Rewrites attestations.json's entries (and SHA256SUMS / the manifest to match). */
async function editEntries(f: (es: Entry[]) => Entry[], src = witnessed): Promise<Uint8Array> {
  const ms = await members(src);
  const m = find(ms, ATT);
  setJson(m, { attestations: f((json(m) as { attestations: Entry[] }).attestations) });
  return repack(ms, { fix: true });
}

const byKey = (a: Entry, b: Entry): number =>
  a.checkpoint - b.checkpoint || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.party < b.party ? -1 : 1);

/** Cosignature entries by `ws` over checkpoint `size`, as the writer makes them. */
const entriesBy = (ws: readonly TestWitness[], size: number, ts?: number): Entry[] =>
  cosign(ws, notes.get(size) as string, size, ts).map((c) => ({
    kind: 'witness-cosignature',
    checkpoint: c.size,
    party: c.witness,
    evidence: { line: c.line },
  }));

describe('attestations: witnessed bundles verify', () => {
  it('the quorum of pinned witnesses cosigned a covering checkpoint', async () => {
    const r = await verifyBundle(witnessed, wtrust);
    expect(r.format).toBe(2);
    expect(r.witnesses).toEqual({
      pinned: 3,
      quorum: 2,
      checkpointSize: 60,
      cosigned: 2,
      by: [WA, WB].map((w) => w.vkey.split('+').slice(0, 2).join('+')).sort(),
    });
    expect(r.attestations.map((a) => [a.kind, a.checkpointSize, a.party, a.status])).toEqual([
      ['witness-cosignature', 45, 'wit-c', 'verified'],
      ['rfc3161', 60, 'test-ecdsa', 'verified'],
      ['rfc3161', 60, 'test-rsa', 'verified'],
      ['witness-cosignature', 60, 'wit-a', 'verified'],
      ['witness-cosignature', 60, 'wit-b', 'verified'],
    ]);
    expect(r.attestations.find((a) => a.party === 'wit-a')?.time).toBe(
      new Date(1_780_000_000_000).toISOString(),
    );
    expect(r.proved.some((p) => p.startsWith('witnessed: 2 of 3'))).toBe(true);
  });
  it('without pinned witnesses nothing is required, and cosignatures are reported as unknown', async () => {
    const r = await verifyBundle(witnessed, trust);
    expect(r.witnesses).toMatchObject({ pinned: 0, quorum: 0, cosigned: 0, checkpointSize: null });
    expect(r.attestations.filter((a) => a.status === 'unknown-witness')).toHaveLength(3);
  });
  it('quorum 0 with pinned witnesses: reported, not required', async () => {
    const r = await verifyBundle(plain, { ...wtrust, witnessQuorum: 0 });
    expect(r.witnesses).toMatchObject({ pinned: 3, quorum: 0, cosigned: 0 });
  });
  it('the default quorum is min(2, pinned)', async () => {
    const { witnessQuorum: _, ...noQuorum } = wtrust;
    await expect(verifyBundle(witnessed, noQuorum)).resolves.toMatchObject({ witnesses: { quorum: 2 } });
    await expectCode(plain, 'WITNESS_QUORUM_NOT_MET', noQuorum);
  });
});

describe('attestations: the witness quorum', () => {
  it('a bundle without cosignatures fails a pinned quorum', async () => {
    await expectCode(plain, 'WITNESS_QUORUM_NOT_MET');
  });
  it('quorum boundaries: k counts on one checkpoint, not summed over checkpoints', async () => {
    // 2 on checkpoint 60 and 1 on 45: quorum 2 holds, quorum 3 does not (3 distinct witnesses overall).
    await expect(verifyBundle(witnessed, { ...wtrust, witnessQuorum: 2 })).resolves.toBeTruthy();
    await expectCode(witnessed, 'WITNESS_QUORUM_NOT_MET', { ...wtrust, witnessQuorum: 3 });
    const all3 = await editEntries((es) => [...es, ...entriesBy([WC], 60)].sort(byKey));
    await expect(verifyBundle(all3, { ...wtrust, witnessQuorum: 3 })).resolves.toMatchObject({
      witnesses: { cosigned: 3, checkpointSize: 60 },
    });
  });
  it('cosignatures only over a checkpoint that does not cover the records do not count', async () => {
    // Checkpoint 20 ends before record 29: a witness that saw it says nothing of the range.
    const early = await editEntries((es) =>
      [...es.filter((e) => e.kind === 'rfc3161'), ...entriesBy([WA, WB, WC], 20)].sort(byKey),
    );
    await expectCode(early, 'WITNESS_QUORUM_NOT_MET');
  });
  it('a cosignature by a witness that is not pinned is not counted', async () => {
    const withD = await editEntries((es) =>
      [...es.filter((e) => e.party !== 'wit-b'), ...entriesBy([WD], 60)].sort(byKey),
    );
    await expectCode(withD, 'WITNESS_QUORUM_NOT_MET');
    const r = await verifyBundle(withD, { ...wtrust, witnessQuorum: 1 });
    expect(r.attestations.find((a) => a.party === 'wit-d')?.status).toBe('unknown-witness');
  });
  it('a wrong pinned key for a witness: its lines are by an unknown key and do not count', async () => {
    // WA's name, another key: its key ID differs, so WA's real lines match no pinned witness.
    const wrongA = formatCosignerKey(cosignerFromSecret(WA.name, sha256(utf8('another key'))));
    const t = { ...trust, witnesses: [wrongA, WB.vkey], witnessQuorum: 2 };
    await expectCode(witnessed, 'WITNESS_QUORUM_NOT_MET', t);
    const r = await verifyBundle(witnessed, { ...t, witnessQuorum: 1 });
    expect(r.attestations.find((a) => a.party === 'wit-a')?.status).toBe('unknown-witness');
  });
});

describe('attestations: tampered cosignatures', () => {
  it('a flipped byte in a pinned witness cosignature', async () => {
    const b = await editEntries((es) =>
      es.map((e) => {
        if (e.party !== 'wit-a') return e;
        const line = e.evidence.line as string;
        const i = line.length - 5;
        const c = line[i] === 'A' ? 'B' : 'A';
        return { ...e, evidence: { line: line.slice(0, i) + c + line.slice(i + 1) } };
      }),
    );
    await expectCode(b, 'COSIGNATURE_INVALID');
  });
  it('a cosignature replayed over another checkpoint (moved from 60 to 45)', async () => {
    const b = await editEntries((es) =>
      es.map((e) => (e.party === 'wit-a' ? { ...e, checkpoint: 45 } : e)).sort(byKey),
    );
    await expectCode(b, 'COSIGNATURE_INVALID');
  });
  it('a stale cosignature: a valid one of checkpoint 45 claimed for 60', async () => {
    const b = await editEntries((es) =>
      es.map((e) => (e.party === 'wit-c' ? { ...e, checkpoint: 60 } : e)).sort(byKey),
    );
    await expectCode(b, 'COSIGNATURE_INVALID');
  });
  it('a cosignature that is not a signature line', async () => {
    const b = await editEntries((es) =>
      es.map((e) => (e.party === 'wit-b' ? { ...e, evidence: { line: 'wit-b said yes' } } : e)),
    );
    await expectCode(b, 'COSIGNATURE_INVALID');
  });
  it('one witness counted twice under two party names', async () => {
    const b = await editEntries((es) => {
      const a = es.find((e) => e.party === 'wit-a') as Entry;
      return [...es, { ...a, party: 'wit-a2' }].sort(byKey);
    });
    await expectCode(b, 'MANIFEST_INVALID');
  });
  it('a cosignature over a checkpoint the bundle does not carry', async () => {
    const b = await editEntries((es) =>
      es.map((e) => (e.party === 'wit-c' ? { ...e, checkpoint: 50 } : e)).sort(byKey),
    );
    await expectCode(b, 'MISSING_MEMBER');
  });
});

describe('attestations: the section itself', () => {
  it('an unknown kind is refused, not skipped', async () => {
    const b = await editEntries((es) =>
      [...es, { kind: 'rekor', checkpoint: 60, party: 'rekor', evidence: { line: 'x' } }].sort(byKey),
    );
    await expectCode(b, 'MANIFEST_INVALID');
  });
  it('entries out of order', async () => {
    await expectCode(await editEntries((es) => [...es].reverse()), 'MANIFEST_INVALID');
  });
  it('an rfc3161 entry dropped, or naming a token the bundle lacks', async () => {
    await expectCode(await editEntries((es) => es.filter((e) => e.party !== 'test-rsa')), 'MANIFEST_INVALID');
    await expectCode(
      await editEntries((es) =>
        es.map((e) =>
          e.party === 'test-rsa'
            ? {
                ...e,
                party: 'test-rsb',
                evidence: { response: 'anchors/60/test-rsb.tsr', chain: 'anchors/60/test-rsb.chain.pem' },
              }
            : e,
        ),
      ),
      'MANIFEST_INVALID',
    );
  });
  it('an rfc3161 entry whose evidence names other members', async () => {
    const b = await editEntries((es) =>
      es.map((e) =>
        e.party === 'test-rsa' ? { ...e, evidence: { ...e.evidence, chain: 'keys/log.pem' } } : e,
      ),
    );
    await expectCode(b, 'MANIFEST_INVALID');
  });
  it('a version 2 bundle without attestations.json', async () => {
    const ms = (await members(witnessed)).filter((m: Member) => m.path !== ATT);
    await expectCode(repack(ms, { fix: true }), 'MISSING_MEMBER', trust);
  });
  it('a bundle claiming version 1 but carrying attestations.json', async () => {
    const ms = await members(witnessed);
    const h = find(ms, 'header.json');
    setJson(h, { ...json(h), version: 1 });
    const b = repack(ms, {
      fix: true,
      manifest: (m) => {
        m.version = 1;
      },
    });
    await expectCode(b, 'UNEXPECTED_MEMBER', trust);
  });
  it('pinned witness trust that can never be met is INVALID_TRUST', async () => {
    await expectCode(witnessed, 'INVALID_TRUST', { ...wtrust, witnessQuorum: 4 });
    await expectCode(witnessed, 'INVALID_TRUST', { ...wtrust, witnesses: ['not a vkey'] });
  });
});
