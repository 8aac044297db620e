/**
 * The Rekor v2 stand-in's log (src/core/rekor/stand-in.ts) against the core's verifier, as
 * properties: every entry it returns for a valid request verifies under its key, for any number
 * of earlier entries; flipping any one byte of the entry's body, proof hashes or root makes it
 * fail with a RekorError (never verify, never another exception). Requests rekor-tiles would
 * refuse are refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../../src/adapters/memory/local-signer.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { canonicalBytes } from '../../../src/core/canonical.ts';
import { sha256 } from '../../../src/core/hash.ts';
import { verifierFromSpki } from '../../../src/core/note/verifiers.ts';
import {
  hashedRekordRequest,
  parseRekorEntry,
  type RekorEntry,
  RekorError,
  verifyRekorEntry,
} from '../../../src/core/rekor/index.ts';
import {
  parseCreateEntryRequest,
  RekorRequestError,
  RekorStandInLog,
} from '../../../src/core/rekor/stand-in.ts';

const logSigner = LocalNoteSigner.generate('rekor.stand-in.test', 'ed25519');
const anchor = LocalNoteSigner.generate('anchor');
const trust = {
  logKeys: [verifierFromSpki(logSigner.keyName, logSigner.publicKeySpki)],
  anchorKeys: [anchor.publicKeySpki],
};

async function request(data: Uint8Array) {
  return { digest: sha256(data), signature: await anchor.sign(data), spki: anchor.publicKeySpki };
}

function outcome(e: RekorEntry, digest: Uint8Array): string {
  try {
    verifyRekorEntry(e, digest, trust);
    return 'verified';
  } catch (err) {
    if (err instanceof RekorError) return err.code;
    throw err;
  }
}

describe('Rekor v2 stand-in log', () => {
  it('every entry verifies; any one flipped byte of body, proof or root is refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.nat(),
        async (before, data, pick) => {
          const log = new RekorStandInLog(logSigner);
          for (let i = 0; i < before; i++) await log.add(await request(utf8(`other ${i}`)));
          const req = await request(data);
          const e = parseRekorEntry(await log.add(req));
          expect(e.logIndex).toBe(before);
          expect(outcome(e, req.digest)).toBe('verified');
          const p = e.inclusionProof;
          const targets: Uint8Array[] = [e.canonicalizedBody, p.rootHash, ...p.hashes];
          const t = targets[pick % targets.length] as Uint8Array;
          const flipped = t.slice();
          const at = pick % flipped.length;
          flipped[at] = (flipped[at] as number) ^ (1 << (pick % 8));
          const edited: RekorEntry =
            t === e.canonicalizedBody
              ? { ...e, canonicalizedBody: flipped }
              : t === p.rootHash
                ? { ...e, inclusionProof: { ...p, rootHash: flipped } }
                : { ...e, inclusionProof: { ...p, hashes: p.hashes.map((h) => (h === t ? flipped : h)) } };
          expect(outcome(edited, req.digest)).not.toBe('verified');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses what rekor-tiles refuses: a signature not over the digest, a short digest, another kind', async () => {
    const req = await request(utf8('x'));
    const wire = (o: object) => canonicalBytes(o);
    const bad = [
      wire(hashedRekordRequest(sha256(utf8('y')), req.signature, req.spki)),
      wire(hashedRekordRequest(req.digest.slice(0, 20), req.signature, req.spki)),
      wire({ dsseRequestV002: {} }),
      utf8('not json'),
    ];
    for (const b of bad) expect(() => parseCreateEntryRequest(b)).toThrow(RekorRequestError);
    expect(
      parseCreateEntryRequest(wire(hashedRekordRequest(req.digest, req.signature, req.spki))).digest,
    ).toEqual(req.digest);
  });
});
