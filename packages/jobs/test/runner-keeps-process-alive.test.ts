import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('BasicJobRunner.start', () => {
  it('keeps its process alive until stop(), even with no connection open', async () => {
    const script = fileURLToPath(new URL('./fixtures/lonely-runner.ts', import.meta.url));
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', script],
        { timeout: 20_000 },
        (error, stdout) => (error === null ? resolve(stdout) : reject(error)),
      );
    });
    expect(output.trim()).toBe('stopped');
  });
});
