import { defineConfig } from 'vitest/config';

// Test files that touch the emulator share one moto_server per worker slot
// (VITEST_POOL_ID); the global setup starts one per slot and each file resets
// its slot's server before it runs. maxWorkers therefore bounds both CPU use
// and the number of emulator processes.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/per-file-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
