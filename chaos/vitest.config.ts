import { defineConfig } from 'vitest/config';

/**
 * The reliability suite (`pnpm test:chaos`, see scripts/run.mjs). Separate from the root
 * config, so `pnpm test` never runs it. Scenarios run one file at a time: each starts its
 * own PostgreSQL server and worker processes, and two at once on two cores would skew the
 * timings they measure.
 */
export default defineConfig({
  test: {
    name: 'chaos',
    root: new URL('.', import.meta.url).pathname,
    include: ['scenarios/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: process.env.CHAOS_LONG === '1' ? 1_800_000 : 120_000,
    hookTimeout: 60_000,
  },
});
