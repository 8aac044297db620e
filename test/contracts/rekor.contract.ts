/**
 * The Rekor contract (src/ports/rekor.ts), run against every implementation by
 * test/contracts/memory.test.ts (MemoryRekor) and aws.test.ts (HttpRekor against the local
 * Rekor v2 stand-in, src/local/rekor.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hash.ts';
import type { NoteVerifier } from '../../src/core/note/verifiers.ts';
import { parseRekorEntry, verifyRekorEntry } from '../../src/core/rekor/index.ts';
import type { RekorLog } from '../../src/ports/rekor.ts';

export interface RekorUnderTest {
  readonly rekor: RekorLog;
  /** The log's checkpoint key. */
  readonly logKey: NoteVerifier;
}

export function rekorContract(name: string, make: () => Promise<RekorUnderTest>): void {
  describe(`Rekor contract: ${name}`, () => {
    let r: RekorUnderTest;
    const key = LocalNoteSigner.generate('contract-anchor');
    beforeAll(async () => {
      r = await make();
    });
    const request = async (data: string) => {
      const bytes = utf8(data);
      return { digest: sha256(bytes), signature: await key.sign(bytes), spki: key.publicKeySpki };
    };

    it('resolves a TransparencyLogEntry that verifies: our digest and key, included under the log key', async () => {
      const req = await request('checkpoint one');
      const entry = parseRekorEntry(await r.rekor.createEntry(req));
      const v = verifyRekorEntry(entry, req.digest, { logKeys: [r.logKey], anchorKeys: [key.publicKeySpki] });
      expect(v.origin).toBe(r.logKey.name);
      const next = parseRekorEntry(await r.rekor.createEntry(await request('checkpoint two')));
      expect(next.logIndex).toBe(v.logIndex + 1);
      expect(next.inclusionProof.treeSize).toBe(v.treeSize + 1);
    });

    it('refuses a signature that does not verify over the digest with REKOR_BAD_REQUEST', async () => {
      const req = await request('checkpoint three');
      await expect(r.rekor.createEntry({ ...req, digest: sha256(utf8('another')) })).rejects.toMatchObject({
        code: 'REKOR_BAD_REQUEST',
      });
    });
  });
}
