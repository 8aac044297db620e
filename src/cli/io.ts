/**
 * What a CLI command may touch. Commands take this instead of `process` so
 * tests run them in-process with captured output and an in-memory file map.
 */
import { open, readFile } from 'node:fs/promises';
import { UsageError } from './errors.ts';

export interface CliIo {
  /** Write text to standard output (no newline added). */
  stdout(text: string): void;
  /** Write text to standard error (no newline added). */
  stderr(text: string): void;
  /** Read a whole file; rejects if it cannot be read. */
  readFile(path: string): Promise<Uint8Array>;
  /**
   * Open a file to read as a stream of chunks (rejects if it cannot be
   * opened). Optional: without it, commands that stream fall back to readFile
   * (test doubles with in-memory files).
   */
  readStream?(path: string): Promise<FileStream>;
}

/** A file being read in chunks; `close` releases it whether or not it was read to the end. */
export interface FileStream extends AsyncIterable<Uint8Array> {
  close(): Promise<void>;
}

/** The environment the entry point (main.ts) reads and passes in: commands never read process.env. */
export interface CliEnv {
  readonly ANCHORLOG_API_URL?: string | undefined;
  readonly ANCHORLOG_API_KEY?: string | undefined;
}

/** A command: argv after its own name → exit code (see the EXIT_ constants). */
export type CommandRunner = (argv: string[], io: CliIo) => Promise<number>;

// The exit codes live in exit-codes.ts (no imports: the browser console shares them).
export { EXIT_INCOMPLETE, EXIT_INVALID, EXIT_OK, EXIT_UNTRUSTED, EXIT_USAGE } from './exit-codes.ts';

/**
 * A file named on the command line, as a stream of chunks (io.readStream, else
 * the whole file as one chunk); UNREADABLE_FILE (exit 2) if it cannot be opened.
 */
export async function streamInput(io: CliIo, flag: string, path: string): Promise<FileStream> {
  if (!io.readStream) {
    const bytes = await readInput(io, flag, path);
    return {
      async *[Symbol.asyncIterator]() {
        yield bytes;
      },
      close: async () => {},
    };
  }
  try {
    return await io.readStream(path);
  } catch (e) {
    throw new UsageError(
      'UNREADABLE_FILE',
      `${flag}: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/**
 * A file that is only valid when small (a class answer, a tlog-proof): read
 * from its stream and stopped after `maxBytes` + 1 bytes, so a hostile
 * multi-gigabyte file costs at most one read beyond the limit (the caller's
 * parser then refuses it as too large), never its size in memory — the same
 * bound `verify` keeps for bundles (docs/bundle.md §Memory). `accept` sees the
 * first chunk; returning false stops the read with undefined (not this kind of file).
 */
export async function readInputAtMost(
  io: CliIo,
  flag: string,
  path: string,
  maxBytes: number,
  accept: (first: Uint8Array) => boolean = () => true,
): Promise<Uint8Array | undefined> {
  const stream = await streamInput(io, flag, path);
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of stream) {
      if (chunks.length === 0 && !accept(chunk)) return undefined;
      chunks.push(chunk);
      total += chunk.length;
      if (total > maxBytes) break;
    }
    const out = new Uint8Array(Math.min(total, maxBytes + 1));
    let o = 0;
    for (const c of chunks) {
      const part = c.subarray(0, out.length - o);
      out.set(part, o);
      o += part.length;
      if (o === out.length) break;
    }
    return out;
  } finally {
    await stream.close();
  }
}

/** Read size of streamed files: memory held per read, whatever the file's size. */
export const STREAM_CHUNK_BYTES = 1024 * 1024;

/** An open file as chunks of at most STREAM_CHUNK_BYTES, each a fresh buffer (consumers may keep them). */
async function fileStream(path: string): Promise<FileStream> {
  const handle = await open(path, 'r');
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const buf = new Uint8Array(STREAM_CHUNK_BYTES);
        const { bytesRead } = await handle.read(buf, 0, buf.length, null);
        if (bytesRead === 0) return;
        yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
      }
    },
    close,
  };
}

/** The bytes of a file named on the command line by `flag`; UNREADABLE_FILE (exit 2) with the reason if not. */
export async function readInput(io: CliIo, flag: string, path: string): Promise<Uint8Array> {
  try {
    return await io.readFile(path);
  } catch (e) {
    throw new UsageError(
      'UNREADABLE_FILE',
      `${flag}: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

export function nodeIo(): CliIo {
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    readFile: async (p) => new Uint8Array(await readFile(p)),
    readStream: fileStream,
  };
}
