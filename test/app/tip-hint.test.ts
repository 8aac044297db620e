/**
 * The head hint (`pk=L#<logId> sk=HEAD`) is a hint: it may say where the tip
 * is, never what the tip is (issue #11, docs/ingest.md §3). Whoever can write
 * it — the ingest role, a point-in-time restore — must not be able to choose
 * the receivedAt of honest producers' events, nor make the next append commit
 * a batch that does not chain.
 *
 * End to end with the real parts: ingest, sealer and anchorer on moto and the
 * two OpenSSL TSAs, an export, and the offline verifier with pinned trust.
 */
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { IngestService } from '../../src/app/ingest.ts';
import { verifyBundle } from '../../src/core/bundle/index.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { decodeRecord } from '../../src/core/record.ts';
import { decodePemCertificates } from '../../src/core/rfc3161/pem.ts';
import { appendAt, sealAndAnchor } from './export-harness.ts';
import { exportEnv, type MotoExportEnv } from './export-moto.ts';

const MAR1_0900 = '2026-03-01T09:00:00.000Z';
const MAR1_1000 = '2026-03-01T10:00:00.000Z';
/** Three months after the events really arrive. */
const POISON = '2026-06-01T00:00:00.000Z';

let env: MotoExportEnv;

beforeAll(async () => {
  env = await exportEnv('tip-hint');
});

const headKey = (logId: string) => ({ pk: { S: `L#${logId}` }, sk: { S: 'HEAD' } });

/** A request from an honest producer, served by an ingest instance that has cached nothing. */
async function coldAppend(logId: string, actions: string[]) {
  const cold = new IngestService({ store: env.logs, clock: env.clock, sleep: async () => {} });
  const events = actions.map((action) => ({
    occurredAt: MAR1_1000,
    actor: { type: 'human', id: 'mallory' },
    action,
    target: { type: 'resource', id: 'payroll-db' },
    outcome: 'success',
  }));
  return cold.append({ logId, submitter: 'svc-payroll', body: utf8(JSON.stringify({ events })) });
}

async function rewriteHead(logId: string, set: string, value: Record<string, unknown>): Promise<void> {
  await env.ddb.send(
    new UpdateItemCommand({
      TableName: env.table,
      Key: headKey(logId),
      UpdateExpression: `SET ${set} = :v`,
      ExpressionAttributeValues: { ':v': value as never },
    }),
  );
}

describe('a rewritten head hint', () => {
  it('does not set the receivedAt of the next cold append, so a verified "complete" bundle holds every record of its day', async () => {
    const logId = 'poisoned-time';
    await env.logRegistry.createLog(logId);
    const acts = [1, 2, 3].map((i) => ({ action: 'tool.call', actor: `bob-${i}`, target: 't' }));
    await appendAt(env, logId, MAR1_0900, acts);
    await sealAndAnchor(env, logId);
    const head = await env.ddb.send(
      new GetItemCommand({ TableName: env.table, Key: headKey(logId), ConsistentRead: true }),
    );
    expect(head.Item?.lastReceivedAt?.S).toBe(MAR1_0900);

    // One UpdateItem on the hint; then a producer's request at 10:00 reaches a cold instance.
    await rewriteHead(logId, 'lastReceivedAt', { S: POISON });
    env.clock.t = Date.parse(MAR1_1000);
    const out = await coldAppend(logId, ['access.grant', 'data.export']);
    // Before the fix both receipts said 2026-06-01T00:00:00.000Z.
    expect(out.receipts.map((r) => r.receivedAt)).toEqual([MAR1_1000, MAR1_1000]);

    env.clock.t = Date.parse('2026-03-01T10:01:00.000Z');
    await sealAndAnchor(env, logId);
    await appendAt(env, logId, '2026-07-01T00:00:00.000Z', [
      { action: 'tool.call', actor: 'carol', target: 't' },
    ]);
    await sealAndAnchor(env, logId);

    const chunks: Uint8Array[] = [];
    await env.exporter().export(logId, { from: '2026-03-01', to: '2026-03-02' }, (c) => {
      chunks.push(c);
    });
    const report = await verifyBundle(Buffer.concat(chunks), {
      logKeys: [env.vkey(logId)],
      tsaRoots: env.tsaRootsPem.flatMap((p) => decodePemCertificates(p)),
    });
    // Before the fix: "complete: 3 record(s)", closed by a record, without mallory's two.
    expect(report.completeness.end).toBe('record');
    expect(report.records.count).toBe(5);
  });

  it('with a wrong lastLeafHash does not make the next cold append commit a batch that does not chain', async () => {
    const logId = 'forked-hint';
    await env.logRegistry.createLog(logId);
    await appendAt(env, logId, MAR1_0900, [{ action: 'tool.call', actor: 'bob', target: 't' }]);
    await sealAndAnchor(env, logId);
    await rewriteHead(logId, 'lastLeafHash', { B: new Uint8Array(32).fill(0xee) });

    env.clock.t = Date.parse(MAR1_1000);
    const out = await coldAppend(logId, ['access.grant']);
    expect(out.status).toBe(201);
    const [first] = (await env.logs.readBatches(logId, 1, 2)).map((b) => b.lastLeafHash);
    const batch2 = await env.logs.readBatch(logId, 2);
    expect(Buffer.from(batch2?.prevHash ?? []).equals(Buffer.from(first ?? []))).toBe(true);
    expect(decodeRecord(batch2?.records[0]?.bytes ?? new Uint8Array()).prev).toBe(out.receipts[0]?.prev);
    // Before the fix: AppError INTEGRITY "batch 2 does not chain from index 0", and the log halted.
    const sealed = await env.seal.sealLog(logId);
    expect(sealed).toMatchObject({ status: 'sealed', size: 2 });
  });

  it('naming a seq past the end of the log does not stop appends', async () => {
    const logId = 'far-hint';
    await env.logRegistry.createLog(logId);
    await appendAt(env, logId, MAR1_0900, [{ action: 'tool.call', actor: 'bob', target: 't' }]);
    await rewriteHead(logId, 'seq', { N: '4000000000' });
    env.clock.t = Date.parse(MAR1_1000);
    const out = await coldAppend(logId, ['access.grant']);
    expect(out.receipts.map((r) => r.index)).toEqual([1]);
    expect(await env.seal.sealLog(logId)).toMatchObject({ status: 'sealed', size: 2 });
  });
});
