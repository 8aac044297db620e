/**
 * The two test tiers (test/support/tier.ts): which files the fast tier runs,
 * and that a test in it which reaches for the emulator, the OpenSSL TSAs or
 * the network fails saying why.
 */
import dns from 'node:dns';
import { describe, expect, it } from 'vitest';
import { awsClientConfig, resetMoto } from './support/aws.ts';
import { inFastTier } from './support/tier.ts';
import { classifyTests } from './support/tiers.ts';
import { harnessTsas } from './support/tsa.ts';

describe('test tiers', () => {
  const { fast, full } = classifyTests();
  const slow = new Map(full.map((f) => [f.file, f.because]));

  it('the fast tier has the pure core, the CLI, the memory contracts and the architecture checks', () => {
    for (const f of [
      'test/architecture.test.ts',
      'test/contracts/memory.test.ts',
      'test/core/record.test.ts',
      'test/core/bundle/tamper.test.ts',
      'test/cli/args.test.ts',
      'test/tiers.test.ts',
    ])
      expect(fast, f).toContain(f);
  });

  it('everything that imports the emulator or the OpenSSL TSAs, even indirectly, is left to npm test', () => {
    expect(slow.get('test/contracts/aws.test.ts')).toMatch(/test\/support\/aws\.ts$/);
    expect(slow.get('test/adapters/tsa-http.test.ts')).toMatch(/test\/support\/tsa\.ts$/);
    expect(slow.get('test/app/tsa-names.test.ts')).toMatch(/test\/support\/tsa\.ts$/);
    expect(slow.get('test/e2e/ingest-http.test.ts')).toBeDefined();
    expect(slow.get('test/cdk/stack.test.ts')).toBeDefined();
    expect(slow.get('test/browser/verify.test.ts')).toBeDefined();
    expect(fast.filter((f) => slow.has(f))).toEqual([]);
  });

  it.runIf(inFastTier())(
    'in the fast tier, reaching for the emulator, the TSAs or the network fails clearly',
    async () => {
      expect(() => awsClientConfig()).toThrow(/AWS emulator.*npm run test:fast/);
      await expect(resetMoto()).rejects.toThrow(/AWS emulator/);
      expect(() => harnessTsas()).toThrow(/OpenSSL TSAs.*npm run test:fast/);
      expect(() => dns.lookup('aws.amazon.com', () => {})).toThrow(/network.*npm run test:fast/);
      await expect(fetch('https://freetsa.org/tsr')).rejects.toMatchObject({
        cause: expect.objectContaining({ message: expect.stringMatching(/network.*npm run test:fast/) }),
      });
    },
  );
});
