/**
 * The chunk check's shortcut for the time-stamp plausibility rule
 * (plausibleText, src/core/bundle/chunk.ts): comparing formatted text must
 * decide `plausibleMs < Date.parse(receivedAt)` exactly as the sequential
 * verifier does, for every receivedAt a record can carry and every
 * plausibleMs a verified time-stamp can yield — fractions, negatives, NaN and
 * instants past the last one included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ChunkParams, checkRecordsChunk, plausibleText } from '../../../src/core/bundle/chunk.ts';
import { concatBytes, toBase64 } from '../../../src/core/bytes.ts';
import { formatReceivedAt, leafHash, MAX_EPOCH_MS } from '../../../src/core/record.ts';
import { newRecordFields, scanRecord } from '../../../src/core/record-scan.ts';
import { makeLog } from './fixture.ts';

/** Any receivedAt a record can carry: checkRecord allows years 1970–9999. */
const receivedAtMs = fc.integer({ min: 0, max: MAX_EPOCH_MS });
const plausibleMs = fc.oneof(
  fc.integer({ min: -10, max: MAX_EPOCH_MS + 10 }),
  fc.double({ min: -1e3, max: MAX_EPOCH_MS + 1e3, noNaN: false }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, MAX_EPOCH_MS, -0),
);

describe('plausibleText', () => {
  it('orders like Date.parse for every record time and every plausible time', () => {
    fc.assert(
      fc.property(receivedAtMs, plausibleMs, (at, p) => {
        const receivedAt = formatReceivedAt(at);
        expect(plausibleText(p) < receivedAt).toBe(p < Date.parse(receivedAt));
      }),
      { numRuns: 20_000 },
    );
  });

  it('is exact at the millisecond boundaries around a record', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_EPOCH_MS - 1 }),
        fc.constantFrom(-1, -0.5, 0, 0.5, 1),
        (at, d) => {
          const receivedAt = formatReceivedAt(at);
          expect(plausibleText(at + d) < receivedAt).toBe(at + d < at);
        },
      ),
    );
  });
});

describe('checkRecordsChunk', () => {
  // Metadata without escapes (the byte scanner proves those records itself), and the fixture's
  // default with `"`, `\\` and a newline in a metadata string (escapes the scanner also reads).
  const logs = [
    makeLog(40, { metadata: (i) => ({ n: i, list: [1, 2.5, null, true], s: 'plain' }) }),
    makeLog(40),
  ];
  const chunk = (recs: Uint8Array[]) => concatBytes(...recs.flatMap((r) => [r, new Uint8Array([0x0a])]));
  const params = (logId: string): ChunkParams => ({
    logId,
    fromTime: '2000-01-01T00:00:00.000Z',
    toTime: '9000-01-01T00:00:00.000Z',
    lastIndex: 1000,
    anchors: [],
  });

  it.each(logs.map((l, k) => [k, l] as const))(
    'proves a valid chunk (log %i) with the byte scanner, with the same summary as the JSON.parse check',
    (_k, log) => {
      // Every record is proved by the scanner itself (not by the fallback).
      for (const rec of log.records) expect(scanRecord(rec, newRecordFields())).toBe(true);
      const data = chunk(log.records.slice(5, 30));
      const scan = checkRecordsChunk(data, params(log.logId), 'scan');
      const json = checkRecordsChunk(data, params(log.logId), 'json');
      expect(scan).toStrictEqual(json);
      expect(scan).toMatchObject({
        ok: true,
        count: 25,
        firstIndex: 5,
        lastIndex: 29,
        firstPrev: toBase64(leafHash(log.records[4] as Uint8Array)),
        firstReceivedAt: log.receivedAt[5],
        lastReceivedAt: log.receivedAt[29],
      });
      if (scan.ok) expect(scan.leaves).toStrictEqual(concatBytes(...log.leaves.slice(5, 30)));
    },
  );

  it('is not ok on a broken chain, a gap, another log or a record outside the range (scanner and JSON.parse check alike)', () => {
    const log = logs[0] as (typeof logs)[0];
    const r = log.records;
    const cases: [Uint8Array[], ChunkParams][] = [
      [[r[1], r[3]] as Uint8Array[], params(log.logId)],
      [[r[2], r[1]] as Uint8Array[], params(log.logId)],
      [[r[1], r[2]] as Uint8Array[], params('tenant-b')],
      [[r[1], r[2]] as Uint8Array[], params('Not-a-log-id')],
      [[r[1], r[2]] as Uint8Array[], { ...params(log.logId), lastIndex: 1 }],
      [[r[1], r[2]] as Uint8Array[], { ...params(log.logId), toTime: log.receivedAt[2] as string }],
    ];
    for (const [recs, p] of cases)
      for (const how of ['scan', 'json'] as const)
        expect(checkRecordsChunk(chunk(recs), p, how).ok).toBe(false);
    // And the same two records in order are fine.
    expect(checkRecordsChunk(chunk([r[1], r[2]] as Uint8Array[]), params(log.logId)).ok).toBe(true);
  });
});
