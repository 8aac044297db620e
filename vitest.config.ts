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
    // Known: the AWS SDK asks for Node 22 after January 2027 (see src/local/main.ts).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
