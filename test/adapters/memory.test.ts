/**
 * What the in-memory adapters add to their ports' contracts (which
 * test/contracts/memory.test.ts checks): injected faults that raise every
 * code of each port's error class, with the fail-before / fail-after
 * semantics; the test seams (legacy locations, out-of-band writes, expiring
 * URLs, the manual clock); and that the in-process TSA issues tokens OpenSSL
 * accepts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryAnchorStore } from '../../src/adapters/memory/anchor-store.ts';
import { MemoryArchiveStore } from '../../src/adapters/memory/archive-store.ts';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryExportStore } from '../../src/adapters/memory/export-store.ts';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemoryPrincipalStore } from '../../src/adapters/memory/principal-store.ts';
import { MemoryQueryIndex } from '../../src/adapters/memory/query-index.ts';
import { MemorySealStateStore } from '../../src/adapters/memory/seal-state.ts';
import { MemorySecretSource } from '../../src/adapters/memory/secret-source.ts';
import { MemoryTimestamper, type MemoryTsaFault } from '../../src/adapters/memory/timestamper.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hash.ts';
import { TimestampError } from '../../src/core/rfc3161/index.ts';
import { AnchorStoreError } from '../../src/ports/anchor-store.ts';
import { ArchiveError, archiveKey } from '../../src/ports/archive-store.ts';
import { ExportStoreError } from '../../src/ports/export-store.ts';
import { LogStoreError } from '../../src/ports/log-store.ts';
import { PrincipalStoreError } from '../../src/ports/principal-store.ts';
import { QueryIndexError } from '../../src/ports/query-index.ts';
import { SealStateError } from '../../src/ports/seal-state.ts';
import { SecretError } from '../../src/ports/secret-source.ts';
import { SignerError } from '../../src/ports/signer.ts';
import { TsaTransportError } from '../../src/ports/timestamper.ts';
import { anchorSummary, grantedRecord } from '../contracts/anchor-store.contract.ts';
import { batchAt } from '../contracts/log-store.contract.ts';
import { principalState } from '../contracts/principal-store.contract.ts';
import { sealState } from '../contracts/seal-state.contract.ts';

describe('fault plans', () => {
  it('fail before: nothing happens; fail after: the write lands, the caller hears an error', async () => {
    const store = new MemoryLogStore();
    store.faults.fail({ op: 'createLog', code: 'THROTTLED' });
    const err = await store.createLog('a', '2026-03-01T00:00:00.000Z').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogStoreError);
    expect(err).toMatchObject({ code: 'THROTTLED' });
    expect(await store.logExists('a')).toBe(false);
    store.faults.fail({ op: 'createLog', code: 'UNAVAILABLE', when: 'after' });
    await expect(store.createLog('a', '2026-03-01T00:00:00.000Z')).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(await store.logExists('a')).toBe(true);
    expect(store.faults.fired.map((f) => [f.op, f.code, f.when])).toEqual([
      ['createLog', 'THROTTLED', 'before'],
      ['createLog', 'UNAVAILABLE', 'after'],
    ]);
  });

  it('skip, times, match and the call log', async () => {
    const store = new MemoryLogStore();
    store.faults.fail({ op: '*', code: 'THROTTLED', skip: 1, times: 2, match: (k) => k === 'x' });
    expect(await store.logExists('x')).toBe(false); // skipped
    expect(await store.logExists('y')).toBe(false); // does not match
    await expect(store.logExists('x')).rejects.toMatchObject({ code: 'THROTTLED' });
    await expect(store.listLogs()).resolves.toEqual([]); // key '' does not match
    await expect(store.logExists('x')).rejects.toMatchObject({ code: 'THROTTLED' });
    expect(await store.logExists('x')).toBe(false); // fired twice: done
    expect(store.faults.count('logExists')).toBe(5);
    expect(store.faults.calls[1]).toEqual({ op: 'logExists', key: 'y' });
    store.faults.clear();
    expect(store.faults.count()).toBe(0);
  });

  it('every memory adapter raises each transient code of its port as that port’s error', async () => {
    const cases: Array<[() => Promise<unknown>, new (...a: never[]) => Error, string]> = [];
    const seal = new MemorySealStateStore();
    seal.faults.fail({ op: 'read', code: 'INTEGRITY' });
    cases.push([() => seal.read('l'), SealStateError, 'INTEGRITY']);
    const anchors = new MemoryAnchorStore();
    anchors.faults.fail({ op: 'anchoredSizes', code: 'UNAVAILABLE' });
    cases.push([() => anchors.anchoredSizes('l', 0, 9, 9), AnchorStoreError, 'UNAVAILABLE']);
    const query = new MemoryQueryIndex();
    query.faults.fail({ op: 'readCursor', code: 'THROTTLED' });
    cases.push([() => query.readCursor('l'), QueryIndexError, 'THROTTLED']);
    const principals = new MemoryPrincipalStore();
    principals.faults.fail({ op: 'get', code: 'UNAVAILABLE' });
    cases.push([() => principals.get('abc'), PrincipalStoreError, 'UNAVAILABLE']);
    const archive = new MemoryArchiveStore();
    archive.faults.fail({ op: 'putImmutable', code: 'MISCONFIGURED' });
    cases.push([() => archive.putImmutable('k', utf8('v')), ArchiveError, 'MISCONFIGURED']);
    const exports = new MemoryExportStore();
    exports.faults.fail({ op: 'open', code: 'MISCONFIGURED' });
    cases.push([() => exports.open('k', 'x'), ExportStoreError, 'MISCONFIGURED']);
    const secrets = new MemorySecretSource({ s: 'v' });
    secrets.faults.fail({ op: 'readText', code: 'UNAVAILABLE' });
    cases.push([() => secrets.readText('s'), SecretError, 'UNAVAILABLE']);
    const signer = LocalNoteSigner.generate('k');
    signer.faults.fail({ op: 'sign', code: 'SIGNER_UNAVAILABLE' });
    cases.push([() => signer.sign(utf8('m')), SignerError, 'SIGNER_UNAVAILABLE']);
    for (const [call, cls, code] of cases) {
      const err = await call().catch((e: unknown) => e);
      expect(err, code).toBeInstanceOf(cls);
      expect(err).toMatchObject({ code });
    }
    expect(await archive.get('k')).toBeUndefined();
  });
});

describe('memory adapter seams', () => {
  it('secret source: a secret the caller may not read is ACCESS_DENIED', async () => {
    const s = new MemorySecretSource({ 'anchorlog/key': 'v' });
    s.deny('anchorlog/key');
    await expect(s.readText('anchorlog/key')).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
  });

  it('seal state: a legacy state is read while nothing current exists, marked legacy; overwrite rolls back', async () => {
    const store = new MemorySealStateStore();
    store.plantLegacy(sealState('l', 2, 8));
    expect(await store.read('l')).toMatchObject({ version: 2, size: 8, legacy: true });
    const legacy = await store.read('l');
    if (!legacy) throw new Error('no legacy state');
    expect(await store.adopt(legacy)).toBe(true);
    expect((await store.read('l'))?.legacy).toBeUndefined();
    expect(await store.compareAndSwap(sealState('l', 3, 9), 2)).toBe(true);
    store.overwrite(sealState('l', 2, 8));
    expect(await store.read('l')).toMatchObject({ version: 2, size: 8 });
    await store.halt('l', 'FORK: x', 77);
    expect(store.haltedAt('l')).toBe(77);
  });

  it('anchor store: legacy anchors are read per size, marked legacy; the current location wins', async () => {
    const store = new MemoryAnchorStore();
    store.plantLegacy(anchorSummary('l', 3), [grantedRecord('l', 3, 't', 1, 's')], 3);
    expect(await store.newestAnchoredSize('l')).toBe(3);
    const old = await store.read('l', 3);
    expect(old.summary?.legacy).toBe(true);
    expect(old.tsas[0]?.legacy).toBe(true);
    expect(await store.anchoredSizes('l', 0, 10, 10)).toEqual([3]);
    await store.putSummary(anchorSummary('l', 3, 0));
    expect((await store.read('l', 3)).summary?.legacy).toBeUndefined();
    await store.markAnchored('l', 5);
    expect(await store.newestAnchoredSize('l')).toBe(5);
  });

  it('principal store: an entry changed out of band that does not read back is INTEGRITY', async () => {
    const store = new MemoryPrincipalStore();
    await store.put({ id: 'abc', current: principalState('abc') }, 0);
    store.overwrite({
      id: 'abc',
      rev: 1,
      current: { ...principalState('abc'), secretHash: new Uint8Array(3) },
    });
    await expect(store.get('abc')).rejects.toMatchObject({ code: 'INTEGRITY' });
    store.overwrite({ id: 'abc', rev: 1, current: principalState('xyz') });
    await expect(store.list({ limit: 5 })).rejects.toMatchObject({ code: 'INTEGRITY' });
  });

  it('archive and export stores: URLs expire by the injected clock; no upload is left open', async () => {
    const clock = new ManualClock();
    const archive = new MemoryArchiveStore({ clock, retentionDays: 10 });
    const key = archiveKey('l', 'tile/0/000');
    await archive.putImmutable(key, utf8('t'));
    expect((await archive.head(key))?.retainUntil?.getTime()).toBe(clock.peek() + 10 * 86_400_000);
    const url = await archive.presignGet(key, undefined, 60);
    expect(archive.resolve(url)).toEqual(utf8('t'));
    expect(new MemoryArchiveStore().resolve(url)).toBeUndefined();
    clock.advance(61_000);
    expect(archive.resolve(url)).toBeUndefined();
    expect(archive.keys('logs/l/')).toEqual([key]);

    const exports = new MemoryExportStore({ clock });
    const a = await exports.open('exports/l/a.tar', 'application/x-tar');
    const b = await exports.open('exports/l/b.tar', 'application/x-tar');
    expect(exports.openUploads).toBe(2);
    await a.write(utf8('a'));
    await a.complete();
    await b.abort();
    expect(exports.openUploads).toBe(0);
    expect(exports.get('exports/l/a.tar')).toEqual({ bytes: utf8('a'), contentType: 'application/x-tar' });
    const dl = await exports.downloadUrl('exports/l/a.tar', 5);
    expect(exports.resolve(dl)).toEqual(utf8('a'));
    clock.advance(6_000);
    expect(exports.resolve(dl)).toBeUndefined();
  });

  it('manual clock: steps after each read, sleeps by advancing', async () => {
    const clock = new ManualClock({ startMs: 1_000, stepMs: 2 });
    expect([clock.now(), clock.now()]).toEqual([1_000, 1_002]);
    await clock.sleep(500);
    expect(clock.peek()).toBe(1_504);
    clock.set(10);
    expect(clock.now()).toBe(10);
    expect(() => clock.set(Number.NaN)).toThrow(RangeError);
  });

  it('log store: the head hint is only a hint, and a slow writer cannot drag it back', async () => {
    const store = new MemoryLogStore();
    const t0 = await store.readTip('l');
    await store.commitBatch(batchAt(t0, [utf8('a')]));
    const t1 = await store.readTip('l');
    await store.advanceHead(t1);
    await store.advanceHead(t0);
    expect(store.headHint('l')?.seq).toBe(1);
  });
});

describe('MemoryTimestamper', () => {
  const digest = sha256(utf8('memory tsa\n'));
  const nonce = () => crypto.getRandomValues(new Uint8Array(8));
  const work = mkdtempSync(join(tmpdir(), 'anchorlog-memory-tsa-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it.each(['ecdsa', 'rsa'] as const)(
    '%s: OpenSSL accepts its tokens (openssl ts -verify)',
    async (keyAlgorithm) => {
      const clock = new ManualClock({ startMs: Date.UTC(2026, 0, 2, 3, 4, 5) });
      const t = await MemoryTimestamper.create('mem', { keyAlgorithm, clock });
      const data = utf8(`data to stamp ${keyAlgorithm}\n`);
      const got = await t.timestamp({ digest: sha256(data), nonce: nonce() });
      expect(got.genTime).toBe('2026-01-02T03:04:05.000Z');
      expect(got.serialNumber).toBe('01');
      writeFileSync(join(work, `${keyAlgorithm}.tsr`), got.response);
      writeFileSync(join(work, `${keyAlgorithm}.data`), data);
      writeFileSync(join(work, `${keyAlgorithm}.root.pem`), t.rootsPem);
      const out = execFileSync(
        'openssl',
        [
          'ts',
          '-verify',
          '-in',
          join(work, `${keyAlgorithm}.tsr`),
          '-data',
          join(work, `${keyAlgorithm}.data`),
          '-CAfile',
          join(work, `${keyAlgorithm}.root.pem`),
          '-untrusted',
          join(work, `${keyAlgorithm}.root.pem`),
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      expect(out).toContain('Verification: OK');
      expect(t.tsa.requests).toBe(1);
    },
  );

  it('turns every injected fault into the port’s error with its code', async () => {
    const t = await MemoryTimestamper.create('mem', { timeoutMs: 50 });
    const transport: MemoryTsaFault[] = [
      'TSA_UNREACHABLE',
      'TSA_TIMEOUT',
      'TSA_HTTP_STATUS',
      'TSA_BAD_CONTENT_TYPE',
      'TSA_RESPONSE_TOO_LARGE',
    ];
    for (const code of transport) {
      t.tsa.faults.fail({ op: 'timestamp', code });
      const err = await t.timestamp({ digest, nonce: nonce() }).catch((e: unknown) => e);
      expect(err, code).toBeInstanceOf(TsaTransportError);
      expect(err).toMatchObject({ code });
    }
    const reply: MemoryTsaFault[] = [
      'STATUS_NOT_GRANTED',
      'IMPRINT_MISMATCH',
      'NONCE_MISMATCH',
      'UNTRUSTED_ROOT',
      'MALFORMED',
    ];
    for (const code of reply) {
      t.tsa.faults.fail({ op: 'timestamp', code });
      const err = await t.timestamp({ digest, nonce: nonce() }).catch((e: unknown) => e);
      expect(err, code).toBeInstanceOf(TimestampError);
      expect(err).toMatchObject({ code });
    }
    // And then it works again.
    expect((await t.timestamp({ digest, nonce: nonce() })).tsa).toBe('mem');
  });

  it('answers a TimeStampReq it cannot serve with a rejection, not a token', async () => {
    const t = await MemoryTimestamper.create('mem');
    const err = await t.verify(await t.tsa.reply(utf8('not a request')), digest).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STATUS_NOT_GRANTED' });
  });
});
