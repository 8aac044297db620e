/**
 * The crash-safety table (STYLE: sunlight testlog_test.go, tessera
 * integration/fault): for every DynamoDB, S3 and KMS call a seal run makes,
 *   fail-before  fail and not persist
 *   fail-after   fail but persist (a timeout after a successful write)
 *   kill-before  the process dies before the call; the run is abandoned
 *   kill-after   the call lands, then the process dies
 * then a fresh process (new clients, new service) runs the sealer, and the
 * invariant checker must pass: checkpoint verifies and is the archive's
 * current one, entry bundles alone rebuild its root, tiles serve the same
 * root, every archived checkpoint version is consistent with it, and no tile
 * or bundle ever got a second version.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FaultMode } from '../../src/adapters/aws/send-faults.ts';
import { AppError } from '../../src/app/errors.ts';
import { parseCheckpoint } from '../../src/core/note/checkpoint.ts';
import { checkpointKey } from '../../src/ports/archive-store.ts';
import {
  appendEvents,
  checkInvariants,
  createKmsKey,
  type Env,
  kmsSigner,
  makeEnv,
  newLog,
  provision,
  sealer,
} from './seal-harness.ts';

/**
 * Every call of one seal run growing a sealed tree from 200 to 320 leaves,
 * in order. Asserted by the first test, so the table below cannot silently
 * stop covering a call.
 */
const CLEAN_RUN = [
  'dynamodb GetItemCommand', // seal state
  'dynamodb BatchGetItemCommand', // new batches
  's3 GetObjectCommand', // archived checkpoint: the state must not be behind it
  's3 GetObjectCommand', // partial tile/0/000.p/200 (right edge check, growth prefix)
  's3 GetObjectCommand', // partial entry bundle 000.p/200
  's3 PutObjectCommand', // entries/000
  's3 PutObjectCommand', // entries/001.p/64
  's3 PutObjectCommand', // tile/0/000
  's3 PutObjectCommand', // tile/0/001.p/64
  's3 PutObjectCommand', // tile/1/000.p/1
  's3 GetObjectCommand', // archived checkpoint again: the new tree must extend the newest
  'kms SignCommand', // checkpoint signature
  'dynamodb PutItemCommand', // CAS
  's3 PutObjectCommand', // checkpoint, If-Match: the ETag read just above
  'dynamodb UpdateItemCommand', // publish marker
];
const MODES: FaultMode[] = ['fail-before', 'fail-after', 'kill-before', 'kill-after'];
const BEFORE = 200;
const AFTER = 320;

let kmsKeyId: string;
let counter = 0;

beforeAll(async () => {
  const env = makeEnv();
  await provision(env);
  kmsKeyId = await createKmsKey(env.kms);
});

/** A log with a sealed tree of 200 and 120 unsealed records in two batches. */
async function prepared(): Promise<string> {
  const logId = `f${++counter}`;
  const env = makeEnv();
  await newLog(env, logId);
  await appendEvents(env, logId, 150);
  await appendEvents(env, logId, 50);
  expect((await sealer(env, await kmsSigner(env, kmsKeyId)).sealLog(logId)).size).toBe(BEFORE);
  await appendEvents(env, logId, 60);
  await appendEvents(env, logId, 60);
  return logId;
}

/** One faulty run in a fresh "process"; returns what it threw, or 'killed'. */
async function faultyRun(env: Env, logId: string, k: number, mode: FaultMode): Promise<unknown> {
  const svc = sealer(env, await kmsSigner(env, kmsKeyId));
  env.faults.arm((call) => (call.n === k ? mode : undefined));
  const run = svc.sealLog(logId).then(
    (r) => r,
    (e: unknown) => e,
  );
  return Promise.race([run, env.faults.killed.then(() => 'killed' as const)]);
}

async function recover(logId: string): Promise<Env> {
  const env = makeEnv();
  const signer = await kmsSigner(env, kmsKeyId);
  const r = await sealer(env, signer).sealLog(logId);
  expect(r.size).toBe(AFTER);
  expect(await checkInvariants(env, logId, signer)).toBe(AFTER);
  // Converged: one more run is idle and writes nothing.
  env.faults.arm();
  const idle = await sealer(env, signer).sealLog(logId);
  expect(idle.status).toBe('idle');
  expect(env.faults.calls.map((c) => c.command)).toEqual(['GetItemCommand', 'BatchGetItemCommand']);
  return env;
}

describe('seal crash-safety table', () => {
  it('a clean run makes exactly the calls the table covers', async () => {
    const logId = await prepared();
    const env = makeEnv();
    const svc = sealer(env, await kmsSigner(env, kmsKeyId));
    env.faults.arm();
    const r = await svc.sealLog(logId);
    expect(r).toMatchObject({ status: 'sealed', previousSize: BEFORE, size: AFTER });
    expect(env.faults.calls.map((c) => `${c.client} ${c.command}`)).toEqual(CLEAN_RUN);
  });

  const table = CLEAN_RUN.flatMap((call, i) => MODES.map((mode) => [i + 1, call, mode] as const));
  it.each(table)('call %i (%s) %s → next run converges', async (k, _call, mode) => {
    const logId = await prepared();
    const env = makeEnv();
    const outcome = await faultyRun(env, logId, k, mode);
    if (mode.startsWith('kill')) expect(outcome).toBe('killed');
    else {
      // A fault is never mistaken for corruption.
      expect(outcome).toBeInstanceOf(AppError);
      expect((outcome as AppError).code).toBe('UNAVAILABLE');
    }
    // Between runs: the state is the old or the new tree head, nothing else,
    // and the archive never shows a checkpoint the state does not know.
    const check = makeEnv();
    const st = await check.state.read(logId);
    expect([BEFORE, AFTER]).toContain(st?.size);
    const archived = await check.archive.get(checkpointKey(logId));
    const text = new TextDecoder().decode(archived);
    expect(parseCheckpoint(text.slice(0, text.indexOf('\n\n') + 1)).size).toBeLessThanOrEqual(st?.size ?? 0);

    await recover(logId);
  });

  it('two concurrent sealers: one CAS wins, the other publishes nothing', async () => {
    const logId = await prepared();
    const a = makeEnv();
    const b = makeEnv();
    const [ra, rb] = await Promise.all([
      sealer(a, await kmsSigner(a, kmsKeyId)).sealLog(logId),
      sealer(b, await kmsSigner(b, kmsKeyId)).sealLog(logId),
    ]);
    expect([ra.status, rb.status].sort()).toEqual(['lost-race', 'sealed']);
    await recover(logId);
  });
});
