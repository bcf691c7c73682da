import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

function run(fixture: string): Promise<string> {
  const script = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url));
  return new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', script], { timeout: 20_000 }, (error, stdout) =>
      error === null ? resolve(stdout) : reject(error),
    );
  });
}

describe('BasicJobRunner.start', () => {
  it('keeps its process alive until stop(), even with no connection open', async () => {
    expect((await run('lonely-runner.ts')).trim()).toBe('stopped');
  });
});

describe('JobScheduler.start', () => {
  it('keeps its process alive until stop(), even with no connection open', async () => {
    expect((await run('lonely-scheduler.ts')).trim()).toBe('stopped');
  });
});
