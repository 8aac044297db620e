/**
 * Files `anchorlog verify` accepts only when small — a class answer (.json)
 * and a C2SP tlog-proof — are read from a stream and stopped just past their
 * format's limit (readInputAtMost, src/cli/io.ts): a hostile multi-gigabyte
 * file is refused as too large after at most the limit plus one read, never
 * loaded whole. The files here are sparse (no disk used), and the IO counts
 * every byte it hands out, so the test fails if the command reads the file
 * whole or bypasses the stream.
 */
import { mkdtemp, open as openFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { readInputAtMost, STREAM_CHUNK_BYTES } from '../../src/cli/io.ts';
import { runVerify } from '../../src/cli/verify.ts';
import { MAX_CLASS_ANSWER_BYTES } from '../../src/core/classes/answer-doc.ts';
import { vkeyFromSpki } from '../../src/core/note/vkey.ts';
import { MAX_TLOG_PROOF_BYTES, TLOG_PROOF_HEADER } from '../../src/core/tlog-proof/index.ts';
import { captureIo } from './support.ts';

const GiB = 1024 ** 3;
let dir = '';
let handed = 0;

/** captureIo plus a counting stream over the real file. */
function io() {
  const base = captureIo();
  return {
    ...base,
    // Trust files are small and read whole; reading anything else whole is what this test forbids.
    readFile: async (path: string): Promise<Uint8Array> => {
      if (/trust/i.test(path)) return base.readFile(path);
      handed = Number.POSITIVE_INFINITY;
      throw new Error(`${path} read whole`);
    },
    readStream: async (path: string) => {
      const h = await openFile(path, 'r');
      return {
        async *[Symbol.asyncIterator]() {
          for (;;) {
            const buf = new Uint8Array(STREAM_CHUNK_BYTES);
            const { bytesRead } = await h.read(buf, 0, buf.length, null);
            if (bytesRead === 0) return;
            handed += bytesRead;
            yield buf.subarray(0, bytesRead);
          }
        },
        close: () => h.close(),
      };
    },
  };
}

async function sparse(name: string, size: number, head: string): Promise<string> {
  const path = join(dir, name);
  const h = await openFile(path, 'w');
  await h.write(head);
  await h.truncate(size);
  await h.close();
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'anchorlog-small-files-'));
  const signer = LocalNoteSigner.generate('example.com/log');
  const h = await openFile(join(dir, 'TRUST.json'), 'w');
  await h.write(JSON.stringify({ logKeys: [vkeyFromSpki('example.com/log', signer.publicKeySpki)] }));
  await h.close();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('verify reads small-only files in bounded memory', () => {
  it('refuses a 4 GiB class answer after reading just past its limit', async () => {
    const file = await sparse('huge.json', 4 * GiB, '{"format":');
    const trust = join(dir, 'TRUST.json');
    handed = 0;
    const c = io();
    const code = await runVerify([file, '--trust', trust], c);
    expect(code).toBe(1);
    expect(c.out() + c.err()).toMatch(/larger than the format allows/);
    expect(handed).toBeLessThanOrEqual(MAX_CLASS_ANSWER_BYTES + STREAM_CHUNK_BYTES);
  });

  it('refuses a 4 GiB tlog-proof (by name and by header) after reading just past its limit', async () => {
    for (const [name, head] of [
      ['huge.tlog-proof', 'x'],
      ['huge.bin', `${TLOG_PROOF_HEADER}\n`],
    ] as const) {
      const file = await sparse(name, 4 * GiB, head);
      handed = 0;
      const c = io();
      const code = await runVerify([file, '--trust', join(dir, 'TRUST.json')], c);
      expect(code).toBe(1);
      expect(c.out() + c.err()).toMatch(/TLOG_PROOF_TOO_LARGE/);
      expect(handed).toBeLessThanOrEqual(MAX_TLOG_PROOF_BYTES + STREAM_CHUNK_BYTES);
    }
  });

  it('readInputAtMost returns the whole of a small file, and limit + 1 bytes of a large one', async () => {
    const small = await sparse('small.bin', 10, 'abc');
    expect((await readInputAtMost(io(), 'FILE', small, 100))?.length).toBe(10);
    const large = await sparse('large.bin', 5 * STREAM_CHUNK_BYTES, 'abc');
    const got = await readInputAtMost(io(), 'FILE', large, STREAM_CHUNK_BYTES + 7);
    expect(got?.length).toBe(STREAM_CHUNK_BYTES + 8);
    expect(await readInputAtMost(io(), 'FILE', large, 100, () => false)).toBeUndefined();
  });
});
