// Issue #18 item 6 over real HTTP, with the log's witness client (src/app/witness.ts) against
// witnesses running the witness service (src/app/witness-service.ts via src/local/witness.ts):
//  - a split view: the log shows two diverging checkpoints of the same origin and size to two
//    witnesses; each cosigns the one it saw (neither knows the other), neither cosigns the other
//    one (409 then 422), and `anchorlog verify` refuses a proof whose checkpoint lacks the quorum;
//  - malformed witness replies: each is a failure with a stable code stored in the log's witness
//    state, and nothing is half-written (no archived cosignature, the state's size unchanged).

import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryArchiveStore } from '../../src/adapters/memory/archive-store.ts';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { MemoryWitnessStateStore } from '../../src/adapters/memory/witness-state.ts';
import { HttpWitness } from '../../src/adapters/witness/http-witness.ts';
import { cosignatureKey, WitnessService } from '../../src/app/witness.ts';
import { runVerify } from '../../src/cli/verify.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { formatVerifierKey } from '../../src/core/note/vkey.ts';
import { formatTlogProof } from '../../src/core/tlog-proof/index.ts';
import { formatCosignerKey, verifyWitnessedCheckpoint, witnessPolicy } from '../../src/core/witness/index.ts';
import { type LocalWitness, startLocalWitness, type WitnessFault } from '../../src/local/witness.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { Witness } from '../../src/ports/witness.ts';
import { captureIo } from '../cli/support.ts';
import { seed, type TestLog, testLog } from '../core/witness/support.ts';

const PREFIX = 'attacks.test';
const LOG = 'prod';
const ORIGIN = `${PREFIX}/${LOG}`;
const closers: { close(): Promise<void> }[] = [];
afterAll(() => Promise.all(closers.map((c) => c.close())));

async function witness(
  name: string,
  n: number,
  l: TestLog,
  fault?: () => WitnessFault,
): Promise<LocalWitness> {
  const w = await startLocalWitness({
    keyName: `${name}.attacks.test`,
    secretKey: seed(n),
    logs: new Map([[l.origin, [l.verifier]]]),
    ...(fault ? { fault } : {}),
  });
  closers.push(w);
  return w;
}

/** The log's witnessing over one view of its history (its own archive), submitting to `witnesses`. */
function logView(
  l: TestLog,
  archive: MemoryArchiveStore,
  witnesses: Witness[],
  state: MemoryWitnessStateStore,
  quorum = witnesses.length,
) {
  return new WitnessService({
    archive,
    originPrefix: PREFIX,
    logPublicKeys: [l.signer.publicKeySpki],
    witnesses,
    quorum,
    state,
    consistencyProof: async (_id, from, to) => l.proof(from, to),
    clock: new ManualClock({ startMs: systemClock.now() }),
    random: (k) => new Uint8Array(k),
    metrics: new MemoryMetricsSink(),
    retry: { attempts: 2 },
    sleep: async () => {},
  });
}

async function publish(archive: MemoryArchiveStore, l: TestLog): Promise<string> {
  const text = await l.checkpoint();
  const prev = await archive.getCheckpoint(LOG);
  const put = await archive.putCheckpoint(LOG, text, prev ? { ifMatch: prev.etag } : { ifNoneMatch: '*' });
  if (!put.written) throw new Error('publish lost a race');
  return text;
}

/** The checkpoint as the log would serve it from `archive`: the note and each archived cosignature. */
async function served(archive: MemoryArchiveStore, size: number, names: string[]): Promise<string> {
  const cp = await archive.getCheckpoint(LOG);
  if (!cp) throw new Error('nothing published');
  let out = cp.text;
  for (const n of names) {
    const line = await archive.get(cosignatureKey(LOG, size, n));
    if (line) out += new TextDecoder().decode(line);
  }
  return out;
}

describe('split view: two diverging checkpoints of one size shown to two witnesses', () => {
  it('each witness cosigns only what it saw, refuses the other (409, then 422), and the pinned quorum of 2 fails both', async () => {
    const honest = testLog(ORIGIN);
    const [wa, wb] = [await witness('wa', 51, honest), await witness('wb', 52, honest)];
    const clients = [
      new HttpWitness({ name: 'wa', url: wa.url, cosigner: wa.cosigner }),
      new HttpWitness({ name: 'wb', url: wb.url, cosigner: wb.cosigner }),
    ];
    const policy = witnessPolicy([wa.cosigner, wb.cosigner], 2);
    const now = Math.floor(Date.now() / 1000) + 60;
    // A common history both witnesses cosign.
    honest.append(8, 'base');
    const viewA = new MemoryArchiveStore();
    const state = new MemoryWitnessStateStore();
    await publish(viewA, honest);
    expect((await logView(honest, viewA, clients, state).witnessLog(LOG)).status).toBe('witnessed');

    // The fork: the same 8 leaves, then different ones, signed by the same log key.
    const forked = testLog(ORIGIN, honest.signer);
    forked.leaves = honest.leaves.slice();
    honest.append(6, 'shown-to-a');
    forked.append(6, 'shown-to-b');
    const viewB = new MemoryArchiveStore();
    await viewB.putCheckpoint(LOG, (await viewA.getCheckpoint(LOG))?.text ?? '', { ifNoneMatch: '*' });
    await publish(viewA, honest);
    await publish(viewB, forked);
    const [clientA, clientB] = clients as [HttpWitness, HttpWitness];
    const a = await logView(honest, viewA, [clientA], state).witnessLog(LOG);
    const b = await logView(forked, viewB, [clientB], state).witnessLog(LOG);
    expect([a.status, b.status]).toEqual(['witnessed', 'witnessed']);

    // Each served view carries one cosignature: below the pinned quorum of 2.
    for (const [view, who] of [
      [viewA, 'wa'],
      [viewB, 'wb'],
    ] as const) {
      const r = verifyWitnessedCheckpoint(await served(view, 14, ['wa', 'wb']), [honest.verifier], policy, {
        now,
      });
      expect(r.checkpoint.size).toBe(14);
      expect(r.cosigned).toBe(1);
      expect(r.quorumMet).toBe(false);
      expect(r.witnesses.find((w) => w.status === 'cosigned')?.name).toBe(`${who}.attacks.test`);
    }

    // The log tries to have the other witness cosign each view: refused as inconsistent.
    // A fresh state: the log starts from 0, learns 14 from the 409, resends, and is refused.
    const crossA = await logView(forked, viewB, [clientA], new MemoryWitnessStateStore()).witnessLog(LOG);
    expect(crossA.witnesses[0]).toMatchObject({
      result: 'failed',
      failure: { code: 'WITNESS_INCONSISTENT' },
      witnessSize: 14,
    });
    const crossB = await logView(honest, viewA, [clientB], new MemoryWitnessStateStore()).witnessLog(LOG);
    expect(crossB.witnesses[0]).toMatchObject({
      result: 'failed',
      failure: { code: 'WITNESS_INCONSISTENT' },
      witnessSize: 14,
    });
    expect([wa.answered.get(409), wa.answered.get(422)]).toEqual([1, 1]);
    expect([wb.answered.get(409), wb.answered.get(422)]).toEqual([1, 1]);
    expect(wa.head(ORIGIN)?.size).toBe(14);
    expect(wb.head(ORIGIN)?.size).toBe(14);
    expect(await viewB.get(cosignatureKey(LOG, 14, 'wa'))).toBeUndefined();
    expect(await viewA.get(cosignatureKey(LOG, 14, 'wb'))).toBeUndefined();

    // `anchorlog verify` of a tlog-proof carrying either view's checkpoint: WITNESS_QUORUM_NOT_MET
    // with both witnesses pinned (quorum 2); with quorum 1 the witness check would have passed.
    const dir = await mkdtemp(join(tmpdir(), 'anchorlog-split-'));
    const trust = async (q: number) => {
      const p = join(dir, `trust-${q}.json`);
      await writeFile(
        p,
        JSON.stringify({
          logKeys: [formatVerifierKey(honest.verifier)],
          witnesses: [formatCosignerKey(wa.cosigner), formatCosignerKey(wb.cosigner)],
          witnessQuorum: q,
        }),
      );
      return p;
    };
    for (const view of [viewA, viewB]) {
      const file = join(dir, `${view === viewA ? 'a' : 'b'}.tlog-proof`);
      await writeFile(
        file,
        formatTlogProof({
          extra: utf8('{}'),
          index: 0,
          proof: [],
          checkpoint: await served(view, 14, ['wa', 'wb']),
        }),
      );
      for (const [q, expected] of [
        [2, 'WITNESS_QUORUM_NOT_MET'],
        [1, 'not-quorum'],
      ] as const) {
        const io = captureIo();
        const exit = await runVerify([file, '--trust', await trust(q), '--json'], io);
        expect(exit).toBe(1);
        const code = (JSON.parse(io.out()) as { error?: { code: string } }).error?.code;
        if (expected === 'WITNESS_QUORUM_NOT_MET') expect(code).toBe(expected);
        else expect(code).not.toBe('WITNESS_QUORUM_NOT_MET');
      }
    }
  });
});

/** A server answering every request with `status`, `type`, `body`. */
async function fixed(status: number, type: string, body: string): Promise<string> {
  const server: Server = createServer((req, res) => {
    req.resume();
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push({
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

describe('malformed witness replies: a stored failure code, nothing half-written', () => {
  const l = testLog(`${PREFIX}/${LOG}`);
  l.append(9, 'm');
  const cases: [string, string, () => Promise<Witness>][] = [
    [
      'garbage with 200',
      'WITNESS_BAD_RESPONSE',
      async () => {
        const w = await witness('g', 61, l, () => 'garbage');
        return new HttpWitness({ name: 'w', url: w.url, cosigner: w.cosigner, timeoutMs: 2000 });
      },
    ],
    [
      'an oversize 200',
      'WITNESS_BAD_RESPONSE',
      async () => {
        const w = await witness('o', 62, l);
        const url = await fixed(200, 'text/plain', `— x ${'A'.repeat(80_000)}\n`);
        return new HttpWitness({ name: 'w', url, cosigner: w.cosigner, timeoutMs: 2000 });
      },
    ],
    [
      'a 409 with the wrong content type',
      'WITNESS_BAD_RESPONSE',
      async () => {
        const w = await witness('c', 63, l);
        const url = await fixed(409, 'text/html', '3\n');
        return new HttpWitness({ name: 'w', url, cosigner: w.cosigner, timeoutMs: 2000 });
      },
    ],
    [
      'HTTP 500',
      'WITNESS_HTTP_STATUS',
      async () => {
        const w = await witness('e', 64, l, () => 'error-500');
        return new HttpWitness({ name: 'w', url: w.url, cosigner: w.cosigner, timeoutMs: 2000 });
      },
    ],
    [
      'a witness that hangs',
      'WITNESS_TIMEOUT',
      async () => {
        const w = await witness('h', 65, l, () => 'hang');
        return new HttpWitness({ name: 'w', url: w.url, cosigner: w.cosigner, timeoutMs: 200 });
      },
    ],
    [
      'a valid cosignature by another key (wrong witness key configured)',
      'BAD_COSIGNATURE',
      async () => {
        const w = await witness('k', 66, l);
        const other = await witness('k', 67, l);
        return new HttpWitness({ name: 'w', url: w.url, cosigner: other.cosigner, timeoutMs: 2000 });
      },
    ],
  ];
  it.each(cases)('%s → %s', async (_, code, make) => {
    const archive = new MemoryArchiveStore();
    const state = new MemoryWitnessStateStore();
    await publish(archive, l);
    const o = await logView(l, archive, [await make()], state, 1).witnessLog(LOG);
    expect(o.status).toBe('below-quorum');
    expect(o.witnesses[0]).toMatchObject({ result: 'failed', failure: { code } });
    const s = await state.get(LOG, 'w');
    expect(s).toMatchObject({ size: 0, lastFailure: { code } });
    expect(await archive.get(cosignatureKey(LOG, 9, 'w'))).toBeUndefined();
  });
});
