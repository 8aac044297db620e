/**
 * The ExportStore contract (src/ports/export-store.ts), run against every
 * implementation by test/contracts/memory.test.ts and aws.test.ts. The
 * factory also says how to GET a download URL.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesEqual, utf8 } from '../../src/core/bytes.ts';
import { type ExportStore, ExportStoreError, exportKey } from '../../src/ports/export-store.ts';
import { uniqueId } from './support.ts';

export interface ExportStoreUnderTest {
  /** Cutting parts of 5 MiB, S3's smallest, where it cuts parts at all. */
  readonly store: ExportStore;
  /** GET of a download URL: the bytes, or undefined when nothing is there. */
  readonly download: (url: string) => Promise<Uint8Array | undefined>;
}

const MiB = 1024 * 1024;

export function exportStoreContract(name: string, make: () => Promise<ExportStoreUnderTest>): void {
  describe(`ExportStore contract: ${name}`, () => {
    let store: ExportStore;
    let download: (url: string) => Promise<Uint8Array | undefined>;
    beforeAll(async () => {
      ({ store, download } = await make());
    });

    it('an upload is invisible until complete, then whole', async () => {
      const key = exportKey(uniqueId('log'), 'e1');
      const up = await store.open(key, 'application/x-tar');
      await up.write(utf8('hello '));
      await up.write(utf8('world'));
      expect(await download(await store.downloadUrl(key, 60))).toBeUndefined();
      expect(await up.complete()).toEqual({ bytes: 11 });
      const url = await store.downloadUrl(key, 60);
      expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('60');
      expect(await download(url)).toEqual(utf8('hello world'));
    });

    it('an empty upload completes as an empty object', async () => {
      const key = exportKey(uniqueId('log'), 'empty');
      const up = await store.open(key, 'application/x-tar');
      expect(await up.complete()).toEqual({ bytes: 0 });
      expect(await download(await store.downloadUrl(key, 60))).toEqual(new Uint8Array(0));
    });

    it('uploads larger than a part arrive whole and in order', async () => {
      const key = exportKey(uniqueId('log'), 'large');
      const up = await store.open(key, 'application/x-tar');
      const chunks = Array.from({ length: 11 }, (_, i) => new Uint8Array(MiB).fill(i + 1));
      for (const c of chunks) await up.write(c);
      await up.write(utf8('tail'));
      expect(await up.complete()).toEqual({ bytes: 11 * MiB + 4 });
      const got = await download(await store.downloadUrl(key, 60));
      expect(got?.length).toBe(11 * MiB + 4);
      expect(got && bytesEqual(got.subarray(5 * MiB, 5 * MiB + 3), new Uint8Array(3).fill(6))).toBe(true);
      expect(got && bytesEqual(got.subarray(11 * MiB), utf8('tail'))).toBe(true);
    });

    it('abort leaves nothing at the key, is idempotent, and ends the upload', async () => {
      const key = exportKey(uniqueId('log'), 'aborted');
      const up = await store.open(key, 'application/x-tar');
      await up.write(new Uint8Array(6 * MiB).fill(1));
      await up.abort();
      await up.abort();
      expect(await download(await store.downloadUrl(key, 60))).toBeUndefined();
      await expect(up.write(utf8('x'))).rejects.toBeInstanceOf(ExportStoreError);
      await expect(up.complete()).rejects.toBeInstanceOf(ExportStoreError);
    });

    it('a finished upload takes no more writes and completes once', async () => {
      const key = exportKey(uniqueId('log'), 'done');
      const up = await store.open(key, 'application/x-tar');
      await up.write(utf8('x'));
      await up.complete();
      await expect(up.write(utf8('y'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      await expect(up.complete()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(await download(await store.downloadUrl(key, 60))).toEqual(utf8('x'));
    });
  });
}
