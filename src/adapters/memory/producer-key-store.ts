/**
 * ProducerKeyStore in memory (src/ports/producer-key-store.ts), with the
 * semantics of src/adapters/aws/dynamo-producer-key-store.ts. Reads and
 * writes are copies. THROTTLED and UNAVAILABLE come only from injected faults.
 */
import {
  MAX_KEYS_PER_PRINCIPAL,
  type ProducerKeyStore,
  ProducerKeyStoreError,
  type ProducerKeyStoreErrorCode,
  type StoredProducerKey,
} from '../../ports/producer-key-store.ts';
import { FaultPlan } from './faults.ts';

export class MemoryProducerKeyStore implements ProducerKeyStore {
  readonly #keys = new Map<string, Map<string, StoredProducerKey>>();
  readonly faults = new FaultPlan<ProducerKeyStoreErrorCode>(
    (code, message) => new ProducerKeyStoreError(code, message),
  );

  get(principalId: string, keyId: string): Promise<StoredProducerKey | undefined> {
    return this.faults.run('get', principalId, () => {
      const k = this.#keys.get(principalId)?.get(keyId);
      return k ? structuredClone(k) : undefined;
    });
  }

  list(principalId: string): Promise<StoredProducerKey[]> {
    return this.faults.run('list', principalId, () =>
      [...(this.#keys.get(principalId)?.values() ?? [])]
        .sort((a, b) => (a.keyId < b.keyId ? -1 : 1))
        .slice(0, MAX_KEYS_PER_PRINCIPAL)
        .map((k) => structuredClone(k)),
    );
  }

  put(record: StoredProducerKey): Promise<boolean> {
    return this.faults.run('put', record.principalId, () => {
      const keys = this.#keys.get(record.principalId) ?? new Map<string, StoredProducerKey>();
      if ((keys.get(record.keyId)?.version ?? 0) !== record.version - 1) return false;
      keys.set(record.keyId, structuredClone(record));
      this.#keys.set(record.principalId, keys);
      return true;
    });
  }
}
