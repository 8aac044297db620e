/**
 * SecretSource in memory (src/ports/secret-source.ts), with the semantics of
 * the Secrets Manager adapter: a secret is read by name or by the ARN `put`
 * returned; a missing or deleted secret is NOT_FOUND, one the caller may not
 * read is ACCESS_DENIED, a binary one NOT_TEXT. UNAVAILABLE comes only from
 * injected faults (`faults`). No error message carries a value.
 */
import { SecretError, type SecretErrorCode, type SecretSource } from '../../ports/secret-source.ts';
import { FaultPlan } from './faults.ts';

type Stored = { readonly text: string } | { readonly binary: Uint8Array };

export class MemorySecretSource implements SecretSource {
  readonly #byName = new Map<string, Stored>();
  readonly #arns = new Map<string, string>();
  readonly #denied = new Set<string>();
  readonly faults = new FaultPlan<SecretErrorCode>((code, message) => new SecretError(code, message));

  constructor(initial: Readonly<Record<string, string>> = {}) {
    for (const [name, value] of Object.entries(initial)) this.put(name, value);
  }

  /** Creates the secret or replaces its current value; returns its ARN (stable per name). */
  put(name: string, value: string): string {
    return this.#store(name, { text: value });
  }

  /** Stores binary data, which readText refuses (NOT_TEXT), as Secrets Manager's SecretBinary. */
  putBinary(name: string, value: Uint8Array): string {
    return this.#store(name, { binary: Uint8Array.from(value) });
  }

  /** Deletes the secret (a later read is NOT_FOUND, as one scheduled for deletion). */
  remove(name: string): void {
    this.#byName.delete(name);
  }

  /** From now on reading `name` (or its ARN) is ACCESS_DENIED. */
  deny(name: string): void {
    this.#denied.add(name);
  }

  #store(name: string, value: Stored): string {
    this.#byName.set(name, value);
    let arn = [...this.#arns].find(([, n]) => n === name)?.[0];
    if (arn === undefined) {
      // Secrets Manager appends six random characters; a counter keeps this deterministic.
      arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-${String(this.#arns.size).padStart(6, '0')}`;
      this.#arns.set(arn, name);
    }
    return arn;
  }

  readText(id: string): Promise<string> {
    return this.faults.run('readText', id, () => {
      const name = this.#arns.get(id) ?? id;
      if (this.#denied.has(name)) throw new SecretError('ACCESS_DENIED', `reading secret ${id} is denied`);
      const stored = this.#byName.get(name);
      if (stored === undefined) throw new SecretError('NOT_FOUND', `secret ${id} does not exist`);
      if ('binary' in stored) throw new SecretError('NOT_TEXT', `secret ${id} holds binary data, not text`);
      return stored.text;
    });
  }
}
