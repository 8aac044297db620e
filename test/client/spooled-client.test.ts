/**
 * The durable spool and the spooled client (src/client/spool.ts,
 * src/client/spooled-client.ts; docs/sdk.md) against a real HTTP server
 * running the real IngestService: events appended while the server is down
 * are delivered once it is up, exactly once and with contiguous seqs; a
 * restart re-sends what was not acknowledged and the log still holds each
 * event once (also when the re-sent batch is grouped differently); a torn
 * last line is dropped; the size bound refuses instead of dropping; signed
 * spooled events verify.
 */
import { generateKeyPairSync } from 'node:crypto';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemoryProducerKeyStore } from '../../src/adapters/memory/producer-key-store.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { producerKeyReader } from '../../src/app/producer-keys.ts';
import { nodeEventSigner } from '../../src/client/node-signer.ts';
import { Spool, SpoolFullError } from '../../src/client/spool.ts';
import { SpooledAuditClient } from '../../src/client/spooled-client.ts';
import { toBase64, utf8 } from '../../src/core/bytes.ts';
import { type AuditEvent, validateEvent } from '../../src/core/event.ts';
import { parsePublicKey } from '../../src/core/producer-key.ts';
import { defaultSignatureVerifier, verifyEventSignature } from '../../src/core/producer-signature.ts';
import { decodeRecord, type LogRecord } from '../../src/core/record.ts';
import { errorResponse } from '../../src/http/errors.ts';

const LOG = 'tenant-a';
let dir = '';
let logs: MemoryLogStore;
let keys: MemoryProducerKeyStore;
let ingest: IngestService;
let server: Server | undefined;
let port = 0;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'anchorlog-spool-'));
  logs = new MemoryLogStore();
  keys = new MemoryProducerKeyStore();
  const clock = new ManualClock({ startMs: Date.UTC(2026, 2, 1, 12), stepMs: 1 });
  ingest = new IngestService({ store: logs, clock, signatures: { keys: producerKeyReader(keys) } });
  await new LogRegistry({ store: logs, clock }).createLog(LOG);
  // A free port, closed again: "the server is down" until start() listens on it.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
});

afterEach(async () => {
  await stop();
  await rm(dir, { recursive: true, force: true });
});

async function start(): Promise<void> {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const r = await ingest.append({ logId: LOG, submitter: 'app-1', body: Buffer.concat(chunks) });
        res
          .writeHead(r.status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ receipts: r.receipts }));
      } catch (e) {
        const r = errorResponse(e, 'req');
        res.writeHead(r.status, { ...r.headers, 'content-type': 'application/json' }).end(r.body);
      }
    });
  });
  await new Promise<void>((r) => server?.listen(port, '127.0.0.1', () => r()));
}

async function stop(): Promise<void> {
  const s = server;
  server = undefined;
  if (s) await new Promise<void>((r) => s.close(() => r()));
}

async function records(): Promise<LogRecord[]> {
  const tip = await logs.readTip(LOG);
  const out: LogRecord[] = [];
  for (let seq = 1; seq <= tip.seq; seq++)
    for (const r of (await logs.readBatch(LOG, seq))?.records ?? []) out.push(decodeRecord(r.bytes));
  return out;
}

/** Every seq 1..n exactly once, in order. */
async function expectExactlyOnce(n: number, stream = 'svc/host-1'): Promise<void> {
  const rs = await records();
  expect(rs.map((r) => r.event.producer?.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  expect(new Set(rs.map((r) => r.event.id)).size).toBe(n);
  for (const r of rs) expect(r.event.producer?.stream).toBe(stream);
}

const event = (n: number) => ({
  occurredAt: '2026-03-01T11:00:00.000Z',
  actor: { type: 'service', id: 'svc-1' },
  action: 'tool.call',
  outcome: 'success',
  metadata: { n },
});

const options = () => ({
  apiUrl: `http://127.0.0.1:${port}`,
  apiKey: 'k',
  logId: LOG,
  spool: { dir, stream: 'svc/host-1' },
  flushIntervalMs: 5,
  baseBackoffMs: 5,
  maxBackoffMs: 40,
  requestTimeoutMs: 2_000,
});

describe('spooled client', () => {
  it('server down, then up: nothing is dropped, each event is stored once, seqs contiguous', async () => {
    const client = await SpooledAuditClient.open(options());
    for (let i = 0; i < 5; i++)
      await client.appendMany([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => event(i * 10 + n)));
    await new Promise((r) => setTimeout(r, 100));
    // Down: every event is on disk, none delivered, the sender keeps retrying.
    expect(client.spool.pending()).toHaveLength(50);
    expect(client.stats.retries).toBeGreaterThan(0);
    expect(await records()).toHaveLength(0);
    await start();
    await client.flush();
    await client.close();
    await expectExactlyOnce(50);
    expect(client.spool.pending()).toHaveLength(0);
  });

  it('a restart re-sends what was not acknowledged; the log still holds each event once', async () => {
    // Spool 12 events and "crash" before delivering anything.
    const first = await SpooledAuditClient.open(options());
    await first.appendMany(Array.from({ length: 12 }, (_, i) => event(i)));
    await first.close({ flush: false });
    // Events 1-5 landed as one batch whose response was lost (no ack in the spool).
    const spool = await Spool.open({ dir, stream: 'svc/host-1' });
    const five = spool.pending().slice(0, 5);
    await ingest.append({
      logId: LOG,
      submitter: 'app-1',
      body: utf8(JSON.stringify({ events: five.map((e) => e.event) })),
    });
    // Restart: all 12 are pending; the first batch (1-12) mixes stored and new ids (409),
    // so the sender goes one by one: 1-5 are replays, 6-12 new.
    await start();
    const second = await SpooledAuditClient.open(options());
    expect(second.spool.pending().map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    await second.flush();
    expect(second.stats.conflictsSplit).toBeGreaterThan(0);
    // New events continue the numbering after a restart.
    await second.append(event(99));
    await second.flush();
    await second.close();
    await expectExactlyOnce(13);
  });

  it('a torn last line (a crash mid-write) is dropped; numbering continues after it', async () => {
    const s1 = await Spool.open({ dir, stream: 'svc/host-1' });
    await s1.appendMany([event(1), event(2)]);
    const seg = (await readdir(dir)).find((n) => n.startsWith('seg-')) as string;
    await appendFile(join(dir, seg), '{"seq":3,"event":{"occ');
    const s2 = await Spool.open({ dir, stream: 'svc/host-1' });
    expect(s2.stats.tornLinesDropped).toBe(1);
    expect(s2.pending().map((e) => e.seq)).toEqual([1, 2]);
    expect((await s2.append(event(3))).seq).toBe(3);
    const s3 = await Spool.open({ dir, stream: 'svc/host-1' });
    expect(s3.pending().map((e) => e.seq)).toEqual([1, 2, 3]);
    // Acknowledged entries are not re-sent after a restart; seqs are never reused.
    await s3.ack(3);
    const s4 = await Spool.open({ dir, stream: 'svc/host-1' });
    expect(s4.pending()).toEqual([]);
    expect((await s4.append(event(4))).seq).toBe(4);
    await expect(Spool.open({ dir, stream: 'other' })).rejects.toThrow(RangeError);
    // Damage before the end is not a torn tail: refused, never skipped.
    const seg4 = (await readdir(dir)).filter((n) => n.startsWith('seg-')).sort()[0] as string;
    const text = await readFile(join(dir, seg4), 'utf8');
    await writeFile(join(dir, seg4), `${text.slice(0, 5)}#${text.slice(6)}`);
    await expect(Spool.open({ dir, stream: 'svc/host-1' })).rejects.toThrow(/damaged entry/);
  });

  it('bounded: past maxBytes, append refuses (SPOOL_FULL, counted) and nothing is lost', async () => {
    const s = await Spool.open({ dir, stream: 'svc/host-1', maxBytes: 2_000 });
    let refused: unknown;
    for (let i = 0; i < 100 && !refused; i++) await s.append(event(i)).catch((e: unknown) => (refused = e));
    expect(refused).toBeInstanceOf(SpoolFullError);
    expect(s.stats.overflows).toBe(1);
    const kept = s.pending().length;
    expect(kept).toBeGreaterThan(0);
    const again = await Spool.open({ dir, stream: 'svc/host-1', maxBytes: 2_000 });
    expect(again.pending()).toHaveLength(kept);
  });

  it('signs each spooled event (its seq and id included) and the log stores it verified', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = nodeEventSigner(privateKey);
    const pem = (await import('node:crypto'))
      .createPublicKey(privateKey)
      .export({ format: 'pem', type: 'spki' });
    const k = parsePublicKey(pem.toString());
    await keys.put({
      keyId: k.keyId,
      principalId: 'app-1',
      alg: k.alg,
      spki: toBase64(k.spki),
      notBefore: '2026-01-01T00:00:00.000Z',
      version: 1,
    });
    await start();
    const client = await SpooledAuditClient.open({ ...options(), signer });
    await client.appendMany([event(1), event(2), event(3)]);
    await client.flush();
    await client.close();
    await expectExactlyOnce(3);
    for (const r of await records())
      await verifyEventSignature(
        r.event,
        await keys.get('app-1', k.keyId),
        Date.UTC(2026, 2, 1, 12),
        defaultSignatureVerifier,
      );
  });

  it('an event the API refuses for good goes to rejected.jsonl, reported, and the stream moves on', async () => {
    await start();
    const rejected: string[] = [];
    const client = await SpooledAuditClient.open({
      ...options(),
      onRejected: (_e, err) => rejected.push(err.code),
    });
    await client.appendMany([event(1), { ...event(2), outcome: 'maybe' }, event(3)]);
    await client.flush();
    await client.close();
    expect(rejected).toEqual(['BAD_REQUEST']);
    const lines = (await readFile(join(dir, 'rejected.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string).seq).toBe(2);
    const rs = await records();
    expect(rs.map((r) => r.event.producer?.seq)).toEqual([1, 3]);
    expect(() => validateEvent((rs[0] as LogRecord).event as AuditEvent)).not.toThrow();
  });
});
