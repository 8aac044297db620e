/**
 * Shared set-up and the invariant checker for the seal tests on real
 * DynamoDB, S3 and KMS (moto), real ingest, real sealer. Every client goes
 * through one SendFaultInjector so tests can fail or kill any call by number.
 * What does not depend on the stores is in ./seal-support.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { DynamoSealStateStore } from '../../src/adapters/aws/dynamo-seal-state-store.ts';
import { KmsNoteSigner } from '../../src/adapters/aws/kms-signer.ts';
import { createArchiveBucket, S3ArchiveStore } from '../../src/adapters/aws/s3-archive-store.ts';
import { SendFaultInjector } from '../../src/adapters/aws/send-faults.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { bytesEqual } from '../../src/core/bytes.ts';
import { decodeEntryBundle } from '../../src/core/merkle/entry-bundle.ts';
import { consistencyProof } from '../../src/core/merkle/proof-from-leaves.ts';
import { rootOf } from '../../src/core/merkle/root.ts';
import { partialTiles } from '../../src/core/merkle/tile-layout.ts';
import { rootFromOracle, tileNodeOracle } from '../../src/core/merkle/tile-nodes.ts';
import { entryBundlePath, TILE_WIDTH, tilePath } from '../../src/core/merkle/tile-path.ts';
import { verifyConsistency } from '../../src/core/merkle/verify.ts';
import { parseCheckpoint } from '../../src/core/note/checkpoint.ts';
import { ecdsaP256Verifier } from '../../src/core/note/verifiers.ts';
import { checkpointFromNote } from '../../src/core/note/verify.ts';
import { verifyChain, ZERO_HASH } from '../../src/core/record.ts';
import { archiveKey, checkpointKey } from '../../src/ports/archive-store.ts';
import type { NoteSigner } from '../../src/ports/signer.ts';
import { awsClientConfig } from '../support/aws.ts';
import { allRecords, ORIGIN_PREFIX, type SealEnv, sealClock } from './seal-support.ts';

export { allRecords, appendEvents, localSigner, newLog, ORIGIN_PREFIX, sealer } from './seal-support.ts';

export const TABLE = 'anchorlog-seal-test';
export const BUCKET = 'anchorlog-archive-seal-test';

export interface Env extends SealEnv {
  faults: SendFaultInjector;
  ddb: DynamoDBClient;
  s3: S3Client;
  kms: KMSClient;
  logs: DynamoLogStore;
  state: DynamoSealStateStore;
  archive: S3ArchiveStore;
}

/** Fresh clients (a "process"): all wrapped by one injector. */
export function makeEnv(): Env {
  const faults = new SendFaultInjector();
  const cfg = awsClientConfig();
  const ddb = faults.wrap(new DynamoDBClient(cfg), 'dynamodb');
  const s3 = faults.wrap(new S3Client(cfg), 's3');
  const kms = faults.wrap(new KMSClient(cfg), 'kms');
  const clock = sealClock();
  const logs = new DynamoLogStore({ client: ddb, tableName: TABLE, sleep: async () => {} });
  return {
    faults,
    ddb,
    s3,
    kms,
    logs,
    state: new DynamoSealStateStore({ client: ddb, tableName: TABLE }),
    archive: new S3ArchiveStore({ client: s3, bucket: BUCKET }),
    ingest: new IngestService({ store: logs, clock, sleep: async () => {} }),
    logRegistry: new LogRegistry({ store: logs, clock }),
    clock,
  };
}

export async function provision(env: Env): Promise<void> {
  await ensureTable(env.ddb, TABLE);
  await createArchiveBucket(env.s3, BUCKET, 400);
}

export async function createKmsKey(kms: KMSClient): Promise<string> {
  const out = await kms.send(
    new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'seal test' }),
  );
  const id = out.KeyMetadata?.KeyId;
  if (!id) throw new Error('no key id');
  return id;
}

export async function kmsSigner(env: Env, keyId: string): Promise<KmsNoteSigner> {
  return KmsNoteSigner.create({ client: env.kms, kmsKeyId: keyId, keyName: 'anchorlog-seal-key' });
}

export interface ObjectVersion {
  key: string;
  versionId: string;
  size: number;
}

export async function listVersions(s3: S3Client, prefix: string): Promise<ObjectVersion[]> {
  const out: ObjectVersion[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: BUCKET,
        Prefix: prefix,
        KeyMarker: keyMarker,
        VersionIdMarker: versionMarker,
      }),
    );
    for (const v of page.Versions ?? [])
      out.push({ key: v.Key ?? '', versionId: v.VersionId ?? '', size: v.Size ?? 0 });
    if (!page.IsTruncated) return out;
    keyMarker = page.NextKeyMarker;
    versionMarker = page.NextVersionIdMarker;
  }
}

/**
 * Everything that must hold after a clean run, whatever happened before:
 *  - the state's checkpoint verifies, and is the archive's current checkpoint;
 *  - the entry bundles alone rebuild the tree: chain verifies, root = checkpoint root;
 *  - the entries are exactly the log's first `size` records;
 *  - the hash tiles serve the same root;
 *  - every checkpoint version ever archived verifies and is consistent with the
 *    current one (consistency proofs verified with the core);
 *  - no tile or bundle key ever got a second version.
 * Returns the checkpoint size.
 */
export async function checkInvariants(env: Env, logId: string, signer: NoteSigner): Promise<number> {
  const origin = `${ORIGIN_PREFIX}/${logId}`;
  const verifier = ecdsaP256Verifier(origin, signer.publicKeySpki);
  const st = await env.state.read(logId);
  expect(st?.halted).toBeUndefined();
  if (st === undefined || st.checkpoint === undefined) throw new Error('log was never sealed');
  expect(st.publishedVersion).toBe(st.version);
  const cp = checkpointFromNote(st.checkpoint, origin, [verifier]);
  expect(cp.size).toBe(st.size);
  const archived = await env.archive.get(checkpointKey(logId));
  expect(archived && new TextDecoder().decode(archived)).toBe(st.checkpoint);

  // Rebuild from entry bundles alone.
  const entries: Uint8Array[] = [];
  for (let n = 0; n * TILE_WIDTH < cp.size; n++) {
    const w = Math.min(TILE_WIDTH, cp.size - n * TILE_WIDTH);
    const body = await env.archive.get(archiveKey(logId, entryBundlePath(n, w)));
    if (!body) throw new Error(`missing entry bundle ${n} width ${w}`);
    entries.push(...decodeEntryBundle(body, w));
  }
  const chain = verifyChain(entries, ZERO_HASH, { firstIndex: 0, logId });
  const leaves = chain.leafHashes;
  expect(bytesEqual(rootOf(leaves), cp.rootHash)).toBe(true);
  const records = (await allRecords(env, logId)).slice(0, cp.size);
  expect(records.length).toBe(cp.size);
  records.forEach((r, i) => {
    if (!bytesEqual(r, entries[i] as Uint8Array)) throw new Error(`entry ${i} differs from record ${i}`);
  });

  // Hash tiles serve the same root (partials at this size, full tiles below).
  const oracle = tileNodeOracle(cp.size, async (level, index, width) => {
    const body = await env.archive.get(archiveKey(logId, tilePath(level, index, width)));
    if (!body) throw new Error(`missing tile ${tilePath(level, index, width)}`);
    return body;
  });
  expect(bytesEqual(await rootFromOracle(cp.size, oracle), cp.rootHash)).toBe(true);
  for (const t of partialTiles(cp.size)) {
    expect(await env.archive.head(archiveKey(logId, tilePath(t.level, t.index, t.width)))).toBeDefined();
  }

  // Every archived object version.
  const versions = await listVersions(env.s3, `logs/${logId}/`);
  const byKey = new Map<string, ObjectVersion[]>();
  for (const v of versions) byKey.set(v.key, [...(byKey.get(v.key) ?? []), v]);
  for (const [key, vs] of byKey) {
    if (key === checkpointKey(logId)) continue;
    if (vs.length !== 1) throw new Error(`${key} has ${vs.length} versions`);
  }
  const cpVersions = byKey.get(checkpointKey(logId)) ?? [];
  expect(cpVersions.length).toBeGreaterThan(0);
  for (const v of cpVersions) {
    const text = await getVersionText(env, checkpointKey(logId), v.versionId);
    const old = checkpointFromNote(text, origin, [verifier]);
    expect(old.size).toBeLessThanOrEqual(cp.size);
    if (old.size === 0) continue;
    const proof = consistencyProof(leaves, old.size, cp.size);
    verifyConsistency(old.size, cp.size, proof, old.rootHash, cp.rootHash);
  }
  return cp.size;
}

async function getVersionText(env: Env, key: string, versionId: string): Promise<string> {
  const out = await env.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, VersionId: versionId }));
  return (await out.Body?.transformToString()) ?? '';
}

/** Sizes of all archived checkpoint versions (any order). */
export async function archivedCheckpointSizes(env: Env, logId: string): Promise<number[]> {
  const vs = (await listVersions(env.s3, checkpointKey(logId))).filter((v) => v.key === checkpointKey(logId));
  const out: number[] = [];
  for (const v of vs) {
    const text = await getVersionText(env, checkpointKey(logId), v.versionId);
    out.push(parseCheckpoint(text.slice(0, text.indexOf('\n\n') + 1)).size);
  }
  return out;
}
