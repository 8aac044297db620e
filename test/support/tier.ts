/**
 * The two test tiers. `npm test` (vitest.config.ts) runs every file with the
 * AWS emulator (moto) and the OpenSSL TSAs started by the global setup.
 * `npm run test:fast` (vitest.fast.config.ts) runs only the files that need
 * neither, nor the network: test/support/tiers.ts picks them by what they
 * import, and the fast tier sets ANCHORLOG_TEST_TIER=fast so that a file
 * that reaches for the emulator anyway fails at once, saying why.
 */

export const FAST_TIER_ENV = 'ANCHORLOG_TEST_TIER';

export function inFastTier(): boolean {
  return process.env[FAST_TIER_ENV] === 'fast';
}

/** Throws, in the fast tier, for a test that needs what only `npm test` starts. */
export function requireHarness(what: string): void {
  if (!inFastTier()) return;
  throw new Error(
    `${what} is not available under \`npm run test:fast\`, which starts no emulator, no TSA process and no network. ` +
      'A test that needs it belongs to `npm test` only (test/support/tiers.ts decides by imports: ' +
      'use test/support/aws.ts or test/support/tsa.ts, not inject() directly), or should run on the ' +
      'in-memory adapters (src/adapters/memory/).',
  );
}

/**
 * True in the fast tier, for the tests that start the installed command
 * (bin/anchorlog.mjs) or tsx as a child process: each start compiles the CLI
 * again, about a second of CPU, and the command's code itself is tested
 * in-process next to them. `npm test` runs them.
 */
export const skipChildProcesses: boolean = inFastTier();
