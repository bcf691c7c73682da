import { describe, expect, it, vi } from 'vitest';
import { deferred, mustGet, setup } from './helpers.js';

async function createJobs(
  jobs: { create(job: { handler: string; input: number }): Promise<{ id: string }> },
  n: number,
) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await jobs.create({ handler: 'h', input: i })).id);
  return ids;
}

describe('BasicJobRunner prefetch', () => {
  it('claims up to batchSize beyond the free slots in one call but runs at most maxConcurrent handlers', async () => {
    const { stores, runner } = setup({ maxConcurrent: 2, prefetch: 5, batchSize: 50 });
    const gate = deferred();
    let running = 0;
    runner.registerHandler('h', async () => {
      running++;
      await gate.promise;
      running--;
      return null;
    });
    await createJobs(stores.jobs, 20);
    const claim = vi.spyOn(stores.jobs, 'claimBatch');
    expect(await runner.runOnce()).toEqual({ claimed: 7 });
    expect(claim).toHaveBeenCalledTimes(1);
    expect(running).toBe(2);
    expect((await stores.jobs.listByStatus({ status: 'running', limit: 100 })).length).toBe(7);
    gate.resolve();
    await runner.whenIdle();
    await runner.stop();
  });

  it('starts buffered jobs as slots free up, without another claim, and runs each once', async () => {
    const { stores, runner } = setup({ maxConcurrent: 2, prefetch: 10, batchSize: 12 });
    const seen: number[] = [];
    runner.registerHandler('h', async (input: number) => {
      seen.push(input);
      return input;
    });
    const ids = await createJobs(stores.jobs, 12);
    const claim = vi.spyOn(stores.jobs, 'claimBatch');
    await runner.runOnce();
    await vi.waitFor(async () => {
      expect((await stores.jobs.listByStatus({ status: 'completed', limit: 100 })).length).toBe(12);
    });
    expect(claim).toHaveBeenCalledTimes(1);
    expect([...seen].sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect((await mustGet(stores.jobs, ids[11] ?? '')).result).toBe(11);
  });

  it('heartbeats buffered leases together with the running ones', async () => {
    const { stores, runner } = setup({ maxConcurrent: 1, prefetch: 3, batchSize: 10 });
    const gate = deferred();
    runner.registerHandler('h', async () => gate.promise.then(() => null));
    await createJobs(stores.jobs, 4);
    await runner.runOnce();
    expect(await runner.heartbeatOnce()).toEqual({ extended: 4, lost: 0, cancelRequested: 0 });
    gate.resolve();
    await runner.stop();
  });

  it('releases buffered jobs on stop with the attempt refunded, and finishes the running one', async () => {
    const { stores, runner } = setup({ maxConcurrent: 1, prefetch: 4, batchSize: 10 });
    const gate = deferred();
    runner.registerHandler('h', async () => gate.promise.then(() => 'done'));
    await createJobs(stores.jobs, 5);
    await runner.start();
    await runner.runOnce();
    const stopping = runner.stop({ timeoutMs: 10_000 });
    gate.resolve();
    await stopping;
    const completed = await stores.jobs.listByStatus({ status: 'completed', limit: 10 });
    const pending = await stores.jobs.listByStatus({ status: 'pending', limit: 10 });
    expect(completed.length).toBe(1);
    expect(pending.map((j) => j.attempts)).toEqual([0, 0, 0, 0]);
  });
});

describe('BasicJobRunner completion batching', () => {
  it('writes the outcomes of handlers that finish together with one completeMany call', async () => {
    const { stores, runner } = setup({ maxConcurrent: 5, batchSize: 5 });
    const gate = deferred();
    runner.registerHandler('h', async (input: number) => gate.promise.then(() => input * 2));
    const ids = await createJobs(stores.jobs, 5);
    const completeMany = vi.spyOn(stores.jobs, 'completeMany');
    const complete = vi.spyOn(stores.jobs, 'complete');
    await runner.runOnce();
    gate.resolve();
    await runner.whenIdle();
    expect(completeMany).toHaveBeenCalledTimes(1);
    expect(complete).not.toHaveBeenCalled();
    const results = await Promise.all(
      ids.map(async (id) => (await mustGet(stores.jobs, id)).result),
    );
    expect(results).toEqual([0, 2, 4, 6, 8]);
  });

  it('falls back to one write per job when the batch fails, so one bad result fails its job alone', async () => {
    const { stores, runner } = setup({ maxConcurrent: 2, batchSize: 2 });
    const gate = deferred();
    runner.registerHandler('h', async (input: number) =>
      gate.promise.then(() => (input === 1 ? () => 'not json' : 'ok')),
    );
    const [good, bad] = await createJobs(stores.jobs, 2);
    await runner.runOnce();
    gate.resolve();
    await runner.whenIdle();
    expect((await mustGet(stores.jobs, good ?? '')).status).toBe('completed');
    const refused = await mustGet(stores.jobs, bad ?? '');
    expect([refused.status, refused.error?.code]).toEqual(['failed', 'VALIDATION_ERROR']);
    expect(refused.error?.message).toContain('result');
  });
});

describe('BasicJobRunner completion batching: an outcome that may have been written', () => {
  it('does not write the items of a batch again when its write fails without saying whether it committed', async () => {
    const { stores, runner } = setup({ maxConcurrent: 3, batchSize: 3 });
    const lost: string[] = [];
    runner.events.on('job:lease-lost', ({ job }) => void lost.push(job.id));
    const gate = deferred();
    runner.registerHandler('h', async () => gate.promise.then(() => 'ok'));
    await createJobs(stores.jobs, 3);
    const completeMany = stores.jobs.completeMany.bind(stores.jobs);
    // The batch commits, then the connection drops before the answer arrives.
    vi.spyOn(stores.jobs, 'completeMany').mockImplementationOnce(async (params) => {
      await completeMany(params);
      throw new Error('Connection terminated unexpectedly');
    });
    const complete = vi.spyOn(stores.jobs, 'complete');
    await runner.runOnce();
    gate.resolve();
    await runner.whenIdle();
    expect(complete).not.toHaveBeenCalled();
    expect(runner.stats()).toMatchObject({ completed: 0, storeErrors: 3, leaseLost: 0 });
    expect(lost).toEqual([]);
    expect((await stores.jobs.listByStatus({ status: 'completed', limit: 10 })).length).toBe(3);
  });
});

describe('BasicJobRunner prefetch: leases of a slow claim', () => {
  it('runs a job whose claim outlived the lease budget once a heartbeat confirms it, even when another job frees a slot first', async () => {
    // The second claim takes longer than leaseMs - heartbeatIntervalMs (900 ms), so its
    // lease comes back unconfirmed. The heartbeat loop runs every 100 ms and keeps the
    // first job's lease confirmed meanwhile.
    const { stores, runner } = setup({
      maxConcurrent: 2,
      batchSize: 1,
      leaseMs: 1000,
      heartbeatIntervalMs: 100,
      pollIntervalMs: 60_000,
    });
    const gate = deferred();
    const started: string[] = [];
    const finished: string[] = [];
    runner.registerHandler('h', async (_input: number, ctx) => {
      started.push(ctx.job.id);
      if (started.length === 1) await gate.promise;
      finished.push(ctx.job.id);
      return null;
    });
    await createJobs(stores.jobs, 2);
    const claim = stores.jobs.claimBatch.bind(stores.jobs);
    const slowClaimBack = deferred();
    vi.spyOn(stores.jobs, 'claimBatch')
      .mockImplementationOnce(claim)
      .mockImplementationOnce(async (params) => {
        const jobs = await claim(params);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        slowClaimBack.resolve();
        return jobs;
      });
    let holdBeats: Promise<void> | undefined;
    const heartbeatMany = stores.jobs.heartbeatMany.bind(stores.jobs);
    const beat = vi.spyOn(stores.jobs, 'heartbeatMany').mockImplementation(async (params) => {
      await holdBeats;
      return heartbeatMany(params);
    });
    await runner.start();
    await runner.runOnce(); // the first job runs, held by the gate; the poll loop claims the second, slowly
    await slowClaimBack.promise;
    const beatsHeld = deferred();
    holdBeats = beatsHeld.promise; // heartbeats are held up from now on
    const calls = beat.mock.calls.length;
    await vi.waitFor(() => expect(beat.mock.calls.length).toBeGreaterThan(calls));
    gate.resolve(); // the first job ends and frees its slot before a heartbeat confirms the second
    const [first] = started;
    await vi.waitFor(async () => {
      expect((await mustGet(stores.jobs, first ?? '')).status).toBe('completed');
    });
    expect(started).toEqual([first]);
    beatsHeld.resolve();
    await vi.waitFor(() => expect(finished.length).toBe(2));
    const second = started[1] ?? '';
    await vi.waitFor(async () => {
      expect((await mustGet(stores.jobs, second)).status).toBe('completed');
    });
    await runner.stop();
  });
});

describe('BasicJobRunner prefetch: a buffered job whose lease is lost', () => {
  it('after a pause, does not start it when a slot frees, and reports it lost once a heartbeat answers', async () => {
    const { stores, runner, events } = setup({
      maxConcurrent: 1,
      prefetch: 1,
      batchSize: 2,
      leaseMs: 10_000,
      heartbeatIntervalMs: 2_000,
    });
    const lost: string[] = [];
    events.on('job:lease-lost', ({ job }) => void lost.push(job.id));
    const gate = deferred();
    const ran: string[] = [];
    runner.registerHandler('h', async (_input: number, ctx) => {
      ran.push(ctx.job.id);
      await gate.promise;
      return null;
    });
    const created = await createJobs(stores.jobs, 2);
    await runner.runOnce();
    // Both were created in the same millisecond: either may be claimed first.
    const [first] = ran;
    const second = created.find((id) => id !== first);
    expect(created).toContain(first);
    // The process is paused past its lease budget, and the reaper takes the buffered job.
    const held = await mustGet(stores.jobs, second ?? '');
    await stores.jobs.resetStalled({ jobId: held.id, leaseId: held.leaseId ?? '' });
    const realNow = performance.now.bind(performance);
    const paused = vi.spyOn(performance, 'now').mockImplementation(() => realNow() + 9_000);
    try {
      gate.resolve();
      await runner.whenIdle();
      expect([ran, lost]).toEqual([[first], []]); // its lease is unconfirmed: not started
      expect(await runner.heartbeatOnce()).toEqual({ extended: 0, lost: 1, cancelRequested: 0 });
    } finally {
      paused.mockRestore();
    }
    expect(lost).toEqual([second]);
    expect(await runner.heartbeatOnce()).toEqual({ extended: 0, lost: 0, cancelRequested: 0 });
    await runner.whenIdle();
    await runner.stop();
    expect(ran).toEqual([first]);
    expect(lost).toEqual([second]);
    expect(runner.stats()).toMatchObject({ completed: 1, leaseLost: 1 });
    expect((await mustGet(stores.jobs, second ?? '')).status).toBe('pending');
  });
});

describe('BasicJobRunner prefetch: pipelined claims', () => {
  it('starts a second claim while the first is in flight when the buffer has room, never more than it holds', async () => {
    const { stores, runner } = setup({ maxConcurrent: 2, prefetch: 8, batchSize: 4 });
    const gate = deferred();
    runner.registerHandler('h', async () => gate.promise.then(() => null));
    await createJobs(stores.jobs, 20);
    const release = deferred();
    const claim = stores.jobs.claimBatch.bind(stores.jobs);
    const spy = vi.spyOn(stores.jobs, 'claimBatch').mockImplementation(async (params) => {
      await release.promise;
      return claim(params);
    });
    const first = runner.runOnce();
    await vi.waitFor(() => expect(spy).toHaveBeenCalledTimes(2));
    release.resolve();
    await first;
    await vi.waitFor(async () => {
      expect((await stores.jobs.listByStatus({ status: 'running', limit: 100 })).length).toBe(8);
    });
    expect(spy.mock.calls.map(([p]) => p.limit)).toEqual([4, 4]);
    gate.resolve();
    await runner.stop();
  });
});
