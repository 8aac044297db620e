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

import { classifyPath, memberLimit } from '../core/bundle/format.ts';
import {
  BundleError,
  type BundleTrust,
  bundleRecordsFrom,
  checkProducerSignatures,
  type ProducerSignatureCounts,
  producerKeysFromSystemRecords,
  verifyBundle,
} from '../core/bundle/index.ts';
import { readTar } from '../core/bundle/tar.ts';
import { SYSTEM_LOG_ID } from '../core/principal.ts';
import { defaultSignatureVerifier } from '../core/producer-signature.ts';
import type { LogRecord } from '../core/record.ts';
import { UsageError } from './errors.ts';
import { type CliIo, readInput, streamInput } from './io.ts';
import { type Shortfall, untrusted } from './verdict.ts';

/** Checked: per producer (submitter) verified / unsigned / failed. Not checked: who signed how many. */
export type ProducerSignatureSection =
  | { readonly checked: true; readonly keys: number; readonly producers: readonly ProducerSignatureCounts[] }
  | {
      readonly checked: false;
      readonly signed: number;
      readonly producers: readonly { producer: string; signed: number }[];
    };

const SIGNATURE_MARKER = new TextEncoder().encode('"signature":{"alg":"');

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle);
}

/**
 * Re-reads the bundle at `path` and checks its records' signatures. Throws
 * BundleError PRODUCER_SIGNATURE_INVALID (exit 1) on the first failing record.
 */
/**
 * Counts signed records per submitter from records members as the verifier
 * reads them (VerifyOptions.onMember), so an unchecked count needs no second
 * read of the bundle. Not a check: valid only once the bundle verified (then
 * every records line is a canonical record, so JSON.parse reads it).
 */
export function signedRecordCounter(): {
  readonly onMember: (path: string, data: Uint8Array) => void;
  readonly signedBy: Map<string, number>;
} {
  const signedBy = new Map<string, number>();
  return {
    signedBy,
    onMember: (path, data) => {
      if (classifyPath(path)?.kind !== 'records' || indexOf(data, SIGNATURE_MARKER) < 0) return;
      // A copy: the member may be in shared memory, which TextDecoder need not accept.
      for (const line of decoder.decode(data.slice()).split('\n')) {
        if (line === '') continue;
        const r = JSON.parse(line) as LogRecord;
        if (r.event.signature) signedBy.set(r.submitter, (signedBy.get(r.submitter) ?? 0) + 1);
      }
    },
  };
}

export async function producerSignatures(
  io: CliIo,
  path: string,
  systemBundlePath: string | undefined,
  trust: BundleTrust,
  /** Without --producer-keys: the counts signedRecordCounter gathered while the bundle was verified (no second read). */
  counted?: ReadonlyMap<string, number>,
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
  if (!keys && counted) return unchecked(counted);
  const stream = await streamInput(io, 'FILE', path);
  try {
    if (!keys) {
      // Not checked: only which records are signed. Canonical JSON writes an event's
      // signature as `"signature":{"alg":"` (keys sorted), so a records member without those
      // bytes holds no signed record and is not parsed: unsigned bundles cost one byte scan.
      const counter = signedRecordCounter();
      for await (const m of readTar(stream, memberLimit)) counter.onMember(m.path, m.data);
      return unchecked(counter.signedBy);
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
    return { section: { checked: true, keys: keys.size, producers: report.producers } };
  } finally {
    await stream.close();
  }
}

/** The section for signatures counted but not checked (no --producer-keys). */
function unchecked(signedBy: ReadonlyMap<string, number>): {
  section: ProducerSignatureSection;
  shortfall?: Shortfall;
} {
  const producers = [...signedBy]
    .map(([producer, signed]) => ({ producer, signed }))
    .sort((a, b) => (a.producer < b.producer ? -1 : 1));
  const signed = producers.reduce((n, c) => n + c.signed, 0);
  return {
    section: { checked: false, signed, producers },
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

/** Lines for the text report. */
export function producerLines(s: ProducerSignatureSection): string[] {
  if (s.producers.length === 0) return [];
  if (!s.checked)
    return [
      'producer signatures (NOT checked: no --producer-keys):',
      ...s.producers.map((p) => `  - ${p.producer}: ${p.signed} signed record(s)`),
    ];
  return [
    `producer signatures (checked against ${s.keys} key(s) from the system log):`,
    ...s.producers.map(
      (p) => `  - ${p.producer}: ${p.verified} verified, ${p.unsigned} unsigned, ${p.failed} failed`,
    ),
  ];
}

const decoder = new TextDecoder();

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
