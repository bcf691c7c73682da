import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Settings of the PostgreSQL-backed projects. Their global setup starts one server per run
 * (shared by both projects, see the file's header comment) and migrates a template database;
 * each test file then gets its own database copied from it (`useTestDatabase()`), so files
 * run in parallel safely. The 'core' project has no global setup and starts no server.
 */
const postgresBacked = {
  globalSetup: [
    fileURLToPath(new URL('./packages/postgres/src/testing/global-setup.ts', import.meta.url)),
  ],
  testTimeout: 30_000,
  hookTimeout: 30_000,
  fileParallelism: true,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'core',
          include: ['packages/core/test/**/*.test.ts'],
        },
      },
      {
        // The benchmark's report (no database: the workloads themselves run with `pnpm bench`).
        test: {
          name: 'bench',
          include: ['bench/test/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'postgres',
          include: ['packages/postgres/test/**/*.test.ts'],
          ...postgresBacked,
        },
      },
      {
        test: {
          name: 'jobs',
          include: ['packages/jobs/test/**/*.test.ts'],
          ...postgresBacked,
        },
      },
    ],
  },
});
