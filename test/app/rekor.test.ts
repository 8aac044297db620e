// The Rekor use case (src/app/rekor.ts) on memory adapters and against the HTTP stand-in
// (src/local/rekor.ts through src/adapters/rekor/http-rekor.ts): a submitted entry verifies
// as a `rekor` attestation; every bad reply is a failure with its own code, recorded in the
// anchor store and never archived.
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryAnchorStore } from '../../src/adapters/memory/anchor-store.ts';
import { MemoryArchiveStore } from '../../src/adapters/memory/archive-store.ts';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { MemoryRekor } from '../../src/adapters/memory/rekor.ts';
import { HttpRekor } from '../../src/adapters/rekor/http-rekor.ts';
import { RekorService, rekorEntryKey } from '../../src/app/rekor.ts';
import { AttestationError, verifyAttestation } from '../../src/core/attestation/index.ts';
import { utf8 } from '../../src/core/bytes.ts';
import type { NoteVerifier } from '../../src/core/note/verifiers.ts';
import { verifierFromSpki } from '../../src/core/note/verifiers.ts';
import { type LocalRekor, type RekorFault, startLocalRekor } from '../../src/local/rekor.ts';
import type { RekorLog } from '../../src/ports/rekor.ts';
import { testLog } from '../core/witness/support.ts';

const PREFIX = 'anchorlog.test';
const LOG_ID = 'log-a';
const ORIGIN = `${PREFIX}/${LOG_ID}`;
const REKOR_ORIGIN = 'rekor.anchorlog.test';

async function rig(rekor: RekorLog, rekorKeys: readonly NoteVerifier[]) {
  const log = testLog(ORIGIN);
  log.append(5);
  const archive = new MemoryArchiveStore();
  const text = await log.checkpoint();
  await archive.putCheckpoint(LOG_ID, text, { ifNoneMatch: '*' });
  const anchors = new MemoryAnchorStore();
  const metrics = new MemoryMetricsSink();
  const anchorSigner = LocalNoteSigner.generate('anchorlog.test/anchor');
  const service = new RekorService({
    archive,
    originPrefix: PREFIX,
    logPublicKeys: [log.signer.publicKeySpki],
    rekor,
    rekorKeys,
    anchorSigner,
    anchors,
    clock: new ManualClock(),
    random: (n) => new Uint8Array(n).fill(1),
    metrics,
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    sleep: async () => {},
  });
  return { log, archive, anchors, metrics, anchorSigner, service, checkpoint: utf8(text) };
}

const rekorSigner = () => LocalNoteSigner.generate(REKOR_ORIGIN, 'ed25519');
const keyOf = (s: LocalNoteSigner) => verifierFromSpki(s.keyName, s.publicKeySpki);

describe('Rekor use case (memory log)', () => {
  it('submits, verifies, archives; the archived entry is a verified rekor attestation; a rerun makes no call', async () => {
    const signer = rekorSigner();
    const rekor = new MemoryRekor('rekor', signer);
    const r = await rig(rekor, [keyOf(signer)]);
    const out = await r.service.submitLog(LOG_ID);
    expect(out).toMatchObject({ result: 'submitted', size: 5, attempts: 1, logIndex: 0 });
    const entry = (await r.archive.get(rekorEntryKey(LOG_ID, 5, 'rekor'))) as Uint8Array;
    const v = await verifyAttestation(
      { kind: 'rekor', checkpoint: 5, party: 'rekor', evidence: { entry } },
      r.checkpoint,
      {
        rekor: { logKeys: [keyOf(signer)], anchorKeys: [r.anchorSigner.publicKeySpki] },
      },
    );
    expect(v).toMatchObject({
      kind: 'rekor',
      status: 'verified',
      entry: { origin: REKOR_ORIGIN, logIndex: 0 },
    });
    // Unpinned: read, not judged.
    const u = await verifyAttestation(
      { kind: 'rekor', checkpoint: 5, party: 'rekor', evidence: { entry } },
      r.checkpoint,
      {},
    );
    expect(u).toMatchObject({ kind: 'rekor', status: 'unknown-party', name: REKOR_ORIGIN });
    expect(await r.service.submitLog(LOG_ID)).toMatchObject({
      result: 'already-submitted',
      attempts: 0,
      logIndex: 0,
    });
    expect(rekor.faults.count('createEntry')).toBe(1);
    expect(r.metrics.total('RekorSubmitted', { Rekor: 'rekor' })).toBe(1);
  });

  it('retries a retryable transport failure within the run', async () => {
    const signer = rekorSigner();
    const rekor = new MemoryRekor('rekor', signer);
    rekor.faults.fail({ op: 'createEntry', code: 'REKOR_HTTP_STATUS' });
    const r = await rig(rekor, [keyOf(signer)]);
    expect(await r.service.submitLog(LOG_ID)).toMatchObject({ result: 'submitted', attempts: 2 });
  });

  it('an entry under a Rekor key that is not pinned is a failure, recorded, not archived', async () => {
    const rekor = new MemoryRekor('rekor', rekorSigner());
    const r = await rig(rekor, [keyOf(rekorSigner())]);
    const out = await r.service.submitLog(LOG_ID);
    expect(out).toMatchObject({ result: 'failed', failure: { code: 'REKOR_CHECKPOINT_UNTRUSTED' } });
    expect(await r.archive.get(rekorEntryKey(LOG_ID, 5, 'rekor'))).toBeUndefined();
    const at = await r.anchors.read(LOG_ID, 5);
    expect(at.tsas).toMatchObject([
      { tsa: 'rekor', status: 'failed', failure: { code: 'REKOR_CHECKPOINT_UNTRUSTED' } },
    ]);
    expect(r.metrics.total('RekorFailure', { Rekor: 'rekor' })).toBe(1);
  });
});

describe('rekor attestations: each tampering has its own code', () => {
  it('digest swapped, wrong key, proof broken, checkpoint by another key', async () => {
    const signer = rekorSigner();
    const r = await rig(new MemoryRekor('rekor', signer), [keyOf(signer)]);
    await r.service.submitLog(LOG_ID);
    const raw = (await r.archive.get(rekorEntryKey(LOG_ID, 5, 'rekor'))) as Uint8Array;
    const trust = { rekor: { logKeys: [keyOf(signer)], anchorKeys: [r.anchorSigner.publicKeySpki] } };
    const judge = async (entry: Uint8Array, checkpoint = r.checkpoint, t = trust) => {
      try {
        await verifyAttestation(
          { kind: 'rekor', checkpoint: 5, party: 'rekor', evidence: { entry } },
          checkpoint,
          t,
        );
        return 'verified';
      } catch (e) {
        expect(e).toBeInstanceOf(AttestationError);
        return `${(e as AttestationError).code}/${((e as AttestationError).cause as { code: string }).code}`;
      }
    };
    expect(await judge(raw)).toBe('verified');
    // Another checkpoint of the log: the entry records another digest.
    r.log.append(1);
    expect(await judge(raw, utf8(await r.log.checkpoint()))).toBe('BAD_ATTESTATION/REKOR_DIGEST_MISMATCH');
    // The anchor key pinned is not the entry's.
    const other = LocalNoteSigner.generate('x').publicKeySpki;
    expect(await judge(raw, r.checkpoint, { rekor: { ...trust.rekor, anchorKeys: [other] } })).toBe(
      'BAD_ATTESTATION/REKOR_KEY_MISMATCH',
    );
    // The Rekor key pinned is not the one that signed the checkpoint.
    expect(
      await judge(raw, r.checkpoint, { rekor: { ...trust.rekor, logKeys: [keyOf(rekorSigner())] } }),
    ).toBe('BAD_ATTESTATION/REKOR_CHECKPOINT_UNTRUSTED');
    // Body edited (one digest byte), proof root edited, garbage.
    const json = JSON.parse(new TextDecoder().decode(raw));
    const flipB64 = (s: string) => {
      const b = Buffer.from(s, 'base64');
      b[0] = (b[0] as number) ^ 1;
      return b.toString('base64');
    };
    const body = JSON.parse(Buffer.from(json.canonicalizedBody, 'base64').toString());
    body.spec.hashedRekordV002.signature.content = flipB64(body.spec.hashedRekordV002.signature.content);
    const edited = (f: (j: typeof json) => void) => {
      const c = structuredClone(json);
      f(c);
      return utf8(JSON.stringify(c));
    };
    expect(
      await judge(
        edited((j) => {
          j.inclusionProof.rootHash = flipB64(j.inclusionProof.rootHash);
        }),
      ),
    ).toBe('BAD_ATTESTATION/REKOR_INCLUSION_PROOF_INVALID');
    expect(
      await judge(
        edited((j) => {
          j.canonicalizedBody = Buffer.from(JSON.stringify(body)).toString('base64');
        }),
      ),
    ).toBe('BAD_ATTESTATION/REKOR_SIGNATURE_INVALID');
    expect(await judge(utf8('<html>'))).toBe('MALFORMED_EVIDENCE/REKOR_MALFORMED_ENTRY');
  });
});

describe('Rekor use case against the HTTP stand-in', () => {
  let fault: RekorFault;
  const servers: LocalRekor[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));
  const start = async () => {
    const s = await startLocalRekor({ origin: REKOR_ORIGIN, fault: () => fault });
    servers.push(s);
    return s;
  };

  it('round trip: the stand-in answers the rekor-tiles shape and the entry verifies', async () => {
    fault = undefined;
    const s = await start();
    const r = await rig(new HttpRekor({ name: 'rekor', url: s.url }), [s.logKey]);
    expect(await r.service.submitLog(LOG_ID)).toMatchObject({ result: 'submitted', logIndex: 0 });
    const raw = (await r.archive.get(rekorEntryKey(LOG_ID, 5, 'rekor'))) as Uint8Array;
    const json = JSON.parse(new TextDecoder().decode(raw));
    expect(Object.keys(json).sort()).toEqual(
      [
        'canonicalizedBody',
        'inclusionPromise',
        'inclusionProof',
        'integratedTime',
        'kindVersion',
        'logId',
        'logIndex',
      ].sort(),
    );
    expect(json).toMatchObject({ logIndex: '0', kindVersion: { kind: 'hashedrekord', version: '0.0.2' } });
    expect(s.answered.get(201)).toBe(1);
  });

  it.each([
    ['garbage', 'REKOR_MALFORMED_ENTRY'],
    ['error-500', 'REKOR_HTTP_STATUS'],
    ['error-400', 'REKOR_BAD_REQUEST'],
    ['bad-proof', 'REKOR_INCLUSION_PROOF_INVALID'],
    ['other-digest', 'REKOR_DIGEST_MISMATCH'],
    ['other-log-key', 'REKOR_CHECKPOINT_UNTRUSTED'],
    ['hang', 'REKOR_TIMEOUT'],
  ] as const)('%s → failure %s, recorded, nothing archived', async (f, code) => {
    fault = f;
    const s = await start();
    const r = await rig(new HttpRekor({ name: 'rekor', url: s.url, timeoutMs: 200 }), [s.logKey]);
    const out = await r.service.submitLog(LOG_ID);
    expect(out).toMatchObject({ result: 'failed', failure: { code } });
    expect(await r.archive.get(rekorEntryKey(LOG_ID, 5, 'rekor'))).toBeUndefined();
    expect((await r.anchors.read(LOG_ID, 5)).tsas).toMatchObject([
      { tsa: 'rekor', status: 'failed', failure: { code } },
    ]);
  });

  it('an unreachable log is REKOR_UNREACHABLE', async () => {
    fault = undefined;
    const s = await start();
    await s.close();
    const r = await rig(new HttpRekor({ name: 'rekor', url: s.url, timeoutMs: 500 }), [s.logKey]);
    expect(await r.service.submitLog(LOG_ID)).toMatchObject({
      result: 'failed',
      failure: { code: 'REKOR_UNREACHABLE' },
    });
  });
});
