/**
 * SecretSource on AWS Secrets Manager (GetSecretValue of the AWSCURRENT
 * version). The function's role may read exactly the secrets named in its
 * environment (cdk/constructs/service-secret.ts).
 */
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SecretError, type SecretErrorCode, type SecretSource } from '../../ports/secret-source.ts';

export interface SecretsManagerSourceOptions {
  /** Created once at module scope by the caller (src/compose/aws.ts) and injected. */
  readonly client: SecretsManagerClient;
}

const BY_NAME: Record<string, SecretErrorCode> = {
  ResourceNotFoundException: 'NOT_FOUND',
  // A secret scheduled for deletion answers InvalidRequestException.
  InvalidRequestException: 'NOT_FOUND',
  AccessDeniedException: 'ACCESS_DENIED',
  DecryptionFailure: 'ACCESS_DENIED',
};

function errName(err: unknown): string {
  return err instanceof Error ? err.name : '';
}

export class SecretsManagerSource implements SecretSource {
  readonly #client: SecretsManagerClient;

  constructor(opts: SecretsManagerSourceOptions) {
    this.#client = opts.client;
  }

  async readText(id: string): Promise<string> {
    let text: string | undefined;
    let binary = false;
    try {
      const out = await this.#client.send(new GetSecretValueCommand({ SecretId: id }));
      text = out.SecretString;
      binary = out.SecretBinary !== undefined;
    } catch (err) {
      const name = errName(err);
      throw new SecretError(
        BY_NAME[name] ?? 'UNAVAILABLE',
        `GetSecretValue of ${id} failed: ${name || 'error'}`,
        {
          cause: err,
        },
      );
    }
    if (typeof text === 'string') return text;
    throw binary
      ? new SecretError('NOT_TEXT', `secret ${id} holds binary data, not text`)
      : new SecretError('NOT_FOUND', `secret ${id} has no value`);
  }
}

/**
 * Creates secret `name` with `value`, or sets its current value if it exists
 * (the local stack and tests; in AWS the stack creates its secrets). Returns
 * the secret's ARN.
 */
export async function putSecret(client: SecretsManagerClient, name: string, value: string): Promise<string> {
  try {
    const out = await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    if (out.ARN) return out.ARN;
  } catch (err) {
    if (errName(err) !== 'ResourceExistsException') throw err;
  }
  const out = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
  if (!out.ARN) throw new Error(`PutSecretValue of ${name} returned no ARN`);
  return out.ARN;
}
