/**
 * Issue #11 "the seal state is the sealer's alone": the fork attack, replayed
 * end to end on the emulator. A log is sealed (checkpoint A at size 9); then,
 * writing directly to DynamoDB as an attacker with the ingest role's access
 * (or an operator's point-in-time restore) would, a sealed batch is replaced
 * and the seal state rolled back. The next seal run must refuse: no KMS
 * signature, no archive write, no new checkpoint version, the log halted with
 * a stable code.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { type SealHaltCode, SealHaltError } from '../../src/app/seal.ts';
import { formatCheckpoint } from '../../src/core/note/checkpoint.ts';
import { signNote } from '../../src/core/note/sign.ts';
import { checkpointKey } from '../../src/ports/archive-store.ts';
import type { NoteSigner } from '../../src/ports/signer.ts';
import {
  appendEvents,
  checkInvariants,
  createKmsKey,
  type Env,
  kmsSigner,
  listVersions,
  localSigner,
  makeEnv,
  newLog,
  ORIGIN_PREFIX,
  provision,
  sealer,
  TABLE,
} from './seal-harness.ts';

type Item = Record<string, AttributeValue>;

let env: Env;
let kmsKeyId: string;

beforeAll(async () => {
  env = makeEnv();
  await provision(env);
  kmsKeyId = await createKmsKey(env.kms);
});

/** Where the seal state lives now (S#) and where it lived before issue #11 (L#). */
const sealKeys = (logId: string) => ({
  current: { pk: { S: `S#${logId}` }, sk: { S: 'SEAL' } },
  legacy: { pk: { S: `L#${logId}` }, sk: { S: 'SEAL' } },
});
const batchKey = (logId: string, seq: number) => ({
  pk: { S: `L#${logId}#B#${String(seq).padStart(16, '0')}` },
  sk: { S: 'B' },
});

async function getItem(key: Item): Promise<Item | undefined> {
  return (await env.ddb.send(new GetItemCommand({ TableName: TABLE, Key: key, ConsistentRead: true }))).Item;
}

/** The raw seal-state item, wherever this version of the code keeps it. */
async function rawSealState(logId: string): Promise<Item> {
  const k = sealKeys(logId);
  const item = (await getItem(k.current)) ?? (await getItem(k.legacy));
  if (!item) throw new Error('no seal state item');
  return item;
}

/**
 * Seals batch 1 (5 records), keeps a copy of that seal state, then seals
 * batch 2 (4 records): checkpoint A at size 9, two archived checkpoint versions.
 */
async function sealedLog(logId: string): Promise<{ stateAt5: Item }> {
  const signer = await kmsSigner(env, kmsKeyId);
  await newLog(env, logId);
  await appendEvents(env, logId, 5);
  expect((await sealer(env, signer).sealLog(logId)).size).toBe(5);
  const stateAt5 = await rawSealState(logId);
  await appendEvents(env, logId, 4);
  expect((await sealer(env, signer).sealLog(logId)).size).toBe(9);
  return { stateAt5 };
}

/**
 * The attacker drops batch 2, moves the head hint back to batch 1 and appends
 * different events through the ordinary ingest code (so the new batches chain
 * correctly from batch 1 and pass every check the sealer makes on records).
 */
async function rewriteHistory(logId: string, batchSizes: number[]): Promise<void> {
  const b1 = await env.logs.readBatchHeader(logId, 1);
  if (!b1) throw new Error('no batch 1');
  await env.ddb.send(new DeleteItemCommand({ TableName: TABLE, Key: batchKey(logId, 2) }));
  await env.ddb.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: {
        pk: { S: `L#${logId}` },
        sk: { S: 'HEAD' },
        seq: { N: '1' },
        nextIndex: { N: String(b1.firstIndex + b1.count) },
        lastLeafHash: { B: b1.lastLeafHash },
        lastReceivedAt: { S: b1.receivedAt },
      },
    }),
  );
  const attacker = makeEnv();
  attacker.clock.t = env.clock.t + 60_000;
  for (const n of batchSizes) await appendEvents(attacker, logId, n);
}

type Rollback = 'current location' | 'legacy location' | 'deleted';

/** Puts the seal state back to `saved` (size 5), in one of the ways the brief names. */
async function rollBack(logId: string, saved: Item, how: Rollback): Promise<void> {
  const k = sealKeys(logId);
  if (how === 'current location') {
    await env.ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...saved, ...k.current } }));
    return;
  }
  await env.ddb.send(new DeleteItemCommand({ TableName: TABLE, Key: k.current }));
  await env.ddb.send(new DeleteItemCommand({ TableName: TABLE, Key: k.legacy }));
  if (how === 'legacy location')
    await env.ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...saved, ...k.legacy } }));
}

let counter = 0;
const cases: Array<[Rollback, string, number[]]> = [];
for (const how of ['current location', 'legacy location', 'deleted'] as const) {
  cases.push([how, 'batch 2 rewritten (5 records instead of 4)', [5]]);
  cases.push([how, 'batch 2 dropped, two different batches appended', [3, 3]]);
}

describe('seal: a rolled-back seal state never leads to a signed fork', () => {
  it.each(cases)('state rolled back (%s), %s: the sealer refuses and halts', async (how, _what, sizes) => {
    const logId = `fork-${++counter}`;
    const { stateAt5 } = await sealedLog(logId);
    await rewriteHistory(logId, sizes);
    await rollBack(logId, stateAt5, how);
    const objectsBefore = await listVersions(env.s3, `logs/${logId}/`);
    expect(objectsBefore.filter((v) => v.key === checkpointKey(logId))).toHaveLength(2);

    env.faults.arm();
    const err = await sealer(env, await kmsSigner(env, kmsKeyId))
      .sealLog(logId)
      .catch((e: unknown) => e);
    const calls = env.faults.calls.map((c) => `${c.client} ${c.command}`);
    env.faults.disarm();

    expect(err).toBeInstanceOf(SealHaltError);
    expect(err).toMatchObject({ code: 'INTEGRITY', haltCode: 'STATE_BEHIND_ARCHIVE' });
    // No signature over the forked tree, and nothing written to the archive:
    // no checkpoint version, no tile, no entry bundle.
    expect(calls).not.toContain('kms SignCommand');
    expect(calls).not.toContain('s3 PutObjectCommand');
    expect(await listVersions(env.s3, `logs/${logId}/`)).toEqual(objectsBefore);
    // Halted: the next run refuses too, without looking further.
    expect((await env.state.read(logId))?.halted).toMatch(/^STATE_BEHIND_ARCHIVE: /);
    await expect(sealer(env, await kmsSigner(env, kmsKeyId)).sealLog(logId)).rejects.toMatchObject({
      code: 'INTEGRITY',
      haltCode: 'STATE_BEHIND_ARCHIVE',
    });
    expect(await listVersions(env.s3, `logs/${logId}/`)).toEqual(objectsBefore);
  });
});

/**
 * What the log key would sign if asked (a buggy earlier sealer, a stolen
 * sealer credential): a checkpoint of `logId` at `size` with an arbitrary root.
 */
async function forgedCheckpoint(signer: NoteSigner, logId: string, size: number): Promise<string> {
  const origin = `${ORIGIN_PREFIX}/${logId}`;
  const body = formatCheckpoint({ origin, size, rootHash: new Uint8Array(32).fill(7) });
  return signNote(body, [{ ...signer, keyName: origin, sign: (m) => signer.sign(m) }]);
}

/** Replaces the archive's checkpoint the only way the archive allows: by naming the current one. */
async function replaceArchivedCheckpoint(logId: string, text: string): Promise<void> {
  const current = await env.archive.getCheckpoint(logId);
  const r = await env.archive.putCheckpoint(
    logId,
    text,
    current ? { ifMatch: current.etag } : { ifNoneMatch: '*' },
  );
  expect(r.written).toBe(true);
}

/** Runs the sealer and expects a halt with `code`, no signature and no archive write. */
async function expectHalt(logId: string, signer: NoteSigner, code: SealHaltCode): Promise<void> {
  const before = await listVersions(env.s3, `logs/${logId}/`);
  env.faults.arm();
  const err = await sealer(env, signer)
    .sealLog(logId)
    .catch((e: unknown) => e);
  const calls = env.faults.calls.map((c) => `${c.client} ${c.command}`);
  env.faults.disarm();
  expect(err).toBeInstanceOf(SealHaltError);
  expect(err).toMatchObject({ code: 'INTEGRITY', haltCode: code });
  expect(calls).not.toContain('s3 PutObjectCommand');
  expect(calls.filter((c) => c.startsWith('kms'))).toEqual([]);
  expect(await listVersions(env.s3, `logs/${logId}/`)).toEqual(before);
  expect((await env.state.read(logId))?.halted?.startsWith(`${code}: `)).toBe(true);
}

describe('seal: the archive, not the seal state, decides what may be signed', () => {
  it('adopts a pre-#11 seal state that agrees with the archive, then never reads it again', async () => {
    const logId = 'legacy-ok';
    await newLog(env, logId);
    await appendEvents(env, logId, 5);
    await sealer(env, localSigner).sealLog(logId);
    // A deployment from before issue #11: the state lives at L#<log>/SEAL only.
    const k = sealKeys(logId);
    const state = await getItem(k.current);
    if (!state) throw new Error('no state');
    await env.ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...state, ...k.legacy } }));
    await env.ddb.send(new DeleteItemCommand({ TableName: TABLE, Key: k.current }));
    expect((await env.state.read(logId))?.legacy).toBe(true);

    await appendEvents(env, logId, 3);
    const r = await sealer(env, localSigner).sealLog(logId);
    expect(r).toMatchObject({ status: 'sealed', previousSize: 5, size: 8 });
    const adopted = await env.state.read(logId);
    expect(adopted).toMatchObject({ size: 8, version: 2 });
    expect(adopted?.legacy).toBeUndefined();
    expect(await checkInvariants(env, logId, localSigner)).toBe(8);

    // The legacy item is dead: whatever someone writes there is never read.
    await env.ddb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { ...k.legacy, version: { N: '0' }, halted: { S: 'x' } },
      }),
    );
    await appendEvents(env, logId, 2);
    env.faults.arm();
    expect((await sealer(env, localSigner).sealLog(logId)).size).toBe(10);
    expect(env.faults.calls.filter((c) => c.command === 'GetItemCommand')).toHaveLength(1);
    env.faults.disarm();
  });

  it('a legacy seal state ahead of the archive (its publish never happened) is proven consistent, adopted and published', async () => {
    const logId = 'legacy-ahead';
    await newLog(env, logId);
    await appendEvents(env, logId, 5);
    await sealer(env, localSigner).sealLog(logId);
    await appendEvents(env, logId, 300);
    // The second run dies right after its CAS, before publishing.
    const dying = makeEnv();
    dying.faults.arm((call) => (call.command === 'PutItemCommand' ? 'kill-after' : undefined));
    const killed = await Promise.race([
      sealer(dying, localSigner).sealLog(logId),
      dying.faults.killed.then(() => 'killed' as const),
    ]);
    expect(killed).toBe('killed');
    const k = sealKeys(logId);
    const state = await getItem(k.current);
    if (!state) throw new Error('no state');
    await env.ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...state, ...k.legacy } }));
    await env.ddb.send(new DeleteItemCommand({ TableName: TABLE, Key: k.current }));

    const r = await sealer(env, localSigner).sealLog(logId);
    expect(r).toMatchObject({ status: 'idle', size: 305, republished: true });
    expect(await checkInvariants(env, logId, localSigner)).toBe(305);
  });

  it('an archived checkpoint that the log key did not sign halts the log (CHECKPOINT_INVALID)', async () => {
    const logId = 'other-key';
    await newLog(env, logId);
    await appendEvents(env, logId, 5);
    await sealer(env, localSigner).sealLog(logId);
    await appendEvents(env, logId, 2);
    await expectHalt(logId, LocalNoteSigner.generate('another-key'), 'CHECKPOINT_INVALID');
  });

  it("an archived checkpoint with the state's size but another root halts the log (FORK)", async () => {
    const logId = 'same-size';
    await newLog(env, logId);
    await appendEvents(env, logId, 5);
    await sealer(env, localSigner).sealLog(logId);
    await replaceArchivedCheckpoint(logId, await forgedCheckpoint(localSigner, logId, 5));
    await appendEvents(env, logId, 2);
    await expectHalt(logId, localSigner, 'FORK');
  });

  it('a seal state whose tree does not extend the archived checkpoint halts the log (FORK, by consistency proof)', async () => {
    const logId = 'no-extend';
    await newLog(env, logId);
    await appendEvents(env, logId, 5);
    await sealer(env, localSigner).sealLog(logId);
    await appendEvents(env, logId, 4);
    await sealer(env, localSigner).sealLog(logId);
    // The archive now claims a tree of 7 that the tiles of 9 do not contain.
    await replaceArchivedCheckpoint(logId, await forgedCheckpoint(localSigner, logId, 7));
    await appendEvents(env, logId, 2);
    await expectHalt(logId, localSigner, 'FORK');
  });
});
