/**
 * `anchorlog verify` with witness keys pinned in TRUST.json (docs/witnessing.md §What an
 * auditor checks): cosignatures in the bundle's attestations.json are checked offline and the
 * quorum enforced; stable codes in text and JSON; version 1 bundles still verify.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/cli/verify.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { vkeyFromSpki } from '../../src/core/note/index.ts';
import {
  checkpointNote,
  cosign,
  exportBundle,
  find,
  json,
  makeLog,
  members,
  repack,
  setJson,
  TSA_ROOTS_PEM,
  testWitness,
} from '../core/bundle/fixture.ts';
import { captureIo } from './support.ts';

const files: Record<string, Uint8Array> = {};
const WA = testWitness('wit-a');
const WB = testWitness('wit-b');
const RANGE = { fromTime: '2025-06-01T00:05:00.000Z', toTime: '2025-06-01T00:15:00.000Z' };

beforeAll(async () => {
  const log = makeLog(30);
  const note = await checkpointNote(log, 30);
  const witnessed = await exportBundle(log, {
    ...RANGE,
    notes: [note],
    cosignatures: cosign([WA, WB], note, 30),
  });
  files['/mem/witnessed.tar'] = witnessed;
  files['/mem/plain.tar'] = await exportBundle(log, { ...RANGE, notes: [note] });
  const ms = await members(witnessed);
  const att = find(ms, 'attestations.json');
  const j = json(att) as { attestations: { party: string; evidence: { line?: string } }[] };
  for (const a of j.attestations)
    if (a.party === 'wit-b' && a.evidence.line) a.evidence.line = `${a.evidence.line.slice(0, -6)}AAAAA=`;
  setJson(att, j);
  files['/mem/bad-cosig.tar'] = repack(ms, { fix: true });
  const trust = { logKeys: [vkeyFromSpki(log.origin, log.signer.publicKeySpki)], tsaRoots: TSA_ROOTS_PEM };
  files['/mem/trust.json'] = utf8(JSON.stringify(trust));
  files['/mem/witnesses.json'] = utf8(
    JSON.stringify({ ...trust, witnesses: [WA.vkey, WB.vkey], witnessQuorum: 2 }),
  );
  files['/mem/witnesses-0.json'] = utf8(
    JSON.stringify({ ...trust, witnesses: [WA.vkey, WB.vkey], witnessQuorum: 0 }),
  );
  const v1 = new URL('../fixtures/bundle-v1/', import.meta.url);
  files['/mem/v1.tar'] = new Uint8Array(readFileSync(new URL('range.tar', v1)));
  files['/mem/v1-trust.json'] = new Uint8Array(readFileSync(new URL('TRUST.json', v1)));
});

async function run(...argv: string[]) {
  const io = captureIo(files);
  const code = await runVerify(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('anchorlog verify: witness cosignatures (TRUST.json witnesses, witnessQuorum)', () => {
  it('a bundle cosigned by the quorum: exit 0, one line per cosignature', async () => {
    const r = await run('/mem/witnessed.tar', '--trust', '/mem/witnesses.json');
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('witnesses:   2 of 2 pinned cosigned checkpoint 30 (quorum 2)');
    expect(r.out).toMatch(
      /wit-a: cosigned at 2026-05-28T\S+Z \(wit-a\.witness\.test\+[0-9a-f]{8}\), checkpoint 30/,
    );
    expect(r.out).toContain('witnessed: 2 of 2 pinned witness(es) cosigned checkpoint 30');
    const j = await run('/mem/witnessed.tar', '--trust', '/mem/witnesses.json', '--json');
    expect(JSON.parse(j.out)).toMatchObject({
      ok: true,
      format: 2,
      witnesses: { pinned: 2, quorum: 2, cosigned: 2, checkpointSize: 30 },
    });
  });
  it('a bundle without cosignatures: exit 1, WITNESS_QUORUM_NOT_MET (text and JSON)', async () => {
    const r = await run('/mem/plain.tar', '--trust', '/mem/witnesses.json');
    expect(r.code).toBe(1);
    expect(r.out).toContain('WITNESS_QUORUM_NOT_MET');
    const j = await run('/mem/plain.tar', '--trust', '/mem/witnesses.json', '--json');
    expect(JSON.parse(j.out)).toMatchObject({ ok: false, error: { code: 'WITNESS_QUORUM_NOT_MET' } });
    // Without witnesses pinned, the same bundle is proved as before.
    expect((await run('/mem/plain.tar', '--trust', '/mem/trust.json')).code).toBe(0);
    expect((await run('/mem/plain.tar', '--trust', '/mem/witnesses-0.json')).code).toBe(0);
  });
  it('a tampered cosignature: exit 1, COSIGNATURE_INVALID', async () => {
    const j = await run('/mem/bad-cosig.tar', '--trust', '/mem/witnesses.json', '--json');
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out)).toMatchObject({
      error: { code: 'COSIGNATURE_INVALID', member: 'attestations.json' },
    });
  });
  it('a version 1 bundle still verifies with the CLI', async () => {
    const r = await run('/mem/v1.tar', '--trust', '/mem/v1-trust.json', '--json');
    expect(r.code, r.out).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, format: 1 });
  });
});
