/**
 * The repository stands alone: every reference a reader can follow resolves
 * inside it. Pure (no emulator, no network): reads the working tree only.
 *
 * Checked in src/, cdk/, bench/, lambdas/, scripts/, test/, bin/, docs/ and
 * README.md:
 *  - a cited `docs/X.md` (or .json) exists; `docs/X.md §Heading`,
 *    `docs/X.md §N` (a numbered heading `N. …`) and `docs/X.md "Heading"` name
 *    a heading of that file; inside docs/X.md a bare `§Heading` names one of
 *    its own (RFC sections, `RFC 9162 §2.1`, are not ours and are skipped);
 *  - a repository path in the text (`src/…/x.ts`, `test/…`, `docs/…`) exists;
 *  - a relative markdown link in README/docs points to a file that exists and,
 *    with `#anchor`, to a heading of it (GitHub's anchor rules);
 *  - `npm run <name>`, `npm start` and `npm test` name scripts of package.json;
 *  - nothing cites the original design brief, which is not part of the repo.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const SCANNED_DIRS = ['src', 'cdk', 'bench', 'lambdas', 'scripts', 'test', 'bin', 'docs'];
/** Generated or third-party data, not prose: results of benchmark runs, test fixtures. */
const SKIPPED = ['bench/results/', 'test/fixtures/'];
/** This file: its self-checks hold broken references on purpose. */
const SELF = 'test/docs-references.test.ts';
const TEXT = /\.(ts|mjs|js|md|json|py)$/;
/** A repository path in prose (docs/ paths are checked as citations and links, below). */
const REPO_PATH = new RegExp(
  String.raw`(?<![\w./@-])((?:${[...SCANNED_DIRS.filter((d) => d !== 'docs'), '\\.ci'].join('|')})/[\w./+-]*[\w+-]\.(?:ts|mjs|md|json|py|sh))(?![\w/])`,
  'g',
);
/** The brief the project started from is not shipped; the word is assembled so this file does not cite it. */
const BRIEF = new RegExp(String.raw`\b${['DES', 'IGN'].join('')}\b`);

interface Repo {
  /** Text of a repository file, or undefined if there is none. */
  read(rel: string): string | undefined;
  /** Whether a file or folder exists. */
  exists(rel: string): boolean;
  /** The files to check, repository-relative. */
  files: readonly string[];
  /** Names of package.json scripts. */
  scripts: ReadonlySet<string>;
}

// ---------------------------------------------------------------- headings

/** Markdown without fenced code blocks (a `# comment` in a shell block is not a heading). */
function withoutFences(md: string): string {
  let inFence = false;
  return md
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        inFence = !inFence;
        return '';
      }
      return inFence ? '' : line;
    })
    .join('\n');
}

/** Heading text as GitHub renders it: link text, no code spans or emphasis markers. */
function rendered(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/(^|\W)[*_]{1,2}([^*_]+)[*_]{1,2}(?=\W|$)/g, '$1$2');
}

/** GitHub's heading anchor (github-slugger): lower case, punctuation dropped, spaces → '-'. */
function slug(heading: string): string {
  return rendered(heading)
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

interface Headings {
  /**
   * Raw heading texts, the same without a leading section number (`3. Commit
   * protocol` → `Commit protocol`), and their short names.
   */
  texts: string[];
  numbers: Set<string>;
  anchors: Set<string>;
}

function headingsOf(md: string): Headings {
  const texts: string[] = [];
  const numbers = new Set<string>();
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of withoutFences(md).matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const text = m[1] as string;
    const forms = [text, rendered(text)];
    const numbered = /^(\d+)\.\s+(.*)$/.exec(text);
    if (numbered) {
      numbers.add(numbered[1] as string);
      forms.push(numbered[2] as string, rendered(numbered[2] as string));
    }
    // A heading's short name, before its first ": " or " (": §Verifying names
    // "Verifying: trust, verdict and exit codes", §Core "Core (bench:core)".
    for (const f of [...forms]) {
      const short = /^(.+?)(?:: | \()/.exec(f)?.[1];
      if (short) forms.push(short);
    }
    texts.push(...forms);
    const base = slug(text);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return { texts, numbers, anchors };
}

/** Whether `cited` (the text after `§`, to the end of its sentence or further) starts with a heading of `h`. */
function sectionExists(h: Headings, cited: string): boolean {
  const num = /^(\d+)(?![\d.]*\d)/.exec(cited);
  if (num) return h.numbers.has(num[1] as string);
  return h.texts.some((t) => cited.startsWith(t) && !/^[\p{L}\p{N}_]/u.test(cited.slice(t.length)));
}

// ---------------------------------------------------------------- checks

/** Comment and line-break noise removed, so a citation wrapped over two comment lines reads as one line. */
function joinLines(text: string): string {
  return text.replace(/[ \t]*\r?\n[ \t]*(?:\*(?!\/)[ \t]*|\/\/+[ \t]*|#[ \t]+|>[ \t]*)?/g, ' ');
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

function findProblems(repo: Repo): string[] {
  const problems: string[] = [];
  const headingCache = new Map<string, Headings | undefined>();
  const headings = (rel: string): Headings | undefined => {
    if (!headingCache.has(rel)) {
      const text = repo.read(rel);
      headingCache.set(rel, text === undefined ? undefined : headingsOf(text));
    }
    return headingCache.get(rel);
  };

  for (const file of repo.files) {
    const text = repo.read(file) ?? '';
    const isDoc = file === 'README.md' || (file.startsWith('docs/') && file.endsWith('.md'));

    // The original brief.
    for (const [i, line] of text.split('\n').entries())
      if (BRIEF.test(line))
        problems.push(`${file}:${i + 1}: cites the design brief, which is not in the repository`);

    // docs/X.md citations, with or without a section.
    const joined = joinLines(text);
    // Not a link target `](docs/…)`: links are checked below. The section text
    // runs to the next § or citation; sectionExists needs only its start.
    const cite =
      /(?<![\w./-]|\]\()docs\/([\w.-]+\.(?:md|json))(?:\]\([^)\s]*\))?\)?(?:,?[ \t]*\(?(?:§[ \t]?((?:(?!docs\/)[^§\n]){1,120})|"([^"\n]{1,120})"))?/g;
    const citedSpans: Array<[number, number]> = [];
    for (const m of joined.matchAll(cite)) {
      const target = `docs/${m[1]}`;
      const where = `${file}: docs/${m[1]}${m[2] !== undefined ? ` §${m[2].slice(0, 40)}` : m[3] !== undefined ? ` "${m[3]}"` : ''}`;
      citedSpans.push([m.index, m.index + m[0].length]);
      if (!repo.exists(target)) {
        problems.push(`${where}: no such file`);
        continue;
      }
      const h = target.endsWith('.md') ? headings(target) : undefined;
      if (m[2] !== undefined && h && !sectionExists(h, m[2].trim()))
        problems.push(`${where}: ${target} has no such section`);
      if (m[3] !== undefined && h && !sectionExists(h, m[3]))
        problems.push(`${where}: ${target} has no section of that name`);
    }

    // Bare § inside a doc: a section of the same doc (not an RFC's).
    if (file.startsWith('docs/') && file.endsWith('.md')) {
      const own = headings(file) as Headings;
      for (const m of joined.matchAll(/§[ \t]?([^§\n]{1,120})/g)) {
        if (citedSpans.some(([a, b]) => m.index >= a && m.index < b)) continue;
        if (/(RFC|ISO|FIPS|SP)[ \t]?[\d-]+[ \t]*$/.test(joined.slice(Math.max(0, m.index - 20), m.index)))
          continue;
        if (!sectionExists(own, (m[1] as string).trim()))
          problems.push(`${file}: §${(m[1] as string).slice(0, 40)}: ${file} has no such section`);
      }
    }

    // Repository paths.
    for (const m of text.matchAll(REPO_PATH)) {
      const path = (m[1] as string).replace(/[.]+$/, '');
      if (!repo.exists(path)) problems.push(`${file}:${lineOf(text, m.index)}: ${path}: no such file`);
    }

    if (!isDoc) continue;
    const md = withoutFences(text);

    // Relative links and anchors.
    for (const m of md.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const href = m[1] as string;
      if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // https:, mailto:
      const hash = href.indexOf('#');
      const pathPart = hash < 0 ? href : href.slice(0, hash);
      const anchor = hash < 0 ? undefined : decodeURIComponent(href.slice(hash + 1));
      const target = pathPart === '' ? file : normalize(join(dirname(file), pathPart)).replace(/\/$/, '');
      const where = `${file}:${lineOf(md, m.index)}: (${href})`;
      if (target.startsWith('..') || !repo.exists(target)) {
        problems.push(`${where}: no such file in the repository`);
        continue;
      }
      if (anchor === undefined) continue;
      const h = target.endsWith('.md') ? headings(target) : undefined;
      if (!h?.anchors.has(anchor)) problems.push(`${where}: ${target} has no heading with that anchor`);
    }

    // npm scripts.
    for (const m of md.matchAll(
      /\bnpm (?:run(?:-script)? ([\w:*.-]+)((?:[ \t]*\|[ \t]*[\w:*-]+)*)|(start|test)\b)/g,
    )) {
      const names =
        m[3] !== undefined
          ? [m[3]]
          : [m[1] as string, ...(m[2] ?? '').split('|').map((s) => s.trim())].filter((s) => s !== '');
      for (const raw of names) {
        const name = raw.replace(/[.:]+$/, '');
        const known = name.endsWith('*')
          ? [...repo.scripts].some((s) => s.startsWith(name.slice(0, -1)))
          : repo.scripts.has(name);
        if (!known)
          problems.push(
            `${file}:${lineOf(md, m.index)}: npm ${m[3] ?? `run ${name}`}: no such script in package.json`,
          );
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------- the tree

function walk(dir: string): string[] {
  if (!existsSync(join(root, dir))) return [];
  return readdirSync(join(root, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (name === 'node_modules' || SKIPPED.some((s) => `${rel}/`.startsWith(s))) return [];
    return statSync(join(root, rel)).isDirectory() ? walk(rel) : TEXT.test(name) ? [rel] : [];
  });
}

function workingTree(): Repo {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  return {
    files: ['README.md', ...SCANNED_DIRS.flatMap(walk)].filter((f) => f !== SELF),
    read: (rel) => (existsSync(join(root, rel)) ? readFileSync(join(root, rel), 'utf8') : undefined),
    exists: (rel) =>
      existsSync(join(root, rel)) && relative(root, join(root, rel)) === normalize(rel).replace(/\/$/, ''),
    scripts: new Set(Object.keys(pkg.scripts)),
  };
}

function virtualRepo(files: Record<string, string>, scripts: string[] = ['test', 'bench:core']): Repo {
  const dirs = new Set(
    Object.keys(files).flatMap((f) =>
      f
        .split('/')
        .slice(0, -1)
        .map((_, i, a) => a.slice(0, i + 1).join('/')),
    ),
  );
  return {
    files: Object.keys(files),
    read: (rel) => files[rel],
    exists: (rel) => rel in files || dirs.has(rel),
    scripts: new Set(scripts),
  };
}

describe('references resolve inside the repository', () => {
  const repo = workingTree();

  it('has files to check', () => {
    expect(repo.files).toContain('README.md');
    expect(repo.files).toContain('docs/formats.md');
    expect(repo.files).toContain('src/core/record.ts');
    expect(repo.files.filter((f) => f.startsWith('bench/results/'))).toEqual([]);
  });

  it('every cited doc, section, path, link, anchor and npm script exists; nothing cites the brief', () => {
    expect(findProblems(repo)).toEqual([]);
  });
});

/** Package names in bold in README's "Dependency notes", with `{a,b}` expanded. */
function documentedPackages(readme: string): Set<string> {
  const start = readme.indexOf('## Dependency notes');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const names = new Set<string>();
  for (const m of section.matchAll(/\*\*([^*]+)\*\*/g)) {
    const expanded = (m[1] as string).replace(
      /(\S*)\{([^}]*)\}(\S*)/g,
      (_, pre: string, alts: string, post: string) =>
        alts
          .split(',')
          .map((alt) => `${pre}${alt}${post}`)
          .join(', '),
    );
    for (const part of expanded.split(/,\s*|\s+\/\s+/)) names.add(part.trim());
  }
  return names;
}

describe("README's dependency notes", () => {
  it('say why for every package in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const documented = documentedPackages(readFileSync(join(root, 'README.md'), 'utf8'));
    const all = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)];
    expect(all.filter((d) => !documented.has(d))).toEqual([]);
  });
});

describe('the checker (self-check: it finds what it is meant to find)', () => {
  const doc =
    '# Formats\n\n## Events and records\n\n## 3. Commit protocol\n\n## Core (bench:core)\n\n```sh\n# not a heading\n```\n';

  it('accepts good references', () => {
    const repo = virtualRepo({
      'docs/formats.md': `${doc}See §Events and records and §3.\n[up](../README.md#title) [self](#events-and-records)\n`,
      'README.md':
        '# Title\n\n[f](docs/formats.md#3-commit-protocol) ([docs/formats.md](docs/formats.md) §Core)\n' +
        '`npm test`, `npm run bench:*`, `npm run bench:core | bench:* | test`.\n',
      'src/a.ts':
        '/**\n * Wrapped (docs/formats.md\n * §Events and records), docs/formats.md §3, docs/formats.md "Commit protocol",\n * src/a.ts, RFC 9162 §2.1.\n */\n',
    });
    expect(findProblems(repo)).toEqual([]);
  });

  it('reports each kind of broken reference', () => {
    const brief = `${['DES', 'IGN'].join('')}.md`;
    const repo = virtualRepo({
      'docs/formats.md': `${doc}See §Nothing here.\n`,
      'README.md': `# T\n[a](docs/missing.md) [b](docs/formats.md#nope) [c](#t) \`npm run nope\` see ${brief}\n`,
      'src/a.ts': [
        '// docs/formats.md §Events and more',
        '// docs/formats.md §4',
        '// docs/formats.md "Commit"',
        '// docs/gone.md',
        '// src/core/gone.ts',
        '// # not a heading: docs/formats.md §not a heading',
      ].join('\n'),
    });
    const problems = findProblems(repo);
    const expected = [
      'docs/formats.md: §Nothing here',
      'README.md:2: (docs/missing.md): no such file',
      'README.md:2: (docs/formats.md#nope): docs/formats.md has no heading',
      'README.md:2: npm run nope: no such script',
      'README.md:2: cites the design brief',
      'src/a.ts: docs/formats.md §Events and more',
      'src/a.ts: docs/formats.md §4',
      'src/a.ts: docs/formats.md "Commit"',
      'src/a.ts: docs/gone.md: no such file',
      'src/a.ts:5: src/core/gone.ts: no such file',
      'src/a.ts: docs/formats.md §not a heading',
    ];
    for (const e of expected)
      expect(
        problems.some((p) => p.includes(e)),
        `${e}\n${problems.join('\n')}`,
      ).toBe(true);
    expect(problems.some((p) => p.includes('(#t)'))).toBe(false);
    expect(problems).toHaveLength(expected.length);
  });

  it('reads package names from the dependency notes', () => {
    const readme =
      '## Dependency notes\n\n- **a / b** — x\n- **@s/c-{d,e}**, **f, g** — y\n\n## Next\n- **h**\n';
    expect([...documentedPackages(readme)].sort()).toEqual(['@s/c-d', '@s/c-e', 'a', 'b', 'f', 'g']);
  });

  it('computes GitHub anchors', () => {
    const h = headingsOf(
      '# Routes → functions\n## README.txt: informative, not trusted\n## Why a header _and_ a trailing manifest\n' +
        '## Configuring TSAs: `ANCHORLOG_TSAS`\n## 1. Prerequisites\n## Notes\n## Notes\n',
    );
    expect([...h.anchors]).toEqual([
      'routes--functions',
      'readmetxt-informative-not-trusted',
      'why-a-header-and-a-trailing-manifest',
      'configuring-tsas-anchorlog_tsas',
      '1-prerequisites',
      'notes',
      'notes-1',
    ]);
  });
});
