import { readFile } from 'node:fs/promises';
import type { CliIo } from '../../src/cli/io.ts';

export interface Captured extends CliIo {
  readonly out: () => string;
  readonly err: () => string;
}

/** A CliIo that captures output; files come from `files` first, then the real filesystem. */
export function captureIo(files: Record<string, Uint8Array> = {}): Captured {
  let out = '';
  let err = '';
  return {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    readFile: async (p) => files[p] ?? new Uint8Array(await readFile(p)),
    out: () => out,
    err: () => err,
  };
}
