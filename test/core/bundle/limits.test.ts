/**
 * Issue #11, export side: every bundle the writer produces from records
 * ingest accepted must be one the verifier reads. The verifier bounds each
 * member it reads; these tests put the records that stress those bounds into
 * real bundles.
 */
import { describe, expect, it } from 'vitest';
import { MAX_CHUNK_BYTES } from '../../../src/core/bundle/format.ts';
import { verifyBundle } from '../../../src/core/bundle/index.ts';
import { MAX_RECORD_BYTES } from '../../../src/core/record.ts';
import { exportBundle, find, makeLog, members, trustFor } from './fixture.ts';

/** Records 1 and 3 are exactly MAX_RECORD_BYTES, filled with a character that needs escaping twice. */
function bigNeighbours(fill: '"' | '\\') {
  const small = makeLog(5, { metadata: () => ({ pad: '' }) });
  const base = (i: number) => (small.records[i] as Uint8Array).length;
  // In the record a '"' or '\' is 2 bytes (\" or \\); in proofs.json's string, 4.
  const pad = (i: number) => {
    const room = MAX_RECORD_BYTES - base(i);
    return fill.repeat(Math.floor(room / 2)) + 'x'.repeat(room % 2);
  };
  return makeLog(5, { metadata: (i) => ({ pad: i === 1 || i === 3 ? pad(i) : '' }) });
}

describe('bundle limits: what the writer writes, the verifier reads', () => {
  it.each(['"', '\\'] as const)(
    'a range whose neighbours are records at the limit, full of %s (proofs.json at its largest)',
    async (fill) => {
      const log = bigNeighbours(fill);
      expect(log.records[1]?.length).toBe(MAX_RECORD_BYTES);
      expect(log.records[3]?.length).toBe(MAX_RECORD_BYTES);
      const bundle = await exportBundle(log, {
        fromTime: log.receivedAt[2] as string,
        toTime: log.receivedAt[3] as string,
      });
      const proofs = find(await members(bundle), 'proofs.json');
      expect(proofs.data.length).toBeGreaterThan(4 * MAX_RECORD_BYTES); // both neighbours, each escaped 2x
      const r = await verifyBundle(bundle, trustFor(log));
      expect(r.ok).toBe(true);
      expect(r).toMatchObject({
        range: { firstIndex: 2, lastIndex: 2 },
        completeness: { proved: true, start: 'record', end: 'record' },
      });
    },
  );

  it('a filtered export never writes an inclusion member larger than its records chunk target', async () => {
    // Small records in a deep tree: each inclusion line (~47 bytes per proof
    // hash) outweighs its record, so a records chunk at its target size drags
    // an inclusion member several times larger. At the default 4 MiB target, a
    // log of 2^24 records of ~300 bytes gives inclusion members over the 16 MiB
    // the verifier reads (MAX_CHUNK_BYTES): bounding both by chunkBytes
    // (at most MAX_CHUNK_BYTES / 2) keeps every member readable.
    const log = makeLog(600, { stepMs: 1000, action: () => 'tool.call', metadata: () => ({}) });
    const chunkBytes = 8 * 1024;
    const bundle = await exportBundle(log, {
      fromTime: log.receivedAt[0] as string,
      toTime: '2030-01-01T00:00:00.000Z',
      filter: { actionPrefix: 'tool' },
      chunkBytes,
    });
    const ms = await members(bundle);
    const inclusion = ms.filter((m) => m.path.startsWith('inclusion/'));
    const records = ms.filter((m) => m.path.startsWith('records/'));
    expect(inclusion.length).toBe(records.length);
    expect(inclusion.length).toBeGreaterThan(1);
    for (const m of [...inclusion, ...records]) expect(m.data.length, m.path).toBeLessThanOrEqual(chunkBytes);
    expect(chunkBytes).toBeLessThanOrEqual(MAX_CHUNK_BYTES / 2);
    const r = await verifyBundle(bundle, trustFor(log));
    expect(r.ok).toBe(true);
    expect(r.records.count).toBe(600);
  });
});
