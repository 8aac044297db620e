/**
 * What `verifyBundle` says about time when a pinned TSA lies (issue #11,
 * docs/bundle.md §Time-stamps). The hostile TSA is a real one (src/adapters/memory/tsa-pki.ts:
 * pkijs, a CA of its own, a token a conforming TSA would send) whose genTime
 * and accuracy are whatever the test asks; the honest ones are the fixture's
 * in-process TSAs or further mock PKIs.
 *
 *  - a token dated before records its checkpoint covers is impossible for an
 *    honest TSA, and no claimed accuracy makes it possible: the verifier
 *    credits at most 60 s of it (TIMESTAMP_BEFORE_RECORDS);
 *  - "existed by" is genTime + accuracy, the latest moment the token allows;
 *  - "existed by" needs a quorum of distinct pinned TSAs (distinct roots): it
 *    is the k-th earliest of their times, so one backdating TSA cannot set it,
 *    and fewer than k is TIMESTAMP_QUORUM_NOT_MET.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createPki, issueToken, type MockPki, response } from '../../../src/adapters/memory/tsa-pki.ts';
import {
  type BundleAnchorInput,
  BundleError,
  type BundleReport,
  type BundleTrust,
  verifyBundle,
} from '../../../src/core/bundle/index.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { vkeyFromSpki } from '../../../src/core/note/index.ts';
import { anchorsFor, checkpointNote, exportBundle, makeLog, type TestLog, TSA_ROOTS } from './fixture.ts';

let log: TestLog;
let notes: Map<number, string>;
/** Three TSAs with a root each: a, b, c. */
let pkis: Record<'a' | 'b' | 'c', MockPki>;

// Records 0..11 are received at 00:00, 00:01, … 00:11; the range is records 2..7,
// so the bundle holds records 1..8 (with the neighbours), the last received at 00:08.
const FROM = '2025-06-01T00:02:00.000Z';
const TO = '2025-06-01T00:08:00.000Z';
const at = (hms: string) => new Date(`2025-06-01T${hms}Z`);

beforeAll(async () => {
  log = makeLog(12);
  notes = new Map([
    [10, await checkpointNote(log, 10)],
    [12, await checkpointNote(log, 12)],
  ]);
  const [a, b, c] = await Promise.all([createPki(), createPki(), createPki()]);
  pkis = { a: a as MockPki, b: b as MockPki, c: c as MockPki };
});

const trust = (extra: Partial<BundleTrust> = {}): BundleTrust => ({
  logKeys: [vkeyFromSpki(log.origin, log.signer.publicKeySpki)],
  tsaRoots: [pkis.a.root.der, pkis.b.root.der, pkis.c.root.der],
  ...extra,
});

interface Stamp {
  readonly by: 'a' | 'b' | 'c';
  readonly genTime: Date;
  readonly accuracy?: { seconds?: number; millis?: number } | null;
  readonly size?: number;
  /** Member name; default the PKI's letter. */
  readonly name?: string;
}

async function stamp(s: Stamp, serial: number): Promise<BundleAnchorInput> {
  const pki = pkis[s.by];
  const size = s.size ?? 10;
  const token = await issueToken(pki, {
    data: utf8(notes.get(size) as string),
    genTime: s.genTime,
    serial,
    ...(s.accuracy === undefined ? {} : { accuracy: s.accuracy }),
  });
  return {
    size,
    tsa: s.name ?? s.by,
    response: response({ token }),
    chain: [pki.tsa.der, pki.intermediate.der, pki.root.der],
  };
}

async function bundleOf(stamps: readonly Stamp[], extra: BundleAnchorInput[] = []): Promise<Uint8Array> {
  const anchors = [...(await Promise.all(stamps.map((s, i) => stamp(s, i + 1)))), ...extra];
  const sizes = [...new Set(anchors.map((a) => a.size))].sort((x, y) => x - y);
  anchors.sort((x, y) => x.size - y.size || (x.tsa < y.tsa ? -1 : 1));
  return exportBundle(log, {
    fromTime: FROM,
    toTime: TO,
    checkpoints: sizes,
    notes: sizes.map((n) => notes.get(n) as string),
    anchors,
  });
}

const refusal = (p: Promise<BundleReport>) =>
  p.then(
    (r) => `resolved: ${r.proved.find((l) => l.startsWith('existed by'))}`,
    (e: unknown) => (e instanceof BundleError ? e.code : String(e)),
  );

/** The time of the report's "existed by …:" claim. */
function existedBy(r: BundleReport): string {
  const line = r.proved.find((l) => l.startsWith('existed by ')) as string;
  return line.slice('existed by '.length, line.indexOf(': '));
}

describe('a token dated before the records it covers', () => {
  it('is refused whatever accuracy it claims (3 months early, accuracy ±92 days)', async () => {
    const b = await bundleOf([
      { by: 'a', genTime: new Date('2025-03-01T00:00:00Z'), accuracy: { seconds: 8_000_000 } },
    ]);
    expect(await refusal(verifyBundle(b, trust({ tsaQuorum: 1 })))).toBe('TIMESTAMP_BEFORE_RECORDS');
  });

  it('gets at most 60 s of its accuracy as slack', async () => {
    // Record 8 was received at 00:08:00. genTime 00:06:59 claiming ±120 s would reach 00:08:59,
    // but only 60 s are credited: 00:06:59 + 60 s + 999 ms (whole-second genTime) < 00:08:00.
    const early = await bundleOf([{ by: 'a', genTime: at('00:06:59'), accuracy: { seconds: 120 } }]);
    const e = await verifyBundle(early, trust({ tsaQuorum: 1 })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BundleError);
    expect((e as BundleError).code).toBe('TIMESTAMP_BEFORE_RECORDS');
    expect((e as BundleError).index).toBe(8);
    expect((e as BundleError).member).toBe('anchors/10/a.tsr');
    // 00:07:01 + 60 s reaches 00:08:01: possible for an honest TSA whose clock is a minute slow.
    const slow = await bundleOf([{ by: 'a', genTime: at('00:07:01'), accuracy: { seconds: 60 } }]);
    await expect(verifyBundle(slow, trust({ tsaQuorum: 1 }))).resolves.toMatchObject({ ok: true });
  });
});

describe('"existed by"', () => {
  it('is genTime + accuracy (+ 999 ms for a whole-second genTime): the latest moment the token allows', async () => {
    const b = await bundleOf([{ by: 'a', genTime: at('00:20:00'), accuracy: { seconds: 30 } }]);
    const r = await verifyBundle(b, trust({ tsaQuorum: 1 }));
    expect(existedBy(r)).toBe('2025-06-01T00:20:30.999Z');
    expect(r.anchors[0]).toMatchObject({
      genTime: '2025-06-01T00:20:00.000Z',
      accuracyMs: 30_000,
      existedBy: '2025-06-01T00:20:30.999Z',
    });
    expect(r.timeStamps).toEqual({ quorum: 1, distinctTsas: 1, existedBy: '2025-06-01T00:20:30.999Z' });
  });

  it('a token without accuracy and with milliseconds allows no slack', async () => {
    const b = await bundleOf([{ by: 'a', genTime: new Date('2025-06-01T00:20:00.250Z'), accuracy: null }]);
    const r = await verifyBundle(b, trust({ tsaQuorum: 1 }));
    expect(existedBy(r)).toBe('2025-06-01T00:20:00.250Z');
  });
});

describe('"existed by" needs a quorum of distinct pinned TSAs', () => {
  const three: Stamp[] = [
    { by: 'a', genTime: at('00:09:00') }, // backdates: just after the last record of the bundle
    { by: 'b', genTime: at('00:30:00') },
    { by: 'c', genTime: at('00:40:00') },
  ];

  it('one backdating TSA does not set it: the default quorum with 3 pinned roots is 2', async () => {
    const r = await verifyBundle(await bundleOf(three), trust());
    expect(existedBy(r)).toBe('2025-06-01T00:30:01.999Z'); // b's genTime + 1 s accuracy + 999 ms
    expect(r.timeStamps).toEqual({ quorum: 2, distinctTsas: 3, existedBy: '2025-06-01T00:30:01.999Z' });
    expect(r.proved.find((l) => l.startsWith('existed by'))).toContain('(b)');
  });

  it('is the k-th earliest time of the distinct TSAs (tsaQuorum k)', async () => {
    const b = await bundleOf(three);
    expect(existedBy(await verifyBundle(b, trust({ tsaQuorum: 1 })))).toBe('2025-06-01T00:09:01.999Z');
    expect(existedBy(await verifyBundle(b, trust({ tsaQuorum: 3 })))).toBe('2025-06-01T00:40:01.999Z');
  });

  it('the same reasoning with the fixture TSAs stamping in the present', async () => {
    const honest = await anchorsFor(notes.get(10) as string, 10);
    const b = await bundleOf([{ by: 'a', genTime: at('00:15:00') }], honest);
    const tsaRoots = [...TSA_ROOTS, pkis.a.root.der];
    const r = await verifyBundle(b, { ...trust(), tsaRoots });
    const honestTimes = r.anchors.filter((a) => a.tsa !== 'a').map((a) => Date.parse(a.genTime));
    expect(Date.parse(existedBy(r))).toBeGreaterThanOrEqual(Math.min(...honestTimes));
  });

  it('fewer distinct TSAs than the quorum: TIMESTAMP_QUORUM_NOT_MET', async () => {
    const one = await bundleOf([{ by: 'a', genTime: at('00:09:00') }]);
    expect(await refusal(verifyBundle(one, trust()))).toBe('TIMESTAMP_QUORUM_NOT_MET');
    expect(await refusal(verifyBundle(await bundleOf(three), trust({ tsaQuorum: 3 })))).not.toMatch(/QUORUM/);
  });

  it('two tokens under one root are one TSA', async () => {
    const twins = await bundleOf([
      { by: 'a', genTime: at('00:09:00'), name: 'a-primary' },
      { by: 'a', genTime: at('00:09:30'), name: 'a-secondary' },
    ]);
    expect(await refusal(verifyBundle(twins, trust()))).toBe('TIMESTAMP_QUORUM_NOT_MET');
  });

  it('tokens over different covering checkpoints count together; each TSA votes with its earliest', async () => {
    const b = await bundleOf([
      { by: 'a', genTime: at('00:50:00'), size: 10 },
      { by: 'a', genTime: at('00:20:00'), size: 12 },
      { by: 'b', genTime: at('00:25:00'), size: 12 },
    ]);
    const r = await verifyBundle(b, trust());
    expect(r.timeStamps).toEqual({ quorum: 2, distinctTsas: 2, existedBy: '2025-06-01T00:25:01.999Z' });
  });

  it('a quorum the pinned roots can never meet is a trust error', async () => {
    const b = await bundleOf(three);
    for (const tsaQuorum of [0, 4, 1.5, Number.NaN])
      expect(await refusal(verifyBundle(b, trust({ tsaQuorum })))).toBe('INVALID_TRUST');
  });
});
