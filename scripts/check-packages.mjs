#!/usr/bin/env node
/**
 * Packs the publishable packages as `pnpm publish` would (their `publishConfig.exports`
 * point at the compiled `dist/`), installs the tarballs with npm into a scratch project,
 * and imports each entry point with plain Node (no TypeScript loader): what a user who
 * installs FlowMonkey from the registry gets. Exits non-zero when an import fails or an
 * export is missing. Needs the build (`pnpm build`, which `prepack` runs anyway).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const packages = {
  core: ['Engine', 'defineFlow', 'Result', 'EventBus'],
  postgres: ['createPgStores', 'migrate', 'JobListener', 'PgJobStore'],
  jobs: ['BasicJobRunner', 'JobReaper', 'JobScheduler', 'defineJob'],
};
const scratch = mkdtempSync(join(tmpdir(), 'flowmonkey-pack-'));
const run = (command, args, cwd) =>
  execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
try {
  const tarballs = Object.keys(packages).map((name) => {
    const out = run(
      'npx',
      ['-y', 'pnpm@10', 'pack', '--pack-destination', scratch],
      join(root, 'packages', name),
    );
    return out.trim().split('\n').pop();
  });
  writeFileSync(
    join(scratch, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], scratch);
  const checks = Object.entries(packages).map(
    ([name, names]) =>
      `{ const m = await import('@flowmonkey/${name}'); for (const n of ${JSON.stringify(names)}) if (m[n] === undefined) throw new Error('@flowmonkey/${name} has no export ' + n); }`,
  );
  writeFileSync(
    join(scratch, 'check.mjs'),
    `${checks.join('\n')}\nconsole.log('packed packages load in plain Node: ${Object.keys(packages).join(', ')}');\n`,
  );
  process.stdout.write(run(process.execPath, ['check.mjs'], scratch));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
