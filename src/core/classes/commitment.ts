/**
 * How class roots are committed: one extension line per class in the log's
 * own signed checkpoint (c2sp.org/tlog-checkpoint §Note text: "any number of
 * non-empty extension lines" after the root hash, which C2SP parsers accept
 * and ignore). Why extension lines rather than a second signed note:
 * docs/formats.md §Class roots. The line, space-separated:
 *
 *     anchorlog-class <name> <version> <action> <actorType|*> <targetType|*> <fromSize> <size> <root>
 *
 * `fromSize`: the main-log size at which this version was declared; the class
 * log holds exactly the class's records with main index in [fromSize, N) for
 * the checkpoint's size N. `size`, `root`: the class log's size and RFC 6962
 * root (base64). Lines are sorted by name, one per class.
 */
import { fromBase64, toBase64 } from '../bytes.ts';
import { sha256 } from '../hash.ts';
import { type ClassDefinition, checkClassDefinition } from './definition.ts';
import { ClassError } from './errors.ts';

export const CLASS_LINE_TAG = 'anchorlog-class';

export interface ClassCommitment {
  readonly def: ClassDefinition;
  /** Main-log size at which the class (this version) was declared. */
  readonly fromSize: number;
  /** Class-log size and root at the checkpoint. */
  readonly size: number;
  readonly rootHash: Uint8Array;
}

const UINT = /^(0|[1-9][0-9]{0,15})$/;

function uint(text: string, what: string): number {
  const n = UINT.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw new ClassError('MALFORMED_CLASS_LINE', `${what} is not a canonical decimal`);
  return n;
}

export function formatClassLine(c: ClassCommitment): string {
  const d = checkClassDefinition(c.def);
  return [
    CLASS_LINE_TAG,
    d.name,
    String(d.version),
    d.action,
    d.actorType ?? '*',
    d.targetType ?? '*',
    String(c.fromSize),
    String(c.size),
    toBase64(c.rootHash),
  ].join(' ');
}

/** Parses one line (attacker-controlled: it comes from a checkpoint in a bundle). */
export function parseClassLine(line: string): ClassCommitment {
  const t = line.split(' ');
  if (t.length !== 9 || t[0] !== CLASS_LINE_TAG)
    throw new ClassError('MALFORMED_CLASS_LINE', 'a class line has 9 space-separated fields');
  const [, name, version, action, actor, target, from, size, root] = t as [string, ...string[]] as string[];
  let def: ClassDefinition;
  try {
    def = checkClassDefinition({
      name: name as string,
      version: uint(version as string, 'version'),
      action: action as string,
      ...(actor !== '*' ? { actorType: actor as ClassDefinition['actorType'] & string } : {}),
      ...(target !== '*' ? { targetType: target as string } : {}),
    });
  } catch (cause) {
    if (cause instanceof ClassError && cause.code === 'MALFORMED_CLASS_LINE') throw cause;
    throw new ClassError('MALFORMED_CLASS_LINE', `class line: ${(cause as Error).message}`, { cause });
  }
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(root as string);
  } catch (cause) {
    throw new ClassError('MALFORMED_CLASS_LINE', 'class root is not base64', { cause });
  }
  if (rootHash.length !== 32) throw new ClassError('MALFORMED_CLASS_LINE', 'class root is not 32 bytes');
  const out = {
    def,
    fromSize: uint(from as string, 'fromSize'),
    size: uint(size as string, 'size'),
    rootHash,
  };
  if (formatClassLine(out) !== line)
    throw new ClassError('MALFORMED_CLASS_LINE', 'class line is not canonical');
  return out;
}

/**
 * The class commitments of a checkpoint's extension lines. Lines of other
 * tags are ignored (C2SP: extension lines are opaque to those who do not know
 * them); ours must parse, be sorted by name, name each class once, and
 * satisfy fromSize ≤ checkpoint size and class size ≤ size − fromSize.
 */
export function classCommitments(extensions: readonly string[], checkpointSize: number): ClassCommitment[] {
  const out: ClassCommitment[] = [];
  for (const line of extensions) {
    if (!line.startsWith(`${CLASS_LINE_TAG} `)) continue;
    const c = parseClassLine(line);
    const prev = out[out.length - 1];
    if (prev !== undefined && !(prev.def.name < c.def.name))
      throw new ClassError('MALFORMED_CLASS_LINE', 'class lines must be sorted by name, one per class');
    if (c.fromSize > checkpointSize || c.size > checkpointSize - c.fromSize)
      throw new ClassError(
        'MALFORMED_CLASS_LINE',
        `class ${c.def.name} claims more than the checkpoint holds`,
      );
    out.push(c);
  }
  return out;
}

/**
 * The archive folder of one class log: `classes/<name>/<key>/`, key = first 16
 * hex digits of SHA-256 over the line's definition fields and fromSize. A
 * changed rule or declaration size gets a fresh folder, so tiles left behind
 * by a crashed run under another configuration never collide with new ones.
 */
export function classLogPrefix(c: Pick<ClassCommitment, 'def' | 'fromSize'>): string {
  const line = formatClassLine({ ...c, size: 0, rootHash: new Uint8Array(32) });
  const key = line.split(' ').slice(0, 7).join(' ');
  const hex = Array.from(sha256(new TextEncoder().encode(key)).subarray(0, 8), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');
  return `classes/${c.def.name}/${hex}/`;
}
