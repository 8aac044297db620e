/**
 * Producer keys bound to their system-log records on DynamoDB (moto): the
 * deployed wiring — ProducerKeyService writing `PK#` items through
 * DynamoProducerKeyStore after recording in the real `system` log, and ingest
 * reading keys through BoundProducerKeys over SystemLogAuditReader — so the
 * item's `rseq`/`rindex` attributes, the event-id lookup of a legacy item and
 * the refusal of an item written outside the admin path are exercised on the
 * real adapters (docs/producer-signatures.md §Ingest).
 */
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoProducerKeyStore } from '../../src/adapters/aws/dynamo-producer-key-store.ts';
import { AppError } from '../../src/app/errors.ts';
import { IngestService } from '../../src/app/ingest.ts';
import {
  BoundProducerKeys,
  type KeyBindingFailure,
  ProducerKeyService,
  producerKeyEventId,
} from '../../src/app/producer-keys.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { validateEvent } from '../../src/core/event.ts';
import type { Principal } from '../../src/core/principal.ts';
import { parsePublicKey } from '../../src/core/producer-key.ts';
import { type EventSigner, signEvent } from '../../src/core/producer-signature.ts';
import { awsClientConfig } from '../support/aws.ts';
import type { AdminEnv } from './admin-harness.ts';
import { adminEnvOnMoto } from './admin-moto.ts';

let env: AdminEnv & { table: string };
const ddb = new DynamoDBClient(awsClientConfig());
let admin: Principal;
let store: DynamoProducerKeyStore;
let keys: ProducerKeyService;
let ingest: IngestService;
const failures: KeyBindingFailure[] = [];
const LOG = 'tenant-keys';

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
const signed = (k: { signer: EventSigner }) =>
  signEvent(
    validateEvent({
      occurredAt: '2026-03-01T11:59:00.000Z',
      actor: { type: 'service', id: 'svc-1' },
      action: 'tool.call',
      outcome: 'success',
      metadata: { n: n++ },
    }),
    k.signer,
  );
const append = async (events: unknown[]) =>
  ingest.append({ logId: LOG, submitter: 'app-1', body: utf8(JSON.stringify({ events })) });
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as AppError,
  );

beforeAll(async () => {
  env = await adminEnvOnMoto(`producer-keys-${Date.now()}`, ddb);
  admin = (await env.principals.bootstrapAdmin({ id: 'ops-admin', name: 'Ops', owner: 'secops@example.com' }))
    .principal;
  await env.principals.create(admin, {
    id: 'app-1',
    name: 'app-1',
    kind: 'application',
    owner: 'ops-admin',
    purpose: 'test producer',
    scopes: { [LOG]: ['events:write'] },
  });
  store = new DynamoProducerKeyStore({ client: ddb, tableName: env.table });
  keys = new ProducerKeyService({
    store,
    audit: env.sink,
    auditLog: env.auditLog,
    clock: env.clock,
    principals: env.principals,
  });
  ingest = new IngestService({
    store: env.logs,
    clock: env.clock,
    sleep: env.clock.sleep,
    signatures: {
      keys: new BoundProducerKeys({
        store,
        auditLog: env.auditLog,
        clock: env.clock,
        onBindingFailure: (f) => failures.push(f),
      }),
    },
  });
  await env.logRegistry.createLog(LOG);
});

describe('producer keys bound to the system log, on DynamoDB', () => {
  it('the item names its record; signed batches go in; a revocation is in effect at once', async () => {
    const k = newKey();
    const r = await keys.register(admin, 'app-1', { publicKey: k.pem });
    const at = await env.auditLog.find(producerKeyEventId(k.keyId, 1));
    expect(at).toBeDefined();
    expect(r.key.recorded).toEqual(at);
    expect((await store.get('app-1', k.keyId))?.recorded).toEqual(at);
    expect((await append([await signed(k), await signed(k)])).status).toBe(201);
    await keys.revoke(admin, 'app-1', k.keyId, {});
    env.clock.t += 10;
    expect((await refusal(append([await signed(k)])))?.code).toBe('SIGNATURE_KEY_INACTIVE');
    expect(failures).toEqual([]);
  });

  it('a legacy item (no rseq/rindex) is bound through its event id', async () => {
    const k = newKey();
    await keys.register(admin, 'app-1', { publicKey: k.pem });
    const pk = { pk: { S: 'PK#app-1' }, sk: { S: `K#${k.keyId}` } };
    const item = (await ddb.send(new GetItemCommand({ TableName: env.table, Key: pk, ConsistentRead: true })))
      .Item;
    expect(item?.rseq?.N).toBeDefined();
    const { rseq: _s, rindex: _i, ...legacy } = item ?? {};
    await ddb.send(new PutItemCommand({ TableName: env.table, Item: legacy }));
    expect((await store.get('app-1', k.keyId))?.recorded).toBeUndefined();
    expect((await append([await signed(k)])).status).toBe(201);
    expect(failures).toEqual([]);
  });

  it('an item written straight into the table is refused, reported, and nothing is stored', async () => {
    const k = newKey();
    const parsed = parsePublicKey(k.pem);
    await store.put({
      keyId: parsed.keyId,
      principalId: 'app-1',
      alg: 'Ed25519',
      spki: Buffer.from(parsed.spki).toString('base64'),
      notBefore: '2026-01-01T00:00:00.000Z',
      version: 1,
    });
    const before = (await env.logs.readTip(LOG)).nextIndex;
    const err = await refusal(append([await signed(k)]));
    expect(err).toBeInstanceOf(AppError);
    expect([err?.code, err?.path]).toEqual(['SIGNATURE_KEY_UNKNOWN', '/events/0/signature']);
    expect(failures).toMatchObject([{ keyId: k.keyId, version: 1 }]);
    expect((await env.logs.readTip(LOG)).nextIndex).toBe(before);
    await ddb.send(
      new DeleteItemCommand({
        TableName: env.table,
        Key: { pk: { S: 'PK#app-1' }, sk: { S: `K#${k.keyId}` } },
      }),
    );
  });
});
