/**
 * The `system` log's records with receivedAt in [from, until) that a report
 * keeps (`keep`), read from committed batches: a binary search over batch
 * headers for the first batch (every record of a batch shares its
 * receivedAt, which never decreases), then batches in order until one
 * reaches `until`. What the API's reports read; an auditor runs the same
 * pure report functions over a verified bundle's records instead.
 */
import { SYSTEM_LOG_ID } from '../core/principal.ts';
import { decodeRecord, type LogRecord } from '../core/record.ts';
import type { LogStore } from '../ports/log-store.ts';
import { AppError } from './errors.ts';
import { fromPortError } from './port-errors.ts';

export async function systemRecords(
  logs: Pick<LogStore, 'readTip' | 'readBatchHeader' | 'readBatches'>,
  range: { from: string; until: string },
  keep: (r: LogRecord) => boolean,
  max: number,
  tooMany: string,
): Promise<LogRecord[]> {
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw fromPortError(err, 'system log') ?? err;
    }
  };
  const tip = await call(() => logs.readTip(SYSTEM_LOG_ID));
  let lo = 1;
  let hi = tip.seq + 1; // first seq with receivedAt ≥ from lies in [lo, hi]
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const h = await call(() => logs.readBatchHeader(SYSTEM_LOG_ID, mid));
    if (!h) throw new AppError('INTEGRITY', `system log batch ${mid} is missing below the tip`);
    if (h.receivedAt < range.from) lo = mid + 1;
    else hi = mid;
  }
  const out: LogRecord[] = [];
  for (let seq = lo; seq <= tip.seq; ) {
    const batches = await call(() => logs.readBatches(SYSTEM_LOG_ID, seq, 16));
    if (batches.length === 0) break;
    for (const b of batches) {
      if (b.receivedAt >= range.until) return out;
      for (const r of b.records) {
        let rec: LogRecord;
        try {
          rec = decodeRecord(r.bytes);
        } catch (err) {
          // LogStore.readBatch checked these bytes against the commit: one that does not decode is corruption.
          throw new AppError('INTEGRITY', `system log record ${r.index} does not decode`, { cause: err });
        }
        if (!keep(rec)) continue;
        if (out.length >= max) throw new AppError('PAYLOAD_TOO_LARGE', tooMany);
        out.push(rec);
      }
      seq = b.seq + 1;
    }
  }
  return out;
}
