import { CancelledError, ConfigError, NonRetryableError } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { withRetry } from '../src/with-retry.js';

function recorder(): { sleeps: number[]; sleep: (ms: number) => Promise<void> } {
  const sleeps: number[] = [];
  return { sleeps, sleep: async (ms) => void sleeps.push(ms) };
}

describe('withRetry', () => {
  it('retries until success, waiting the policy delays', async () => {
    const { sleeps, sleep } = recorder();
    let calls = 0;
    const value = await withRetry(
      async (attempt) => {
        calls++;
        if (attempt < 3) throw new Error(`boom ${attempt}`);
        return 'ok';
      },
      { maxAttempts: 5, baseDelayMs: 100, jitter: false, sleep },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);
    expect(sleeps).toEqual([100, 200]);
  });

  it('rethrows the last error once attempts run out', async () => {
    const { sleeps, sleep } = recorder();
    const failing = withRetry(
      async (attempt) => {
        throw new Error(`boom ${attempt}`);
      },
      { maxAttempts: 3, strategy: 'FIXED', baseDelayMs: 7, jitter: false, sleep },
    );
    await expect(failing).rejects.toThrow('boom 3');
    expect(sleeps).toEqual([7, 7]);
  });

  it('stops at once on NonRetryableError or when isRetryable says no', async () => {
    const { sleeps, sleep } = recorder();
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new NonRetryableError('bad input');
        },
        { sleep },
      ),
    ).rejects.toBeInstanceOf(NonRetryableError);
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error('404');
        },
        { sleep, isRetryable: (e) => !(e instanceof Error && e.message === '404') },
      ),
    ).rejects.toThrow('404');
    expect(calls).toBe(2);
    expect(sleeps).toEqual([]);
  });

  it('reports each retry to onRetry', async () => {
    const seen: [number, number, string][] = [];
    await withRetry(
      async (attempt) => {
        if (attempt === 1) throw new Error('first');
        return attempt;
      },
      {
        strategy: 'LINEAR',
        baseDelayMs: 50,
        random: () => 0.5,
        sleep: async () => {},
        onRetry: (a, d, e) => seen.push([a, d, (e as Error).message]),
      },
    );
    expect(seen).toEqual([[1, 50, 'first']]);
  });

  it('stops with CancelledError when the signal aborts', async () => {
    const controller = new AbortController();
    const failing = withRetry(
      async () => {
        controller.abort();
        throw new Error('boom');
      },
      { signal: controller.signal, sleep: async () => {} },
    );
    await expect(failing).rejects.toBeInstanceOf(CancelledError);
  });

  it('rejects a bad maxAttempts with ConfigError', async () => {
    await expect(withRetry(async () => 1, { maxAttempts: 0 })).rejects.toBeInstanceOf(ConfigError);
  });
});
