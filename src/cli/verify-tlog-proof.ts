/**
 * `anchorlog verify FILE.tlog-proof` — a C2SP tlog-proof file
 * (docs/formats.md §tlog-proof files): one record, its inclusion proof and
 * the checkpoint with the witnesses' cosignatures, verified offline against
 * TRUST.json: `logKeys` (required: a tlog-proof carries no key of its own, so
 * there is nothing to fall back on and no exit 3), `origins`, `witnesses` and
 * `witnessQuorum` (default min(2, witnesses), as for bundles; no witnesses
 * pinned: cosignatures are listed as not checked and none is required).
 *
 * Exit 0 when the record is proved to be entry N of the log under a
 * checkpoint the pinned key signed and the quorum cosigned; 1 with the failed
 * check's code (src/core/tlog-proof/verify.ts lists the order and codes).
 */

import { parseVerifierKey } from '../core/note/vkey.ts';
import {
  MAX_TLOG_PROOF_BYTES,
  startsWithHeader,
  TLOG_PROOF_EXTENSION,
  verifyTlogProof,
} from '../core/tlog-proof/index.ts';
import { witnessPolicy } from '../core/witness/policy.ts';
import { UsageError } from './errors.ts';
import { type CliIo, readInputAtMost } from './io.ts';
import { printableJson, printableLines } from './printable.ts';
import type { TrustFile } from './trust-file.ts';
import { verdictOf } from './verdict.ts';

/**
 * The bytes of FILE when it is a tlog-proof — named `*.tlog-proof`, or
 * starting with the header line — else undefined (a bundle: the caller
 * streams it again). Only the first chunk of another file is read, and at
 * most MAX_TLOG_PROOF_BYTES + 1 of a tlog-proof (the parser rejects more).
 */
export async function tlogProofInput(io: CliIo, path: string): Promise<Uint8Array | undefined> {
  // Named *.tlog-proof: it is one, whatever it starts with (the parser names what is wrong).
  const named = path.endsWith(TLOG_PROOF_EXTENSION);
  const bytes = await readInputAtMost(
    io,
    'FILE',
    path,
    MAX_TLOG_PROOF_BYTES,
    (first) => named || startsWithHeader(first),
  );
  // An empty file is a tlog-proof only by name (else it goes on to the bundle path, which says why).
  return bytes !== undefined && (named || bytes.length > 0) ? bytes : undefined;
}

export function verifyTlogProofFile(
  io: CliIo,
  bytes: Uint8Array,
  trust: TrustFile,
  flags: { json: boolean; allowUntrusted: boolean; allowIncomplete: boolean },
): number {
  if (!trust.logKeys || trust.logKeys.length === 0)
    throw new UsageError('MISSING_OPTION', 'a tlog-proof carries no log key: give --trust with logKeys');
  const cosigners = trust.cosigners ?? [];
  const quorum = trust.witnessQuorum ?? Math.min(2, cosigners.length);
  let witnesses: ReturnType<typeof witnessPolicy>;
  try {
    witnesses = witnessPolicy(cosigners, quorum);
  } catch (e) {
    throw new UsageError('BAD_FILE', `--trust: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r = verifyTlogProof(
    bytes,
    {
      logKeys: trust.logKeys.map((k) => parseVerifierKey(k)),
      ...(trust.origins ? { origins: trust.origins } : {}),
      witnesses,
    },
    { now: Math.floor(Date.now() / 1000) },
  );
  // Nothing here can be short of a proof: the key is pinned (else exit 2) and there is no range.
  const verdict = verdictOf([], { untrusted: flags.allowUntrusted, incomplete: flags.allowIncomplete });
  const witnessRows = r.witnesses.map((w) => ({
    name: w.name,
    keyId: w.keyId,
    status: w.status,
    ...(w.timestamp !== undefined ? { timestamp: new Date(w.timestamp * 1000).toISOString() } : {}),
  }));
  if (flags.json) {
    io.stdout(
      printableJson({
        ok: true,
        verified: true,
        verdict,
        format: 'tlog-proof',
        origin: r.origin,
        logId: r.logId,
        index: r.index,
        size: r.size,
        rootHash: r.rootHash,
        leafHash: r.leafHash,
        proofLength: r.proofLength,
        signedBy: r.signedBy,
        quorum: r.quorum,
        cosigned: r.cosigned,
        witnesses: witnessRows,
        record: r.record,
      }),
    );
    return verdict.exitCode;
  }
  // Origin, names and the record come from the file: one escaped line each.
  io.stdout(
    printableLines([
      'Proof: OK',
      `log:        ${r.logId} (origin ${r.origin})`,
      `record:     index ${r.index}, leaf hash ${r.leafHash}`,
      `checkpoint: size ${r.size}, root ${r.rootHash}, signed by ${r.signedBy.join(', ')}`,
      `proof:      ${r.proofLength} hashes, inclusion verified`,
      witnesses.witnesses.length === 0
        ? 'witnesses:  none pinned (TRUST.json witnesses): cosignatures not checked'
        : `witnesses:  ${r.cosigned} of ${witnesses.witnesses.length} pinned cosigned (quorum ${r.quorum})`,
      ...witnessRows.map(
        (w) => `  - ${w.name}+${w.keyId}: ${w.status}${'timestamp' in w ? ` at ${w.timestamp}` : ''}`,
      ),
      `record:     ${JSON.stringify(r.record)}`,
    ]),
  );
  return verdict.exitCode;
}
