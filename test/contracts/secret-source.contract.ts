/**
 * The SecretSource contract (src/ports/secret-source.ts), run against every
 * implementation by test/contracts/memory.test.ts and aws.test.ts. The
 * factory also says how to create, binary-store and delete a secret, which
 * the port (read-only) does not offer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SecretError, type SecretSource } from '../../src/ports/secret-source.ts';
import { uniqueId } from './support.ts';

export interface SecretSourceUnderTest {
  readonly source: SecretSource;
  /** Creates or replaces a text secret; resolves its ARN. */
  readonly put: (name: string, value: string) => Promise<string>;
  readonly putBinary: (name: string, value: Uint8Array) => Promise<void>;
  readonly remove: (name: string) => Promise<void>;
}

async function failure(p: Promise<unknown>): Promise<SecretError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SecretError);
  return err as SecretError;
}

export function secretSourceContract(name: string, make: () => Promise<SecretSourceUnderTest>): void {
  describe(`SecretSource contract: ${name}`, () => {
    let u: SecretSourceUnderTest;
    beforeAll(async () => {
      u = await make();
    });

    it('reads the current text by name and by ARN', async () => {
      const name = `anchorlog/${uniqueId('a')}`;
      const arn = await u.put(name, 'first value');
      expect(arn).toMatch(/^arn:aws:secretsmanager:/);
      expect(await u.source.readText(name)).toBe('first value');
      expect(await u.put(name, 'second value')).toBe(arn);
      expect(await u.source.readText(arn)).toBe('second value');
      expect(await u.source.readText(name)).toBe('second value');
    });

    it('a secret that does not exist, or was deleted, is NOT_FOUND', async () => {
      expect((await failure(u.source.readText(`anchorlog/${uniqueId('never')}`))).code).toBe('NOT_FOUND');
      const name = `anchorlog/${uniqueId('deleted')}`;
      const arn = await u.put(name, 'gone soon');
      await u.remove(name);
      expect((await failure(u.source.readText(arn))).code).toBe('NOT_FOUND');
      expect((await failure(u.source.readText(name))).code).toBe('NOT_FOUND');
    });

    it('a binary secret is NOT_TEXT, and no error carries a value', async () => {
      const name = `anchorlog/${uniqueId('binary')}`;
      await u.putBinary(name, new TextEncoder().encode('s3cr3t-bytes'));
      const err = await failure(u.source.readText(name));
      expect(err.code).toBe('NOT_TEXT');
      expect(err.message).not.toContain('s3cr3t');
    });
  });
}
