import { describe, expect, it, vi } from 'vitest';
import { MAX_OUTCOMES_WAITING } from '../src/runner-attempts.js';
import { deferred, setup } from './helpers.js';

/** Holds every `completeMany` of `jobs` until the returned deferred is resolved. */
function holdWrites(jobs: ReturnType<typeof setup>['stores']['jobs']) {
  const writes = deferred();
  const completeMany = jobs.completeMany.bind(jobs);
  vi.spyOn(jobs, 'completeMany').mockImplementation(async (params) => {
    await writes.promise;
    return completeMany(params);
  });
  return writes;
}

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
    const writes = holdWrites(stores.jobs);
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
    const writes = holdWrites(stores.jobs);
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

describe('BasicJobRunner with outcome writes lagging behind its handlers', () => {
  const maxConcurrent = 2;
  const jobs = MAX_OUTCOMES_WAITING + 200;

  async function setupBacklog(options: Parameters<typeof setup>[0] = {}) {
    const fixture = setup({ maxConcurrent, prefetch: jobs, batchSize: 1000, ...options });
    for (let i = 0; i < jobs; i++) await fixture.stores.jobs.create({ handler: 'h' });
    return fixture;
  }

  it('keeps claimed jobs in its buffer while a full load of outcomes waits to be written', async () => {
    const { stores, runner } = await setupBacklog();
    let ran = 0;
    runner.registerHandler('h', async () => {
      ran++;
      return null;
    });
    const writes = holdWrites(stores.jobs);
    await runner.runOnce();
    await runner.runOnce();
    await vi.waitFor(
      () => expect(runner.stats().storing).toBeGreaterThanOrEqual(MAX_OUTCOMES_WAITING),
      { timeout: 5000 },
    );
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    // Every job is claimed, but no handler starts past the outcomes waiting (beyond them
    // at most the handlers that were running as the last of them settled).
    expect((await stores.jobs.listByStatus({ status: 'pending', limit: 10 })).length).toBe(0);
    expect(ran).toBeGreaterThanOrEqual(MAX_OUTCOMES_WAITING);
    expect(ran).toBeLessThanOrEqual(MAX_OUTCOMES_WAITING + maxConcurrent - 1);
    writes.resolve();
    await vi.waitFor(() => expect(runner.completedCount()).toBe(jobs), { timeout: 5000 });
    await runner.whenIdle();
    expect(ran).toBe(jobs);
  });

  it('does not count outcomes already stored whose onSuccess hooks still run', async () => {
    const { stores, runner } = await setupBacklog();
    const hooks = deferred();
    let ran = 0;
    runner.registerHandler(
      'h',
      async () => {
        ran++;
        return null;
      },
      { onSuccess: () => hooks.promise },
    );
    await runner.runOnce();
    await runner.runOnce();
    // Every handler runs although all their hooks are held.
    await vi.waitFor(() => expect(ran).toBe(jobs), { timeout: 5000 });
    const completed = await stores.jobs.listByStatus({ status: 'completed', limit: jobs });
    expect(completed.length).toBe(jobs);
    hooks.resolve();
    await runner.whenIdle();
    expect(runner.completedCount()).toBe(jobs);
  });
});

describe('BasicJobRunner attempts of one job', () => {
  it('keeps heartbeating a job claimed again while its previous attempt finishes its hooks', async () => {
    const { stores, runner } = setup({
      maxConcurrent: 2,
      batchSize: 1,
      defaultRetry: { strategy: 'IMMEDIATE', jitter: false },
    });
    const hookMay = deferred();
    const second = deferred();
    let attempts = 0;
    runner.registerHandler(
      'h',
      async () => {
        attempts++;
        if (attempts === 1) throw new Error('first attempt fails');
        await second.promise;
        return 'ok';
      },
      { onFail: () => hookMay.promise },
    );
    await stores.jobs.create({ handler: 'h', maxAttempts: 3 });
    await runner.runOnce(); // attempt 1 fails; its onFail hook holds it back
    await vi.waitFor(async () => {
      expect((await stores.jobs.listByStatus({ status: 'pending', limit: 1 })).length).toBe(1);
    });
    await runner.runOnce(); // attempt 2 of the same job is claimed and runs
    await vi.waitFor(() => expect(attempts).toBe(2));
    hookMay.resolve(); // attempt 1 ends
    await vi.waitFor(() => expect(runner.stats().retried).toBe(1));
    expect(runner.activeCount()).toBe(1);
    expect(await runner.heartbeatOnce()).toMatchObject({ extended: 1, lost: 0 });
    second.resolve();
    await runner.whenIdle();
    expect(runner.completedCount()).toBe(1);
  });
});

describe('BasicJobRunner.stop with a claim alongside', () => {
  it('waits for a claim started next to the poll loop and gives its jobs back, running none of them', async () => {
    const { stores, runner } = setup({
      maxConcurrent: 2,
      prefetch: 8,
      batchSize: 4,
      pollIntervalMs: 60_000,
    });
    let ran = 0;
    runner.registerHandler('h', async () => {
      ran++;
      return null;
    });
    for (let i = 0; i < 12; i++) await stores.jobs.create({ handler: 'h' });
    const claim = stores.jobs.claimBatch.bind(stores.jobs);
    const held = deferred();
    // Two claims in flight, the second held up; any later claim finds nothing.
    vi.spyOn(stores.jobs, 'claimBatch')
      .mockImplementationOnce(claim)
      .mockImplementationOnce(async (params) => {
        await held.promise;
        return claim(params);
      })
      .mockImplementation(async () => []);
    await runner.start();
    const claiming = runner.runOnce();
    await vi.waitFor(() => expect(ran).toBe(4));
    const stopped = runner.stop();
    held.resolve();
    await Promise.all([stopped, claiming]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ran).toBe(4);
    expect(await stores.jobs.listByStatus({ status: 'running', limit: 20 })).toEqual([]);
    const pending = await stores.jobs.listByStatus({ status: 'pending', limit: 20 });
    expect(pending.length).toBe(8);
    expect(pending.every((job) => job.attempts === 0)).toBe(true);
  });
});
