// cosignature/v1 and verifyWitnessedCheckpoint against the real cosigned Rekor v2
// staging checkpoint (test/fixtures/witness/SOURCE.md), plus property tests.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { NoteError, parseNote, parseVerifierKey, verifyNote } from '../../../src/core/note/index.ts';
import { formatSignatureLine } from '../../../src/core/note/signed-note.ts';
import {
  cosignedMessage,
  cosigner,
  cosignerFromSecret,
  cosignerKeyId,
  formatCosignerKey,
  formatTlogPolicy,
  parseCosignerKey,
  signCosignature,
  splitCosignature,
  verifyCosignature,
  verifyWitnessedCheckpoint,
  WitnessError,
  witnessPolicy,
} from '../../../src/core/witness/index.ts';
import { fixture, fixtureLines, seed, testLog } from './support.ts';

const NOTE = fixture('rekor-staging-alpha3-4026479-witnessed.note');
const LOG_KEY = parseVerifierKey(fixtureLines('log-vkey.txt')[0] as string);
const WITNESSES = fixtureLines('witness-vkeys.txt').map(parseCosignerKey);

describe('cosigner keys (type 0x04)', () => {
  it('parses the published witness vkeys: their key IDs are SHA-256(name ‖ 0x0A ‖ 0x04 ‖ key)[:4]', () => {
    expect(WITNESSES.map((w) => `${w.name}+${toHex(w.keyId)}`)).toEqual([
      'witness.navigli.sunlight.geomys.org+a3e00fe2',
      'witness.stagemole.eu+67f7aea0',
      'staging.witness.transparency.goog/ring-any-bells+2e1a8dc9',
    ]);
    for (const w of WITNESSES) expect(toHex(cosignerKeyId(w.name, w.publicKey))).toBe(toHex(w.keyId));
  });

  it('round-trips a vkey', () => {
    for (const line of fixtureLines('witness-vkeys.txt'))
      expect(formatCosignerKey(parseCosignerKey(line))).toBe(line);
  });

  it.each([
    ['wrong key ID', 'witness.stagemole.eu+67f7aea1+BEqSG3yu9YrmcM3BHvQYTxwFj3uSWakQepafafpUqklv'],
    [
      'renamed key (its ID commits to the name)',
      'witness.example+67f7aea0+BEqSG3yu9YrmcM3BHvQYTxwFj3uSWakQepafafpUqklv',
    ],
    [
      'type 0x01 (a note key, not a cosigner)',
      'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    ],
    ['not a vkey', 'witness.example'],
  ])('refuses %s with MALFORMED_COSIGNER_KEY', (_, vkey) => {
    expect(() => parseCosignerKey(vkey)).toThrow(expect.objectContaining({ code: 'MALFORMED_COSIGNER_KEY' }));
  });
});

describe('the real witnessed Rekor v2 checkpoint', () => {
  const policy = witnessPolicy(WITNESSES, 3);

  it('verifies the log signature and all three cosignatures with their published keys', () => {
    const r = verifyWitnessedCheckpoint(NOTE, [LOG_KEY], policy);
    expect(r.checkpoint.origin).toBe('log2025-alpha3.rekor.sigstage.dev');
    expect(r.checkpoint.size).toBe(4026479);
    expect(r.witnesses.map((w) => [w.name, w.status, w.timestamp])).toEqual([
      ['witness.navigli.sunlight.geomys.org', 'cosigned', 1778700214],
      ['witness.stagemole.eu', 'cosigned', 1778700214],
      ['staging.witness.transparency.goog/ring-any-bells', 'cosigned', 1778700214],
    ]);
    expect(r.quorumMet).toBe(true);
  });

  it('is still a valid signed note for a parser that knows only the log key (cosignature lines are ignored)', () => {
    const v = verifyNote(NOTE, [LOG_KEY]);
    expect(v.ignored.map((s) => s.name)).toHaveLength(3);
  });

  it('a cosignature from the future is not counted when the verifier knows the time', () => {
    const r = verifyWitnessedCheckpoint(NOTE, [LOG_KEY], policy, { now: 1778700214 - 3600 });
    expect(r.witnesses.every((w) => w.status === 'future')).toBe(true);
    expect(r.quorumMet).toBe(false);
  });

  it('a tampered cosignature line does not count, the others do', () => {
    const lines = NOTE.split('\n');
    const i = lines.findIndex((l) => l.startsWith('— witness.stagemole.eu '));
    const sig = parseNote(NOTE).signatures.find((s) => s.name === 'witness.stagemole.eu');
    if (!sig) throw new Error('fixture lacks the stagemole line');
    const bad = sig.signature.slice();
    bad[20] = (bad[20] as number) ^ 1;
    lines[i] = formatSignatureLine({ ...sig, signature: bad });
    const r = verifyWitnessedCheckpoint(lines.join('\n'), [LOG_KEY], policy);
    expect(r.witnesses.find((w) => w.name === 'witness.stagemole.eu')?.status).toBe('invalid');
    expect(r.cosigned).toBe(2);
    expect(r.quorumMet).toBe(false);
    expect(
      verifyWitnessedCheckpoint(lines.join('\n'), [LOG_KEY], witnessPolicy(WITNESSES, 2)).quorumMet,
    ).toBe(true);
  });

  it('a cosignature replayed with another timestamp does not verify', () => {
    const sig = parseNote(NOTE).signatures.find((s) => s.name === 'witness.stagemole.eu');
    if (!sig) throw new Error('fixture lacks the stagemole line');
    const replayed = sig.signature.slice();
    replayed[7] = (replayed[7] as number) + 1;
    const w = WITNESSES[1];
    if (!w) throw new Error('no witness');
    expect(verifyCosignature(w, parseNote(NOTE).text, { ...sig, signature: replayed })).toBeUndefined();
    expect(verifyCosignature(w, parseNote(NOTE).text, sig)).toBe(1778700214);
  });

  it('a tampered body fails the log signature: NoteError, no witness report', () => {
    const tampered = NOTE.replace('4026479', '4026480');
    expect(() => verifyWitnessedCheckpoint(tampered, [LOG_KEY], policy)).toThrow(NoteError);
  });

  it('a witness with the wrong key is missing (its key ID differs), not cosigned', () => {
    const impostor = cosignerFromSecret('witness.stagemole.eu', seed(9));
    const r = verifyWitnessedCheckpoint(NOTE, [LOG_KEY], witnessPolicy([impostor], 1));
    expect(r.witnesses[0]?.status).toBe('missing');
    expect(r.quorumMet).toBe(false);
  });

  it('any single-byte change in a cosignature line breaks exactly that cosignature (property)', () => {
    const parsed = parseNote(NOTE);
    const witnessSigs = parsed.signatures.filter((s) => s.name !== LOG_KEY.name);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: witnessSigs.length - 1 }),
        fc.integer({ min: 0, max: 71 }),
        fc.integer({ min: 1, max: 255 }),
        (which, at, xor) => {
          const sig = witnessSigs[which];
          const w = WITNESSES.find((c) => c.name === sig?.name);
          if (!sig || !w) throw new Error('fixture mismatch');
          const changed = sig.signature.slice();
          changed[at] = (changed[at] as number) ^ xor;
          expect(verifyCosignature(w, parsed.text, { ...sig, signature: changed })).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('any single-byte change anywhere in the witnessed note: refused, or the 3-of-3 quorum is no longer met (property)', () => {
    const bytes = utf8(NOTE);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: bytes.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (at, xor) => {
          const changed = bytes.slice();
          changed[at] = (changed[at] as number) ^ xor;
          let met: boolean;
          try {
            met = verifyWitnessedCheckpoint(changed, [LOG_KEY], policy).quorumMet;
          } catch (err) {
            expect(err).toBeInstanceOf(NoteError);
            return;
          }
          expect(met).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('any single-byte change in the cosigned note text breaks every cosignature over it (property)', () => {
    const parsed = parseNote(NOTE);
    const bytes = utf8(parsed.text);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: bytes.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (at, xor) => {
          const changed = bytes.slice();
          changed[at] = (changed[at] as number) ^ xor;
          let text: string;
          try {
            text = new TextDecoder('utf-8', { fatal: true }).decode(changed);
          } catch {
            return; // not UTF-8: no parser would get this far
          }
          for (const w of WITNESSES) {
            const sig = parsed.signatures.find((s) => s.name === w.name);
            if (!sig) throw new Error('fixture mismatch');
            expect(verifyCosignature(w, text, sig)).toBeUndefined();
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('signing cosignature/v1', () => {
  it('produces the spec message and a line that verifies', async () => {
    expect(new TextDecoder().decode(cosignedMessage('o\n1\nAAAA\n', 1679315147))).toBe(
      'cosignature/v1\ntime 1679315147\no\n1\nAAAA\n',
    );
    const log = testLog();
    log.append(3);
    const note = await log.checkpoint();
    const text = parseNote(note).text;
    const sig = signCosignature('witness.test/w1', seed(1), text, 1700000000);
    const w = cosignerFromSecret('witness.test/w1', seed(1));
    expect(splitCosignature(sig.signature).timestamp).toBe(1700000000);
    expect(verifyCosignature(w, text, sig)).toBe(1700000000);
    const cosigned = `${note}${formatSignatureLine(sig)}\n`;
    const r = verifyWitnessedCheckpoint(cosigned, [log.verifier], witnessPolicy([w], 1));
    expect(r.witnesses[0]).toMatchObject({ status: 'cosigned', timestamp: 1700000000 });
  });

  it('refuses a policy naming one key twice (the v1 message does not commit to the name)', () => {
    const a = cosignerFromSecret('w.test/a', seed(1));
    const b = cosigner('w.test/b', a.publicKey);
    expect(() => witnessPolicy([a, b], 1)).toThrow(expect.objectContaining({ code: 'DUPLICATE_COSIGNER' }));
  });

  it.each([-1, 3, 1.5])('refuses quorum %s of 2 with INVALID_POLICY', (k) => {
    const ws = [cosignerFromSecret('w.test/a', seed(1)), cosignerFromSecret('w.test/b', seed(2))];
    expect(() => witnessPolicy(ws, k)).toThrow(WitnessError);
  });

  it('quorum boundaries: k-1 cosignatures fail, k pass, 0 means none needed', async () => {
    const log = testLog();
    log.append(5);
    const note = await log.checkpoint();
    const text = parseNote(note).text;
    const ws = [1, 2, 3].map((i) => cosignerFromSecret(`w.test/${i}`, seed(i)));
    const two = `${note}${[1, 2].map((i) => `${formatSignatureLine(signCosignature(`w.test/${i}`, seed(i), text, 5))}\n`).join('')}`;
    expect(verifyWitnessedCheckpoint(two, [log.verifier], witnessPolicy(ws, 3)).quorumMet).toBe(false);
    expect(verifyWitnessedCheckpoint(two, [log.verifier], witnessPolicy(ws, 2)).quorumMet).toBe(true);
    expect(verifyWitnessedCheckpoint(note, [log.verifier], witnessPolicy(ws, 0)).quorumMet).toBe(true);
    expect(verifyWitnessedCheckpoint(note, [log.verifier], witnessPolicy(ws, 1)).quorumMet).toBe(false);
  });

  it('writes the policy as a tlog-policy file', () => {
    const ws = [cosignerFromSecret('w.test/a', seed(1)), cosignerFromSecret('w.test/b', seed(2))];
    const text = formatTlogPolicy(['log+00000000+AA'], witnessPolicy(ws, 2));
    expect(text).toMatch(/^log log\+00000000\+AA\nwitness w1 w\.test\/a\+[0-9a-f]{8}\+/);
    expect(text.endsWith('group anchorlog-witnesses 2 w1 w2\nquorum anchorlog-witnesses\n')).toBe(true);
    expect(formatTlogPolicy([], witnessPolicy(ws, 0))).toContain('quorum none\n');
  });
});
