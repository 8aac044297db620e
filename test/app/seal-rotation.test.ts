/**
 * Changing the log signing key (docs/operations.md §Key rotation) with two
 * real KMS keys on moto. The sealer and the anchor job verify the archived
 * checkpoint before building on it or stamping it; with the old key listed in
 * ANCHORLOG_RETIRED_SIGNING_KEYS both accept it, and every new checkpoint is
 * signed by the new key only. Without it the sealer halts (CHECKPOINT_INVALID)
 * and the anchor job refuses, as for any checkpoint no known key signed.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoAnchorStore } from '../../src/adapters/aws/dynamo-anchor-store.ts';
import { HttpTimestamper } from '../../src/adapters/tsa/http-timestamper.ts';
import { AnchorService } from '../../src/app/anchor.ts';
import { AppError } from '../../src/app/errors.ts';
import { SealHaltError } from '../../src/app/seal.ts';
import { loadLogPublicKeys, loadRetiredPublicKeys } from '../../src/compose/aws.ts';
import { type AppConfig, loadConfig } from '../../src/config.ts';
import { consistencyProof } from '../../src/core/merkle/proof-from-leaves.ts';
import { rootOf } from '../../src/core/merkle/root.ts';
import { verifyConsistency } from '../../src/core/merkle/verify.ts';
import { ecdsaP256Verifier } from '../../src/core/note/verifiers.ts';
import { checkpointFromNote, verifyNote } from '../../src/core/note/verify.ts';
import { leafHash } from '../../src/core/record.ts';
import { MemoryMetricsSink } from '../../src/ports/metrics.ts';
import {
  allRecords,
  appendEvents,
  createKmsKey,
  type Env,
  kmsSigner,
  makeEnv,
  newLog,
  ORIGIN_PREFIX,
  provision,
  sealer,
  TABLE,
} from './seal-harness.ts';

let env: Env;
let oldKey: string;
let newKey: string;

beforeAll(async () => {
  env = makeEnv();
  await provision(env);
  oldKey = await createKmsKey(env.kms);
  newKey = await createKmsKey(env.kms);
});

/** The configuration the seal and anchor functions would read after the rotation. */
function rotatedConfig(retired: string | undefined): AppConfig {
  return loadConfig({
    ANCHORLOG_TABLE: TABLE,
    ANCHORLOG_ARCHIVE_BUCKET: 'unused',
    ANCHORLOG_SIGNING_KEY_ID: newKey,
    ...(retired === undefined ? {} : { ANCHORLOG_RETIRED_SIGNING_KEYS: retired }),
  });
}

/** A log sealed (and published) with the old key. */
async function sealedWithOldKey(logId: string): Promise<number> {
  await newLog(env, logId);
  await appendEvents(env, logId, 5);
  const r = await sealer(env, await kmsSigner(env, oldKey)).sealLog(logId);
  expect(r).toMatchObject({ status: 'sealed', size: 5 });
  await appendEvents(env, logId, 3);
  return r.size;
}

function anchorer(logPublicKeys: Uint8Array[]): AnchorService {
  const tsa = inject('tsa');
  return new AnchorService({
    archive: env.archive,
    originPrefix: ORIGIN_PREFIX,
    logPublicKeys,
    anchors: new DynamoAnchorStore({ client: env.ddb, tableName: TABLE }),
    timestampers: [
      new HttpTimestamper({
        name: 'ecdsa',
        url: tsa.ecdsa.url,
        rootsPem: readFileSync(tsa.ecdsa.rootCertPath, 'utf8'),
      }),
    ],
    quorum: 1,
    clock: env.clock,
    random: (n) => crypto.getRandomValues(new Uint8Array(n)),
    metrics: new MemoryMetricsSink(),
    sleep: async () => {},
  });
}

describe('rotating the log signing key', () => {
  it('with the old key retired, sealing goes on: the archived checkpoint verifies, new ones are signed by the new key only', async () => {
    const logId = 'rotated';
    const before = await sealedWithOldKey(logId);
    const config = rotatedConfig(oldKey);
    expect(config.retiredSigningKeys).toEqual([{ kmsKeyId: oldKey }]);
    const retired = await loadRetiredPublicKeys(config, env.kms);
    const signer = await kmsSigner(env, newKey);

    // Before the next seal, the archive still holds the old key's checkpoint: the anchor job
    // stamps it with the keys the function loads at cold start (new, then retired).
    const keys = await loadLogPublicKeys(config, env.kms);
    expect(keys).toEqual([signer.publicKeySpki, ...retired]);
    expect(await anchorer(keys).anchorLog(logId)).toMatchObject({ status: 'anchored', size: before });

    // Before the fix there was no way to pass the retired key: CHECKPOINT_INVALID, log halted.
    const r = await sealer(env, signer, { retiredPublicKeys: retired }).sealLog(logId);
    expect(r).toMatchObject({ status: 'sealed', previousSize: before, size: 8 });
    const st = await env.state.read(logId);
    expect(st?.halted).toBeUndefined();
    const origin = `${ORIGIN_PREFIX}/${logId}`;
    const newVerifier = ecdsaP256Verifier(origin, signer.publicKeySpki);
    const oldVerifier = ecdsaP256Verifier(origin, retired[0] as Uint8Array);
    const text = st?.checkpoint ?? '';
    expect(verifyNote(text, [newVerifier, oldVerifier]).verifiedBy).toEqual([newVerifier]);
    expect(new TextDecoder().decode(await env.archive.get(`logs/${logId}/checkpoint`))).toBe(text);
    // The new tree extends the one the old key signed.
    const leaves = (await allRecords(env, logId)).map((b) => leafHash(b));
    const cp = checkpointFromNote(text, origin, [newVerifier]);
    const proof = consistencyProof(leaves.slice(0, cp.size), before, cp.size);
    verifyConsistency(before, cp.size, proof, rootOf(leaves.slice(0, before)), cp.rootHash);

    // Later runs: idle, and sealing more works with the new key alone.
    expect((await sealer(env, signer, { retiredPublicKeys: retired }).sealLog(logId)).status).toBe('idle');
    await appendEvents(env, logId, 2);
    expect(await sealer(env, signer).sealLog(logId)).toMatchObject({ status: 'sealed', size: 10 });
  });

  it('without it, the sealer halts (CHECKPOINT_INVALID) and the anchor job refuses', async () => {
    const logId = 'not-retired';
    await sealedWithOldKey(logId);
    const config = rotatedConfig(undefined);
    expect(await loadRetiredPublicKeys(config, env.kms)).toEqual([]);
    const keys = await loadLogPublicKeys(config, env.kms);
    const refused = await anchorer(keys)
      .anchorLog(logId)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('INTEGRITY');
    const err = await sealer(env, await kmsSigner(env, newKey))
      .sealLog(logId)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SealHaltError);
    expect((err as SealHaltError).haltCode).toBe('CHECKPOINT_INVALID');
  });
});
