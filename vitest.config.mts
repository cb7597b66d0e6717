import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Property runs (numRuns 1000 with CI set) and the memory test stream a lot of
    // events; no test asserts on time, these only stop a hung run.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
