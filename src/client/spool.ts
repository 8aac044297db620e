/**
 * A durable on-disk spool for producer events (docs/sdk.md §Spool): what a
 * producer appends is on disk before `append()` resolves, survives a crash or
 * a kill -9, and is removed only once the log has acknowledged it.
 *
 * Layout of the spool directory (one producer stream per directory; one
 * process at a time):
 *   seg-<first seq, 16 digits>.jsonl   append-only segments, one entry per line
 *   state.json                         { stream, epoch, ackedSeq }, replaced atomically
 *
 * Entry: one line of JSON `{"seq":n,"event":{…}}` ending in `\n`. A crash can
 * leave at most the last line torn (no final newline, or not JSON): `open`
 * drops it — `append` had not resolved for it, so nothing acknowledged is lost.
 *
 * fsync policy: every `append`/`appendMany` writes its lines with one write
 * and one fdatasync before it resolves (group them with appendMany for
 * throughput); a new segment's directory entry is synced on creation;
 * state.json is written to a temporary file, synced, renamed and the
 * directory synced, so it is always one whole version.
 *
 * Overflow: the spool holds at most `maxBytes` of unacknowledged entries.
 * Beyond that `append` throws SpoolFullError (code SPOOL_FULL) and counts it
 * in `stats.overflows`: the caller decides (block, shed, alert) — the spool
 * never drops an event silently.
 *
 * Numbering: the spool gives each event `producer: { stream, seq, epoch }`
 * with seq 1, 2, 3, … without gaps or reuse across restarts (the next seq is
 * one past the largest on disk or acknowledged), and the event id
 * `<stream>:<epoch>:<seq>` unless it has one: ingest treats event ids as
 * idempotency keys, so delivering an entry twice stores it once.
 */
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

export class SpoolFullError extends Error {
  readonly code = 'SPOOL_FULL';
  constructor(message: string) {
    super(message);
    this.name = 'SpoolFullError';
  }
}

export interface SpoolEntry {
  readonly seq: number;
  readonly event: Record<string, unknown>;
}

export interface SpoolOptions {
  dir: string;
  /** Producer stream id (printable ASCII, ≤ 100 characters). */
  stream: string;
  /** Bumped when a producer restarts its counter without its old spool (docs/events.md §Producer streams). */
  epoch?: number;
  /** Largest total size of unacknowledged entries, bytes (default 64 MiB). */
  maxBytes?: number;
  /** A new segment is started past this size (default 4 MiB). */
  segmentBytes?: number;
}

interface Segment {
  first: number;
  path: string;
  bytes: number;
  /** Largest seq in the segment (first - 1 when empty). */
  last: number;
}

const STREAM_RE = /^[\x21-\x7e]{1,100}$/;
const SEG_RE = /^seg-(\d{16})\.jsonl$/;

export class Spool {
  readonly #o: Required<SpoolOptions>;
  #segments: Segment[] = [];
  #entries: SpoolEntry[] = [];
  #nextSeq = 1;
  #acked = 0;
  #pendingBytes = 0;
  readonly stats = { appended: 0, acked: 0, overflows: 0, fsyncs: 0, tornLinesDropped: 0 };

  private constructor(o: Required<SpoolOptions>) {
    this.#o = o;
  }

  /** Opens (or creates) the spool in `dir`, recovering what a crash left. */
  static async open(options: SpoolOptions): Promise<Spool> {
    if (!STREAM_RE.test(options.stream))
      throw new RangeError('stream must be 1-100 printable ASCII characters');
    const s = new Spool({ epoch: 0, maxBytes: 64 * 1024 * 1024, segmentBytes: 4 * 1024 * 1024, ...options });
    await s.#recover();
    return s;
  }

  get stream(): string {
    return this.#o.stream;
  }
  get epoch(): number {
    return this.#o.epoch;
  }
  /** Entries not yet acknowledged, in seq order. */
  pending(): readonly SpoolEntry[] {
    return this.#entries;
  }
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  async append(event: Record<string, unknown>): Promise<SpoolEntry> {
    return (await this.appendMany([event]))[0] as SpoolEntry;
  }

  /**
   * Numbers the events, writes them with one write and one fdatasync, and
   * resolves once they are on disk. `prepare` (e.g. signing) runs on each
   * numbered event before it is written, so a signature covers seq and id.
   */
  async appendMany(
    events: readonly Record<string, unknown>[],
    prepare?: (e: Record<string, unknown>) => Promise<Record<string, unknown>>,
  ): Promise<SpoolEntry[]> {
    const entries: SpoolEntry[] = [];
    const lines: string[] = [];
    let seq = this.#nextSeq;
    for (const e of events) {
      let event: Record<string, unknown> = {
        ...e,
        id: e.id ?? `${this.#o.stream}:${this.#o.epoch}:${seq}`,
        producer: { stream: this.#o.stream, seq, ...(this.#o.epoch ? { epoch: this.#o.epoch } : {}) },
      };
      if (prepare) event = await prepare(event);
      entries.push({ seq, event });
      lines.push(`${JSON.stringify({ seq, event })}\n`);
      seq++;
    }
    const text = lines.join('');
    const bytes = Buffer.byteLength(text);
    if (this.#pendingBytes + bytes > this.#o.maxBytes) {
      this.stats.overflows++;
      throw new SpoolFullError(
        `spool ${this.#o.dir} holds ${this.#pendingBytes} bytes unacknowledged; limit ${this.#o.maxBytes}`,
      );
    }
    let seg = this.#segments[this.#segments.length - 1];
    if (!seg || seg.bytes >= this.#o.segmentBytes) {
      seg = {
        first: this.#nextSeq,
        path: join(this.#o.dir, segName(this.#nextSeq)),
        bytes: 0,
        last: this.#nextSeq - 1,
      };
      this.#segments.push(seg);
    }
    const fh = await open(seg.path, 'a');
    try {
      await fh.write(text);
      await fh.datasync();
      this.stats.fsyncs++;
    } catch (e) {
      // A failed write (ENOSPC, EIO) may leave part of a line: cut it, so the next append does
      // not follow a torn line that recovery would then have to treat as corruption.
      await fh.truncate(seg.bytes).catch(() => {});
      throw e;
    } finally {
      await fh.close();
    }
    if (seg.bytes === 0) await syncDir(this.#o.dir);
    seg.bytes += bytes;
    seg.last = seq - 1;
    this.#nextSeq = seq;
    this.#entries.push(...entries);
    this.#pendingBytes += bytes;
    this.stats.appended += entries.length;
    return entries;
  }

  /**
   * Records that every entry up to `seq` is in the log: state.json first
   * (atomically), then fully acknowledged segments are deleted. A crash in
   * between only leaves segments whose entries are re-sent and replayed.
   */
  async ack(seq: number): Promise<void> {
    if (seq <= this.#acked) return;
    await this.#writeState(seq);
    this.#acked = seq;
    const before = this.#entries.length;
    this.#entries = this.#entries.filter((e) => e.seq > seq);
    this.stats.acked += before - this.#entries.length;
    this.#pendingBytes = this.#entries.reduce((n, e) => n + entryBytes(e), 0);
    // Keep the last segment open for appends even when fully acknowledged.
    while (this.#segments.length > 1 && (this.#segments[0] as Segment).last <= seq) {
      await rm((this.#segments.shift() as Segment).path, { force: true });
    }
  }

  async #recover(): Promise<void> {
    const dir = this.#o.dir;
    await mkdir(dir, { recursive: true });
    const state = await readState(join(dir, 'state.json'));
    if (state && (state.stream !== this.#o.stream || state.epoch !== this.#o.epoch))
      throw new RangeError(
        `spool ${dir} belongs to stream ${state.stream} epoch ${state.epoch}, not ${this.#o.stream} epoch ${this.#o.epoch}`,
      );
    this.#acked = state?.ackedSeq ?? 0;
    const names = (await readdir(dir)).filter((n) => SEG_RE.test(n)).sort();
    let last = this.#acked;
    let prevLast: number | undefined;
    for (const name of names) {
      const path = join(dir, name);
      const first = Number((SEG_RE.exec(name) as RegExpExecArray)[1]);
      if (prevLast !== undefined && first !== prevLast + 1)
        throw new Error(`spool segment ${path} does not continue the one before (seq ${prevLast})`);
      const raw = await readFile(path, 'utf8');
      let good = 0;
      let segLast = first - 1;
      for (let start = 0; start < raw.length; ) {
        const nl = raw.indexOf('\n', start);
        if (nl < 0) break; // torn tail: never acknowledged to the caller
        let entry: SpoolEntry;
        try {
          entry = JSON.parse(raw.slice(start, nl)) as SpoolEntry;
        } catch (e) {
          // Only the last line can be torn by a crash; a bad line with entries after it is
          // damage an operator must look at, never something to skip silently.
          if (nl + 1 < raw.length)
            throw new Error(`spool segment ${path} has a damaged entry before its end`, { cause: e });
          break;
        }
        if (entry.seq !== segLast + 1)
          throw new Error(`spool segment ${path} is out of sequence at seq ${entry.seq}`);
        segLast = entry.seq;
        if (entry.seq > this.#acked) {
          this.#entries.push(entry);
          this.#pendingBytes += entryBytes(entry);
        }
        start = nl + 1;
        good = start;
      }
      if (good < Buffer.byteLength(raw)) {
        // Cut the torn tail so later appends start on a line boundary.
        this.stats.tornLinesDropped++;
        const fh = await open(path, 'r+');
        try {
          await fh.truncate(Buffer.byteLength(raw.slice(0, good)));
          await fh.datasync();
        } finally {
          await fh.close();
        }
      }
      const bytes = (await stat(path)).size;
      this.#segments.push({ first, path, bytes, last: segLast });
      last = Math.max(last, segLast);
      prevLast = segLast;
    }
    this.#nextSeq = last + 1;
  }

  async #writeState(ackedSeq: number): Promise<void> {
    const path = join(this.#o.dir, 'state.json');
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.write(JSON.stringify({ stream: this.#o.stream, epoch: this.#o.epoch, ackedSeq }));
      await fh.datasync();
      this.stats.fsyncs++;
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    await syncDir(this.#o.dir);
  }
}

function segName(first: number): string {
  return `seg-${String(first).padStart(16, '0')}.jsonl`;
}

function entryBytes(e: SpoolEntry): number {
  return Buffer.byteLength(JSON.stringify(e)) + 1;
}

async function readState(
  path: string,
): Promise<{ stream: string; epoch: number; ackedSeq: number } | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** fsync of a directory, so a created or renamed entry survives a power loss. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // Some platforms cannot fsync a directory; the data files themselves are synced.
  } finally {
    await fh.close();
  }
}
