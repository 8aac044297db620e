/**
 * The sample request at full scale (npm run bench:classes -- sample
 * [events] [accessChanges]): 1,000 access changes in a log of 1,000,000
 * events over four months, answered as a class answer, against the records
 * of a full-range bundle of the same four months.
 *
 * Built in memory with the pure core, not through ingest, the sealer and the
 * archive (bench/classes.ts's default mode, which keeps every record and
 * object of four runs): records are encoded one by one (only the access
 * changes and the end witness are kept), the main tree is grown into tiles in
 * a Map with the sealer's own tilesForGrowth, the class log and its root are
 * the sealer's leaves, the checkpoint with the class line is signed with a
 * local key, and the answer is built by proveClassAnswer — inclusion proofs
 * from the tiles, as ClassAnswerService does — then verified by the offline
 * verifier's verifyClassAnswer before it is measured. The document carries
 * no TSA tokens (one ~2–4 KB token per TSA in a real export, as in the
 * default mode). The full-range figure is the range's record bytes alone
 * (one JSON line each), a lower bound on the range bundle.
 *
 * The log is the four months plus one event at the start of the fifth (the
 * end witness that closes the range: without a record after it, a range
 * reaching the checkpoint's end is not proved complete).
 */
import { loadavg } from 'node:os';
import { LocalNoteSigner } from '../src/adapters/memory/local-signer.ts';
import { toBase64 } from '../src/core/bytes.ts';
import { verifyClassAnswer } from '../src/core/classes/answer.ts';
import { formatClassAnswerDocument } from '../src/core/classes/answer-doc.ts';
import { type ClassCommitment, formatClassLine } from '../src/core/classes/commitment.ts';
import { type ClassLeaf, classLeafHash } from '../src/core/classes/leaf.ts';
import { proveClassAnswer } from '../src/core/classes/prove.ts';
import { inclusionProofFromOracle } from '../src/core/merkle/proof-nodes.ts';
import { rootOf } from '../src/core/merkle/root.ts';
import { tilesForGrowth } from '../src/core/merkle/tile-growth.ts';
import { tileNodeOracle } from '../src/core/merkle/tile-nodes.ts';
import { tilePath } from '../src/core/merkle/tile-path.ts';
import { formatCheckpoint } from '../src/core/note/checkpoint.ts';
import { signNote } from '../src/core/note/sign.ts';
import {
  encodeRecord,
  formatReceivedAt,
  type LogRecord,
  leafHash,
  ZERO_HASH_B64,
} from '../src/core/record.ts';
import { machine } from './machine.ts';

const DAY = 86_400_000;

export interface SampleResult {
  readonly events: number;
  readonly accessChanges: number;
  readonly from: string;
  readonly to: string;
  readonly classRecords: number;
  readonly classAnswerBytes: number;
  readonly rangeRecords: number;
  readonly rangeRecordBytes: number;
  readonly ratio: number;
  readonly buildSeconds: number;
}

export async function sampleRequest(events: number, accessChanges: number): Promise<SampleResult> {
  const started = process.hrtime.bigint();
  const logId = 'bench';
  const origin = `bench.anchorlog/${logId}`;
  const T0 = Date.UTC(2026, 2, 1);
  const SPAN = 4 * 30 * DAY;
  const every = Math.max(1, Math.floor(events / Math.max(1, accessChanges)));
  const isAccess = (i: number) => accessChanges > 0 && i % every === 7 % every && i / every < accessChanges;
  const from = formatReceivedAt(T0);
  const to = formatReceivedAt(T0 + SPAN);
  const size = events + 1;
  const leaves: Uint8Array[] = new Array(size);
  const kept = new Map<number, Uint8Array>();
  const classLeaves: ClassLeaf[] = [];
  let rangeRecords = 0;
  let rangeRecordBytes = 0;
  let prev = ZERO_HASH_B64;
  for (let i = 0; i < size; i++) {
    // Events spread evenly over the four months; index `events` opens the fifth.
    const at = formatReceivedAt(i < events ? T0 + Math.floor((i * SPAN) / events) : T0 + SPAN);
    const access = i < events && isAccess(i);
    const k = i % 100;
    const rec: LogRecord = {
      v: 1,
      logId,
      index: i,
      receivedAt: at,
      submitter: 'svc-bench',
      prev,
      event: {
        occurredAt: at,
        actor: { type: access || k < 4 ? 'human' : 'agent', id: `actor-${i % 13}` },
        action: access
          ? 'access.grant'
          : k < 2
            ? 'config.update'
            : k < 3
              ? 'admin.user.create'
              : k < 4
                ? 'data.export'
                : k < 60
                  ? 'tool.call'
                  : 'agent.task.submit',
        target: { type: 'resource', id: `r-${i}` },
        outcome: 'success',
      },
    };
    const bytes = encodeRecord(rec);
    const h = leafHash(bytes);
    leaves[i] = h;
    prev = toBase64(h);
    if (at < to) {
      rangeRecords++;
      rangeRecordBytes += bytes.length + 1;
    }
    if (access || i === events) kept.set(i, bytes);
    if (access) classLeaves.push({ index: i, leafHash: h });
  }

  // The main tree as tiles, by the sealer's own code.
  const tiles = new Map<string, Uint8Array>();
  const readTile = (level: number, index: number, width: number) => {
    const t = tiles.get(tilePath(level, index, width));
    if (t === undefined) throw new Error(`tile ${tilePath(level, index, width)} not built`);
    return t;
  };
  const growth = await tilesForGrowth(0, size, leaves, readTile);
  for (const t of growth.tiles) tiles.set(t.path, t.bytes);

  const commitment: ClassCommitment = {
    def: { name: 'access', version: 1, action: 'access.*' },
    fromSize: 0,
    size: classLeaves.length,
    rootHash: rootOf(classLeaves.map(classLeafHash)),
  };
  const signer = LocalNoteSigner.generate(origin);
  const checkpoint = await signNote(
    formatCheckpoint({ origin, size, rootHash: growth.root, extensions: [formatClassLine(commitment)] }),
    [signer],
  );
  const oracle = tileNodeOracle(size, readTile);
  const answer = await proveClassAnswer({
    commitment,
    treeSize: size,
    treeRoot: growth.root,
    leaves: classLeaves,
    fromTime: from,
    toTime: to,
    read: async (index) => {
      const record = kept.get(index);
      if (record === undefined) throw new Error(`record ${index} was not kept`);
      return { record, inclusion: await inclusionProofFromOracle(index, size, oracle) };
    },
  });
  // The offline verifier's check, before anything is measured.
  const verified = verifyClassAnswer(answer);
  if (!verified.complete || verified.records.length !== classLeaves.length)
    throw new Error(`the sample answer does not verify as complete (${JSON.stringify(verified.start)})`);
  const { commitment: _c, treeSize: _s, treeRoot: _r, ...rest } = answer;
  const doc = formatClassAnswerDocument({
    logId,
    className: 'access',
    checkpoint,
    anchors: [],
    answer: rest,
  });
  return {
    events,
    accessChanges: classLeaves.length,
    from,
    to,
    classRecords: verified.records.length,
    classAnswerBytes: doc.length,
    rangeRecords,
    rangeRecordBytes,
    ratio: Math.round((rangeRecordBytes / doc.length) * 10) / 10,
    buildSeconds: Math.round(Number(process.hrtime.bigint() - started) / 1e8) / 10,
  };
}

export function sampleReport(r: SampleResult) {
  return {
    date: new Date().toISOString(),
    machine: { ...machine(), loadAverage1m: Math.round((loadavg()[0] ?? 0) * 10) / 10 },
    mode: 'sample (pure core, in memory)',
    ...r,
  };
}
