/**
 * The crash-safety table of ./seal-faults.test.ts with event classes on
 * (docs/classes.md): every call from the first class-log read to the end of
 * the run — class tiles and bundles read (right edges, partial bundles),
 * written (commit point 1c), then the signature, CAS and publish of a
 * checkpoint that carries class lines — fails or kills the run in each of
 * the four modes, and a fresh process must converge: the main-log invariants
 * hold, every archived class log rebuilds its signed class root, the
 * monitor recomputes every class root from the main log, and the state keeps
 * the class edges of its checkpoint. Twice: from a state that keeps class
 * edges, and from one written before they were kept (the edges rebuilt from
 * the archive; docs/classes.md §Sealing).
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FaultMode } from '../../src/adapters/aws/send-faults.ts';
import { AppError } from '../../src/app/errors.ts';
import {
  classCommitments,
  classLeafHash,
  classLogPrefix,
  decodeClassLeaf,
} from '../../src/core/classes/index.ts';
import { monitorLog } from '../../src/core/classes/monitor-run.ts';
import { decodeEntryBundle } from '../../src/core/merkle/entry-bundle.ts';
import { rootOf } from '../../src/core/merkle/root.ts';
import { entryBundlePath, TILE_WIDTH } from '../../src/core/merkle/tile-path.ts';
import { ecdsaP256Verifier } from '../../src/core/note/verifiers.ts';
import { checkpointFromNote } from '../../src/core/note/verify.ts';
import { archiveKey } from '../../src/ports/archive-store.ts';
import type { NoteSigner } from '../../src/ports/signer.ts';
import {
  appendEvents,
  checkInvariants,
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

const CLASSES = [
  { name: 'access', version: 1, action: 'access.*' },
  { name: 'config', version: 1, action: 'config.*' },
];
const mixed = (i: number) =>
  ['access.grant', 'tool.call', 'config.set', 'tool.call', 'access.revoke'][i % 5] as string;
const MODES: FaultMode[] = ['fail-before', 'fail-after', 'kill-before', 'kill-after'];
const BEFORE = 200;
const AFTER = 320;

/**
 * The calls of one run growing 200 → 320 with two classes (access: 80 → 128,
 * config: 40 → 64), in order. From FIRST_CLASS_CALL on they are the table.
 */
const CLEAN_RUN = [
  'dynamodb GetItemCommand', // seal state
  'dynamodb BatchGetItemCommand', // new batches
  's3 GetObjectCommand', // archived checkpoint
  's3 GetObjectCommand', // partial tile/0/000.p/200
  's3 GetObjectCommand', // partial entry bundle 000.p/200
  's3 GetObjectCommand', // access: partial class tile/0/000.p/80 (checked against the kept edge)
  's3 GetObjectCommand', // access: partial class entry bundle 000.p/80
  's3 GetObjectCommand', // config: partial class tile/0/000.p/40
  's3 GetObjectCommand', // config: partial class entry bundle 000.p/40
  's3 PutObjectCommand', // entries/000
  's3 PutObjectCommand', // entries/001.p/64
  's3 PutObjectCommand', // tile/0/000
  's3 PutObjectCommand', // tile/0/001.p/64
  's3 PutObjectCommand', // tile/1/000.p/1
  's3 PutObjectCommand', // access entries/000.p/128 (commit point 1c)
  's3 PutObjectCommand', // access tile/0/000.p/128
  's3 PutObjectCommand', // config entries/000.p/64
  's3 PutObjectCommand', // config tile/0/000.p/64
  's3 GetObjectCommand', // archived checkpoint again
  'kms SignCommand', // checkpoint (with class lines) signature
  'dynamodb PutItemCommand', // CAS
  's3 PutObjectCommand', // checkpoint
  'dynamodb UpdateItemCommand', // publish marker
];
const FIRST_CLASS_CALL = 6;

let kmsKeyId: string;
let counter = 0;

beforeAll(async () => {
  const env = makeEnv();
  await provision(env);
  kmsKeyId = await createKmsKey(env.kms);
});

const svcFor = async (env: Env) => sealer(env, await kmsSigner(env, kmsKeyId), { classes: CLASSES });

/**
 * A log sealed to BEFORE with 120 new records waiting. `oldState`: the seal
 * state item as a sealer from before kept class edges left it (no
 * classEdges attribute), so the run rebuilds the class edges from tiles.
 */
async function prepared(oldState = false): Promise<string> {
  const logId = `cf${++counter}`;
  const env = makeEnv();
  await newLog(env, logId);
  await appendEvents(env, logId, 150, 0, mixed);
  await appendEvents(env, logId, 50, 0, mixed);
  expect((await (await svcFor(env)).sealLog(logId)).size).toBe(BEFORE);
  expect((await env.state.read(logId))?.classEdges).toBeDefined();
  if (oldState) {
    await env.ddb.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { pk: { S: `S#${logId}` }, sk: { S: 'SEAL' } },
        UpdateExpression: 'REMOVE classEdges',
      }),
    );
    expect((await env.state.read(logId))?.classEdges).toBeUndefined();
  }
  await appendEvents(env, logId, 60, 0, mixed);
  await appendEvents(env, logId, 60, 0, mixed);
  return logId;
}

/** Class logs: archived leaves rebuild the signed roots; the monitor recomputes them from the main log. */
async function checkClasses(env: Env, logId: string, signer: NoteSigner): Promise<void> {
  const origin = `${ORIGIN_PREFIX}/${logId}`;
  const verifiers = [ecdsaP256Verifier(origin, signer.publicKeySpki)];
  const text = (await env.archive.getCheckpoint(logId))?.text ?? '';
  const cp = checkpointFromNote(text, origin, verifiers);
  const classes = classCommitments(cp.extensions, cp.size);
  expect(classes.map((c) => [c.def.name, c.size])).toEqual([
    ['access', 128],
    ['config', 64],
  ]);
  for (const c of classes) {
    const leaves = [];
    for (let n = 0; n * TILE_WIDTH < c.size; n++) {
      const w = Math.min(TILE_WIDTH, c.size - n * TILE_WIDTH);
      const body = await env.archive.get(archiveKey(logId, classLogPrefix(c) + entryBundlePath(n, w)));
      if (body === undefined) throw new Error(`class ${c.def.name} bundle ${n} missing`);
      leaves.push(...decodeEntryBundle(body, w).map(decodeClassLeaf));
    }
    expect(rootOf(leaves.map(classLeafHash))).toEqual(c.rootHash);
  }
  const report = await monitorLog({
    source: {
      checkpoint: async () => (await env.archive.getCheckpoint(logId))?.text,
      get: (path) => env.archive.get(archiveKey(logId, path)),
    },
    origin,
    verifiers,
  });
  expect(report.divergence).toBeUndefined();
}

async function recover(logId: string): Promise<void> {
  const env = makeEnv();
  const signer = await kmsSigner(env, kmsKeyId);
  const r = await sealer(env, signer, { classes: CLASSES }).sealLog(logId);
  expect(r.size).toBe(AFTER);
  expect(await checkInvariants(env, logId, signer)).toBe(AFTER);
  await checkClasses(env, logId, signer);
  // The converged state keeps the class edges of its checkpoint.
  expect((await env.state.read(logId))?.classEdges).toBeDefined();
  env.faults.arm();
  expect((await sealer(env, signer, { classes: CLASSES }).sealLog(logId)).status).toBe('idle');
  expect(env.faults.calls.map((c) => c.command)).toEqual(['GetItemCommand', 'BatchGetItemCommand']);
}

describe.each([
  ['kept class edges', false],
  ['a state from before kept class edges', true],
] as const)('seal crash-safety table with classes, from %s', (_from, oldState) => {
  it('a clean run makes exactly the calls the table covers', async () => {
    const logId = await prepared(oldState);
    const env = makeEnv();
    const svc = await svcFor(env);
    env.faults.arm();
    const r = await svc.sealLog(logId);
    expect(r).toMatchObject({ status: 'sealed', previousSize: BEFORE, size: AFTER });
    expect(r.stats.classObjectsWritten).toBe(4);
    expect(env.faults.calls.map((c) => `${c.client} ${c.command}`)).toEqual(CLEAN_RUN);
  });

  const table = CLEAN_RUN.slice(FIRST_CLASS_CALL - 1).flatMap((call, i) =>
    MODES.map((mode) => [i + FIRST_CLASS_CALL, call, mode] as const),
  );
  it.each(table)('call %i (%s) %s → next run converges', async (k, _call, mode) => {
    const logId = await prepared(oldState);
    const env = makeEnv();
    const svc = await svcFor(env);
    env.faults.arm((call) => (call.n === k ? mode : undefined));
    const outcome = await Promise.race([
      svc.sealLog(logId).then(
        (r) => r,
        (e: unknown) => e,
      ),
      env.faults.killed.then(() => 'killed' as const),
    ]);
    if (mode.startsWith('kill')) expect(outcome).toBe('killed');
    else {
      expect(outcome).toBeInstanceOf(AppError);
      expect((outcome as AppError).code).toBe('UNAVAILABLE');
    }
    const st = await makeEnv().state.read(logId);
    expect([BEFORE, AFTER]).toContain(st?.size);
    await recover(logId);
  });
});
