/**
 * The producer-signature part of `anchorlog verify` (docs/producer-signatures.md
 * §Offline verification): after the bundle verified, its records are read a
 * second time and every producer signature is re-checked offline.
 *
 * The keys come from `--producer-keys SYSTEM.tar`, an evidence bundle of the
 * `system` log, verified here under the same pinned trust as the bundle
 * itself: its `producer_key.*` records say which key belonged to which
 * principal and when, so the exporter of either bundle is not trusted for the
 * binding. Without it, signed records are counted but not checked, and the
 * verdict says so (PRODUCER_SIGNATURES_NOT_CHECKED, exit 3).
 */
import {
  BundleError,
  type BundleTrust,
  bundleRecordsFrom,
  checkProducerSignatures,
  type ProducerSignatureCounts,
  producerKeysFromSystemRecords,
  verifyBundle,
} from '../core/bundle/index.ts';
import { SYSTEM_LOG_ID } from '../core/principal.ts';
import { defaultSignatureVerifier } from '../core/producer-signature.ts';
import type { LogRecord } from '../core/record.ts';
import { UsageError } from './errors.ts';
import { type CliIo, readInput, streamInput } from './io.ts';
import { type Shortfall, untrusted } from './verdict.ts';

export interface ProducerSignatureSection {
  /** Whether signatures were checked (a system-log bundle was given). */
  readonly checked: boolean;
  /** Per producer (submitter): verified / unsigned / failed; `signed` when not checked. */
  readonly producers: readonly (ProducerSignatureCounts & { signed?: number })[];
  /** Keys the system-log bundle registered. */
  readonly keys: number;
}

/**
 * Re-reads the bundle at `path` and checks its records' signatures. Throws
 * BundleError PRODUCER_SIGNATURE_INVALID (exit 1) on the first failing record.
 */
export async function producerSignatures(
  io: CliIo,
  path: string,
  systemBundlePath: string | undefined,
  trust: BundleTrust,
): Promise<{ section: ProducerSignatureSection; shortfall?: Shortfall }> {
  let keys: Awaited<ReturnType<typeof producerKeysFromSystemRecords>> | undefined;
  if (systemBundlePath !== undefined) {
    const bytes = await readInput(io, '--producer-keys', systemBundlePath);
    const report = await verifyBundle(bytes, trust).catch((e: unknown) => {
      if (e instanceof BundleError)
        throw new BundleError(e.code, `--producer-keys ${systemBundlePath}: ${e.message}`, {
          ...(e.index !== undefined ? { index: e.index } : {}),
          ...(e.member !== undefined ? { member: e.member } : {}),
          cause: e,
        });
      throw e;
    });
    if (report.logId !== SYSTEM_LOG_ID)
      throw new UsageError(
        'BAD_FILE',
        `--producer-keys: ${systemBundlePath} is a bundle of log ${report.logId}, not of ${SYSTEM_LOG_ID}`,
      );
    keys = await producerKeysFromSystemRecords(bundleRecordsFrom(once(bytes)));
  }
  const stream = await streamInput(io, 'FILE', path);
  try {
    if (!keys) {
      const counts = new Map<string, ProducerSignatureCounts & { signed: number }>();
      for await (const r of bundleRecordsFrom(stream, parseAccepted)) {
        const c = counts.get(r.submitter) ?? {
          producer: r.submitter,
          verified: 0,
          unsigned: 0,
          failed: 0,
          signed: 0,
        };
        if (r.event.signature) c.signed++;
        else c.unsigned++;
        counts.set(r.submitter, c);
      }
      const producers = [...counts.values()].sort((a, b) => (a.producer < b.producer ? -1 : 1));
      const signed = producers.reduce((n, c) => n + c.signed, 0);
      return {
        section: { checked: false, producers, keys: 0 },
        ...(signed > 0
          ? {
              shortfall: untrusted(
                'PRODUCER_SIGNATURES_NOT_CHECKED',
                `${signed} record(s) carry producer signatures that were not checked: give --producer-keys SYSTEM.tar (a bundle of the system log)`,
              ),
            }
          : {}),
      };
    }
    // Strict decoding here: these records are what the signature verdict is about.
    const report = await checkProducerSignatures(bundleRecordsFrom(stream), keys, defaultSignatureVerifier);
    const first = report.failures[0];
    if (first)
      throw new BundleError(
        'PRODUCER_SIGNATURE_INVALID',
        `record ${first.index} of ${first.producer}: ${first.code}: ${first.message}` +
          (report.failedCount > 1 ? ` (${report.failedCount} records fail)` : ''),
        { index: first.index },
      );
    return { section: { checked: true, producers: report.producers, keys: keys.size } };
  } finally {
    await stream.close();
  }
}

/** Lines for the text report. */
export function producerLines(s: ProducerSignatureSection): string[] {
  if (s.producers.length === 0) return [];
  const l = [
    `producer signatures${s.checked ? ` (checked against ${s.keys} key(s) from the system log)` : ' (NOT checked)'}:`,
  ];
  for (const p of s.producers)
    l.push(
      s.checked
        ? `  - ${p.producer}: ${p.verified} verified, ${p.unsigned} unsigned, ${p.failed} failed`
        : `  - ${p.producer}: ${p.signed ?? 0} signed (not checked), ${p.unsigned} unsigned`,
    );
  return l;
}

const decoder = new TextDecoder();
/**
 * For counting only (nothing is verified from it): the records were decoded
 * strictly by verifyBundle a moment ago, so a plain parse, a few times faster.
 */
function parseAccepted(bytes: Uint8Array): LogRecord {
  return JSON.parse(decoder.decode(bytes)) as LogRecord;
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
