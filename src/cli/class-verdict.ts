/**
 * A class answer's verification and verdict (docs/bundle.md §Class answers),
 * shared by `anchorlog verify ANSWER.json` (./verify-class.ts) and the
 * console's verify worker (console/src/verify/worker.ts), so the page's exit
 * meaning is the CLI's. No I/O: browser-safe imports only.
 */
import { type ClassAnswerReport, verifyClassAnswerDocument } from '../core/classes/answer-doc.ts';
import { parseVerifierKey } from '../core/note/vkey.ts';
import { UsageError } from './errors.ts';
import type { TrustFile } from './trust-file.ts';
import { incomplete, type Shortfall, untrusted, type Verdict, verdictOf } from './verdict.ts';

/** Whether the bytes look like a class answer document: JSON, where bundles are tar and tlog-proofs text. */
export function looksLikeClassAnswer(head: Uint8Array): boolean {
  for (const b of head) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === 0x7b; // '{'
  }
  return false;
}

/**
 * Verifies the document against TRUST.json's log keys and TSA roots and
 * applies the CLI's rules: exit 0 only when complete against pinned trust,
 * 4 when not complete, 3 when the TSA roots were the document's own (unless
 * accepted). Throws UsageError without log keys, and the verifier's errors
 * (ClassError, NoteError, TimestampError, each with its code) on a failed check.
 */
export async function classAnswerVerdict(
  bytes: Uint8Array,
  trust: TrustFile,
  accept: { untrusted: boolean; incomplete: boolean } = { untrusted: false, incomplete: false },
): Promise<{ report: ClassAnswerReport; verdict: Verdict }> {
  if (!trust.logKeys || trust.logKeys.length === 0)
    throw new UsageError('MISSING_OPTION', 'a class answer carries no log key: give --trust with logKeys');
  const report = await verifyClassAnswerDocument(bytes, {
    logKeys: trust.logKeys.map((k) => parseVerifierKey(k)),
    ...(trust.tsaRoots ? { tsaRoots: trust.tsaRoots } : {}),
  });
  const shortfalls: Shortfall[] = [];
  if (report.trustedDocumentTsaRoots)
    shortfalls.push(
      untrusted('UNTRUSTED_TSA_ROOTS', "the TSA roots were the document's own chains, not pinned ones"),
    );
  if (report.start === 'declared-in-range')
    shortfalls.push(incomplete('COMPLETENESS_NOT_PROVED', report.statement));
  else if (report.end === 'checkpoint-end') shortfalls.push(incomplete('RANGE_NOT_CLOSED', report.statement));
  return { report, verdict: verdictOf(shortfalls, accept) };
}
