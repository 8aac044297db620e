// Hostile input never crashes the parser: random strings and bytes, and
// mutations of real notes, yield a result or a NoteError — nothing else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkpointFromNote,
  NoteError,
  type NoteVerifier,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  pemToSpki,
  verifyNote,
} from '../../../src/core/note/index.ts';
import { allRealNotes, inclusionIndex, inclusionSet, notesIndex } from './fixtures.ts';

const notes = allRealNotes();
const verifiers: NoteVerifier[] = [];
for (const k of [
  ...notesIndex().flatMap((e) => e.vkeys),
  ...inclusionIndex().flatMap((e) => inclusionSet(e.set).vkeys),
]) {
  try {
    const v = parseVerifierKey(k);
    if (!verifiers.some((x) => x.name === v.name && x.keyId.join() === v.keyId.join())) verifiers.push(v);
  } catch {
    // unsupported types (0x04, 0x05): not loaded
  }
}

/** Runs f; returns its result, or undefined if it threw a NoteError; rethrows anything else. */
function onlyNoteErrors<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (err) {
    if (err instanceof NoteError) return undefined;
    throw err;
  }
}

const INTERESTING = [
  '\n',
  '\n\n',
  '—',
  '— ',
  ' ',
  '+',
  '=',
  '/',
  'A',
  '0',
  '\r',
  '\u0000',
  '\t',
  '\u00a0',
  '\ud800',
  '🦀',
  'é',
];

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    s: fc.oneof(fc.constantFrom(...INTERESTING), fc.string({ maxLength: 4, unit: 'binary' })),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), s: fc.constantFrom(...INTERESTING) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function apply(text: string, muts: Mutation[]): string {
  let t = text;
  for (const m of muts) {
    const at = t.length === 0 ? 0 : m.at % (t.length + 1);
    if (m.kind === 'insert') t = t.slice(0, at) + m.s + t.slice(at);
    else if (m.kind === 'delete') t = t.slice(0, at) + t.slice(at + m.n);
    else t = t.slice(0, at) + m.s + t.slice(at + 1);
  }
  return t;
}

describe('fuzz', () => {
  it('every real note verifies under the loaded keys (sanity for the mutations below)', () => {
    const verified = notes.filter((n) => onlyNoteErrors(() => verifyNote(n, verifiers)) !== undefined);
    // All but the Sunlight 0x05-only note and the four NEG sets whose checkpoint signature fails.
    expect(verified.length).toBe(notes.length - 5);
  });

  it('random strings: parse and verify throw only NoteError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        onlyNoteErrors(() => parseNote(s));
        onlyNoteErrors(() => verifyNote(s, verifiers));
        onlyNoteErrors(() => parseCheckpoint(s));
        onlyNoteErrors(() => parseVerifierKey(s));
        onlyNoteErrors(() => pemToSpki(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('random note-shaped strings: only NoteError', () => {
    const line = fc
      .array(fc.constantFrom(...INTERESTING, 'k', 'AAAA', 'wNI9aj'), { maxLength: 12 })
      .map((a) => a.join(''));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
        const s = lines.join('\n');
        onlyNoteErrors(() => verifyNote(s, verifiers));
        onlyNoteErrors(() => checkpointFromNote(s, 'o', verifiers));
      }),
      { numRuns: 2000 },
    );
  });

  it('random bytes: only NoteError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        onlyNoteErrors(() => verifyNote(b, verifiers));
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated real notes: only NoteError, and whatever still verifies has the original text', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...notes),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (note, muts) => {
          const mutated = apply(note, muts);
          const r = onlyNoteErrors(() => verifyNote(mutated, verifiers));
          if (r) expect(r.text).toBe(onlyNoteErrors(() => parseNote(note))?.text);
          onlyNoteErrors(() => parseCheckpoint(mutated));
        },
      ),
      { numRuns: 1500 },
    );
  });
});
