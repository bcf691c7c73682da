import { defineConfig } from 'vitest/config';

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
        test: {
          name: 'postgres',
          include: ['packages/postgres/test/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'jobs',
          include: ['packages/jobs/test/**/*.test.ts'],
        },
      },
    ],
  },
});
