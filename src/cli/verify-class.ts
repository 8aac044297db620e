/**
 * `anchorlog verify ANSWER.json` — a class answer document
 * (docs/bundle.md §Class answers), verified offline against the pinned log
 * keys and TSA roots of `--trust`. Prints "complete for class access.* over
 * [from, to)" and exits 0 only when that is proved against pinned trust;
 * 4 when the answer verifies but is not complete (a class declared inside
 * the range, or a range past the checkpoint), 3 when the TSA roots were the
 * document's own; 1 on any failed check, with its code — CLASS_OMISSION (a
 * record left out), CLASS_SMUGGLED (a record not of the class or outside the
 * range), CLASS_PROOF_INVALID, or the checkpoint's and time-stamps' codes.
 */
import { classAnswerVerdict } from './class-verdict.ts';
import type { CliIo } from './io.ts';
import { printableJson, printableLines } from './printable.ts';
import type { TrustFile } from './trust-file.ts';
import { acceptedNote } from './verdict.ts';

export async function verifyClassAnswerFile(
  io: CliIo,
  bytes: Uint8Array,
  trust: TrustFile,
  flags: { json: boolean; allowUntrusted: boolean; allowIncomplete: boolean },
): Promise<number> {
  const { report: r, verdict } = await classAnswerVerdict(bytes, trust, {
    untrusted: flags.allowUntrusted,
    incomplete: flags.allowIncomplete,
  });
  if (flags.json) {
    const { records, ...rest } = r;
    io.stdout(
      printableJson({
        ...rest,
        records: { count: records.length, indexes: records.map((x) => x.index) },
        ok: verdict.exitCode === 0,
        verified: true,
        verdict,
      }),
    );
  } else {
    const head =
      verdict.exitCode === 0
        ? `Verification: OK${acceptedNote(verdict)}`
        : `Verification: VERIFIED, BUT ${verdict.status === 'untrusted' ? 'NOT AGAINST PINNED TRUST' : 'NOT COMPLETE'} (exit ${verdict.exitCode})`;
    io.stdout(
      printableLines([
        head,
        r.statement,
        `log ${r.logId} (${r.origin}), checkpoint ${r.checkpointSize}; class ${r.className} v${r.classVersion} = ${r.rule}, declared at size ${r.declaredAtSize}`,
        `records: ${r.records.length}${r.records.length > 0 ? ` (indexes ${r.records[0]?.index}..${r.records[r.records.length - 1]?.index})` : ''}`,
        ...r.anchors.map((a) => `time-stamped by ${a.tsa} at ${a.genTime}`),
        ...verdict.shortfalls.map((s) => `${s.code}: ${s.message}`),
      ]),
    );
  }
  return verdict.exitCode;
}
