// HttpWitness against the local tlog-witness server over real HTTP: every status the
// protocol defines, a witness that hangs, one that answers garbage, one that is down,
// and the WitnessService end to end with two witnesses.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryArchiveStore } from '../../src/adapters/memory/archive-store.ts';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { MemoryWitnessStateStore } from '../../src/adapters/memory/witness-state.ts';
import { HttpWitness } from '../../src/adapters/witness/http-witness.ts';
import { WitnessService } from '../../src/app/witness.ts';
import { freePort } from '../../src/local/ports.ts';
import { type LocalWitness, startLocalWitness, type WitnessFault } from '../../src/local/witness.ts';
import { systemClock } from '../../src/ports/clock.ts';
import { seed, testLog } from '../core/witness/support.ts';

const log = testLog('witness-http.test/log');
let fault: WitnessFault;
let witness: LocalWitness;
const extra: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  witness = await startLocalWitness({
    keyName: 'witness-http.test',
    secretKey: seed(21),
    logs: new Map([[log.origin, [log.verifier]]]),
    fault: () => fault,
  });
});
afterAll(async () => {
  await witness.close();
  await Promise.all(extra.map((s) => s.close()));
});

const client = (timeoutMs = 2000, url = witness.url) =>
  new HttpWitness({ name: 'w1', url, cosigner: witness.cosigner, timeoutMs });

/** A server answering every request with `status`, `type`, `body`. */
async function fixed(status: number, type: string, body: string): Promise<string> {
  const server: Server = createServer((req, res) => {
    req.resume();
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  extra.push({
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('no address');
  return `http://127.0.0.1:${addr.port}`;
}

describe('HttpWitness ↔ local witness', () => {
  it('200, then 409 with text/x.tlog.size, then 200 with a proof', async () => {
    fault = undefined;
    log.append(4);
    expect(
      (await client().addCheckpoint({ oldSize: 0, proof: [], checkpoint: await log.checkpoint() })).kind,
    ).toBe('cosigned');
    expect(
      await client().addCheckpoint({ oldSize: 0, proof: [], checkpoint: await log.checkpoint() }),
    ).toEqual({
      kind: 'conflict',
      size: 4,
    });
    log.append(4);
    const r = await client().addCheckpoint({
      oldSize: 4,
      proof: log.proof(4, 8),
      checkpoint: await log.checkpoint(),
    });
    expect(r.kind).toBe('cosigned');
    expect(witness.answered.get(409)).toBe(1);
  });

  it('serves the last cosigned checkpoint on the monitoring path', async () => {
    const { sha256 } = await import('../../src/core/hash.ts');
    const { toHex, utf8 } = await import('../../src/core/bytes.ts');
    const res = await fetch(`${witness.url}/${toHex(sha256(utf8(log.origin)))}/checkpoint`);
    expect(res.status).toBe(200);
    expect((await res.text()).startsWith(`${log.origin}\n8\n`)).toBe(true);
    expect((await fetch(`${witness.url}/${'0'.repeat(64)}/checkpoint`)).status).toBe(404);
  });

  it.each([
    ['a hanging witness', 'WITNESS_TIMEOUT', 'hang', true],
    ['garbage with 200', 'WITNESS_BAD_RESPONSE', 'garbage', false],
    ['HTTP 500', 'WITNESS_HTTP_STATUS', 'error-500', true],
  ] as const)('%s → %s', async (_, code, f, retryable) => {
    fault = f;
    try {
      await expect(
        client(300).addCheckpoint({ oldSize: 8, proof: [], checkpoint: await log.checkpoint() }),
      ).rejects.toMatchObject({ code, retryable });
    } finally {
      fault = undefined;
    }
  });

  it('a witness that is down → WITNESS_UNREACHABLE', async () => {
    const port = await freePort();
    await expect(
      client(1000, `http://127.0.0.1:${port}`).addCheckpoint({
        oldSize: 0,
        proof: [],
        checkpoint: await log.checkpoint(),
      }),
    ).rejects.toMatchObject({ code: 'WITNESS_UNREACHABLE' });
  });

  it.each([
    ['409 without text/x.tlog.size', 409, 'text/plain', '8\n'],
    ['409 with a body that is not a size', 409, 'text/x.tlog.size', 'eight\n'],
    ['200 with a note, not signature lines', 200, 'text/plain', 'o\n1\nAAAA\n\n— x AAAAAAA=\n'],
    ['200 that is too large', 200, 'text/plain', `— w ${'A'.repeat(70_000)}\n`],
  ])('%s → WITNESS_BAD_RESPONSE', async (_, status, type, body) => {
    const url = await fixed(status, type, body);
    await expect(
      client(2000, url).addCheckpoint({ oldSize: 0, proof: [], checkpoint: await log.checkpoint() }),
    ).rejects.toMatchObject({ code: 'WITNESS_BAD_RESPONSE' });
  });

  it.each([
    [400, 'WITNESS_BAD_REQUEST'],
    [403, 'WITNESS_FORBIDDEN'],
    [404, 'WITNESS_UNKNOWN_LOG'],
    [422, 'WITNESS_INCONSISTENT'],
    [429, 'WITNESS_HTTP_STATUS'],
    [302, 'WITNESS_HTTP_STATUS'],
  ])('HTTP %i → %s', async (status, code) => {
    const url = await fixed(status, 'text/plain', 'no\n');
    await expect(
      client(2000, url).addCheckpoint({ oldSize: 0, proof: [], checkpoint: await log.checkpoint() }),
    ).rejects.toMatchObject({ code, httpStatus: status });
  });
});

describe('WitnessService over HTTP with two local witnesses', () => {
  it('one hangs: the 1-of-2 quorum is met, the hanging one is reported and retried next run', async () => {
    const l = testLog('witness-http.test/svc');
    const logs = new Map([[l.origin, [l.verifier]]]);
    let hang = true;
    const a = await startLocalWitness({ keyName: 'witness-a.test', secretKey: seed(31), logs });
    const b = await startLocalWitness({
      keyName: 'witness-b.test',
      secretKey: seed(32),
      logs,
      fault: () => (hang ? 'hang' : undefined),
    });
    extra.push(a, b);
    const archive = new MemoryArchiveStore();
    l.append(9);
    await archive.putCheckpoint('svc', await l.checkpoint(), { ifNoneMatch: '*' });
    const svc = new WitnessService({
      archive,
      originPrefix: 'witness-http.test',
      logPublicKeys: [l.signer.publicKeySpki],
      witnesses: [
        new HttpWitness({ name: 'a', url: a.url, cosigner: a.cosigner, timeoutMs: 300 }),
        new HttpWitness({ name: 'b', url: b.url, cosigner: b.cosigner, timeoutMs: 300 }),
      ],
      quorum: 1,
      state: new MemoryWitnessStateStore(),
      consistencyProof: async (_id, from, to) => l.proof(from, to),
      clock: new ManualClock({ startMs: systemClock.now() }),
      random: (n) => new Uint8Array(n),
      metrics: new MemoryMetricsSink(),
      retry: { attempts: 1 },
    });
    const first = await svc.witnessLog('svc');
    expect(first.status).toBe('witnessed');
    expect(first.witnesses.map((w) => [w.witness, w.result, w.failure?.code])).toEqual([
      ['a', 'cosigned', undefined],
      ['b', 'failed', 'WITNESS_TIMEOUT'],
    ]);
    hang = false;
    const second = await svc.witnessLog('svc');
    expect(second.witnesses.map((w) => w.result)).toEqual(['already-cosigned', 'cosigned']);
  });

  it('fork attempt over HTTP: the witness refuses the diverging history (422), nothing is cosigned', async () => {
    const honest = testLog('witness-http.test/fork');
    const w = await startLocalWitness({
      keyName: 'witness-f.test',
      secretKey: seed(33),
      logs: new Map([[honest.origin, [honest.verifier]]]),
    });
    extra.push(w);
    const make = (l: typeof honest, archive: MemoryArchiveStore) =>
      new WitnessService({
        archive,
        originPrefix: 'witness-http.test',
        logPublicKeys: [honest.signer.publicKeySpki],
        witnesses: [new HttpWitness({ name: 'f', url: w.url, cosigner: w.cosigner })],
        quorum: 1,
        state: new MemoryWitnessStateStore(),
        consistencyProof: async (_id, from, to) => l.proof(from, to),
        clock: new ManualClock({ startMs: systemClock.now() }),
        random: (n) => new Uint8Array(n),
        metrics: new MemoryMetricsSink(),
      });
    honest.append(20, 'honest');
    const a1 = new MemoryArchiveStore();
    await a1.putCheckpoint('fork', await honest.checkpoint(), { ifNoneMatch: '*' });
    expect((await make(honest, a1).witnessLog('fork')).status).toBe('witnessed');

    const forked = testLog(honest.origin, honest.signer);
    forked.append(25, 'forged');
    const a2 = new MemoryArchiveStore();
    await a2.putCheckpoint('fork', await forked.checkpoint(), { ifNoneMatch: '*' });
    const o = await make(forked, a2).witnessLog('fork');
    expect(o.witnesses[0]).toMatchObject({
      result: 'failed',
      failure: { code: 'WITNESS_INCONSISTENT' },
      witnessSize: 20,
    });
    expect(w.head(honest.origin)?.size).toBe(20);
    expect(w.answered.get(422)).toBe(1);
  });

  it('a witness that crashes between its persist and its reply: the next run resends from its size', async () => {
    const l = testLog('witness-http.test/crash');
    let crash = false;
    const w = await startLocalWitness({
      keyName: 'witness-c.test',
      secretKey: seed(34),
      logs: new Map([[l.origin, [l.verifier]]]),
      fault: () => (crash ? 'crash-after-persist' : undefined),
    });
    extra.push(w);
    const archive = new MemoryArchiveStore();
    const svc = new WitnessService({
      archive,
      originPrefix: 'witness-http.test',
      logPublicKeys: [l.signer.publicKeySpki],
      witnesses: [new HttpWitness({ name: 'c', url: w.url, cosigner: w.cosigner, timeoutMs: 2000 })],
      quorum: 1,
      state: new MemoryWitnessStateStore(),
      consistencyProof: async (_id, from, to) => l.proof(from, to),
      clock: new ManualClock({ startMs: systemClock.now() }),
      random: (n) => new Uint8Array(n),
      metrics: new MemoryMetricsSink(),
      retry: { attempts: 1 },
    });
    l.append(5);
    let put = await archive.putCheckpoint('crash', await l.checkpoint(), { ifNoneMatch: '*' });
    expect((await svc.witnessLog('crash')).status).toBe('witnessed');
    l.append(5);
    if (!put.written) throw new Error('not published');
    put = await archive.putCheckpoint('crash', await l.checkpoint(), { ifMatch: put.etag });
    crash = true;
    const lost = await svc.witnessLog('crash');
    expect(lost.witnesses[0]).toMatchObject({ result: 'failed', failure: { code: 'WITNESS_UNREACHABLE' } });
    expect(w.head(l.origin)?.size).toBe(10);
    crash = false;
    const next = await svc.witnessLog('crash');
    expect(next.witnesses[0]).toMatchObject({ result: 'cosigned', witnessSize: 10, requests: 2 });
  });

  it('the local witness keeps its state across a restart when given a state file', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const statePath = join(mkdtempSync(join(tmpdir(), 'anchorlog-witness-')), 'state.json');
    const l = testLog('witness-http.test/restart');
    const logs = new Map([[l.origin, [l.verifier]]]);
    const first = await startLocalWitness({
      keyName: 'witness-r.test',
      secretKey: seed(35),
      logs,
      statePath,
    });
    l.append(6);
    const c1 = new HttpWitness({ name: 'r', url: first.url, cosigner: first.cosigner });
    expect((await c1.addCheckpoint({ oldSize: 0, proof: [], checkpoint: await l.checkpoint() })).kind).toBe(
      'cosigned',
    );
    await first.close();
    const second = await startLocalWitness({
      keyName: 'witness-r.test',
      secretKey: seed(35),
      logs,
      statePath,
    });
    extra.push(second);
    const c2 = new HttpWitness({ name: 'r', url: second.url, cosigner: second.cosigner });
    expect(await c2.addCheckpoint({ oldSize: 0, proof: [], checkpoint: await l.checkpoint() })).toEqual({
      kind: 'conflict',
      size: 6,
    });
  });
});
