/**
 * ExportService edge cases on moto, and the S3 export store: O(log n) header
 * reads for the time → index search, ranges past the checkpoint (partly or
 * wholly unsealed), ranges not yet time-stamped, the synchronous record cap,
 * upload failure → abort, multipart streaming and abort.
 */
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3ExportStore } from '../../src/adapters/aws/s3-export-store.ts';
import { AppError } from '../../src/app/errors.ts';
import { verifyBundle } from '../../src/core/bundle/index.ts';
import { toHex, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hash.ts';
import { decodePemCertificates } from '../../src/core/rfc3161/pem.ts';
import type { ExportStore } from '../../src/ports/export-store.ts';
import { appendAt, sealAndAnchor } from './export-harness.ts';
import { exportEnv, type MotoExportEnv } from './export-moto.ts';

let env: MotoExportEnv;
const LOG = 'edge';
const day = (d: number) => new Date(Date.UTC(2026, 0, 1) + d * 86_400_000).toISOString();

beforeAll(async () => {
  env = await exportEnv('export-edge');
  await env.logRegistry.createLog(LOG);
  // 40 batches of 2 records, one a day from Jan 1; sealed and anchored at 80.
  for (let d = 0; d < 40; d++)
    await appendAt(env, LOG, day(d), [
      { action: 'access.grant', actor: 'u', target: `a${d}` },
      { action: 'tool.call', actor: 'u', target: `b${d}` },
    ]);
  await sealAndAnchor(env, LOG);
  // Days 40–44 sealed but not anchored; days 45–49 not even sealed.
  for (let d = 40; d < 45; d++)
    await appendAt(env, LOG, day(d), [{ action: 'tool.call', actor: 'u', target: `c${d}` }]);
  const s = await env.seal.sealLog(LOG);
  expect(s.status).toBe('sealed');
  for (let d = 45; d < 50; d++)
    await appendAt(env, LOG, day(d), [{ action: 'tool.call', actor: 'u', target: `d${d}` }]);
}, 120_000);

const trust = () => ({
  logKeys: [env.vkey(LOG)],
  tsaRoots: env.tsaRootsPem.flatMap((p) => decodePemCertificates(p)),
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof AppError ? e.code : `not an AppError: ${String(e)}`;
  }
}

describe('ExportService on a real log', () => {
  it('resolves time → index with O(log n) batch-header reads', async () => {
    let reads = 0;
    const logs = new Proxy(env.logs, {
      get(t, p, r) {
        const v = Reflect.get(t, p, r);
        if (p === 'readBatchHeader')
          return (...a: [string, number]) => {
            reads++;
            return t.readBatchHeader(...a);
          };
        return typeof v === 'function' ? v.bind(t) : v;
      },
    });
    const plan = await env.exporter({ logs }).plan(LOG, { from: day(10), to: day(20) });
    expect(plan).toMatchObject({ firstIndex: 20, lastIndex: 39, intervalRecords: 20, checkpointSize: 85 });
    // 50 batches: two searches of ⌈log2(51)⌉ = 6 probes each, shared probes cached.
    expect(reads).toBeLessThanOrEqual(12);
  });

  it('a range whose records are all unsealed is 409 (retry after the next seal)', async () => {
    expect(await code(env.exporter().plan(LOG, { from: day(46), to: day(60) }))).toBe('CONFLICT');
  });

  it('a range sealed but not yet time-stamped is 409 (retry after the next anchor run)', async () => {
    // Only checkpoint 80 is anchored; records 80..84 are past it.
    expect(await code(env.exporter().plan(LOG, { from: day(41), to: day(44) }))).toBe('CONFLICT');
    // With an anchor past them it works.
    await env.anchor.anchorLog(LOG);
    const plan = await env.exporter().plan(LOG, { from: day(41), to: day(44) });
    expect(plan.anchoredSizes).toEqual([85]);
  });

  it('a range reaching past the checkpoint is cut at it: the bundle says so and verifies', async () => {
    const chunks: Uint8Array[] = [];
    const r = await env.exporter().export(LOG, { from: day(38), to: day(48) }, (c) => void chunks.push(c));
    // Records 76..84 are sealed (checkpoint 85); 85..87 (days 45–47) are not.
    expect(r).toMatchObject({ firstIndex: 76, lastIndex: 84, unsealedRecords: 3, checkpointSize: 85 });
    const report = await verifyBundle(chunks, trust());
    expect(report.completeness).toMatchObject({ proved: false, end: 'checkpoint-end' });
    expect(report.warnings.join(' ')).toContain('not covered');
  });

  it('the latest receivedAt the log assigns lies in an exportable range', async () => {
    const logId = 'end-of-time';
    await env.logRegistry.createLog(logId);
    const event = (target: string) => ({
      occurredAt: '2026-03-01T00:00:00.000Z',
      actor: { type: 'human', id: 'u' },
      action: 'tool.call',
      target: { type: 'resource', id: target },
      outcome: 'success',
    });
    const append = () =>
      env.ingest.append({ logId, submitter: 'p', body: utf8(JSON.stringify({ events: [event('x')] })) });
    // A clock at the last instant a bundle can name is past the log's time range: refused, nothing
    // stored. (It used to stamp 9999-12-31T23:59:59.999Z, which no range [from, to) of bundle
    // times contains, and an export asked for a `to` past it was a 500.)
    env.clock.t = Date.parse('9999-12-31T23:59:59.999Z');
    expect(await code(append())).toBe('INTERNAL');
    expect((await env.logs.readTip(logId)).seq).toBe(0);
    const at = '9999-12-31T23:59:59.998Z';
    await appendAt(env, logId, at, [{ action: 'tool.call', actor: 'u', target: 'last' }]);
    expect(await env.seal.sealLog(logId)).toMatchObject({ status: 'sealed', size: 1 });
    // Back to this century for the rest (the bundle's tar headers carry the export time).
    env.clock.t = Date.UTC(2026, 5, 1);
    expect(await env.anchor.anchorLog(logId)).toMatchObject({ status: 'anchored', size: 1 });
    const chunks: Uint8Array[] = [];
    const r = await env
      .exporter()
      .export(logId, { from: '9999-12-31', to: '9999-12-31T23:59:59.999Z' }, (c) => void chunks.push(c));
    // The bundle holds the record. (Offline verification then refuses it, rightly: no TSA's
    // genTime is after a receivedAt in 9999.)
    expect(r).toMatchObject({ firstIndex: 0, lastIndex: 0, intervalRecords: 1, unsealedRecords: 0 });
    expect(Buffer.concat(chunks).includes(Buffer.from(`"receivedAt":"${at}"`))).toBe(true);
  });

  it('unknown log 404; bad actor id 400; bad prefix 400', async () => {
    expect(await code(env.exporter().plan('nope', { from: day(1), to: day(2) }))).toBe('NOT_FOUND');
    expect(await code(env.exporter().plan(LOG, { from: day(1), to: day(2), actorId: 'u\u0000' }))).toBe(
      'BAD_REQUEST',
    );
    expect(await code(env.exporter().plan(LOG, { from: day(1), to: day(2), actorId: '' }))).toBe(
      'BAD_REQUEST',
    );
    expect(await code(env.exporter().plan(LOG, { from: day(1), to: day(2), actionPrefix: '.x' }))).toBe(
      'BAD_REQUEST',
    );
  });

  it('createExport: 413 above maxRecords before reading any record; stored bundle matches its sha256', async () => {
    expect(
      await code(env.exporter({ maxRecords: 10 }).createExport(LOG, { from: day(0), to: day(20) })),
    ).toBe('PAYLOAD_TOO_LARGE');
    const e = await env.exporter({ maxRecords: 40 }).createExport(LOG, { from: day(0), to: day(20) });
    expect(e.key).toBe(`exports/${LOG}/${e.exportId}.tar`);
    const obj = await env.s3.send(new GetObjectCommand({ Bucket: env.exportsBucket, Key: e.key }));
    const body = new Uint8Array(
      await (obj.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    expect(body.length).toBe(e.bytes);
    expect(toHex(sha256(body))).toBe(e.sha256);
    const res = await fetch(e.url);
    expect(res.status).toBe(200);
    expect(toHex(sha256(new Uint8Array(await res.arrayBuffer())))).toBe(e.sha256);
    expect((await verifyBundle(body, trust())).completeness.start).toBe('log-start');
  });

  it('createExport: an upload that fails mid-way is aborted, 503, nothing at the key', async () => {
    const real = new S3ExportStore({ client: env.s3, bucket: env.exportsBucket });
    let aborted = 0;
    let key = '';
    const failing: ExportStore = {
      downloadUrl: (k, s) => real.downloadUrl(k, s),
      async open(k, ct) {
        key = k;
        const u = await real.open(k, ct);
        let n = 0;
        return {
          write: async (c) => {
            if (++n === 5) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
            await u.write(c);
          },
          complete: () => u.complete(),
          abort: async () => {
            aborted++;
            await u.abort();
          },
        };
      },
    };
    const err = await env
      .exporter({ store: failing })
      .createExport(LOG, { from: day(0), to: day(20) })
      .catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('UNAVAILABLE');
    expect(aborted).toBe(1);
    expect(await code(env.s3.send(new HeadObjectCommand({ Bucket: env.exportsBucket, Key: key })))).not.toBe(
      'resolved',
    );
  });
});

describe('S3ExportStore', () => {
  it('streams a large object in parts (multipart) and an aborted upload leaves nothing', async () => {
    const store = new S3ExportStore({
      client: env.s3,
      bucket: env.exportsBucket,
      partBytes: 5 * 1024 * 1024,
    });
    const u = await store.open('exports/t/big.tar', 'application/x-tar');
    const chunk = new Uint8Array(1024 * 1024 + 7).map((_, i) => i % 251);
    for (let i = 0; i < 11; i++) await u.write(chunk);
    expect(await u.complete()).toEqual({ bytes: 11 * chunk.length });
    const got = await env.s3.send(
      new GetObjectCommand({ Bucket: env.exportsBucket, Key: 'exports/t/big.tar' }),
    );
    const body = new Uint8Array(
      await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    expect(body.length).toBe(11 * chunk.length);
    expect(body.subarray(5 * chunk.length, 5 * chunk.length + 10)).toEqual(chunk.subarray(0, 10));

    const v = await store.open('exports/t/aborted.tar', 'application/x-tar');
    for (let i = 0; i < 6; i++) await v.write(chunk);
    await v.abort();
    await v.abort();
    const pending = await env.s3.send(new ListMultipartUploadsCommand({ Bucket: env.exportsBucket }));
    expect((pending.Uploads ?? []).filter((x) => x.Key === 'exports/t/aborted.tar')).toEqual([]);
    expect(
      await code(
        env.s3.send(new HeadObjectCommand({ Bucket: env.exportsBucket, Key: 'exports/t/aborted.tar' })),
      ),
    ).not.toBe('resolved');
  });
});
