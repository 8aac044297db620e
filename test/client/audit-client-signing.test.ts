/**
 * AuditClient with a signer (docs/producer-signatures.md §Client) against a
 * small HTTP server running the real IngestService with signature
 * verification: events signed with a registered key (Ed25519 and P-256) are
 * accepted and stored with their signature; a key the server does not know
 * is refused with SIGNATURE_KEY_UNKNOWN and nothing is stored.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemoryProducerKeyStore } from '../../src/adapters/memory/producer-key-store.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { producerKeyReader } from '../../src/app/producer-keys.ts';
import { AuditClient, AuditClientError } from '../../src/client/audit-client.ts';
import { nodeEventSigner } from '../../src/client/node-signer.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { parsePublicKey } from '../../src/core/producer-key.ts';
import { defaultSignatureVerifier, verifyEventSignature } from '../../src/core/producer-signature.ts';
import { decodeRecord } from '../../src/core/record.ts';
import { errorResponse } from '../../src/http/errors.ts';

const logs = new MemoryLogStore();
const keys = new MemoryProducerKeyStore();
const clock = new ManualClock({ startMs: Date.UTC(2026, 2, 1, 12), stepMs: 1 });
const ingest = new IngestService({ store: logs, clock, signatures: { keys: producerKeyReader(keys) } });
let server: Server;
let url = '';

beforeAll(async () => {
  await new LogRegistry({ store: logs, clock }).createLog('tenant-a');
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const r = await ingest.append({ logId: 'tenant-a', submitter: 'app-1', body: Buffer.concat(chunks) });
        res
          .writeHead(r.status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ receipts: r.receipts }));
      } catch (e) {
        const r = errorResponse(e, 'req');
        res.writeHead(r.status, { ...r.headers, 'content-type': 'application/json' }).end(r.body);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function register(privateKey: import('node:crypto').KeyObject): Promise<void> {
  const signer = nodeEventSigner(privateKey);
  const pem = (await import('node:crypto'))
    .createPublicKey(privateKey)
    .export({ format: 'pem', type: 'spki' });
  const k = parsePublicKey(pem.toString());
  expect(k.keyId).toBe(signer.keyId);
  await keys.put({
    keyId: k.keyId,
    principalId: 'app-1',
    alg: k.alg,
    spki: toBase64(k.spki),
    notBefore: '2026-01-01T00:00:00.000Z',
    version: 1,
  });
}

const event = (n: number) => ({
  occurredAt: '2026-03-01T11:00:00.000Z',
  actor: { type: 'agent', id: 'agent-1' },
  action: 'tool.call',
  outcome: 'success',
  metadata: { n },
});

describe('AuditClient signing', () => {
  it.each(['ed25519', 'p-256'] as const)(
    '%s: signed events are accepted and stored with their signature',
    async (kind) => {
      const { privateKey } =
        kind === 'ed25519'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      await register(privateKey);
      const client = new AuditClient({
        apiUrl: url,
        apiKey: 'k',
        logId: 'tenant-a',
        signer: nodeEventSigner(privateKey),
      });
      const receipts = await Promise.all([1, 2, 3].map((n) => client.append(event(n))));
      await client.close();
      for (const r of receipts) {
        const tip = await logs.readTip('tenant-a');
        expect(tip.nextIndex).toBeGreaterThan(r.index);
      }
      const batch = await logs.readBatch('tenant-a', (await logs.readTip('tenant-a')).seq);
      for (const rec of batch?.records ?? []) {
        const record = decodeRecord(rec.bytes);
        const key = await keys.get('app-1', record.event.signature?.keyId ?? '');
        await verifyEventSignature(record.event, key, clock.now(), defaultSignatureVerifier);
      }
    },
  );

  it('a key the server does not know: SIGNATURE_KEY_UNKNOWN, nothing stored', async () => {
    const before = (await logs.readTip('tenant-a')).nextIndex;
    const client = new AuditClient({
      apiUrl: url,
      apiKey: 'k',
      logId: 'tenant-a',
      signer: nodeEventSigner(generateKeyPairSync('ed25519').privateKey),
    });
    const err = await client.append(event(9)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditClientError);
    expect((err as AuditClientError).code).toBe('SIGNATURE_KEY_UNKNOWN');
    expect((await logs.readTip('tenant-a')).nextIndex).toBe(before);
  });
});
