import { describe, expect, it, vi } from 'vitest';
import { deferred, setup } from './helpers.js';

describe('BasicJobRunner slots and outcome writes', () => {
  it('frees a slot when the handler settles, so the next job runs while the outcome is written', async () => {
    const { stores, runner, clock } = setup({ maxConcurrent: 1, batchSize: 1 });
    const ran: number[] = [];
    runner.registerHandler('h', async (input: number) => {
      ran.push(input);
      return input;
    });
    for (const i of [0, 1]) {
      await stores.jobs.create({ handler: 'h', input: i });
      clock.advance(1);
    }
    const writes = deferred();
    const completeMany = stores.jobs.completeMany.bind(stores.jobs);
    vi.spyOn(stores.jobs, 'completeMany').mockImplementation(async (params) => {
      await writes.promise;
      return completeMany(params);
    });
    await runner.runOnce();
    await vi.waitFor(() => expect(ran).toEqual([0]));
    // Job 0's outcome is held up in its write; the slot it freed takes job 1.
    await vi.waitFor(() => expect(runner.activeCount()).toBe(0));
    expect(runner.stats().storing).toBe(1);
    await runner.runOnce();
    await vi.waitFor(() => expect(runner.stats()).toMatchObject({ active: 0, storing: 2 }));
    expect(ran).toEqual([0, 1]);
    writes.resolve();
    await runner.whenIdle();
    expect(runner.completedCount()).toBe(2);
    expect(runner.stats().storing).toBe(0);
  });

  it('stops claiming while more outcomes wait to be stored than it has slots', async () => {
    const { stores, runner } = setup({ maxConcurrent: 2, batchSize: 1 });
    runner.registerHandler('h', async () => null);
    for (let i = 0; i < 10; i++) await stores.jobs.create({ handler: 'h' });
    const writes = deferred();
    const completeMany = stores.jobs.completeMany.bind(stores.jobs);
    vi.spyOn(stores.jobs, 'completeMany').mockImplementation(async (params) => {
      await writes.promise;
      return completeMany(params);
    });
    for (let i = 0; i < 10; i++) {
      await runner.runOnce();
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Two slots plus two outcomes' worth of room: four jobs taken, six left pending.
    expect(runner.stats()).toMatchObject({ active: 0, storing: 4 });
    expect((await stores.jobs.listByStatus({ status: 'pending', limit: 20 })).length).toBe(6);
    writes.resolve();
    await runner.whenIdle();
    expect(runner.completedCount()).toBe(4);
  });
});
