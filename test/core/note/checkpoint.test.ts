import { describe, expect, it } from 'vitest';
import { toBase64 } from '../../../src/core/bytes.ts';
import { formatCheckpoint, NoteError, parseCheckpoint } from '../../../src/core/note/index.ts';

const ROOT = toBase64(new Uint8Array(32).fill(7));

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(NoteError);
    return (err as NoteError).code;
  }
  return 'NO_ERROR';
}

describe('checkpoint body (c2sp.org/tlog-checkpoint)', () => {
  it('round-trips our format (no extension lines)', () => {
    const text = formatCheckpoint({
      origin: 'audit.example/prod',
      size: 42,
      rootHash: new Uint8Array(32).fill(7),
    });
    expect(text).toBe(`audit.example/prod\n42\n${ROOT}\n`);
    const cp = parseCheckpoint(text);
    expect(cp).toMatchObject({ origin: 'audit.example/prod', size: 42, extensions: [] });
    expect(cp.rootHash).toEqual(new Uint8Array(32).fill(7));
  });

  it('accepts size 0, large sizes and other logs’ extension lines', () => {
    expect(parseCheckpoint(`o\n0\n${ROOT}\n`).size).toBe(0);
    expect(parseCheckpoint(`o\n9007199254740991\n${ROOT}\n`).size).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseCheckpoint(`o\n1\n${ROOT}\nTimestamp: 1\nx\n`).extensions).toEqual(['Timestamp: 1', 'x']);
    // Origins are opaque: spaces are allowed (Rekor v1, Go sumdb).
    expect(parseCheckpoint(`go.sum database tree\n1\n${ROOT}\n`).origin).toBe('go.sum database tree');
  });

  it.each([
    ['leading zero', `o\n01\n${ROOT}\n`],
    ['double zero', `o\n00\n${ROOT}\n`],
    ['sign', `o\n+1\n${ROOT}\n`],
    ['negative', `o\n-1\n${ROOT}\n`],
    ['space in size', `o\n 1\n${ROOT}\n`],
    ['exponent', `o\n1e3\n${ROOT}\n`],
    ['hex size', `o\n0x10\n${ROOT}\n`],
    ['non-ASCII digits', `o\n١\n${ROOT}\n`],
    ['size beyond 2^53-1', `o\n9007199254740992\n${ROOT}\n`],
    ['size beyond uint64', `o\n99999999999999999999999\n${ROOT}\n`],
    ['empty size', `o\n\n${ROOT}\n`],
    ['empty origin', `\n1\n${ROOT}\n`],
    ['root of 31 bytes', `o\n1\n${toBase64(new Uint8Array(31))}\n`],
    ['root of 33 bytes', `o\n1\n${toBase64(new Uint8Array(33))}\n`],
    ['unpadded root', `o\n1\n${ROOT.slice(0, -1)}\n`],
    ['empty extension line', `o\n1\n${ROOT}\n\n`],
    ['only two lines', 'o\n1\n'],
    ['no final newline', `o\n1\n${ROOT}`],
    ['control character', `o\x7f\x01\n1\n${ROOT}\n`],
  ])('rejects %s', (_what, text) => {
    expect(code(() => parseCheckpoint(text))).toBe('MALFORMED_CHECKPOINT');
  });

  it('refuses to format what it would refuse to parse', () => {
    const root = new Uint8Array(32);
    expect(code(() => formatCheckpoint({ origin: '', size: 1, rootHash: root }))).toBe(
      'MALFORMED_CHECKPOINT',
    );
    expect(code(() => formatCheckpoint({ origin: 'a\nb', size: 1, rootHash: root }))).toBe(
      'MALFORMED_CHECKPOINT',
    );
    expect(code(() => formatCheckpoint({ origin: 'a\rb', size: 1, rootHash: root }))).toBe(
      'MALFORMED_CHECKPOINT',
    );
    expect(code(() => formatCheckpoint({ origin: 'o', size: -1, rootHash: root }))).toBe(
      'MALFORMED_CHECKPOINT',
    );
    expect(code(() => formatCheckpoint({ origin: 'o', size: 1.5, rootHash: root }))).toBe(
      'MALFORMED_CHECKPOINT',
    );
    expect(code(() => formatCheckpoint({ origin: 'o', size: 2 ** 53, rootHash: root }))).toBe(
      'MALFORMED_CHECKPOINT',
    );
    expect(code(() => formatCheckpoint({ origin: 'o', size: 1, rootHash: new Uint8Array(31) }))).toBe(
      'MALFORMED_CHECKPOINT',
    );
  });
});
