/**
 * The sealer with event classes (docs/classes.md) on the in-memory adapters:
 * class roots in the checkpoint, class logs in the archive, declarations
 * mid-log, version changes, and the monitor recomputing every class log from
 * the main log — including catching a sealer that skipped a class record.
 * Crash safety with classes on: ./seal-classes-faults.test.ts (moto).
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import {
  type ClassCommitment,
  type ClassLeaf,
  classCommitments,
  classLeafHash,
  classLogPrefix,
  classMatches,
  decodeClassLeaf,
  formatClassLine,
} from '../../src/core/classes/index.ts';
import { type LogSource, monitorLog } from '../../src/core/classes/monitor-run.ts';
import { decodeEntryBundle } from '../../src/core/merkle/entry-bundle.ts';
import { rootOf } from '../../src/core/merkle/root.ts';
import { entryBundlePath, TILE_WIDTH } from '../../src/core/merkle/tile-path.ts';
import { formatCheckpoint, parseCheckpoint } from '../../src/core/note/checkpoint.ts';
import { signNote } from '../../src/core/note/sign.ts';
import { ecdsaP256Verifier } from '../../src/core/note/verifiers.ts';
import { checkpointFromNote } from '../../src/core/note/verify.ts';
import { decodeRecord, leafHash } from '../../src/core/record.ts';
import { archiveKey } from '../../src/ports/archive-store.ts';
import {
  allRecords,
  appendEvents,
  localSigner,
  memorySealEnv,
  newLog,
  ORIGIN_PREFIX,
  type SealEnv,
  sealer,
} from './seal-support.ts';

const ACCESS = { name: 'access', version: 1, action: 'access.*' };
const CONFIG = { name: 'config', version: 1, action: 'config.*' };
const mixed = (i: number) =>
  ['access.grant', 'tool.call', 'config.set', 'tool.call', 'access.revoke'][i % 5] as string;

const origin = (logId: string) => `${ORIGIN_PREFIX}/${logId}`;
const verifiers = (logId: string) => [ecdsaP256Verifier(origin(logId), localSigner.publicKeySpki)];

function source(env: SealEnv, logId: string): LogSource {
  return {
    checkpoint: async () => (await env.archive.getCheckpoint(logId))?.text,
    get: (path) => env.archive.get(archiveKey(logId, path)),
  };
}

async function signedClasses(
  env: SealEnv,
  logId: string,
): Promise<{ size: number; classes: ClassCommitment[] }> {
  const text = (await env.archive.getCheckpoint(logId))?.text ?? '';
  const cp = checkpointFromNote(text, origin(logId), verifiers(logId));
  return { size: cp.size, classes: classCommitments(cp.extensions, cp.size) };
}

/** A class log read back from its archived entry bundles. */
async function archivedClassLeaves(env: SealEnv, logId: string, c: ClassCommitment): Promise<ClassLeaf[]> {
  const out: ClassLeaf[] = [];
  for (let n = 0; n * TILE_WIDTH < c.size; n++) {
    const w = Math.min(TILE_WIDTH, c.size - n * TILE_WIDTH);
    const body = await env.archive.get(archiveKey(logId, classLogPrefix(c) + entryBundlePath(n, w)));
    if (body === undefined) throw new Error(`class bundle ${n} missing`);
    out.push(...decodeEntryBundle(body, w).map(decodeClassLeaf));
  }
  return out;
}

describe('sealing with classes', () => {
  it('commits class roots as checkpoint lines and class logs as tiles; the monitor agrees run after run', async () => {
    const env = memorySealEnv();
    await newLog(env, 'c1');
    const svc = sealer(env, localSigner, { classes: [CONFIG, ACCESS] });
    let state: Awaited<ReturnType<typeof monitorLog>>['state'] | undefined;
    for (const n of [7, 300, 1, 0, 260]) {
      if (n > 0) await appendEvents(env, 'c1', n, 0, mixed);
      const r = await svc.sealLog('c1');
      expect(r.status).toBe(n > 0 ? 'sealed' : 'idle');
      if (n > 0) expect(r.stats.classObjectsWritten).toBeGreaterThan(0);
      const report = await monitorLog({
        source: source(env, 'c1'),
        origin: origin('c1'),
        verifiers: verifiers('c1'),
        ...(state ? { state } : {}),
      });
      expect(report.divergence).toBeUndefined();
      expect(report.classes).toEqual(['access', 'config']);
      state = report.state;
    }
    const { size, classes } = await signedClasses(env, 'c1');
    expect(size).toBe(568);
    const records = (await allRecords(env, 'c1')).map((b) => ({ rec: decodeRecord(b), hash: leafHash(b) }));
    for (const c of classes) {
      expect(c.fromSize).toBe(0);
      const want = records.filter((r) => classMatches(c.def, r.rec.event));
      const leaves = await archivedClassLeaves(env, 'c1', c);
      expect(leaves.map((l) => l.index)).toEqual(want.map((r) => r.rec.index));
      expect(rootOf(leaves.map(classLeafHash))).toEqual(c.rootHash);
    }
  });

  it('without classes the checkpoint is the plain three-line body', async () => {
    const env = memorySealEnv();
    await newLog(env, 'c0');
    await appendEvents(env, 'c0', 3, 0, mixed);
    const r = await sealer(env, localSigner).sealLog('c0');
    const body = (r.checkpoint ?? '').slice(0, (r.checkpoint ?? '').indexOf('\n\n') + 1);
    expect(body.split('\n')).toHaveLength(4);
    expect(r.stats).toMatchObject({ classObjectsWritten: 0, classBytesWritten: 0 });
  });

  it('a class declared mid-log applies from the size it was declared at; a new version starts a new class log', async () => {
    const env = memorySealEnv();
    await newLog(env, 'c2');
    await appendEvents(env, 'c2', 10, 0, mixed);
    await sealer(env, localSigner).sealLog('c2');
    await appendEvents(env, 'c2', 10, 0, mixed);
    await sealer(env, localSigner, { classes: [ACCESS] }).sealLog('c2');
    let signed = await signedClasses(env, 'c2');
    expect(signed.classes.map((c) => [c.def.name, c.fromSize, c.size])).toEqual([['access', 10, 4]]);

    const v2 = { ...ACCESS, version: 2, action: 'access.grant' };
    await appendEvents(env, 'c2', 10, 0, mixed);
    await sealer(env, localSigner, { classes: [v2] }).sealLog('c2');
    signed = await signedClasses(env, 'c2');
    expect(signed.classes.map((c) => [c.def.version, c.fromSize, c.size])).toEqual([[2, 20, 2]]);
    expect(
      (await monitorLog({ source: source(env, 'c2'), origin: origin('c2'), verifiers: verifiers('c2') }))
        .divergence,
    ).toBeUndefined();
  });

  it('the same version with another rule is refused as misconfiguration, and nothing is halted', async () => {
    const env = memorySealEnv();
    await newLog(env, 'c3');
    await appendEvents(env, 'c3', 5, 0, mixed);
    await sealer(env, localSigner, { classes: [ACCESS] }).sealLog('c3');
    await appendEvents(env, 'c3', 5, 0, mixed);
    const err = await sealer(env, localSigner, { classes: [{ ...ACCESS, action: 'access.grant' }] })
      .sealLog('c3')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INTERNAL');
    expect((await env.state.read('c3'))?.halted).toBeUndefined();
    expect((await sealer(env, localSigner, { classes: [ACCESS] }).sealLog('c3')).size).toBe(10);
  });

  it('a first monitor run reads the log a piece at a time and reaches the same state as one read', async () => {
    const env = memorySealEnv();
    await newLog(env, 'c5');
    await appendEvents(env, 'c5', 700, 0, mixed);
    await sealer(env, localSigner, { classes: [ACCESS, CONFIG] }).sealLog('c5');
    const at = { origin: origin('c5'), verifiers: verifiers('c5') };
    const whole = await monitorLog({ ...at, source: source(env, 'c5') });
    const reads: string[] = [];
    const counting: LogSource = {
      checkpoint: source(env, 'c5').checkpoint,
      get: (path) => {
        reads.push(path);
        return source(env, 'c5').get(path);
      },
    };
    // One entry bundle per piece: 700 records are three pieces (256, 256, 188).
    const pieces = await monitorLog({ ...at, source: counting, recordsPerRead: 256 });
    expect(pieces.divergence).toBeUndefined();
    expect(pieces.state).toEqual(whole.state);
    expect(reads).toEqual([entryBundlePath(0, 256), entryBundlePath(1, 256), entryBundlePath(2, 188)]);
  });

  it('the monitor catches a sealer that skipped a class record', async () => {
    const env = memorySealEnv();
    await newLog(env, 'c4');
    await appendEvents(env, 'c4', 20, 0, mixed);
    await sealer(env, localSigner, { classes: [ACCESS] }).sealLog('c4');
    const first = await monitorLog({
      source: source(env, 'c4'),
      origin: origin('c4'),
      verifiers: verifiers('c4'),
    });
    expect(first.divergence).toBeUndefined();

    // A dishonest sealer (it holds the key): seals 10 more records but leaves
    // record 25 (access.grant) out of the class log.
    await appendEvents(env, 'c4', 10, 0, mixed);
    await sealer(env, localSigner, { classes: [ACCESS] }).sealLog('c4');
    const archived = await env.archive.getCheckpoint('c4');
    const honest = parseCheckpoint(`${(archived?.text ?? '').split('\n\n')[0]}\n`);
    const records = await allRecords(env, 'c4');
    const kept = records
      .map((b, index) => ({ index, rec: decodeRecord(b), leafHash: leafHash(b) }))
      .filter((r) => classMatches(ACCESS, r.rec.event) && r.index !== 25);
    const line = formatClassLine({
      def: ACCESS,
      fromSize: 0,
      size: kept.length,
      rootHash: rootOf(kept.map((r) => classLeafHash(r))),
    });
    const forged = await signNote(
      formatCheckpoint({
        origin: honest.origin,
        size: honest.size,
        rootHash: honest.rootHash,
        extensions: [line],
      }),
      [{ ...localSigner, keyName: origin('c4'), sign: (m: Uint8Array) => localSigner.sign(m) }],
    );
    await env.archive.putCheckpoint('c4', forged, { ifMatch: archived?.etag ?? '' });

    const report = await monitorLog({
      source: source(env, 'c4'),
      origin: origin('c4'),
      verifiers: verifiers('c4'),
      state: first.state,
    });
    expect(report.divergence).toMatchObject({ checkpointSize: 30, className: 'access' });
    expect(report.state).toEqual(first.state);
  });
});
