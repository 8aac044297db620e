// TRUST.json `rekor` (src/cli/trust-file.ts): Rekor log vkeys and P-256 anchor keys as PEM;
// anything else is a usage error (exit 2), never silently ignored.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { UsageError } from '../../src/cli/errors.ts';
import { parseTrustFile } from '../../src/cli/trust-file.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { spkiToPem } from '../../src/core/note/pem.ts';

const VKEY = readFileSync(
  new URL('../fixtures/rekor/rekor-prod-v2-log2025-1-idx547661/vkeys.txt', import.meta.url),
  'utf8',
).split(/\s+/)[0] as string;
const anchor = LocalNoteSigner.generate('anchor');
const PEM = spkiToPem(anchor.publicKeySpki);
// A log key is required by the file anyway; any valid vkey will do here.
const parse = (o: object) => parseTrustFile(utf8(JSON.stringify({ logKeys: [VKEY], ...o })), 'TRUST.json');

describe('TRUST.json rekor', () => {
  it('reads log keys and anchor keys (DER SPKI)', () => {
    const t = parse({ rekor: { logKeys: [VKEY], anchorKeys: [PEM] } });
    expect(t.rekor?.logKeys).toEqual([VKEY]);
    expect(t.rekor?.anchorKeys[0]).toEqual(anchor.publicKeySpki);
  });

  it.each([
    ['not an object', []],
    ['an unknown field', { logKeys: [VKEY], anchorKeys: [PEM], extra: 1 }],
    ['no log keys', { logKeys: [], anchorKeys: [PEM] }],
    ['a bad log key', { logKeys: ['nope'], anchorKeys: [PEM] }],
    ['no anchor keys', { logKeys: [VKEY] }],
    [
      'an Ed25519 anchor key',
      { logKeys: [VKEY], anchorKeys: [spkiToPem(LocalNoteSigner.generate('x', 'ed25519').publicKeySpki)] },
    ],
  ])('refuses %s', (_why, rekor) => {
    expect(() => parse({ rekor })).toThrow(UsageError);
  });
});
