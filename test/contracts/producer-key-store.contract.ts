/**
 * The ProducerKeyStore contract (src/ports/producer-key-store.ts), run against
 * every implementation by test/contracts/memory.test.ts and aws.test.ts.
 */
import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/core/bytes.ts';
import { type ProducerKeyRecord, parsePublicKey } from '../../src/core/producer-key.ts';
import {
  keyRecordOf,
  type ProducerKeyStore,
  type StoredProducerKey,
} from '../../src/ports/producer-key-store.ts';
import { uniqueId } from './support.ts';

function newKey(principalId: string): ProducerKeyRecord {
  const pem = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const k = parsePublicKey(pem);
  return {
    keyId: k.keyId,
    principalId,
    alg: k.alg,
    spki: toBase64(k.spki),
    notBefore: '2026-01-01T00:00:00.000Z',
    version: 1,
  };
}

export function producerKeyStoreContract(name: string, make: () => Promise<ProducerKeyStore>): void {
  describe(`ProducerKeyStore contract: ${name}`, () => {
    let store: ProducerKeyStore;
    beforeAll(async () => {
      store = await make();
    });

    it('a key never stored is absent; a principal with none lists nothing', async () => {
      const p = uniqueId('none');
      expect(await store.get(p, newKey(p).keyId)).toBeUndefined();
      expect(await store.list(p)).toEqual([]);
    });

    it('put is compare-and-swap on version: v1 onto nothing, v2 onto v1 only; reads back whole', async () => {
      const p = uniqueId('cas');
      const v1 = newKey(p);
      expect(await store.put(v1)).toBe(true);
      expect(await store.put(v1)).toBe(false);
      expect(await store.get(p, v1.keyId)).toEqual(v1);
      const v2: ProducerKeyRecord = { ...v1, revokedAt: '2026-02-01T00:00:00.000Z', version: 2 };
      const v3 = { ...v2, version: 3 };
      expect(await store.put(v3)).toBe(false);
      expect(await store.put(v2)).toBe(true);
      expect(await store.put(v2)).toBe(false);
      expect(await store.get(p, v1.keyId)).toEqual(v2);
      // Principals are apart.
      expect(await store.get(uniqueId('other'), v1.keyId)).toBeUndefined();
    });

    it('keeps where a version is recorded (`recorded`) and drops it with the next version that has none', async () => {
      const p = uniqueId('rec');
      const v1: StoredProducerKey = { ...newKey(p), recorded: { seq: 7, index: 1234 } };
      expect(await store.put(v1)).toBe(true);
      expect(await store.get(p, v1.keyId)).toEqual(v1);
      expect(await store.list(p)).toEqual([v1]);
      const v2 = { ...keyRecordOf(v1), revokedAt: '2026-02-01T00:00:00.000Z', version: 2 };
      expect(await store.put(v2)).toBe(true);
      expect(await store.get(p, v1.keyId)).toEqual(v2);
    });

    it('lists a principal’s keys in key-id order', async () => {
      const p = uniqueId('list');
      const keys = [newKey(p), newKey(p), newKey(p)];
      for (const k of keys) expect(await store.put(k)).toBe(true);
      expect(await store.list(p)).toEqual([...keys].sort((a, b) => (a.keyId < b.keyId ? -1 : 1)));
    });
  });
}
