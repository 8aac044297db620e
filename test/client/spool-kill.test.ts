/**
 * kill -9 in the middle of a stream (docs/sdk.md): a separate producer
 * process (test/client/fixtures/spool-producer.ts) spools and delivers events
 * to a real ingest server and is killed with SIGKILL; a new client on the
 * same spool directory delivers the rest. Every event whose append resolved
 * is in the log exactly once, and the seqs are contiguous.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
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
import { SpooledAuditClient } from '../../src/client/spooled-client.ts';
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

describe('spooled client: kill -9', () => {
  it('after SIGKILL mid-stream and a restart, every event is in the log once, seqs contiguous', async () => {
    await start();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx/esm',
        new URL('./fixtures/spool-producer.ts', import.meta.url).pathname,
        `http://127.0.0.1:${port}`,
        dir,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let reported = 0;
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        for (const line of b.toString().split('\n')) if (line) reported = Math.max(reported, Number(line));
        if (reported >= 150) resolve();
      });
      child.on('exit', (code) => reject(new Error(`producer exited early (${code})`)));
    });
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    const delivered = (await records()).length;
    const client = await SpooledAuditClient.open(options());
    const onDisk = client.spool.pending();
    await client.flush();
    await client.close();
    const rs = await records();
    // Every acknowledged append survived, plus any whose write landed before the kill.
    expect(rs.length).toBeGreaterThanOrEqual(reported);
    await expectExactlyOnce(rs.length);
    expect(delivered + onDisk.length).toBeGreaterThanOrEqual(rs.length);
  }, 60_000);
});
