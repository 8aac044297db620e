/**
 * The ArchiveStore contract (src/ports/archive-store.ts), run against every
 * implementation by test/contracts/memory.test.ts and aws.test.ts. The
 * factory also says how to list a key's versions (ListObjectVersions on S3)
 * and how to GET a presigned URL, which the port itself does not offer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesEqual, utf8 } from '../../src/core/bytes.ts';
import { ArchiveError, type ArchiveStore, archiveKey, checkpointKey } from '../../src/ports/archive-store.ts';
import { uniqueId } from './support.ts';

export interface ArchiveStoreUnderTest {
  /** With a default retention of 400 days. */
  readonly store: ArchiveStore;
  /** Number of versions `key` holds. */
  readonly versionCount: (key: string) => Promise<number>;
  /** GET of a presigned URL: the bytes, or undefined when refused. */
  readonly download: (url: string) => Promise<Uint8Array | undefined>;
}

const DAY_MS = 86_400_000;

export function archiveStoreContract(name: string, make: () => Promise<ArchiveStoreUnderTest>): void {
  describe(`ArchiveStore contract: ${name}`, () => {
    let store: ArchiveStore;
    let versionCount: (key: string) => Promise<number>;
    let download: (url: string) => Promise<Uint8Array | undefined>;
    beforeAll(async () => {
      ({ store, versionCount, download } = await make());
    });

    it('putImmutable creates once; identical bytes again is success without a new version', async () => {
      const key = archiveKey(uniqueId('log'), 'tile/0/000.p/3');
      expect(await store.putImmutable(key, utf8('tile-bytes'))).toEqual({ created: true });
      expect(await store.putImmutable(key, utf8('tile-bytes'))).toEqual({ created: false });
      expect(await versionCount(key)).toBe(1);
      expect(await store.get(key)).toEqual(utf8('tile-bytes'));
    });

    it('different bytes at an existing key are a fatal IMMUTABLE_CONFLICT and write nothing', async () => {
      const key = archiveKey(uniqueId('log'), 'tile/entries/000.p/1');
      await store.putImmutable(key, utf8('one'));
      const err = await store.putImmutable(key, utf8('two')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ArchiveError);
      expect((err as ArchiveError).code).toBe('IMMUTABLE_CONFLICT');
      expect(await versionCount(key)).toBe(1);
      expect(await store.get(key)).toEqual(utf8('one'));
    });

    it('every version is locked in COMPLIANCE mode for the retention period', async () => {
      const key = archiveKey(uniqueId('log'), 'tile/0/001');
      await store.putImmutable(key, utf8('x'.repeat(64)));
      const head = await store.head(key);
      expect(head?.lockMode).toBe('COMPLIANCE');
      expect(head?.retainUntil?.getTime()).toBeGreaterThan(Date.now() + 399 * DAY_MS);
      expect(head?.size).toBe(64);
      expect(typeof head?.versionId).toBe('string');
      expect(head?.etag).toMatch(/^".+"$/);
    });

    it('get, head and getBounded of a missing key are undefined', async () => {
      const key = archiveKey(uniqueId('none'), 'tile/0/000');
      expect(await store.get(key)).toBeUndefined();
      expect(await store.head(key)).toBeUndefined();
      expect(await store.getBounded(key, 10)).toBeUndefined();
      expect(await store.getCheckpoint(uniqueId('none'))).toBeUndefined();
    });

    it('stores what it was given at the time: later changes to the caller\u2019s array change nothing', async () => {
      const key = archiveKey(uniqueId('log'), 'tile/0/002');
      const b = utf8('original');
      await store.putImmutable(key, b);
      b.fill(0x21);
      expect(await store.get(key)).toEqual(utf8('original'));
    });

    it('putCheckpoint is a compare-and-swap: first onto nothing, later ones onto the version named', async () => {
      const log = uniqueId('log');
      expect(checkpointKey(log)).toBe(`logs/${log}/checkpoint`);
      expect(await store.getCheckpoint(log)).toBeUndefined();
      const a = await store.putCheckpoint(log, `origin/${log}\n1\nAAAA\n`, { ifNoneMatch: '*' });
      if (!a.written) throw new Error('first checkpoint not written');
      // A second "first" checkpoint is refused: one exists.
      expect(await store.putCheckpoint(log, `origin/${log}\n1\nXXXX\n`, { ifNoneMatch: '*' })).toEqual({
        written: false,
      });
      expect(await store.getCheckpoint(log)).toEqual({ text: `origin/${log}\n1\nAAAA\n`, etag: a.etag });
      const b = await store.putCheckpoint(log, `origin/${log}\n2\nBBBB\n`, { ifMatch: a.etag });
      if (!b.written) throw new Error('second checkpoint not written');
      expect(b.versionId).not.toBe(a.versionId);
      expect(b.etag).not.toBe(a.etag);
      // A writer still holding A's ETag cannot replace B (it has not seen it).
      expect(await store.putCheckpoint(log, `origin/${log}\n1\nAAAA\n`, { ifMatch: a.etag })).toEqual({
        written: false,
      });
      expect(await store.getCheckpoint(log)).toEqual({ text: `origin/${log}\n2\nBBBB\n`, etag: b.etag });
      // Every published version stays in the archive; the key reads as the newest.
      expect(await versionCount(checkpointKey(log))).toBe(2);
      expect(new TextDecoder().decode(await store.get(checkpointKey(log)))).toBe(`origin/${log}\n2\nBBBB\n`);
      expect((await store.head(checkpointKey(log)))?.lockMode).toBe('COMPLIANCE');
    });

    it('If-Match onto a log without a checkpoint writes nothing', async () => {
      const log = uniqueId('log');
      expect(await store.putCheckpoint(log, `origin/${log}\n1\nAAAA\n`, { ifMatch: '"0123abcd"' })).toEqual({
        written: false,
      });
      expect(await store.getCheckpoint(log)).toBeUndefined();
      expect(await versionCount(checkpointKey(log))).toBe(0);
    });

    it('getBounded: the bytes up to the bound, else only size and version', async () => {
      const log = uniqueId('log');
      const small = archiveKey(log, 'tile/entries/000.p/2');
      const big = archiveKey(log, 'tile/entries/001');
      const bigBytes = crypto.getRandomValues(new Uint8Array(5000));
      await store.putImmutable(small, utf8('0123456789'));
      await store.putImmutable(big, bigBytes);
      const bigVersion = (await store.head(big))?.versionId;
      expect(await store.getBounded(small, 10)).toMatchObject({ size: 10, bytes: utf8('0123456789') });
      expect(await store.getBounded(small, 4096)).toMatchObject({ size: 10, bytes: utf8('0123456789') });
      expect(await store.getBounded(big, 4096)).toEqual({
        size: 5000,
        versionId: bigVersion,
        bytes: undefined,
      });
      const whole = await store.getBounded(big, 5000);
      expect(whole?.size).toBe(5000);
      expect(bytesEqual(whole?.bytes ?? new Uint8Array(), bigBytes)).toBe(true);
      const empty = archiveKey(log, 'probe/empty');
      await store.putImmutable(empty, new Uint8Array(0));
      expect(await store.getBounded(empty, 10)).toMatchObject({ size: 0, bytes: new Uint8Array(0) });
      await expect(store.getBounded(small, 0)).rejects.toBeInstanceOf(RangeError);
    });

    it('presignGet: a URL that GETs exactly the version named, saying how long it lives', async () => {
      const log = uniqueId('log');
      const first = await store.putCheckpoint(log, 'first\n', { ifNoneMatch: '*' });
      if (!first.written) throw new Error('not written');
      const second = await store.putCheckpoint(log, 'second\n', { ifMatch: first.etag });
      if (!second.written) throw new Error('not written');
      const url = await store.presignGet(checkpointKey(log), first.versionId, 60);
      expect(new URL(url).searchParams.get('versionId')).toBe(first.versionId);
      expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('60');
      expect(await download(url)).toEqual(utf8('first\n'));
      const current = await store.presignGet(checkpointKey(log), undefined, 60);
      expect(await download(current)).toEqual(utf8('second\n'));
      // Never longer than SigV4 allows (7 days).
      const long = await store.presignGet(checkpointKey(log), undefined, 30 * 86_400);
      expect(new URL(long).searchParams.get('X-Amz-Expires')).toBe(String(7 * 86_400));
    });
  });
}
