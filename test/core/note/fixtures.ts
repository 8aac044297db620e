// Loads the shared signed-note and real-log vectors (see
// /work/shared/vectors/real-logs/SOURCE.md for where each one comes from).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VECTORS_DIR } from '../../support/vectors.ts';

export const VECTORS = VECTORS_DIR;
export const REAL_LOGS = join(VECTORS, 'real-logs');

export const readText = (...p: string[]): string => readFileSync(join(...p), 'utf8');
export const readJson = <T>(...p: string[]): T => JSON.parse(readText(...p)) as T;

/** vkeys.txt: one vkey per line, `#` comments and blank lines ignored. */
export function readVkeys(...p: string[]): string[] {
  return readText(...p)
    .split('\n')
    .map((l) => (l.split('#')[0] ?? '').trim())
    .filter((l) => l.length > 0);
}

export interface NotesIndexEntry {
  file: string;
  vkeys: string[];
  log: string;
  expected: string;
}
export const notesIndex = (): NotesIndexEntry[] => readJson(REAL_LOGS, 'notes', 'INDEX.json');

export interface InclusionIndexEntry {
  set: string;
  expected: 'VALID' | 'INVALID';
  notes: string;
}
export const inclusionIndex = (): InclusionIndexEntry[] =>
  readJson(REAL_LOGS, 'real-inclusion', 'INDEX.json');

export interface ProofJson {
  proofIndex: number;
  treeSize: number;
  rootHash: string;
  hashes: string[];
  leafHash: string;
}

export function inclusionSet(set: string) {
  const dir = join(REAL_LOGS, 'real-inclusion', set);
  const files = new Set(readdirSync(dir));
  return {
    note: files.has('checkpoint.note') ? readText(dir, 'checkpoint.note') : undefined,
    vkeys: readVkeys(dir, 'vkeys.txt'),
    witnessVkeys: files.has('witness-vkeys.txt') ? readVkeys(dir, 'witness-vkeys.txt') : [],
    leaf: new Uint8Array(readFileSync(join(dir, 'leaf.bin'))),
    proof: readJson<ProofJson>(dir, 'proof.json'),
  };
}

/** All real note texts in the vectors, for fuzzing. */
export function allRealNotes(): string[] {
  const notes = notesIndex().map((e) => readText(REAL_LOGS, 'notes', e.file));
  for (const e of inclusionIndex()) {
    const s = inclusionSet(e.set);
    if (s.note) notes.push(s.note);
  }
  return notes;
}
