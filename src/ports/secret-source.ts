/**
 * Secret source port: where a function reads the secrets of its deployment
 * (the query cursor key, TSA credentials). Secrets never travel in
 * environment variables — anyone who may read a function's configuration
 * would read them too — only the secret's name or ARN does; src/config.ts
 * reads each value once, at cold start (docs/deploy.md §Secrets).
 * Implemented by src/adapters/aws/secrets-manager-source.ts.
 *
 * The key words MUST, MUST NOT and MAY are to be interpreted as in RFC 2119.
 */
import { AnchorlogError } from '../core/errors.ts';

export type SecretErrorCode =
  /** No such secret, or it has no current value (deleted, never set). */
  | 'NOT_FOUND'
  /** The caller may not read it, or its encryption key may not be used. */
  | 'ACCESS_DENIED'
  /** The secret holds binary data; every anchorlog secret is text. */
  | 'NOT_TEXT'
  /** The store failed or throttled; a retry may succeed. */
  | 'UNAVAILABLE';

export class SecretError extends AnchorlogError<SecretErrorCode> {}

export interface SecretSource {
  /**
   * The current text value of the secret named `id` (a name or an ARN).
   * It MUST reject with a SecretError, with `UNAVAILABLE` only when a retry
   * may succeed. It MUST NOT log or embed the value in an error message.
   */
  readText(id: string): Promise<string>;
}
