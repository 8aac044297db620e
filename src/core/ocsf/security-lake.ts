/**
 * Amazon Security Lake custom-source layout (docs/ocsf.md §Security Lake),
 * pure: where an OCSF Parquet file of a log lives, and the writer's progress.
 *
 * Security Lake's requirements for a custom source (user guide,
 * custom-sources.html): OCSF 1.1 events, Apache Parquet objects, one OCSF
 * event class per object (we register one custom source per class), under
 * `ext/<source>/region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/`.
 *
 * Keys: `ext/<source>/region=<r>/accountId=<a>/eventDay=<yyyymmdd>/<log>-<first>-<end>.parquet`,
 * [first, end) the half-open leaf range of the run that wrote it (16 digits
 * each). The file holds exactly the run's records of that class whose
 * receivedAt falls on eventDay, sorted by time.
 *
 * INVARIANT (what keeps Security Lake free of duplicates; a lake has no
 * "current files" rule the way our own index does, src/core/columnar.ts): a
 * run's range [first, end) is written to the progress object BEFORE any file
 * of it, and a run that finds a pending range rewrites exactly that range, so
 * the same records always land under the same keys: a crash between files
 * and the final progress write costs a rewrite of identical objects, never a
 * second copy.
 */
import { isValidLogId } from '../names.ts';

export const SECURITY_LAKE_STATE_PREFIX = 'securitylake/';
const RANGE_DIGITS = 16;

export interface SecurityLakeTarget {
  /** The AWS Region partition (the region the Security Lake bucket is in). */
  readonly region: string;
  /** The account id partition (the account, or external id, the source was registered with). */
  readonly accountId: string;
}

/**
 * The custom source name of an OCSF class: `<prefix>-<class_uid>`, e.g.
 * `anchorlog-6003`. Security Lake names the source's provider role
 * `AmazonSecurityLake-Provider-<source>-<region>` and asks for source names of
 * at most 20 characters so that name stays under IAM's 64 (API reference,
 * CreateCustomLogSource), hence the uid rather than the class name, and a
 * prefix of at most 15 characters.
 */
export function securityLakeSourceName(prefix: string, classUid: number): string {
  const name = `${prefix}-${classUid}`;
  if (!/^[\w\-:.]{1,20}$/.test(name))
    throw new RangeError(`custom source name ${JSON.stringify(name)} is not 1-20 of [A-Za-z0-9_-:.]`);
  return name;
}

/** `YYYYMMDD` (UTC) of an epoch-millisecond instant: the eventDay partition. */
export function eventDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10).replaceAll('-', '');
}

export function securityLakePartition(source: string, t: SecurityLakeTarget, day: string): string {
  return `ext/${source}/region=${t.region}/accountId=${t.accountId}/eventDay=${day}/`;
}

const pad = (n: number) => String(n).padStart(RANGE_DIGITS, '0');

export function securityLakeKey(
  source: string,
  t: SecurityLakeTarget,
  day: string,
  logId: string,
  first: number,
  end: number,
): string {
  if (!isValidLogId(logId)) throw new RangeError('invalid log id');
  if (!(Number.isSafeInteger(first) && Number.isSafeInteger(end) && 0 <= first && first < end))
    throw new RangeError('a file range is [first, end) with 0 ≤ first < end');
  return `${securityLakePartition(source, t, day)}${logId}-${pad(first)}-${pad(end)}.parquet`;
}

/** Progress of one log (in the index bucket, not the lake): records [0, nextIndex) are in the lake. */
export interface SecurityLakeState {
  v: 1;
  nextIndex: number;
  /** A run's range written before its files (see the invariant); absent between runs. */
  pendingEnd?: number;
}

export const securityLakeStateKey = (logId: string): string =>
  `${SECURITY_LAKE_STATE_PREFIX}log=${logId}/_state.json`;

export function parseSecurityLakeState(text: string): SecurityLakeState | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (o.v !== 1 || !Number.isSafeInteger(o.nextIndex) || (o.nextIndex as number) < 0) return undefined;
  if (
    o.pendingEnd !== undefined &&
    !(Number.isSafeInteger(o.pendingEnd) && (o.pendingEnd as number) > (o.nextIndex as number))
  )
    return undefined;
  return {
    v: 1,
    nextIndex: o.nextIndex as number,
    ...(o.pendingEnd !== undefined ? { pendingEnd: o.pendingEnd as number } : {}),
  };
}
