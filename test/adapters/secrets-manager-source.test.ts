// SecretsManagerSource against a real moto_server (Secrets Manager emulator):
// values by name and by ARN, and each failure as its SecretError code.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { SecretsManagerSource } from '../../src/adapters/aws/secrets-manager-source.ts';
import { freePort } from '../../src/local/ports.ts';
import { SecretError } from '../../src/ports/secret-source.ts';
import { awsClientConfig } from '../support/aws.ts';

let client: SecretsManagerClient;
let _source: SecretsManagerSource;

async function failure(p: Promise<unknown>): Promise<SecretError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SecretError);
  return err as SecretError;
}

beforeAll(() => {
  client = new SecretsManagerClient(awsClientConfig());
  _source = new SecretsManagerSource({ client });
});

describe('SecretsManagerSource (moto)', () => {
  // Reads by name and ARN, NOT_FOUND and NOT_TEXT: test/contracts/secret-source.contract.ts
  // (run against this adapter by test/contracts/aws.test.ts).
  it('an unreachable store is UNAVAILABLE (a retry may succeed)', async () => {
    const port = await freePort();
    const down = new SecretsManagerSource({
      client: new SecretsManagerClient({ ...awsClientConfig(), endpoint: `http://127.0.0.1:${port}` }),
    });
    expect((await failure(down.readText('anchorlog/test-a'))).code).toBe('UNAVAILABLE');
  });
});
