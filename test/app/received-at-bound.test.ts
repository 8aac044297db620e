/**
 * receivedAt is what an evidence bundle's range completeness is keyed on
 * (docs/bundle.md), so nothing may put it in the future (issue #11): the
 * sealer halts (RECEIVED_AT_IN_FUTURE) rather than sign a record received
 * after its own clock plus MAX_CLOCK_SKEW_MS, and ingest never stamps a time
 * past its clock plus that skew — it refuses to continue a chain whose last
 * record claims one. Real DynamoDB and S3 (moto), real ingest and sealer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { SealHaltError } from '../../src/app/seal.ts';
import { toBase64, utf8 } from '../../src/core/bytes.ts';
import { encodeRecord, formatReceivedAt, leafHash } from '../../src/core/record.ts';
import { MAX_CLOCK_SKEW_MS } from '../../src/ports/clock.ts';
import { appendEvents, type Env, localSigner, makeEnv, newLog, provision, sealer } from './seal-harness.ts';

/** docs/operations.md §Clock skew: five minutes. */
const SKEW = 5 * 60_000;

let env: Env;

beforeAll(async () => {
  env = makeEnv();
  await provision(env);
});

const event = {
  occurredAt: '2026-03-01T12:00:00.000Z',
  actor: { type: 'human', id: 'mallory' },
  action: 'access.grant',
  target: { type: 'resource', id: 'payroll-db' },
  outcome: 'success',
};

/** What an insider with the ingest role can do: commit a well-chained batch stamped `receivedAt`. */
async function commitStamped(logId: string, receivedAt: string): Promise<void> {
  const tip = await env.logs.readTip(logId);
  const bytes = encodeRecord({
    v: 1,
    logId,
    index: tip.nextIndex,
    receivedAt,
    submitter: 'svc-payroll',
    prev: toBase64(tip.lastLeafHash),
    event: event as never,
  });
  const out = await env.logs.commitBatch({
    logId,
    seq: tip.seq + 1,
    firstIndex: tip.nextIndex,
    count: 1,
    prevHash: tip.lastLeafHash,
    lastLeafHash: leafHash(bytes),
    receivedAt,
    submitter: 'svc-payroll',
    attemptId: `insider-${receivedAt}`,
    tryNumber: 1,
    records: [bytes],
  });
  expect(out.committed).toBe(true);
}

async function sealOutcome(logId: string): Promise<string> {
  return sealer(env, localSigner)
    .sealLog(logId)
    .then(
      (o) => o.status,
      (e: unknown) => (e instanceof SealHaltError ? `halt ${e.haltCode}` : String(e)),
    );
}

const coldIngest = () => new IngestService({ store: env.logs, clock: env.clock, sleep: async () => {} });
const append = (logId: string) =>
  coldIngest().append({ logId, submitter: 'svc-test', body: utf8(JSON.stringify({ events: [event] })) });

describe('the sealer bounds receivedAt by its own clock', () => {
  it('the allowed skew is five minutes', () => {
    expect(MAX_CLOCK_SKEW_MS).toBe(SKEW);
  });

  it('halts (RECEIVED_AT_IN_FUTURE) on a record stamped three months after its clock, and stays halted', async () => {
    await newLog(env, 'future');
    await appendEvents(env, 'future', 2);
    expect(await sealOutcome('future')).toBe('sealed');
    await commitStamped('future', formatReceivedAt(env.clock.t + 92 * 86_400_000));
    // Before the fix: 'sealed' — a checkpoint over a record "received" in June, signed in March.
    expect(await sealOutcome('future')).toBe('halt RECEIVED_AT_IN_FUTURE');
    const st = await env.state.read('future');
    expect(st?.size).toBe(2);
    expect(st?.halted).toMatch(/^RECEIVED_AT_IN_FUTURE: /);
    // Waiting for the clock to catch up does not make it acceptable: the halt is for an operator.
    env.clock.t += 93 * 86_400_000;
    expect(await sealOutcome('future')).toBe('halt RECEIVED_AT_IN_FUTURE');
  });

  it('seals a record up to the skew ahead of its clock, and halts one millisecond past it', async () => {
    await newLog(env, 'edge');
    await appendEvents(env, 'edge', 1);
    await commitStamped('edge', formatReceivedAt(env.clock.t + SKEW));
    expect(await sealOutcome('edge')).toBe('sealed');
    await newLog(env, 'edge-past');
    await appendEvents(env, 'edge-past', 1);
    await commitStamped('edge-past', formatReceivedAt(env.clock.t + SKEW + 1));
    expect(await sealOutcome('edge-past')).toBe('halt RECEIVED_AT_IN_FUTURE');
  });
});

describe('ingest never stamps past its clock plus the skew', () => {
  it('refuses (INTEGRITY, nothing stored) to continue a chain whose last receivedAt is beyond it', async () => {
    await newLog(env, 'ahead');
    await appendEvents(env, 'ahead', 1);
    const stamped = formatReceivedAt(env.clock.t + 3_600_000);
    await commitStamped('ahead', stamped);
    const err = await append('ahead').catch((e: unknown) => e);
    // Before the fix: 201, with the insider's time on the producer's event.
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INTEGRITY');
    expect((err as AppError).message).toContain(stamped);
    expect((await env.logs.readTip('ahead')).seq).toBe(2);
  });

  it('continues a chain up to the skew ahead (receivedAt never decreases)', async () => {
    await newLog(env, 'slightly-ahead');
    await appendEvents(env, 'slightly-ahead', 1);
    const stamped = formatReceivedAt(env.clock.t + SKEW);
    await commitStamped('slightly-ahead', stamped);
    const out = await append('slightly-ahead');
    expect(out.receipts.map((r) => r.receivedAt)).toEqual([stamped]);
    expect(await sealOutcome('slightly-ahead')).toBe('sealed');
  });
});
