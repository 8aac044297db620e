/**
 * The name rules of src/core/names.ts against the places that turn names into
 * paths: the bundle member grammar must accept exactly the TSA names the rule
 * accepts, and read each member path back as the one name that wrote it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyPath } from '../../src/core/bundle/format.ts';
import { isValidLogId, isValidTsaName } from '../../src/core/names.ts';
import { isLogId } from '../../src/core/principal.ts';
import { validateLogId } from '../../src/core/record.ts';

const nameChars = fc.constantFrom(...'abz09._-A/#: é'.split(''));
const names = fc.oneof(
  fc.string({ unit: nameChars, minLength: 0, maxLength: 70 }),
  fc.constantFrom('freetsa.org', 'a.chain', 'x.tsr', 'a..b', 'a.', 'rsa_2', '0'),
);

describe('TSA names', () => {
  it('accepts domains and refuses what could leave a path segment', () => {
    for (const ok of ['freetsa.org', 'digicert', 'tsa_2.example.com', 'a', '0-9', 'a..b'])
      expect(isValidTsaName(ok)).toBe(true);
    for (const bad of ['', '.', '..', '.a', '-a', '_a', 'A', 'a/b', 'a#b', 'a b', 'x'.repeat(64)])
      expect(isValidTsaName(bad)).toBe(false);
  });

  it('the bundle accepts exactly the valid names, and reads each member back as its name', () => {
    fc.assert(
      fc.property(names, (name) => {
        const tsr = classifyPath(`anchors/7/${name}.tsr`);
        const chain = classifyPath(`anchors/7/${name}.chain.pem`);
        if (!isValidTsaName(name)) {
          // An invalid name may still be a *different* valid name plus a suffix
          // (`a.chain` + `.pem`); it is never read back as itself.
          expect(tsr?.kind === 'anchor' && tsr.tsa === name).toBe(false);
          expect(chain?.kind === 'anchor-chain' && chain.tsa === name).toBe(false);
          return;
        }
        expect(tsr).toEqual({ kind: 'anchor', size: 7, tsa: name });
        expect(chain).toEqual({ kind: 'anchor-chain', size: 7, tsa: name });
      }),
      { numRuns: 2000 },
    );
  });
});

describe('log ids', () => {
  it('one rule behind every check', () => {
    fc.assert(
      fc.property(names, (id) => {
        const valid = isValidLogId(id);
        expect(isLogId(id)).toBe(valid);
        let refused = false;
        try {
          validateLogId(id);
        } catch {
          refused = true;
        }
        expect(refused).toBe(!valid);
      }),
      { numRuns: 500 },
    );
    expect(isValidLogId('acme-prod')).toBe(true);
    expect(isValidLogId('freetsa.org')).toBe(false);
  });
});
