import { beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/aws.ts';
import {
  appendEvents,
  BUCKET,
  checkInvariants,
  createKmsKey,
  type Env,
  kmsSigner,
  makeEnv,
  newLog,
  ORIGIN_PREFIX,
  provision,
  TABLE,
} from './seal-harness.ts';

let env: Env;
let keyId: string;

beforeAll(async () => {
  env = makeEnv();
  await provision(env);
  keyId = await createKmsKey(env.kms);
});

describe('lambdas/seal handler (EventBridge Scheduler)', () => {
  it('seals every known log, then idles; a schedule input may name logs', async () => {
    await newLog(env, 'la');
    await newLog(env, 'lb');
    await appendEvents(env, 'la', 10);
    await appendEvents(env, 'lb', 300);
    Object.assign(process.env, {
      ANCHORLOG_TABLE: TABLE,
      ANCHORLOG_ARCHIVE_BUCKET: BUCKET,
      ANCHORLOG_SIGNING_KEY_ID: keyId,
      ANCHORLOG_ORIGIN_PREFIX: ORIGIN_PREFIX,
      ANCHORLOG_AWS_ENDPOINT: motoEndpoint(),
      AWS_REGION: 'us-east-1',
    });
    const { handler } = await import('../../lambdas/seal.ts');
    const context = { getRemainingTimeInMillis: () => 60_000 };
    const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.scheduler', detail: {} };
    expect(await handler(scheduled, context)).toEqual({ logs: 2, sealed: 2 });
    const signer = await kmsSigner(env, keyId);
    expect(await checkInvariants(env, 'la', signer)).toBe(10);
    expect(await checkInvariants(env, 'lb', signer)).toBe(300);
    expect(await handler(scheduled, context)).toEqual({ logs: 2, sealed: 0 });
    await appendEvents(env, 'lb', 5);
    expect(await handler({ logIds: ['lb'] }, context)).toEqual({ logs: 1, sealed: 1 });
    expect(await checkInvariants(env, 'lb', signer)).toBe(305);
  });
});
