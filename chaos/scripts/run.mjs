#!/usr/bin/env node
// Runs the reliability suite: `pnpm test:chaos` (short forms) or `pnpm test:chaos -- --long`
// (long forms, CHAOS_LONG=1). Other arguments (e.g. a file filter) go to vitest.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2).filter((a) => a !== '--');
const long = args.includes('--long');
const rest = args.filter((a) => a !== '--long');
const config = fileURLToPath(new URL('../vitest.config.ts', import.meta.url));
const result = spawnSync('npx', ['vitest', 'run', '--config', config, ...rest], {
  stdio: 'inherit',
  env: { ...process.env, CHAOS_LONG: long ? '1' : '0' },
});
process.exit(result.status ?? 1);
