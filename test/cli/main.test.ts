import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Command, runMain } from '../../src/cli/main.ts';
import { REAL_CASES, type RealCase, vectorPath } from '../core/rfc3161/cases.ts';
import { skipChildProcesses } from '../support/tier.ts';
import { captureIo } from './support.ts';

const BIN = fileURLToPath(new URL('../../bin/anchorlog.mjs', import.meta.url));

describe('anchorlog dispatcher', () => {
  it('--help lists commands and exits 0', async () => {
    const io = captureIo();
    expect(await runMain(['--help'], io)).toBe(0);
    expect(io.out()).toContain('anchorlog timestamp verify');
  });

  it('no arguments, unknown command, unknown subcommand: exit 2', async () => {
    for (const argv of [[], ['frobnicate'], ['timestamp'], ['timestamp', 'sign']]) {
      const io = captureIo();
      expect(await runMain(argv, io), argv.join(' ')).toBe(2);
      expect(io.err()).toContain('anchorlog');
    }
  });

  it('`timestamp --help` lists the group and exits 0', async () => {
    const io = captureIo();
    expect(await runMain(['timestamp', '--help'], io)).toBe(0);
    expect(io.out()).toContain('timestamp verify');
  });

  it('dispatches by the longest matching path, passing the rest of argv', async () => {
    const seen: string[][] = [];
    const table: Command[] = [
      {
        path: ['verify'],
        summary: 'a',
        run: async (argv) => {
          seen.push(['verify', ...argv]);
          return 0;
        },
      },
      {
        path: ['checkpoint', 'show'],
        summary: 'b',
        run: async (argv) => {
          seen.push(['show', ...argv]);
          return 1;
        },
      },
    ];
    expect(await runMain(['verify', 'bundle.zip'], captureIo(), table)).toBe(0);
    expect(await runMain(['checkpoint', 'show', '--json'], captureIo(), table)).toBe(1);
    expect(seen).toEqual([
      ['verify', 'bundle.zip'],
      ['show', '--json'],
    ]);
  });
});

describe.skipIf(skipChildProcesses)('bin/anchorlog.mjs as a child process', () => {
  const byName = (n: string) => REAL_CASES.find((c) => c.name === n) as RealCase;
  const run = (args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });

  it('valid token: exit 0 with the report', () => {
    const c = byName('digicert-2018');
    const r = run([
      'timestamp',
      'verify',
      '--in',
      vectorPath(c.token),
      '--data',
      vectorPath(c.data ?? ''),
      '--ca',
      vectorPath(c.ca),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Verification: OK');
    expect(r.stdout).toContain('genTime:   2018-05-09T18:48:18');
  });

  it('altered signature: exit 1 with the reason code', () => {
    const c = byName('sigstage-invalid-signature');
    const r = run([
      'timestamp',
      'verify',
      '--in',
      vectorPath(c.token),
      '--data',
      vectorPath(c.data ?? ''),
      '--ca',
      vectorPath(c.ca),
      '--untrusted',
      vectorPath(c.untrusted ?? ''),
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('SIGNATURE_INVALID');
  });

  it('usage error and unknown command: exit 2', () => {
    expect(run(['timestamp', 'verify', '--nope']).status).toBe(2);
    expect(run(['nope']).status).toBe(2);
  });
});
