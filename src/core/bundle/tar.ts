/**
 * A minimal POSIX ustar archive writer and streaming reader (POSIX.1-1988
 * "ustar Interchange Format", IEEE Std 1003.1 pax: ustar header block).
 *
 * Why our own: the bundle must be written as a stream from a Lambda and read
 * as a stream in a browser, with no dependency beyond the core. We need only
 * regular files with short, fixed names, so this is ~200 lines and GNU/BSD
 * `tar -xf` reads what it writes.
 *
 * The reader parses attacker-controlled input. It accepts only what the writer
 * produces: regular files ('0'), `ustar\0` + `00` magic, a correct header
 * checksum, names in the 100-byte name field only (no prefix, no links, no pax
 * or GNU extension headers), octal sizes within a caller-given bound, two
 * zero blocks at the end and nothing but zeros after them. Paths are checked
 * by the caller against the bundle's fixed layout (no `..`, no absolute paths).
 */
import { utf8 } from '../bytes.ts';
import { BundleError } from './errors.ts';

export const BLOCK = 512;
const NAME_LEN = 100;
const MAX_OCTAL_SIZE = 0o77777777777; // 11 octal digits: < 8 GiB

function writeString(h: Uint8Array, offset: number, len: number, s: string): void {
  const b = utf8(s);
  if (b.length > len) throw new RangeError(`tar field too long: ${s}`);
  h.set(b, offset);
}

function writeOctal(h: Uint8Array, offset: number, len: number, n: number): void {
  // len-1 octal digits, zero padded, then NUL.
  writeString(h, offset, len, `${n.toString(8).padStart(len - 1, '0')}\0`);
}

/** The 512-byte ustar header of a regular file. `mtime` in seconds since the epoch. */
export function tarHeader(path: string, size: number, mtime: number): Uint8Array {
  if (utf8(path).length > NAME_LEN) throw new RangeError(`tar member name too long: ${path}`);
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_OCTAL_SIZE)
    throw new RangeError(`tar member too large: ${size}`);
  const h = new Uint8Array(BLOCK);
  writeString(h, 0, NAME_LEN, path);
  writeOctal(h, 100, 8, 0o644); // mode
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, Math.max(0, Math.floor(mtime)));
  h.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  h[156] = 0x30; // typeflag '0': regular file
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** Zero bytes that pad a member of `size` bytes to a block boundary. */
export function tarPadding(size: number): Uint8Array {
  const rem = size % BLOCK;
  return rem === 0 ? new Uint8Array(0) : new Uint8Array(BLOCK - rem);
}

/** End-of-archive marker: two zero blocks. */
export function tarEnd(): Uint8Array {
  return new Uint8Array(2 * BLOCK);
}

export interface TarMember {
  readonly path: string;
  readonly data: Uint8Array;
}

export type MemberLimit = (path: string) => number;

const plain = (size: number): Uint8Array => new Uint8Array(size);

/** Reads exactly-n-byte pieces from an async stream of arbitrary chunks. */
class ByteQueue {
  readonly #it: AsyncIterator<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #off = 0;
  #done = false;
  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }
  /** Exactly n bytes, or fewer only at end of input. */
  async read(n: number, alloc: (size: number) => Uint8Array = plain): Promise<Uint8Array> {
    const out = alloc(n);
    let o = 0;
    while (o < n) {
      if (this.#off >= this.#buf.length) {
        if (this.#done) break;
        const r = await this.#it.next();
        if (r.done) {
          this.#done = true;
          break;
        }
        if (!(r.value instanceof Uint8Array))
          throw new BundleError('ARCHIVE_INVALID', 'input chunk is not bytes');
        this.#buf = r.value;
        this.#off = 0;
        continue;
      }
      const take = Math.min(n - o, this.#buf.length - this.#off);
      out.set(this.#buf.subarray(this.#off, this.#off + take), o);
      o += take;
      this.#off += take;
    }
    return o === n ? out : out.subarray(0, o);
  }
}

function isZero(b: Uint8Array): boolean {
  // Four bytes at a time where aligned: the trailing zeros after the end marker are read to the end.
  let i = 0;
  const head = (4 - (b.byteOffset % 4)) % 4;
  for (; i < head && i < b.length; i++) if (b[i] !== 0) return false;
  const words = Math.floor((b.length - i) / 4);
  if (words > 0) {
    const w = new Uint32Array(b.buffer, b.byteOffset + i, words);
    for (let k = 0; k < words; k++) if (w[k] !== 0) return false;
    i += words * 4;
  }
  for (; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

const asciiDecoder = new TextDecoder();

function field(h: Uint8Array, offset: number, len: number): string {
  let end = offset;
  while (end < offset + len && h[end] !== 0) end++;
  for (let i = offset; i < end; i++) {
    const c = h[i] as number;
    // Only printable ASCII: member names in the bundle layout are ASCII.
    if (c < 0x20 || c > 0x7e)
      throw new BundleError('ARCHIVE_INVALID', 'non-ASCII byte in a tar header field');
  }
  // Decoded at once, so the string is flat (not a rope of one node per character): the verifier
  // keeps every member's path (docs/bundle.md §Memory).
  return asciiDecoder.decode(h.subarray(offset, end));
}

function octal(h: Uint8Array, offset: number, len: number, what: string): number {
  const s = field(h, offset, len).trim();
  if (!/^[0-7]{1,11}$/.test(s)) throw new BundleError('ARCHIVE_INVALID', `tar ${what} is not octal`);
  return Number.parseInt(s, 8);
}

function parseHeader(h: Uint8Array, limit: MemberLimit): { path: string; size: number } {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
  // Exactly `dddddd\0 ` as written, so no byte of the header escapes the checksum.
  if (h[154] !== 0 || h[155] !== 0x20 || octal(h, 148, 6, 'checksum') !== sum)
    throw new BundleError('ARCHIVE_INVALID', 'tar header checksum mismatch');
  if (field(h, 257, 6) !== 'ustar' || h[262] !== 0 || h[263] !== 0x30 || h[264] !== 0x30)
    throw new BundleError('ARCHIVE_INVALID', 'not a POSIX ustar header');
  const type = h[156];
  if (type !== 0x30 && type !== 0)
    throw new BundleError('ARCHIVE_INVALID', 'tar member is not a regular file');
  if (field(h, 345, 155) !== '')
    throw new BundleError('ARCHIVE_INVALID', 'tar name prefix is not used by bundles');
  const path = field(h, 0, NAME_LEN);
  if (path.length === 0) throw new BundleError('ARCHIVE_INVALID', 'empty tar member name');
  const size = octal(h, 124, 12, 'size');
  const max = limit(path);
  if (size > max)
    throw new BundleError('ARCHIVE_INVALID', `member ${path} is ${size} bytes; limit ${max}`, {
      member: path,
    });
  return { path, size };
}

/**
 * Members of a ustar archive, in order, each read whole (so `limit(path)`
 * bounds memory: it is called before the member's data is read) into a
 * buffer from `alloc` (e.g. shared memory a worker thread can read without a
 * copy). Throws
 * BundleError('ARCHIVE_INVALID') on anything the writer would not produce.
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array>,
  limit: MemberLimit,
  alloc: (size: number) => Uint8Array = plain,
): AsyncGenerator<TarMember> {
  const q = new ByteQueue(source);
  for (;;) {
    const h = await q.read(BLOCK);
    if (h.length < BLOCK) throw new BundleError('ARCHIVE_INVALID', 'archive is truncated (no end marker)');
    if (isZero(h)) {
      const second = await q.read(BLOCK);
      if (second.length < BLOCK || !isZero(second))
        throw new BundleError('ARCHIVE_INVALID', 'archive end marker is not two zero blocks');
      // Tools pad archives to a record size (10240 bytes for GNU tar): allow zeros only.
      for (;;) {
        const rest = await q.read(64 * 1024);
        if (!isZero(rest)) throw new BundleError('ARCHIVE_INVALID', 'data after the end of the archive');
        if (rest.length === 0) return;
      }
    }
    const { path, size } = parseHeader(h, limit);
    const data = await q.read(size, alloc);
    if (data.length < size)
      throw new BundleError('ARCHIVE_INVALID', `member ${path} is truncated`, { member: path });
    const pad = tarPadding(size).length;
    if (pad > 0) {
      const p = await q.read(pad);
      if (p.length < pad) throw new BundleError('ARCHIVE_INVALID', 'archive is truncated', { member: path });
      if (!isZero(p))
        throw new BundleError('ARCHIVE_INVALID', `padding after ${path} is not zero`, { member: path });
    }
    yield { path, data };
  }
}
