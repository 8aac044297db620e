// The witness use case (src/app/witness.ts) on memory adapters: real cosignatures
// from in-process witnesses (the same WitnessLedger as the local witness server).
import { describe, expect, it } from 'vitest';
import { MemoryArchiveStore } from '../../src/adapters/memory/archive-store.ts';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { MemoryWitness } from '../../src/adapters/memory/witness.ts';
import { MemoryWitnessStateStore } from '../../src/adapters/memory/witness-state.ts';
import { cosignatureKey, WitnessService } from '../../src/app/witness.ts';
import { parseNote } from '../../src/core/note/signed-note.ts';
import {
  cosignerFromSecret,
  verifyWitnessedCheckpoint,
  witnessPolicy,
} from '../../src/core/witness/index.ts';
import type { Witness } from '../../src/ports/witness.ts';
import { seed, type TestLog, testLog } from '../core/witness/support.ts';

const PREFIX = 'anchorlog.test';
const LOG_ID = 'log-a';
const ORIGIN = `${PREFIX}/${LOG_ID}`;

interface Rig {
  log: TestLog;
  archive: MemoryArchiveStore;
  state: MemoryWitnessStateStore;
  clock: ManualClock;
  metrics: MemoryMetricsSink;
  witnesses: MemoryWitness[];
  sleeps: number[];
  publish(): Promise<string>;
  service(opts?: { quorum?: number; witnesses?: Witness[]; log?: TestLog }): WitnessService;
}

function rig(n = 2): Rig {
  const log = testLog(ORIGIN);
  const archive = new MemoryArchiveStore();
  const state = new MemoryWitnessStateStore();
  const clock = new ManualClock();
  const metrics = new MemoryMetricsSink();
  const sleeps: number[] = [];
  const logs = new Map([[ORIGIN, [log.verifier]]]);
  const witnesses = Array.from(
    { length: n },
    (_, i) =>
      new MemoryWitness({
        name: `w${i + 1}`,
        keyName: `witness-${i + 1}.test`,
        secretKey: seed(i + 1),
        logs,
        clock,
      }),
  );
  let etag: string | undefined;
  const r: Rig = {
    log,
    archive,
    state,
    clock,
    metrics,
    witnesses,
    sleeps,
    async publish() {
      const text = await log.checkpoint();
      const put = await archive.putCheckpoint(LOG_ID, text, etag ? { ifMatch: etag } : { ifNoneMatch: '*' });
      if (!put.written) throw new Error('publish lost a race');
      etag = put.etag;
      return text;
    },
    service(opts = {}) {
      const src = opts.log ?? log;
      return new WitnessService({
        archive,
        originPrefix: PREFIX,
        logPublicKeys: [src.signer.publicKeySpki],
        witnesses: opts.witnesses ?? witnesses,
        quorum: opts.quorum ?? n,
        state,
        consistencyProof: async (_logId, from, to) => src.proof(from, to),
        clock,
        random: (k) => new Uint8Array(k).fill(7),
        metrics,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      });
    },
  };
  return r;
}

/** The published checkpoint with the archived cosignature lines appended. */
async function served(r: Rig, size: number): Promise<string> {
  const cp = await r.archive.getCheckpoint(LOG_ID);
  if (!cp) throw new Error('nothing published');
  let out = cp.text;
  for (const w of r.witnesses) {
    const line = await r.archive.get(cosignatureKey(LOG_ID, size, w.name));
    if (line) out += new TextDecoder().decode(line);
  }
  return out;
}

describe('WitnessService', () => {
  it('gets both cosignatures from old size 0, then with a consistency proof, then stays idle', async () => {
    const r = rig();
    r.log.append(5);
    await r.publish();
    const first = await r.service().witnessLog(LOG_ID);
    expect(first).toMatchObject({ status: 'witnessed', size: 5, cosigned: 2, failures: 0, requests: 2 });
    const policy = witnessPolicy(
      r.witnesses.map((w) => w.cosigner),
      2,
    );
    expect(verifyWitnessedCheckpoint(await served(r, 5), [r.log.verifier], policy).quorumMet).toBe(true);

    r.log.append(300);
    await r.publish();
    const second = await r.service().witnessLog(LOG_ID);
    expect(second).toMatchObject({ status: 'witnessed', size: 305, cosigned: 2, requests: 2 });
    expect(r.witnesses.map((w) => w.ledger.head(ORIGIN)?.size)).toEqual([305, 305]);
    expect((await r.state.get(LOG_ID, 'w1'))?.size).toBe(305);

    const idle = await r.service().witnessLog(LOG_ID);
    expect(idle).toMatchObject({ status: 'already-witnessed', requests: 0 });
    expect(r.metrics.total('WitnessQuorumMissed')).toBe(0);
  });

  it('a witness that crashed between its persist and its reply: 409, resend from its size, cosigned', async () => {
    const r = rig();
    r.log.append(4);
    await r.publish();
    await r.service().witnessLog(LOG_ID);
    r.log.append(4);
    await r.publish();
    const w1 = r.witnesses[0] as MemoryWitness;
    w1.faults.fail({ op: 'addCheckpoint', code: 'WITNESS_UNREACHABLE', when: 'after' });
    const crashed = await r.service().witnessLog(LOG_ID);
    expect(crashed.witnesses[0]).toMatchObject({
      result: 'failed',
      failure: { code: 'WITNESS_UNREACHABLE' },
    });
    expect(w1.ledger.head(ORIGIN)?.size).toBe(8); // the witness moved on; we have no cosignature
    expect((await r.state.get(LOG_ID, 'w1'))?.size).toBe(4);

    const next = await r.service().witnessLog(LOG_ID);
    expect(next.witnesses[0]).toMatchObject({ result: 'cosigned', requests: 2, witnessSize: 8 });
    expect((await r.state.get(LOG_ID, 'w1'))?.lastFailure).toBeUndefined();
  });

  it('a witness that lost its state answers 409 with 0; we resend from 0', async () => {
    const r = rig(1);
    r.log.append(3);
    await r.publish();
    await r.service().witnessLog(LOG_ID);
    (r.witnesses[0] as MemoryWitness).ledger.setHead(ORIGIN, undefined);
    r.log.append(1);
    await r.publish();
    const o = await r.service().witnessLog(LOG_ID);
    expect(o.witnesses[0]).toMatchObject({ result: 'cosigned', requests: 2, witnessSize: 0 });
  });

  it('our state lost (or restored from an old backup): 409 teaches the witness size', async () => {
    const r = rig(1);
    r.log.append(10);
    await r.publish();
    await r.service().witnessLog(LOG_ID);
    r.log.append(10);
    await r.publish();
    const fresh = new MemoryWitnessStateStore();
    const svc = new WitnessService({
      archive: r.archive,
      originPrefix: PREFIX,
      logPublicKeys: [r.log.signer.publicKeySpki],
      witnesses: r.witnesses,
      quorum: 1,
      state: fresh,
      consistencyProof: async (_l, a, b) => r.log.proof(a, b),
      clock: r.clock,
      random: (k) => new Uint8Array(k),
      metrics: r.metrics,
    });
    const o = await svc.witnessLog(LOG_ID);
    expect(o.witnesses[0]).toMatchObject({ result: 'cosigned', witnessSize: 10, requests: 2 });
    expect((await fresh.get(LOG_ID, 'w1'))?.size).toBe(20);
  });

  it('fork attempt: a rewritten history is refused (422), reported and alarmed, never cosigned', async () => {
    const r = rig(2);
    r.log.append(6, 'honest');
    await r.publish();
    await r.service().witnessLog(LOG_ID);
    const before = r.witnesses.map((w) => w.ledger.head(ORIGIN));

    // The same key signs a diverging tree (someone holding the KMS key, or a rolled-back archive).
    const forked = testLog(ORIGIN, r.log.signer);
    forked.append(9, 'forged');
    const archive2 = new MemoryArchiveStore();
    await archive2.putCheckpoint(LOG_ID, await forked.checkpoint(), { ifNoneMatch: '*' });
    const svc = new WitnessService({
      archive: archive2,
      originPrefix: PREFIX,
      logPublicKeys: [r.log.signer.publicKeySpki],
      witnesses: r.witnesses,
      quorum: 2,
      state: new MemoryWitnessStateStore(),
      consistencyProof: async (_l, a, b) => forked.proof(a, b),
      clock: r.clock,
      random: (k) => new Uint8Array(k),
      metrics: r.metrics,
    });
    const o = await svc.witnessLog(LOG_ID);
    expect(o.status).toBe('below-quorum');
    for (const w of o.witnesses)
      expect(w).toMatchObject({
        result: 'failed',
        failure: { code: 'WITNESS_INCONSISTENT' },
        witnessSize: 6,
      });
    expect(r.metrics.total('WitnessInconsistent')).toBe(2);
    expect(r.metrics.total('WitnessQuorumMissed', { LogId: LOG_ID })).toBe(1);
    expect(r.witnesses.map((w) => w.ledger.head(ORIGIN))).toEqual(before);
    expect(await archive2.get(cosignatureKey(LOG_ID, 9, 'w1'))).toBeUndefined();
  });

  it('fork at the same size: 409 then 422 (roots differ), never cosigned', async () => {
    const r = rig(1);
    r.log.append(6, 'honest');
    await r.publish();
    await r.service().witnessLog(LOG_ID);
    const forked = testLog(ORIGIN, r.log.signer);
    forked.append(6, 'forged');
    const archive2 = new MemoryArchiveStore();
    await archive2.putCheckpoint(LOG_ID, await forked.checkpoint(), { ifNoneMatch: '*' });
    const o = await new WitnessService({
      archive: archive2,
      originPrefix: PREFIX,
      logPublicKeys: [r.log.signer.publicKeySpki],
      witnesses: r.witnesses,
      quorum: 1,
      state: new MemoryWitnessStateStore(),
      consistencyProof: async (_l, a, b) => forked.proof(a, b),
      clock: r.clock,
      random: (k) => new Uint8Array(k),
      metrics: r.metrics,
    }).witnessLog(LOG_ID);
    expect(o.witnesses[0]).toMatchObject({ result: 'failed', failure: { code: 'WITNESS_INCONSISTENT' } });
  });

  it('a witness ahead of our published checkpoint is WITNESS_AHEAD (rollback or split view), alarmed', async () => {
    const r = rig(1);
    r.log.append(3);
    await r.publish();
    (r.witnesses[0] as MemoryWitness).ledger.setHead(ORIGIN, { size: 100, rootHash: new Uint8Array(32) });
    const o = await r.service().witnessLog(LOG_ID);
    expect(o.witnesses[0]).toMatchObject({
      result: 'failed',
      failure: { code: 'WITNESS_AHEAD' },
      witnessSize: 100,
    });
    expect(r.metrics.total('WitnessInconsistent', { Witness: 'w1' })).toBe(1);
    expect((await r.state.get(LOG_ID, 'w1'))?.lastFailure?.code).toBe('WITNESS_AHEAD');
  });

  it('a reply without a cosignature by the configured key is BAD_COSIGNATURE (wrong witness key)', async () => {
    const r = rig(1);
    r.log.append(3);
    await r.publish();
    const real = r.witnesses[0] as MemoryWitness;
    const pinnedWrong: Witness = {
      name: 'w1',
      cosigner: cosignerFromSecret('witness-1.test', seed(99)),
      addCheckpoint: (req) => real.addCheckpoint(req),
    };
    const o = await r.service({ witnesses: [pinnedWrong], quorum: 1 }).witnessLog(LOG_ID);
    expect(o.witnesses[0]).toMatchObject({ result: 'failed', failure: { code: 'BAD_COSIGNATURE' } });
    expect(o.status).toBe('below-quorum');
  });

  it('a stale (replayed) cosignature of an older checkpoint is refused', async () => {
    const r = rig(1);
    r.log.append(3);
    const old = await r.publish();
    await r.service().witnessLog(LOG_ID);
    const oldLine = await r.archive.get(cosignatureKey(LOG_ID, 3, 'w1'));
    r.log.append(2);
    await r.publish();
    const real = r.witnesses[0] as MemoryWitness;
    const replaying: Witness = {
      name: 'w1',
      cosigner: real.cosigner,
      addCheckpoint: async () => ({
        kind: 'cosigned',
        signatures: parseNote(`${old}${new TextDecoder().decode(oldLine)}`).signatures.slice(1),
      }),
    };
    const o = await r.service({ witnesses: [replaying], quorum: 1 }).witnessLog(LOG_ID);
    expect(o.witnesses[0]).toMatchObject({ result: 'failed', failure: { code: 'BAD_COSIGNATURE' } });
  });

  it('timeouts are retried within the run with backoff, then reported; the quorum boundary decides the status', async () => {
    const r = rig(2);
    r.log.append(2);
    await r.publish();
    (r.witnesses[1] as MemoryWitness).faults.fail({ op: 'addCheckpoint', code: 'WITNESS_TIMEOUT', times: 2 });
    const o = await r.service({ quorum: 1 }).witnessLog(LOG_ID);
    expect(o.status).toBe('witnessed');
    expect(o.witnesses[1]).toMatchObject({
      result: 'failed',
      requests: 2,
      failure: { code: 'WITNESS_TIMEOUT' },
    });
    expect(r.sleeps).toHaveLength(1);
    expect(r.metrics.total('WitnessFailure', { Witness: 'w2' })).toBe(1);
    // With k = 2 the same situation is below quorum.
    (r.witnesses[1] as MemoryWitness).faults.fail({ op: 'addCheckpoint', code: 'WITNESS_TIMEOUT', times: 2 });
    expect((await r.service({ quorum: 2 }).witnessLog(LOG_ID)).status).toBe('below-quorum');
    // And it recovers on the next run.
    expect((await r.service({ quorum: 2 }).witnessLog(LOG_ID)).status).toBe('witnessed');
  });

  it('adopts a cosignature archived by a run that died before writing the state', async () => {
    const r = rig(1);
    r.log.append(2);
    await r.publish();
    r.state.faults.fail({ op: 'recordCosigned', code: 'UNAVAILABLE' });
    const o = await r.service().witnessLog(LOG_ID);
    expect(o.witnesses[0]?.result).toBe('failed');
    const again = await r.service().witnessLog(LOG_ID);
    expect(again.witnesses[0]).toMatchObject({ result: 'adopted', requests: 0 });
    expect((await r.state.get(LOG_ID, 'w1'))?.size).toBe(2);
  });

  it('refuses to submit a checkpoint the log key does not verify', async () => {
    const r = rig(1);
    r.log.append(2);
    await r.publish();
    const other = testLog(ORIGIN);
    await expect(r.service({ log: other }).witnessLog(LOG_ID)).rejects.toMatchObject({ code: 'INTEGRITY' });
  });
});

describe('WitnessService: a fault at every store call, then the invariants', () => {
  // Fail-and-not-persist ('before') and fail-but-persist ('after', a timeout on a write that
  // landed) for each write of a run; the next run must end cosigned, with the state equal to
  // the checkpoint size and the archived line verifying.
  const cases = [
    ['putImmutable (cosignature)', 'archive', 'putImmutable', (k: string) => k.endsWith('.cosig')],
    ['recordCosigned', 'state', 'recordCosigned', undefined],
    ['get (state)', 'state', 'get', undefined],
    ['get (archive)', 'archive', 'get', (k: string) => k.endsWith('.cosig')],
  ] as const;
  for (const [label, store, op, match] of cases)
    for (const when of ['before', 'after'] as const)
      it(`${label}, ${when}`, async () => {
        const r = rig(1);
        r.log.append(3);
        await r.publish();
        await r.service().witnessLog(LOG_ID);
        r.log.append(5);
        await r.publish();
        const faults = store === 'archive' ? r.archive.faults : r.state.faults;
        faults.fail({ op, code: 'UNAVAILABLE', when, ...(match ? { match } : {}) });
        const hurt = await r.service().witnessLog(LOG_ID);
        expect(hurt.witnesses[0]?.result).toBe('failed');
        const healed = await r.service().witnessLog(LOG_ID);
        expect(healed.status).toBe('witnessed');
        expect((await r.state.get(LOG_ID, 'w1'))?.size).toBe(8);
        expect((r.witnesses[0] as MemoryWitness).ledger.head(ORIGIN)?.size).toBe(8);
        const policy = witnessPolicy([(r.witnesses[0] as MemoryWitness).cosigner], 1);
        expect(verifyWitnessedCheckpoint(await served(r, 8), [r.log.verifier], policy).quorumMet).toBe(true);
      });
});

describe('ProofService.witnessedCheckpoint (GET …/checkpoint)', () => {
  it('appends only the archived cosignatures that verify for this checkpoint', async () => {
    const { ProofService } = await import('../../src/app/proofs.ts');
    const { verifyNote } = await import('../../src/core/note/verify.ts');
    const r = rig(2);
    r.log.append(3);
    await r.publish();
    await r.service().witnessLog(LOG_ID);
    const proofs = new ProofService({
      archive: r.archive,
      originPrefix: PREFIX,
      publicKeys: async () => [r.log.signer.publicKeySpki],
      witnesses: r.witnesses.map((w) => ({ name: w.name, cosigner: w.cosigner })),
    });
    const policy = witnessPolicy(
      r.witnesses.map((w) => w.cosigner),
      2,
    );
    const first = await proofs.witnessedCheckpoint(LOG_ID);
    expect(verifyWitnessedCheckpoint(first, [r.log.verifier], policy).quorumMet).toBe(true);
    expect(verifyNote(first, [r.log.verifier]).ignored).toHaveLength(2);

    // A new checkpoint, not yet witnessed: served without cosignatures, never with the old ones.
    r.log.append(1);
    const next = await r.publish();
    expect(await proofs.witnessedCheckpoint(LOG_ID)).toBe(next);
    // A damaged cosignature object at the new size is not served either.
    await r.archive.putImmutable(
      cosignatureKey(LOG_ID, 4, 'w1'),
      new TextEncoder().encode('— junk AAAAAAAA\n'),
    );
    expect(await proofs.witnessedCheckpoint(LOG_ID)).toBe(next);
    await r.service().witnessLog(LOG_ID);
    const served = await proofs.witnessedCheckpoint(LOG_ID);
    const report = verifyWitnessedCheckpoint(served, [r.log.verifier], policy);
    // w1's slot holds junk (immutable): reported ARCHIVED_COSIGNATURE_INVALID, w2 cosigned.
    expect(report.witnesses.map((w) => w.status)).toEqual(['missing', 'cosigned']);
  });
});
