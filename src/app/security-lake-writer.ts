/**
 * Security Lake writer (docs/ocsf.md §Security Lake): after each seal, the
 * newly sealed records of a log as OCSF 1.1.0 events (src/core/ocsf/
 * mapping.ts), written as Parquet into the custom sources of an Amazon
 * Security Lake, one source per OCSF class, partitioned by region, account
 * and eventDay (src/core/ocsf/security-lake.ts).
 *
 * Like the columnar indexer it reads sealed records only, from the archive's
 * entry bundles, so every OCSF row is a record the log has committed to, and
 * carries its proof handle. Every event is checked against the OCSF 1.1.0
 * schema before a file is written: an event that fails is a bug here, and
 * the run stops (INTEGRITY) rather than put a row Security Lake cannot read.
 *
 * File sizes: Security Lake asks for objects written between every 5 minutes
 * and once a day, not a stream of small ones. A run therefore writes only
 * when at least `minRecords` sealed records wait, or the oldest waiting one
 * was received `maxWaitMs` ago (defaults: 10,000 records, 15 minutes).
 *
 * Crash safety (the invariant is in src/core/ocsf/security-lake.ts): the
 * run's range goes into the progress object first (COMMIT POINT 1), then the
 * files, then the progress (COMMIT POINT 2). A run that finds a pending range
 * rewrites exactly it: same records, same keys, no duplicate in the lake.
 */
import { fromUtf8, toBase64, utf8 } from '../core/bytes.ts';
import { decodeEntryBundle } from '../core/merkle/entry-bundle.ts';
import { MerkleError } from '../core/merkle/errors.ts';
import { entryBundlePath, TILE_WIDTH } from '../core/merkle/tile-path.ts';
import { OCSF_CLASSES, type OcsfCatalog, type OcsfEvent, toOcsf } from '../core/ocsf/mapping.ts';
import {
  eventDay,
  parseSecurityLakeState,
  type SecurityLakeState,
  type SecurityLakeTarget,
  securityLakeKey,
  securityLakeSourceName,
  securityLakeStateKey,
} from '../core/ocsf/security-lake.ts';
import { ocsfProblems } from '../core/ocsf/validate.ts';
import { decodeRecord, leafHash, RecordError } from '../core/record.ts';
import { type ArchiveStore, archiveKey } from '../ports/archive-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { ColumnarIndexStore } from '../ports/columnar-index.ts';
import type { SealStateStore } from '../ports/seal-state.ts';
import { AppError } from './errors.ts';
import { writeOcsfParquet } from './ocsf-parquet.ts';
import { fromPortError, RETRY_AFTER_SECONDS } from './port-errors.ts';

export interface SecurityLakeWriterOptions {
  readonly archive: Pick<ArchiveStore, 'get'>;
  readonly sealState: Pick<SealStateStore, 'read'>;
  /** The Security Lake bucket (objects go under `ext/<source>/…`). */
  readonly lake: Pick<ColumnarIndexStore, 'put'>;
  /** Where the per-log progress lives (the index bucket, `securitylake/`): never the lake. */
  readonly state: Pick<ColumnarIndexStore, 'get' | 'put'>;
  readonly target: SecurityLakeTarget;
  /** Custom source names are `<sourcePrefix>-<class_uid>`, e.g. anchorlog-6003 (prefix ≤ 15 characters). */
  readonly sourcePrefix: string;
  readonly catalog?: OcsfCatalog;
  readonly vendorName?: string;
  readonly clock: Clock;
  /** Records per run at most. Default 100,000. */
  readonly maxRecordsPerRun?: number;
  /** Write once this many records wait… Default 10,000. */
  readonly minRecords?: number;
  /** …or the oldest waiting record is this old. Default 15 minutes. */
  readonly maxWaitMs?: number;
}

export interface SecurityLakeOutcome {
  logId: string;
  records: number;
  files: number;
  nextIndex: number;
  sealedSize: number;
  /** Records wait but too few and too recent to make a file yet. */
  waiting: boolean;
  more: boolean;
}

export type SecurityLakeManyResult = Array<
  ({ ok: true } & SecurityLakeOutcome) | { ok: false; logId: string; code: AppError['code']; message: string }
>;

/** The custom source of every class the mapper emits (the CDK registers these). */
export function securityLakeSources(
  prefix: string,
): { classUid: number; className: string; source: string }[] {
  return Object.entries(OCSF_CLASSES).map(([uid, c]) => ({
    classUid: Number(uid),
    className: c.name,
    source: securityLakeSourceName(prefix, Number(uid)),
  }));
}

function toAppError(logId: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const mapped = fromPortError(err, `Security Lake export of log ${logId}`);
  if (mapped) return mapped;
  if (err instanceof RecordError || err instanceof MerkleError)
    return new AppError('INTEGRITY', `Security Lake export of log ${logId}: ${err.message}`, { cause: err });
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new AppError('UNAVAILABLE', `Security Lake export of log ${logId} interrupted (${what})`, {
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    cause: err,
  });
}

export class SecurityLakeWriter {
  readonly #o: SecurityLakeWriterOptions;
  readonly #max: number;
  readonly #min: number;
  readonly #wait: number;

  constructor(opts: SecurityLakeWriterOptions) {
    this.#o = opts;
    this.#max = opts.maxRecordsPerRun ?? 100_000;
    this.#min = opts.minRecords ?? 10_000;
    this.#wait = opts.maxWaitMs ?? 15 * 60_000;
    if (!(this.#max >= 1)) throw new RangeError('maxRecordsPerRun must be at least 1');
    if (!(this.#min >= 1)) throw new RangeError('minRecords must be at least 1');
    // Validates the prefix once (every class's name must make a valid source name).
    securityLakeSources(opts.sourcePrefix);
  }

  /**
   * The log's progress; undefined when it has none. An unreadable progress
   * object is INTEGRITY, not a fresh start: starting again from 0 would put
   * a second copy of every record into the lake.
   */
  async state(logId: string): Promise<SecurityLakeState | undefined> {
    const bytes = await this.#o.state.get(securityLakeStateKey(logId));
    if (!bytes) return undefined;
    const s = parseSecurityLakeState(fromUtf8(bytes));
    if (!s)
      throw new AppError(
        'INTEGRITY',
        `Security Lake progress of log ${logId} (${securityLakeStateKey(logId)}) is unreadable; fix or remove it by hand`,
      );
    return s;
  }

  async run(logId: string): Promise<SecurityLakeOutcome> {
    try {
      return await this.#run(logId);
    } catch (err) {
      throw toAppError(logId, err);
    }
  }

  /** The scheduled job: each log until `deadlineMs`; failures are per log. */
  async runMany(logIds: readonly string[], deadlineMs: number): Promise<SecurityLakeManyResult> {
    const out: SecurityLakeManyResult = [];
    for (const logId of logIds) {
      if (this.#o.clock.now() >= deadlineMs) break;
      try {
        let r = await this.#run(logId);
        let records = r.records;
        let files = r.files;
        while (r.more && this.#o.clock.now() < deadlineMs) {
          r = await this.#run(logId);
          records += r.records;
          files += r.files;
        }
        out.push({ ok: true, ...r, records, files });
      } catch (err) {
        const e = toAppError(logId, err);
        out.push({ ok: false, logId, code: e.code, message: e.message });
      }
    }
    return out;
  }

  async #run(logId: string): Promise<SecurityLakeOutcome> {
    const [state, seal] = await Promise.all([this.state(logId), this.#o.sealState.read(logId)]);
    const next = state?.nextIndex ?? 0;
    const size = seal?.size ?? 0;
    const idle = { logId, records: 0, files: 0, nextIndex: next, sealedSize: size, more: false };
    if (next >= size && state?.pendingEnd === undefined) return { ...idle, waiting: false };
    let end = state?.pendingEnd;
    let records: { event: OcsfEvent; receivedAt: string }[];
    if (end === undefined) {
      end = Math.min(size, next + this.#max);
      records = await this.#readSealed(logId, size, next, end);
      const oldest = records[0]?.receivedAt;
      const old = oldest !== undefined && this.#o.clock.now() - Date.parse(oldest) >= this.#wait;
      if (records.length < this.#min && !old) return { ...idle, waiting: true };
      // COMMIT POINT 1: the range is fixed before any file of it exists.
      await this.#putState(logId, { v: 1, nextIndex: next, pendingEnd: end });
    } else {
      // A run crashed after COMMIT POINT 1: rewrite exactly its range.
      if (end > size)
        throw new AppError(
          'INTEGRITY',
          `Security Lake progress of log ${logId} is past its sealed size ${size}`,
        );
      records = await this.#readSealed(logId, size, next, end);
    }
    // One file per (class, eventDay): Security Lake wants one class per object.
    const groups = new Map<string, { source: string; day: string; events: OcsfEvent[] }>();
    for (const r of records) {
      const source = securityLakeSourceName(this.#o.sourcePrefix, r.event.class_uid as number);
      const day = eventDay(Date.parse(r.receivedAt));
      const k = `${source}/${day}`;
      const g = groups.get(k) ?? { source, day, events: [] };
      g.events.push(r.event);
      groups.set(k, g);
    }
    for (const g of groups.values())
      await this.#o.lake.put(
        securityLakeKey(g.source, this.#o.target, g.day, logId, next, end),
        await writeOcsfParquet(g.events),
      );
    // COMMIT POINT 2: records below `end` are in the lake.
    await this.#putState(logId, { v: 1, nextIndex: end });
    return {
      logId,
      records: records.length,
      files: groups.size,
      nextIndex: end,
      sealedSize: size,
      waiting: false,
      more: end < size,
    };
  }

  async #putState(logId: string, s: SecurityLakeState): Promise<void> {
    await this.#o.state.put(securityLakeStateKey(logId), utf8(JSON.stringify(s)));
  }

  /** Records [from, to) as OCSF events, each checked against the OCSF 1.1.0 schema. */
  async #readSealed(
    logId: string,
    size: number,
    from: number,
    to: number,
  ): Promise<{ event: OcsfEvent; receivedAt: string }[]> {
    const out: { event: OcsfEvent; receivedAt: string }[] = [];
    for (let b = Math.floor(from / TILE_WIDTH); b * TILE_WIDTH < to; b++) {
      const width = Math.min(TILE_WIDTH, size - b * TILE_WIDTH);
      const bytes = await this.#o.archive.get(archiveKey(logId, entryBundlePath(b, width)));
      if (!bytes)
        throw new AppError('INTEGRITY', `entry bundle ${b} (width ${width}) of log ${logId} is missing`);
      decodeEntryBundle(bytes, width).forEach((e, k) => {
        const index = b * TILE_WIDTH + k;
        if (index < from || index >= to) return;
        const record = decodeRecord(e);
        if (record.index !== index || record.logId !== logId)
          throw new AppError(
            'INTEGRITY',
            `archived record at ${index} of ${logId} names ${record.logId}/${record.index}`,
          );
        const event = toOcsf(
          { record, leafHash: toBase64(leafHash(e)) },
          {
            ...(this.#o.catalog ? { catalog: this.#o.catalog } : {}),
            ...(this.#o.vendorName !== undefined ? { vendorName: this.#o.vendorName } : {}),
            cloud: { region: this.#o.target.region, accountUid: this.#o.target.accountId },
          },
        );
        const problems = ocsfProblems(event);
        if (problems.length > 0)
          throw new AppError(
            'INTEGRITY',
            `record ${index} of ${logId} maps to an OCSF event that fails the 1.1.0 schema: ${problems[0]?.path} ${problems[0]?.message}`,
          );
        out.push({ event, receivedAt: record.receivedAt });
      });
    }
    return out;
  }
}
