/**
 * The class logs' right edges kept in the seal state (docs/classes.md
 * §Sealing, docs/formats.md §Seal state) on the in-memory adapters: what a
 * seal keeps, what the next run reads because of it, a state from before kept
 * edges (upgrade), kept edges that are stale, corrupt or of another format,
 * an archived partial tile that disagrees with a right kept edge, and crashes
 * around the CAS that writes them. The fault table with classes on (every
 * call × four modes, moto) is ./seal-classes-faults.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import { SealHaltError } from '../../src/app/seal.ts';
import {
  type ClassCommitment,
  classCommitments,
  classLogPrefix,
  decodeClassEdges,
  encodeClassEdges,
  encodeClassLeaf,
} from '../../src/core/classes/index.ts';
import { type LogSource, monitorLog } from '../../src/core/classes/monitor-run.ts';
import type { CompactRange } from '../../src/core/merkle/compact-range.ts';
import { decodeEntryBundle, encodeEntryBundle } from '../../src/core/merkle/entry-bundle.ts';
import { hashLeaf } from '../../src/core/merkle/hasher.ts';
import { rightEdgeFromTiles } from '../../src/core/merkle/tile-growth.ts';
import { tilePath } from '../../src/core/merkle/tile-path.ts';
import { ecdsaP256Verifier } from '../../src/core/note/verifiers.ts';
import { checkpointFromNote } from '../../src/core/note/verify.ts';
import { type ArchiveStore, archiveKey } from '../../src/ports/archive-store.ts';
import type { SealState } from '../../src/ports/seal-state.ts';
import {
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
const CLASSES = [ACCESS, CONFIG];
const mixed = (i: number) =>
  ['access.grant', 'tool.call', 'config.set', 'tool.call', 'access.revoke'][i % 5] as string;
const onlyAccess = () => 'access.grant';

const origin = (logId: string) => `${ORIGIN_PREFIX}/${logId}`;
const verifiers = (logId: string) => [ecdsaP256Verifier(origin(logId), localSigner.publicKeySpki)];

type MemEnv = ReturnType<typeof memorySealEnv>;

async function signedClasses(env: SealEnv, logId: string): Promise<ClassCommitment[]> {
  const text = (await env.archive.getCheckpoint(logId))?.text ?? '';
  const cp = checkpointFromNote(text, origin(logId), verifiers(logId));
  return classCommitments(cp.extensions, cp.size);
}

async function monitorAgrees(env: SealEnv, logId: string): Promise<void> {
  const source: LogSource = {
    checkpoint: async () => (await env.archive.getCheckpoint(logId))?.text,
    get: (path) => env.archive.get(archiveKey(logId, path)),
  };
  const report = await monitorLog({ source, origin: origin(logId), verifiers: verifiers(logId) });
  expect(report.divergence).toBeUndefined();
}

/** The state's kept edges: one per signed class log, each the edge its archived tiles give. */
async function keptEdgesMatchArchive(env: SealEnv, logId: string): Promise<void> {
  const kept = decodeClassEdges((await env.state.read(logId))?.classEdges ?? new Uint8Array(0));
  const signed = await signedClasses(env, logId);
  expect([...(kept?.keys() ?? [])].sort()).toEqual(signed.map(classLogPrefix).sort());
  for (const c of signed) {
    const edge = kept?.get(classLogPrefix(c)) as CompactRange;
    expect(edge.size).toBe(c.size);
    expect(edge.root()).toEqual(c.rootHash);
    const read = (l: number, i: number, w: number) =>
      env.archive.get(archiveKey(logId, classLogPrefix(c) + tilePath(l, i, w))) as Promise<Uint8Array>;
    expect((await rightEdgeFromTiles(c.size, read)).equals(edge)).toBe(true);
  }
}

/** The archive, with every get recorded and an optional rewrite of what a get returns. */
function watched(
  archive: ArchiveStore,
  rewrite?: (key: string, body: Uint8Array | undefined) => Uint8Array | undefined,
): { archive: ArchiveStore; gets: string[] } {
  const gets: string[] = [];
  const proxy = new Proxy(archive, {
    get(target, prop) {
      if (prop === 'get')
        return async (key: string) => {
          gets.push(key);
          const body = await target.get(key);
          return rewrite ? rewrite(key, body) : body;
        };
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { archive: proxy, gets };
}

/**
 * A write by someone other than the sealer (the threat the seal state is
 * checked against): the same state, one version on, with `edit` applied.
 */
async function foreignWrite(env: MemEnv, logId: string, edit: (st: SealState) => SealState): Promise<void> {
  const st = await env.state.read(logId);
  if (st === undefined) throw new Error('no state');
  const next = edit({ ...st, version: st.version + 1, publishedVersion: st.version + 1 });
  expect(await env.state.compareAndSwap(next, st.version)).toBe(true);
  await env.state.markPublished(logId, next.version);
}

async function sealedLog(logId: string, n = 300): Promise<MemEnv> {
  const env = memorySealEnv();
  await newLog(env, logId);
  await appendEvents(env, logId, n, 0, mixed);
  await sealer(env, localSigner, { classes: CLASSES }).sealLog(logId);
  return env;
}

async function expectHalt(p: Promise<unknown>, haltCode: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SealHaltError);
  expect((err as SealHaltError).haltCode).toBe(haltCode);
}

describe('class edges kept in the seal state', () => {
  it('each seal keeps every class log edge, equal to the edge its archived tiles give', async () => {
    const env = memorySealEnv();
    await newLog(env, 'e1');
    const svc = sealer(env, localSigner, { classes: CLASSES });
    for (const n of [3, 300, 1, 600]) {
      await appendEvents(env, 'e1', n, 0, mixed);
      await svc.sealLog('e1');
      await keptEdgesMatchArchive(env, 'e1');
    }
    await monitorAgrees(env, 'e1');
  });

  it('a class that gains no record reads nothing of its class log; one that does reads only its partial tile and bundle', async () => {
    const env = await sealedLog('e2', 300);
    const [access, config] = await signedClasses(env, 'e2');
    await appendEvents(env, 'e2', 40, 0, onlyAccess);
    const w = watched(env.archive);
    await sealer(env, localSigner, { classes: CLASSES, archive: w.archive }).sealLog('e2');
    const classGets = w.gets.filter((k) => k.includes('/classes/'));
    expect(classGets.some((k) => k.includes(classLogPrefix(config as ClassCommitment)))).toBe(false);
    // access: 120 → 160, one level-0 partial tile and its bundle, nothing else.
    expect(classGets.map((k) => k.slice(k.indexOf(classLogPrefix(access as ClassCommitment))))).toEqual([
      `${classLogPrefix(access as ClassCommitment)}tile/0/000.p/120`,
      `${classLogPrefix(access as ClassCommitment)}tile/entries/000.p/120`,
    ]);
    await monitorAgrees(env, 'e2');
  });

  it('a state from before kept edges (none) is continued from the archived tiles, and keeps edges from then on', async () => {
    const env = await sealedLog('e3', 300);
    // The state as the previous sealer wrote it: no classEdges attribute.
    await foreignWrite(env, 'e3', ({ classEdges: _, ...old }) => old);
    expect((await env.state.read('e3'))?.classEdges).toBeUndefined();
    await appendEvents(env, 'e3', 200, 0, mixed);
    const w = watched(env.archive);
    const r = await sealer(env, localSigner, { classes: CLASSES, archive: w.archive }).sealLog('e3');
    expect(r).toMatchObject({ status: 'sealed', size: 500 });
    // Rebuilt: every class log's partial tiles were read.
    for (const c of await signedClasses(env, 'e3'))
      expect(w.gets.some((k) => k.includes(`${classLogPrefix(c)}tile/0/`))).toBe(true);
    await keptEdgesMatchArchive(env, 'e3');
    await monitorAgrees(env, 'e3');
  });

  it('kept edges of another format (a newer sealer) are not used: the edges are rebuilt and written in format 1', async () => {
    const env = await sealedLog('e4');
    await foreignWrite(env, 'e4', (st) => ({ ...st, classEdges: Uint8Array.of(2, 0, 0, 9, 9) }));
    await appendEvents(env, 'e4', 20, 0, mixed);
    const r = await sealer(env, localSigner, { classes: CLASSES }).sealLog('e4');
    expect(r.status).toBe('sealed');
    expect((await env.state.read('e4'))?.classEdges?.[0]).toBe(1);
    await monitorAgrees(env, 'e4');
  });

  const bad: Array<[string, (edges: Uint8Array, env: MemEnv, logId: string) => Promise<Uint8Array>]> = [
    [
      'stale (an earlier state’s)',
      async (edges, env, logId) => {
        await appendEvents(env, logId, 50, 0, mixed);
        await sealer(env, localSigner, { classes: CLASSES }).sealLog(logId);
        return edges;
      },
    ],
    [
      'with a flipped bit in a hash',
      async (edges) => edges.map((b, i) => (i === edges.length - 1 ? b ^ 1 : b)),
    ],
    ['truncated', async (edges) => edges.subarray(0, edges.length - 3)],
    ['with trailing bytes', async (edges) => Uint8Array.of(...edges, 0)],
    [
      'naming one class log with another’s edge',
      async (edges) => {
        const m = decodeClassEdges(edges) as Map<string, CompactRange>;
        const [a, b] = [...m.keys()] as [string, string];
        return encodeClassEdges([
          { folder: a, edge: m.get(b) as CompactRange },
          { folder: b, edge: m.get(b) as CompactRange },
        ]);
      },
    ],
  ];
  it.each(bad)(
    'kept edges %s: the log halts (STORE_INCONSISTENT) before anything is written or signed',
    async (_what, corrupt) => {
      const logId = `e5-${_what.length}-${_what.charCodeAt(2)}`;
      const env = memorySealEnv();
      await newLog(env, logId);
      await appendEvents(env, logId, 300, 0, mixed);
      await sealer(env, localSigner, { classes: CLASSES }).sealLog(logId);
      const edges = (await env.state.read(logId))?.classEdges as Uint8Array;
      // Applied by a write onto the current state by someone other than the sealer.
      const replacement = await corrupt(edges, env, logId);
      await foreignWrite(env, logId, (st) => ({ ...st, classEdges: replacement }));
      const archivedBefore = (await env.archive.getCheckpoint(logId))?.text;
      const putsBefore = env.archive.faults.count('putImmutable');
      await appendEvents(env, logId, 20, 0, mixed);
      await expectHalt(sealer(env, localSigner, { classes: CLASSES }).sealLog(logId), 'STORE_INCONSISTENT');
      expect(env.archive.faults.count('putImmutable')).toBe(putsBefore);
      expect((await env.archive.getCheckpoint(logId))?.text).toBe(archivedBefore);
      expect((await env.state.read(logId))?.halted).toMatch(/^STORE_INCONSISTENT: /);
    },
  );

  it('a right kept edge with archived partial tile and bundle forged to agree with each other: halt, nothing grown from them', async () => {
    const env = await sealedLog('e6');
    const [access] = await signedClasses(env, 'e6');
    const folder = classLogPrefix(access as ClassCommitment);
    // Entry 1 of the access log replaced by a leaf of another record, and its
    // hash in the level-0 tile to match: the bundle agrees with the tile, only
    // the kept edge (and the signed root) says otherwise.
    const bundleBody = (await env.archive.get(
      archiveKey('e6', `${folder}tile/entries/000.p/120`),
    )) as Uint8Array;
    const entries = decodeEntryBundle(bundleBody, 120);
    entries[1] = encodeClassLeaf({ index: 299, leafHash: new Uint8Array(32).fill(7) });
    const forgedBundle = encodeEntryBundle(entries);
    const forgedTile = (
      (await env.archive.get(archiveKey('e6', `${folder}tile/0/000.p/120`))) as Uint8Array
    ).slice();
    forgedTile.set(hashLeaf(entries[1] as Uint8Array), 32);
    const w = watched(env.archive, (key, body) =>
      key.endsWith(`${folder}tile/0/000.p/120`)
        ? forgedTile
        : key.endsWith(`${folder}tile/entries/000.p/120`)
          ? forgedBundle
          : body,
    );
    await appendEvents(env, 'e6', 20, 0, mixed);
    const putsBefore = env.archive.faults.count('putImmutable');
    await expectHalt(
      sealer(env, localSigner, { classes: CLASSES, archive: w.archive }).sealLog('e6'),
      'STORE_INCONSISTENT',
    );
    expect(w.gets.some((k) => k.endsWith(`${folder}tile/0/000.p/120`))).toBe(true);
    expect(env.archive.faults.count('putImmutable')).toBe(putsBefore);
  });

  it('dies after the class tiles, before the CAS: the next run rewrites the same objects from the old kept edges', async () => {
    const env = await sealedLog('e7');
    const kept = (await env.state.read('e7'))?.classEdges;
    await appendEvents(env, 'e7', 200, 0, mixed);
    env.state.faults.fail({ op: 'compareAndSwap', code: 'UNAVAILABLE' });
    const err = await sealer(env, localSigner, { classes: CLASSES })
      .sealLog('e7')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('UNAVAILABLE');
    expect((await env.state.read('e7'))?.classEdges).toEqual(kept);
    const created = env.archive.faults.count('putImmutable');
    const r = await sealer(env, localSigner, { classes: CLASSES }).sealLog('e7');
    expect(r).toMatchObject({ status: 'sealed', size: 500 });
    // Every object of the rerun was already there, byte for byte (putImmutable accepted each).
    expect(r.stats.classObjectsWritten).toBe(0);
    expect(env.archive.faults.count('putImmutable')).toBeGreaterThan(created);
    await monitorAgrees(env, 'e7');
  });

  it('the CAS lands and the publish does not: the next run publishes, then continues from the kept edges', async () => {
    const env = await sealedLog('e8');
    await appendEvents(env, 'e8', 200, 0, mixed);
    env.archive.faults.fail({ op: 'putCheckpoint', code: 'UNAVAILABLE' });
    await expect(sealer(env, localSigner, { classes: CLASSES }).sealLog('e8')).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    const st = await env.state.read('e8');
    expect(st?.size).toBe(500);
    expect(st?.version).toBeGreaterThan(st?.publishedVersion ?? 0);
    await appendEvents(env, 'e8', 30, 0, onlyAccess);
    const r = await sealer(env, localSigner, { classes: CLASSES }).sealLog('e8');
    expect(r).toMatchObject({ status: 'sealed', republished: true, previousSize: 500, size: 530 });
    await monitorAgrees(env, 'e8');
  });
});
