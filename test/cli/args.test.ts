/**
 * The declarative command line (src/cli/args.ts, help.ts, values.ts) on a
 * small command of its own: typed values, environment fallbacks, exclusive
 * groups, the strictness rules, and the usage line and help generated from
 * the declaration.
 */
import { describe, expect, it } from 'vitest';
import {
  defineCommand,
  flag,
  nearest,
  type OptionSpecs,
  option,
  parseCommandLine,
} from '../../src/cli/args.ts';
import { UsageError } from '../../src/cli/errors.ts';
import { helpDocument, helpText, usageLine } from '../../src/cli/help.ts';
import type { CliEnv } from '../../src/cli/io.ts';
import {
  httpUrl,
  inputFile,
  logId,
  text,
  timeBound,
  wholeNumber,
  wholeNumberIn,
} from '../../src/cli/values.ts';

const SPEC = defineCommand({
  path: ['demo', 'run'],
  summary: 'a command for the tests',
  description: 'Does nothing.',
  argument: { name: 'FILE', type: inputFile(), description: 'a file' },
  options: {
    log: option(logId, 'the log id', { required: true }),
    index: option(wholeNumber(), 'an index'),
    tag: option(text('TAG'), 'a tag', { multiple: true }),
    data: option(inputFile(), 'the data'),
    digest: option(text('HEX'), 'the digest'),
    api: option(httpUrl, 'API base URL', { required: true, env: 'ANCHORLOG_API_URL' }),
    key: option(text('KEY'), 'API key', { required: true, env: 'ANCHORLOG_API_KEY', secret: true }),
    output: option(inputFile(), 'where to write', { short: 'o' }),
    force: flag('do it anyway'),
  },
  exclusive: [{ options: ['data', 'digest'], required: true }],
  json: '{ ok }',
  examples: [{ title: 'run it', command: 'anchorlog demo run f --log prod --data d' }],
  exitStatus: 'exit status: 0 ok',
});

const BASE = [
  'f.tar',
  '--log',
  'prod',
  '--data',
  'd.txt',
  '--api',
  'https://audit.example.com/',
  '--key',
  'k',
];

function parse(argv: readonly string[], env: CliEnv = {}) {
  const r = parseCommandLine(SPEC, argv, env);
  if (r.help) throw new Error('help');
  return r.args;
}

function usage(argv: readonly string[], env: CliEnv = {}): UsageError {
  try {
    parseCommandLine(SPEC, argv, env);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

describe('parseCommandLine', () => {
  it('types every value by its declaration', () => {
    const a = parse([...BASE, '--index', '42', '--tag', 'a', '--tag', 'b', '-o', 'out', '--force', '--json']);
    expect(a).toMatchObject({
      argument: 'f.tar',
      log: 'prod',
      index: 42,
      tag: ['a', 'b'],
      data: 'd.txt',
      digest: undefined,
      api: 'https://audit.example.com',
      key: 'k',
      output: 'out',
      force: true,
      json: true,
    });
    // Compile-time: required options are never undefined, repeatable ones are arrays.
    const typed: { log: string; index: number | undefined; tag: readonly string[] } = a;
    expect(typed.tag).toHaveLength(2);
    expect(parse(BASE)).toMatchObject({ tag: [], force: false, json: false, index: undefined });
  });

  it('an environment fallback fills an absent flag only, is checked like it, and is named when bad', () => {
    const noApi = BASE.slice(0, 5).concat(['--key', 'k']);
    expect(parse(noApi, { ANCHORLOG_API_URL: 'http://h:1/' }).api).toBe('http://h:1');
    expect(parse(BASE, { ANCHORLOG_API_URL: 'http://other' }).api).toBe('https://audit.example.com');
    expect(usage(noApi, { ANCHORLOG_API_URL: '' })).toMatchObject({
      code: 'MISSING_OPTION',
      message: 'missing --api URL (or set ANCHORLOG_API_URL): API base URL',
    });
    expect(usage(noApi, { ANCHORLOG_API_URL: 'ftp://h' })).toMatchObject({
      code: 'BAD_VALUE',
      message: "ANCHORLOG_API_URL 'ftp://h' must be an http(s) URL, not ftp:",
    });
  });

  it('a secret value is never repeated', () => {
    const e = usage([...BASE.slice(0, 7), '--key', '']);
    expect(e).toMatchObject({ code: 'BAD_VALUE', message: '--key is empty' });
  });

  it.each([
    ['unknown flag', [...BASE, '--frob'], 'UNKNOWN_OPTION', 'unknown option --frob'],
    [
      'near miss',
      [...BASE, '--indx', '1'],
      'UNKNOWN_OPTION',
      'unknown option --indx (did you mean --index?)',
    ],
    ['unknown short', [...BASE, '-x'], 'UNKNOWN_OPTION', 'unknown option -x'],
    ['no value', [...BASE, '--index'], 'BAD_VALUE', '--index needs a value: --index N'],
    [
      'the next flag taken for a value',
      ['f', '--log', '--force'],
      'BAD_VALUE',
      "--log got no value: the next word '--force' starts with '-' (if that is the value, write --log=--force)",
    ],
    ['a value for a plain flag', [...BASE, '--force=yes'], 'BAD_VALUE', '--force takes no value'],
    [
      'a bad value',
      [...BASE, '--index', '1e3'],
      'BAD_VALUE',
      "--index '1e3' must be a non-negative decimal integer, such as 0 or 42",
    ],
    ['an empty value', [...BASE, '--index='], 'BAD_VALUE', "--index '' is empty"],
    ['repeated', [...BASE, '--log', 'dev'], 'REPEATED_OPTION', '--log is given more than once; give it once'],
    [
      'repeated through the short form',
      [...BASE, '-o', 'a', '--output', 'b'],
      'REPEATED_OPTION',
      '--output is given more than once; give it once',
    ],
    ['no argument', BASE.slice(1), 'MISSING_ARGUMENT', 'missing FILE: a file'],
    [
      'two arguments',
      ['g.tar', ...BASE],
      'UNEXPECTED_ARGUMENT',
      "unexpected argument 'f.tar': anchorlog demo run takes one FILE",
    ],
    [
      'after --, still an argument',
      [...BASE, '--', '--log'],
      'UNEXPECTED_ARGUMENT',
      "unexpected argument '--log': anchorlog demo run takes one FILE",
    ],
    [
      'exclusive',
      [...BASE, '--digest', 'ab'],
      'CONFLICTING_OPTIONS',
      '--data and --digest cannot be used together: give --data FILE or --digest HEX',
    ],
    [
      'neither of a required group',
      ['f', '--log', 'x', '--api', 'http://h', '--key', 'k'],
      'MISSING_OPTION',
      'missing --data FILE or --digest HEX',
    ],
    [
      'missing required',
      BASE.filter((_, i) => i !== 1 && i !== 2),
      'MISSING_OPTION',
      'missing --log LOG: the log id',
    ],
  ])('%s', (_n, argv, code, message) => {
    expect(usage(argv)).toMatchObject({ code, message });
  });

  it('help wins over everything, before `--` only', () => {
    expect(parseCommandLine(SPEC, ['--frob', '-h'], {})).toEqual({ help: true, json: false });
    expect(parseCommandLine(SPEC, ['--log', '--help', '--json'], {})).toEqual({ help: true, json: true });
    expect(usage([...BASE, '--', '--help']).code).toBe('UNEXPECTED_ARGUMENT');
  });

  it('option names are not looked up on Object.prototype', () => {
    expect(usage([...BASE, '--constructor']).code).toBe('UNKNOWN_OPTION');
    expect(usage([...BASE, '--__proto__=x']).code).toBe('UNKNOWN_OPTION');
  });
});

describe('defineCommand refuses a declaration that cannot work', () => {
  const base = { path: ['x'], summary: '', description: '', json: '', examples: [], exitStatus: '' };
  it.each([
    ['a reserved name', { json: flag('mine') }, []],
    ['a group naming an unknown option', { a: flag('a') }, [{ options: ['b'] }]],
    [
      'a required option in a group',
      { a: option(text('A'), 'a', { required: true }), b: flag('b') },
      [{ options: ['a', 'b'] }],
    ],
  ])('%s', (_n, options, exclusive) => {
    expect(() =>
      defineCommand({ ...base, options: options as OptionSpecs, exclusive: exclusive as never }),
    ).toThrow(TypeError);
  });
});

describe('help from the declaration', () => {
  it('the usage line: argument, required bare, env-backed and optional in brackets, groups, wrapped', () => {
    expect(usageLine(SPEC)).toBe(
      [
        'usage: anchorlog demo run FILE --log LOG [--index N] [--tag TAG...] (--data FILE | --digest HEX)',
        '                          [--api URL] [--key KEY] [-o FILE] [--force] [--json]',
      ].join('\n'),
    );
  });

  it('help: every option with its notes, the argument, examples; the JSON form lists the same', () => {
    const h = helpText(SPEC);
    expect(h).toMatch(/^usage: anchorlog demo run FILE/);
    expect(h).toContain('\n  FILE                    a file\n');
    expect(h).toContain('\n  --api URL               API base URL (required; default: $ANCHORLOG_API_URL)\n');
    expect(h).toContain('\n  --tag TAG               a tag (repeatable)\n');
    expect(h).toContain('\n  -o, --output FILE       where to write\n');
    expect(h).toContain('\n  -h, --help              show this help and exit 0\n');
    expect(h).toContain('\nexamples:\n  # run it\n  anchorlog demo run f --log prod --data d\n');
    const doc = helpDocument(SPEC);
    expect(doc.options).toContainEqual({
      flag: '--key',
      short: null,
      value: 'KEY',
      required: true,
      repeatable: false,
      env: 'ANCHORLOG_API_KEY',
      description: 'API key',
    });
    expect(doc.exclusive).toEqual([{ options: ['--data', '--digest'], required: true }]);
  });
});

describe('values', () => {
  it.each([
    [timeBound, '2026-03-01', true],
    [timeBound, '2026-03-01T12:00:00Z', true],
    [timeBound, '2026-03-01T12:00:00.123+02:00', true],
    [timeBound, '2026-03-01T12:00Z', false],
    [timeBound, '03/01/2026', false],
    [timeBound, 'yesterday', false],
    [wholeNumberIn(1, 100), '100', true],
    [wholeNumberIn(1, 100), '0', false],
    [wholeNumberIn(1, 100), '007', false],
    [httpUrl, 'https://a.example/base', true],
    [httpUrl, 'https://a .example', false],
    [httpUrl, 'file:///etc/passwd', false],
    [logId, 'tenant-a', true],
    [logId, 'Tenant_A', false],
  ])('%#: %s', (type, input, ok) => {
    if (ok) expect(() => type.parse(input)).not.toThrow();
    else expect(() => type.parse(input)).toThrow();
  });

  it('nearest: one edit for short words, two for longer, nothing past that', () => {
    expect(nearest('lgo', ['log', 'key'])).toBe('log');
    expect(nearest('vkeyfile', ['vkey-file', 'vkey'])).toBe('vkey-file');
    expect(nearest('output', ['log', 'trust'])).toBeUndefined();
  });
});
