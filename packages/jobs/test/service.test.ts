import { noopLogger } from '@flowmonkey/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Service } from '../src/service.js';

describe('Service', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function counting(options: { firstRunJitterMs?: number; fail?: boolean } = {}) {
    const runs: number[] = [];
    const service = new Service({
      name: 'test',
      intervalMs: 1000,
      firstRunJitterMs: options.firstRunJitterMs,
      logger: noopLogger,
      random: () => 0.5,
      run: async () => {
        runs.push(Date.now());
        if (options.fail === true) throw new Error('boom');
      },
    });
    return { runs, service };
  }

  it('runs first after the jittered delay, then every interval', async () => {
    const { runs, service } = counting({ firstRunJitterMs: 400 });
    const t0 = Date.now();
    service.start();
    await vi.advanceTimersByTimeAsync(199);
    expect(runs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(2000);
    expect(runs.map((t) => t - t0)).toEqual([200, 1200, 2200]);
    await service.stop();
  });

  it('keeps looping after a failed run', async () => {
    const { runs, service } = counting({ fail: true, firstRunJitterMs: 0 });
    service.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(runs.length).toBe(3);
    await service.stop();
  });

  it('runs at once on trigger, and not at all once stopped', async () => {
    const { runs, service } = counting();
    service.trigger();
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toHaveLength(0);
    service.start();
    service.trigger();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toHaveLength(1);
    await service.stop();
    await service.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toHaveLength(1);
  });
});
