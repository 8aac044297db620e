/**
 * The records of an evidence bundle, in index order, for what is computed
 * from them (the alert report, src/core/detect/report.ts). This reads; it
 * proves nothing: call it only on bytes `verifyBundle` accepted, so every
 * record it yields is one the verifier checked (chain, proofs, completeness).
 * Reading the same bytes twice keeps the verifier itself untouched.
 */
import { decodeRecord, type LogRecord } from '../record.ts';
import { BundleError } from './errors.ts';
import { classifyPath, memberLimit } from './format.ts';
import { readTar } from './tar.ts';

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Every record of `records/*.jsonl`, in member order (the writer's index order). */
export function bundleRecords(bytes: Uint8Array): AsyncGenerator<LogRecord> {
  return bundleRecordsFrom(once(bytes));
}

/** bundleRecords over a stream of the archive's bytes (memory bounded by the member limits). */
export async function* bundleRecordsFrom(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<LogRecord> {
  for await (const m of readTar(chunks, memberLimit)) {
    if (classifyPath(m.path)?.kind !== 'records') continue;
    let start = 0;
    for (let i = 0; i < m.data.length; i++) {
      if (m.data[i] !== 0x0a) continue;
      yield decodeRecord(m.data.subarray(start, i));
      start = i + 1;
    }
    if (start !== m.data.length)
      throw new BundleError('ARCHIVE_INVALID', `${m.path} ends without a newline`, { member: m.path });
  }
}
