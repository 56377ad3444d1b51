import { defineConfig } from 'vitest/config';
import { SlowestFirstSequencer } from './test/helpers/slowest-first-sequencer.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // Longest files first (test/durations.json), so that the two workers finish together.
    sequence: { sequencer: SlowestFirstSequencer },
    // Under CI also write a JSON report, from which .ci/run prints a plain "N passed, N failed".
    reporters: process.env['CI'] ? ['default', ['json', { outputFile: 'test-results.json' }]] : ['default'],
  },
});
