import { defineConfig } from 'vitest/config';
import { FAST_TIER_ENV } from './test/support/tier.ts';
import { classifyTests } from './test/support/tiers.ts';

// `npm run test:fast`: the tests that need no emulator, no TSA process and
// no network (test/support/tiers.ts picks them by their imports): the pure
// core, the CLI, the contract suites on the in-memory adapters, the use cases
// on those adapters, the architecture checks. No global setup: nothing is
// started. A file that reaches for moto or the OpenSSL TSAs anyway fails with
// a message saying so (test/support/tier.ts).
//
// Files of one worker share its module cache (isolate: false): importing
// pkijs, asn1js and the core once per worker instead of once per file halves
// the CPU this tier needs. `npm test` keeps every file isolated, so a test
// that leaks state into the next one still fails there.
export default defineConfig({
  test: {
    include: classifyTests().fast,
    pool: 'forks',
    isolate: false,
    maxWorkers: 2,
    env: { [FAST_TIER_ENV]: 'fast' },
    setupFiles: ['test/support/fast-setup.ts'],
    testTimeout: 30_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
