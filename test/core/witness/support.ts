// Shared helpers for the witness core tests: a tiny log (leaves → checkpoints
// signed by a local P-256 key) and witness keys.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalNoteSigner } from '../../../src/adapters/memory/local-signer.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { hashLeaf } from '../../../src/core/merkle/hasher.ts';
import { consistencyProof } from '../../../src/core/merkle/proof-from-leaves.ts';
import { rootOfRange } from '../../../src/core/merkle/root.ts';
import { formatCheckpoint } from '../../../src/core/note/checkpoint.ts';
import { signNote } from '../../../src/core/note/sign.ts';
import { ecdsaP256Verifier, type NoteVerifier } from '../../../src/core/note/verifiers.ts';

export const FIXTURES = join(new URL('.', import.meta.url).pathname, '../../fixtures/witness');
export const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
export const fixtureLines = (name: string): string[] =>
  fixture(name)
    .split('\n')
    .filter((l) => l !== '');

/** A deterministic Ed25519 seed. */
export const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n);

export interface TestLog {
  readonly origin: string;
  readonly signer: LocalNoteSigner;
  readonly verifier: NoteVerifier;
  leaves: Uint8Array[];
  /** Signed checkpoint of the first `size` leaves. */
  checkpoint(size?: number): Promise<string>;
  /** RFC 6962 consistency proof between two sizes of this log. */
  proof(from: number, to: number): Uint8Array[];
  append(n: number, tag?: string): void;
}

/** A log; pass `signer` to sign a second, diverging history with the same key (a fork). */
export function testLog(origin = 'anchorlog.test/log-a', signer = LocalNoteSigner.generate(origin)): TestLog {
  const log: TestLog = {
    origin,
    signer,
    verifier: ecdsaP256Verifier(origin, signer.publicKeySpki),
    leaves: [],
    async checkpoint(size = log.leaves.length) {
      const hashes = log.leaves.slice(0, size);
      const rootHash = rootOfRange(hashes, 0, size);
      return signNote(formatCheckpoint({ origin, size, rootHash }), [signer]);
    },
    proof(from, to) {
      return consistencyProof(log.leaves, from, to);
    },
    append(n, tag = 'x') {
      for (let i = 0; i < n; i++) log.leaves.push(hashLeaf(utf8(`${tag}-${log.leaves.length}`)));
    },
  };
  return log;
}
