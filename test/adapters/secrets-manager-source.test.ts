// SecretsManagerSource against a real moto_server (Secrets Manager emulator):
// values by name and by ARN, and each failure as its SecretError code.
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { putSecret, SecretsManagerSource } from '../../src/adapters/aws/secrets-manager-source.ts';
import { freePort } from '../../src/local/ports.ts';
import { SecretError } from '../../src/ports/secret-source.ts';
import { awsClientConfig } from '../support/aws.ts';

let client: SecretsManagerClient;
let source: SecretsManagerSource;

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
  source = new SecretsManagerSource({ client });
});

describe('SecretsManagerSource (moto)', () => {
  it('reads the current text by name and by ARN; putSecret creates, then replaces', async () => {
    const arn = await putSecret(client, 'anchorlog/test-a', 'first value');
    expect(arn).toMatch(/^arn:aws:secretsmanager:us-east-1:\d+:secret:anchorlog\/test-a-/);
    expect(await source.readText('anchorlog/test-a')).toBe('first value');
    expect(await putSecret(client, 'anchorlog/test-a', 'second value')).toBe(arn);
    expect(await source.readText(arn)).toBe('second value');
  });

  it('a secret that does not exist, or is scheduled for deletion, is NOT_FOUND', async () => {
    expect((await failure(source.readText('anchorlog/never-created'))).code).toBe('NOT_FOUND');
    const arn = await putSecret(client, 'anchorlog/deleted', 'gone soon');
    await client.send(new DeleteSecretCommand({ SecretId: arn, RecoveryWindowInDays: 7 }));
    expect((await failure(source.readText(arn))).code).toBe('NOT_FOUND');
  });

  it('a binary secret is NOT_TEXT, and the error does not carry the value', async () => {
    await client.send(
      new CreateSecretCommand({
        Name: 'anchorlog/binary',
        SecretBinary: new TextEncoder().encode('s3cr3t-bytes'),
      }),
    );
    const err = await failure(source.readText('anchorlog/binary'));
    expect(err.code).toBe('NOT_TEXT');
    expect(err.message).not.toContain('s3cr3t');
  });

  it('an unreachable store is UNAVAILABLE (a retry may succeed)', async () => {
    const port = await freePort();
    const down = new SecretsManagerSource({
      client: new SecretsManagerClient({ ...awsClientConfig(), endpoint: `http://127.0.0.1:${port}` }),
    });
    expect((await failure(down.readText('anchorlog/test-a'))).code).toBe('UNAVAILABLE');
  });
});
