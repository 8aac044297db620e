/**
 * Rule files as a platform team keeps them in its repository: one rule per
 * file, JSON (`.json`) or YAML (`.yaml`, `.yml`) with the same structure
 * (docs/detection.md "Rule documents"), a file or a directory of them.
 * Checked offline by the pure core (parseRuleDocument, compileRule,
 * checkRuleSet): `anchorlog rules validate` needs no API, so CI can run it.
 *
 * Every file is untrusted: sizes are bounded before parsing (64 KiB, the
 * document limit), JSON goes through the core's strict I-JSON parser (with
 * line and column), YAML through `yaml` with duplicate keys refused, aliases
 * refused (no expansion bombs) and exactly one document per file; whatever a
 * file holds, the outcome is a FileResult, never an exception.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { type Document, parseAllDocuments } from 'yaml';
import { canonicalBytes } from '../core/canonical.ts';
import { compileRule } from '../core/detect/compile.ts';
import { type ExpressionPosition, positionOf, RuleError } from '../core/detect/errors.ts';
import { MAX_RULE_DOCUMENT_BYTES, parseRuleDocument, type RuleDocument } from '../core/detect/rule.ts';
import { UsageError } from './errors.ts';
import type { CliIo } from './io.ts';

/** What is wrong with one file: a RuleError code, or INVALID_YAML / UNREADABLE_FILE / DUPLICATE_RULE_ID. */
export interface FileProblem {
  readonly code: string;
  readonly message: string;
  /** JSON pointer of the field ('' or absent: the document). */
  readonly path?: string;
  /** In an expression (the field at `path`), or in the file for a syntax error. */
  readonly position?: ExpressionPosition;
}

export type FileResult =
  | { readonly file: string; readonly ok: true; readonly rule: RuleDocument }
  | { readonly file: string; readonly ok: false; readonly problem: FileProblem };

export const RULE_FILE_EXTENSIONS = ['.json', '.yaml', '.yml'];
/** Files a directory may hold before we refuse it (a rule pack is tens of files, not thousands). */
const MAX_FILES = 1000;
/** Directory levels below the one named. */
const MAX_DEPTH = 8;

/**
 * The rule files named by `paths`: a file as given (whatever its extension),
 * a directory as every `.json`/`.yaml`/`.yml` file in it and below (dot
 * files and dot directories skipped), sorted. UsageError when a path does not
 * exist or a directory holds no rule file.
 */
export async function ruleFiles(paths: readonly string[], flag: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (!s) throw new UsageError('UNREADABLE_FILE', `${flag}: ${p} does not exist`);
    if (!s.isDirectory()) {
      out.push(p);
      continue;
    }
    const found: string[] = [];
    await walk(p, 0, found);
    if (found.length === 0)
      throw new UsageError(
        'BAD_FILE',
        `${flag}: ${p} holds no rule file (${RULE_FILE_EXTENSIONS.join(', ')})`,
      );
    out.push(...found.sort());
  }
  return [...new Set(out)];
}

async function walk(dir: string, depth: number, found: string[]): Promise<void> {
  if (depth > MAX_DEPTH) return;
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) await walk(full, depth + 1, found);
    else if (e.isFile() && RULE_FILE_EXTENSIONS.includes(extname(e.name).toLowerCase())) found.push(full);
    if (found.length > MAX_FILES)
      throw new UsageError('BAD_FILE', `${dir}: more than ${MAX_FILES} rule files; name a smaller directory`);
  }
}

/** Reads and checks every file; then refuses a rule id defined by two files (both are reported). */
export async function loadRuleFiles(io: CliIo, files: readonly string[]): Promise<FileResult[]> {
  const results: FileResult[] = [];
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = await io.readFile(file);
    } catch (e) {
      results.push({
        file,
        ok: false,
        problem: {
          code: 'UNREADABLE_FILE',
          message: `cannot read: ${e instanceof Error ? e.message : String(e)}`,
        },
      });
      continue;
    }
    results.push(checkRuleFile(file, bytes));
  }
  const byId = new Map<string, string[]>();
  for (const r of results) if (r.ok) byId.set(r.rule.id, [...(byId.get(r.rule.id) ?? []), r.file]);
  return results.map((r) => {
    const same = r.ok ? (byId.get(r.rule.id) ?? []) : [];
    if (!r.ok || same.length < 2) return r;
    return {
      file: r.file,
      ok: false,
      problem: {
        code: 'DUPLICATE_RULE_ID',
        path: '/id',
        message: `rule ${r.rule.id} is also defined in ${same.filter((f) => f !== r.file).join(', ')}`,
      },
    };
  });
}

/** One file's bytes as a rule: YAML by extension (`.yaml`, `.yml`), JSON otherwise. */
export function checkRuleFile(file: string, bytes: Uint8Array): FileResult {
  try {
    if (bytes.length > MAX_RULE_DOCUMENT_BYTES)
      throw new RuleError(
        'DOCUMENT_TOO_LARGE',
        '',
        `the file is ${bytes.length} bytes; a rule document is at most ${MAX_RULE_DOCUMENT_BYTES}`,
      );
    const yaml = ['.yaml', '.yml'].includes(extname(file).toLowerCase());
    const rule = yaml ? parseRuleDocument(yamlValue(bytes)) : parseRuleDocument(bytes);
    compileRule(rule);
    // A YAML document can be smaller than the JSON it stands for; the store's limit is on the JSON.
    const size = canonicalBytes(rule).length;
    if (size > MAX_RULE_DOCUMENT_BYTES)
      throw new RuleError(
        'DOCUMENT_TOO_LARGE',
        '',
        `the rule is ${size} bytes as JSON; at most ${MAX_RULE_DOCUMENT_BYTES}`,
      );
    return { file, ok: true, rule };
  } catch (err) {
    return { file, ok: false, problem: problemOf(err) };
  }
}

class YamlProblem extends Error {
  constructor(
    message: string,
    readonly position?: ExpressionPosition,
  ) {
    super(message);
  }
}

function yamlValue(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new YamlProblem('the file is not UTF-8');
  }
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, {
      uniqueKeys: true,
      strict: true,
      prettyErrors: false,
    }) as Document.Parsed[];
  } catch (e) {
    throw new YamlProblem(`cannot parse: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(docs) || docs.length === 0) throw new YamlProblem('the file holds no YAML document');
  if (docs.length > 1)
    throw new YamlProblem(
      'one rule per file: the file holds more than one YAML document',
      positionOf(text, docs[1]?.range[0] ?? 0),
    );
  const doc = docs[0] as Document.Parsed;
  const err = doc.errors[0];
  if (err) throw new YamlProblem(err.message.split('\n')[0] ?? 'invalid YAML', positionOf(text, err.pos[0]));
  try {
    // maxAliasCount 0: no aliases at all, so no document expands beyond its size.
    return doc.toJS({ maxAliasCount: 0 });
  } catch (e) {
    throw new YamlProblem(`cannot be read as JSON data: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function problemOf(err: unknown): FileProblem {
  if (err instanceof RuleError)
    return {
      code: err.code,
      message: err.message,
      ...(err.path ? { path: err.path } : {}),
      ...(err.position ? { position: { ...err.position } } : {}),
    };
  if (err instanceof YamlProblem)
    return {
      code: 'INVALID_YAML',
      message: err.message,
      ...(err.position ? { position: err.position } : {}),
    };
  // The core throws only RuleError; anything else (a stack overflow on a hostile file) is still the file's fault.
  return {
    code: 'INVALID_FILE',
    message: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
  };
}

/** `file /match 2:3: CODE: message` — where first, as compilers print it. */
export function describeProblem(file: string, p: FileProblem): string {
  const where = [p.path, p.position ? `${p.position.line}:${p.position.column}` : undefined]
    .filter(Boolean)
    .join(' ');
  // A RuleError's message ends with the same place in brackets: said once, up front.
  const suffix = ` (${where})`;
  const message = where && p.message.endsWith(suffix) ? p.message.slice(0, -suffix.length) : p.message;
  return `${file}${where ? ` ${where}` : ''}: ${p.code}: ${message}`;
}
