/**
 * Signed ingest end to end (docs/producer-signatures.md §Ingest): the local
 * stack as deployed (HTTP, auth, IngestService with BoundProducerKeys over
 * the DynamoDB system log on moto), a key registered through the admin API.
 * A batch of 100 with one bad signature is a 400 naming that event and
 * stores nothing; a key item written straight into the table is refused;
 * a revocation is in effect for the next request.
 */
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoProducerKeyStore } from '../../src/adapters/aws/dynamo-producer-key-store.ts';
import { toBase64Url } from '../../src/core/bytes.ts';
import { type AuditEvent, validateEvent } from '../../src/core/event.ts';
import { parsePublicKey } from '../../src/core/producer-key.ts';
import { type EventSigner, signEvent } from '../../src/core/producer-signature.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { startTestStack } from './helpers.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const PRINCIPAL = 'demo-agent-platform';

function newKey(): { pem: string; keyId: string; signer: EventSigner } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const keyId = parsePublicKey(pem).keyId;
  return {
    pem,
    keyId,
    signer: { keyId, alg: 'Ed25519', sign: async (m) => new Uint8Array(nodeSign(null, m, privateKey)) },
  };
}

let n = 0;
async function signedBatch(k: { signer: EventSigner }, count: number): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for (let i = 0; i < count; i++)
    out.push(
      await signEvent(
        validateEvent({
          occurredAt: '2026-03-01T12:00:00.000Z',
          actor: { type: 'agent', id: 'agent-1' },
          action: 'tool.call',
          outcome: 'success',
          metadata: { n: n++ },
        }),
        k.signer,
      ),
    );
  return out;
}

async function admin(path: string, body: unknown): Promise<number> {
  const res = await fetch(`${stack.info.apiUrl}/v1/admin/principals/${PRINCIPAL}/signing-keys${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.info.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

async function post(events: unknown[]) {
  const res = await fetch(`${stack.info.apiUrl}/v1/logs/${stack.info.logId}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.info.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  return {
    status: res.status,
    json: (await res.json()) as { error?: { code: string; path?: string }; receipts?: unknown[] },
  };
}

const size = async () => (await stack.services.logStore.readTip(stack.info.logId)).nextIndex;

describe('signed ingest over HTTP', () => {
  it('one bad signature in 100 is a 400 naming it, nothing stored; the good batch goes in; revocation is at once', async () => {
    const k = newKey();
    expect(await admin('', { publicKey: k.pem })).toBe(201);
    const events = await signedBatch(k, 100);
    const bad = [...events];
    const s = bad[63]?.signature as NonNullable<AuditEvent['signature']>;
    const b = Buffer.from(s.sig, 'base64url');
    b[10] = (b[10] ?? 0) ^ 0x80;
    bad[63] = { ...(bad[63] as AuditEvent), signature: { ...s, sig: toBase64Url(b) } };
    const before = await size();
    const r = await post(bad);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'SIGNATURE_INVALID', path: '/events/63/signature' });
    expect(await size()).toBe(before);
    const ok = await post(events);
    expect(ok.status).toBe(201);
    expect(ok.json.receipts).toHaveLength(100);
    expect(await size()).toBe(before + 100);

    expect(await admin(`/${k.keyId}/revoke`, {})).toBe(200);
    const after = await post(await signedBatch(k, 2));
    expect(after.status).toBe(400);
    expect(after.json.error).toMatchObject({ code: 'SIGNATURE_KEY_INACTIVE', path: '/events/0/signature' });
  });

  it('a key item written straight into the table (no system-log record) is refused', async () => {
    const k = newKey();
    const parsed = parsePublicKey(k.pem);
    const store = new DynamoProducerKeyStore({
      client: stack.services.clients.ddb,
      tableName: stack.info.tableName,
    });
    expect(
      await store.put({
        keyId: parsed.keyId,
        principalId: PRINCIPAL,
        alg: 'Ed25519',
        spki: Buffer.from(parsed.spki).toString('base64'),
        notBefore: '2026-01-01T00:00:00.000Z',
        version: 1,
      }),
    ).toBe(true);
    const before = await size();
    const r = await post(await signedBatch(k, 3));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'SIGNATURE_KEY_UNKNOWN', path: '/events/0/signature' });
    expect(await size()).toBe(before);
  });
});
