/**
 * The attestation verifier dispatch (src/core/attestation): one call for every kind, each
 * judged by its own function. Witness cosignatures against the real cosigned Rekor v2 staging
 * checkpoint (test/fixtures/witness, three public witnesses); RFC 3161 against a real token
 * from the in-process TSA of the bundle tests.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AttestationError,
  type CosignatureAttestation,
  verifyAttestation,
} from '../../../src/core/attestation/index.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { formatSignatureLine, parseNote } from '../../../src/core/note/signed-note.ts';
import { parseCosignerKey } from '../../../src/core/witness/index.ts';
import { TSA_ROOTS, timestamp } from '../bundle/fixture.ts';

const dir = new URL('../../fixtures/witness/', import.meta.url);
const note = new Uint8Array(readFileSync(new URL('rekor-staging-alpha3-4026479-witnessed.note', dir)));
const witnesses = readFileSync(new URL('witness-vkeys.txt', dir), 'utf8')
  .trim()
  .split('\n')
  .map(parseCosignerKey);
const lines = parseNote(note).signatures.slice(1).map(formatSignatureLine);
const SIZE = 4026479;

const cosig = (line: string, party = 'w'): CosignatureAttestation => ({
  kind: 'witness-cosignature',
  checkpoint: SIZE,
  party,
  evidence: { line },
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AttestationError);
    return (e as AttestationError).code;
  }
  return 'verified';
}

describe('attestations: witness-cosignature', () => {
  it('the three public witnesses cosigned the real Rekor v2 checkpoint', async () => {
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      const v = await verifyAttestation(cosig(line), note, { witnesses });
      expect(v).toMatchObject({ kind: 'witness-cosignature', status: 'verified', timestamp: 1778700214 });
    }
  });
  it('a line by a witness that is not trusted is unknown-party, not an error', async () => {
    const others = witnesses.filter((w) => w.name !== 'witness.stagemole.eu');
    const v = await verifyAttestation(cosig(lines[0] as string), note, { witnesses: others });
    expect(v.status).toBe('unknown-party');
    const none = await verifyAttestation(cosig(lines[0] as string), note, {});
    expect(none).toMatchObject({ status: 'unknown-party', name: 'witness.stagemole.eu', keyId: '67f7aea0' });
  });
  it('any change to a trusted line is refused (never counted, never skipped)', async () => {
    const line = lines[1] as string;
    // Base64 characters from 8 on encode bytes 6 and later: past the 4-byte key ID, so the line stays the witness's.
    const sigStart = line.lastIndexOf(' ') + 1 + 8;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: sigStart, max: line.length - 3 }), async (i) => {
        const c = line[i] === 'A' ? 'B' : 'A';
        const bad = line.slice(0, i) + c + line.slice(i + 1);
        const r = await code(verifyAttestation(cosig(bad), note, { witnesses }));
        expect(['BAD_ATTESTATION', 'MALFORMED_EVIDENCE']).toContain(r);
      }),
      { numRuns: 60 },
    );
  });
  it('a cosignature over another checkpoint text does not verify', async () => {
    const other = utf8(new TextDecoder().decode(note).replace('4026479', '4026480'));
    expect(await code(verifyAttestation(cosig(lines[0] as string), other, { witnesses }))).toBe(
      'BAD_ATTESTATION',
    );
  });
  it('evidence that is not exactly one signature line is malformed', async () => {
    for (const line of [`${lines[0]}\n${lines[1]}`, 'not a line', `${lines[0]} extra`, ''])
      expect(await code(verifyAttestation(cosig(line), note, { witnesses }))).toBe('MALFORMED_EVIDENCE');
  });
});

describe('attestations: rfc3161 through the same dispatch', () => {
  const checkpoint = utf8(
    'anchorlog.test/x\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— anchorlog.test/x AAAA\n',
  );
  it('a real token over the checkpoint bytes verifies against pinned roots', async () => {
    const t = await timestamp(checkpoint, 'ecdsa');
    const v = await verifyAttestation(
      { kind: 'rfc3161', checkpoint: 5, party: 'tsa-a', evidence: { response: t.response, chain: t.chain } },
      checkpoint,
      { tsaRoots: TSA_ROOTS },
    );
    expect(v.kind).toBe('rfc3161');
  });
  it('a token over other bytes is BAD_ATTESTATION with the TimestampError as cause', async () => {
    const t = await timestamp(utf8('other'), 'rsa');
    const p = verifyAttestation(
      { kind: 'rfc3161', checkpoint: 5, party: 'tsa-b', evidence: { response: t.response, chain: t.chain } },
      checkpoint,
      { tsaRoots: TSA_ROOTS },
    );
    expect(await code(p)).toBe('BAD_ATTESTATION');
  });
});
