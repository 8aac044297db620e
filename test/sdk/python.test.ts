/**
 * The Python SDK (sdk/python, standard library + optional `cryptography`;
 * docs/sdk.md §Python) run by `python3 -m unittest` against a real ingest
 * server in this process (the real IngestService with producer-signature
 * verification, on the memory log store): its canonical JSON must equal the
 * TypeScript canonicaliser's on generated values, and the events it spools,
 * signs and delivers (server down, then up) must be in the log exactly once,
 * seqs contiguous, every signature verifying.
 */
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemoryProducerKeyStore } from '../../src/adapters/memory/producer-key-store.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { producerKeyReader } from '../../src/app/producer-keys.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { canonicalBytes } from '../../src/core/canonical.ts';
import { parsePublicKey } from '../../src/core/producer-key.ts';
import { defaultSignatureVerifier, verifyEventSignature } from '../../src/core/producer-signature.ts';
import { decodeRecord, type LogRecord } from '../../src/core/record.ts';
import { errorResponse } from '../../src/http/errors.ts';

const SDK = new URL('../../sdk/python', import.meta.url).pathname;
const python = spawnSync('python3', ['--version']);
const hasCryptography = spawnSync('python3', ['-c', 'import cryptography']).status === 0;

const logs = new MemoryLogStore();
const keys = new MemoryProducerKeyStore();
const clock = new ManualClock({ startMs: Date.UTC(2026, 2, 1, 12), stepMs: 1 });
let server: Server;
let url = '';
let work = '';

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'anchorlog-py-'));
  const ingest = new IngestService({ store: logs, clock, signatures: { keys: producerKeyReader(keys) } });
  await new LogRegistry({ store: logs, clock }).createLog('tenant-a');
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const r = await ingest.append({
          logId: 'tenant-a',
          submitter: 'py-app',
          body: Buffer.concat(chunks),
        });
        res
          .writeHead(r.status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ receipts: r.receipts }));
      } catch (e) {
        const r = errorResponse(e, 'req');
        res.writeHead(r.status, { ...r.headers, 'content-type': 'application/json' }).end(r.body);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(work, { recursive: true, force: true });
});

/** JSON values the Python side reads back as the same value: integers within ±2^53, finite doubles below 2^53. */
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => Math.abs(d) < 2 ** 53),
    fc.string({ unit: 'binary' }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), tie('v'), { maxKeys: 4 }),
  ),
})).v;

describe.skipIf(python.status !== 0)('Python SDK (python3 -m unittest)', () => {
  it('passes its unittest suite against the real ingest path; its events are in the log once, signed', async () => {
    const vectors = fc.sample(value, { numRuns: 300, seed: 15 }).map((v) => ({
      json: JSON.stringify(v),
      canonical: new TextDecoder().decode(canonicalBytes(v)),
    }));
    const vectorsPath = join(work, 'vectors.json');
    writeFileSync(vectorsPath, JSON.stringify(vectors));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const k = parsePublicKey(publicKey.export({ format: 'pem', type: 'spki' }).toString());
    await keys.put({
      keyId: k.keyId,
      principalId: 'py-app',
      alg: k.alg,
      spki: toBase64(k.spki),
      notBefore: '2026-01-01T00:00:00.000Z',
      version: 1,
    });
    const p256 = await registerP256();
    // Asynchronous: the server answering the Python client runs in this process.
    const child = spawn('python3', ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.', '-v'], {
      cwd: SDK,
      env: {
        ...process.env,
        ANCHORLOG_JCS_VECTORS: vectorsPath,
        ANCHORLOG_TEST_API_URL: url,
        ANCHORLOG_TEST_KEY_PEM: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        ANCHORLOG_TEST_P256_KEY_PEM: p256.pem,
        PYTHONDONTWRITEBYTECODE: '1',
      },
    });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code, output).toBe(0);
    expect(output).toMatch(/test_matches_the_typescript_canonicaliser \S+ \.\.\. ok/);
    if (!hasCryptography) return;
    expect(output).toMatch(/test_down_then_up_signed_exactly_once \S+ \.\.\. ok/);
    expect(output).toMatch(/test_p256_signed \S+ \.\.\. ok/);
    const all = await allRecords();
    const records = all.filter((r) => r.event.producer?.stream === 'py/host-1');
    // 15 delivered, then #16 refused (rejected.jsonl), then #17.
    expect(records.map((r) => r.event.producer?.seq)).toEqual([
      ...Array.from({ length: 15 }, (_, i) => i + 1),
      17,
    ]);
    expect(new Set(records.map((r) => r.event.id)).size).toBe(records.length);
    for (const r of records)
      await verifyEventSignature(
        r.event,
        await keys.get('py-app', k.keyId),
        clock.now(),
        defaultSignatureVerifier,
      );
    // The P-256 stream: ES256 signatures (raw r || s) that the server's verifier accepts offline too.
    const es = all.filter((r) => r.event.producer?.stream === 'py/p256');
    expect(es.map((r) => r.event.producer?.seq)).toEqual([1, 2, 3, 4, 5]);
    for (const r of es) {
      expect(r.event.signature?.alg).toBe('ES256');
      await verifyEventSignature(
        r.event,
        await keys.get('py-app', p256.keyId),
        clock.now(),
        defaultSignatureVerifier,
      );
    }
  }, 120_000);

  it('kill -9 of a Python producer mid-stream: after a restart every event is in the log once, seqs contiguous', async () => {
    const spool = mkdtempSync(join(work, 'kill-'));
    const p256 = hasCryptography ? await registerP256() : undefined;
    const env = {
      ...process.env,
      PYTHONDONTWRITEBYTECODE: '1',
      ...(p256 ? { ANCHORLOG_TEST_KEY_PEM: p256.pem } : {}),
    };
    const child = spawn('python3', ['-m', 'tests.producer_loop', url, spool, 'py/kill'], {
      cwd: SDK,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let reported = 0;
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        for (const line of b.toString().split('\n')) if (line) reported = Math.max(reported, Number(line));
        if (reported >= 100) resolve();
      });
      child.on('exit', (code) => reject(new Error(`producer exited early (${code})`)));
    });
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    // A new process on the same spool delivers what the killed one left.
    const rest = spawn('python3', ['-m', 'tests.producer_loop', url, spool, 'py/kill', '--flush'], {
      cwd: SDK,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    expect(await new Promise<number | null>((r) => rest.on('exit', r))).toBe(0);
    const rs = (await allRecords()).filter((r) => r.event.producer?.stream === 'py/kill');
    expect(rs.length).toBeGreaterThanOrEqual(reported);
    expect(rs.map((r) => r.event.producer?.seq)).toEqual(Array.from({ length: rs.length }, (_, i) => i + 1));
    expect(new Set(rs.map((r) => r.event.id)).size).toBe(rs.length);
    if (p256)
      for (const r of rs)
        await verifyEventSignature(
          r.event,
          await keys.get('py-app', p256.keyId),
          clock.now(),
          defaultSignatureVerifier,
        );
  }, 120_000);
});

/** A P-256 key registered for py-app: its private PEM (PKCS#8) and key id. */
async function registerP256(): Promise<{ pem: string; keyId: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const k = parsePublicKey(publicKey.export({ format: 'pem', type: 'spki' }).toString());
  await keys.put({
    keyId: k.keyId,
    principalId: 'py-app',
    alg: k.alg,
    spki: toBase64(k.spki),
    notBefore: '2026-01-01T00:00:00.000Z',
    version: 1,
  });
  return { pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), keyId: k.keyId };
}

async function allRecords(): Promise<LogRecord[]> {
  const tip = await logs.readTip('tenant-a');
  const out: LogRecord[] = [];
  for (let seq = 1; seq <= tip.seq; seq++)
    for (const r of (await logs.readBatch('tenant-a', seq))?.records ?? []) out.push(decodeRecord(r.bytes));
  return out;
}
