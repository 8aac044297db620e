/**
 * The AnchorStore contract (src/ports/anchor-store.ts) and the export's
 * AnchoredSizeLister over the same data (src/ports/export-store.ts), run
 * against every implementation by test/contracts/memory.test.ts and aws.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnchorStore, AnchorSummary, TsaAnchorRecord } from '../../src/ports/anchor-store.ts';
import type { AnchoredSizeLister } from '../../src/ports/export-store.ts';
import { uniqueId } from './support.ts';

export interface AnchorStoreUnderTest {
  readonly store: AnchorStore;
  /** The lister the export uses over this store's data. */
  readonly anchoredSizes: AnchoredSizeLister;
}

export const anchorSummary = (logId: string, size: number, granted = 1): AnchorSummary => ({
  logId,
  size,
  checkpoint: `origin/${logId}\n${size}\nAAAA\n`,
  quorum: 1,
  tsaCount: 2,
  granted,
  quorumMet: granted >= 1,
  updatedAt: 1,
});

export function grantedRecord(
  logId: string,
  size: number,
  tsa: string,
  token: number,
  serialNumber: string,
): TsaAnchorRecord & { status: 'granted' } {
  return {
    logId,
    size,
    tsa,
    status: 'granted',
    attempts: 1,
    updatedAt: 10,
    granted: {
      genTime: '2026-03-01T00:00:00.000Z',
      serialNumber,
      policy: '1.2.3',
      signerSubject: 'CN=tsa',
      token: new Uint8Array([token, 1, 2]),
      chainPem: '-----BEGIN CERTIFICATE-----\n…\n',
      responseKey: `logs/${logId}/anchors/${size}/${tsa}.tsr`,
      chainKey: `logs/${logId}/anchors/${size}/${tsa}.chain.pem`,
    },
  };
}

const failed = (logId: string, size: number, tsa: string, code: string, attempts = 1) => ({
  logId,
  size,
  tsa,
  status: 'failed' as const,
  attempts,
  updatedAt: 20,
  failure: { code, message: `${code} happened` },
});

export function anchorStoreContract(name: string, make: () => Promise<AnchorStoreUnderTest>): void {
  describe(`AnchorStore contract: ${name}`, () => {
    let store: AnchorStore;
    let anchoredSizes: AnchoredSizeLister;
    beforeAll(async () => {
      ({ store, anchoredSizes } = await make());
    });

    it('reads nothing for a size never anchored', async () => {
      const log = uniqueId('none');
      expect(await store.read(log, 5)).toEqual({ summary: undefined, tsas: [] });
      expect(await store.newestAnchoredSize(log)).toBeUndefined();
    });

    it('records failures, adding attempts, then a grant; reads them sorted by TSA name', async () => {
      const log = uniqueId('rec');
      expect(await store.putFailed(failed(log, 4, 'zeta.tsa', 'TSA_TIMEOUT', 2))).toBe(true);
      expect(await store.putFailed(failed(log, 4, 'zeta.tsa', 'TSA_HTTP_STATUS', 3))).toBe(true);
      expect(await store.putGranted(grantedRecord(log, 4, 'alpha', 7, 'serial-a'))).toBe(true);
      const { summary, tsas } = await store.read(log, 4);
      expect(summary).toBeUndefined();
      expect(tsas.map((t) => t.tsa)).toEqual(['alpha', 'zeta.tsa']);
      expect(tsas[1]).toMatchObject({
        logId: log,
        size: 4,
        status: 'failed',
        attempts: 5,
        updatedAt: 20,
        failure: { code: 'TSA_HTTP_STATUS', message: 'TSA_HTTP_STATUS happened' },
      });
      expect(tsas[1]?.granted).toBeUndefined();
      expect(tsas[0]).toMatchObject({
        status: 'granted',
        attempts: 1,
        granted: { serialNumber: 'serial-a' },
      });
      expect(tsas[0]?.granted?.token).toEqual(new Uint8Array([7, 1, 2]));
      expect(tsas[0]?.failure).toBeUndefined();
      // Other sizes are apart.
      expect((await store.read(log, 5)).tsas).toEqual([]);
    });

    it('a grant after failures keeps the attempts and drops the failure', async () => {
      const log = uniqueId('late');
      await store.putFailed(failed(log, 2, 't', 'TSA_UNREACHABLE', 2));
      expect(await store.putGranted({ ...grantedRecord(log, 2, 't', 1, 's'), attempts: 1 })).toBe(true);
      const [rec] = (await store.read(log, 2)).tsas;
      expect(rec).toMatchObject({ status: 'granted', attempts: 3 });
      expect(rec?.failure).toBeUndefined();
    });

    it('a granted record is never overwritten, except by replaceGranted naming its exact token', async () => {
      const log = uniqueId('granted');
      expect(await store.putGranted(grantedRecord(log, 2, 'tsa1', 1, 'forged'))).toBe(true);
      expect(await store.putGranted(grantedRecord(log, 2, 'tsa1', 2, 'real'))).toBe(false);
      expect(await store.putFailed(failed(log, 2, 'tsa1', 'E'))).toBe(false);
      // Naming a token other than the stored one changes nothing.
      expect(await store.replaceGranted(grantedRecord(log, 2, 'tsa1', 2, 'real'), new Uint8Array([9]))).toBe(
        false,
      );
      expect((await store.read(log, 2)).tsas[0]?.granted?.serialNumber).toBe('forged');
      expect(
        await store.replaceGranted(grantedRecord(log, 2, 'tsa1', 2, 'real'), new Uint8Array([1, 1, 2])),
      ).toBe(true);
      const [rec] = (await store.read(log, 2)).tsas;
      expect(rec?.granted).toMatchObject({ serialNumber: 'real', token: new Uint8Array([2, 1, 2]) });
      expect(
        await store.replaceGranted(grantedRecord(log, 2, 'tsa1', 3, 'again'), new Uint8Array([1, 1, 2])),
      ).toBe(false);
      // Nothing to replace: a failed record, or none.
      await store.putFailed(failed(log, 2, 'tsa2', 'E'));
      expect(await store.replaceGranted(grantedRecord(log, 2, 'tsa2', 4, 'x'), new Uint8Array([1]))).toBe(
        false,
      );
      expect(await store.replaceGranted(grantedRecord(log, 2, 'tsa3', 4, 'x'), new Uint8Array([1]))).toBe(
        false,
      );
      expect((await store.read(log, 2)).tsas.map((t) => [t.tsa, t.status])).toEqual([
        ['tsa1', 'granted'],
        ['tsa2', 'failed'],
      ]);
    });

    it('summaries: last writer wins', async () => {
      const log = uniqueId('sum');
      await store.putSummary(anchorSummary(log, 3, 0));
      await store.putSummary({ ...anchorSummary(log, 3, 2), updatedAt: 9 });
      const { summary } = await store.read(log, 3);
      expect(summary).toEqual({ ...anchorSummary(log, 3, 2), updatedAt: 9 });
    });

    it('the newest anchored size only rises', async () => {
      const log = uniqueId('ptr');
      await store.markAnchored(log, 5);
      await store.markAnchored(log, 3);
      expect(await store.newestAnchoredSize(log)).toBe(5);
      await store.markAnchored(log, 8);
      expect(await store.newestAnchoredSize(log)).toBe(8);
      await store.markAnchored(log, 0);
      expect(await store.newestAnchoredSize(log)).toBe(8);
    });

    it('stores copies of tokens', async () => {
      const log = uniqueId('copy');
      const r = grantedRecord(log, 1, 't', 5, 's');
      await store.putGranted(r);
      r.granted?.token.fill(0);
      expect((await store.read(log, 1)).tsas[0]?.granted?.token[0]).toBe(5);
    });

    it('lists sizes with a granted token in a window, ascending, up to a limit', async () => {
      const log = uniqueId('list');
      for (const [size, granted] of [
        [9, 1],
        [2, 2],
        [5, 0],
        [7, 1],
        [12, 3],
      ] as const)
        await store.putSummary(anchorSummary(log, size, granted));
      await store.putGranted(grantedRecord(log, 3, 't', 1, 's')); // a TSA record alone is not a summary
      await store.putSummary(anchorSummary(uniqueId('other'), 4, 1));
      expect(await anchoredSizes(log, 0, 100, 10)).toEqual([2, 7, 9, 12]);
      expect(await anchoredSizes(log, 3, 9, 10)).toEqual([7, 9]);
      expect(await anchoredSizes(log, 0, 100, 2)).toEqual([2, 7]);
      expect(await anchoredSizes(log, 7, 7, 1)).toEqual([7]);
      expect(await anchoredSizes(log, 10, 3, 5)).toEqual([]);
      expect(await anchoredSizes(log, 0, 100, 0)).toEqual([]);
    });
  });
}
